"""The differentiation engine: named identities, numeric oracles, canonical forms.

Every symbolic result here is also checked against central finite differences
at random points (sizes drawn from 2..6, declared properties respected).
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from budget import examples
from cookbook import GRADIENTS
from matdiff_cli.commands import Options
from matdiff_cli.derivatives import derive
from matdiff_cli.document import parse
from matdiff_cli.errors import MatdiffError
from matdiff_cli.render.text import to_text
from matdiff_cli.simplify import present
from matdiff_cli.trust import numeric_check
from strategies import expressions


def run(src, wrt, command="grad", declare=(), layout="numerator", vec=False):
    problem = parse(src, declare=list(declare))
    return derive(problem, problem.symbols[wrt], command, Options(layout=layout, vec=vec))


def text(der, which="result"):
    return to_text(present(getattr(der, which)))


def assert_checked(der, seed=0):
    result = numeric_check(der, seed=seed)
    assert result.passed, result.summary()
    return result


# ---------------------------------------------------------------- Matrix Cookbook

@pytest.mark.parametrize("name, declare, src, wrt, expected", GRADIENTS,
                         ids=[g[0] for g in GRADIENTS])
def test_cookbook_gradient(name, declare, src, wrt, expected):
    der = run(src, wrt, declare=declare)
    assert text(der) == expected
    assert_checked(der)


def test_cookbook_has_sixty_identities():
    assert len(GRADIENTS) >= 60


# ---------------------------------------------------------------- SPEC §4 and the seeds

SPEC_EXAMPLES = [
    # (name, command, src, wrt, declarations, expected)
    ("seed000_xTx", "grad", "x^T x", "x", [], "2 x"),
    ("seed000_least_squares", "grad", "||A x - b||^2", "x", [], "2 A^T (A x - b)"),
    ("seed000_least_squares_A", "grad", "||A x - b||^2", "A", [], "2 (A x - b) x^T"),
    ("seed000_tr_A2", "grad", "tr(A^2)", "A", [], "2 A^T"),
    ("seed000_inverse", "jac", "inv(A)", "A", [], "-A^-1 dA A^-1"),
    ("seed000_sigmoid_jacobian", "jac", "sigmoid(W x - b)", "x", [],
     "diag(sigmoid(W x - b) .* (1 - sigmoid(W x - b))) W"),
    ("seed001_xTAx_symmetric", "grad", "x^T A x", "x", ["A: n x n symmetric"], "2 A x"),
    ("seed001_xTAx_differential", "diff", "x^T A x", "x", ["A: n x n symmetric"],
     "2 x^T A dx"),
    ("seed001_tr_XtAXB", "grad", "tr(X^T A X B)", "X",
     ["A: n x n symmetric", "B: m x m symmetric"], "2 A X B"),
    ("seed001_tr_XtAXB_differential", "diff", "tr(X^T A X B)", "X",
     ["A: n x n symmetric", "B: m x m symmetric"], "2 tr(B X^T A dX)"),
    # seed 001 writes H[H] = A H B; the mathematics (and SPEC §2) say 2 A dX B
    ("seed001_hessian_operator_factor_two", "hess", "tr(X^T A X B)", "X",
     ["A: n x n symmetric", "B: m x m symmetric"], "2 A dX B"),
    ("seed001_least_squares_hessian", "hess", "||X w - y||^2", "w", [], "2 X^T X"),
    ("seed001_inverse_operator", "jac", "inv(A)", "A", [], "-A^-1 dA A^-1"),
    ("seed001_Ax_jacobian", "jac", "A x", "x", [], "A"),
    ("seed001_Ax_wrt_A_operator", "jac", "A x", "A", [], "dA x"),
    ("seed001_AtA_operator", "jac", "A^T A", "A", [], "A^T dA + dA^T A"),
    ("seed001_det_differential", "diff", "det(A)", "A", [], "det(A) tr(A^-1 dA)"),
    ("seed001_tr_XtAXB_first_derivative", "diff", "tr(X^T A X B)", "X",
     ["A: n x n symmetric", "B: m x m symmetric"], "2 tr(B X^T A dX)"),
    ("seed002_RtR_operator", "jac", "R^T R", "R", [], "R^T dR + dR^T R"),
    ("seed002_xTa", "grad", "x^T a", "x", [], "a"),
    ("seed001_det", "grad", "det(A)", "A", [], "det(A) A^-T"),
    ("seed002_aTXb", "grad", "a^T X b", "X", [], "a b^T"),
    ("seed002_xTBx", "grad", "x^T B x", "x", [], "(B + B^T) x"),
    ("seed002_quadratic_s", "grad", "(x - A s)^T W (x - A s)", "s", ["W: n x n symmetric"],
     "-2 A^T W (x - A s)"),
    ("seed002_Ax_jacobian", "jac", "A x", "x", [], "A"),
    ("seed002_least_squares_theta", "grad", "||y - Phi theta||^2", "theta", ["theta: d"],
     "-2 Phi^T (y - Phi theta)"),
    ("spec_xTAx", "grad", "x^T A x", "x", [], "(A + A^T) x"),
    ("spec_xTAx_hessian", "hess", "x^T A x", "x", [], "A + A^T"),
    ("spec_xTAx_hessian_symmetric", "hess", "x^T A x", "x", ["A: n x n symmetric"], "2 A"),
    ("spec_least_squares_hessian", "hess", "||A x - b||^2", "x", [], "2 A^T A"),
    ("spec_tr_XtAXB", "grad", "tr(X^T A X B)", "X", [], "A X B + A^T X B^T"),
    # the number or scalar of c ones(n, k) in a product comes out: -ones(n, k) C^T,
    # not (-1 ones(n, k)) C^T
    ("scaled_ones_minus", "grad", "sum(-A C)", "A", [], "-ones(n, k) C^T"),
    ("scaled_ones_number", "grad", "sum(-3 A C)", "A", [], "-3 ones(n, k) C^T"),
    ("scaled_ones_scalar", "grad", "sum(alpha A C)", "A", [], "alpha ones(n, k) C^T"),
    ("scaled_ones_hadamard", "grad", "sum(B .* -A (C))", "A", [], "-(B .* (ones(n, k) C^T))"),
]


@pytest.mark.parametrize("name, command, src, wrt, declare, expected", SPEC_EXAMPLES,
                         ids=[e[0] for e in SPEC_EXAMPLES])
def test_worked_example(name, command, src, wrt, declare, expected):
    der = run(src, wrt, command, declare)
    assert text(der) == expected
    assert_checked(der)


def test_mlp_gradient_is_written_with_the_layer_definitions():
    doc = """
    phi0: n0; y: n3; W1: n0 x n1; W2: n1 x n2; W3: n2 x n3
    phi1 = sigmoid(W1^T phi0)
    phi2 = sigmoid(W2^T phi1)
    phi3 = sigmoid(W3^T phi2)
    E = ||phi3 - y||^2
    E
    """
    from matdiff_cli.derivative_report import DerivativeReport
    from matdiff_cli.document import read_document

    problem = [p for p in read_document(doc) if not isinstance(p, Exception)][-1]
    der = derive(problem, problem.symbols["W1"], "grad", Options())
    out = DerivativeReport(der).to_text()
    assert "phi1 .* (1 - phi1)" in out and "phi3" in out
    assert "sigmoid" not in out.splitlines()[-1]
    assert_checked(der)


# ---------------------------------------------------------------- Jacobians, Hessians, --vec

JACOBIANS = [
    ("jac_linear", "A x + b", "x", [], "A"),
    ("jac_elementwise", "exp(x)", "x", [], "diag(exp(x))"),
    ("jac_softmax", "softmax(x)", "x", [], "diag(softmax(x)) - softmax(x) softmax(x)^T"),
    ("jac_scalar_row", "x^T A x", "x", [], "x^T (A + A^T)"),
    ("jac_tanh_layer", "tanh(W x)", "x", [], "diag(1 - tanh(W x).^2) W"),
    ("jac_hadamard", "a .* x", "x", [], "diag(a)"),
]


@pytest.mark.parametrize("name, src, wrt, declare, expected", JACOBIANS,
                         ids=[j[0] for j in JACOBIANS])
def test_jacobian(name, src, wrt, declare, expected):
    der = run(src, wrt, "jac", declare)
    assert text(der) == expected
    assert_checked(der)


def test_denominator_layout_is_the_transpose():
    der = run("A x + b", "x", "jac", layout="denominator")
    assert text(der) == "A^T"
    assert_checked(der)


def test_vec_form_of_an_operator():
    der = run("A X B", "X", "jac", vec=True)
    assert to_text(present(der.vec)) == "kron(B^T, A)"


def test_vec_form_of_a_transpose_uses_the_commutation_matrix():
    der = run("X^T", "X", "jac", declare=["X: n x m"], vec=True)
    assert to_text(present(der.vec)) == "commutation(n, m)"


def test_hessian_operator_vec_form():
    der = run("tr(X^T A X B)", "X", "hess", ["A: n x n symmetric", "B: m x m symmetric"],
              vec=True)
    assert to_text(present(der.vec)) == "2 kron(B, A)"


HESSIANS = [
    ("hess_logdet", "logdet(X)", "X", [], "-X^-T dX^T X^-T"),
    ("hess_scalar", "sin(alpha) alpha", "alpha", ["alpha: scalar"], None),
    ("hess_softplus", "sum(softplus(W x))", "x", [], None),
    ("hess_logsumexp", "logsumexp(x)", "x", [], None),
    ("hess_norm", "||x||", "x", [], None),
    ("hess_inverse_trace", "tr(inv(X))", "X", [], None),
    ("hess_user_function", "f(t) := t^3 + sin(t); sum(f(W x))", "x", [], None),
    ("hess_lambda_max", "lambda_max(A)", "A", ["A: n x n symmetric"],
     "pinv(lambda_max(A) I - A) dA eigvec_max(A) eigvec_max(A)^T + eigvec_max(A) eigvec_max(A)^T"
     " dA pinv(lambda_max(A) I - A)"),
    ("hess_lambda_min_spd", "lambda_min(A)", "A", ["A: n x n spd"],
     "pinv(lambda_min(A) I - A) dA eigvec_min(A) eigvec_min(A)^T + eigvec_min(A) eigvec_min(A)^T"
     " dA pinv(lambda_min(A) I - A)"),
    ("hess_lambda_max_pencil", "lambda_max(A + t B)", "t", ["A, B: n x n symmetric", "t: scalar"],
     "2 eigvec_max(A + t B)^T B pinv(lambda_max(A + t B) I - (A + t B)) B eigvec_max(A + t B)"),
    ("hess_lambda_max_gram", "lambda_max(X^T X)", "X", [], None),
    ("hess_eigvals_sum_exp", "sum(exp(eigvals(A)))", "A", ["A: n x n symmetric"], None),
    ("hess_eigvals_logsumexp", "logsumexp(eigvals(X^T X))", "X", [], None),
    ("hess_pnorm_1_5", "||x||_1.5", "x", [], None),
    ("hess_pnorm_2_5", "||A x - b||_2.5", "x", [], None),
    ("hess_pnorm_3", "||x||_3", "x", [], None),
]


@pytest.mark.parametrize("name, src, wrt, declare, expected", HESSIANS,
                         ids=[h[0] for h in HESSIANS])
def test_hessian(name, src, wrt, declare, expected):
    der = run(src, wrt, "hess", declare)
    if expected is not None:
        assert text(der) == expected
    assert_checked(der)


# ---------------------------------------------------------------- every rule, numerically

RULE_CASES = [
    "tr(A X)", "sum(X .* X)", "sum(X ./ (1 + X .* X))", "sum(diag(x) A)",
    "sum(diag(X))", "sum(vec(x) .* vec(x))", "1/2 ||x||^2", "||x|| / 3", "||X||_F",
    "det(X)", "logdet(X^T X)", "tr(X^3)", "tr(inv(X) A)", "sum(exp(x) + log(1 + x .* x))",
    "sum(sin(x) .* cos(x))", "sum(tanh(x))", "sum(sigmoid(x))", "sum(relu(x))",
    "sum(softplus(x))", "sum(sqrt(1 + x .* x))", "sum(abs(x))", "logsumexp(A x)",
    "y^T softmax(A x)", "sum(x.^3)", "(x^T x)^(1/2)", "sum(X)^2", "tr(X)^-1",
    "alpha^3 + sin(alpha)", "x^T (alpha I + A) x", "sum(1 + exp(x))",
]


@pytest.mark.parametrize("src", RULE_CASES)
def test_rule_gradient_matches_finite_differences(src):
    problem = parse(src)
    for var in problem.symbols.values():
        der = derive(problem, var, "grad", Options())
        assert_checked(der, seed=1)


@pytest.mark.parametrize("src, prop", [
    ("tr(X^T A X)", "symmetric"), ("logdet(X)", "spd"), ("tr(A X)", "diagonal"),
    ("tr(X^T A X B)", "orthogonal"), ("x^T X x", "symmetric"), ("tr(A inv(X))", "spd"),
])
def test_gradient_respects_declared_properties(src, prop):
    problem = parse(src, declare=[f"X: n x n {prop}"])
    der = derive(problem, problem.symbols["X"], "grad", Options())
    assert_checked(der, seed=2)
    if prop in ("symmetric", "spd"):
        # the gradient lives in the symmetric matrices
        from matdiff_cli.simplify import simplify
        from matdiff_cli.expr import Transpose
        assert simplify(Transpose(der.result)) is der.result


def test_symmetric_gradient_is_sym_of_the_unconstrained_one():
    der = run("a^T X b", "X", declare=["X: n x n symmetric"])
    assert text(der) == "0.5 (a b^T + b a^T)"


# ---------------------------------------------------------------- what cannot be written

@pytest.mark.parametrize("src, wrt", [("sum(kron(A, X) B)", "X")])
def test_inexpressible_gradient_is_refused(src, wrt):
    with pytest.raises(MatdiffError) as info:
        run(src, wrt)
    assert info.value.exit_code == 3


def test_gradient_of_a_non_scalar_is_a_usage_error():
    with pytest.raises(MatdiffError) as info:
        run("A x", "x")
    assert info.value.exit_code == 2 and "jac" in info.value.hint


# ---------------------------------------------------------------- steps

def test_steps_follow_the_rules_and_end_in_the_result():
    problem = parse("tr(X^T A X B)")
    opts = Options(steps=True)
    der = derive(problem, problem.symbols["X"], "grad", opts)
    rules = [s.rule for s in der.steps]
    assert rules[0] == "trace" and "product rule" in rules
    assert "dX" in to_text(der.steps[-1].expr)


@pytest.mark.parametrize("src", [
    "kron(A, X)", "X^T X", "inv(X)", "X .* X", "vec(X)", "diag(x)", "diag(X)", "softmax(x)",
    "X^3", "exp(X) ./ (1 + X .* X)", "X / tr(X)", "sum(X) X", "A X^T B", "x x^T",
])
def test_operator_matches_finite_differences(src):
    problem = parse(src)
    var = next(iter(problem.symbols.values()))
    for command in ("jac", "diff"):
        der = derive(problem, var, command, Options())
        assert_checked(der, seed=3)


def test_hessian_steps_go_through_the_gradient():
    problem = parse("x^T A x")
    opts = Options(steps=True)
    der = derive(problem, problem.symbols["x"], "hess", opts)
    rules = [s.rule for s in der.steps]
    assert "gradient" in rules
    assert to_text(present(der.steps[rules.index("gradient")].expr)) == "(A + A^T) x"
    assert to_text(present(der.steps[-1].expr)) == "(A + A^T) dx"


def test_user_function_derivatives_are_shown():
    from matdiff_cli.derivative_report import DerivativeReport
    from matdiff_cli.document import read_document

    (problem,) = read_document("f(t) := t^3 + sin(t); sum(f(W x))")
    report = DerivativeReport(derive(problem, problem.symbols["x"], "grad", Options()))
    assert report.to_text().splitlines() == ["W: n x m; x: m  # inferred", "f(t) := t^3 + sin(t)",
                                             "W^T f'(W x)", "# where f'(t) = 3 t^2 + cos(t)"]
    assert report.to_json()["functions"] == {"f'": "3 t^2 + cos(t)"}


def test_trace_of_the_diagonal():
    der = run("sum(diag(X))", "X")
    assert text(der) == "eye(n)"  # alone, I would not say its size
    assert_checked(der)


@settings(max_examples=examples(150), deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(expressions(depth=3, diffs=False), st.integers(1, 3))
def test_a_printed_sum_opens_with_a_term_that_is_not_negative(e, c):
    # 1 - σ(s), never -σ(s) + 1, wherever a sum has a term that is not negative
    from matdiff_cli.expr import SCALAR, Add, Broadcast, Mul, Num, walk
    from matdiff_cli.simplify import simplify, split_coef
    one = Num(c) if e.shape == SCALAR else Broadcast(Num(c), e.shape)
    for node in walk(present(simplify(Add(one, Mul(Num(-1), e))))):
        if isinstance(node, Add) and split_coef(node.terms[0])[0] < 0:
            assert all(split_coef(t)[0] < 0 for t in node.terms), node
