"""matdiff code: the generated function runs and returns the value and the derivatives."""
from __future__ import annotations

import numpy as np
import pytest

from matdiff_cli.codegen import generate
from matdiff_cli.derive import derive
from matdiff_cli.document import read_document
from matdiff_cli.errors import MatdiffError
from matdiff_cli.numeric import evaluate, sample_values
from matdiff_cli.trust import first_derivative


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


def test_torch_is_refused_plainly():
    problem = load("x^T x")
    with pytest.raises(MatdiffError) as info:
        generate(problem, [problem.symbols["x"]], "torch")
    assert info.value.exit_code == 3
