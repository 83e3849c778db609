"""The extreme eigenvalues: lambda_max(A), lambda_min(A) of a symmetric A.

dλ = vᵀ dA v with v the unit eigenvector (``eigvec_max(A)``, part of the
language), where λ is simple.  Every gradient is checked against central
differences of NumPy's own ``eigvalsh`` (an oracle independent of matdiff's
evaluator), at points the sampler draws and at adversarial ones; results
name the eigenvector, state the condition once, read back, and compute the
same numbers in every format.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from matdiff_cli import api
from matdiff_cli.build import symmetric
from matdiff_cli.cli import cli
from matdiff_cli.document import parse_expr
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import EigVecMax, LambdaMax, LambdaMin, Sym
from matdiff_cli.numeric import acceptable, evaluate
from matdiff_cli.render.text import to_text
from budget import examples
from strategies import expressions
from oracles import fd_gradient

SYM = "A: n x n symmetric"


def run(*args):
    out = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return out.exit_code, out.stdout, out.stderr if hasattr(out, "stderr") else ""


def lam(a, largest=True):
    w = np.linalg.eigvalsh((a + a.T) / 2)
    return w[-1] if largest else w[0]


def random_symmetric(rng, n):
    g = rng.standard_normal((n, n))
    return (g + g.T) / 2


# ------------------------------------------------------------------ gradients

@pytest.mark.parametrize("name, largest", [("lambda_max", True), ("lambda_min", False)])
def test_the_gradient_of_an_extreme_eigenvalue_is_v_vT(name, largest):
    g = api.gradient(f"{name}({'A'})", "A", [SYM])
    assert g.text == ("v1 v1^T")
    rng = np.random.default_rng(1)
    for n in (2, 3, 5):
        for _ in range(3):
            a = random_symmetric(rng, n)
            got = evaluate(g.expr, {"A": a}, {"n": n})
            # along symmetric directions: <G, D> = d/dt λ(A + t D)
            d = random_symmetric(rng, n)
            fd = (lam(a + 1e-6 * d, largest) - lam(a - 1e-6 * d, largest)) / 2e-6
            assert abs(np.sum(got * d) - fd) < 1e-6 * (1 + abs(fd))
            assert np.allclose(got, got.T) and abs(np.trace(got) - 1) < 1e-12


@pytest.mark.parametrize("largest", [True, False])
def test_lambda_of_a_gram_matrix_wrt_its_factor(largest):
    name = "lambda_max" if largest else "lambda_min"
    g = api.gradient(f"{name}(X^T X)", "X", [])
    assert g.text == "2 X v1 v1^T"
    rng = np.random.default_rng(2)
    for rows, cols in ((4, 2), (5, 3), (3, 3)):   # tall or square: λ_min simple
        x = rng.standard_normal((rows, cols))
        got = evaluate(g.expr, {"X": x}, {"n": rows, "m": cols})
        want = fd_gradient(lambda y: lam(y.T @ y, largest), x)
        assert np.allclose(got, want, atol=1e-6), (got, want)


def test_the_seed_derivative_of_lambda_max_along_a_line():
    """dλ/dt of λ_max(A + t B) = vᵀ B v (the seed's dλ = uᵀ dA v, u = v)."""
    decl = [SYM, "B: n x n symmetric", "t: scalar"]
    g = api.gradient("lambda_max(A + t B)", "t", decl)
    assert g.text == "v1^T B v1"
    rng = np.random.default_rng(3)
    for n in (2, 4):
        a, bm, t = random_symmetric(rng, n), random_symmetric(rng, n), rng.standard_normal()
        got = evaluate(g.expr, {"A": a, "B": bm, "t": t}, {"n": n})
        fd = (lam(a + (t + 1e-6) * bm) - lam(a + (t - 1e-6) * bm)) / 2e-6
        assert abs(got - fd) < 1e-6 * (1 + abs(fd))


@pytest.mark.parametrize("src, wrt, decl", [
    ("lambda_max(A)", "A", [SYM]),
    ("lambda_min(A)", "A", ["A: n x n spd"]),
    ("lambda_max(X^T X) - lambda_min(X^T X)", "X", []),
    ("lambda_max(A + t B)", "t", [SYM, "B: n x n symmetric", "t: scalar"]),
    ("lambda_max(S + W^T W)^2 + tr(S)", "W", ["S: m x m symmetric", "W: n x m"]),
    ("lambda_min(B^T S B) + x^T eigvec_max(S)", "B", ["S: n x n symmetric", "B: n x m",
                                                      "x: n"]),
    ("log(lambda_min(P))", "P", ["P: n x n spd"]),
])
def test_compositions_pass_the_numeric_check(src, wrt, decl):
    for seed in range(3):
        verdict = api.check(src, wrt, decl, seed=seed)
        assert verdict["passed"], (src, verdict)


# ------------------------------------------------------------------ every format

def test_text_names_the_eigenvector_states_the_condition_once_and_reads_back():
    code, out, _ = run("grad", "lambda_max(A) + lambda_max(A)^2", "--wrt", "A", "-d", SYM,
                       "--format", "text")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "v1 = eigvec_max(A)"
    assert sum("where lambda_max(A) is simple" in ln for ln in lines) == 1
    # the text is a document: matdiff eval computes it
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 1.0]])
    code, val, _ = run("eval", "-d", "A: 3 x 3 symmetric", "--format", "json",
                       "--let", "A=" + json.dumps(a.tolist()), out)
    assert code == 0, val
    w, v = np.linalg.eigh(a)
    want = (1 + 2 * w[-1]) * np.outer(v[:, -1], v[:, -1])
    got = np.array(json.loads(val.splitlines()[-1])["value"], dtype=float)
    assert np.allclose(got, want, atol=1e-5), (got, want)


def test_latex_typesets_the_eigenvalue_and_the_eigenvector():
    code, out, _ = run("grad", "lambda_min(A)", "--wrt", "A", "-d", SYM, "--format", "latex")
    assert code == 0
    assert r"v_{1} = \operatorname{eigvec_{min}}\left(A\right)" in out
    assert r"% where \lambda_{\min}\left(A\right) is simple" in out


def test_the_json_numpy_field_uses_only_np_and_the_variables():
    code, out, _ = run("grad", "lambda_max(X^T X)", "--wrt", "X", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["conditions"] == ["where lambda_max(X^T X) is simple"]
    assert doc["result"]["where"] == {"v1": "eigvec_max(X^T X)"}
    x = np.random.default_rng(4).standard_normal((4, 3))
    got = eval(doc["result"]["numpy"], {"np": np, "__builtins__": {}, "X": x})
    assert np.allclose(got, fd_gradient(lambda y: lam(y.T @ y), x), atol=1e-6)


def test_generated_code_returns_the_value_and_the_gradient():
    code, out, _ = run("code", "lambda_min(A) + lambda_max(A)", "--wrt", "A", "-d", SYM)
    assert code == 0 and "np.linalg.eigh" in out
    namespace: dict = {}
    exec(compile(out, "<generated>", "exec"), namespace)
    a = random_symmetric(np.random.default_rng(5), 4)
    value, grad = namespace["value_and_grad"](a)
    w, v = np.linalg.eigh(a)
    assert abs(value - (w[0] + w[-1])) < 1e-12
    assert np.allclose(grad, np.outer(v[:, 0], v[:, 0]) + np.outer(v[:, -1], v[:, -1]))


def test_steps_name_the_rule():
    code, out, _ = run("grad", "lambda_max(A)", "--wrt", "A", "-d", SYM, "--steps",
                       "--format", "text")
    assert code == 0 and "#   eigenvalue: dλ = uᵀ dA v / (uᵀ v)" in out


def test_the_eigenvalue_functions_are_calls_that_read_back():
    a = Sym("A", ("n", "n"), {"symmetric"})
    for node in (LambdaMax(a), LambdaMin(a), EigVecMax(a)):
        assert parse_expr(to_text(node), [SYM]) is node


# ------------------------------------------------------------------ refusals

def test_the_hessian_of_a_general_matrix_is_refused_in_words():
    code, out, err = run("hess", "lambda_max(A)", "--wrt", "A", "-d", "A: n x n")
    assert code == 3 and "second derivative of lambda_max" in err and "Traceback" not in err


def general_with_real_extremes(rng, n):
    """A general square matrix whose extreme eigenvalues (by real part) are real
    and simple: redrawn until they are."""
    while True:
        a = rng.standard_normal((n, n))
        w = np.linalg.eigvals(a)
        order = np.argsort(w.real)
        lo, hi = w[order[0]], w[order[-1]]
        if (abs(lo.imag) < 1e-9 and abs(hi.imag) < 1e-9
                and w.real[order[1]] - lo.real > 0.05 and hi.real - w.real[order[-2]] > 0.05):
            return a


def lam_general(a, largest=True):
    w = np.linalg.eigvals(a)
    k = np.argmax(w.real) if largest else np.argmin(w.real)
    return w[k].real


@pytest.mark.parametrize("name, largest", [("lambda_max", True), ("lambda_min", False)])
def test_a_general_square_matrix_uses_left_and_right_eigenvectors(name, largest):
    """The seed's dλ = uᵀ dA v / (uᵀ v), without assuming uᵀ v = 1."""
    g = api.gradient(f"{name}(A)", "A", ["A: n x n"])
    assert g.text == "u1 v1^T / (u1^T v1)"
    rng = np.random.default_rng(8)
    for n in (2, 3, 5):
        a = general_with_real_extremes(rng, n)
        got = evaluate(g.expr, {"A": a}, {"n": n})
        want = fd_gradient(lambda y: lam_general(y, largest), a)
        assert np.allclose(got, want, atol=1e-6), (got, want)
    code, out, _ = run("grad", f"{name}(A)", "--wrt", "A", "-d", "A: n x n", "--format", "text")
    assert f"# where {name}(A) is real and simple" in out


def test_the_seed_line_through_a_general_matrix():
    g = api.gradient("lambda_max(A + t B)", "t", ["A, B: n x n", "t: scalar"])
    rng = np.random.default_rng(9)
    a, bm = general_with_real_extremes(rng, 4), 0.1 * rng.standard_normal((4, 4))
    got = evaluate(g.expr, {"A": a, "B": bm, "t": 0.3}, {"n": 4})
    fd = (lam_general(a + 0.300001 * bm) - lam_general(a + 0.299999 * bm)) / 2e-6
    assert abs(got - fd) < 1e-6 * (1 + abs(fd))
    for seed in range(3):
        assert api.check("lambda_max(A + t B)", "t", ["A, B: n x n", "t: scalar"],
                         seed=seed)["passed"]
        assert api.check("lambda_min(A B)", "B", ["A, B: n x n"], seed=seed)["passed"]


def test_generated_code_for_a_general_matrix():
    code, out, _ = run("code", "lambda_max(A)", "--wrt", "A", "-d", "A: n x n")
    assert code == 0 and "np.linalg.eig(A.T)" in out
    namespace: dict = {}
    exec(compile(out, "<generated>", "exec"), namespace)
    a = general_with_real_extremes(np.random.default_rng(10), 4)
    value, grad = namespace["value_and_grad"](a)
    assert abs(value - lam_general(a)) < 1e-12
    assert np.allclose(grad, fd_gradient(lam_general, a), atol=1e-6)


# ------------------------------------------------------------------ the sampler

def test_the_sampler_refuses_a_complex_extreme_eigenvalue():
    a = Sym("A", (3, 3))
    rotation = np.array([[1.0, -2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 0.5]])   # 1 ± 2i, 0.5
    assert not acceptable([LambdaMax(a)], {"A": rotation}, {})
    assert acceptable([LambdaMin(a)], {"A": rotation}, {})
    rotation[2, 2] = 3.0
    assert acceptable([LambdaMax(a)], {"A": rotation}, {})


def test_the_sampler_refuses_a_repeated_extreme_eigenvalue():
    a = Sym("A", (3, 3), {"symmetric"})
    for node, ok, bad in (
            (LambdaMax(a), np.diag([3.0, 1.0, 0.0]), np.diag([3.0, 3.0, 0.0])),
            (LambdaMin(a), np.diag([3.0, 1.0, 0.0]), np.diag([3.0, 0.0, 0.0])),
            (EigVecMax(a), np.diag([3.0, 1.0, 0.0]), np.diag([1.0, 3.0, 3.0]))):
        assert acceptable([node], {"A": ok}, {})
        assert not acceptable([node], {"A": bad}, {})
        q = np.linalg.qr(np.random.default_rng(6).standard_normal((3, 3)))[0]
        assert not acceptable([node], {"A": q @ bad @ q.T}, {})   # rotated: still repeated


@settings(max_examples=examples(150), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(expressions(shape=("n", "n"), depth=3, diffs=False))
def test_symmetric_by_form_means_symmetric_in_value(e):
    """The form test never calls a non-symmetric matrix symmetric."""
    if not symmetric(e):
        return
    from matdiff_cli.numeric import sample_values
    try:
        values, sizes = sample_values([e], np.random.default_rng(0))
    except (ValueError, MatdiffError):
        return
    v = np.asarray(evaluate(e, values, sizes), dtype=float)
    if np.all(np.isfinite(v)):
        assert np.allclose(v, v.T, rtol=1e-8, atol=1e-8 * (1 + np.abs(v).max())), repr(e)


# ------------------------------------------------------------------ the 1-norm

def test_the_1_norm_is_read_in_both_spellings():
    from matdiff_cli.expr import Norm1, Power
    decl = ["x: n", "y: n", "r: 1 x n"]
    x = parse_expr("x", decl)
    assert parse_expr("||x||_1", decl) is parse_expr("norm1(x)", decl) is Norm1(x)
    assert parse_expr("||x||_1^2", decl) is Power(Norm1(x), 2)
    assert parse_expr("2 ||x||_1 ||y||", decl) is parse_expr("2 norm1(x) norm2(y)", decl)
    assert isinstance(parse_expr("||r||_1", decl), Norm1)
    node = parse_expr("||x - y||_1 + 1", decl)
    assert parse_expr(to_text(node), decl) is node


def test_the_gradient_of_the_1_norm_is_sign_and_composes():
    decl = ["A: m x n", "x: n", "b: m"]
    g = api.gradient("||A x - b||_1", "x", decl)
    assert g.text == "A^T sign(A x - b)"
    rng = np.random.default_rng(7)
    for m, n in ((3, 2), (5, 4), (2, 6)):
        a, x, b = rng.standard_normal((m, n)), rng.standard_normal((n, 1)), rng.standard_normal((m, 1))
        got = evaluate(g.expr, {"A": a, "x": x, "b": b}, {"m": m, "n": n})
        want = fd_gradient(lambda y: np.abs(a @ y - b).sum(), x)
        assert np.allclose(got, want, atol=1e-6)
    for seed in range(3):
        assert api.check("||A x - b||_1^2 + ||x||_1", "x", decl, seed=seed)["passed"]
        assert api.check("||A x - b||_1", "A", decl, seed=seed)["passed"]


def test_the_1_norm_states_where_it_holds_and_computes_in_code():
    code, out, _ = run("grad", "||A x - b||_1", "--wrt", "x", "--format", "text")
    assert code == 0 and "# where no entry of A x - b is 0" in out
    code, out, _ = run("code", "norm1(x)", "--wrt", "x")
    namespace: dict = {}
    exec(compile(out, "<generated>", "exec"), namespace)
    x = np.array([[1.5], [-2.0], [0.25]])
    value, grad = namespace["value_and_grad"](x)
    assert value == 3.75 and np.array_equal(grad, np.sign(x))


def test_the_sampler_keeps_entries_of_a_1_norm_away_from_zero():
    from matdiff_cli.expr import Norm1
    x = Sym("x", (3, 1))
    assert acceptable([Norm1(x)], {"x": np.array([[1.0], [-2.0], [0.5]])}, {})
    assert not acceptable([Norm1(x)], {"x": np.array([[1.0], [0.0], [0.5]])}, {})
    assert not acceptable([Norm1(x)], {"x": np.array([[1.0], [1e-9], [-0.5]])}, {})


def test_other_norms_are_refused_in_words():
    for src, words in (("||X||_1", "the 1-norm needs a vector"),
                       ("||x||_p", "||...||_p is not supported yet"),
                       ("||X||_3", "the 3-norm needs a vector"),
                       ("||X||_inf", "the max-norm needs a vector"),
                       ("norm1(X)", "the 1-norm needs a vector")):
        code, _, err = run("grad", src, "--wrt", src[2] if src[0] == "|" else src[6],
                           "-d", "X: n x m", "-d", "x: n")
        assert code == 2 and words in err and "Traceback" not in err, (src, err)


def test_the_eigenvalue_of_a_number_is_the_number():
    g = api.gradient("lambda_max(s)^2 + lambda_min(3 s)", "s", ["s: scalar"])
    assert "eigvec" not in g.text and "v1" not in g.text
    for value in (-1.5, 0.7, 2.0):
        assert abs(evaluate(g.expr, {"s": value}, {}) - (2 * value + 3)) < 1e-12


# ------------------------------------------------------------------ the max-norm

def test_the_max_norm_is_read_in_both_spellings_and_reads_back():
    from matdiff_cli.expr import NormInf, Power
    decl = ["x: n", "r: 1 x n"]
    x = parse_expr("x", decl)
    assert parse_expr("||x||_inf", decl) is parse_expr("norm_inf(x)", decl) is NormInf(x)
    assert parse_expr("||x||_inf^2", decl) is Power(NormInf(x), 2)
    assert isinstance(parse_expr("||r||_inf", decl), NormInf)
    g = api.gradient("||x||_inf", "x", decl)
    assert g.text == "sign(x) .* onehot_max(abs(x))"
    assert parse_expr(g.text, decl) is g.expr


def test_the_gradient_of_the_max_norm_is_a_signed_unit_vector():
    decl = ["A: m x n", "x: n", "b: m"]
    g = api.gradient("||A x - b||_inf", "x", decl)
    rng = np.random.default_rng(11)
    for m, n in ((3, 2), (5, 4), (6, 6)):
        a, x, b = rng.standard_normal((m, n)), rng.standard_normal((n, 1)), rng.standard_normal((m, 1))
        got = evaluate(g.expr, {"A": a, "x": x, "b": b}, {"m": m, "n": n})
        want = fd_gradient(lambda y: np.abs(a @ y - b).max(), x)
        assert np.allclose(got, want, atol=1e-6)
    for seed in range(3):
        assert api.check("||A x - b||_inf^2 + ||x||_1", "x", decl, seed=seed)["passed"]
        assert api.check("norm_inf(A x)", "A", decl, seed=seed)["passed"]
    code, out, _ = run("grad", "||A x - b||_inf", "--wrt", "x", "--format", "text")
    assert "# where the entry of largest magnitude of A x - b is unique" in out
    assert "no entry of" not in out   # only the largest entry must not be 0


def test_the_max_norm_in_generated_code():
    code, out, _ = run("code", "||x||_inf", "--wrt", "x")
    namespace: dict = {}
    exec(compile(out, "<generated>", "exec"), namespace)
    x = np.array([[1.5], [-2.0], [0.25]])
    value, grad = namespace["value_and_grad"](x)
    assert value == 2.0 and np.array_equal(grad, np.array([[0.0], [-1.0], [0.0]]))


def test_the_sampler_refuses_a_tie_for_the_largest_magnitude():
    from matdiff_cli.expr import NormInf, OneHotMax
    x = Sym("x", (3, 1))
    assert acceptable([NormInf(x)], {"x": np.array([[1.0], [-2.0], [0.0]])}, {})
    assert not acceptable([NormInf(x)], {"x": np.array([[2.0], [-2.0], [0.5]])}, {})
    assert not acceptable([NormInf(x)], {"x": np.zeros((3, 1))}, {})
    assert acceptable([OneHotMax(x)], {"x": np.array([[2.0], [-2.0], [0.5]])}, {})
    assert not acceptable([OneHotMax(x)], {"x": np.array([[2.0], [2.0], [0.5]])}, {})


def test_check_verifies_the_gradient_and_says_why_there_is_no_hessian():
    code, out, err = run("check", "lambda_max(A)", "--wrt", "A", "-d", "A: n x n")
    assert code == 3 and "# check passed" in out and "u1 v1^T / (u1^T v1)" in out
    assert "second derivative of lambda_max" in err and "Traceback" not in err
    code, out, _ = run("check", "||x||_inf + ||x||_1", "--wrt", "x")
    assert code == 0 and out.count("check passed") == 2   # gradient, and Hessian 0


# ------------------------------------------------------------------ integer p-norms

def test_an_integer_p_norm_is_read_as_written_out():
    decl = ["x: n"]
    assert parse_expr("||x||_3", decl) is parse_expr("sum(abs(x).^3)^(1/3)", decl)
    assert parse_expr("||x||_4^2", decl) is parse_expr("(sum(abs(x).^4)^(1/4))^2", decl)


@pytest.mark.parametrize("p", [3, 4, 7])
def test_the_gradient_of_a_p_norm(p):
    """sign(x) ⊙ |x|^(p-1) / ||x||_p^(p-1), against the oracle."""
    decl = ["A: m x n", "x: n", "b: m"]
    g = api.gradient(f"||A x - b||_{p}", "x", decl)
    rng = np.random.default_rng(p)
    for m, n in ((3, 2), (5, 4)):
        a, x, b = rng.standard_normal((m, n)), rng.standard_normal((n, 1)), rng.standard_normal((m, 1))
        got = evaluate(g.expr, {"A": a, "x": x, "b": b}, {"m": m, "n": n})
        r = a @ x - b
        want = a.T @ (np.sign(r) * np.abs(r) ** (p - 1)) / np.linalg.norm(r.ravel(), p) ** (p - 1)
        assert np.allclose(got, want, atol=1e-9)
        assert np.allclose(got, fd_gradient(lambda y: np.linalg.norm((a @ y - b).ravel(), p), x),
                           atol=1e-6)
    assert api.check(f"||x||_{p}", "x", ["x: n"], seed=1)["passed"]
