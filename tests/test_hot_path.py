"""Work the batch path skips, and why skipping it is sound (counted, never timed).

* The division-by-zero check of a problem simplifies its expression only when
  the expression has a node that can lead to a division (``derivatives._cannot_divide``):
  the skip is sound only if the canonical form of every expression the filter
  passes divides by no zero (it may hold an inverse's negative powers, whose
  bases are never 0), which is checked here on random expressions of every node
  type and on the cookbook.
* The NumPy planner orders each product chain once per run.
"""
from __future__ import annotations

import sys

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from cookbook import GRADIENTS  # noqa: E402
from strategies import expressions  # noqa: E402

from matdiff_cli import simplify as simplify_mod  # noqa: E402
from matdiff_cli.commands import Options  # noqa: E402
from matdiff_cli.derivatives import _cannot_divide, derive  # noqa: E402
from matdiff_cli.document import parse  # noqa: E402
from matdiff_cli.expr import Div, EDiv, EPow, Inverse, Mul, Power, Sym, is_zero, walk  # noqa: E402
from matdiff_cli.render import chains as chains_mod  # noqa: E402


def _divides(e) -> bool:
    """A quotient or a negative power anywhere in e."""
    return any(isinstance(n, (Div, EDiv)) or (isinstance(n, (Power, EPow)) and n.p < 0)
               for n in walk(e))


def _divides_by_zero(e) -> bool:
    """A quotient by 0 or a negative power of 0 anywhere in e."""
    return any((isinstance(n, (Div, EDiv)) and is_zero(n.args[1])) or
               (isinstance(n, (Power, EPow)) and n.p < 0 and is_zero(n.args[0]))
               for n in walk(e))


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(expressions(depth=4, diffs=False))
def test_an_expression_the_filter_passes_never_divides_once_simplified(expr):
    if _cannot_divide(expr):
        canonical = simplify_mod.simplify(expr)
        assert not _divides_by_zero(canonical), expr
        if not any(isinstance(n, Inverse) for n in walk(expr)):   # (an inverse's bases: not 0)
            assert not _divides(canonical), expr


def test_the_filter_passes_no_expression_that_divides_and_many_that_do_not():
    passed = 0
    for _, decls, src, _, _ in GRADIENTS:
        e = parse(src, declare=decls).expr
        if _cannot_divide(e):
            passed += 1
            assert not _divides_by_zero(simplify_mod.simplify(e)), src
    assert passed >= len(GRADIENTS) // 3  # the skip serves the common case


def test_a_division_free_problem_is_checked_without_simplifying_it(monkeypatch):
    problem = parse("A: n x n\nx: n\nx^T A A^T A x + tr(A ⊗ A) + sum(exp(A x))")
    assert _cannot_divide(problem.expr)
    calls = []
    real = simplify_mod.simplify
    monkeypatch.setattr("matdiff_cli.derivatives.simplify",
                        lambda e: calls.append(e) or real(e))
    derive(problem, problem.symbols["x"], "grad", Options())
    assert problem.expr not in calls
    for text in ("α / (β - β)", "(x^T x)^-1", "α (β - β)^-1", "sum(x ./ y)"):
        assert not _cannot_divide(parse(text).expr), text


def test_an_inverse_passes_the_filter_and_its_negative_powers_have_bases_that_are_not_zero():
    """inv(c s A) = c^-1 s^-1 A^-1 and det(A^-1) = det(A)^-1 divide by a scalar
    factor of a canonical product and by a determinant, never 0; an inverse of
    a zero matrix divides by no number (it is no quotient: numbers show it)."""
    decls = ["A, B: n x n", "x: n", "α, β: scalar"]
    for text in ("x^T inv(α A) x", "det(inv(α β A B))", "tr(inv(2 α A + 2 B))",
                 "x^T inv((β - β) A) x", "det(inv(A - A))", "α det(inv(α^2 A)) det(α A^T)",
                 "tr(inv(A^T) inv(x^T x A)) + logdet(inv(A))"):
        e = parse(text, declare=decls).expr
        assert _cannot_divide(e), text
        assert not _divides_by_zero(simplify_mod.simplify(e)), text


def test_a_chain_is_ordered_once_per_run(monkeypatch):
    mats = [Sym(f"C{i}", (d, e)) for i, (d, e) in
            enumerate([("p", "q"), ("q", "r"), ("r", "s"), ("s", "p")])]
    chains_mod._ORDERS.clear()
    calls = []
    real = chains_mod._order_uncached
    monkeypatch.setattr(chains_mod, "_order_uncached", lambda m: calls.append(1) or real(m))
    first = chains_mod._order(list(mats))
    again = [chains_mod._order(list(mats)) for _ in range(5)]
    assert len(calls) == 1 and all(t is first for t in again)
    assert isinstance(first, Mul)
