"""Work the NumPy field does per result (counted, never timed), and the
shortcuts that save it changing no code:

* the planner returns a tree with no node of a kind it rewrites as it is,
  without a pass over the nodes;
* ``_factor`` looks no further into a sum that :func:`_may_factor` rules out,
  and what it returns for every sum is what the full look returns;
* ``to_numpy`` writes the body and its named pieces in one context, and the
  code equals the code written with a fresh context per piece.
"""
from __future__ import annotations

import pytest

from derivations import cookbook_reports
from matdiff_cli.expr import Add, Sym, Transpose, nodes, walk
from matdiff_cli.render import flatten, plan as plan_mod, render_dag
from matdiff_cli.render.numpy import planned, to_numpy
from matdiff_cli.render.numpy import base as numpy_base
from matdiff_cli.render.numpy.context import NumpyContext


REPORTS = cookbook_reports()


def test_plan_leaves_a_tree_without_rewritable_kinds_without_a_pass(monkeypatch):
    X = Sym("X", ("n", "n"))
    root = Transpose(X)
    monkeypatch.setattr(plan_mod, "_pass", lambda *a, **k: pytest.fail("a pass was made"))
    out, new = plan_mod.plan([root], {})
    assert out == [root] and out[0] is root and new == {}


def test_may_factor_never_skips_a_sum_factor_would_change(monkeypatch):
    sums = {n for r in REPORTS for e in (r.shown, r.shown_df) for n in walk(e)
            if isinstance(n, Add)}
    assert len(sums) > 20
    skipped = 0
    for s in sums:
        quick = plan_mod._factor(s, plan_mod._open)
        with monkeypatch.context() as m:
            m.setattr(plan_mod, "_may_factor", lambda terms: True)
            full = plan_mod._factor(s, plan_mod._open)
        assert quick is full, s
        skipped += not plan_mod._may_factor(s.terms)
    assert skipped > 0   # the check does rule sums out


def _separate_contexts(expr, names, naming):
    """The code of expr written as before one context per piece (no SVD)."""
    (expr,), names, _ = planned([expr], names)
    order = nodes(expr)
    used = [n for n in order if n in names and n is not expr]

    def write(root):
        cx = NumpyContext(names, {}, naming)
        cx.ordered = True
        return flatten(render_dag(root, numpy_base.rule, cx))
    body = write(expr)
    for n in reversed(used):
        body = f"(lambda {naming.python(names[n])}: {body})({write(n)})"
    return body


def test_one_context_writes_what_a_context_per_piece_writes():
    named = [r for r in REPORTS if r.code_names(r.shown)]
    assert len(named) > 10
    for r in named:
        names = r.code_names(r.shown)
        try:
            code = to_numpy(r.shown, names=names, bound=r.scope(), naming=r.naming)
        except ValueError:
            continue
        if "svd" in code:
            continue
        assert code == _separate_contexts(r.shown, names, r.naming)
