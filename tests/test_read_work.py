"""Reading a document: what a problem shares with the document, and the checks done once."""
from matdiff_cli.document import read_document
from matdiff_cli.expr import Sym
from matdiff_cli.parser import Source, split_statements


def test_a_text_is_checked_for_bad_characters_once_and_each_statement_still_finds_its_own():
    for text in ("A: n x n\ntr(A)\nx\0y", "‖x‖\ntr(A)\nx\udc80y"):
        src = Source(text)
        spans = split_statements(src.text)
        assert [src.bad_char(*s) for s in spans] == [-1, -1, len(text) - 2]
    src = Source("‖x‖ + tr(A)  # \0 in a comment\ny")
    assert all(src.bad_char(*s) == -1 for s in split_statements(src.text))


def test_a_problem_reads_the_documents_definitions_and_parse_hides_the_later_ones():
    a, b = read_document("h = 2 x\nh^T h\ng = 3 x\nh^T g")
    assert a._scope.defs is b._scope.defs          # the document's own table, not a copy
    assert a.parse("h^T x") is a.parse("(2 x)^T x")
    assert b.parse("g^T x") is b.parse("(3 x)^T x")
    try:
        a.parse("g^T x", known_only=True)
    except Exception as e:                          # g is defined after the first problem
        assert "g" in str(e)
    else:  # pragma: no cover
        raise AssertionError("g is not in the first problem's scope")


def test_a_problems_symbols_are_the_nodes_of_its_expression():
    (p,) = read_document("A: n x n symmetric\nx^T A x")
    nodes = {s.name: s for s in [p.expr] + list(_walk(p.expr)) if isinstance(s, Sym)}
    assert p.symbols["A"] is nodes["A"] and p.symbols["x"] is nodes["x"]
    assert p.inferred == frozenset({"x"})


def _walk(e):
    from matdiff_cli.expr import walk

    return walk(e)
