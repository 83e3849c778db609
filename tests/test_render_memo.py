"""A derivative report's render memo and a Doc's joined text (batch throughput).

Counted, never timed:

* a report renders its result, its differential and their where lines through
  one memo per names dict: each rendering equals one made with a fresh
  context, in any order, and a piece they share is rendered by its rule once
  per format (a named piece written out as a where line is kept beside the
  memo, where the node stands for its name);
* a Doc joins its text as it is made when it is short: ``flatten`` returns it,
  and a long or deferred text is still written part by part.
"""
from __future__ import annotations

import random

import pytest

from budget import Counting
from cookbook import GRADIENTS
from matdiff_cli.commands import Options
from matdiff_cli.derivative_report import DerivativeReport, shared_names
from matdiff_cli.derivatives import derive
from matdiff_cli.document import parse
from matdiff_cli.expr import Add, Sym, walk
from matdiff_cli.render import MAX_JOINED, Deferred, Doc, flatten, segments
from matdiff_cli.render import text as text_mod
from matdiff_cli.render.latex import to_latex
from matdiff_cli.render.text import to_text

NAMED = [   # problems whose results have named pieces (definitions, shared t1, ...)
    (["x: n", "A: n x n"], "h = tanh(A x)\nsum(h .* h)", "x"),
    (["x: n", "W1: m x n", "W2: m x m"], "h1 = tanh(W1 x)\nh2 = tanh(W2 h1)\nsum(h2 .* h2)", "x"),
    (["x: n", "A: n x n", "b: n"], "r = A x - b\nsum(r .* r) + sum(exp(r))", "x"),
    (["A: n x n symmetric"], "lambda_max(A)", "A"),
]


def report(decls, src, wrt):
    problem = parse(src, declare=decls)
    return DerivativeReport(derive(problem, problem.symbols[wrt], "grad", Options(command="grad")))


def renderings(r):
    """(label, expression, names) of everything a derivative's JSON renders."""
    out = [("result", r.shown, r.top(r.shown)), ("differential", r.shown_df, r.df_names())]
    for exprs, names in (([r.shown], r.names), ([r.shown_df], r.df_names())):
        out += [("where " + name, node, names) for node, name in names.items()
                if any(node is n for e in exprs for n in walk(e))]
    return out


def reports():
    rows = [(d, s, w) for _, d, s, w, _ in GRADIENTS[:60]] + NAMED
    out = []
    for decls, src, wrt in rows:
        try:
            out.append(report(decls, src, wrt))
        except Exception:
            continue
    return out


def test_the_memo_never_changes_a_rendering():
    rs = reports()
    assert sum(bool(r.names) for r in rs) >= 4
    for seed, r in enumerate(rs):
        items = renderings(r)
        fresh = {label: (to_text(e, names=dict(names)), to_latex(e, names=dict(names)))
                 for label, e, names in items}   # (a copy: no memo is kept for it)
        order = items * 2
        random.Random(seed).shuffle(order)
        for label, e, names in order:
            assert (r.text_of(e, names), r.latex_of(e, names)) == fresh[label], label


@pytest.mark.parametrize("decls, src, wrt", NAMED[:3])
def test_shared_pieces_are_rendered_once_per_format(monkeypatch, decls, src, wrt):
    r = report(decls, src, wrt)
    assert r.names and r.df_names() is r.names   # the differential names nothing new
    rule = Counting(text_mod.rule)
    monkeypatch.setattr(text_mod, "rule", rule)
    r.text_of(r.shown, r.top(r.shown))
    r.named_lines(r.text_of, r._exprs())
    first = rule.calls
    # the differential and its where lines: only what the result does not hold
    r.text_of(r.shown_df, r.df_names())
    pieces = r.named_lines(r.text_of, [r.shown_df], r.df_names())
    new = set(walk(r.shown_df)) - set(walk(r.shown))
    assert rule.calls - first <= len(new) + 1 + len(pieces)
    # again: nothing, not even the named pieces written out (their Docs are kept
    # beside the memo): each piece is rendered at most once per format
    before = rule.calls
    r.named_lines(r.text_of, r._exprs())
    assert rule.calls == before


def test_a_named_root_never_enters_the_memo():
    r = report(*NAMED[0])
    (node, name), = [(n, v) for n, v in r.names.items() if n.children][:1]
    result = r.text_of(r.shown, r.top(r.shown))     # h as its name, into the memo
    assert name in result and "tanh" not in result
    body = r.text_of(node, r.names)                 # h written out: tanh(A x)
    assert "tanh" in body
    assert r.memo(r.names)[text_mod.TEXT][node].parts == (name,)   # still its name
    assert r.text_of(r.shown, r.top(r.shown)) == result


def test_a_doc_joins_a_short_text_and_writes_a_long_one():
    a = Doc(0, ("a", " + ", "b"))
    assert a.text == "a + b" and flatten(Doc(0, ("(", a, ")"))) == "(a + b)"
    long_ = Doc(0, ["x"] * (MAX_JOINED + 1))
    assert long_.text is None and flatten(Doc(0, (long_, "!"))) == "x" * (MAX_JOINED + 1) + "!"
    deferred = Doc(0, ("a", Deferred(ValueError("no size"))))
    assert deferred.text is None
    with pytest.raises(ValueError):
        flatten(Doc(0, ("b ", deferred)))
    assert "".join(t for t, _ in segments(Doc(0, ("(", a, ")")))) == "(a + b)"


def test_a_long_sum_is_written_whole():
    xs = [Sym(f"x{i}", (1, 1), frozenset()) for i in range(400)]
    text = to_text(Add(*xs))
    assert text == " + ".join(f"x{i}" for i in range(400))


def test_shared_names_of_a_result_with_nothing_to_name_are_its_names():
    r = report(["X: n x n", "A: n x n"], "tr(A X)", "X")
    taken = {}
    assert shared_names([r.shown_df], taken) == {} == shared_names([r.shown], taken)
