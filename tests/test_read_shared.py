"""A problem reads the document's own tables until it changes one (Scope.copy)."""
from matdiff_cli.document import read_document
from matdiff_cli.shapes.layers import Layer


def test_a_declared_problem_shares_the_documents_tables_and_an_inferring_one_layers_them():
    declared, inferring, last = read_document("A: n x n\nx: n\nx^T A x\ntr(A B)\nx^T A x")
    assert declared._scope.symbols is last._scope.symbols          # the document's own dict
    assert declared._scope.unifier.parent is last._scope.unifier.parent
    assert isinstance(inferring._scope.symbols, Layer)              # B is the problem's alone
    assert "B" in inferring._scope.symbols and "B" not in last._scope.symbols
    assert inferring.symbols["B"].shape == ("n", "n")


def test_a_problems_named_dimensions_stay_its_own():
    first, second = read_document("x^T y\nA: n x n\ntr(A)")
    assert first.symbols["x"].shape == ("n", 1) and second.symbols["A"].shape == ("n", "n")
    assert first.parse("x + y").shape == ("n", 1)
    assert second.parse("A + A").shape == ("n", "n")
    assert "x" not in second._scope.symbols
