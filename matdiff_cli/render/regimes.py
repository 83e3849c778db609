"""Plans chosen by the sizes at run time.

The planner (:mod:`.plan`) keeps a choice only when it is good for every
assignment of small and large sizes to the dimensions.  Some are not: the 2
of ``||W2 tanh(W1 X) - Y||^2``'s gradients belongs on the residual (few
outputs, a small batch) or on the results (many outputs, few hidden units),
and its H[V] shares ``dW2 h + W2 dh`` between two products, far cheaper with
many hidden units and far dearer (250x at 3) with few.  So the roots are
planned again for each regime, one and then two dimensions fixed small or
large and the others free (:class:`.chains.at`); every plan is costed at
every corner of the grid (multiply-adds of the products, ``PASS`` for each
entry of an elementwise pass, ``CALL`` for each operation); and when the
planner's own plan is more than ``KEEP`` times the best somewhere and two
plans together are near the best everywhere, the generated function holds
both: it computes their costs, two polynomials in the sizes, from the
arguments' shapes and runs the cheaper.  The count is a model, so a choice
it makes is checked by counted work in the tests, never by time.
"""
from __future__ import annotations

from collections import Counter
from itertools import combinations, product as cartesian
from math import gcd

from ..expr import (
    SCALAR, Add, Broadcast, Det, DiagM, Diff, EDiv, Hadamard, Inverse, LogDet, Mul, Num, Sym,
    Transpose, walk,
)
from .chains import LARGE, SMALL, _cheapest, _dims, _size, at

PASS = 8   # an elementwise pass over one entry costs about 8 multiply-adds (NumPy, one thread)
CALL = 10000  # and every operation about 10,000 (a microsecond of the interpreter and NumPy)
SLACK = 1.1        # a pair of plans must be 10% nearer the best than the planner's own
PAIR_SLACK = 1.25  # plan at its worst corner and within 25% of the best at every corner,
KEEP = 1.5         # and the planner's own plan is kept when within 50% at every corner:
                   # a second body is for a real loss, not for a few operations at small sizes
MAX_DIMS = 4


class NoPolynomial(Exception):
    """A cost that is not one polynomial (a chain that multi_dot orders)."""


class Poly:
    """A polynomial in the dimensions: {sorted tuple of names: coefficient}."""
    __slots__ = ("terms",)

    def __init__(self, terms):
        self.terms = {k: v for k, v in terms.items() if v}

    @classmethod
    def of(cls, d) -> "Poly":
        if isinstance(d, int):
            return cls({(): d})
        coef, names = 1, []
        for p in d.split("*"):
            p = p.strip()
            if p.isdigit():
                coef *= int(p)
            else:
                names.append(p)
        return cls({tuple(sorted(names)): coef})

    def __add__(self, other):
        other = other if isinstance(other, Poly) else Poly({(): other})
        out = dict(self.terms)
        for k, v in other.terms.items():
            out[k] = out.get(k, 0) + v
        return Poly(out)

    __radd__ = __add__

    def __mul__(self, other):
        other = other if isinstance(other, Poly) else Poly({(): other})
        out: dict = {}
        for k1, v1 in self.terms.items():
            for k2, v2 in other.terms.items():
                k = tuple(sorted(k1 + k2))
                out[k] = out.get(k, 0) + v1 * v2
        return Poly(out)

    __rmul__ = __mul__

    def __sub__(self, other):
        return self + (-1) * other

    def at(self, corner) -> int:
        """The value at a corner (dimensions it does not name are large)."""
        total = 0
        for names, v in self.terms.items():
            for d in names:
                v *= corner.get(d, LARGE)
            total += v
        return total


def cost(roots, size, chain=None):
    """The work of computing the roots, every distinct node once (the code names
    what it uses twice): ``size(d)`` is a dimension's size (a number or a
    Poly); ``chain(rows, cols)`` the work of a chain multi_dot orders."""
    total = 0
    for node in walk(*roots):   # one memory for all the roots: a shared node once
        if not isinstance(node, (Sym, Num, Diff, Transpose, Broadcast)) and node.children:
            total = total + CALL + _work(node, size, chain)
    return total


def _entries(e, size):
    return size(e.shape[0]) * size(e.shape[1])


def _work(node, size, chain):
    out = _entries(node, size)
    if isinstance(node, Mul):
        mats = [f for f in node.factors if f.shape != SCALAR]
        scaled = len(mats) < len(node.factors) and mats
        work = PASS * out if scaled else 0
        if len(mats) == 2 and any(isinstance(m, DiagM) for m in mats):
            return work + PASS * out  # diag(v) X is a broadcast product
        if len(mats) == 2:
            a, b = mats
            return work + size(a.shape[0]) * size(a.shape[1]) * size(b.shape[1])
        if len(mats) > 2:
            if chain is None:
                raise NoPolynomial
            return work + chain([m.shape[0] for m in mats], [m.shape[1] for m in mats])
        return work
    if isinstance(node, (Add, Hadamard)):
        return PASS * out * (len(node.children) - 1)
    if isinstance(node, (Inverse, Det, LogDet)):
        n = size(node.children[0].shape[0])
        return n * n * n
    if isinstance(node, EDiv) or node.shape != SCALAR:
        return PASS * out
    return PASS * _entries(node.children[0], size)  # a reduction reads its argument


def corners(dims) -> list:
    """Every assignment of small and large sizes to the first four dimensions."""
    dims = list(dims)[:MAX_DIMS]
    return [dict(zip(dims, vs)) for vs in cartesian((SMALL, LARGE), repeat=len(dims))]


def regimes(dims) -> list:
    """One or two of the first four dimensions fixed small or large, the others free."""
    dims = list(dims)[:MAX_DIMS]
    out = []
    for k in (1, 2):
        for chosen in combinations(dims, k):
            out += [dict(zip(chosen, vs)) for vs in cartesian((SMALL, LARGE), repeat=k)]
    return out


def at_corners(roots, grid, memo: dict) -> list:
    """The work of the roots at each corner of grid (a chain left to multi_dot
    at its best order there).  ``memo`` holds each node's work at each corner
    (by its index in grid) for all the plans costed on one grid: they share
    most of their nodes (interned), and a node's work is the same in each."""
    nodes = [n for n in walk(*roots)
             if not isinstance(n, (Sym, Num, Diff, Transpose, Broadcast)) and n.children]
    every = _dims([n.shape for r in roots for n in walk(r)])
    out = []
    for j, corner in enumerate(grid):
        assign = {d: corner.get(d, LARGE) for d in every}

        def size(d):
            return _size(d, assign)

        def chain(rows, cols):
            r, c = [size(d) for d in rows], [size(d) for d in cols]
            return _cheapest(r, c)[1]
        total = 0
        for node in nodes:
            work = memo.get((node, j))
            if work is None:
                work = memo[node, j] = CALL + _work(node, size, chain)
            total += work
        out.append(total)
    return out


def polynomial(roots):
    """The work of the roots as a Poly, or None (a chain left to multi_dot)."""
    try:
        total = cost(roots, Poly.of)
    except NoPolynomial:
        return None
    return total if isinstance(total, Poly) else Poly({(): total})  # no work at all: 0


def by_size(planner, dims):
    """[(None, plan)] or [(condition, plan), (None, plan)]: ``planner()`` is the
    plan for every size; the condition (a Poly c: plan one when c(sizes) <= 0)
    picks between two plans made with some of ``dims`` (the dimensions the
    arguments carry, at most four) fixed (see ``PAIR_SLACK``)."""
    base = planner()
    if not dims or len(dims) > MAX_DIMS:
        return [(None, base)]
    grid = corners(dims)
    plans, polys, table = [], [], []
    memo: dict = {}

    def add(plan):
        if all(plan[0] != q[0] for q in plans):
            poly = polynomial(plan[0])
            plans.append(plan)
            polys.append(poly)
            table.append([poly.at(c) for c in grid] if poly is not None
                         else at_corners(plan[0], grid, memo))
    add(base)
    for fixed in (1, 2):  # one dimension fixed first: its plans' choices hold over more sizes
        for regime in regimes(dims):
            if len(regime) == fixed:
                with at(regime):
                    add(planner())
        choice, own = _pair(plans, polys, table, dims)
        if choice is not None or own <= SLACK:
            return choice or [(None, base)]  # (no plan of one fixed dimension beats the
    return [(None, base)]                    # planner's own by 10%: nor will two)


def _pair(plans, polys, table, known):
    """(two of the plans and the condition for the first, or None: the planner's
    own plan, plans[0], is within ``KEEP`` at every corner, or no pair is good;
    and how far the planner's plan is from the best at its worst corner).
    ``table``: each plan's work at each corner; ``polys``: as polynomials;
    ``known``: the dimensions the arguments carry."""
    best = [min(col) for col in zip(*table)]

    def worst(*rows):  # the cheaper plan of rows at each corner, against the best there
        return max(min(t[j] for t in rows) / max(best[j], 1) for j in range(len(best)))
    own = worst(table[0])
    if own <= KEEP:
        return None, own
    pairs = sorted((worst(table[i], table[j]), i, j) for i in range(len(plans))
                   for j in range(i, len(plans))
                   if polys[i] is not None and polys[j] is not None)
    if not pairs or pairs[0][0] > PAIR_SLACK or pairs[0][0] * SLACK > own:
        return None, own
    # of the pairs about as good as the best, the first: the earlier plans
    # (one dimension fixed) make choices that hold over more sizes
    i, j = min((i, j) for w, i, j in pairs if w <= 1.05 * pairs[0][0])
    if i == j:
        return [(None, plans[i])], own
    test = polys[i] - polys[j]
    if any(d not in known for names in test.terms for d in names):
        return None, own  # a size no argument carries: the test could not be written
    return [(test, plans[i]), (None, plans[j])], own


def reduced(poly: Poly) -> Poly:
    """poly divided by the dimensions every term has (sizes are positive: the
    sign, all a test of sizes asks, is kept)."""
    common = None
    for names in poly.terms:
        counts = Counter(names)
        common = counts if common is None else common & counts
    if not common:
        return poly
    return Poly({tuple(sorted((Counter(k) - common).elements())): v
                 for k, v in poly.terms.items()})


def condition(poly, dim) -> str:
    """``lhs <= rhs`` for poly <= 0, the common factor of its terms divided
    out (their numbers' gcd, and the dimensions every term has: sizes are
    positive, so ``k k m <= k k n`` is ``m <= n``); ``dim(d)`` writes a
    dimension (``X.shape[0]``)."""
    poly = reduced(poly)
    terms = sorted(poly.terms.items(), key=lambda kv: (-len(kv[0]), kv[0]))
    g = 0
    for _, v in terms:
        g = gcd(g, abs(v))

    def side(items):
        out = []
        for names, v in items:
            factors = ([str(v // g)] if v // g != 1 or not names else []) + [dim(n) for n in names]
            out.append(" * ".join(factors))
        return " + ".join(out) or "0"
    lhs = side([(k, v) for k, v in terms if v > 0])
    rhs = side([(k, -v) for k, v in terms if v < 0])
    return f"{lhs} <= {rhs}"


__all__ = ["by_size", "condition", "cost", "reduced", "PASS"]
