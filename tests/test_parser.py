"""The language: every syntax form of SPEC §1 and the node it reads as
(docs/design.md's table), and syntax errors in words, with a caret.

Most rows declare their symbols (``DECL``) so that the expected node can be
written out with expr's constructors; shape inference has its own tests
(test_shapes.py).
"""
from __future__ import annotations

from fractions import Fraction

import pytest

from budget import assert_linear, examples
from matdiff_cli.document import parse_expr, read_document
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import (
    Add, Broadcast, Det, DiagM, DiagV, Div, EDiv, EPow, Func, Hadamard, Identity,
    Inverse, Kron, LogDet, LogSumExp, Mul, Norm2, NormF, Num, Ones, Power, Softmax, Sum, Sym,
    Trace, Transpose, Vec, Zeros,
)
from matdiff_cli.expr import NormNuc, SigmaMax
from matdiff_cli.ops import ELEMENTWISE
from matdiff_cli.parser import MAX_DEPTH, split_statements

DECL = ["A, B, X: n x n", "x, y, z, x_0: n", "s, c: scalar", "r: 1 x n"]
n = "n"
A, B, X = (Sym(s, (n, n)) for s in "ABX")
x, y, z = (Sym(s, (n, 1)) for s in "xyz")
x_0 = Sym("x_0", (n, 1))
s, c = Sym("s", (1, 1)), Sym("c", (1, 1))
r = Sym("r", (1, n))
T = Transpose


def neg(e):
    return Mul(Num(-1), e)


def half(v=1):
    return Num(Fraction(v, 2))


ROWS = [
    # names and numbers (§1.1)
    ("X", X),
    ("x_0", x_0),
    ("2", Num(2)),
    ("0.5", half()),
    (".5", half()),
    ("1e-3", Num(Fraction(1, 1000))),
    ("2.5E2", Num(250)),
    ("1/2", half()),
    ("3/4/5", Num(Fraction(3, 20))),
    ("-1/2", half(-1)),
    ("(1/2)/3", Num(Fraction(1, 6))),
    # sums: one chain is one node; a - b is a + neg(b)
    ("A + B", Add(A, B)),
    ("A - B", Add(A, neg(B))),
    ("A + B - X", Add(A, B, neg(X))),
    ("(A + B) + X", Add(Add(A, B), X)),
    ("A - 2 B", Add(A, Mul(Num(-2), B))),
    ("x - y + z", Add(x, neg(y), z)),
    # products: juxtaposition and * @ ·, one flat chain, read left to right
    ("2 A X B", Mul(Num(2), A, X, B)),
    ("A * B", Mul(A, B)),
    ("A @ B", Mul(A, B)),
    ("A · B", Mul(A, B)),
    ("A*B*X", Mul(A, B, X)),
    ("2x", Mul(Num(2), x)),
    ("2(x + y)", Mul(Num(2), Add(x, y))),
    ("x^T A x", Mul(T(x), A, x)),
    ("x^T y z", Mul(T(x), y, z)),
    ("A (x + y)", Mul(A, Add(x, y))),
    ("A(x + y)", Mul(A, Add(x, y))),
    ("2 A(x + y) s", Mul(Num(2), A, Add(x, y), s)),
    ("x(y)^T", Mul(x, T(y))),
    ("(A B) X", Mul(Mul(A, B), X)),
    ("A (B X)", Mul(A, Mul(B, X))),
    ("x^TA x", Mul(T(x), A, x)),  # ^T is one token
    ("s x", Mul(s, x)),
    ("r x", Mul(r, x)),
    # division by a scalar, elementwise operators, Kronecker
    ("A / s", Div(A, s)),
    ("A / 2", Div(A, Num(2))),
    ("A x / 2", Div(Mul(A, x), Num(2))),
    ("A / 2 B", Mul(Div(A, Num(2)), B)),
    ("1/2 x^T x", Mul(half(), T(x), x)),
    ("1/2 ||x||^2", Mul(half(), Power(Norm2(x), 2))),
    ("x .* y", Hadamard(x, y)),
    ("x ⊙ y", Hadamard(x, y)),
    ("x ∘ y", Hadamard(x, y)),
    ("x .* y .* z", Hadamard(x, y, z)),
    ("A x .* y", Hadamard(Mul(A, x), y)),
    ("x .* y z^T", Mul(Hadamard(x, y), T(z))),
    ("x ./ y", EDiv(x, y)),
    ("2./x", EDiv(Broadcast(Num(2), (n, 1)), x)),
    ("2.*x", Hadamard(Broadcast(Num(2), (n, 1)), x)),
    ("A ⊗ B", Kron(A, B)),
    ("kron(A, B)", Kron(A, B)),
    ("A ⊗ B ⊗ X", Kron(Kron(A, B), X)),
    # unary minus: below the postfix operators, above the products
    ("-x", neg(x)),
    ("-2", Num(-2)),
    ("−x", neg(x)),  # U+2212
    ("-s^2", neg(Power(s, 2))),
    ("-A B", Mul(Num(-1), A, B)),
    ("-2 A", Mul(Num(-2), A)),
    ("-(A B)", Mul(Num(-1), A, B)),
    ("-(2 A)", Mul(Num(-2), A)),
    ("-(A B) X", Mul(Num(-1), Mul(A, B), X)),
    ("-x^T x", Mul(Num(-1), T(x), x)),
    ("A * -B", Mul(A, neg(B))),
    ("-x .* y", Hadamard(neg(x), y)),
    ("-A / 2", Div(neg(A), Num(2))),
    ("-A B / 2", Div(Mul(Num(-1), A, B), Num(2))),
    ("-2 .* x", Hadamard(Broadcast(Num(-2), (n, 1)), x)),
    ("x - -y", Add(x, y)),  # neg of -y is y
    # transpose, every spelling
    ("A^T", T(A)),
    ("A'", T(A)),
    ("A.T", T(A)),
    ("Aᵀ", T(A)),
    ("A^{T}", T(A)),
    ("A^T^T", T(T(A))),
    ("(A B)^T", T(Mul(A, B))),
    # inverse, every spelling; of a scalar it is a power
    ("A^-1", Inverse(A)),
    ("A^(-1)", Inverse(A)),
    ("A^{-1}", Inverse(A)),
    ("A⁻¹", Inverse(A)),
    ("inv(A)", Inverse(A)),
    ("A^-T", T(Inverse(A))),
    ("A^{-T}", T(Inverse(A))),
    ("A⁻ᵀ", T(Inverse(A))),
    ("s^-1", Power(s, -1)),
    ("inv(s)", Power(s, -1)),
    # powers
    ("A^2", Power(A, 2)),
    ("A²", Power(A, 2)),
    ("A³", Power(A, 3)),
    ("A^0", Power(A, 0)),
    ("A^-2", Power(Inverse(A), 2)),
    ("s^0.5", Power(s, Fraction(1, 2))),
    ("s^(1/2)", Power(s, Fraction(1, 2))),
    ("s^{1/2}", Power(s, Fraction(1, 2))),
    ("s^(-1/2)", Power(s, Fraction(-1, 2))),
    ("s^(−1/2)", Power(s, Fraction(-1, 2))),
    ("s^-2", Power(s, -2)),
    ("x.^2", EPow(x, 2)),
    ("x.^(-1)", EPow(x, -1)),
    ("x.^0.5", EPow(x, Fraction(1, 2))),
    ("A.^{1/2}", EPow(A, Fraction(1, 2))),
    # norms
    ("||x||", Norm2(x)),
    ("‖x‖", Norm2(x)),
    ("||x||_2", Norm2(x)),
    ("norm2(x)", Norm2(x)),
    ("||r||", Norm2(r)),
    ("||X||_F", NormF(X)),
    ("‖X‖_F", NormF(X)),
    ("norm(X)", NormF(X)),
    ("||X||_2", SigmaMax(X)),
    ("‖X‖_*", NormNuc(X)),
    ("||x||^2", Power(Norm2(x), 2)),
    ("||x|| ||y||", Mul(Norm2(x), Norm2(y))),
    ("||A x - y||^2", Power(Norm2(Add(Mul(A, x), neg(y))), 2)),
    ("||(x + ||y|| z)||", Norm2(Add(x, Mul(Norm2(y), z)))),
    # functions
    ("tr(A)", Trace(A)),
    ("tr(X^T A X B)", Trace(Mul(T(X), A, X, B))),
    ("det(A)", Det(A)),
    ("logdet(A)", LogDet(A)),
    ("log det(A)", LogDet(A)),
    ("log(det(A))", LogDet(A)),
    ("2 log det(A)", Mul(Num(2), LogDet(A))),
    ("sum(A)", Sum(A)),
    ("diag(x)", DiagM(x)),
    ("diag(A)", DiagV(A)),
    ("vec(A)", Vec(A)),
    ("softmax(x)", Softmax(x)),
    ("logsumexp(x)", LogSumExp(x)),
    *[(f"{f}(x)", Func(f, x)) for f in ELEMENTWISE],
    ("sigmoid(A x + y)", Func("sigmoid", Add(Mul(A, x), y))),
    # constants
    ("A + I", Add(A, Identity(n))),
    ("A + s I", Add(A, Mul(s, Identity(n)))),
    ("eye(n)", Identity("n")),
    ("eye(3)", Identity(3)),
    ("ones(n)", Ones((n, 1))),
    ("ones(n, m)", Ones((n, "m"))),
    ("zeros(n, m)", Zeros((n, "m"))),
    ("x + zeros(n)", Add(x, Zeros((n, 1)))),
    # a scalar added to a vector or matrix is broadcast
    ("1 + exp(x)", Add(Broadcast(Num(1), (n, 1)), Func("exp", x))),
    ("x - 1", Add(x, Broadcast(Num(-1), (n, 1)))),
    ("s + A", Add(Broadcast(s, (n, n)), A)),
    ("s + c", Add(s, c)),
    ("1 ./ x", EDiv(Broadcast(Num(1), (n, 1)), x)),
    # layout: continuation lines, comments, blanks
    ("A \\\n  + B   # a comment", Add(A, B)),
    ("  \tA+B\t", Add(A, B)),
]


@pytest.mark.parametrize("text,expected", ROWS, ids=[r[0] for r in ROWS])
def test_syntax_forms(text, expected):
    got = parse_expr(text, DECL)
    assert got is expected, f"{text!r}: {got!r} != {expected!r}"


def test_user_function_call():
    e = parse_expr("f(t) := t^3 + sin(t)\nf(A x)", DECL)
    assert e is Func("f", Mul(A, x), ("t", "t^3 + sin(t)"))


def test_user_function_with_unicode_and_continuation():
    e = parse_expr("g(u) := u² \\\n + 1\ng(s)", DECL)
    assert e is Func("g", s, ("u", "u^2 + 1"))
    e = parse_expr("h(u) := u.^(1/2) ./ (1 − u)\nh(s)", DECL)
    assert e is Func("h", s, ("u", "u^(1/2) / (1 - u)"))


def test_greek_names_are_scalars():
    e = parse_expr("α x + λ y", ["x, y: n"])
    alpha, lam = Sym("α", (1, 1)), Sym("λ", (1, 1))
    assert e is Add(Mul(alpha, x), Mul(lam, y))


def test_statement_separators():
    items = read_document("A: n x n; x: n\nA x; x^T x\n\n# nothing\nA^T")
    assert [p.source for p in items] == ["A x", "x^T x", "A^T"]
    assert [p.line for p in items] == [2, 2, 5]


def test_split_statements_spans():
    text = "a; b \\\n  c # d ; e\n\n  f"
    assert [text[s:e] for s, e in split_statements(text)] == ["a", "b \\\n  c", "f"]


# ---------------------------------------------------------------------------
# Syntax errors: words, where, exit status

ERRORS = [
    # text, kind, (line, column), words in the message, words in the hint
    ("A x +", "syntax", (1, 6), "an operand after '+'", "complete"),
    ("A x + )", "syntax", (1, 7), "an operand after '+'", None),
    ("(A x", "syntax", (1, 5), "a closing ')'", "column 1"),
    ("tr(X^T X", "syntax", (1, 9), "a closing ')'", "column 3"),
    ("||x", "syntax", (1, 4), "a closing '||'", "norm2"),
    ("|| ||", "syntax", (1, 4), "inside '||'", "norm2"),
    ("x)", "syntax", (1, 2), "unmatched ')'", None),
    ("X: ", "syntax", (1, 3), "a shape after ':'", "X: n x m"),
    ("X: n x", "syntax", (1, 7), "a dimension after 'x'", None),
    ("A, : n", "syntax", (1, 4), "a name after ','", None),
    ("x^n", "syntax", (1, 3), "an exponent after '^'", "symbolic"),
    ("x^", "syntax", (1, 3), "an exponent after '^'", None),
    ("x.^y", "syntax", (1, 4), "a number after '.^'", None),
    ("A x = b", "syntax", (1, 5), "'=' defines a name", None),
    ("A x: n", "syntax", (1, 4), "':' declares names", None),
    ("A | x", "syntax", (1, 3), "unexpected character '|'", "abs(x)"),
    ("A [x]", "syntax", (1, 3), "unexpected character '['", "parentheses"),
    ("x + \0", "syntax", (1, 5), "NUL", None),
    ("A @@ B", "syntax", (1, 4), "an operand after '@'", None),
    ("f(t) + 1 := t", "syntax", (1, 1), "f(t) := body", None),
    ("tr: n", "name", (1, 1), "reserved", None),
    ("I: n x n", "name", (1, 1), "reserved", None),
    ("T", "name", (1, 1), "reserved for the transpose", "x^T"),
    ("exp + 1", "name", (1, 1), "'exp' is a function", "exp(...)"),
    ("foo(x)", "name", (1, 1), "unknown function 'foo'", "foo (...)"),
    ("sigmoind(x)", "name", (1, 1), "unknown function", "did you mean sigmoid"),
    ("A(x, y)", "name", (1, 1), "'A' is not a function", None),
    ("tr(A, B)", "syntax", (1, 1), "tr takes 1 argument", None),
    ("eye(n, m)", "syntax", (1, 1), "eye takes 1 argument", None),
    ("ones(x + 1)", "syntax", (1, 6), "takes dimensions", None),
    ("1/0", "shape", (1, 3), "division by zero", None),
    ("||X||", "shape", (1, 1), "needs a vector", "||X||_F"),
    ("x: 0", "shape", (1, 4), "positive integer", None),
    ("x: 2.5", "shape", (1, 4), "positive integer", None),
    ("s: scalar x n", "shape", (1, 4), "'scalar' is a whole shape", None),
    ("A: n x n symetric", "shape", (1, 10), "unknown property 'symetric'", "did you mean symmetric"),
    ("X: n x m symmetric", "shape", (1, 10), "needs a square shape", "X: n x n symmetric"),
    ("x: n; x: m", "name", (1, 7), "already declared as n×1", None),
    ("h = h + 1", "name", (1, 5), "used in its own definition", None),
    ("X: n x n; X = A", "name", (1, 11), "already a variable", None),
    ("h = A; h: n", "name", (1, 8), "already defined", None),
    ("f(t) := t + A", "name", (1, 13), "only its parameter t", None),
    ("f(t) := t^T", "name", (1, 9), "a transpose", None),
    ("f(t) := tr(t)", "name", (1, 9), "'tr(...)'", None),
    ("exp(t) := t", "name", (1, 1), "reserved", None),
    ("f(T) := T", "name", (1, 3), "parameter cannot be T", None),
]


@pytest.mark.parametrize("text,kind,where,words,hint", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(text, kind, where, words, hint):
    (err,) = [i for i in read_document(text) if isinstance(i, MatdiffError)]
    assert err.kind == kind, err.format()
    assert (err.line, err.column) == where, err.format()
    assert words in err.message, err.format()
    if hint is not None:
        assert hint in (err.hint or ""), err.format()
    assert err.exit_code == 2
    assert err.source_line is not None and err.statement


def test_error_format_has_a_caret_under_the_span():
    (err,) = read_document("X: n x m\nA: m x m\nX + A")
    assert err.line == 3 and err.column == 5 and err.end_column == 6
    assert err.format().splitlines() == [
        "line 3, column 5: cannot add X (n×m) and A (m×m)",
        "  X + A",
        "      ^",
        "hint: declare `A: n x m`, or check the shapes; the terms must have the same shape "
        "(a scalar is broadcast)",
    ]


def test_error_caret_spans_the_whole_operand():
    (err,) = read_document("x: n\ntr(x)")
    lines = err.format().splitlines()
    assert lines[1:3] == ["  tr(x)", "  ^^^^^"]


def test_error_on_a_later_line_of_a_continued_statement():
    (err,) = read_document("A: n x n\nA + \\\n  A +")
    assert (err.line, err.column) == (3, 6)
    assert err.statement == "A + A +"
    assert err.source_line == "  A +"


def test_error_on_a_very_long_line_shows_a_window():
    text = "x + " * 500 + "+"
    (err,) = read_document(text)
    shown = err.format().splitlines()
    assert err.column == len(text)
    assert all(len(line) < 120 for line in shown)
    assert shown[2].index("^") == shown[1].index("+", len(shown[1]) - 2)


def test_empty_input_has_no_problem_and_parse_expr_refuses_it():
    assert read_document("") == []
    assert read_document("  # only a comment\n\n;;") == []
    assert read_document("A: n x n") == []
    for text in ("", "A: n x n", "  \n"):
        with pytest.raises(MatdiffError) as info:
            parse_expr(text)
        assert info.value.kind == "usage" and "no expression" in info.value.message


def test_parse_expr_wants_exactly_one_expression():
    with pytest.raises(MatdiffError) as info:
        parse_expr("x; y")
    assert "expected one expression, found 2" in info.value.message


# ---------------------------------------------------------------------------
# Pathological input: a MatdiffError, quickly, never a RecursionError

PATHOLOGICAL = {
    "10,000 nested parentheses": "(" * 10_000 + "x" + ")" * 10_000,
    "10,000 open parentheses": "(" * 10_000,
    "10,000 nested calls": "exp(" * 10_000 + "x" + ")" * 10_000,
    "10,000 minus signs": "-" * 10_000 + "x",
    "10,000 transposes": "x" + "^T" * 10_000,
    "5,000 divisions": " / ".join(["s"] * 5_000),
    "10,000 bars": "||" * 10_000,
    "norms nested by bars": "|| " * 5_000 + "x" + " ||" * 5_000,
    "a 1 MB sum": " + ".join(["x"] * 350_000),
    "a 1 MB sum missing its last term": " + ".join(["x"] * 350_000) + " +",
    "a 1 MB line of garbage": "$" * 1_000_000,
    "a NUL byte": "x + \0",
    "a lone backslash": "x \\ y",
    "unbalanced braces": "x^{-1",
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_input_is_a_clean_error(name):
    text = PATHOLOGICAL[name]
    items = read_document(text, ["s: scalar"])
    assert len(items) == 1 and isinstance(items[0], MatdiffError), items
    assert items[0].exit_code == 2
    assert items[0].format()  # and it can be shown


def test_nesting_limit_is_generous_for_real_expressions():
    deep = "exp(" * (MAX_DEPTH // 3) + "x" + ")" * (MAX_DEPTH // 3)
    e = parse_expr(deep)
    assert e.shape == ("n", 1)


def test_definitions_do_not_add_to_the_nesting():
    # each definition is a name: a chain of 2,000 of them reads (in linear time)
    lines = ["h0 = x"] + [f"h{i} = exp(h{i - 1})" for i in range(1, 2001)]
    doc = "\n".join(lines) + "\nh2000"
    (problem,) = read_document(doc)
    assert not isinstance(problem, MatdiffError)
    assert problem.expr.shape == ("n", 1) and len(problem.definitions) == 2001


def test_a_long_but_reasonable_expression_is_linear():
    text = " + ".join(["x"] * 20_000)  # 80 KB
    assert len(parse_expr(text).terms) == 20_000
    assert_linear(parse_expr, lambda k: " + ".join(["x"] * k), 1000)


# ---------------------------------------------------------------------------
# parse(print(e)) is e (SPEC §3), for the printer of render/text.py


def test_text_round_trip_through_the_parser():
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("strategies")  # tests/strategies.py
    text_mod = pytest.importorskip("matdiff_cli.render.text")
    from matdiff_cli.expr import Commutation, Diff, walk
    from matdiff_cli.shapes import decl_text

    decls = [f"{v.name}: {decl_text(v.shape)} {' '.join(sorted(v.props))}".strip()
             for v in strategies.POOL]

    def readable(e):
        """Nodes the language writes differently: I of a size nothing else fixes,
        a scalar broadcast other than in a sum, a division of two numbers (folded),
        -1 times a product (-(a b) splices: design.md)."""
        if isinstance(e, Broadcast):
            return False
        for node in walk(e):
            if (isinstance(node, Mul) and len(node.factors) == 2 and node.factors[0] is Num(-1)
                    and isinstance(node.factors[1], Mul)):
                return False
            if isinstance(node, (Commutation, Diff, Identity)):
                return False
            if isinstance(node, Div) and all(isinstance(a, Num) for a in node.args):
                return False
            if any(isinstance(a, Broadcast) for a in node.children) and not (
                    isinstance(node, Add) and not all(isinstance(a, Broadcast) for a in node.args)):
                return False
        return True

    @hypothesis.settings(max_examples=examples(200),
                         deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(strategies.expressions(diffs=False))
    def check(e):
        hypothesis.assume(readable(e))
        text = text_mod.to_text(e)
        got = parse_expr("f(t) := t^3 + sin(t)\n" + text, decls)
        assert got is e, text

    check()


def test_postfix_inside_parentheses_stays_on_the_argument():
    assert parse_expr("(A (s)^T)^T", DECL) is T(Mul(A, T(s)))
    assert parse_expr("(A(x))^T", DECL) is T(Mul(A, x))
    assert parse_expr("B (A(x))", DECL) is Mul(B, Mul(A, x))


DECLARATION_LIKE = [
    "A: n x n", "A, B, X: n x n symmetric", "x: n", "s: scalar", "r: 1 x n", "A: n × m",
    "A_1, V1: 3 x n spd diagonal", "v: n*m", "K: n * m x 2*k", "A: n x n bogus", "A: n symmetric",
    "x: x", "T: n", "A: n x", "A: n x n x", "A: n x n T", "A:", "A, : n", "A B: n", "A: (n)",
    "A: n + m", "A: n x n, B: n", "2: n", "A: n ** m", "A: n x x n", "_2: n", "A: n _F",
    "A: n x n symmetric x", "A, B", "A: * n", "A: n *", "A:: n", "x: 1.5", "A: n⊗n",
    "A, x: n", "x, T: x x x", "A: x", "A: n*x x T", "A: _F x n", "x: n x n _2", "A: n x n x x",
    "T, _2, _F: n x n", "A_1 ,B_1 :n  x  n", "A,B,C:n", "AB, B: n x n", "A: 0 x 3", "A: 3n x n",
    "A: n x3", "A: n xx", "A: 007 x n", "A: n x n symmetric  spd", "x: 1e3", "A: n x n\tspd",
    "Aä: n", "A: n x m_2 diagonal", "a, b, c, d: scalar", "x: T x T",
]


def test_a_declaration_reads_as_the_driver_reads_it(monkeypatch):
    """Plain declarations skip the LALR driver (parser._plain_declaration from their
    words, parser._declaration from their tokens): the node, its
    tokens and spans, or the error, are the driver's own."""
    from matdiff_cli import parser

    def read(text):
        src = parser.Source(text)
        try:
            node = parser.parse_statement(src, 0, len(text))
        except MatdiffError as e:
            return ("error", str(e), e.column)
        names, shape, props = node.val if node.kind == "decl" else ([], [], [])
        toks = lambda ts: [(t.type, t.value, t.start, t.end) for t in ts]  # noqa: E731
        return (type(node).__name__, node.start, node.end, node.depth, repr(node),
                toks(names), [toks(d) for d in shape], toks(props),
                toks([node.extra]) if node.kind == "decl" else None)

    fast = [read(t) for t in DECLARATION_LIKE]
    monkeypatch.setattr(parser, "_plain_declaration", lambda text, start, end, keywords: None)
    monkeypatch.setattr(parser, "_declaration", lambda toks, keywords: None)
    assert fast == [read(t) for t in DECLARATION_LIKE]
    assert sum(f[0] == "Declaration" for f in fast) >= 20
