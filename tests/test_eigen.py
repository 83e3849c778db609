"""The whole spectrum and the second derivatives of the extreme eigenvalues.

``eigvals(A)`` of a symmetric A (ascending, as NumPy's ``eigvalsh``): dλ_i =
v_iᵀ dA v_i, results name V = eigvecs(A) and state that the eigenvalues are
distinct.  An eigenvector of a symmetric A has dv = (λI - A)⁺ dA v, so the
Hessian of lambda_max / lambda_min follows from the rules, with ``pinv`` in
the language.  ``||x||_∞`` is the max-norm, ``||x||_1.5`` a p-norm.

Every derivative is checked against central differences of NumPy's own
``eigvalsh`` / ``eigh`` / ``norm`` (oracles independent of matdiff's
evaluator); Hessian operators against differences of gradients.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from matdiff_cli import api
from matdiff_cli.cli import cli
from matdiff_cli.document import parse_expr
from matdiff_cli.expr import EigVals, EigVecs, NormInf, Pinv, Sym
from matdiff_cli.numeric import acceptable, evaluate
from matdiff_cli.render.text import to_text

SYM = "A: n x n symmetric"


def run(*args):
    out = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return out.exit_code, out.stdout, out.stderr


def random_symmetric(rng, n):
    g = rng.standard_normal((n, n))
    return (g + g.T) / 2


def directional(f, a, d, h=1e-6):
    return (f(a + h * d) - f(a - h * d)) / (2 * h)


# ------------------------------------------------------------------ eigvals

EIGVALS_CASES = [
    # (source, the function of the eigenvalues w and of c, the gradient's text)
    ("sum(exp(eigvals(A)))", lambda w, c: np.exp(w).sum(), "V1 diag(exp(eigvals(A))) V1^T"),
    ("c^T eigvals(A)", lambda w, c: c.ravel() @ w, "V1 diag(c) V1^T"),
    ("logsumexp(eigvals(A))", lambda w, c: np.log(np.exp(w).sum()),
     "V1 diag(softmax(eigvals(A))) V1^T"),
    ("eigvals(A)^T eigvals(A) + lambda_max(A)", lambda w, c: w @ w + w[-1], None),
]


@pytest.mark.parametrize("src, f, expected", EIGVALS_CASES, ids=[c[0] for c in EIGVALS_CASES])
def test_the_gradient_of_a_function_of_the_eigenvalues(src, f, expected):
    g = api.gradient(src, "A", [SYM, "c: n"])
    if expected is not None:
        assert g.text == expected
    rng = np.random.default_rng(20)
    for n in (2, 3, 5):
        a, c = random_symmetric(rng, n), rng.standard_normal((n, 1))
        got = evaluate(g.expr, {"A": a, "c": c}, {"n": n})
        for _ in range(2):   # along symmetric directions
            d = random_symmetric(rng, n)
            fd = directional(lambda y: f(np.linalg.eigvalsh(y), c), a, d)
            assert abs(np.sum(got * d) - fd) < 1e-6 * (1 + abs(fd)), (src, n)


def test_the_jacobian_of_the_eigenvalues_is_diag_of_vT_dA_v():
    j = api.jacobian("eigvals(A)", "A", [SYM])
    assert j.text == "diag(V1^T dA V1)"
    rng = np.random.default_rng(21)
    for n in (2, 4):
        a, d = random_symmetric(rng, n), random_symmetric(rng, n)
        got = evaluate(j.expr, {"A": a, ("d", "A"): d}, {"n": n})
        want = directional(np.linalg.eigvalsh, a, d).reshape(-1, 1)
        assert np.allclose(got, want, atol=1e-6)


def test_compositions_with_the_eigenvalues_pass_the_check():
    for src, wrt, decl in (("logsumexp(eigvals(S))", "S", ["S: n x n symmetric"]),
                           ("sum(eigvals(X^T X).^2)", "X", ["X: n x m"]),
                           ("c^T eigvals(S + W^T W)", "W", ["S: m x m symmetric", "W: n x m"])):
        for seed in range(2):
            assert api.check(src, wrt, decl, seed=seed)["passed"], src


def test_eigvals_text_names_the_eigenvectors_states_the_condition_and_reads_back():
    code, out, _ = run("grad", "sum(exp(eigvals(A)))", "--wrt", "A", "-d", SYM,
                       "--format", "text")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "V1 = eigvecs(A)"
    assert lines.count("# where the eigenvalues of A are distinct") == 1
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 1.0]])
    code, val, _ = run("eval", "-d", "A: 3 x 3 symmetric", "--format", "json",
                       "--let", "A=" + json.dumps(a.tolist()), out)
    assert code == 0, val
    w, v = np.linalg.eigh(a)
    got = np.array(json.loads(val.splitlines()[-1])["value"], dtype=float)
    assert np.allclose(got, v @ np.diag(np.exp(w)) @ v.T, atol=1e-5)
    a_ = Sym("A", ("n", "n"), {"symmetric"})
    for node in (EigVals(a_), EigVecs(a_), Pinv(a_)):
        assert parse_expr(to_text(node), [SYM]) is node


def test_eigvals_json_numpy_field_and_generated_code_compute_the_same_numbers():
    code, out, _ = run("grad", "c^T eigvals(X^T X)", "--wrt", "X", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["conditions"] == ["where the eigenvalues of X^T X are distinct"]
    assert doc["result"]["where"] == {"V1": "eigvecs(X^T X)"}
    rng = np.random.default_rng(22)
    x, c = rng.standard_normal((4, 3)), rng.standard_normal((3, 1))
    got = eval(doc["result"]["numpy"], {"np": np, "__builtins__": {}, "X": x, "c": c})
    g = api.gradient("c^T eigvals(X^T X)", "X")
    assert np.allclose(got, evaluate(g.expr, {"X": x, "c": c}, {}))
    code, src, _ = run("code", "logsumexp(eigvals(A))", "--wrt", "A", "-d", SYM)
    assert code == 0 and "np.linalg.eigvalsh" in src and "np.linalg.eigh" in src
    namespace: dict = {}
    exec(compile(src, "<generated>", "exec"), namespace)
    a = random_symmetric(rng, 4)
    value, grad = namespace["value_and_grad"](a)
    w, v = np.linalg.eigh(a)
    p = np.exp(w - w.max()) / np.exp(w - w.max()).sum()
    assert abs(value - (w.max() + np.log(np.exp(w - w.max()).sum()))) < 1e-12
    assert np.allclose(grad, v @ np.diag(p) @ v.T)


def test_steps_name_the_eigenvalues_rule():
    code, out, _ = run("grad", "c^T eigvals(A)", "--wrt", "A", "-d", SYM, "--steps",
                       "--format", "text")
    assert code == 0 and "#   eigenvalues: dλ = diag(Vᵀ dA V), V = eigvecs(A)" in out


def test_eigvals_of_a_general_matrix_is_refused_in_words():
    for args, words in (
            (("grad", "sum(eigvals(A))", "--wrt", "A", "-d", "A: n x n"),
             "eigvals(A) is differentiated for a symmetric matrix only"),
            (("jac", "eigvecs(A)", "--wrt", "A", "-d", "A: n x n"),
             "eigvecs(A) is differentiated for a symmetric matrix only")):
        code, _, err = run(*args)
        assert code == 3 and words in err and "Traceback" not in err, err
    code, _, err = run("grad", "eigvals(A)", "--wrt", "A", "-d", SYM)
    assert code == 2 and "jac" in err


def spectral_gradient(a, fprime):
    """V diag(f'(λ)) Vᵀ: the gradient of sum(f(eigvals(A))) (the oracle, by eigh)."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return v @ np.diag(fprime(w)) @ v.T


@pytest.mark.parametrize("src, fprime", [
    ("sum(exp(eigvals(A)))", np.exp),
    ("c^T eigvals(A)", None),
    ("logsumexp(eigvals(A))", lambda w: np.exp(w - w.max()) / np.exp(w - w.max()).sum())])
def test_the_hessian_of_a_function_of_the_eigenvalues(src, fprime):
    """From dV = V (F ⊙ (Vᵀ dA V)), F_ij = 1 / (λ_j - λ_i) off the diagonal: against
    differences of the eigh oracle's gradient, and in the numpy field."""
    h = api.hessian(src, "A", [SYM, "c: n"])
    assert "where the eigenvalues of A are distinct" in h.to_json()["conditions"]
    rng = np.random.default_rng(28)
    for n in (2, 3, 5):
        a, d, c = random_symmetric(rng, n), random_symmetric(rng, n), rng.standard_normal((n, 1))
        fp = fprime or (lambda w: c.ravel())
        got = evaluate(h.expr, {"A": a, "c": c, ("d", "A"): d}, {"n": n})
        want = directional(lambda y: spectral_gradient(y, fp), a, d)
        assert np.allclose(got, want, atol=1e-5), (src, n)
        op = eval(h.numpy, {"np": np, "__builtins__": {}, "A": a, "c": c})
        assert np.allclose(op(d), got)


def test_the_derivative_of_the_eigenvectors():
    """dV = V (F ⊙ (Vᵀ dA V)) against differences of eigh's V (each column's entry of
    largest magnitude positive at A, signs continuous along the line)."""
    j = api.jacobian("eigvecs(A)", "A", [SYM])
    rng = np.random.default_rng(29)
    for n in (2, 3, 4):
        a, d = random_symmetric(rng, n), random_symmetric(rng, n)
        v0 = np.linalg.eigh(a)[1]
        v0 = v0 * np.sign(v0[np.abs(v0).argmax(0), range(n)])   # the language's signs

        def aligned(y):
            v = np.linalg.eigh(y)[1]
            return v * np.sign(np.sum(v * v0, axis=0))
        got = evaluate(j.expr, {"A": a, ("d", "A"): d}, {"n": n})
        assert np.allclose(got, directional(aligned, a, d), atol=1e-5)


def test_the_sampler_redraws_repeated_eigenvalues():
    a = Sym("A", (3, 3), {"symmetric"})
    q = np.linalg.qr(np.random.default_rng(23).standard_normal((3, 3)))[0]
    for node in (EigVals(a), EigVecs(a)):
        assert acceptable([node], {"A": q @ np.diag([3.0, 1.0, 0.0]) @ q.T}, {})
        for bad in ([3.0, 1.0, 1.0], [2.0, 2.0, -1.0], [0.0, 0.0, 0.0]):   # any pair repeated
            assert not acceptable([node], {"A": q @ np.diag(bad) @ q.T}, {})


# ------------------------------------------------------------------ Hessians of λ

def lam(a, largest=True):
    w = np.linalg.eigvalsh((a + a.T) / 2)
    return w[-1] if largest else w[0]


def vvT(a, largest=True):
    """The gradient of λ (an oracle: NumPy's eigh, independent of matdiff)."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    u = v[:, -1] if largest else v[:, 0]
    return np.outer(u, u)


@pytest.mark.parametrize("name, largest, expected", [
    ("lambda_max", True, "t1 dA v1 v1^T + v1 v1^T dA t1"),
    ("lambda_min", False, "v1 v1^T dA t1 + t1 dA v1 v1^T")])
def test_the_hessian_of_an_extreme_eigenvalue(name, largest, expected):
    """H[dA] = (λI - A)⁺ dA v vᵀ + v vᵀ dA (λI - A)⁺, against differences of gradients."""
    h = api.hessian(f"{name}({'A'})", "A", [SYM])
    assert h.text == expected
    t = "t1"
    assert h.to_json()["result"]["where"][t] == f"pinv({name}(A) I - A)"
    rng = np.random.default_rng(24)
    for n in (2, 3, 5):
        a, d = random_symmetric(rng, n), random_symmetric(rng, n)
        got = evaluate(h.expr, {"A": a, ("d", "A"): d}, {"n": n})
        want = directional(lambda y: vvT(y, largest), a, d)
        assert np.allclose(got, want, atol=1e-5), (n, got, want)
        # the numpy field computes the same operator
        op = eval(h.numpy, {"np": np, "__builtins__": {}, "A": a})
        assert np.allclose(op(d), got)


def test_the_seed_second_derivative_along_a_line_and_of_a_gram_matrix():
    decl = [SYM, "B: n x n symmetric", "t: scalar"]
    h = api.hessian("lambda_max(A + t B)", "t", decl)
    assert h.text == "2 v1^T B pinv(lambda_max(A + t B) I - (A + t B)) B v1"
    rng = np.random.default_rng(25)
    for n in (2, 4):
        a, bm, t = random_symmetric(rng, n), random_symmetric(rng, n), 0.3
        got = evaluate(h.expr, {"A": a, "B": bm, "t": t}, {"n": n})
        e = 1e-4
        fd = (lam(a + (t + e) * bm) - 2 * lam(a + t * bm) + lam(a + (t - e) * bm)) / e ** 2
        assert abs(got - fd) < 1e-4 * (1 + abs(fd))
    h = api.hessian("lambda_min(X^T X)", "X", [])
    for rows, cols in ((4, 2), (5, 3)):
        x, d = rng.standard_normal((rows, cols)), rng.standard_normal((rows, cols))
        got = evaluate(h.expr, {"X": x, ("d", "X"): d}, {})
        want = directional(lambda y: 2 * y @ vvT(y.T @ y, False), x, d)
        assert np.allclose(got, want, atol=1e-5)


def test_the_whole_hessian_and_the_second_differential_follow_from_the_rules():
    decl = [SYM, "t: scalar"]
    whole = api.hessian("lambda_max(A) + t^2 lambda_min(A)", ["A", "t"], decl)
    assert "where lambda_max(A) is simple" in whole.to_json()["conditions"]
    code, out, _ = run("diff", "lambda_max(A)", "--order", "2", "--wrt", "A", "-d", SYM,
                       "--format", "text")
    assert code == 0 and "2 v1^T dA pinv(lambda_max(A) I - A) dA v1" in out
    assert "# where lambda_max(A) is simple" in out
    for seed in range(2):   # check compares the Hessian with differences of gradients
        for src, wrt, dec in (("lambda_max(A)", "A", [SYM]), ("lambda_min(X^T X)", "X", []),
                              ("lambda_max(A + t B)", "t", [SYM, "B: n x n symmetric", "t: scalar"])):
            code, out, err = run("check", src, "--wrt", wrt, *sum((["-d", x] for x in dec), []),
                                 "--format", "text")
            assert code == 0 and out.count("check passed") == 2, (src, out, err)
            assert "is simple" in out   # the condition the check was made under


def test_the_pseudo_inverse_where_its_rank_is_constant():
    """dM⁺ against differences of NumPy's pinv: full-rank rectangles and a rank-1 outer
    product (rank constant along every direction of x and y)."""
    rng = np.random.default_rng(26)
    g = api.gradient("tr(pinv(X) B)", "X", ["X: n x m", "B: n x m"])
    for n, m in ((4, 2), (2, 3), (3, 3)):
        x, bm, d = (rng.standard_normal((n, m)) for _ in range(3))
        got = evaluate(g.expr, {"X": x, "B": bm}, {})
        fd = directional(lambda y: np.trace(np.linalg.pinv(y) @ bm), x, d)
        assert abs(np.sum(got * d) - fd) < 1e-6 * (1 + abs(fd))
    g = api.gradient("c^T pinv(x y^T) b", "x", ["x, b: n", "y, c: m"])
    x, y, b, c, d = (rng.standard_normal((k, 1)) for k in (4, 3, 4, 3, 4))
    got = evaluate(g.expr, {"x": x, "y": y, "b": b, "c": c}, {})
    fd = directional(lambda u: (c.T @ np.linalg.pinv(u @ y.T) @ b).item(), x, d)
    assert abs(np.sum(got * d) - fd) < 1e-6 * (1 + abs(fd))
    code, out, _ = run("grad", "tr(pinv(X) B)", "--wrt", "X", "--format", "text")
    assert "# where the rank of X is constant" in out
    assert not acceptable([Pinv(Sym("X", (3, 3)))], {"X": np.diag([1.0, 1e-7, 2.0])}, {})


def test_a_general_matrix_keeps_its_hessian_refused():
    code, _, err = run("hess", "lambda_min(A)", "--wrt", "A", "-d", "A: n x n")
    assert code == 3 and "not known to be symmetric" in err and "Traceback" not in err


# ------------------------------------------------------------------ p-norms

def test_the_max_norm_with_the_infinity_sign():
    decl = ["x: n"]
    x = parse_expr("x", decl)
    assert parse_expr("||x||_∞", decl) is parse_expr("‖x‖_∞", decl) is NormInf(x)
    assert parse_expr("||x||_∞^2 + 1", decl) is parse_expr("norm_inf(x)^2 + 1", decl)
    code, _, err = run("grad", "x _∞", "--wrt", "x")
    assert code == 2 and "unexpected '_∞'" in err


@pytest.mark.parametrize("p", ["1.5", "2.5", "1.25", "3.75", "10.5"])
def test_a_p_norm_with_a_decimal_point_is_the_p_norm(p):
    """Each p: the value is NumPy's norm (never ||x||_1 or ||x|| times a number),
    the gradient sign(x) ⊙ |x|^(p-1) / ||x||_p^(p-1), the Hessian by differences."""
    decl = ["A: m x n", "x: n", "b: m"]
    q = float(p)
    rng = np.random.default_rng(int(q * 4))
    a, x, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 1)), rng.standard_normal((4, 1))
    vals, sizes = {"A": a, "x": x, "b": b}, {"m": 4, "n": 3}
    e = parse_expr(f"||A x - b||_{p}", decl)
    r = (a @ x - b).ravel()
    assert abs(evaluate(e, vals, sizes) - np.linalg.norm(r, q)) < 1e-12
    assert parse_expr(to_text(e), decl) is e
    g = api.gradient(f"||A x - b||_{p}", "x", decl)
    want = a.T @ (np.sign(r) * np.abs(r) ** (q - 1)).reshape(-1, 1) / np.linalg.norm(r, q) ** (q - 1)
    assert np.allclose(evaluate(g.expr, vals, sizes), want, atol=1e-10)
    assert parse_expr(g.text.split("\n")[-1], decl) is not None
    h = api.hessian(f"||x||_{p}", "x", ["x: n"])
    d = rng.standard_normal((3, 1))
    grad = lambda y: (np.sign(y) * np.abs(y) ** (q - 1)) / np.linalg.norm(y.ravel(), q) ** (q - 1)
    assert np.allclose(evaluate(h.expr, {"x": x}, {"n": 3}) @ d, directional(grad, x, d),
                       atol=1e-6)


def test_a_p_norm_states_its_condition_and_checks():
    code, out, _ = run("check", "||A x - b||_1.5", "--wrt", "x", "--format", "text")
    assert code == 0 and out.count("check passed") == 2
    assert out.count("# where no entry of A x - b is 0") == 2


@pytest.mark.parametrize("src, words", [
    ("||x||_0.5", "||...||_0.5 is not a norm: p must be at least 1"),
    ("||x||_0.99", "p must be at least 1"),
    ("||x||_100.5", "p is at most 64"),
    ("||X||_2.5", "the 2.5-norm needs a vector"),
])
def test_a_p_norm_out_of_range_is_an_error_with_a_caret(src, words):
    code, _, err = run("grad", src, "--wrt", src[2], "-d", "X: n x m")
    assert code == 2 and words in err and "^" in err and "hint:" in err, err


def test_p_norms_of_whole_numbers_written_with_a_point():
    decl = ["x: n"]
    assert parse_expr("||x||_1.0", decl) is parse_expr("||x||_1", decl)
    assert parse_expr("||x||_2.0", decl) is parse_expr("||x||", decl)
    assert parse_expr("||x||_3.0", decl) is parse_expr("||x||_3", decl)


@pytest.mark.parametrize("src, zero_free", [
    ("||x||_∞", False), ("||A x - b||_inf^2", False), ("||x||_∞^2 + ||x||_1", True),
    ("||x||_1 + ||x||_inf", True), ("sum(abs(x)) + norm_inf(x)", True), ("||x||_1.5", True)])
def test_a_max_norm_beside_a_sign_still_states_no_zero_entry(src, zero_free):
    """sign(x) inside sign(x) ⊙ onehot_max(abs(x)) needs only the largest entry
    nonzero; any other sign(x) in the same result needs every entry nonzero."""
    code, out, _ = run("grad", src, "--wrt", "x", "--format", "text")
    assert code == 0
    assert any(ln.startswith("# where no entry of") for ln in out.splitlines()) == zero_free, out


@pytest.mark.parametrize("args, under", [
    (("check", "lambda_max(A)", "--wrt", "A", "-d", SYM), "lambda_max(A) is simple"),
    (("grad", "c^T eigvals(A)", "--wrt", "A", "-d", SYM, "--check"),
     "the eigenvalues of A are distinct"),
    (("grad", "||A x - b||_1", "--wrt", "x", "--check"), "no entry of A x - b is 0"),
    (("hess", "lambda_min(A) + t^2", "--wrt", "A", "--wrt", "t", "-d", SYM, "-d", "t: scalar",
      "--check"),
     "lambda_min(A) is simple")])
def test_a_check_says_the_condition_its_points_were_drawn_under(args, under):
    code, out, _ = run(*args, "--format", "text")
    verdicts = [ln for ln in out.splitlines() if ln.startswith("# check passed")]
    assert code == 0 and verdicts, out
    assert all(ln.endswith(f", at points drawn where {under}") for ln in verdicts), out
    code, out, _ = run(*args, "--format", "json")
    docs = [json.loads(x) for x in out.strip().splitlines()]
    assert all(f"where {under}" in d["check"]["drawn_where"] for d in docs)


def test_the_check_line_spells_the_condition_as_its_format_does():
    for fmt, under in (("pretty", "λ_max(A) is simple"),
                       ("latex", r"\lambda_{\max}\left(A\right) is simple")):
        code, out, _ = run("grad", "lambda_max(A)", "--wrt", "A", "-d", SYM, "--check",
                           "--format", fmt)
        assert code == 0 and f"at points drawn where {under}" in " ".join(out.split()), out


def test_a_check_at_given_data_claims_no_drawing():
    code, out, _ = run("grad", "||x||_1", "--wrt", "x", "--check", "--let", "x=[1, -2, 3]",
                       "--format", "text")
    assert code == 0 and "check passed" in out and "drawn" not in out


def test_the_pseudo_inverse_of_an_eigenvalue_gap_is_not_rounding_noise():
    """pinv(λI - A) has a zero eigenvalue computed as ~1e-16 |λ|: NumPy's default
    cutoff (1e-15) inverts that noise about one time in eight.  The value and the
    generated code count singular values below 1e-10 of the largest as 0; checked
    against the sum over the other eigenpairs, at many points and scales."""
    h = api.hessian("lambda_max(A)", "A", [SYM])
    op_src = h.numpy
    rng = np.random.default_rng(27)
    for trial in range(120):
        n = 3 + trial % 3
        a = random_symmetric(rng, n) * 10.0 ** (trial % 4) + (100.0 if trial % 5 == 0 else 0) * np.eye(n)
        d = random_symmetric(rng, n)
        w, v = np.linalg.eigh(a)
        if (w[-1] - w[-2]) < 1e-3 * (1 + abs(w).max()):
            continue
        pinv = sum(np.outer(v[:, j], v[:, j]) / (w[-1] - w[j]) for j in range(n - 1))
        u = v[:, -1:]
        want = pinv @ d @ u @ u.T + u @ u.T @ d @ pinv
        got = evaluate(h.expr, {"A": a, ("d", "A"): d}, {"n": n})
        assert np.allclose(got, want, rtol=1e-6, atol=1e-8 * np.abs(want).max()), trial
        code = eval(op_src, {"np": np, "__builtins__": {}, "A": a})(d)
        assert np.allclose(code, want, rtol=1e-6, atol=1e-8 * np.abs(want).max()), trial


def test_hessian_steps_name_the_eigenvector_rule():
    code, out, _ = run("hess", "lambda_max(A)", "--wrt", "A", "-d", SYM, "--steps",
                       "--format", "text")
    assert code == 0
    assert "#   eigenvector: dv = (λI - A)⁺ dA v (A symmetric, λ simple, v its unit eigenvector, " \
           "also its left one)" in out


def test_symmetric_by_form_sees_through_the_planners_nested_products():
    """The code generator decides eigh or eig on the planned form (ones(n) (4 ones(1, n))
    + S); the evaluator decides on the expression: both must see the same symmetry, or
    the eigenvector's sign differs between the value and the code."""
    from matdiff_cli.build import symmetric
    from matdiff_cli.expr import Add, Mul, Num, Ones, Transpose
    s = Sym("S", ("n", "n"), {"symmetric"})
    x = Sym("X", ("k", "n"))
    b = Sym("B", ("n", "n"))
    for e in (Add(Mul(Ones(("n", 1)), Mul(Num(4), Ones((1, "n")))), s),
              Mul(Transpose(x), Mul(Num(2), x)), Mul(Mul(Transpose(x), Num(3)), x),
              Mul(Transpose(Mul(x, Num(2))), Mul(x, Num(2))),        # (2 X)^T (2 X)
              Add(s, Mul(Transpose(Mul(x, b)), Mul(x, b)))):         # S + (X B)^T (X B)
        assert symmetric(e), e
    assert not symmetric(Mul(Ones(("n", 1)), Mul(Num(4), Ones((1, "k"))), Sym("B", ("k", "n"))))
    code, out, _ = run("code", "sum(lambda_max(S + kron(2, ones(1, n))^T kron(2, ones(1, n))) "
                       "eigvec_max(S + kron(2, ones(1, n))^T kron(2, ones(1, n))))",
                       "--wrt", "S", "-d", "S: n x n symmetric")
    assert code == 0 and "linalg.eig(" not in out


def test_a_matrix_plus_its_transpose_is_symmetric_by_form():
    """A + A^T, 2 A + 2 A^T + B .* B^T: the terms that are not symmetric pair
    up with their transposes, so the Hessian of lambda_max of them is given."""
    from matdiff_cli.build import symmetric
    decl = ["A: n x n", "B: n x n"]
    for src in ("A + A^T", "2 A + 2 A^T + B .* B^T", "A^T B + B^T A", "B .* B^T"):
        assert symmetric(parse_expr(src, decl)), src
    for src in ("A + A^T - B", "2 A + A^T", "A B + B^T A", "B .* B .* B^T"):
        assert not symmetric(parse_expr(src, decl)), src
    code, out, _ = run("hess", "--check", "lambda_max(A + A^T)", "-d", "A: n x n")
    assert code == 0 and "check passed" in out
    # and the simplifier knows it: (A + A^T)^T = A + A^T, pinv(λ I - S)^T = pinv(λ I - S)
    from matdiff_cli.expr import Transpose
    from matdiff_cli.simplify import simplify
    s = simplify(parse_expr("A + A^T", decl))
    assert simplify(Transpose(s)) is s
    code, out, _ = run("hess", "lambda_max(2 A + 2 A^T + B .* B^T)", "-d", "A: n x n",
                       "-d", "B: n x n")
    assert code == 0 and "pinv(t2)^T" not in out and "t4^T" not in out, out
