"""The work of a derivative report between its derivation and its JSON line.

Counted, never timed:

* ``shared_names`` finds the pieces used twice without a count per node (a node
  popped again, or a part of two outputs) and names the same pieces as counting
  every use does;
* ``report_conditions`` makes no search of the nodes when the only nodes that
  could say something are functions and none of them is a sign (``exp``,
  ``log``, ``tanh``: many results), and still says where a sign's result holds.
"""
from __future__ import annotations

from cookbook import GRADIENTS
from matdiff_cli import derivative_report
from matdiff_cli.commands import Options
from matdiff_cli.derivative_report import DerivativeReport, report_conditions, shared_names
from matdiff_cli.derivatives import derive
from matdiff_cli.document import parse
from matdiff_cli.expr import walk
from matdiff_cli.simplify import tree_size


def report(decls, src, wrt, **options):
    problem = parse(src, declare=decls)
    return DerivativeReport(derive(problem, problem.symbols[wrt], "grad",
                                   Options(command="grad", **options)))


def used_twice_by_counting(exprs) -> set:
    """The nodes used more than once, counted as the distinct nodes of each expr use them."""
    counts: dict = {}
    for e in exprs:
        for node in set(walk(e)):
            for c in node.children:
                counts[c] = counts.get(c, 0) + 1
    return {n for n, k in counts.items() if k > 1}


def test_shared_names_name_the_pieces_counting_names():
    checked = named = 0
    for _, decls, src, wrt, _ in GRADIENTS[:80]:
        try:
            r = report(decls, src, wrt)
        except Exception:
            continue
        for exprs in ([r.shown], [r.shown_df], [r.shown, r.shown_df], [r.shown_df, r.shown]):
            names = shared_names(exprs, {})
            twice = used_twice_by_counting(exprs)
            for node in names:   # a t-name only for a piece used twice and not small
                if names[node].startswith("t"):
                    assert node in twice and tree_size(node) >= 8
            named += len(names)
            checked += 1
    assert checked > 100 and named > 0


def test_a_piece_of_two_outputs_is_used_twice():
    r = report(["x: n", "A: n x n"], "sum(exp(A x)) + (x^T A x)^2", "x")
    big = max(walk(r.shown), key=tree_size)   # (the whole result: used once in each)
    exprs = [r.shown_df, big]
    assert shared_names(exprs, {}) == shared_names(exprs, {}, nodes=set())
    nodes: set = set()
    shared_names(exprs, {}, nodes=nodes)
    assert nodes == set(walk(*exprs))


def test_functions_without_a_sign_search_no_node(monkeypatch):
    r = report(["x: n", "A: n x n"], "sum(exp(A x)) + sum(log(1 + exp(x)))", "x")
    r.df_names()
    searched = []
    monkeypatch.setattr(derivative_report, "conditions",
                        lambda exprs, render=None: searched.append(exprs) or [])
    assert report_conditions(r) == [] and not searched
    assert "conditions" not in r.to_json()


def test_a_sign_still_says_where_the_result_holds():
    r = report(["x: n"], "sum(abs(x))", "x")
    r.df_names()
    said = report_conditions(r)
    assert said == ["where no entry of x is 0"]
    assert r.to_json()["conditions"] == said
