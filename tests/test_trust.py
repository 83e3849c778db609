"""Trust: the numerical check catches wrong results; --expect, eval and solve."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from derivations import derivation
from matdiff_cli.expect import compare
from matdiff_cli.trust import numeric_check


def tampered(der, wrong_text):
    """The same derivation with a wrong result put in its place."""
    der.result = der.problem.parse(wrong_text) if "d" + der.var.name not in wrong_text else \
        _with_direction(der, wrong_text)
    return der


def _with_direction(der, text):
    from matdiff_cli.expect import parse_claim
    return parse_claim(der, text)


# ---------------------------------------------------------------- check catches mistakes

def test_check_passes_a_right_gradient_and_reports_seed_and_trials():
    result = numeric_check(derivation("tr(X^T A X B)", "X"), seed=7)
    assert result.passed and result.trials == 5 and result.seed == 7
    assert result.max_rel_error < 1e-6


def test_check_catches_a_wrong_gradient():
    # the classic slip: 2 A X B without symmetric A and B
    der = tampered(derivation("tr(X^T A X B)", "X"), "2 A X B")
    result = numeric_check(der, seed=1)
    assert not result.passed
    failure = result.to_json()["failure"]
    assert failure["trial"] == 1 and "X" in failure["point"] and failure["direction"]


def test_check_catches_a_wrong_jacobian():
    der = tampered(derivation("sigmoid(W x)", "x", "jac"), "diag(sigmoid(W x)) W")
    assert not numeric_check(der, seed=2).passed


def test_check_catches_a_wrong_hessian_operator():
    # seed 001's slip: A dX B instead of 2 A dX B
    der = derivation("tr(X^T A X B)", "X", "hess", ["A: n x n symmetric", "B: m x m symmetric"])
    assert numeric_check(der, seed=3).passed
    assert not numeric_check(tampered(der, "A dX B"), seed=3).passed


def test_check_catches_a_wrong_hessian_matrix():
    der = derivation("x^T A x", "x", "hess")
    assert numeric_check(der, seed=4).passed
    assert not numeric_check(tampered(der, "2 A"), seed=4).passed


def test_the_same_seed_gives_the_same_verdict():
    der = tampered(derivation("tr(X^T A X B)", "X"), "2 A X B")
    a, b = numeric_check(der, seed=11), numeric_check(der, seed=11)
    assert a.to_json() == b.to_json()


# ---------------------------------------------------------------- --expect

def test_expect_equal_symbolically():
    der = derivation("tr(X^T A X B)", "X", declare=["A: n x n symmetric", "B: m x m symmetric"])
    cmp = compare(der, "2 A X B")
    assert cmp.equal and cmp.how == "symbolically"


def test_expect_equal_numerically():
    der = derivation("x^T x", "x")
    cmp = compare(der, "x + x^T^T", seed=0)   # not the canonical spelling, same value
    assert cmp.equal
    cmp = compare(derivation("tr(X^T X)", "X"), "X + (X^T)^T")
    assert cmp.equal


def test_expect_differs_with_a_counterexample_and_the_symmetry_hint():
    der = derivation("tr(X^T A X B)", "X")
    cmp = compare(der, "2 A X B", seed=5)
    assert not cmp.equal and cmp.counterexample
    assert "A, B are symmetric" in cmp.hint and "A: n x n symmetric" in cmp.hint


def test_expect_for_an_operator_uses_dX():
    der = derivation("tr(X^T A X B)", "X", "hess", ["A: n x n symmetric", "B: m x m symmetric"])
    assert compare(der, "2 A dX B").equal
    assert not compare(der, "A dX B", seed=0).equal


# ---------------------------------------------------------------- the command line

def matdiff(*args, stdin=None):
    p = subprocess.run([sys.executable, "-m", "matdiff_cli", *args], capture_output=True,
                       text=True, input=stdin, timeout=120)
    return p.returncode, p.stdout, p.stderr


SEED_X = "[[1,-2,4],[1,0,0],[1,1,1],[1,3,9],[1,4,16]]"
SEED_Y = "[1,3,3,2,0]"


def test_cli_expect_exit_codes():
    code, out, _ = matdiff("grad", "tr(X^T A X B)", "--wrt", "X", "--expect", "2 A X B",
                           "--format", "json", "--seed", "1")
    obj = json.loads(out)
    assert code == 1 and obj["expect"]["equal"] is False and not obj["ok"]
    code, out, _ = matdiff("grad", "tr(X^T A X B)", "--wrt", "X", "--expect", "2 A X B",
                           "-d", "A: n x n symmetric", "-d", "B: m x m symmetric")
    assert code == 0 and "equal (symbolically)" in out


def test_cli_check_reports_in_json():
    code, out, _ = matdiff("check", "tr(X^T A X B)", "--wrt", "X", "--format", "json",
                           "--seed", "3")
    objs = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [o["result"]["kind"] for o in objs] == ["gradient", "hessian_operator"]
    assert all(o["check"]["passed"] and o["check"]["seed"] == 3 for o in objs)


def test_cli_eval_binds_data_and_checks_shapes():
    code, out, _ = matdiff("eval", "x^T A x", "--let", "x=[1,2]", "--let", "A=[[1,2],[3,4]]")
    assert code == 0 and out.strip() == "27"
    code, _, err = matdiff("eval", "x^T A x", "--let", "x=[1,2,3]", "--let", "A=[[1,2],[3,4]]")
    assert code == 2 and "shape" in err or "dimension" in err
    code, _, err = matdiff("eval", "x^T A x", "--let", "x=[1,2]")
    assert code == 2 and "no value for A" in err


def test_cli_solve_seed_quadratic_fit():
    code, out, _ = matdiff("solve", "||X w - y||^2", "--wrt", "w", "--let", f"X={SEED_X}",
                           "--let", f"y={SEED_Y}", "--format", "json")
    obj = json.loads(out)
    assert code == 0
    assert obj["result"]["solution"]["text"] == "(X^T X)^-1 X^T y"
    assert np.allclose(obj["result"]["value"], [3.0, 0.4394, -0.2879], atol=5e-5)
    assert obj["result"]["classification"] == "minimum"


def test_cli_solve_ridge_and_non_quadratic():
    code, out, _ = matdiff("solve", "||X w - y||^2 + λ ||w||^2", "--wrt", "w")
    assert code == 0 and out.splitlines()[1] == "(X^T X + λ I)^-1 X^T y"
    assert out.splitlines()[0] == "X: n x m; w: m; y: n; λ: scalar  # inferred"
    code, out, _ = matdiff("solve", "||X w - y||^2 + λ ||w||^2", "--wrt", "w",
                           "--let", f"X={SEED_X}", "--let", f"y={SEED_Y}", "--let", "λ=0.5",
                           "--format", "json")
    obj = json.loads(out)
    X, y = np.array(json.loads(SEED_X), float), np.array(json.loads(SEED_Y), float)
    expected = np.linalg.solve(X.T @ X + 0.5 * np.eye(3), X.T @ y)
    assert code == 0 and np.allclose(obj["result"]["value"], expected)
    code, _, err = matdiff("solve", "sum(exp(w)) + w^T w", "--wrt", "w")
    assert code == 3 and "not quadratic" in err


def test_cli_solve_classifies_a_maximum_and_a_saddle():
    code, out, _ = matdiff("solve", "--wrt", "x", "--format", "json", "--", "-(x^T x) + b^T x")
    assert json.loads(out)["result"]["classification"] == "maximum"
    code, out, _ = matdiff("solve", "x^T A x + b^T x", "--wrt", "x", "--let",
                           "A=[[1,0],[0,-1]]", "--let", "b=[1,1]", "--format", "json")
    assert json.loads(out)["result"]["classification"] == "saddle"


def test_check_at_the_bound_data():
    code, out, _ = matdiff("check", "tr(X^T A X B)", "--wrt", "X", "--let", "X=[[1,2],[3,4],[5,6]]",
                           "--seed", "4", "--format", "json")
    objs = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and all(o["check"]["passed"] for o in objs)
    # the data fixes n = 3 and m = 2, and the point: X is the given matrix in every trial
    tampered_der = tampered(derivation("tr(X^T A X B)", "X"), "2 A X B")
    result = numeric_check(tampered_der, seed=4, bindings={"X": [[1, 2], [3, 4], [5, 6]]})
    assert not result.passed
    assert result.failure["point"]["X"] == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
