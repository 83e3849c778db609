"""Work counts of the elaborator: a symbol is checked and planned once per text."""
from __future__ import annotations

from matdiff_cli.parser import Source, parse_statement
from matdiff_cli.shapes import Elaborator, Scope, SymInfo


def _elaborated(text: str, declared: dict) -> Elaborator:
    scope = Scope()
    for name, shape in declared.items():
        scope.set_symbol(name, SymInfo(name, shape, frozenset(), True, 1))
        for d in shape:
            if isinstance(d, str):
                scope.add_dim(d)
    src = Source(text)
    el = Elaborator(scope.copy(), src, (0, len(text)))
    el.infer(parse_statement(src, 0, len(text)).kids[0])
    return el


def test_a_symbol_used_twice_has_one_plan():
    el = _elaborated("x^T A x + tr(A)", {"x": ("n", 1), "A": ("n", "n")})
    assert list(el.sym_plans) == ["x", "A"]
    assert list(el.appear) == ["x", "A"]
    assert el.events == [("sym", "x"), ("sym", "A")]   # each recorded on its first use
    assert all(p.e is not None for p in el.sym_plans.values())   # declared: built at once


def test_an_inferred_symbol_keeps_its_first_shape():
    el = _elaborated("a_1^T b + b^T a_1", {"b": ("n", 1)})
    assert list(el.sym_plans) == ["a_1", "b"]
    assert el.sym_plans["a_1"].e is None   # its dimensions are found by unification
