"""Nodes are never changed once made: they are interned and shared by every
expression, memo and report of a run, so one write would change answers far away.

No ``__setattr__`` guards them (it made each new node four calls, 5 % of the
work of deriving); what keeps them unchanged is checked here instead: every node
kind has ``__slots__`` (no ``__dict__``: no attribute can be added), and only
the constructor in ``expr/core.py`` writes the four fields a node has.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import matdiff_cli.derivatives  # noqa: F401  (every node kind loaded)
import matdiff_cli.ops  # noqa: F401
from matdiff_cli.expr import Expr, Sym

PACKAGE = Path(__file__).resolve().parent.parent / "matdiff_cli"
FIELDS = {"args", "shape", "_first", "children"}
#: writes of those names to objects that are not nodes: (module, the target's text)
NOT_NODES = {("evaluation.py", "e.args")}   # an exception's args


def _kinds(cls=Expr):
    for sub in cls.__subclasses__():
        yield sub
        yield from _kinds(sub)


def test_every_node_kind_has_slots_so_nothing_can_be_added():
    kinds = list(_kinds())
    assert len(kinds) > 40
    assert [k.__name__ for k in kinds if "__slots__" not in k.__dict__] == []
    with pytest.raises(AttributeError):
        Sym("x", (1, 1)).memo = 1


def _field_writes(tree: ast.AST, kinds: set, where: str):
    """(where, target) of each write of a node field in tree: ``self.<field>``
    inside a node kind's class, ``x.<field>`` for any other x; ``self.<field>``
    in other classes (plans, trees, declarations) writes their own field."""
    stack = [(tree, None)]
    while stack:
        node, cls = stack.pop()
        if isinstance(node, ast.ClassDef):
            cls = node.name
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        for t in targets:
            for a in ast.walk(t):
                if isinstance(a, ast.Attribute) and a.attr in FIELDS:
                    own = isinstance(a.value, ast.Name) and a.value.id == "self"
                    if (not own or cls in kinds) and (where, ast.unparse(a)) not in NOT_NODES:
                        yield where, ast.unparse(a)
        stack.extend((child, cls) for child in ast.iter_child_nodes(node))


def test_only_the_constructor_writes_a_nodes_fields():
    kinds = {k.__name__ for k in _kinds()} | {"Expr"}
    writes = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        writes.update(_field_writes(tree, kinds, str(path.relative_to(PACKAGE))))
    assert sorted(writes) == [("expr/core.py", f"node.{f}") for f in sorted(FIELDS)]
    bad = ast.parse("class Sym:\n    def f(self):\n        self.shape = 1\nx.children = ()")
    assert sorted(_field_writes(bad, kinds, "m.py")) == [("m.py", "self.shape"),
                                                         ("m.py", "x.children")]
