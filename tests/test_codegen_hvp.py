"""matdiff code --hvp: the generated hvp(..., dX) is the Hessian applied to dX.

Two oracles: the engine's own Hessian (``hess``: a matrix times the direction,
or the operator evaluated at it), and central differences of the generated
gradient along the direction (every variable moved at once: the block sums
sum_j H_ij[dvj] of several variables).
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from matdiff_cli.codegen import generate
from matdiff_cli.derivatives import derive
from matdiff_cli.document import Problem, read_document
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import Diff, symbols
from matdiff_cli.numeric import evaluate, sample_direction, sample_values
from budget import examples
from oracles import mlp_hvp
from strategies import expressions
from matdiff_cli.commands import Options as Opts
from test_codegen import LIBS, _run_lang


def load(src, declare=()):
    (problem,) = list(read_document(src, declare=list(declare)))
    return problem


def _functions(source, lang, count):
    """value_and_grad and hvp of the source, called on NumPy arrays; hvp's
    result as a list (one variable: hvp returns the array itself)."""
    def vg(*args):
        return _run_lang(source, "value_and_grad", args, lang)

    def hvp(*args):
        if count > 1:
            return _run_lang(source, "hvp", args, lang)
        # every return of hvp (a plan chosen by the sizes has two) as a 1-tuple
        one = re.sub(r"^(\s*)return (hvp_\w+)$", r"\1return (\2,)", source, flags=re.M)
        return _run_lang(one, "hvp", args, lang)
    return vg, hvp


def _fd_of_gradient(vg, args, index, directions, h=1e-4):
    """d/dt of the gradients at args + t V (the variables at ``index`` moved
    along ``directions``), central differences with one Richardson step."""
    def grads(t):
        moved = list(args)
        for i, d in zip(index, directions):
            moved[i] = args[i] + t * d
        return [np.asarray(g, dtype=float) for g in vg(*moved)[1:]]

    def central(s):
        return [(p - m) / (2 * s) for p, m in zip(grads(s), grads(-s))]
    c1, c2 = central(h), central(h / 2)
    return [b + (b - a) / 3 for a, b in zip(c1, c2)]


def _close(got, want, rtol=1e-5, atol=1e-6):
    got, want = np.asarray(got, dtype=float).ravel(), np.asarray(want, dtype=float).ravel()
    if got.size == 1:
        got = np.broadcast_to(got, want.shape)
    scale = max(1.0, float(np.abs(want).max(initial=0)))
    return got.shape == want.shape and np.allclose(got, want, rtol=rtol, atol=atol * scale)


CASES = [  # (source, declarations, variables): the benchmark's five and some mixed ones
    ("x^T A x", [], ["x"]),
    ("sum(softplus(-y .* (X w)))", ["X: m x n"], ["w"]),
    ("||A x - b||^2", [], ["x"]),
    ("logdet(X) + tr(S X^-1)", ["X: n x n spd", "S: n x n spd"], ["X"]),
    ("h = tanh(W1 X); ||W2 h - Y||_F^2", [], ["W2", "W1"]),
    ("sum(sigmoid(W x)) + x^T W^T W x", [], ["W", "x"]),
    ("logdet(X) + s tr(X) + s^2", ["X: 3 x 3", "s: scalar"], ["X", "s"]),
    ("tr(X^T A X B)", [], ["X", "A"]),
]


# every case in NumPy; torch and jax (when installed: each new shape costs jax a
# compilation) on two: a matrix variable with a factorisation, and two variables
RUNS = [(c, "numpy") for c in CASES] + [(c, lang) for lang in LIBS[1:] for c in CASES[3:5]]


@pytest.mark.parametrize("case, lang", RUNS, ids=[f"{c[0]}-{lang}" for c, lang in RUNS])
def test_hvp_is_the_derivative_of_the_generated_gradient(case, lang):
    src, declare, wrt = case
    problem = load(src, declare)
    variables = [problem.symbols[v] for v in wrt]
    source = generate(problem, variables, lang, hvp=True)
    vg, hvp = _functions(source, lang, len(wrt))
    values, sizes = sample_values([problem.expr], np.random.default_rng(4))
    names = list(problem.symbols)
    args = [np.asarray(values[n], dtype=float) for n in names]
    rng = np.random.default_rng(5)
    # a direction with the variable's structure (symmetric for an spd X)
    dirs = [np.asarray(sample_direction(problem.symbols[v], values[v], rng, sizes), dtype=float)
            for v in wrt]
    index = [names.index(v) for v in wrt]
    want = _fd_of_gradient(vg, args, index, dirs)
    got = hvp(*args, *dirs)
    assert len(got) == len(want) == len(wrt)
    for v, g, w in zip(wrt, got, want):
        assert _close(g, w, rtol=1e-5, atol=1e-6), (v, source)


def test_the_signature_is_the_variables_then_one_direction_per_variable():
    problem = load("h = tanh(W1 X); ||W2 h - Y||_F^2")
    source = generate(problem, [problem.symbols["W2"], problem.symbols["W1"]], hvp=True)
    assert "def hvp(W2, W1, X, Y, dW2, dW1):" in source
    assert "return hvp_W2, hvp_W1" in source
    # a variable called dX keeps its name; the direction of X is d_X
    problem = load("x^T dx + x^T x")
    source = generate(problem, [problem.symbols["x"]], hvp=True)
    assert "def hvp(x, dx, d_x):" in source


def test_the_hessian_is_never_formed_and_pieces_are_shared():
    """x^T A x: A dx + A^T dx (two products with a vector, no n x n sum);
    the logistic loss: X^T (s .* (X dw)), never X^T diag(s) X."""
    problem = load("x^T A x")
    source = generate(problem, [problem.symbols["x"]], hvp=True)
    assert "A @ dx + A.T @ dx" in source and "(A + A.T)" not in source
    problem = load("sum(softplus(-y .* (X w)))")
    source = generate(problem, [problem.symbols["w"]], hvp=True)
    body = source.split("def hvp")[1]
    assert "diag" not in body and "X @ dw" in body and body.count("X @ w") == 1, source
    problem = load("logdet(X) + tr(S X^-1)", ["X: n x n spd", "S: n x n spd"])
    source = generate(problem, [problem.symbols["X"]], hvp=True)
    body = source.split("def hvp")[1]
    assert body.count("inv(") + body.count("solve(") + body.count("cholesky(") == 1, source


def test_hvp_of_a_function_that_is_not_scalar_is_refused():
    problem = load("A x")
    with pytest.raises(MatdiffError) as info:
        generate(problem, [problem.symbols["x"]], hvp=True)
    assert info.value.exit_code == 2 and "scalar" in info.value.message


@settings(max_examples=examples(20), deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions(shape=(1, 1), depth=3, diffs=False), st.data())
def test_hvp_matches_the_engines_hessian_on_random_expressions(expr, data):
    """H[V] of random scalar expressions against the engine's Hessian: the
    matrix times V for a vector, the operator evaluated at V for a matrix."""
    syms = symbols(expr)
    assume(syms)
    var = data.draw(st.sampled_from(syms), label="variable")
    lang = data.draw(st.sampled_from(LIBS), label="lang")
    problem = Problem.of(expr)
    try:
        source = generate(problem, [var], lang, hvp=True)
        der = derive(problem, var, "hess", Opts())
        values, sizes = sample_values([expr, der.result, Diff(var)], np.random.default_rng(3))
    except (MatdiffError, ValueError):  # refused (exit 3), or no well-defined point
        assume(False)
    V = values[("d", var.name)]
    with np.errstate(all="ignore"):
        if der.kind == "hessian_operator":
            want = evaluate(der.result, values, sizes)
        else:
            H = np.asarray(evaluate(der.result, values, sizes), dtype=float)
            v = np.asarray(V, dtype=float)
            want = H * v if H.size == 1 else (H @ v.reshape(-1, 1)).reshape(np.shape(v))
        args = [values[s.name] for s in problem.symbols.values()]
        (got,) = _functions(source, lang, 1)[1](*args, V)
    assume(np.all(np.isfinite(want)))
    assert _close(got, want, rtol=1e-7, atol=1e-9), source


def test_the_command_line_writes_hvp_in_every_language_and_format():
    import json

    from click.testing import CliRunner

    from matdiff_cli.cli import cli

    for lang in ("numpy", "torch", "jax"):
        r = CliRunner().invoke(cli, ["code", "||A x - b||^2", "--wrt", "x", "--hvp",
                                     "--lang", lang, "--format", "json"])
        assert r.exit_code == 0, r.output
        code = json.loads(r.stdout)["code"]
        assert "def value_and_grad(A, x, b):" in code and "def hvp(A, x, b, dx):" in code
    r = CliRunner().invoke(cli, ["code", "A x", "--hvp"])
    assert r.exit_code == 2 and "scalar" in r.stderr and "Traceback" not in r.output


# (source, declarations, wrt, a hand-written count of multiply-adds at sizes n, m, p)
WORK = [
    ("x^T A x", [], ["x"], lambda n, m, p: 2 * n * n),               # A dx, A^T dx
    ("||A x - b||^2", ["A: m x n"], ["x"], lambda n, m, p: 2 * m * n),  # A^T (A dx)
    ("sum(softplus(-y .* (X w)))", ["X: m x n"], ["w"],
     lambda n, m, p: 3 * m * n),                                      # X w, X dw, X^T (.)
    # T = X^-1 dX X^-1 and Q = X^-1 S once each (three terms share T; X^-1 S and
    # S X^-1 are transposes for symmetric X and S): -T + T Q^T + Q T
    ("logdet(X) + tr(S X^-1)", ["X: n x n spd", "S: n x n spd"], ["X"],
     lambda n, m, p: 5 * n ** 3),
    # W1 X, dW1 X and one product with X^T (a sum of terms ... X^T is factored);
    # the rest are products with the p x n W2 and its direction
    ("h = tanh(W1 X); ||W2 h - Y||_F^2", ["W1: n x n", "X: n x m", "W2: p x n"], ["W2", "W1"],
     lambda n, m, p: 3 * n * n * m + 9 * p * n * m),
]


@pytest.mark.parametrize("src, declare, wrt, hand", WORK, ids=[w[0] for w in WORK])
def test_hvp_does_the_work_of_hand_written_code(src, declare, wrt, hand):
    """Counted multiply-adds, not time: H[V] costs what the hand-written
    Hessian-vector product costs (matrix-vector products for a vector
    variable, one product with X^T for the MLP's first layer)."""
    from test_codegen import _work

    problem = load(src, declare)
    source = generate(problem, [problem.symbols[v] for v in wrt], hvp=True)
    n, m, p = 60, 45, 5
    values, _ = sample_values([problem.expr], np.random.default_rng(9),
                              sizes={"n": n, "m": m, "p": p})
    rng = np.random.default_rng(10)
    dirs = [rng.standard_normal(np.shape(values[v])) for v in wrt]
    work = _work(source, "hvp", [values[s] for s in problem.symbols] + dirs)
    assert work <= 1.1 * hand(n, m, p), (work, hand(n, m, p), source)


def test_torch_code_factors_a_declared_spd_matrix_by_cholesky():
    """torch: X^-1 and X^-1 B of a declared spd X through the Cholesky factor
    (about twice as fast as an LU inverse); NumPy, without triangular solves,
    keeps LU (its Cholesky inverse is slower).  The same numbers either way."""
    torch = pytest.importorskip("torch")
    problem = load("logdet(X) + tr(S X^-1) + a^T X^-1 b", ["X: n x n spd", "S: n x n spd"])
    X = problem.symbols["X"]
    source = generate(problem, [X], "torch", hvp=True)
    assert "cholesky_inverse(" in source and "linalg.inv(" not in source, source
    numpy_source = generate(problem, [X], "numpy", hvp=True)
    assert "cholesky_inverse" not in numpy_source
    values, sizes = sample_values([problem.expr], np.random.default_rng(11))
    rng = np.random.default_rng(12)
    V = np.asarray(sample_direction(X, values["X"], rng, sizes), dtype=float)
    args = [values[n] for n in problem.symbols] + [V]
    with torch.no_grad():
        got = _functions(source, "torch", 1)[1](*args)
    want = _functions(numpy_source, "numpy", 1)[1](*args)
    assert _close(got[0], want[0], rtol=1e-10, atol=1e-12)
    solve = generate(load("a^T X^-1 b", ["X: n x n spd"]), [problem.symbols["a"]], "torch")
    assert "cholesky_solve(" in solve, solve


class Passes(np.ndarray):
    """An array that counts the elementwise passes (every ufunc but matmul)
    whose result has at least ``Passes.size`` entries."""
    count = [0]
    size = [0]

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        args = [np.asarray(a) if isinstance(a, Passes) else a for a in inputs]
        out = getattr(ufunc, method)(*args, **kwargs)
        if ufunc is not np.matmul and np.size(out) >= Passes.size[0]:
            Passes.count[0] += 1
        return out.view(Passes) if isinstance(out, np.ndarray) else out


def _passes(fn, args, size):
    Passes.count[0], Passes.size[0] = 0, size
    fn(*[np.asarray(a, dtype=float).view(Passes) for a in args])
    return Passes.count[0]


def test_the_mlp_hvp_makes_the_elementwise_passes_of_hand_written_code():
    """Counted passes over the n x m arrays (h, tanh', dW1 X ...), not time:
    the terms' shared factor tanh' = 1 - h.^2 multiplies once (it was
    distributed into three terms), and the scalar goes on an n x m piece."""
    src = "h = tanh(W1 X); ||W2 h - Y||_F^2"
    problem = load(src, ["W1: n x n", "X: n x m", "W2: p x n"])
    wrt = [problem.symbols["W2"], problem.symbols["W1"]]
    hvp = _exec(generate(problem, wrt, hvp=True))["hvp"]
    n, m, p = 40, 30, 5
    rng = np.random.default_rng(3)
    W2, W1, X, Y = (rng.standard_normal(s) for s in ((p, n), (n, n), (n, m), (p, m)))
    dW2, dW1 = rng.standard_normal((p, n)), rng.standard_normal((n, n))

    args = [W2, W1, X, Y, dW2, dW1]
    for got, want in zip(hvp(*args), mlp_hvp(*args)):
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12)
    # passes over arrays of n x m entries or more (the n x n result's one included):
    # 15 when tanh' was distributed into the terms; one more than the hand-written
    # 11, the sum W2^T dW2 h + W2^T W2 dh that hand-written code factors as
    # W2^T (dW2 h + W2 dh) (the sizes decide which is cheaper: with few hidden
    # units and many outputs W2^T W2 first is, and multi_dot chooses at run time)
    got, want = _passes(hvp, args, n * m), _passes(mlp_hvp, args, n * m)
    assert got <= want + 1, (got, want)


def _exec(source):
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("k", [2, 3, 4])
def test_a_shared_elementwise_factor_of_a_sum_multiplies_once(k):
    """||c1 (G .* A1) + ... + ck (G .* Ak)||^2: G multiplies once (G .* (A1 +
    c2/c1 A2 + ...)), whatever the coefficients, in the value and the
    gradient; the numbers are the engine's."""
    coefs = [1, 2, -3, 5][:k]
    src = "||" + " + ".join(f"{c} * (G .* A{i})" for i, c in enumerate(coefs)) + "||_F^2"
    problem = load(src)
    source = generate(problem, [problem.symbols["G"]])
    fn = _exec(source)["value_and_grad"]
    values, sizes = sample_values([problem.expr], np.random.default_rng(k))
    args = [values[s] for s in problem.symbols]
    value, grad = fn(*args)
    assert np.isclose(value, evaluate(problem.expr, values, sizes))
    want = evaluate(derive(problem, problem.symbols["G"], "grad", Opts()).result, values, sizes)
    assert np.allclose(grad, want)
    # the sum s = A1 + c2 A2 + ... (k - 1 additions, k - 1 scalings) once, G .* s,
    # and the gradient 2 s .* (G .* s) (two products and a scaling): not k products with G
    assert _passes(fn, args, np.size(values["G"])) <= 2 * (k - 1) + 4, source
