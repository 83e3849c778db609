"""Work the NumPy field saves (counted, never timed), with the code unchanged:

* a tree with no named piece is written by running the rules down the list of
  its nodes (the walk ``to_numpy`` has made), not by a second walk in
  ``render_dag``; the code is the code ``render_dag`` writes;
* the planner returns a product of two factors it would not change (no
  product, sum or elementwise product in it, no scalar after a matrix)
  without looking further (no ordering);
* a chain's order is built and costed without a call per single factor, and
  is the tree the split table describes.
"""
from __future__ import annotations

import itertools

import pytest

from derivations import cookbook_reports
from matdiff_cli.expr import Add, Mul, Num, Sym, Transpose, nodes
from matdiff_cli.render import chains, flatten, plan as plan_mod, render_dag
from matdiff_cli.render import numpy as numpy_mod
from matdiff_cli.render.numpy import planned, to_numpy
from matdiff_cli.render.numpy import base as numpy_base
from matdiff_cli.render.numpy.context import NoNumpyCode, NumpyContext


REPORTS = cookbook_reports()


def test_a_tree_without_names_is_written_from_its_node_list(monkeypatch):
    plain = [r for r in REPORTS if not r.code_names(r.shown)]
    assert len(plain) > 20
    for r in plain:
        (expr,), names, _ = planned([r.shown], {})
        cx = NumpyContext(names, {}, r.naming)
        cx.ordered = True
        try:
            expected = flatten(render_dag(expr, numpy_base.rule, cx))
        except NoNumpyCode:
            continue
        if "svd" in expected:
            continue
        with monkeypatch.context() as m:
            m.setattr(numpy_mod, "render_dag", lambda *a: pytest.fail("render_dag walked"))
            assert to_numpy(r.shown, names={}, bound=r.scope(), naming=r.naming) == expected


def test_the_node_list_renders_each_node_once_children_first(monkeypatch):
    X, y = Sym("X", ("n", "n")), Sym("y", ("n", 1))
    expr = Add(Mul(X, y), Mul(Transpose(X), y))
    seen = []
    rule = numpy_base.rule

    class Counting:   # the rule table, noting each node a rule is run on
        cache: dict = {}

        @staticmethod
        def dispatch(cls):
            return lambda node, cx: seen.append(node) or rule.dispatch(cls)(node, cx)
    monkeypatch.setattr(numpy_mod, "rule", Counting)
    cx = NumpyContext({}, {}, None)
    cx.ordered = True
    assert flatten(numpy_mod._render_all(nodes(expr), cx)) == "X @ y + X.T @ y"
    assert seen == nodes(expr) and len(set(seen)) == len(seen)


def test_a_settled_product_of_two_is_not_ordered(monkeypatch):
    A, B = Sym("A", ("n", "m")), Sym("B", ("m", "k"))
    s = Sym("s", (1, 1))
    monkeypatch.setattr(plan_mod, "_order", lambda mats: pytest.fail("ordered"))
    for node in (Mul(A, B), Mul(s, A), Mul(Num(2), Transpose(A))):
        assert plan_mod._product(node, plan_mod._open, False) is node


def test_a_product_of_two_the_plan_changes_is_still_planned():
    A, B = Sym("A", ("n", "n")), Sym("B", ("n", "n"))
    x = Sym("x", ("n", 1))
    s = Sym("s", (1, 1))
    # a sum times a vector is distributed; a scalar after a matrix moves first
    assert plan_mod._product(Mul(Add(A, B), x), plan_mod._open, True) == Add(Mul(A, x), Mul(B, x))
    assert plan_mod._product(Mul(A, s), plan_mod._open, False) == Mul(s, A)


def _build_reference(split, mats, i, j):
    if i == j:
        return mats[i]
    s = split[i, j]
    return Mul(_build_reference(split, mats, i, s), _build_reference(split, mats, s + 1, j))


def _cost_reference(split, r, c, i, j):
    if i == j:
        return 0
    s = split[i, j]
    return (_cost_reference(split, r, c, i, s) + _cost_reference(split, r, c, s + 1, j)
            + r[i] * c[s] * c[j])


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_every_split_table_builds_and_costs_as_the_plain_recursion(k):
    dims = ["a", "b", "c", "d", "e", "f", "g"][:k + 1]
    mats = [Sym(f"M{i}", (dims[i], dims[i + 1])) for i in range(k)]
    sizes = [3, 1000, 7, 1, 50, 2, 9][:k + 1]
    r, c = sizes[:-1], sizes[1:]
    for lengths in itertools.product(range(1, 4), repeat=k):
        rr = [x * lengths[i] for i, x in enumerate(r)]
        split, _ = chains._cheapest(rr, c)
        assert chains._build(split, mats, 0, k - 1) == _build_reference(split, mats, 0, k - 1)
        assert chains._tree_cost(split, rr, c) == _cost_reference(split, rr, c, 0, k - 1)
