"""The recursive-descent reader (``descent.py``) builds the driver's tree, node for node.

Each statement is parsed twice, with the reader and with the driver alone
(the reader patched out): the trees must be equal in every field (class,
children, value, span, depth, brackets, extra), or both attempts must raise
the same error.  The statements: every one of the cookbook, random well-shaped
expressions printed as text, and random strings of the language's tokens (most
of them syntax errors, which the reader must leave to the driver).
"""
from __future__ import annotations

import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from cookbook import GRADIENTS  # noqa: E402
from strategies import expressions  # noqa: E402

from matdiff_cli import parser  # noqa: E402
from matdiff_cli.errors import MatdiffError  # noqa: E402
from matdiff_cli.render.text import to_text  # noqa: E402
from matdiff_cli.syntax import Node, Token  # noqa: E402


def _fields(x):
    """Everything of a node, a token or a value, for comparing two trees."""
    if isinstance(x, Node):
        return (type(x).__name__, _fields(x.kids), _fields(x.val), x.start, x.end, x.depth,
                x.paren, _fields(x.extra))
    if isinstance(x, Token):
        return ("Token", x.type, x.value, x.start, x.end)
    if isinstance(x, (list, tuple)):
        return (type(x).__name__,) + tuple(_fields(k) for k in x)
    return x


def _read(text: str, monkeypatch=None):
    """Every statement of ``text``: its tree's fields, or its error's."""
    src = parser.Source(text)
    out = []
    for span in parser.split_statements(src.text):
        try:
            out.append(_fields(parser.parse_statement(src, *span)))
        except MatdiffError as e:
            out.append(("error", str(e), e.line, e.column, e.end_column, e.hint))
    return out


def _used(text: str) -> int:
    """How many statements of ``text`` the reader takes (without the driver)."""
    src = parser.Source(text)
    taken = 0
    for span in parser.split_statements(src.text):
        toks = parser._lex(parser.tables(), src.text, *span)
        toks.append(Token("$END", "", span[1], span[1]))
        taken += parser.descend(toks, parser._Builder(src, span)) is not None
    return taken


def _same(text: str, monkeypatch) -> None:
    fast = _read(text)
    with monkeypatch.context() as m:
        m.setattr(parser, "descend", lambda toks, builder: None)
        slow = _read(text)
    assert fast == slow, text


def test_every_cookbook_statement_reads_as_the_driver_reads_it(monkeypatch):
    texts = []
    for _, decls, src, _, _ in GRADIENTS:
        texts += list(decls) + [src, f"h = {src}", f"({src})", f"-{src} + 2 ({src})^T"]
    for text in texts:
        _same(text, monkeypatch)
    # and the reader takes every cookbook expression itself
    for _, _, src, _, _ in GRADIENTS:
        assert _used(src) == 1, src


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(expressions(depth=4, diffs=False))
def test_random_expressions_read_as_the_driver_reads_them(monkeypatch, expr):
    _same(to_text(expr), monkeypatch)


#: pieces of statements: names (keywords among them), numbers, every operator
PIECES = ["A", "x", "x_1", "T", "X", "f", "tr", "det", "sin", "exp", "_2", "_F", "_1", "I", "y",
          "2", "0.5", "3", "1e3", "10", "0", "007",
          "+", "-", "−", "*", "/", ".*", "./", "⊗", "·", "@", "^", "^T", "^-1", "^ T", "^-T", "'",
          ".T", ".^", "ᵀ", "⁻¹", "²", "⁻ᵀ", "(", ")", "(", ")", ",", "||", "‖", "_2", "_F", "_*",
          "_∞", "_1.5", "=", ":=", ":", "{", "}", "x", " ", " ", "  "]


@settings(max_examples=1500, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=14),
       st.lists(st.sampled_from(["", " ", ""]), min_size=14, max_size=14))
def test_random_token_strings_read_as_the_driver_reads_them(monkeypatch, pieces, gaps):
    text = "".join(p + g for p, g in zip(pieces, gaps))
    _same(text, monkeypatch)


#: forms near the edge of what the reader takes
EDGES = ["(x^(T))", "(x^(T)", "x^(-T", "(x^(-T))", "(x^-(1))", "(x^(1/))", "(x^(1/2 3))", "x^ -T y", "x^-T'",
         "(x.^T)", "x.^-2", "x.^(1/2)", "(||x||_2)_F", "||x|| _2", "||x||_2x", "f''(x)(y)",
         "A'(x + y)", "(x)'(y)", "- -x", "2 (x)", "A (x)", "x -y", "x * -y", "T", "x = T x",
         "h = (x", "h = ", "= x", "f(,)", "f()", "f(x,)", "||x||", "||x|| ||y||", "x^2 3",
         "x^2(y)", "2^-1", "-x^T", "((x))", "x ^ T", "x^T T"]


def test_edge_cases_read_as_the_driver_reads_them(monkeypatch):
    for text in EDGES:
        _same(text, monkeypatch)


def test_the_reader_takes_the_common_forms_and_leaves_the_rest():
    taken = ["tr(A^T (X - B))", "h = W x + b", "||A x - b||_2^2", "x^T A^-1 x", "f'(x)",
             "sum(a .* x ./ y)", "x^(1/2) - 2 x^ T y", "X⁻¹ + Xᵀ ⊗ Y"]
    left = ["A, B: n x n", "f(t) := t^2", "x^{-1}", "tr(", "a b = c", "x^(y)",
            "(" * 50 + "x" + ")" * 50]
    for text in taken:
        assert _used(text) == 1, text
    for text in left:
        assert _used(text) == 0, text
