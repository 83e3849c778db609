"""Generated code against hand-written NumPy and against autodiff.

``--mode grad`` (the default) times the value and gradient, ``--mode hvp`` the
Hessian-vector product H[V] (``matdiff code --hvp``; jax ``jvp`` of
``grad`` under ``jit`` and ``torch.func.jvp`` of ``torch.func.grad``, forward
over reverse, as autodiff contenders), ``--mode hess`` the Hessian matrix of
the three functions of a vector, (a) to (c) (the code of ``matdiff hess
--format numpy``; ``jax.hessian`` under ``jit`` and ``torch.func.hessian``);
the Hessians of (d) and (e) are n^2 x n^2 and are timed as H[V] only.

For five functions, the value and gradient as computed by

* ``gen np``: the NumPy code ``matdiff code`` writes (``--lang numpy``);
* ``hand``: a closed form written by hand in NumPy, as an expert would;
* ``gen jax`` / ``gen torch``: the code for ``--lang jax`` (under ``jax.jit``)
  and ``--lang torch``, where the library is installed;
* ``jax.grad``: ``jax.jit(jax.value_and_grad(f))`` of the value written in
  ``jax.numpy``; ``torch.func``: ``torch.func.grad_and_value(f)``.

Every contender runs on one core: the process is pinned to one processor
(``os.sched_setaffinity``, where the system has it), because XLA's CPU client
starts worker threads that the thread variables do not stop (jax.grad of (e)
took 1.5-1.7 s of CPU per second of wall time unpinned); the thread variables
are set before any library is imported and ``torch.set_num_threads(1)``; in
float64, on the
same data.  Runs are interleaved (one sample of each contender per round; a
sample is as many calls in a row as take about 5 ms, so small sizes are not
measured through a cold cache) after a warm-up call (which also compiles the
jax code), for at least ``--rounds`` rounds and ``--min-time`` s per contender; the table shows medians in milliseconds and
the ratio of the generated NumPy to each other contender (< 1: the generated
code is faster: the median over rounds of the ratio within a round, which a
busy machine moves less than a ratio of medians; the contenders run in a
fresh random order each round, so none always follows torch or jax), the widest interquartile range of any contender as a share of its median, and checks that every contender's value and gradient agree
with the hand-written one (relative error <= 1e-10) and are finite::

    python benchmarks/codegen.py                # n = 100, 300, 1000, 2000
    python benchmarks/codegen.py --mode hvp --rounds 15
    python benchmarks/codegen.py --mode hess --sizes 100 300 1000
    python benchmarks/codegen.py --sizes 100 300 --rounds 3

torch and jax are optional (``pip install -e ".[bench]"`` or ``pip install
torch jax``): they are not dependencies of matdiff.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
if hasattr(os, "sched_setaffinity"):   # one core for all: XLA runs threads of its own
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from matdiff_cli.codegen import generate  # noqa: E402
from matdiff_cli.document import read_document  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from oracles import mlp_hvp  # noqa: E402

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


# --------------------------------------------------------------------------- second order
# hand-written Hessian matrices (vector variables) and Hessian-vector products

def hess_quad(x, A):
    return A + A.T


def hvp_quad(x, A, v):
    return A @ v + A.T @ v


def _logistic_weights(y, X, w):
    z = y * (X @ w)
    p = np.exp(-np.logaddexp(0, -z))   # sigmoid(z), stable
    return p * (1 - p) * (y * y)       # softplus''(-z) y^2


def hess_logistic(y, X, w):
    return X.T @ (_logistic_weights(y, X, w) * X)


def hvp_logistic(y, X, w, v):
    return X.T @ (_logistic_weights(y, X, w) * (X @ v))


def hess_lsq(A, x, b):
    return 2 * (A.T @ A)


def hvp_lsq(A, x, b, v):
    return 2 * (A.T @ (A @ v))


def hvp_logdet(X, S, V):
    Xi = np.linalg.inv(X)
    T = Xi @ V @ Xi
    Q = S @ Xi                         # X, S symmetric: Xi S = Q^T
    return T @ Q + Q.T @ T - T


# the MLP's H[V] by hand is the tests' oracle (one copy of it)
hvp_mlp = mlp_hvp


# by the case's data: the functions' second-order forms
HESS = {data_quad: hess_quad, data_logistic: hess_logistic, data_lsq: hess_lsq}
HVP = {data_quad: hvp_quad, data_logistic: hvp_logistic, data_lsq: hvp_lsq,
       data_logdet: hvp_logdet, data_mlp: hvp_mlp}


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

def generated(src, declare, wrt, lang, fname="value_and_grad"):
    (problem,) = list(read_document(src, declare=list(declare)))
    code = generate(problem, [problem.symbols[v] for v in wrt], lang, hvp=fname == "hvp")
    namespace: dict = {}
    exec(compile(code, "<generated>", "exec"), namespace)
    return namespace[fname], list(problem.symbols), code


def generated_hessian(src, declare, wrt):
    """The Hessian matrix as `matdiff hess --format numpy` writes it, as a function."""
    from matdiff_cli.commands import Options
    from matdiff_cli.derivatives import derive
    from matdiff_cli.render.numpy import to_numpy

    (problem,) = list(read_document(src, declare=list(declare)))
    result = derive(problem, problem.symbols[wrt[0]], "hess", Options()).result
    order = list(problem.symbols)
    code = f"lambda {', '.join(order)}: {to_numpy(result)}"
    return eval(code, {"np": np}), order, code


def second_order(case, mode):
    """name -> (prepare, fn, to_numpy) for the Hessian (mode "hess") or H[V] ("hvp")."""
    src, declare, wrt, _, _, value = case
    key = case[3]
    out = {}
    n_dirs = len(wrt) if mode == "hvp" else 0
    if mode == "hess":
        fn, order, _ = generated_hessian(src, declare, wrt)
        hand = HESS[key]
    else:
        fn, order, _ = generated(src, declare, wrt, "numpy", "hvp")
        hand = HVP[key]
    dirs = [f"d{w}" for w in wrt][:n_dirs]

    def plain(v, order=order):
        return [v[k] for k in order] + [v[d] for d in dirs]
    out["gen np"] = (plain, fn, _as_tuple)
    out["hand"] = (plain, hand, _as_tuple)
    idx = tuple(order.index(w) for w in wrt)
    if jax is not None:
        def as_jax(v, order=order):
            return [jnp.asarray(v[k]) for k in order] + [jnp.asarray(v[d]) for d in dirs]
        if mode == "hvp":
            fj, _, _ = generated(src, declare, wrt, "jax", "hvp")
            out["gen jax"] = (as_jax, jax.jit(fj), _to_np_tuple)

        def jf(*args):
            return value(jnp, *args)
        if mode == "hess":
            out["jax.hessian"] = (as_jax, jax.jit(jax.hessian(jf, argnums=idx[0])),
                                  lambda o: _to_np_tuple(_squeeze_hessian(o)))
        else:
            grad = jax.grad(jf, argnums=idx)

            def jhvp(*args, k=len(order)):
                point, tangents = list(args[:k]), args[k:]

                def g(*moved):
                    a = list(point)
                    for i, m in zip(idx, moved):
                        a[i] = m
                    return grad(*a)
                return jax.jvp(g, tuple(point[i] for i in idx), tuple(tangents))[1]
            out["jax jvp(grad)"] = (as_jax, jax.jit(jhvp), _to_np_tuple)
    if torch is not None:
        def as_torch(v, order=order):
            return [torch.as_tensor(v[k]) for k in order] + [torch.as_tensor(v[d]) for d in dirs]
        if mode == "hvp":
            ft, _, _ = generated(src, declare, wrt, "torch", "hvp")
            out["gen torch"] = (as_torch, ft, _to_np_tuple)

        def tf(*args):
            return value(torch, *args)
        if mode == "hess":
            th = torch.func.hessian(tf, argnums=idx[0])
            out["torch.func.hessian"] = (as_torch, th, lambda o: _to_np_tuple(_squeeze_hessian(o)))
        else:
            tgrad = torch.func.grad(tf, argnums=idx)

            def thvp(*args, k=len(order)):
                point, tangents = list(args[:k]), args[k:]

                def g(*moved):
                    a = list(point)
                    for i, m in zip(idx, moved):
                        a[i] = m
                    return tgrad(*a)
                return torch.func.jvp(g, tuple(point[i] for i in idx), tuple(tangents))[1]
            out["torch.func jvp(grad)"] = (as_torch, thvp, _to_np_tuple)
    return out


def _squeeze_hessian(h):
    """A Hessian of an (n, 1) vector is (n, 1, n, 1) in autodiff: (n, n)."""
    n = h.shape[0]
    return h.reshape(n, n)


def _as_tuple(o):
    return o if isinstance(o, tuple) else (o,)


def _to_np_tuple(o):
    return tuple(np.asarray(x, dtype=float) for x in _as_tuple(o))


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
    if isinstance(out, (tuple, list)):
        for x in out:
            _block(x)
    elif hasattr(out, "block_until_ready"):
        out.block_until_ready()


def relative_error(a, b) -> float:
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def bench(case, n, rounds, min_time, seed=0, mode="grad"):
    rng = np.random.default_rng(seed)
    values = case[3](n, rng)
    for w in case[2]:  # the directions of H[V] (symmetric for a declared spd variable)
        v = rng.standard_normal(np.shape(values[w]))
        values[f"d{w}"] = (v + v.T) / 2 if f"{w}: n x n spd" in case[1] else v
    runs = contenders(case) if mode == "grad" else second_order(case, mode)
    args = {k: prep(values) for k, (prep, _, _) in runs.items()}
    hand = runs["hand"][1]
    reference = _flatten(hand(*args["hand"])) if mode == "grad" else \
        _as_tuple(hand(*args["hand"]))
    times: dict = {k: [] for k in runs}
    errors, inner = {}, {}
    for k, (_, fn, conv) in runs.items():  # warm-up (jit compiles) and agreement
        out = conv(_flatten(fn(*args[k])) if mode == "grad" else fn(*args[k]))
        finite = all(np.isfinite(np.asarray(o, dtype=float)).all() for o in out)
        errors[k] = (max(relative_error(o, r) for o, r in zip(out, reference)), finite)
        t0 = time.perf_counter()
        _block(fn(*args[k]))
        inner[k] = max(1, int(0.005 / max(time.perf_counter() - t0, 1e-7)))  # ~5 ms a sample
    start = time.perf_counter()
    shuffle = random.Random(seed)
    r = 0
    while r < rounds or time.perf_counter() - start < min_time * len(runs):
        # a fresh order each round: a contender that runs right after torch or jax
        # pays for what they leave behind (measured: the generated H[V] of (e)
        # 1.08-1.13x the hand-written one when it always followed torch.func,
        # 0.98-1.03x without torch and jax), so no one may always follow the same
        order = shuffle.sample(list(runs), len(runs))
        for k in order:
            fn, a = runs[k][1], args[k]
            t0 = time.perf_counter()
            for _ in range(inner[k]):
                _block(fn(*a))
            times[k].append((time.perf_counter() - t0) / inner[k])
        r += 1
        if r >= 200:
            break
    # ratios paired by round: the machine's load moves every contender of a
    # round alike, so the median of per-round ratios is steadier than a
    # ratio of medians
    paired = {k: statistics.median(g / o for g, o in zip(times["gen np"], t))
              for k, t in times.items()}
    return {k: statistics.median(t) * 1e3 for k, t in times.items()}, \
        {k: _quartiles(t) for k, t in times.items()}, errors, paired


def _quartiles(t):
    """The first and third quartiles of the samples, in ms."""
    if len(t) < 2:
        return t[0] * 1e3, t[0] * 1e3
    q = statistics.quantiles(t, n=4)
    return q[0] * 1e3, q[2] * 1e3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 2000])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--cases", nargs="*", default=None, help="letters of the cases, e.g. a c")
    ap.add_argument("--mode", choices=["grad", "hess", "hvp"], default="grad",
                    help="value and gradient (default), the Hessian matrix (a, b, c), or H[V]")
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
        if a.mode == "hess" and case[3] not in HESS:
            continue  # a matrix variable: its Hessian is n^2 x n^2, use --mode hvp
        for n in a.sizes:
            med, spread, errors, paired = bench(case, n, a.rounds, a.min_time, mode=a.mode)
            names = list(med)
            if header is None:
                header = names
                cols = ["function", "n"] + [f"{k} ms" for k in names] + \
                    [f"gen np / {k}" for k in names if k != "gen np"] + \
                    ["max rel err", "widest IQR"]
                print("| " + " | ".join(cols) + " |")
                print("|" + "---|" * len(cols))
            ratios = [paired[k] for k in names if k != "gen np"]
            spreads = [(hi - lo) / med[k] for k, (lo, hi) in spread.items()]
            err = max(e for e, _ in errors.values())
            finite = all(f for _, f in errors.values())
            row = [name.replace("|", "\\|"), str(n)] + [f"{med[k]:.3g}" for k in names] + \
                [f"{x:.2f}" for x in ratios] + \
                [f"{err:.1e}" + ("" if finite else " NOT FINITE"), f"{max(spreads):.0%}"]
            print("| " + " | ".join(row) + " |", flush=True)
            worst[name, n] = paired["hand"]
    print()
    print(f"generated NumPy / hand-written: worst {max(worst.values()):.2f}, "
          f"median {statistics.median(worst.values()):.2f}")


if __name__ == "__main__":
    main()
