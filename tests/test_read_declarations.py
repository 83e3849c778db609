"""Plain declarations are read by one pattern (parser._plain_declaration), without
the lexer and the driver: the node, its tokens and spans, or the error, are the
driver's own."""
from matdiff_cli.errors import MatdiffError

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


def test_a_plain_declaration_reads_as_the_driver_reads_it(monkeypatch):
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


def test_a_plain_declaration_inside_a_document_keeps_its_offsets():
    from matdiff_cli import parser

    text = "tr(X)\n  A_1 , B: n x 3 spd  # comment\nx"
    src = parser.Source(text)
    start, end = parser.split_statements(text)[1]
    node = parser._plain_declaration(text, start, end, parser.tables().keywords)
    names, shape, props = node.val
    assert [(t.value, text[t.start:t.end]) for t in names + shape[0] + shape[1] + props] == [
        ("A_1", "A_1"), ("B", "B"), ("n", "n"), ("3", "3"), ("spd", "spd")]
    assert text[node.start:node.end] == "A_1 , B: n x 3 spd" and text[node.extra.start] == ":"
    assert src.text is text


def test_a_document_without_continuations_or_comments_splits_as_any_other():
    """split_statements cuts such a document at its lines and ';' directly: the
    statements are those of the general scan (a comment after them changes nothing)."""
    import random

    from matdiff_cli.parser import split_statements

    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice(" \t\r\f\u00a0;\n;Ab") for _ in range(rng.randrange(12)))
        assert split_statements(text) == split_statements(text + "\n# comment"), repr(text)
    assert split_statements("A: n x n\n  tr(A) ;x\n\n") == [(0, 8), (11, 16), (18, 19)]
