"""The Python API (SPEC §3.2) and the JSON numpy field of derivative results."""
from __future__ import annotations

import numpy as np
import pytest

import matdiff_cli
from matdiff_cli.errors import MatdiffError
from matdiff_cli.numeric import evaluate, sample_values


def test_gradient_api_renders_every_way():
    g = matdiff_cli.gradient("tr(X^T A X B)", wrt="X",
                             declare=["A: n x n symmetric", "B: m x m symmetric"])
    assert g.text == "2 A X B"
    assert g.latex == "2 A X B"
    assert g.numpy == "2 * (A @ X @ B)"
    assert g.kind == "gradient"
    assert str(g.to_sympy()).replace(" ", "") in ("((2*A)*X)*B", "2*A*X*B")


def test_hessian_jacobian_differential_solve_check():
    assert matdiff_cli.hessian("x^T A x", wrt="x").text == "A + A^T"
    assert matdiff_cli.jacobian("A x", wrt="x").text == "A"
    assert matdiff_cli.differential("x^T x", wrt="x").text == "2 x^T dx"
    assert matdiff_cli.solve("||X w - y||^2", wrt="w").classification == "minimum"
    assert matdiff_cli.check("tr(X^T A X B)", wrt="X", seed=1)["passed"]


def test_api_errors_are_matdiff_errors():
    with pytest.raises(MatdiffError):
        matdiff_cli.gradient("A x +", wrt="x")
    with pytest.raises(MatdiffError):
        matdiff_cli.gradient("x^T x", wrt="y")


@pytest.mark.parametrize("src, wrt, declare", [
    ("tr(X^T A X B)", "X", []), ("||A x - b||^2", "x", []), ("det(X)", "X", []),
    ("sum(sigmoid(W x))", "W", []), ("logsumexp(A x)", "x", []), ("tr(X)", "X", []),
    ("sum(X)", "X", []), ("alpha tr(A)", "alpha", ["alpha: scalar"]),
    ("h = tanh(W1 x); ||W2 h - y||^2", "W1", []),
])
def test_numpy_field_evaluates_to_the_result(src, wrt, declare):
    g = matdiff_cli.gradient(src, wrt=wrt, declare=declare)
    rng = np.random.default_rng(0)
    values, sizes = sample_values([g.expr], rng)
    scope = {k: v for k, v in values.items() if isinstance(k, str)}
    for s in g.report.der.problem.symbols.values():  # variables the result does not use
        if s.name not in scope:
            scope[s.name] = sample_values(s, rng, sizes)[0][s.name]
    got = eval(g.numpy, {"np": np, **scope})
    assert np.allclose(got, evaluate(g.expr, values, sizes))


def test_numpy_field_of_an_operator_is_a_lambda_of_the_direction():
    h = matdiff_cli.hessian("tr(X^T A X B)", wrt="X",
                            declare=["A: n x n symmetric", "B: m x m symmetric"])
    assert h.numpy.startswith("lambda dX:")
    rng = np.random.default_rng(1)
    values, sizes = sample_values([h.expr], rng)
    fn = eval(h.numpy, {"np": np, **{k: v for k, v in values.items() if isinstance(k, str)}})
    assert np.allclose(fn(values[("d", "X")]), evaluate(h.expr, values, sizes))


# ---------------------------------------------------------------------------
# A Result writes each rendering once, and only the one asked for


API_CASES = [
    (matdiff_cli.gradient, "tr(X^T A X B)", "X", []),
    (matdiff_cli.gradient, "sum(exp(x)) + x^T A x", "x", []),
    (matdiff_cli.jacobian, "A X B", "X", []),
    (matdiff_cli.jacobian, "tanh(W x)", "x", []),
    (matdiff_cli.hessian, "tr(X^T X X^T X)", "X", []),
    (matdiff_cli.hessian, "X X", "X", []),                    # a second differential
    (matdiff_cli.hessian, "w^T w b + b^2", ["w", "b"], ["b: scalar"]),   # the whole Hessian
    (matdiff_cli.differential, "x^T A x", "x", []),
]


@pytest.mark.parametrize("fn, src, wrt, declare", API_CASES)
def test_result_fields_agree_with_its_json(fn, src, wrt, declare):
    r = fn(src, wrt=wrt, declare=declare)
    fresh = fn(src, wrt=wrt, declare=declare).to_json()["result"]
    assert (r.text, r.latex, r.numpy) == (fresh["text"], fresh["latex"], fresh["numpy"])


def test_text_writes_neither_the_json_nor_the_code(monkeypatch):
    from matdiff_cli.render import latex, numpy

    expected = matdiff_cli.gradient("tr(X^T A X B)", wrt="X").to_json()["result"]
    g = matdiff_cli.gradient("tr(X^T A X B)", wrt="X")
    calls = {"latex": 0}

    def no_code(*a, **k):
        raise AssertionError("the NumPy code or the JSON was written for .text")

    def counted(*a, **k):
        calls["latex"] += 1
        return real_latex(*a, **k)

    real_latex = latex.to_latex
    monkeypatch.setattr(numpy, "to_numpy", no_code)
    monkeypatch.setattr(numpy, "to_numpy_operator", no_code)
    monkeypatch.setattr(latex, "to_latex", counted)
    monkeypatch.setattr(g.report, "to_json", no_code)
    assert g.text == g.text == expected["text"]
    assert g.latex == g.latex == expected["latex"]
    assert calls["latex"] == 1   # written once, however often it is read


def test_no_module_of_the_package_shadows_a_public_name():
    """Importing matdiff_cli.<m> binds the attribute m on the package: a module named
    like an API function (solve, differential, check, ...) would replace the function
    for every later caller, depending on import order."""
    import pkgutil

    import matdiff_cli

    modules = {m.name for m in pkgutil.iter_modules(matdiff_cli.__path__)}
    assert not modules & set(matdiff_cli.__all__), modules & set(matdiff_cli.__all__)
