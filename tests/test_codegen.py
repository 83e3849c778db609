"""matdiff code: the generated function runs and returns the value and the derivatives."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from matdiff_cli.codegen import generate
from matdiff_cli.derive import derive
from matdiff_cli.document import Problem, read_document
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import symbols
from matdiff_cli.numeric import evaluate, sample_values
from matdiff_cli.trust import first_derivative
from budget import examples
from strategies import expressions


class Opts:
    layout, vec, steps = "numerator", False, False


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
        expected = evaluate(derive(problem, var, "grad", Opts()).result, values, sizes)
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
        result = derive(problem, var, "grad", Opts()).result
        values, sizes = sample_values([expr, result], np.random.default_rng(0))
    except (MatdiffError, ValueError):  # refused (exit 3), or no well-defined point
        assume(False)
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    with np.errstate(all="ignore"):
        value, grad = namespace["value_and_grad"](*[values[s.name] for s in problem.symbols.values()])
    assert np.allclose(value, evaluate(expr, values, sizes), equal_nan=True), source
    assert np.allclose(grad, evaluate(result, values, sizes), equal_nan=True), source
