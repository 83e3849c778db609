"""Gradients through vec and kron, Jacobians through diag (issue 11 §3): exact
canonical text, finite differences, and errors in the user's words."""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from budget import examples
from matdiff_cli.commands import Options
from matdiff_cli.derivatives import derive
from matdiff_cli.document import Problem, parse
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import Kron, Mul, Sum, Trace, Transpose, Vec, symbols
from matdiff_cli.trust import numeric_check
from strategies import expressions


def bare(expr):
    """A problem made of an expression alone."""
    return Problem.of(expr)

SHAPES = ["X: 2 x 3", "Y: 2 x 3", "B: 4 x 5", "A: 4 x 2", "C: 5 x 3", "u: 3", "v: 2",
          "P: 3 x 3", "Q: 2 x 2", "E: 2 x 4", "F: 3 x 5", "S: 3 x 3"]

ROWS = [
    # Matrix Cookbook 105: tr(A ⊗ X) = tr(A) tr(X)
    ("grad", "tr(kron(A, X))", "X", ["A: n x n", "X: m x m"], "tr(A) eye(m)"),
    ("grad", "tr(kron(X, A))", "X", ["A: n x n", "X: m x m"], "tr(A) eye(m)"),
    ("grad", "sum(vec(X))", "X", [], "ones(n, m)"),
    ("grad", "sum(vec(X) .* vec(X))", "X", [], "2 X"),
    ("grad", "vec(X)^T vec(Y)", "X", [], "Y"),
    ("grad", "vec(X)^T kron(u, v)", "X", SHAPES, "v u^T"),
    ("grad", "vec(X)^T kron(P, Q) vec(Y)", "X", SHAPES, "Q Y P^T"),
    ("grad", "vec(A)^T (X ⊗ B) vec(C)", "X", SHAPES, "A^T B C"),
    ("grad", "vec(E)^T (B ⊗ X) vec(F)", "X", SHAPES, "E B F^T"),
    ("grad", "tr(kron(A, X) kron(B, C))", "X", ["A, B: n x n", "X, C: m x m"], "tr(A B) C^T"),
    ("grad", "sum(kron(A, X))", "X", [], "sum(A) ones(k, p)"),
    # a general vector reaches vec(X): its reshape unvec(g, n, m), vec's inverse
    ("grad", "vec(X)^T a", "X", [], "unvec(a, n, m)"),
    ("grad", "vec(X)^T A vec(X)", "X", [], "unvec((A + A^T) vec(X), n, m)"),
    ("grad", "a^T (X ⊗ B) c", "X", [], "unvec(a, m, n)^T B unvec(c, p, k)"),
    ("grad", "a^T (B ⊗ X) c", "X", [], "unvec(a, m, n) B unvec(c, p, k)^T"),
    ("grad", "vec(X)^T (a + A vec(X^T))", "X", ["X: 2 x 3"],
     "unvec(A^T vec(X), 3, 2)^T + unvec(A vec(X^T) + a, 2, 3)"),
    ("grad", "sum(unvec(a, n, m) .* X)", "X", [], "unvec(a, n, m)"),
    ("grad", "tr(unvec(vec(X), n, m)^T Y)", "X", ["X, Y: n x m"], "Y"),
    ("grad", "u^T unvec(A vec(X), p, q) v", "X", [], "unvec(A^T vec(u v^T), n, m)"),
    ("jac", "unvec(x, 2, 3)", "x", [], "unvec(dx, 2, 3)"),
    ("grad", "tr(kron(S, X^T X))", "X", SHAPES, "2 tr(S) X"),
    ("jac", "diag(x) A y", "x", [], "diag(A y)"),
    ("jac", "diag(A diag(x))", "x", [], "diag(diag(A))"),
    ("jac", "diag(A diag(x) B)", "x", [], "A .* B^T"),
    ("jac", "a^T diag(x) B", "x", [], "B^T diag(a)"),
    ("jac", "2 diag(x) y + x", "x", [], "I + 2 diag(y)"),
    ("jac", "exp(diag(x) A y)", "x", [], "diag(exp(diag(x) A y)) diag(A y)"),
    ("hess", "y^T diag(x) A x", "x", [], "A^T diag(y) + diag(y) A"),
]


@pytest.mark.parametrize("command,src,wrt,decls,text", ROWS)
def test_vec_kron_diag_rows(command, src, wrt, decls, text):
    from matdiff_cli.derivative_report import DerivativeReport

    problem = parse(src, decls)
    der = derive(problem, problem.symbols[wrt], command, Options())
    if text is not None:
        assert DerivativeReport(der).to_json()["result"]["text"] == text
    result = numeric_check(der, seed=1)
    assert result.passed, result.summary()


# the diagonal of a matrix through the diagonal selection matrix (1^T ⊗ I) diag(vec(I))
VEC_DIAG = [
    ("diag(X)", "X", ["X: n x n"], "kron(ones(1, n), I) diag(vec(I))"),
    ("diag(A X B)", "X", [], "kron(ones(1, n), I) diag(vec(I)) kron(B^T, A)"),
    ("eigvals(S)", "S", ["S: n x n symmetric"],
     "kron(ones(1, n), I) diag(vec(I)) kron(eigvecs(S)^T, eigvecs(S)^T)"),
    ("svdvals(X)", "X", ["X: n x n"],
     "kron(ones(1, n), I) diag(vec(I)) kron(svd_v(X)^T, svd_u(X)^T)"),
    ("exp(diag(X^T X))", "X", ["X: 3 x 2"], None),
]


@pytest.mark.parametrize("src, wrt, decls, text", VEC_DIAG)
def test_the_jacobian_matrix_of_a_matrix_diagonal(src, wrt, decls, text):
    from matdiff_cli.derivative_report import DerivativeReport
    from matdiff_cli.render.text import to_text

    problem = parse(src, decls)
    der = derive(problem, problem.symbols[wrt], "jac", Options(vec=True))
    if text is not None:
        assert to_text(DerivativeReport(der).shown_vec) == text
    result = numeric_check(der, seed=2)
    assert result.passed, result.summary()


@pytest.mark.parametrize("src, wrt, decls", [("diag(A X B)", "X", []),
                                             ("X x", "X", []), ("A X^T B", "X", [])])
def test_the_check_of_jac_vec_checks_the_matrix_it_prints(src, wrt, decls):
    """--check --vec compares the printed J vec(D) with finite differences as well
    as the operator: a wrong J (here scaled) fails, though the operator is right."""
    from matdiff_cli.build import mul
    from matdiff_cli.expr import Num

    problem = parse(src, decls)
    der = derive(problem, problem.symbols[wrt], "jac", Options(vec=True))
    assert numeric_check(der, seed=3).passed
    der.vec = mul(Num(2), der.vec)
    assert not numeric_check(der, seed=3).passed


INTERNAL = re.compile(r"\b(DiagM|DiagV|EPow|EDiv|LogDet|LogSumExp|NormF|Norm2|Hadamard|Kron|"
                      r"Broadcast|Commutation|Softmax|Func|Vec|Mul|Add|Sym|Num)\b")


@pytest.mark.parametrize("command,src,wrt,words", [
    ("grad", "sum(kron(A, X) B)", "X", "Kronecker"),
    ("jac", "diag(x) A", "x", "diag(x) of a vector"),
])
def test_what_cannot_be_written_says_so_in_the_users_words(command, src, wrt, words):
    problem = parse(src)
    options = Options(vec=True)
    with pytest.raises(MatdiffError) as info:
        der = derive(problem, problem.symbols[wrt], command, options)
        if command == "jac" and der.vec is None and der.kind == "operator":
            raise AssertionError("the operator has no --vec matrix and no error")
    assert info.value.exit_code == 3 and words in info.value.message
    assert not INTERNAL.search(info.value.message), info.value.message


def _kron_vec_problems():
    """Scalars that reach the variables through vec and kron: vec(e1)^T vec(e2),
    vec(e1)^T (P ⊗ Q) vec(e2), tr(e3 ⊗ e4), sum(e1 ⊗ e2)."""
    nm = expressions(shape=("n", "m"), depth=2, diffs=False)
    nn = expressions(shape=("n", "n"), depth=2, diffs=False)
    mm = expressions(shape=("m", "m"), depth=2, diffs=False)
    from matdiff_cli.expr import Sym

    P, Q = Sym("B", ("m", "m")), Sym("A", ("n", "n"))
    C = Sym("C", ("m*n", "m*n"))
    a, c = Sym("a", ("m*n", 1)), Sym("c", ("m*m", 1))
    return st.one_of(
        st.tuples(nm, nm).map(lambda t: Mul(Transpose(Vec(t[0])), Vec(t[1]))),
        st.tuples(nm, nm).map(lambda t: Mul(Transpose(Vec(t[0])), Kron(P, Q), Vec(t[1]))),
        st.tuples(nn, mm).map(lambda t: Trace(Kron(t[0], t[1]))),
        st.tuples(nm, nm).map(lambda t: Sum(Kron(t[0], t[1]))),
        # general vectors meet vec(X) (their gradient is an unvec): vec(e1)^T C vec(e2),
        # a^T (e1 ⊗ B) c
        st.tuples(nm, nm).map(lambda t: Mul(Transpose(Vec(t[0])), C, Vec(t[1]))),
        nm.map(lambda e: Mul(Transpose(a), Kron(e, P), c)),
    )


@settings(max_examples=examples(30), derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(_kron_vec_problems(), st.data())
def test_random_gradients_through_vec_and_kron(expr, data):
    """Each is written and matches finite differences, or is refused (exit 3) in words."""
    syms = symbols(expr)
    assume(syms)
    var = data.draw(st.sampled_from(syms), label="variable")
    try:
        der = derive(bare(expr), var, "grad", Options())
    except MatdiffError as exc:
        assert exc.exit_code == 3 and not INTERNAL.search(exc.message), exc.message
        assume(False)
    try:
        result = numeric_check(der, seed=data.draw(st.integers(0, 2**16), label="seed"),
                               trials=2)
    except MatdiffError:
        assume(False)
    assume(not result.inconclusive)
    assert result.passed, f"{expr!r} w.r.t. {var.name}: {result.summary()}"


@settings(max_examples=examples(60), derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(expressions(depth=3, diffs=False), st.data())
def test_refusals_never_name_an_internal_class(expr, data):
    syms = symbols(expr)
    assume(syms)
    var = data.draw(st.sampled_from(syms), label="variable")
    for command in ("grad", "jac", "hess") if expr.shape == (1, 1) else ("jac",):
        try:
            derive(bare(expr), var, command, Options(vec=True))
        except MatdiffError as exc:
            assert not INTERNAL.search(exc.message), exc.message


WRAPPERS = ["{} + M", "{}^T", "exp({})", "{} .* M", "M {}", "{} M", "inv({} + 3 I)",
            "diag({})", "{} y", "y^T {}", "tr({})", "diag(M {})", "({})^2"]


@settings(max_examples=examples(40), derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(WRAPPERS), min_size=1, max_size=3), st.sampled_from(["jac", "hess"]))
def test_diag_of_a_vector_under_any_parent(wrappers, command):
    """diag(x) inside any operation: a Jacobian (or Hessian) matrix that matches finite
    differences, or a refusal in words (exit 3); never an internal error."""
    src = "diag(x)"
    for w in wrappers:
        src = w.format(src)
    try:
        problem = parse(src if command == "jac" else f"sum({src})", ["x, y: n", "M: n x n"])
    except MatdiffError:
        assume(False)
    try:
        der = derive(problem, problem.symbols["x"], command, Options(vec=True))
    except MatdiffError as exc:
        assert exc.exit_code == 3 and not INTERNAL.search(exc.message), exc.message
        return
    result = numeric_check(der, seed=3, trials=2)
    assert result.passed or result.inconclusive, (src, result.summary())


# --------------------------------------------------------------------------- unvec
UNVEC_EXAMPLES = [
    ("vec(X)^T a", ["X: 2 x 3"], "unvec(a, 2, 3)"),
    ("vec(X)^T A vec(X)", ["X: 2 x 3"], "unvec((A + A^T) vec(X), 2, 3)"),
    ("a^T (X ⊗ B) c", ["X: 2 x 3", "B: 4 x 5"], "unvec(a, 4, 2)^T B unvec(c, 5, 3)"),
]


def test_unvec_is_vecs_inverse_column_major():
    import numpy as np
    from click.testing import CliRunner
    from matdiff_cli.cli import cli

    out = CliRunner().invoke(cli, ["eval", "unvec(a, 2, 3)", "--let", "a=[[1],[2],[3],[4],[5],[6]]",
                                   "--format", "json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    v = np.arange(1.0, 7.0).reshape(-1, 1)
    assert np.array_equal(np.array(json.loads(out.output)["value"]),
                          v.reshape((2, 3), order="F"))


@pytest.mark.parametrize("src,decls,text", UNVEC_EXAMPLES)
def test_unvec_gradient_reads_back_with_eval_and_runs_as_numpy(src, decls, text):
    """The gradient's text, read back by `matdiff eval`, and its generated NumPy code,
    both equal the engine's value, which matches finite differences."""
    import numpy as np
    from click.testing import CliRunner
    from matdiff_cli.cli import cli
    from matdiff_cli.codegen import generate
    from matdiff_cli.derivative_report import DerivativeReport
    from matdiff_cli.numeric import directional_derivative, evaluate, sample_values

    problem = parse(src, decls)
    X = problem.symbols["X"]
    der = derive(problem, X, "grad", Options())
    assert DerivativeReport(der).to_json()["result"]["text"] == text
    rng = np.random.default_rng(7)
    values, sizes = sample_values([problem.expr], rng)
    grad = evaluate(der.result, values, sizes)
    d = rng.standard_normal(grad.shape)
    fd = directional_derivative(problem.expr, values, "X", d, sizes=sizes)
    assert abs(fd - np.sum(grad * d)) < 1e-6 * (1 + abs(fd))
    used = {s.name for s in symbols(der.result)}
    lets = [arg for name, val in values.items() if name in used
            for arg in ("--let", f"{name}={json.dumps(np.asarray(val).tolist())}")]
    decl = [arg for d in decls for arg in ("-d", d)]
    out = CliRunner().invoke(cli, ["eval", text, "--format", "json", *decl, *lets],
                             catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert np.allclose(np.array(json.loads(out.output)["value"]), grad)
    namespace: dict = {}
    exec(compile(generate(problem, [X], "numpy"), "<generated>", "exec"), namespace)
    _, got = namespace["value_and_grad"](**values)
    assert np.allclose(got, grad)
