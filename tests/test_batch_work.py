"""Work a document of many problems does once (issue 13, batch throughput).

Counted, never timed:

* the text and LaTeX of pieces written without names are a memo shared by the
  whole run (``TextContext.of``): a node the result and the differential share,
  or that two problems share, is rendered by its rule once; and the memo never
  changes a byte (each rendering equals one made with a fresh memo, whatever
  was rendered before it, in any order);
* ``conditions`` visits each distinct node of the differential and the result
  once, and ``named_lines`` walks nothing when nothing is named.
"""
from __future__ import annotations

import random

import pytest

from budget import Counting
from cookbook import GRADIENTS
from matdiff_cli import derivative_report
from matdiff_cli.commands import Options
from matdiff_cli.derivative_report import DerivativeReport
from matdiff_cli.derivatives import derive
from matdiff_cli.document import parse
from matdiff_cli.expr import walk
from matdiff_cli.render import latex as latex_mod
from matdiff_cli.render import text as text_mod
from matdiff_cli.render.latex import to_latex
from matdiff_cli.render.text import to_text


def report(decls, src, wrt, command="grad"):
    problem = parse(src, declare=decls)
    der = derive(problem, problem.symbols[wrt], command, Options(command=command))
    return DerivativeReport(der)


# extra rows where the text must write the identity's size (eye(n)) or not (I)
IDENTITY_ROWS = [
    ("hess_xtx", ["x: n"], "x^T x", "x", "hess"),
    ("hess_xtAx", ["x: n", "A: n x n"], "x^T (A + I) x", "x", "hess"),
    ("grad_tr_X_plus_I", ["X: n x n"], "tr(inv(X + I))", "X", "grad"),
    ("jac_x", ["x: n"], "x", "x", "jac"),
    ("jac_Ax_plus_x", ["x: n", "A: n x n"], "A x + x", "x", "jac"),
]


def pieces():
    """(label, expression, names) of results and differentials of many problems."""
    rows = [(n, d, s, w, "grad") for n, d, s, w, _ in GRADIENTS] + IDENTITY_ROWS
    out = []
    for name, decls, src, wrt, command in rows:
        try:
            r = report(decls, src, wrt, command)
        except Exception:
            continue
        out.append((name + " result", r.shown, r.top(r.shown)))
        out.append((name + " differential", r.shown_df, r.df_names()))
    return out


def test_shared_memo_never_changes_a_rendering(monkeypatch):
    items = pieces()
    assert len(items) > 100
    fresh = {}
    for label, e, names in items:   # each with a memo of its own
        monkeypatch.setattr(text_mod, "_SHARED_DOCS", {})
        fresh[label] = (to_text(e, names=names), to_latex(e, names=names))
    assert any("eye(" in t for t, _ in fresh.values())   # the identity's size case is here
    assert any(" I" in t or "I " in t for t, _ in fresh.values())
    for seed in range(3):   # one memo for all, in any order: the same bytes
        monkeypatch.setattr(text_mod, "_SHARED_DOCS", {})
        order = items[:]
        random.Random(seed).shuffle(order)
        for label, e, names in order:
            assert (to_text(e, names=names), to_latex(e, names=names)) == fresh[label], label


def test_result_and_differential_render_each_node_once(monkeypatch):
    monkeypatch.setattr(text_mod, "_SHARED_DOCS", {})
    text_rule, latex_rule = Counting(text_mod.rule), Counting(latex_mod.rule)
    monkeypatch.setattr(text_mod, "rule", text_rule)
    monkeypatch.setattr(latex_mod, "rule", latex_rule)
    distinct = set()
    n = 0
    for name, decls, src, wrt, _ in GRADIENTS[:40]:
        r = report(decls, src, wrt)
        if r.names or r.df_names():   # named pieces: rendered with their names, unshared
            continue
        n += 1
        for e in (r.shown, r.shown_df):
            distinct |= set(walk(e))
            to_text(e)
            to_latex(e)
        calls = text_rule.calls, latex_rule.calls
        for e in (r.shown, r.shown_df):   # again: nothing left to render
            assert to_text(e) and to_latex(e)
        assert (text_rule.calls, latex_rule.calls) == calls
    assert n > 20
    # one rule call per distinct node and notation (the identity's second, sized
    # spelling aside), however many problems and renderings share it
    assert text_rule.calls <= len(distinct) + 5
    assert latex_rule.calls == len(distinct)


def test_conditions_visit_each_node_once(monkeypatch):
    r = report(["A: n x n symmetric", "B: n x n"], "lambda_max(A + B^T A B) + lambda_min(A)",
               "A")
    exprs = [r.shown_df, r.shown]
    union = set(walk(r.shown_df)) | set(walk(r.shown))
    visited = []
    real = derivative_report.walk

    def counting(*roots):
        for node in real(*roots):
            visited.append(node)
            yield node
    monkeypatch.setattr(derivative_report, "walk", counting)
    said = derivative_report.conditions(exprs)
    assert len(visited) == len(set(visited)) == len(union)
    assert said and len(said) == len(set(said))
    assert any("lambda_max" in s for s in said) and any("lambda_min" in s for s in said)


def test_named_lines_walk_nothing_when_nothing_is_named(monkeypatch):
    r = report(["X: n x n", "A: n x n"], "tr(A X)", "X")
    walks = []
    real = derivative_report.walk
    monkeypatch.setattr(derivative_report, "walk", lambda e: walks.append(e) or real(e))
    assert r.named_lines(to_text, r._exprs()) == []
    assert walks == []
    named = report(["x: n", "A: n x n"], "h = tanh(A x)\nsum(h .* h)", "x")
    assert named.named_lines(to_text, named._exprs())   # h is named: listed, walked
    assert walks


@pytest.mark.parametrize("fmt", ["text", "latex"])
def test_a_name_is_never_taken_from_the_shared_memo(fmt):
    """A piece written once without names and then as a name keeps its name."""
    render = to_text if fmt == "text" else to_latex
    r = report(["x: n", "A: n x n"], "h = tanh(A x)\nsum(h .* h)", "x")
    plain = render(r.shown)                      # h written out, into the memo
    with_names = render(r.shown, names=r.top(r.shown))
    assert plain != with_names and "tanh" in plain and "tanh" not in with_names
