"""Reading a document's statements: plain declarations at their offsets, and the
split of a document without continuations or comments (the fast paths' nodes
against the driver's: tests/test_parser.py)."""


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
