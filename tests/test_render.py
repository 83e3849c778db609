"""Renderers: text (exact, re-readable), pretty, LaTeX, NumPy.

* tables: one row per node type and renderer;
* snapshots of the key expressions of the seeds;
* text round trip: ``read(to_text(e)) == e`` for random parser trees, with a
  small reference reader of the syntax written from docs/design.md (the real
  parser is tested against the same property in its own tests);
* NumPy: the code of a random expression, run by NumPy, equals ``evaluate``;
* deep and shared expressions: no recursion, time linear in the output.
"""
from __future__ import annotations

import builtins
import contextlib
import re
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import (
    EigVecMax, EigVecMin, LambdaMax, LambdaMin, LeftVecMax, LeftVecMin, Norm1, NormInf,
    OneHotMax,
)
from matdiff_cli.expr import EigVals, EigVecs, Pinv
from matdiff_cli.expr import (
    NormNuc, Polar, SigmaMax, SVecLeftMax, SVecRightMax, SvdU, SvdV, SvdVals,
)
from matdiff_cli.expr import (
    SCALAR, Add, Broadcast, Commutation, Det, DiagM, DiagV, Diff, Div, EDiv, EPow, Func,
    Hadamard, Identity, Inverse, Kron, LogDet, LogSumExp, Mul, Norm2, NormF, Num, Ones,
    Power, Softmax, Sum, Sym, Trace, Transpose, Unvec, Vec, Zeros, walk,
)
from matdiff_cli.numeric import evaluate, relative_error, sample_values
from matdiff_cli.render.latex import latex_name, to_latex
from matdiff_cli.render.numpy import to_numpy, to_numpy_operator
from matdiff_cli.render.numpy.functions import py_name
from matdiff_cli.render.pretty import to_pretty, to_rich_text
from matdiff_cli.render.text import to_text
from budget import examples
from strategies import NODE_TYPES, POOL, expressions

SETTINGS = settings(max_examples=examples(250), deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))

n, m = "n", "m"
A, B = Sym("A", (n, n)), Sym("B", (m, m))
X, W = Sym("X", (n, m)), Sym("W", (n, m))
x, b, y = Sym("x", (m, 1)), Sym("b", (n, 1)), Sym("y", (n, 1))
s, alpha = Sym("s", SCALAR), Sym("alpha", SCALAR)
lam = Sym("lambda", SCALAR)
neg = lambda e: Mul(Num(-1), e)  # noqa: E731


# =========================================================================== tables

TABLE = [
    # node, text, pretty, latex, numpy
    (X, "X", "X", "X", "X"),
    (alpha, "alpha", "α", r"\alpha", "alpha"),
    (lam, "lambda", "λ", r"\lambda", "lambda_"),
    (Sym("W1", (n, m)), "W1", "W1", "W_{1}", "W1"),
    (Sym("x_0", (n, 1)), "x_0", "x_0", "x_{0}", "x_0"),
    (Num(2), "2", "2", "2", "2"),
    (Num(Fraction(1, 2)), "0.5", "0.5", "0.5", "0.5"),
    (Num(Fraction(1, 3)), "1/3", "1/3", r"\frac{1}{3}", "1/3"),
    (Num(Fraction(1, 1000)), "0.001", "0.001", "0.001", "0.001"),
    (Num(-2), "-2", "-2", "-2", "-2"),
    (Add(A, Identity(n)), "A + I", "A + I", "A + I", "A + np.eye(A.shape[0])"),
    (Zeros((n, m)), "zeros(n, m)", "0", r"\mathbf{0}", "np.zeros((A.shape[0], X.shape[1]))"),
    (Ones((n, 1)), "ones(n)", "𝟏", r"\mathbf{1}", "np.ones((A.shape[0], 1))"),
    (Ones((n, m)), "ones(n, m)", "𝟏", r"\mathbf{1}", "np.ones((A.shape[0], X.shape[1]))"),
    (Diff(X), "dX", "dX", r"\mathrm{d}X", "dX"),
    (Commutation(n, m), "commutation(n, m)", "K(n,m)", "K_{n,m}",
     "np.eye(A.shape[0] * X.shape[1])"
     "[np.arange(A.shape[0] * X.shape[1]).reshape(X.shape[1], A.shape[0]).T.ravel()]"),
    (Add(A, neg(A)), "A - A", "A - A", "A - A", "A - A"),
    (Add(s, Num(-2)), "s - 2", "s - 2", "s - 2", "s - 2"),
    (Add(y, Mul(Num(-2), b)), "y - 2 b", "y - 2 b", "y - 2 b", "y - 2 * b"),
    (neg(b), "-b", "-b", "-b", "-b"),
    (Mul(A, X), "A X", "A X", "A X", "A @ X"),
    (Mul(s, A, b), "s A b", "s A b", "s A b", "s * (A @ b)"),
    (Mul(Transpose(b), y, y), "b^T y y", "bᵀ y y", r"b^{\top} y y", "b.T @ y * y"),
    (Mul(Num(Fraction(1, 2)), s), "0.5 s", "0.5 s", "0.5 s", "0.5 * s"),
    (Mul(Num(Fraction(1, 3)), s), "1/3 s", "1/3 s", r"\frac{1}{3} s", "1/3 * s"),
    (Mul(s, Num(Fraction(1, 3))), "s (1/3)", "s (1/3)", r"s \frac{1}{3}", "s * (1/3)"),
    (Mul(Num(-2), A, b), "-2 A b", "-2 A b", "-2 A b", "-2 * (A @ b)"),
    (Mul(A, Mul(A, b)), "A (A b)", "A (A b)", r"A \left(A b\right)", "A @ (A @ b)"),
    (Mul(Mul(A, A), b), "(A A) b", "(A A) b", r"\left(A A\right) b", "A @ A @ b"),
    (Mul(A, Add(b, y)), "A (b + y)", "A (b + y)", r"A \left(b + y\right)", "A @ (b + y)"),
    (Hadamard(b, y), "b .* y", "b ⊙ y", r"b \odot y", "b * y"),
    (Hadamard(Mul(A, b), y), "A b .* y", "A b ⊙ y", r"A b \odot y", "A @ b * y"),
    (Div(b, s), "b / s", "b / s", r"\frac{b}{s}", "b / s"),
    (EDiv(b, y), "b ./ y", "b ⊘ y", r"b \oslash y", "b / y"),
    (Kron(A, B), "kron(A, B)", "A ⊗ B", r"A \otimes B", "np.kron(A, B)"),
    (Add(Broadcast(Num(1), (n, 1)), b), "1 + b", "1 + b", "1 + b", "1 + b"),
    (Broadcast(s, (n, 1)), "s ones(n)", "s 𝟏", r"s \mathbf{1}", "s * np.ones((A.shape[0], 1))"),
    (Power(s, 2), "s^2", "s²", "s^{2}", "s ** 2"),
    (Power(s, -1), "s^-1", "s⁻¹", "s^{-1}", "s ** -1.0"),
    (Power(s, Fraction(1, 2)), "s^0.5", "s^0.5", "s^{0.5}", "s ** 0.5"),
    (Power(A, 3), "A^3", "A³", "A^{3}", "np.linalg.matrix_power(A, 3)"),
    (Power(Norm2(b), 2), "||b||^2", "‖b‖²", r"\|b\|_2^{2}", "np.vdot(b, b)"),
    (EPow(b, 2), "b.^2", "b.^2", r"b^{\circ 2}", "b ** 2"),
    (Func("exp", b), "exp(b)", "exp(b)", r"\exp\left(b\right)", "np.exp(b)"),
    (Func("sigmoid", b), "sigmoid(b)", "σ(b)", r"\sigma\left(b\right)", "np.exp(-np.logaddexp(0, -b))"),
    (Func("relu", b), "relu(b)", "relu(b)", r"\operatorname{relu}\left(b\right)", "np.maximum(b, 0)"),
    (Func("step", b), "step(b)", "step(b)", r"\operatorname{step}\left(b\right)", "np.heaviside(b, 0.0)"),
    (Func("softplus", b), "softplus(b)", "softplus(b)", r"\operatorname{softplus}\left(b\right)",
     "np.logaddexp(0, b)"),
    (Func("sqrt", s), "sqrt(s)", "sqrt(s)", r"\sqrt{s}", "np.sqrt(s)"),
    (Func("abs", s), "abs(s)", "abs(s)", r"\left|s\right|", "np.abs(s)"),
    (Func("f", b, ("t", "t^3 + sin(t)")), "f(b)", "f(b)", r"f\left(b\right)",
     "(lambda t: t**3 + np.sin(t))(b)"),
    (Transpose(X), "X^T", "Xᵀ", r"X^{\top}", "X.T"),
    (Transpose(Add(A, A)), "(A + A)^T", "(A + A)ᵀ", r"\left(A + A\right)^{\top}", "(A + A).T"),
    (Inverse(A), "A^-1", "A⁻¹", "A^{-1}", "np.linalg.inv(A)"),
    (Transpose(Inverse(A)), "A^-T", "A⁻ᵀ", r"A^{-\top}", "np.linalg.inv(A).T"),
    (Trace(A), "tr(A)", "tr(A)", r"\operatorname{tr}\left(A\right)", "np.trace(A)"),
    (Det(A), "det(A)", "det(A)", r"\det\left(A\right)", "np.linalg.det(A)"),
    (LogDet(A), "logdet(A)", "log det(A)", r"\log\det\left(A\right)", "(lambda s: np.log(s[0]) + s[1])(np.linalg.slogdet(A))"),
    (Sum(X), "sum(X)", "sum(X)", r"\operatorname{sum}\left(X\right)", "np.sum(X)"),
    (Norm2(b), "||b||", "‖b‖", r"\|b\|_2", "np.linalg.norm(b)"),
    (NormF(X), "||X||_F", "‖X‖_F", r"\|X\|_F", "np.linalg.norm(X)"),
    (DiagM(b), "diag(b)", "diag(b)", r"\operatorname{diag}\left(b\right)", "np.diagflat(b)"),
    (DiagV(A), "diag(A)", "diag(A)", r"\operatorname{diag}\left(A\right)",
     "np.diag(A).reshape(-1, 1)"),
    (Vec(X), "vec(X)", "vec(X)", r"\operatorname{vec}\left(X\right)", 'X.reshape(-1, 1, order="F")'),
    (Unvec(Mul(Sym("C", ("m*n", "m*n")), Vec(X)), X.shape), "unvec(C vec(X), n, m)",
     "unvec(C vec(X), n, m)",
     r"\operatorname{unvec}\left(C \operatorname{vec}\left(X\right), n, m\right)",
     '(C @ X.reshape(-1, 1, order="F")).reshape((X.shape[0], X.shape[1]), order="F")'),
    (Softmax(b), "softmax(b)", "softmax(b)", r"\operatorname{softmax}\left(b\right)",
     "(lambda u: (lambda e: e / np.sum(e))(np.exp(u - np.max(u))))(b)"),
    (LogSumExp(b), "logsumexp(b)", "logsumexp(b)", r"\operatorname{logsumexp}\left(b\right)",
     "(lambda u: (lambda c: c + np.log(np.sum(np.exp(u - c))))(np.max(u)))(b)"),
]
IDS = [row[1] for row in TABLE]


@pytest.mark.parametrize("node, text, pretty, latex, numpy", TABLE, ids=IDS)
def test_table(node, text, pretty, latex, numpy):
    assert to_text(node) == text
    assert to_pretty(node) == pretty
    assert to_latex(node) == latex
    assert to_numpy(node, bound=[A, X]) == numpy


class _AllSeen(Exception):
    """Every node type has been drawn: the search can stop."""


def test_strategy_covers_every_node_type():
    seen = set()
    wanted = set(NODE_TYPES)

    @settings(max_examples=examples(800), deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(expressions())
    def collect(e):
        seen.update(type(node) for node in walk(e))
        if wanted <= seen:
            raise _AllSeen   # stop at the first draw that completes the set

    with contextlib.suppress(_AllSeen):
        collect()
    assert wanted <= seen, wanted - seen


# =========================================================================== snapshots

KEY = {
    "tr(X^T A X B)": Trace(Mul(Transpose(X), A, X, B)),
    "||A x - b||^2": Power(Norm2(Add(Mul(W, x), neg(b))), 2),
    "det(A) A^-T": Mul(Det(A), Transpose(Inverse(A))),
    "sigmoid(W x - b)": Func("sigmoid", Add(Mul(W, x), neg(b))),
}
SNAPSHOTS = {
    "tr(X^T A X B)": ("tr(X^T A X B)", "tr(Xᵀ A X B)",
                      r"\operatorname{tr}\left(X^{\top} A X B\right)",
                      "np.sum(X.T @ A * (X @ B).T)"),
    "||A x - b||^2": ("||W x - b||^2", "‖W x - b‖²",
                      r"\|W x - b\|_2^{2}", "(lambda u: np.vdot(u, u))(W @ x - b)"),
    "det(A) A^-T": ("det(A) A^-T", "det(A) A⁻ᵀ", r"\det\left(A\right) A^{-\top}",
                    "np.linalg.det(A) * np.linalg.inv(A).T"),
    "sigmoid(W x - b)": ("sigmoid(W x - b)", "σ(W x - b)", r"\sigma\left(W x - b\right)",
                         "np.exp(-np.logaddexp(0, -(W @ x - b)))"),
}


@pytest.mark.parametrize("key", list(KEY))
def test_snapshots(key):
    e = KEY[key]
    assert (to_text(e), to_pretty(e), to_latex(e), to_numpy(e)) == SNAPSHOTS[key]


def test_seed_results():
    """The forms the seeds write by hand."""
    assert to_text(Mul(Num(-1), Inverse(A), Diff(A), Inverse(A))) == "-A^-1 dA A^-1"
    assert to_text(Mul(Num(2), A, X, B)) == "2 A X B"
    assert to_text(Add(Mul(A, X, B), Mul(Transpose(A), X, Transpose(B)))) == "A X B + A^T X B^T"
    assert to_text(Mul(Num(Fraction(1, 2)), Power(Norm2(b), 2))) == "0.5 ||b||^2"
    assert to_latex(Mul(Num(-1), Inverse(A), Diff(A), Inverse(A))) == \
        r"-A^{-1} \mathrm{d}A A^{-1}"
    assert to_pretty(Mul(DiagM(Func("sigmoid", b)), W)) == "diag(σ(b)) W"


# =========================================================================== text details

@pytest.mark.parametrize("node, text", [
    (Mul(Num(-1), Num(2)), "-1 2"),                       # not the number -2
    (Mul(Num(-1), Num(-2)), "-1 (-2)"),
    (Mul(Num(-1), Mul(A, b)), "-A b"),                    # not a parser tree: its value
    (Mul(Num(-1), Mul(Num(2), b)), "-2 b"),
    (Mul(Num(-1), Mul(A, b), Transpose(y)), "-1 (A b) y^T"),
    (Mul(Num(-1), Mul(Num(-2), b)), "-1 (-2 b)"),
    (Add(y, neg(Mul(A, b))), "y - A b"),
    (Add(y, Mul(Num(Fraction(-1, 3)), b)), "y - 1/3 b"),
    (Add(s, Num(Fraction(-1, 3))), "s - 1/3"),
    (Add(neg(b), y), "-b + y"),
    (Add(Add(b, y), y), "(b + y) + y"),
    (Add(b, Add(y, y)), "b + (y + y)"),
    (Add(b, neg(Add(y, y))), "b - (y + y)"),
    (Mul(neg(A), b), "(-A) b"),
    (Mul(A, neg(b)), "A (-b)"),
    (Mul(A, Num(-2)), "A (-2)"),
    (Mul(Num(-2), neg(s)), "-2 (-s)"),
    (Hadamard(neg(b), y), "-b .* y"),
    (neg(Hadamard(b, y)), "-(b .* y)"),
    (Div(neg(b), s), "-b / s"),
    (neg(Div(b, s)), "-(b / s)"),
    (Div(Num(-2), s), "-2 / s"),
    (Div(b, Mul(s, s)), "b / (s s)"),
    (Div(Div(b, s), s), "b / s / s"),
    (Mul(Div(b, s), s), "(b / s) s"),
    (Mul(s, Div(b, s)), "s (b / s)"),
    (Hadamard(Hadamard(b, y), y), "(b .* y) .* y"),
    (Hadamard(b, Hadamard(b, y)), "b .* (b .* y)"),
    (Mul(Hadamard(b, y), s), "(b .* y) s"),
    (Transpose(Transpose(A)), "(A^T)^T"),
    (Inverse(Transpose(A)), "(A^T)^-1"),
    (Power(Num(-2), 2), "(-2)^2"),
    (Power(Num(Fraction(1, 3)), 2), "(1/3)^2"),
    (Power(s, -2), "s^(-2)"),
    (Power(s, Fraction(1, 3)), "s^(1/3)"),
    (EPow(b, -1), "b.^(-1)"),
    (EPow(Num(2), 3), "(2).^3"),
    (neg(Power(s, 2)), "-s^2"),
    (Power(neg(s), 2), "(-s)^2"),
    (Norm2(Mul(b, Norm2(b))), "norm2(b ||b||)"),
    (NormF(Mul(X, Power(Norm2(b), 2))), "norm(X ||b||^2)"),
    (Mul(Power(Norm2(b), 2), Power(Norm2(y), 2)), "||b||^2 ||y||^2"),
    (Add(Broadcast(s, (n, 1)), Broadcast(Num(-3), (n, 1))), "s ones(n) - 3 ones(n)"),
    (Add(b, Broadcast(neg(s), (n, 1))), "b - s"),
    (Mul(Commutation(n, m), Vec(X)), "commutation(n, m) vec(X)"),
])
def test_text_details(node, text):
    assert to_text(node) == text


# =========================================================================== names

def test_names_print_as_names_except_the_root():
    h1 = Func("tanh", Mul(W, x))
    h2 = Func("tanh", Mul(A, h1))
    names = {h1: "h1", h2: "h2"}
    assert to_text(Add(h2, h1), names) == "h2 + h1"
    assert to_text(h2, names) == "tanh(A h1)"
    assert to_latex(h2, names) == r"\tanh\left(A h_{1}\right)"
    assert to_pretty(Mul(Num(-1), h1), names) == "-h1"
    assert to_numpy(Add(h2, h1), names) == \
        "(lambda h1: (lambda h2: h2 + h1)(np.tanh(A @ h1)))(np.tanh(W @ x))"


def test_numpy_names_evaluate():
    h1 = Func("tanh", Mul(W, x))
    h2 = Func("tanh", Mul(A, h1))
    e = Add(h2, h1)
    rng = np.random.default_rng(1)
    vals, sizes = sample_values(e, rng)
    for names in ({h1: "h1", h2: "h2"}, {h1: "lambda"}):  # a keyword name is mangled
        got = eval(to_numpy(e, names), {"np": np, **vals})  # lambdas see globals only
        assert relative_error(got, evaluate(e, vals)) < 1e-12


def test_numpy_many_names_bind_flat():
    """Beyond the lambda nesting Python parses, names are bound with := in a tuple."""
    h = Mul(W, x)
    names = {}
    for i in range(100):
        h = Func("tanh", Add(h, b))
        names[h] = f"h{i}"
    e = Sum(h)
    code = to_numpy(e, names)
    assert code.startswith("(h0 := ")
    vals, _ = sample_values(e, np.random.default_rng(2))
    assert relative_error(eval(code, {"np": np, **vals}), evaluate(e, vals)) < 1e-12


def test_numpy_operator():
    op = to_numpy_operator(Mul(A, Diff(X), B), X)
    assert op == "lambda dX: A @ dX @ B"
    assert to_numpy_operator(Mul(Identity(n), Diff(X)), X) == "lambda dX: np.eye(dX.shape[0]) @ dX"
    f = eval(op, {"np": np, "A": np.eye(2), "B": 2 * np.eye(3)})
    assert np.allclose(f(np.ones((2, 3))), 2 * np.ones((2, 3)))


def test_numpy_missing_dimension():
    with pytest.raises(ValueError, match="dimension n"):
        to_numpy(Identity(n))
    assert to_numpy(Identity(3)) == "np.eye(3)"
    assert to_numpy(Add(Broadcast(s, (n, 1)), Ones((n, 1))), bound=[b]) == "s + np.ones((b.shape[0], 1))"


def test_py_name():
    assert py_name("lambda") == "lambda_" and py_name("x") == "x" and py_name("in") == "in_"
    assert to_numpy(Mul(lam, Diff(lam))) == "lambda_ * dlambda"


def test_latex_names():
    assert [latex_name(v) for v in ("W1", "x_0", "phi_3", "beta", "Σ", "foo", "x_max", "W_l")] == \
        ["W_{1}", "x_{0}", r"\phi_{3}", r"\beta", r"\Sigma", r"\mathrm{foo}", r"x_{\mathrm{max}}",
         "W_{l}"]
    assert to_latex(Diff(Sym("W1", (n, m)))) == r"\mathrm{d}W_{1}"
    assert to_latex(Mul(s, Num(2))) == r"s \cdot 2"


def test_rich_text_styles():
    pytest.importorskip("rich")
    t = to_rich_text(Mul(A, Diff(X), Func("sigmoid", x)))
    assert t.plain == "A dX σ(x)"
    styles = {t.plain[span.start:span.end]: str(span.style) for span in t.spans}
    assert styles["A"] == "bold" and styles["σ"] == "dim" and "dX" in styles
    assert styles["dX"] != styles["A"]


def test_pretty_does_not_import_rich():
    code = ("import sys, matdiff_cli.render.pretty as p, matdiff_cli.render.text, "
            "matdiff_cli.render.latex, matdiff_cli.render.numpy; assert 'rich' not in sys.modules; "
            "assert 'numpy' not in sys.modules; assert 'sympy' not in sys.modules")
    import subprocess
    subprocess.run([sys.executable, "-c", code], check=True)


# =========================================================================== deep and shared

def _deep_chain(depth):
    e = b
    for i in range(depth):
        e = Func("tanh", Add(Mul(A, e), y)) if i % 2 else Transpose(Transpose(e))
    return e


@pytest.mark.parametrize("render", [to_text, to_pretty, to_latex, to_numpy, to_rich_text])
def test_deep_expressions_do_not_recurse(render):
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # anything recursive would fail at once
    try:
        out = render(_deep_chain(2000))
    finally:
        sys.setrecursionlimit(limit)
    assert len(str(out)) > 2000


def test_output_length_is_linear_in_the_depth():
    # (the time is measured by benchmarks/depth.py, not by a timed unit test)
    n1, n2 = len(to_text(_deep_chain(1000))), len(to_text(_deep_chain(8000)))
    assert 7 * n1 < n2 < 9 * n1


def test_shared_subexpressions_with_names_stay_small():
    e = b
    names = {}
    for i in range(300):  # as a tree, 2^300 nodes
        e = Add(Mul(A, e), e)
        names[e] = f"t{i}"
    text = to_text(e, names)
    assert text == "A t298 + t298"
    assert len(to_numpy(e, names)) < 20_000


# =========================================================================== round trip

TOKEN = re.compile(r"""\s*(?:
    (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<op>\|\|_F|\|\||\.\*|\./|\.\^|\^|[-+*@/(),])
  | (?P<name>[^\W\d]\w*)
)""", re.X)
CALLS = {"norm2": "norm2", "norm": "normF", "inv": "inv"}
FUNCTIONS = {"tr", "det", "logdet", "sum", "diag", "vec", "softmax", "logsumexp", "kron",
             "norm2", "norm", "inv", "exp", "log", "sin", "cos", "tanh", "sigmoid", "relu",
             "softplus", "sqrt", "abs", "step", "sign", "zeros", "ones", "eye",
             "commutation", "f", "lambda_max", "lambda_min", "eigvec_max",
             "eigvec_min", "norm1", "leftvec_max", "leftvec_min",
             "eigvals", "eigvecs", "pinv",
             "norm_inf", "onehot_max", "unvec", "sigma_max", "svec_left_max",
             "svec_right_max", "svdvals", "svd_u", "svd_v", "norm_nuc", "polar"}  # commutation(m, n): engine output; f: the strategies' user function


class Reader:
    """A reference reader of the text syntax, following docs/design.md: levels
    sum < product chain < unary minus < postfix < atom; one chain = one node;
    ``neg``: Num(-v), a Mul's leading number negated, else Mul(-1, ...) spliced;
    number/number folds.  It builds shape-free trees (tuples)."""

    def __init__(self, text):
        self.toks, pos = [], 0
        text = text.rstrip()
        while pos < len(text):
            mt = TOKEN.match(text, pos)
            assert mt and mt.end() > pos, f"cannot read {text[pos:]!r}"
            self.toks.append((mt.lastgroup, mt.group(mt.lastgroup)))
            pos = mt.end()
        self.i, self.in_norm = 0, 0

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        assert value is None or tok[1] == value, f"expected {value}, got {tok}"
        self.i += 1
        return tok

    def read(self):
        e = self.sum()
        assert self.i == len(self.toks), f"junk after expression: {self.toks[self.i:]}"
        return e

    def sum(self):
        terms = [self.product()]
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            t = self.product()
            terms.append(t if op == "+" else neg_tree(t))
        return terms[0] if len(terms) == 1 else ("add", *terms)

    def starts_atom(self):
        kind, v = self.peek()
        return kind in ("num", "name") or v == "(" or (v == "||" and not self.in_norm)

    def product(self):
        cur, spliceable = self.unary()
        had = False
        while True:
            v = self.peek()[1]
            if v in ("*", "@", "/", ".*", "./"):
                self.take()
            elif not self.starts_atom():
                return cur
            else:
                v = " "
            nxt, _ = self.unary()
            if v in ("*", "@", " "):
                if spliceable and cur[0] == "mul":
                    cur = (*cur, nxt)
                else:
                    cur = ("mul", cur, nxt)
                spliceable, had = True, False
            elif v == ".*":
                cur = (*cur, nxt) if had else ("had", cur, nxt)
                spliceable, had = False, True
            elif v == "/" and cur[0] == "num" and nxt[0] == "num":
                cur, spliceable, had = ("num", cur[1] / nxt[1]), False, False
            else:
                cur, spliceable, had = ("div" if v == "/" else "ediv", cur, nxt), False, False

    def unary(self):
        """(tree, whether it is an unbracketed product a chain may splice)."""
        if self.peek()[1] == "-":
            self.take()
            t, _ = self.unary()
            t = neg_tree(t)
            return t, t[0] == "mul"
        return self.postfix(), False

    def exponent(self):
        if self.peek()[1] == "(":
            self.take()
            sign = -1 if self.peek()[1] == "-" and self.take() else 1
            p = Fraction(self.take()[1])
            if self.peek()[1] == "/":
                self.take()
                p /= Fraction(self.take()[1])
            self.take(")")
            return sign * p
        if self.peek()[1] == "-":
            self.take()
            if self.peek()[1] == "T":
                self.take()
                return "-T"
            return -Fraction(self.take()[1])
        if self.peek()[1] == "T":
            self.take()
            return "T"
        return Fraction(self.take()[1])

    def postfix(self):
        e = self.atom()
        while self.peek()[1] in ("^", ".^"):
            op = self.take()[1]
            p = self.exponent()
            if p == "T":
                e = ("T", e)
            elif p == "-T":
                e = ("T", ("inv", e))
            elif op == "^" and p == -1:
                e = ("inv", e)
            else:
                e = ("pow" if op == "^" else "epow", e, p)
        return e

    def atom(self):
        kind, v = self.take()
        if kind == "num":
            return ("num", Fraction(v))
        if v == "(":
            e = self.sum()
            self.take(")")
            return e
        if v == "||":
            self.in_norm += 1
            e = self.sum()
            self.in_norm -= 1
            close = self.take()[1]
            return ("normF" if close == "||_F" else "norm2", e)
        assert kind == "name", f"unexpected {v!r}"
        if v == "I":
            return ("I",)
        if v in FUNCTIONS and self.peek()[1] == "(":  # A(x + y) is a product
            self.take()
            args, saved = [self.sum()], self.in_norm
            while self.peek()[1] == ",":
                self.take()
                args.append(self.sum())
            self.in_norm = saved
            self.take(")")
            if v == "eye":  # the identity written with its size (trees are shape-free)
                return ("I",)
            return (CALLS[v], *args) if v in CALLS else ("call", v, *args)
        return ("sym", v)


def neg_tree(t):
    if t[0] == "num":
        return ("num", -t[1])
    if t[0] == "mul" and t[1][0] == "num":
        return ("mul", ("num", -t[1][1]), *t[2:])
    if t[0] == "mul":
        return ("mul", ("num", Fraction(-1)), *t[1:])
    return ("mul", ("num", Fraction(-1)), t)


def _dim_tree(d):
    return ("num", Fraction(d)) if isinstance(d, int) else ("sym", d)


CALL_NAMES = {Trace: "tr", Det: "det", LogDet: "logdet", Sum: "sum", DiagM: "diag",
              DiagV: "diag", Vec: "vec", Softmax: "softmax", LogSumExp: "logsumexp",
              LambdaMax: "lambda_max", LambdaMin: "lambda_min", EigVecMax: "eigvec_max",
              EigVecMin: "eigvec_min", Norm1: "norm1", LeftVecMax: "leftvec_max",
              LeftVecMin: "leftvec_min", NormInf: "norm_inf", OneHotMax: "onehot_max",
              EigVals: "eigvals", EigVecs: "eigvecs", Pinv: "pinv",
              SigmaMax: "sigma_max", SVecLeftMax: "svec_left_max", SVecRightMax: "svec_right_max",
              SvdVals: "svdvals", SvdU: "svd_u", SvdV: "svd_v", NormNuc: "norm_nuc",
              Polar: "polar"}


def tree(e):
    """The shape-free tree the reader should give back for e (recursive: tests only)."""
    t = type(e)
    if t is Sym:
        return ("sym", e.name)
    if t is Diff:
        return ("sym", "d" + e.sym.name)
    if t is Num:
        return ("num", e.value)
    if t is Identity:
        return ("I",)
    if t in (Zeros, Ones):
        dims = e.shape[:1] if t is Ones and e.shape[1] == 1 else e.shape
        return ("call", "zeros" if t is Zeros else "ones", *map(_dim_tree, dims))
    if t is Commutation:
        return ("call", "commutation", *map(_dim_tree, e.args))
    if t is Unvec:
        return ("call", "unvec", tree(e.a), *map(_dim_tree, e.shape))
    if t is Add:
        bare = any(not isinstance(u, Broadcast) for u in e.terms)
        return ("add", *(tree(u.args[0] if bare and isinstance(u, Broadcast) else u)
                         for u in e.terms))
    if t in (Mul, Hadamard):
        return ("mul" if t is Mul else "had", *map(tree, e.args))
    if t in (Div, EDiv):
        return ("div" if t is Div else "ediv", tree(e.args[0]), tree(e.args[1]))
    if t is Kron:
        return ("call", "kron", tree(e.args[0]), tree(e.args[1]))
    if t is Transpose:
        return ("T", tree(e.a))
    if t is Inverse or (t is Power and e.p == -1):
        return ("inv", tree(e.args[0]))
    if t in (Power, EPow):
        return ("pow" if t is Power else "epow", tree(e.base), e.p)
    if t is Norm2:
        return ("norm2", tree(e.a))
    if t is NormF:
        return ("normF", tree(e.a))
    if t is Func:
        return ("call", e.name, tree(e.arg))
    return ("call", CALL_NAMES[t], tree(e.a))


def parser_tree(e) -> bool:
    """Whether the parser can build e (the text of others is only value-exact)."""
    for node in walk(e):
        for c in node.children:
            if isinstance(c, Broadcast) and not (
                    isinstance(node, Add) and any(not isinstance(u, Broadcast) for u in node.terms)):
                return False
        if isinstance(node, Broadcast) and node is e:
            return False
        if isinstance(node, Div) and all(isinstance(a, Num) for a in node.args):
            return False
        if isinstance(node, Mul) and len(node.factors) == 2 and node.factors[0] is Num(-1) \
                and isinstance(node.factors[1], Mul) \
                and not (isinstance(node.factors[1].factors[0], Num)
                         and node.factors[1].factors[0].value < 0):
            return False
    return True


@pytest.mark.parametrize("node", [row[0] for row in TABLE], ids=IDS)
def test_reader_reads_the_table(node):
    if parser_tree(node):
        assert Reader(to_text(node)).read() == tree(node)


@SETTINGS
@given(expressions())
def test_text_round_trip(e):
    text = to_text(e)
    assert "--" not in text and "- -" not in text and "+ -" not in text
    got = Reader(text).read()  # every text is readable
    if parser_tree(e):
        assert got == tree(e), text


# =========================================================================== numpy = evaluate

def _scope(values):
    out = {}
    for k, v in values.items():
        out["d" + k[1] if isinstance(k, tuple) else py_name(k)] = v
    return out


@SETTINGS
@given(expressions(), st.integers(0, 2**32 - 1))
def test_numpy_matches_evaluate(e, seed):
    try:
        values, sizes = sample_values([e, *POOL], np.random.default_rng(seed))
    except (ValueError, MatdiffError):  # no finite point (exp(exp(exp(...)))): no verdict
        assume(False)
    ref = evaluate(e, values, sizes)
    code = to_numpy(e, bound=POOL)
    with np.errstate(all="ignore"):
        got = eval(code, {"np": np, "__builtins__": builtins, **_scope(values)})
    got = np.asarray(got, dtype=float)
    if e.shape == SCALAR:
        assert got.size == 1, code
    else:
        assert got.shape == np.shape(ref), code
    assert relative_error(got.reshape(np.shape(ref)), ref, floor=1e-6) < 1e-8, (to_text(e), code)


@settings(max_examples=examples(200), deadline=None, database=None)
@given(st.integers(1, 10**17), st.integers(-300, 290))
def test_numbers_print_short_and_read_back_exactly(mantissa, exp):
    # long decimals are written 1e308 / 2.5e-300 (was 309 digits, or a 301-digit fraction)
    from matdiff_cli.document import parse_expr
    v = Fraction(mantissa) * Fraction(10) ** exp
    text = to_text(Num(v))
    assert len(text) <= 24, text
    assert parse_expr(text) is Num(v), text
    assert "e" not in to_latex(Num(v)), to_latex(Num(v))


def test_a_notation_that_chooses_its_own_juxtaposition_has_no_fixed_space():
    """``_mul`` joins factors with the notation's ``space`` and asks ``juxt``
    only when it is None: a notation overriding ``juxt`` must set it None."""
    from matdiff_cli.render import latex, pretty  # noqa: F401  (every notation defined)
    from matdiff_cli.render.text import Notation

    def notations(cls=Notation):
        for sub in cls.__subclasses__():
            yield sub
            yield from notations(sub)

    custom = [n for n in notations() if n.juxt is not Notation.juxt]
    assert custom   # LaTeX's \cdot before a digit
    assert [n.__name__ for n in custom if n.space is not None] == []
