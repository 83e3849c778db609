"""Singular values: sigma_max(X) (= ||X||_2 = norm2(X) of a matrix), svdvals(X) and
the nuclear norm ||X||_* (norm_nuc(X)).

dσ1 = u1ᵀ dX v1, dσ = diag(Uᵀ dX V), d||X||_* = tr(polar(X)ᵀ dX) with the
singular vectors and factors part of the language (``svec_left_max``,
``svec_right_max``, ``svd_u``, ``svd_v``, ``polar``).  Every derivative is
checked against central differences of NumPy's own ``svd`` (an oracle
independent of matdiff's evaluator); results name what they use, state the
condition once, read back, and compute the same numbers in every format.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from matdiff_cli import api
from matdiff_cli.cli import cli
from matdiff_cli.codegen import generate
from matdiff_cli.commands import Options
from matdiff_cli.derivatives import report_for
from matdiff_cli.document import parse_expr, read_document
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import Add, Norm2, NormNuc, Polar, SigmaMax, SvdVals, SVecLeftMax, Sym, walk
from matdiff_cli.numeric import acceptable, evaluate, sample_values
from matdiff_cli.render.text import to_text
from oracles import fd_gradient

RNG = np.random.default_rng(20261202)


def run(*args):
    out = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return out.exit_code, out.stdout, out.stderr if hasattr(out, "stderr") else ""


def sv(x):
    return np.linalg.svd(x, compute_uv=False)


def json_of(*args):
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def numpy_field(doc, **values):
    """The JSON numpy field, evaluated with only np and the variables in scope."""
    return eval(doc["result"]["numpy"], {"np": np, "__builtins__": {}, **values})


# ------------------------------------------------------------------ gradients, Jacobians

# (expression, variable, declarations, NumPy oracle of the value, shape of the variable,
#  other values)
GRADIENTS = [
    ("sigma_max(X)", "X", [], lambda X: sv(X)[0], (4, 3), {}),
    ("||X||_2", "X", [], lambda X: sv(X)[0], (3, 5), {}),
    ("norm2(X)", "X", [], lambda X: sv(X)[0], (3, 3), {}),
    ("||X||_*", "X", [], lambda X: sv(X).sum(), (4, 3), {}),
    ("norm_nuc(X)", "X", [], lambda X: sv(X).sum(), (2, 4), {}),
    ("sigma_max(W)^2 + ||W||_*", "W", [], lambda W: sv(W)[0] ** 2 + sv(W).sum(), (4, 3), {}),
    ("c^T svdvals(X)", "X", ["c: n"], lambda X: sv(X) @ np.arange(1.0, 5.0), (4, 4),
     {"c": np.arange(1.0, 5.0).reshape(-1, 1)}),
    ("c^T svdvals(X)", "X", ["X: 5 x 3", "c: 3"], lambda X: sv(X) @ np.array([2.0, -1, 3]),
     (5, 3), {"c": np.array([[2.0], [-1], [3]])}),
    ("sum(svdvals(X))", "X", [], lambda X: sv(X).sum(), (3, 3), {}),
    ("logsumexp(svdvals(X))", "X", [], lambda X: np.log(np.exp(sv(X)).sum()), (3, 3), {}),
]


@pytest.mark.parametrize("src, wrt, decl, oracle, shape, others", GRADIENTS,
                         ids=[g[0] + str(g[4]) for g in GRADIENTS])
def test_gradients_agree_with_differences_of_numpys_svd(src, wrt, decl, oracle, shape, others):
    args = ["grad", src, "--wrt", wrt] + [a for d in decl for a in ("-d", d)]
    doc = json_of(*args)
    for _ in range(2):
        x = RNG.standard_normal(shape)
        got = numpy_field(doc, **{wrt: x}, **others)
        assert np.allclose(got, fd_gradient(oracle, x), atol=1e-6), (src, got)


def test_the_gradient_through_a_product_and_along_a_line():
    a, b, x0 = RNG.standard_normal((4, 3)), RNG.standard_normal((2, 1)), RNG.standard_normal((3, 1))
    doc = json_of("grad", "sigma_max(A x b^T)", "--wrt", "x", "-d", "A: n x m; x: m; b: k")
    got = numpy_field(doc, A=a, b=b, x=x0)
    assert np.allclose(got, fd_gradient(lambda v: sv(a @ v @ b.T)[0], x0), atol=1e-6)
    bb = RNG.standard_normal((4, 3))
    doc = json_of("grad", "sigma_max(A + t B)", "--wrt", "t", "-d", "A, B: n x m; t: scalar")
    got = numpy_field(doc, A=a, B=bb, t=0.3)
    fd = (sv(a + 0.3 * bb + 1e-6 * bb)[0] - sv(a + 0.3 * bb - 1e-6 * bb)[0]) / 2e-6
    assert abs(float(np.squeeze(got)) - fd) < 1e-6


@pytest.mark.parametrize("decl, shape", [("X: n x n", (4, 4)), ("X: 5 x 3", (5, 3)),
                                         ("X: 2 x 4", (2, 4))])
def test_the_jacobian_of_svdvals_is_diag_of_UT_dX_V(decl, shape):
    doc = json_of("jac", "svdvals(X)", "--wrt", "X", "-d", decl)
    assert doc["result"]["text"].startswith("diag(U1^T dX V1)")
    x, dx = RNG.standard_normal(shape), RNG.standard_normal(shape)
    got = numpy_field(doc, X=x)(dx)
    fd = (sv(x + 1e-6 * dx) - sv(x - 1e-6 * dx)) / 2e-6
    assert np.allclose(np.ravel(got), fd, atol=1e-6)


@pytest.mark.parametrize("src, wrt, decl", [
    ("sigma_max(W)^2 + ||W||_*", "W", []),
    ("sigma_max(A x b^T)", "x", ["A: n x m", "x: m", "b: k"]),
    ("||X||_2 + sum(svdvals(X^T X))", "X", ["X: n x m"]),
    ("norm_nuc(A X B) + c^T svdvals(X)", "X", ["X: 4 x 3", "A: 2 x 4", "B: 3 x 5", "c: 3"]),
])
def test_compositions_pass_the_numeric_check(src, wrt, decl):
    verdict = api.check(src, wrt, decl, seed=1)
    assert verdict["passed"], (src, verdict)


# ------------------------------------------------------------------ every format

def test_text_names_the_singular_vectors_states_the_condition_once_and_reads_back():
    code, out, _ = run("grad", "sigma_max(X) + sigma_max(X)^2 + ||X||_*", "--wrt", "X",
                       "-d", "X: n x m")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[:3] == ["Q1 = polar(X)", "u1 = svec_left_max(X)", "v1 = svec_right_max(X)"]
    assert sum("where sigma_max(X) is simple" in ln for ln in lines) == 1
    assert sum("where X has full rank" in ln for ln in lines) == 1
    x = RNG.standard_normal((4, 3))
    code, val, err = run("eval", "-d", "X: 4 x 3", "--format", "json",
                         "--let", "X=" + json.dumps(x.tolist()), out)
    assert code == 0, err
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    want = (1 + 2 * s[0]) * np.outer(u[:, 0], vt[0]) + u @ vt
    got = np.array(json.loads(val.splitlines()[-1])["value"], dtype=float)
    assert np.allclose(got, want, atol=1e-5), (got, want)


def test_the_singular_functions_are_calls_that_read_back_and_evaluate():
    x = Sym("X", ("n", "m"))
    a = RNG.standard_normal((4, 3))
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    flip = np.sign(u[np.abs(u).argmax(0), range(3)])   # each u_k's largest entry positive
    u, vt = u * flip, vt * flip[:, None]
    want = {"sigma_max": s[0], "svec_left_max": u[:, :1], "svec_right_max": vt[:1].T,
            "norm_nuc": s.sum(), "polar": u @ vt, "svdvals": s.reshape(-1, 1), "svd_u": u,
            "svd_v": vt.T}
    for name, value in want.items():
        decl = ["X: 4 x 3"] if name.startswith("svd") else ["X: n x m"]
        e = parse_expr(f"{name}(X)", decl)
        assert parse_expr(to_text(e), decl) is e
        assert np.allclose(evaluate(e, {"X": a}, {"n": 4, "m": 3}), value), name
    assert parse_expr("||X||_2", ["X: n x m"]) is SigmaMax(x)
    assert parse_expr("norm2(X)", ["X: n x m"]) is SigmaMax(x)
    assert parse_expr("||X||_*^2", ["X: n x m"]).base is NormNuc(x)


def test_a_vector_keeps_the_euclidean_norm_and_a_bare_matrix_norm_is_refused():
    assert isinstance(parse_expr("norm2(x)", ["x: n"]), Norm2)
    assert isinstance(parse_expr("||A x||_2", ["x: m"]), Norm2)
    e = read_document("||X||", ["X: n x m"])[0]
    assert isinstance(e, MatdiffError) and "||X||_2" in e.hint and "||X||_*" in e.hint


def test_svdvals_of_a_matrix_of_unknown_shape_says_what_it_needs():
    code, _, err = run("jac", "svdvals(X)", "--wrt", "X", "-d", "X: n x m")
    assert code == 2 and "min(n, m)" in err and "square matrix or numeric sizes" in err
    assert "Traceback" not in err
    assert parse_expr("svdvals(X)").shape == ("n", 1)          # undeclared: square
    assert parse_expr("svd_v(X)", ["X: 2 x 5"]).shape == (5, 2)


def test_latex_and_pretty_typeset_them():
    code, out, _ = run("grad", "sigma_max(W)^2 + ||W||_*", "--wrt", "W", "--format", "latex")
    assert code == 0
    assert r"u_{1} = \operatorname{svec_{left,max}}\left(W\right)" in out
    assert r"% where \sigma_{\max}\left(W\right) is simple" in out
    code, out, _ = run("diff", "||X||_*", "--wrt", "X", "--format", "latex")
    assert code == 0 and r"Q_{1} = \operatorname{polar}\left(X\right)" in out, out
    from matdiff_cli.render.latex import to_latex
    from matdiff_cli.render.pretty import to_pretty
    x = Sym("X", ("n", "m"))
    assert to_latex(Add(NormNuc(x), SigmaMax(x))) == r"\left\|X\right\|_* + \sigma_{\max}\left(X\right)"
    assert to_pretty(SigmaMax(x)) == "σ_max(X)"


def test_the_json_and_the_generated_code_use_svd():
    doc = json_of("grad", "sigma_max(X)", "--wrt", "X")
    assert doc["conditions"] == ["where sigma_max(X) is simple"]
    assert doc["result"]["where"] == {"u1": "svec_left_max(X)", "v1": "svec_right_max(X)"}
    code, out, _ = run("code", "sigma_max(W)^2 + ||W||_*", "--wrt", "W")
    assert code == 0 and "np.linalg.svd(W, full_matrices=False)" in out and ".T.T" not in out
    namespace: dict = {}
    exec(compile(out, "<generated>", "exec"), namespace)
    w = RNG.standard_normal((3, 4))
    value, grad = namespace["value_and_grad"](w)
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    assert abs(value - (s[0] ** 2 + s.sum())) < 1e-12
    assert np.allclose(grad, 2 * s[0] * np.outer(u[:, 0], vt[0]) + u @ vt)
    for lang, svdvals in (("torch", "torch.linalg.svdvals(W)"), ("jax", "jnp.linalg.svd(W")):
        code, out, _ = run("code", "sigma_max(W)^2 + ||W||_*", "--wrt", "W", "--lang", lang)
        assert code == 0 and svdvals in out, out


# every output format computes the engine's numbers (as tests/test_names.py checks for
# random expressions): the JSON numpy field, the generated NumPy code and the text read back
FORMATS = [
    ("sigma_max(W)^2 + ||W||_*", "W", "W: n x m", "grad"),
    ("c^T svdvals(X) + ||X||_2", "X", "X: n x n; c: n", "grad"),
    ("svdvals(X)", "X", "X: 4 x 3", "diff"),
    ("(polar(X) + svec_left_max(X) svec_right_max(X)^T) y", "y", "X: n x m; y: m", "diff"),
    ("svd_u(X) diag(svdvals(X)) svd_v(X)^T y", "y", "X: n x n; y: n", "diff"),
    ("sigma_max(A x b^T)", "x", "A: n x m; x: m; b: k", "grad"),
    ("sigma_max(X) + ||X||_* + c^T svdvals(X)", "X", "X: n x n; c: n", "hess"),
]


@pytest.mark.parametrize("src, wrt, decl, command", FORMATS, ids=[f[0] for f in FORMATS])
def test_every_format_computes_the_same_numbers(src, wrt, decl, command):
    problem = read_document(f"{decl}; {src}")[-1]
    var = problem.symbols[wrt]
    report = report_for(problem, var, command, Options())
    result = report.der.result
    values, sizes = sample_values([problem.expr, result], np.random.default_rng(3))
    direction = np.random.default_rng(4).standard_normal(np.shape(values[wrt]))
    values[("d", wrt)] = direction
    ref = evaluate(result, values, sizes)
    scope = {k: v for k, v in values.items() if isinstance(k, str)}
    got = eval(report.to_json()["result"]["numpy"], {"np": np, **scope})
    got = got if command == "grad" else got(direction)
    assert np.allclose(np.reshape(got, np.shape(ref)), ref)
    if command != "hess":
        namespace: dict = {}
        exec(compile(generate(problem, [var], "numpy"), "<generated>", "exec"), namespace)
        fname = "value_and_grad" if command == "grad" else "value_and_jvp"
        value, d = namespace[fname](*[values[n] for n in problem.symbols])
        d = d if command == "grad" else d(direction)
        assert np.allclose(value, evaluate(problem.expr, values, sizes))
        assert np.allclose(np.reshape(d, np.shape(ref)), ref)
    back = read_document(decl.replace(";", "\n") + "\n" + report.to_text())[-1]
    assert not isinstance(back, MatdiffError), back
    scope[report.direction] = direction
    assert np.allclose(evaluate(back.expr, scope, sizes), ref)
    assert report.to_json().get("conditions"), report.to_json()   # where it holds


def test_steps_name_the_rule():
    code, out, _ = run("grad", "sigma_max(X)", "--wrt", "X", "--steps")
    assert code == 0 and "largest singular value: dσ = u1ᵀ dX v1" in out, out


# ------------------------------------------------------------------ second derivatives

def grad_sigma(x):
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    return np.outer(u[:, 0], vt[0])


def test_the_hessian_of_sigma_max_agrees_with_differences_of_the_gradient():
    """H[dX] = du1 v1ᵀ + u1 dv1ᵀ, du1 = (σ²I − X Xᵀ)⁺ (σ dX v1 + X dXᵀ u1), against
    central differences of NumPy's u1 v1ᵀ (error O(h²))."""
    doc = json_of("hess", "sigma_max(X)", "--wrt", "X")
    assert doc["conditions"] == ["where sigma_max(X) is simple"]
    for shape in ((4, 3), (3, 5), (3, 3)):
        x, dx = RNG.standard_normal(shape), RNG.standard_normal(shape)
        got = numpy_field(doc, X=x)(dx)
        fd = (grad_sigma(x + 1e-5 * dx) - grad_sigma(x - 1e-5 * dx)) / 2e-5
        assert np.allclose(got, fd, atol=1e-7), shape
    # a vector variable: the Hessian matrix of sigma_max(A x b^T)
    a, b, x0 = RNG.standard_normal((4, 3)), RNG.standard_normal((2, 1)), RNG.standard_normal((3, 1))
    doc = json_of("hess", "sigma_max(A x b^T)", "--wrt", "x", "-d", "A: n x m; x: m; b: k")
    got = numpy_field(doc, A=a, b=b, x=x0)

    def g(v):
        return (a.T @ grad_sigma(a @ v @ b.T) @ b)[:, 0]
    fd = np.column_stack([(g(x0 + 1e-5 * e) - g(x0 - 1e-5 * e)) / 2e-5
                          for e in np.eye(3)[:, :, None]])
    assert np.allclose(got, fd, atol=1e-7)


@pytest.mark.parametrize("src", ["sigma_max(W)^2", "sigma_max(A + t B)"])
def test_hessians_through_sigma_max_pass_the_check(src):
    wrt = "t" if "t B" in src else "W"
    code, out, err = run("hess", src, "--wrt", wrt, "-d", "t: scalar", "--check")
    assert code == 0 and "check passed" in out and "where sigma_max(" in out, out + err


def polar_np(x):
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    return u @ vt


@pytest.mark.parametrize("decl, shape", [("X: n x n", (4, 4)), ("X: 5 x 3", (5, 3)),
                                         ("X: 2 x 4", (2, 4))])
def test_the_hessian_of_the_nuclear_norm_is_the_derivative_of_polar(decl, shape):
    """d polar(X) = U ((M − Mᵀ) ./ (σ1ᵀ + 1σᵀ)) Vᵀ + (I − U Uᵀ) dX V Σ⁻¹ Vᵀ + U Σ⁻¹ Uᵀ dX
    (I − V Vᵀ), against central differences of NumPy's U Vᵀ."""
    doc = json_of("hess", "||X||_*", "--wrt", "X", "-d", decl)
    assert "where X has full rank" in doc["conditions"]
    for _ in range(2):
        x, dx = RNG.standard_normal(shape), RNG.standard_normal(shape)
        got = numpy_field(doc, X=x)(dx)
        fd = (polar_np(x + 1e-5 * dx) - polar_np(x - 1e-5 * dx)) / 2e-5
        assert np.allclose(got, fd, atol=1e-7), (decl, np.max(np.abs(got - fd)))


def grad_weighted(x, c):
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    return u @ np.diag(c) @ vt


@pytest.mark.parametrize("decl, shape", [("X: n x n; c: n", (4, 4)), ("X: 5 x 3; c: 3", (5, 3)),
                                         ("X: 2 x 4; c: 2", (2, 4))])
def test_the_hessian_of_weighted_singular_values(decl, shape):
    """Through dU = U (F ⊙ (M Σ + Σ Mᵀ)) + (I − U Uᵀ) dX V Σ⁻¹ and dV alike, against
    central differences of NumPy's U diag(c) Vᵀ."""
    doc = json_of("hess", "c^T svdvals(X)", "--wrt", "X", "-d", decl)
    assert doc["conditions"] == ["where the singular values of X are distinct and not 0"]
    c = RNG.standard_normal(min(shape))
    for _ in range(2):
        x, dx = RNG.standard_normal(shape), RNG.standard_normal(shape)
        got = numpy_field(doc, X=x, c=c.reshape(-1, 1))(dx)
        fd = (grad_weighted(x + 1e-5 * dx, c) - grad_weighted(x - 1e-5 * dx, c)) / 2e-5
        assert np.allclose(got, fd, atol=1e-6), (decl, np.max(np.abs(got - fd)))


@pytest.mark.parametrize("src, wrt", [("||X||_*", "X"), ("||X||_* + sigma_max(X)", "X"),
                                      ("sigma_max(W)^2 + ||W||_*", "W"),
                                      ("norm_nuc(A x b^T)", "x")])
def test_the_nuclear_norm_of_symbolic_non_square_sizes_has_no_hessian(src, wrt):
    code, out, err = run("hess", src, "--wrt", wrt)
    assert code == 3 and "second derivative of the nuclear norm" in err and "min(n, m)" in err
    assert "Traceback" not in err


def test_check_verifies_the_gradient_and_says_the_hessian_is_missing():
    code, out, err = run("check", "||X||_*^2", "--wrt", "X")
    assert code == 3 and "where X has full rank" in out and "passed" in out
    assert "second derivative" in err


def test_expect_states_the_condition():
    code, out, err = run("grad", "||X||_*", "--wrt", "X", "--expect", "polar(X)")
    assert code == 0 and "where X has full rank" in out


# ------------------------------------------------------------------ sampling

def test_the_sampler_refuses_tied_singular_values_and_rank_deficiency():
    x = Sym("X", (3, 3))
    tied = np.diag([2.0, 2.0, 1.0])
    distinct = np.diag([3.0, 2.0, 1.0])
    singular = np.diag([3.0, 2.0, 0.0])
    assert acceptable([SigmaMax(x), SVecLeftMax(x)], {"X": distinct}, {})
    assert not acceptable([SVecLeftMax(x)], {"X": tied}, {})
    assert acceptable([SVecLeftMax(x)], {"X": np.diag([3.0, 1.0, 1.0])}, {})
    assert not acceptable([Polar(x)], {"X": singular}, {})
    assert acceptable([Polar(x)], {"X": tied}, {})
    assert not acceptable([SvdVals(x)], {"X": np.diag([3.0, 1.0, 1.0])}, {})
    # a rank-one argument: sigma_max is simple, the nuclear norm's polar factor is not defined
    v = np.ones((3, 1))
    assert acceptable([SVecLeftMax(x)], {"X": v @ v.T}, {})
    assert not acceptable([Polar(x)], {"X": v @ v.T}, {})


def test_the_sampler_draws_where_the_top_singular_value_is_simple():
    for seed in range(20):
        problem = read_document("X: 3 x 3; sigma_max(X) + ||X||_*")[-1]
        values, _ = sample_values([problem.expr], np.random.default_rng(seed))
        s = sv(values["X"])
        assert s[0] - s[1] > 1e-3 * (1 + s[0]) and s[-1] > 1e-3 * (1 + s[0])


def test_singular_values_of_a_number():
    for src, want in (("sigma_max(a)", "sign(a)"), ("||a||_*", "sign(a)"),
                      ("svdvals(a)", "sign(a)")):
        code, out, _ = run("grad", src, "--wrt", "a", "-d", "a: scalar")
        assert code == 0 and out.splitlines()[0] == want, out
    e = parse_expr("sigma_max(a) + polar(a) + svec_right_max(a)", ["a: scalar"])
    assert evaluate(e, {"a": -2.0}, {}) == 2.0 - 1.0 + 1.0
    assert not any(isinstance(n, SvdVals) for n in walk(e))


def test_sympy_refuses_in_words():
    from matdiff_cli.sympy_bridge import _convert   # (without importing SymPy: it is slow)
    for node, name in ((SigmaMax(Sym("X", ("n", "m"))), "sigma_max"),
                       (Polar(Sym("X", ("n", "m"))), "polar")):
        with pytest.raises(NotImplementedError, match=rf"{name} has no SymPy form: SymPy.s matrix"):
            _convert(node, [], None)


def planted(rng, s, shape):
    """A matrix of the given shape with singular values s (descending)."""
    n, m = shape
    u, _ = np.linalg.qr(rng.standard_normal((n, len(s))))
    v, _ = np.linalg.qr(rng.standard_normal((m, len(s))))
    return (u * s) @ v.T


def test_the_sampler_refuses_every_planted_tie_and_rank_deficiency():
    """Matrices of every shape with planted spectra: distinct, a tie at a random place,
    a 0 at the end.  u1, v1 need the top one simple; U, V all distinct and not 0;
    polar only full rank (a tie is fine)."""
    rng = np.random.default_rng(7)
    for shape in ((3, 3), (4, 3), (3, 5), (2, 4), (4, 4)):
        k = min(shape)
        x = Sym("X", shape)
        for trial in range(6):
            s = np.sort(rng.uniform(0.5, 3.0, k))[::-1]
            if trial % 3 == 1:   # a tie
                j = rng.integers(0, k - 1)
                s[j + 1] = s[j]
            elif trial % 3 == 2:   # rank deficient
                s[-1] = 0.0
            a = planted(rng, s, shape)
            top_simple = s[0] - s[1] > 1e-6
            distinct = bool(np.all(-np.diff(s) > 1e-6)) and s[-1] > 0
            for root, want in ((SVecLeftMax(x), top_simple), (SigmaMax(x), top_simple),
                               (SvdVals(x), distinct), (Polar(x), s[-1] > 0),
                               (NormNuc(x), s[-1] > 0)):
                assert acceptable([root], {"X": a}, {}) is bool(want), (shape, s, root)
