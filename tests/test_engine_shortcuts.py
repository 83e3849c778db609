"""The shortcuts of the derivation's hot path give what the long way gives: the
list of a walk, a product's normal form taken as canonical without a second pass,
the trace rotation and the 1x1 orientation that skip the transposed chain, the
adjoint of a product written factor by factor."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from matdiff_cli.expr import SCALAR, Diff, Mul, Num, Sym, Trace, Transpose, nodes, walk
from matdiff_cli.readoff import gradient
from matdiff_cli.simplify import RULES, T, simplify
from matdiff_cli.simplify.algebra import _orient_product, canonical_product
from matdiff_cli.simplify.core import _chain_key
from matdiff_cli.simplify.structure import _best_rotation, _scalar_rotation
from budget import examples
from strategies import expressions

PROPERTY = settings(max_examples=examples(80), deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


@PROPERTY
@given(expressions(depth=4))
def test_nodes_lists_the_walk(e):
    assert nodes(e) == list(walk(e))


@PROPERTY
@given(expressions(depth=4))
def test_a_canonical_product_is_a_fixed_point_of_its_rule(e):
    """What lets the strategy take canonical_product's result over canonical
    children as canonical (core._normal_form), without rewriting it again."""
    for node in walk(simplify(e)):
        if isinstance(node, Mul):
            assert canonical_product(node) is node


def _rotation_the_long_way(chain: list) -> list:
    scalar = _scalar_rotation(chain)
    if scalar is not None:
        return scalar
    flipped = [T(f) for f in reversed(chain)]
    candidates = [ch[i:] + ch[:i] for ch in (chain, flipped) for i in range(len(chain))]
    ending = [c for c in candidates if isinstance(c[-1], Diff)]
    return min(ending or candidates, key=_chain_key)


def _orientation_the_long_way(s: Mul):
    chain = [f for f in s.factors if f.shape != SCALAR]
    if len(chain) < 2:
        return s
    flipped = [T(f) for f in reversed(chain)]
    if min(chain, flipped, key=_chain_key) is chain:
        return s
    return Mul(*[f for f in s.factors if f.shape == SCALAR], *flipped)


@PROPERTY
@given(expressions(depth=4))
def test_rotation_and_orientation_skip_the_transpose_only_when_it_cannot_win(e):
    for node in walk(simplify(e)):
        if isinstance(node, Trace) and isinstance(node.a, Mul):
            chain = list(node.a.factors)
            assert _best_rotation(chain) == _rotation_the_long_way(chain)
        if isinstance(node, Mul) and node.shape == SCALAR:
            assert _orient_product(node) is _orientation_the_long_way(node)


def test_symmetric_and_scalar_differentials_turn_the_chain():
    """dX of a symmetric X is its own transpose: the transposed chain may end in it."""
    S = Sym("S_shortcut", ("n", "n"), frozenset({"symmetric"}))
    a, b = (Sym(f"{c}_shortcut", ("n", 1)) for c in "ab")
    chain = [Diff(S), a, Transpose(b)]
    assert _best_rotation(chain) == _rotation_the_long_way(chain)
    s = Mul(Transpose(a), Diff(S), b)
    assert _orient_product(s) is _orientation_the_long_way(s)


def test_a_product_made_canonical_is_not_rewritten_again():
    """2 (A B): the inner product, then the outer one; its result 2 A B is canonical
    without a third pass of canonical_product."""
    A, B = (Sym(f"{c}_once", ("n", "n")) for c in "AB")
    rewrite = RULES[Mul][0]
    seen = []
    fn = rewrite.fn
    rewrite.fn = lambda node: seen.append(node) or fn(node)
    try:
        out = simplify(Mul(Num(2), Mul(A, B)))
    finally:
        rewrite.fn = fn
    assert out is Mul(Num(2), A, B)
    assert len(seen) == 2


def test_the_adjoint_of_a_product_transposes_factor_by_factor():
    """a^T P X Q b: the gradient P^T a b^T Q^T, each transpose on a factor."""
    P, Q, X = (Sym(f"{c}_adj", ("n", "n")) for c in "PQX")
    a, b = (Sym(f"{c}_adj", ("n", 1)) for c in "ab")
    G = gradient(Mul(Transpose(a), P, X, Q, b), X)
    assert G is simplify(Mul(Transpose(P), a, Transpose(b), Transpose(Q)))
