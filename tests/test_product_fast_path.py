"""canonical_product's fast path (products._already_canonical) takes a product as
canonical only where the full rule returns it unchanged: it mirrors the rule's
cases (a number first, sorted scalars, a chain without 1x1 sub-chains or pairs
that cancel or merge, a 1x1 chain the way round _orient keeps) exactly."""
from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from matdiff_cli.expr import DiagM, Identity, Inverse, Mul, Num, Transpose, walk
from matdiff_cli.simplify import products, simplify
from budget import examples
from strategies import BY_SHAPE, NUMBERS, expressions

PROPERTY = settings(max_examples=examples(80), deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def _full_rule(m: Mul):
    """canonical_product(m) the long way (its fast path off)."""
    fast = products._already_canonical
    products._already_canonical = lambda e: False
    try:
        return products.canonical_product(m)
    finally:
        products._already_canonical = fast


def _products_over_canonical_children(e) -> list:
    """Every product of e, and of its canonical form, over canonical children (what
    the rule is given), canonical or not."""
    out = []
    for root in (e, simplify(e)):
        for node in walk(root):
            if isinstance(node, Mul):
                out.append(node.rebuild([simplify(c) for c in node.children]))
    return out


@PROPERTY
@given(expressions(depth=4, diffs=True))
def test_the_fast_path_takes_a_product_only_when_the_rule_leaves_it(e):
    for m in _products_over_canonical_children(e):
        if products._already_canonical(m):
            assert _full_rule(m) is m, m


@st.composite
def chains(draw):
    """A product of canonical pool factors whose shapes chain (rows, columns, 1x1
    factors, transposes, inverses, diag(x), identities), with numbers and scalars
    anywhere: the neighbours the fast path must judge as the rule does."""
    dims = draw(st.lists(st.sampled_from(["n", "m", 1]), min_size=3, max_size=7))
    factors = []
    for r, c in zip(dims, dims[1:]):
        options = BY_SHAPE[(r, c)] + [Transpose(s) for s in BY_SHAPE[(c, r)]]
        if r == c and r != 1:
            options += [Inverse(s) for s in BY_SHAPE[(r, c)]] + [Identity(r)]
            options += [DiagM(s) for s in BY_SHAPE[(r, 1)]]
        factors.append(draw(st.sampled_from(options)))
    for _ in range(draw(st.integers(0, 2))):   # numbers and scalars, anywhere
        scalar = draw(st.sampled_from([Num(v) for v in NUMBERS] + BY_SHAPE[(1, 1)]))
        factors.insert(draw(st.integers(0, len(factors))), scalar)
    return Mul(*[simplify(f) for f in factors])


_x, _r, _A = BY_SHAPE[("n", 1)][0], BY_SHAPE[(1, "n")][0], BY_SHAPE[("n", "n")][0]


@settings(PROPERTY, max_examples=examples(400))
@given(chains())
@example(Mul(_A, DiagM(_x), _x))   # diag(v) w: v ⊙ w
@example(Mul(_x, _r, _x))   # x (r x): a 1x1 sub-chain
@example(Mul(_A, _A))   # A^2
def test_the_fast_path_judges_neighbours_as_the_rule_does(m):
    if products._already_canonical(m):
        assert _full_rule(m) is m, m
