"""matdiff code: the generated function runs and returns the value and the derivatives."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from matdiff_cli.codegen import generate
from matdiff_cli.commands import Options
from matdiff_cli.derivatives import derive
from matdiff_cli.document import Problem, read_document
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import symbols
from matdiff_cli.numeric import evaluate, sample_values
from matdiff_cli.numeric.differences import first_derivative
from budget import examples
from strategies import expressions


def load(src, declare=()):
    (problem,) = [p for p in read_document(src, declare=list(declare))]
    return problem


def run_generated(problem, variables, lang="numpy"):
    source = generate(problem, variables, lang)
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    fn = namespace["value_and_grad" if problem.expr.shape == (1, 1) else "value_and_jvp"]
    return source, fn


@pytest.mark.parametrize("src, declare", [
    ("tr(X^T A X B)", []),
    ("h1 = tanh(W1 x); ||W2 h1 - y||^2", []),
    ("logdet(X^T A X) + lambda ||X||_F^2", ["A: n x n spd"]),
    ("sum(sigmoid(W x) .* y) + logsumexp(x)", ["W: n x n"]),
])
def test_generated_gradients_match(src, declare):
    problem = load(src, declare)
    variables = list(problem.symbols.values())
    source, fn = run_generated(problem, variables)
    values, sizes = sample_values([problem.expr], np.random.default_rng(0))
    out = fn(**{s.name + ("_" if s.name == "lambda" else ""): values[s.name]
                for s in problem.symbols.values()})
    assert np.allclose(out[0], evaluate(problem.expr, values, sizes))
    for var, got in zip(variables, out[1:]):
        expected = evaluate(derive(problem, var, "grad", Options()).result, values, sizes)
        assert np.allclose(got, expected), (var.name, source)


def test_generated_jvp_is_the_directional_derivative():
    problem = load("sigmoid(W x - b)")
    x = problem.symbols["x"]
    source, fn = run_generated(problem, [x])
    values, sizes = sample_values([problem.expr], np.random.default_rng(1))
    value, jvp = fn(values["W"], values["x"], values["b"])
    d = np.random.default_rng(2).standard_normal(values["x"].shape)
    numeric = first_derivative(lambda v: evaluate(problem.expr, v, sizes), values, "x", d)
    assert np.allclose(jvp(d), numeric, atol=1e-8)
    assert "t1 = " in source  # sigmoid(W x - b) computed once, used twice


def test_jax_code_uses_jax_numpy():
    problem = load("tr(X^T A X B)")
    source = generate(problem, [problem.symbols["X"]], "jax")
    assert source.startswith("import jax.numpy as jnp") and "np." not in source.replace("jnp.", "")


def test_an_unknown_language_is_refused_plainly():
    problem = load("x^T x")
    with pytest.raises(MatdiffError) as info:
        generate(problem, [problem.symbols["x"]], "fortran")
    assert info.value.exit_code == 3


TORCH_CASES = [
    ("tr(X^T A X B)", []),
    ("h1 = tanh(W1 x); ||W2 h1 - y||^2", []),
    ("sum(relu(W x)) + logdet(X^T X) + sum(softplus(W x))", ["X: n x m"]),
    ("logsumexp(W x) + x^T x / 2 + tr(A B)", []),
    ("sum(sigmoid(W x) .* y) + ||X||_F^2 + tr(I X) + sum(ones(n, n) X)", ["X: n x n"]),
    # torch.kron of a transposed operand beside a contiguous one (it raises in torch 2.14)
    ("sum(kron(A, A^T)) + sum(kron(x^T, B) .* kron(x^T, B^T))", ["B: n x n"]),
]


@pytest.mark.parametrize("src, declare", TORCH_CASES)
def test_torch_code_agrees_with_autograd(src, declare):
    """An independent oracle: PyTorch's own autograd of the generated value."""
    torch = pytest.importorskip("torch")
    problem = load(src, declare)
    variables = list(problem.symbols.values())
    source = generate(problem, variables, "torch")
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    values, sizes = sample_values([problem.expr], np.random.default_rng(3))
    args = {s.name: torch.tensor(np.asarray(values[s.name], dtype=float), requires_grad=True)
            for s in variables}
    out = namespace["value_and_grad"](*args.values())
    value, grads = out[0], out[1:]
    value.backward()
    assert np.allclose(float(value), evaluate(problem.expr, values, sizes))
    for s, g in zip(variables, grads):
        assert np.allclose(g.detach().numpy(), args[s.name].grad.numpy(), atol=1e-8), s.name


@pytest.mark.parametrize("src", ["vec(A X B)", "kron(A, X) x", "exp(X) .* (I + X^T)"])
def test_torch_jvp_agrees_with_autograd(src):
    torch = pytest.importorskip("torch")
    problem = load(src)
    X = problem.symbols["X"]
    names = list(problem.symbols)
    namespace: dict = {}
    exec(compile(generate(problem, [X], "torch"), "<generated>", "exec"), namespace)
    values, sizes = sample_values([problem.expr], np.random.default_rng(5))
    args = [torch.tensor(np.asarray(values[n], dtype=float)) for n in names]
    value, jvp = namespace["value_and_jvp"](*args)
    d = torch.tensor(np.random.default_rng(6).standard_normal(np.shape(values["X"])))
    i = names.index("X")

    def f(x):
        return namespace["value_and_jvp"](*args[:i], x, *args[i + 1:])[0]

    _, expected = torch.func.jvp(f, (args[i],), (d,))
    assert np.allclose(jvp(d).numpy(), expected.numpy())


@settings(max_examples=examples(200), deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions(shape=(1, 1), depth=4, diffs=False), st.data())
def test_generated_numpy_matches_the_engine_on_random_expressions(expr, data):
    syms = symbols(expr)
    assume(syms)
    var = data.draw(st.sampled_from(syms), label="variable")
    problem = Problem.of(expr)
    try:
        source = generate(problem, [var], "numpy")
        result = derive(problem, var, "grad", Options()).result
        values, sizes = sample_values([expr, result], np.random.default_rng(0))
    except (MatdiffError, ValueError):  # refused (exit 3), or no well-defined point
        assume(False)
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    with np.errstate(all="ignore"):
        value, grad = namespace["value_and_grad"](*[values[s.name] for s in problem.symbols.values()])
    assert np.allclose(value, evaluate(expr, values, sizes), equal_nan=True), source
    assert np.allclose(grad, evaluate(result, values, sizes), equal_nan=True), source


# --------------------------------------------------------------------------- fast, stable code

def _libraries():
    """The targets whose library is installed here: NumPy always."""
    out = ["numpy"]
    for lang, module in (("torch", "torch"), ("jax", "jax")):
        try:
            __import__(module)
        except ImportError:
            continue
        out.append(lang)
    return out


LIBS = _libraries()


def _run_lang(source, fname, args, lang):
    """The generated function of lang called on NumPy arguments; its outputs as NumPy."""
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    if lang == "torch":
        import torch
        args = [torch.as_tensor(np.asarray(a, dtype=float)) for a in args]
    elif lang == "jax":
        import jax
        jax.config.update("jax_enable_x64", True)
        args = [jax.numpy.asarray(np.asarray(a, dtype=float)) for a in args]
    out = namespace[fname](*args)
    return [np.asarray(o) for o in out]


@settings(max_examples=examples(30), deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions(shape=(1, 1), depth=4, diffs=False), st.data())
def test_generated_code_of_every_library_matches_the_engine(expr, data):
    """Value and gradient of random expressions, in each installed library."""
    syms = symbols(expr)
    assume(syms)
    var = data.draw(st.sampled_from(syms), label="variable")
    lang = data.draw(st.sampled_from(LIBS), label="lang")
    problem = Problem.of(expr)
    try:
        source = generate(problem, [var], lang)
        result = derive(problem, var, "grad", Options()).result
        values, sizes = sample_values([expr, result], np.random.default_rng(1))
    except (MatdiffError, ValueError):
        assume(False)
    args = [values[s.name] for s in problem.symbols.values()]
    with np.errstate(all="ignore"):
        value, grad = _run_lang(source, "value_and_grad", args, lang)
        assert np.allclose(value, evaluate(expr, values, sizes), equal_nan=True), source
        assert np.allclose(grad, evaluate(result, values, sizes), equal_nan=True), source


@settings(max_examples=examples(100), deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions(depth=4, diffs=False))
def test_the_json_numpy_field_is_one_expression_with_the_engines_value(expr):
    """to_numpy plans the tree too (ordering, solve, broadcasting, stable forms)
    and stays a single expression: eval, not exec."""
    from matdiff_cli.render.numpy import to_numpy
    from matdiff_cli.names import py_name

    try:
        code = to_numpy(expr)
        values, sizes = sample_values([expr], np.random.default_rng(2))
    except (MatdiffError, ValueError):
        assume(False)
    compile(code, "<field>", "eval")
    scope = {"np": np, **{py_name(k): v for k, v in values.items()}}
    with np.errstate(all="ignore"):
        got = eval(code, scope)
        expected = evaluate(expr, values, sizes)
    shape = np.shape(expected)  # a 1x1 result may be a (1, 1) array, a number or a 0-d array
    got = np.reshape(got, shape) if np.size(got) == np.size(expected) else np.broadcast_to(got, shape)
    assert np.allclose(got, expected, equal_nan=True), code


def _softplus(z):
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _sigmoid(z):
    return np.exp(-_softplus(-z))


def _lse(z):
    c = np.max(z)
    return c + np.log(np.sum(np.exp(z - c)))


# (source, value, gradient) with closed forms that never overflow
STABLE = [
    ("sum(softplus(z))", lambda z: np.sum(_softplus(z)), _sigmoid),
    ("sum(log(1 + exp(z)))", lambda z: np.sum(_softplus(z)), _sigmoid),
    ("sum(exp(z) ./ (1 + exp(z)))", lambda z: np.sum(_sigmoid(z)),
     lambda z: _sigmoid(z) * _sigmoid(-z)),
    ("sum(sigmoid(z))", lambda z: np.sum(_sigmoid(z)), lambda z: _sigmoid(z) * _sigmoid(-z)),
    ("logsumexp(z)", _lse, lambda z: np.exp(z - _lse(z))),
    ("log(sum(exp(z)))", _lse, lambda z: np.exp(z - _lse(z))),
]


@pytest.mark.parametrize("lang", LIBS)
@pytest.mark.parametrize("src, value, grad", STABLE, ids=[s for s, _, _ in STABLE])
def test_stable_forms_never_overflow_where_the_value_is_finite(src, value, grad, lang):
    """|z| = 1000 (and mixed signs, and moderate values): finite, right, no warning."""
    problem = load(src)
    source = generate(problem, [problem.symbols["z"]], lang)
    rng = np.random.default_rng(7)
    for z in (np.full((5, 1), 1000.0), np.full((5, 1), -1000.0),
              1000.0 * rng.choice([-1.0, 1.0], (6, 1)), rng.standard_normal((4, 1)),
              np.array([[1000.0], [-1000.0], [0.0], [3.0]])):
        with np.errstate(all="raise", under="ignore"):  # rounding to 0 is no overflow
            v, g = _run_lang(source, "value_and_grad", [z], lang)
        assert np.isfinite(v).all() and np.isfinite(g).all(), (source, z.ravel())
        assert np.allclose(v, value(z), rtol=1e-12, atol=1e-300), source
        assert np.allclose(g, grad(z), rtol=1e-10, atol=1e-300), source


@pytest.mark.parametrize("lang", LIBS)
@pytest.mark.parametrize("declare", [[], ["X: n x n spd"]])
def test_logdet_is_finite_where_det_overflows(declare, lang):
    """det(40 I) at n = 200 is 1e320 (inf as a float): logdet is 200 log 40.
    A declared spd X goes through Cholesky, any other through slogdet."""
    problem = load("logdet(X) + tr(S X^-1)", declare + ["S: n x n"])
    source = generate(problem, [problem.symbols["X"]], lang)
    assert ("cholesky" in source) == bool(declare) and ".det(" not in source
    inverses = source.count("inv(") + source.count("solve(") + source.count("cholesky_inverse(")
    assert inverses == 1, source  # one factorisation (torch: Cholesky for a declared spd X)
    rng = np.random.default_rng(8)
    n = 200
    G = rng.standard_normal((n, n)) / np.sqrt(n)
    X = 40 * np.eye(n) + 0.5 * (G @ G.T)
    S = rng.standard_normal((n, n))
    with np.errstate(all="raise", under="ignore"):
        value, grad = _run_lang(source, "value_and_grad", [X, S], lang)
    Xi = np.linalg.inv(X)
    assert np.isclose(value, np.linalg.slogdet(X)[1] + np.trace(S @ Xi), rtol=1e-10)
    result = derive(problem, problem.symbols["X"], "grad", Options()).result
    assert np.allclose(grad, evaluate(result, {"X": X, "S": S}, {"n": n}), rtol=1e-8, atol=1e-14)


def test_logdet_keeps_nan_outside_its_domain():
    problem = load("logdet(X)")
    source, fn = run_generated(problem, [problem.symbols["X"]])
    with np.errstate(all="ignore"):
        assert np.isnan(fn(np.diag([1.0, -2.0, 3.0]))[0])
    from matdiff_cli.render.numpy import to_numpy

    with np.errstate(all="ignore"):
        assert eval(to_numpy(problem.expr), {"np": np, "X": np.zeros((3, 3))}) == -np.inf


class Counting(np.ndarray):
    """An array that counts the multiply-adds of every matrix product made from it."""
    flops = [0]

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        args = [np.asarray(a) if isinstance(a, Counting) else a for a in inputs]
        if ufunc is np.matmul:
            a, b = (np.atleast_2d(x) for x in args[:2])
            Counting.flops[0] += a.shape[0] * a.shape[1] * b.shape[-1]
        out = getattr(ufunc, method)(*args, **kwargs)
        return out.view(Counting) if isinstance(out, np.ndarray) else out


def _work(source, fname, args):
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    Counting.flops[0] = 0
    namespace[fname](*[np.asarray(a, dtype=float).view(Counting) for a in args])
    return Counting.flops[0]


# (source, declarations, wrt, a hand-written count of multiply-adds at sizes n, m)
WORK = [
    ("x^T A x", [], "x", lambda n, m: 3 * n * n),                 # A x, A^T x, x^T A x
    ("2 * x^T A^T A x", [], "x", lambda n, m: 3 * n * n),         # A x; A^T (A x) shared
    ("||A x - b||^2", ["A: m x n"], "x", lambda n, m: 2 * m * n),
    ("||W2 W1 x||^2", ["W2: m x n", "W1: n x n"], "x", lambda n, m: 2 * n * n + 2 * m * n),
    ("sum(log(1 + exp(-y .* (X w))))", ["X: m x n"], "w", lambda n, m: 2 * m * n),
    ("||diag(v) A x||^2", [], "x", lambda n, m: 2 * n * n),
]


@pytest.mark.parametrize("src, declare, wrt, hand", WORK, ids=[w[0] for w in WORK])
def test_generated_code_does_the_work_of_hand_written_code(src, declare, wrt, hand):
    """Counted multiply-adds, not time: no matrix-matrix product where the
    hand-written form has matrix-vector ones, no scaled or summed matrix
    temporaries feeding a product, no dense diagonal."""
    problem = load(src, declare)
    source = generate(problem, [problem.symbols[wrt]])
    assert "diagflat" not in source and "multi_dot" not in source, source
    n, m = 60, 45
    values, _ = sample_values([problem.expr], np.random.default_rng(9), sizes={"n": n, "m": m})
    work = _work(source, "value_and_grad", [values[s] for s in problem.symbols])
    assert work <= 1.25 * hand(n, m), (work, hand(n, m), source)
    fn = run_generated(problem, [problem.symbols[wrt]])[1]
    values_small, sizes = sample_values([problem.expr], np.random.default_rng(10))
    expected = evaluate(derive(problem, problem.symbols[wrt], "grad", Options()).result,
                        values_small, sizes)
    assert np.allclose(fn(*[values_small[s] for s in problem.symbols])[1], expected)


def test_a_chain_whose_best_order_depends_on_sizes_is_left_to_multi_dot():
    problem = load("||W2^T W2 V||_F^2", ["W2: m x n", "V: n x k"])
    source = generate(problem, [problem.symbols["V"]])
    assert "np.linalg.multi_dot([" in source
    fn = run_generated(problem, [problem.symbols["V"]])[1]
    values, sizes = sample_values([problem.expr], np.random.default_rng(11))
    expected = evaluate(derive(problem, problem.symbols["V"], "grad", Options()).result,
                        values, sizes)
    assert np.allclose(fn(*[values[s] for s in problem.symbols])[1], expected)


def _brute(shapes, a):
    """The cheapest cost of multiplying a chain of the given shapes, by trying every order."""
    size = lambda d: a.get(d, d)  # noqa: E731
    memo: dict = {}

    def go(i, j):
        if i == j:
            return 0
        if (i, j) not in memo:
            memo[i, j] = min(go(i, s) + go(s + 1, j)
                             + size(shapes[i][0]) * size(shapes[s][1]) * size(shapes[j][1])
                             for s in range(i, j))
        return memo[i, j]
    return go(0, len(shapes) - 1)


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.sampled_from(["n", "m", "k", 1]), min_size=3, max_size=7))
def test_a_chain_is_ordered_well_for_every_size_or_left_to_run_time(dims):
    """The planned order of a chain costs within 10% of the best order
    (found by trying every order) at every assignment of small (3) and large
    (1000) sizes; or, when no order is, the chain is left to multi_dot."""
    from itertools import product as cartesian

    from matdiff_cli.expr import Mul, Sym
    from matdiff_cli.render.chains import LARGE, SMALL, _order

    mats = [Sym(f"M{i}", (dims[i], dims[i + 1])) for i in range(len(dims) - 1)]
    assume(all(m.shape != (1, 1) for m in mats))
    tree = _order(mats)
    if isinstance(tree, Mul) and len(tree.factors) > 2:
        assert list(tree.factors) == mats  # multi_dot over the chain as it is
        return
    syms = sorted({d for d in dims if isinstance(d, str)})

    def cost(t, a):
        if not isinstance(t, Mul):
            return 0
        p, q = t.factors
        size = lambda d: a.get(d, d)  # noqa: E731
        return cost(p, a) + cost(q, a) + size(p.shape[0]) * size(p.shape[1]) * size(q.shape[1])

    for values in cartesian((SMALL, LARGE), repeat=len(syms)):
        a = dict(zip(syms, values))
        assert cost(tree, a) <= 1.1 * _brute([m.shape for m in mats], a), (dims, a, tree)


def test_scalars_and_sums_stay_off_matrices():
    problem = load("2 * (A x - b)^T A x + x^T (A + A^T) x")
    source = generate(problem, [problem.symbols["x"]])
    assert "2 * A" not in source and "A + A.T" not in source and "-A" not in source, source


def test_torch_code_transposes_with_t_and_takes_1d_tensors():
    torch = pytest.importorskip("torch")
    import warnings

    problem = load("x^T A x + b^T x")
    source = generate(problem, list(problem.symbols.values()), "torch")
    assert ".T" not in source, source
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    A = torch.randn(4, 4, dtype=torch.float64)
    x, b = torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, gx = namespace["value_and_grad"](x, A, b)[:2]
    assert torch.allclose(value, x @ A @ x + b @ x)
    assert torch.allclose(gx.reshape(-1), (A + A.T) @ x + b)


def test_a_long_chain_is_not_planned_at_cubic_cost():
    """Past MAX_PLANNED factors a chain runs left to right: planning 400
    factors costs about twice planning 200 (counted calls, not time)."""
    from budget import calls

    from matdiff_cli.expr import Sym
    from matdiff_cli.render.chains import _order

    def chain(k):  # fresh names: no product of them is interned yet
        return [Sym(f"L{k}_{i}", ("n", "n")) for i in range(k)]
    small, large = chain(200), chain(400)
    assert calls(_order, large) <= 3 * calls(_order, small)


def test_code_with_a_definition_the_result_no_longer_uses():
    """h10 = y .* eigvec_max(S) is named by the document, but the gradient's
    canonical form uses other pieces: the code is written (it was an internal
    error) and computes the value."""
    from click.testing import CliRunner

    from matdiff_cli.cli import cli

    doc = "S: n x n symmetric\ny: n\nh10 = (y .* eigvec_max(S))\n||h10||^2\n"
    out = CliRunner().invoke(cli, ["code", "-f", "-", "--wrt", "S"], input=doc)
    assert out.exit_code == 0, out.output
    namespace: dict = {}
    exec(out.output, namespace)
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))
    S, y = a + a.T, rng.standard_normal((4, 1))
    v = np.linalg.eigh(S)[1][:, -1:]
    value, grad = namespace["value_and_grad"](y, S)
    assert np.isclose(value, np.sum((y * v) ** 2)) and grad.shape == (4, 4)
