"""Generated code against hand-written NumPy and against autodiff (gradients).

For five functions, the value and gradient as computed by

* ``gen np``: the NumPy code ``matdiff code`` writes (``--lang numpy``);
* ``hand``: a closed form written by hand in NumPy, as an expert would;
* ``gen jax`` / ``gen torch``: the code for ``--lang jax`` (under ``jax.jit``)
  and ``--lang torch``, where the library is installed;
* ``jax.grad``: ``jax.jit(jax.value_and_grad(f))`` of the value written in
  ``jax.numpy``; ``torch.func``: ``torch.func.grad_and_value(f)``.

Every contender runs on one thread (the thread variables are set before any
library is imported, and ``torch.set_num_threads(1)``), in float64, on the
same data.  Runs are interleaved (one sample of each contender per round; a
sample is as many calls in a row as take about 5 ms, so small sizes are not
measured through a cold cache) after a warm-up call (which also compiles the
jax code), for at least ``--rounds`` rounds and ``--min-time`` s per contender; the table shows medians in milliseconds and
the ratio of the generated NumPy to each other contender (< 1: the generated
code is faster), and checks that every contender's value and gradient agree
with the hand-written one (relative error <= 1e-10) and are finite::

    python benchmarks/codegen.py                # n = 100, 300, 1000, 2000
    python benchmarks/codegen.py --sizes 100 300 --rounds 3

torch and jax are optional (``pip install torch jax``): they are not
dependencies of matdiff.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from matdiff_cli.codegen import generate  # noqa: E402
from matdiff_cli.document import read_document  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - optional
    torch = None
try:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover - optional
    jax = jnp = None


# --------------------------------------------------------------------------- the five functions
# name: (matdiff source, declarations, variable, argument order, data(n, rng),
#        hand-written value-and-gradient, the value in an array library xp)

def data_quad(n, rng):
    return {"x": rng.standard_normal((n, 1)), "A": rng.standard_normal((n, n))}


def hand_quad(x, A):
    Ax = A @ x
    return (x.T @ Ax).item(), Ax + A.T @ x


def data_logistic(n, rng):
    return {"y": rng.choice([-1.0, 1.0], (2 * n, 1)), "X": rng.standard_normal((2 * n, n)),
            "w": rng.standard_normal((n, 1)) / np.sqrt(n)}


def hand_logistic(y, X, w):
    z = y * (X @ w)
    return np.sum(np.logaddexp(0, -z)), -(X.T @ (y * np.exp(-np.logaddexp(0, z))))


def data_lsq(n, rng):
    return {"A": rng.standard_normal((n, n)), "x": rng.standard_normal((n, 1)),
            "b": rng.standard_normal((n, 1))}


def hand_lsq(A, x, b):
    r = A @ x - b
    return (r.T @ r).item(), 2 * (A.T @ r)


def data_logdet(n, rng):
    G = rng.standard_normal((n, n)) / np.sqrt(n)
    H = rng.standard_normal((n, n)) / np.sqrt(n)
    return {"X": G @ G.T + np.eye(n), "S": H @ H.T + np.eye(n)}


def hand_logdet(X, S):
    Xi = np.linalg.inv(X)
    return np.linalg.slogdet(X)[1] + np.sum(S * Xi), Xi - Xi @ S @ Xi


BATCH, OUT = 64, 10


def data_mlp(n, rng):
    return {"W2": rng.standard_normal((OUT, n)) / np.sqrt(n),
            "W1": rng.standard_normal((n, n)) / np.sqrt(n),
            "X": rng.standard_normal((n, BATCH)), "Y": rng.standard_normal((OUT, BATCH))}


def hand_mlp(W2, W1, X, Y):
    h = np.tanh(W1 @ X)
    r = W2 @ h - Y
    g = (1 - h * h) * (W2.T @ r)
    return np.sum(r * r), (2 * (r @ h.T), 2 * (g @ X.T))


def softplus(xp, z):
    return xp.logaddexp(xp.zeros_like(z), z)


CASES = {
    "(a) x^T A x": ("x^T A x", [], ["x"], data_quad, hand_quad,
                    lambda xp, x, A: (x.T @ A @ x).sum()),
    "(b) logistic, X 2n x n": ("sum(softplus(-y .* (X w)))", ["X: m x n"], ["w"],
                               data_logistic, hand_logistic,
                               lambda xp, y, X, w: xp.sum(softplus(xp, -y * (X @ w)))),
    "(c) ||A x - b||^2": ("||A x - b||^2", [], ["x"], data_lsq, hand_lsq,
                          lambda xp, A, x, b: xp.sum((A @ x - b) ** 2)),
    "(d) logdet X + tr(S X^-1)": ("logdet(X) + tr(S X^-1)", ["X: n x n spd", "S: n x n spd"],
                                  ["X"], data_logdet, hand_logdet,
                                  lambda xp, X, S: xp.linalg.slogdet(X)[1]
                                  + xp.trace(S @ xp.linalg.inv(X))),
    "(e) 2-layer MLP": ("h = tanh(W1 X); ||W2 h - Y||_F^2", [], ["W2", "W1"], data_mlp, hand_mlp,
                        lambda xp, W2, W1, X, Y: xp.sum((W2 @ xp.tanh(W1 @ X) - Y) ** 2)),
}


# --------------------------------------------------------------------------- contenders

def generated(src, declare, wrt, lang):
    (problem,) = list(read_document(src, declare=list(declare)))
    code = generate(problem, [problem.symbols[v] for v in wrt], lang)
    namespace: dict = {}
    exec(compile(code, "<generated>", "exec"), namespace)
    return namespace["value_and_grad"], list(problem.symbols), code


def contenders(case):
    """name -> (prepare(values) -> args, fn(*args) -> (value, grads...), to_numpy(out))."""
    src, declare, wrt, _, hand, value = case
    out = {}
    fn, order, _ = generated(src, declare, wrt, "numpy")
    out["gen np"] = (lambda v, order=order: [v[k] for k in order], fn, lambda o: o)
    out["hand"] = (lambda v, order=order: [v[k] for k in order], hand, _flatten)
    if jax is not None:
        fj, order_j, _ = generated(src, declare, wrt, "jax")
        out["gen jax"] = (lambda v, order=order_j: [jnp.asarray(v[k]) for k in order],
                          jax.jit(fj), _to_np)
        idx = [order.index(w) for w in wrt]

        def jf(*args, idx=tuple(idx)):
            return value(jnp, *args)
        vg = jax.jit(jax.value_and_grad(jf, argnums=tuple(idx)))
        out["jax.grad"] = (lambda v, order=order: [jnp.asarray(v[k]) for k in order], vg, _to_np)
    if torch is not None:
        ft, order_t, _ = generated(src, declare, wrt, "torch")
        out["gen torch"] = (lambda v, order=order_t: [torch.as_tensor(v[k]) for k in order],
                            ft, _to_np)
        idx = tuple(order.index(w) for w in wrt)
        gv = torch.func.grad_and_value(lambda *a: value(torch, *a), argnums=idx)

        def tf(*args, gv=gv):
            grads, val = gv(*args)
            return val, grads
        out["torch.func"] = (lambda v, order=order: [torch.as_tensor(v[k]) for k in order],
                             tf, _to_np)
    return out


def _flatten(out):
    value, *rest = out
    grads = []
    for g in rest:
        grads += list(g) if isinstance(g, tuple) else [g]
    return (value, *grads)


def _to_np(out):
    value, *rest = _flatten(out)
    return tuple(np.asarray(x, dtype=float) for x in (value, *rest))


def _block(out):
    for x in _flatten(out):
        if hasattr(x, "block_until_ready"):
            x.block_until_ready()


def relative_error(a, b) -> float:
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def bench(case, n, rounds, min_time, seed=0):
    values = case[3](n, np.random.default_rng(seed))
    runs = contenders(case)
    args = {k: prep(values) for k, (prep, _, _) in runs.items()}
    reference = _flatten(case[4](*args["hand"]))
    times: dict = {k: [] for k in runs}
    errors, inner = {}, {}
    for k, (_, fn, conv) in runs.items():  # warm-up (jit compiles) and agreement
        out = conv(_flatten(fn(*args[k])))
        finite = all(np.isfinite(np.asarray(o, dtype=float)).all() for o in out)
        errors[k] = (max(relative_error(o, r) for o, r in zip(out, reference)), finite)
        t0 = time.perf_counter()
        _block(fn(*args[k]))
        inner[k] = max(1, int(0.005 / max(time.perf_counter() - t0, 1e-7)))  # ~5 ms a sample
    start = time.perf_counter()
    r = 0
    while r < rounds or time.perf_counter() - start < min_time * len(runs):
        for k, (_, fn, _) in runs.items():
            a = args[k]
            t0 = time.perf_counter()
            for _ in range(inner[k]):
                _block(fn(*a))
            times[k].append((time.perf_counter() - t0) / inner[k])
        r += 1
        if r >= 200:
            break
    return {k: statistics.median(t) * 1e3 for k, t in times.items()}, \
        {k: (min(t) * 1e3, max(t) * 1e3) for k, t in times.items()}, errors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 2000])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--cases", nargs="*", default=None, help="letters of the cases, e.g. a c")
    a = ap.parse_args(argv)
    versions = [f"Python {sys.version.split()[0]}", f"NumPy {np.__version__}"]
    if jax is not None:
        versions.append(f"jax {jax.__version__}")
    if torch is not None:
        versions.append(f"torch {torch.__version__}")
    print("one thread each; " + ", ".join(versions))
    print()
    header = None
    worst = {}
    for name, case in CASES.items():
        if a.cases and name[1] not in a.cases:
            continue
        for n in a.sizes:
            med, spread, errors = bench(case, n, a.rounds, a.min_time)
            names = list(med)
            if header is None:
                header = names
                cols = ["function", "n"] + [f"{k} ms" for k in names] + \
                    [f"gen np / {k}" for k in names if k != "gen np"] + ["max rel err"]
                print("| " + " | ".join(cols) + " |")
                print("|" + "---|" * len(cols))
            ratios = [med["gen np"] / med[k] for k in names if k != "gen np"]
            err = max(e for e, _ in errors.values())
            finite = all(f for _, f in errors.values())
            row = [name, str(n)] + [f"{med[k]:.3g}" for k in names] + \
                [f"{x:.2f}" for x in ratios] + [f"{err:.1e}" + ("" if finite else " NOT FINITE")]
            print("| " + " | ".join(row) + " |", flush=True)
            worst[name, n] = med["gen np"] / med["hand"]
    print()
    print(f"generated NumPy / hand-written: worst {max(worst.values()):.2f}, "
          f"median {statistics.median(worst.values()):.2f}")


if __name__ == "__main__":
    main()
