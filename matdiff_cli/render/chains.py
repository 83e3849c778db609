"""The order of a product chain, and the place of its scalar, chosen by cost
(:mod:`.plan` uses both).  The sizes are symbolic, so each choice is made for
every assignment of small (3) and large (1000) sizes to the dimensions: an
order within 10% of the best at every size is kept as nested binary products;
when none is, the chain stays flat (``multi_dot`` orders it at run time).  The
choices depend on the shapes alone and are cached by them.

Inside ``at(regime)`` every choice is made for the sizes some dimensions
have there (:mod:`.regimes` plans each regime so, and lets the generated code
pick a plan by the sizes it is called with).
"""
from __future__ import annotations

from itertools import product as cartesian

from ..expr import SCALAR, DiagM, Hadamard, Inverse, Mul

SMALL, LARGE = 3, 1000

_CORNER = None  # within at(corner): the one assignment of sizes every choice is made for


def grid(every):
    """The assignments of sizes a choice must be good for: small and large for
    the first four dimensions (the rest large); within ``at(regime)`` the
    regime's dimensions have its sizes and the others vary."""
    free = [d for d in every if _CORNER is None or d not in _CORNER][:4]
    grid = [dict(zip(free, vs)) for vs in cartesian((SMALL, LARGE), repeat=len(free))]
    if len(free) < len(every):   # (else free is every dimension: each has its size)
        for a in grid:
            for d in every:
                a.setdefault(d, LARGE if _CORNER is None else _CORNER.get(d, LARGE))
    return grid


class at:
    """``with at(regime):`` choices for those sizes of some dimensions (the
    others vary as always), with caches of their own."""

    def __init__(self, corner: dict):
        self.corner = corner

    def __enter__(self):
        global _CORNER, _ORDERS, _RECIPES, _PLACES
        self.saved = (_CORNER, _ORDERS, _RECIPES, _PLACES)
        _CORNER, _ORDERS, _RECIPES, _PLACES = self.corner, {}, {}, {}

    def __exit__(self, *exc):
        global _CORNER, _ORDERS, _RECIPES, _PLACES
        _CORNER, _ORDERS, _RECIPES, _PLACES = self.saved


def _dims(shapes):
    out = []
    for s in shapes:
        for d in s:
            for p in (d.split("*") if isinstance(d, str) else ()):
                p = p.strip()
                if not p.isdigit() and p not in out:
                    out.append(p)
    return out


def _size(d, assign) -> int:
    if isinstance(d, int):
        return d
    v = assign.get(d)
    if v is not None:   # a plain dimension (most): its own entry
        return v
    v = 1
    for p in d.split("*"):
        p = p.strip()
        v *= int(p) if p.isdigit() else assign[p]
    return v


def _cheapest(r, c):
    """(the cheapest split table, its cost) for a chain whose factors have r[i]
    rows and c[i] columns (one assignment of sizes); ties go to the
    left-to-right order."""
    k = len(r)
    if k == 3:   # (most chains) two orders, (AB)C and A(BC), the first on a tie
        left = r[0] * c[0] * c[1] + r[0] * c[1] * c[2]
        right = r[1] * c[1] * c[2] + r[0] * c[0] * c[2]
        return {(0, 1): 0, (1, 2): 1, (0, 2): 1 if left <= right else 0}, min(left, right)
    cost = {(i, i): 0 for i in range(k)}
    split = {}
    for length in range(2, k + 1):
        for i in range(k - length + 1):
            j = i + length - 1
            ri, cj = r[i], c[j]
            best = None
            for s in range(j - 1, i - 1, -1):  # the left-nested split first
                v = cost[i, s] + cost[s + 1, j] + ri * c[s] * cj
                if best is None or v < best:
                    best, split[i, j] = v, s
            cost[i, j] = best
    return split, cost[0, k - 1]


def _tree_cost(split, r, c, i=0, j=None):
    """The cost of the tree ``split`` describes, over factors i..j (a plain
    recursive function: a recursive closure is a reference cycle)."""
    j = len(r) - 1 if j is None else j
    s = split[i, j]
    cost = r[i] * c[s] * c[j]
    if s > i:   # (a factor alone costs nothing: no call for it)
        cost += _tree_cost(split, r, c, i, s)
    if s + 1 < j:
        cost += _tree_cost(split, r, c, s + 1, j)
    return cost


def _build(split, mats, i, j):
    """The product of mats[i..j] (two or more) in the order ``split`` describes."""
    s = split[i, j]   # (a factor alone is taken as it is: no call for it)
    left = mats[i] if s == i else _build(split, mats, i, s)
    right = mats[j] if s + 1 == j else _build(split, mats, s + 1, j)
    return Mul(left, right)


MAX_PLANNED = 16  # a longer chain runs left to right (planning is cubic in its length)


_ORDERS: dict = {}  # chain (interned nodes) -> its tree; _order is pure


def _order(mats):
    if len(mats) == 2:   # one way to multiply two (the node is interned: no memo needed)
        return Mul(mats[0], mats[1])
    key = tuple(mats)
    tree = _ORDERS.get(key)
    if tree is None:
        if len(_ORDERS) >= 4096:
            _ORDERS.clear()
        tree = _ORDERS[key] = _order_uncached(mats)
    return tree


_RECIPES: dict = {}  # the chain's shapes (and which factors are diag/inverse) -> its order
_UNKNOWN = object()


def _order_uncached(mats):
    if len(mats) == 2:  # one way to multiply two
        return Mul(mats[0], mats[1])
    if len(mats) > MAX_PLANNED:
        tree = mats[0]
        for m in mats[1:]:
            tree = Mul(tree, m)
        return tree
    # the order depends on the shapes alone (and on diag/inverse factors): chains of
    # other names but the same shapes share it
    key = tuple([(m.shape, isinstance(m, (DiagM, Inverse))) for m in mats])
    recipe = _RECIPES.get(key, _UNKNOWN)
    if recipe is _UNKNOWN:   # (None is a recipe: multi_dot)
        if len(_RECIPES) >= 4096:
            _RECIPES.clear()
        recipe = _RECIPES[key] = _recipe(mats)
    if recipe is None:
        return Mul(*mats)  # no order is best for every size: multi_dot at run time
    return _build(recipe, mats, 0, len(mats) - 1)


def _recipe(mats):
    """The split table of the chain's order, or None for multi_dot at run time."""
    assigns = grid(_dims([m.shape for m in mats]))  # past the fourth, dimensions are large
    r0, c0 = [m.shape[0] for m in mats], [m.shape[1] for m in mats]
    for a in assigns:   # every dimension's size in each assignment, each worked out once
        for d in set(r0 + c0):
            if d not in a:
                a[d] = _size(d, a)
    rows = [list(map(a.__getitem__, r0)) for a in assigns]
    cols = [list(map(a.__getitem__, c0)) for a in assigns]
    best = [_cheapest(r, c) for r, c in zip(rows, cols)]
    splits = [s for s, _ in best]
    optimum = [o for _, o in best]
    tried: list = []   # most sizes share a few orders: each is judged once
    for s in [splits[-1]] + splits:  # within 10% of the best for every size
        if s in tried:
            continue
        tried.append(s)
        if all(_tree_cost(s, r, c) <= 1.1 * o for r, c, o in zip(rows, cols, optimum)):
            return s
    if len(mats) >= 3 and not any(isinstance(m, (DiagM, Inverse)) for m in mats):
        return None  # no order is best for every size: multi_dot at run time
    return splits[-1]


def _attach(tree, coef, opaque=()):
    """coef times tree, the scalar on the smallest piece: one no larger than
    the result and every other piece for every assignment of small and large
    sizes, and smaller for some (else on the result).  The pieces are the
    operands and partial products of the product tree and, through an
    elementwise product among them, its factors and their pieces (a scalar
    times ``g .* (A r)`` is ``g .* (A (2 r))``); never inside ``opaque``
    (named) nodes."""
    if type(tree) is not Mul and type(tree) is not Hadamard:
        return Mul(coef, tree)   # one piece, the result itself
    pieces = _pieces(tree, opaque)
    key = (tree.shape, tuple([n.shape for n in pieces]))
    at = _PLACES.get(key, -1)
    if at == -1:   # the place depends on the shapes alone
        if len(_PLACES) >= 4096:
            _PLACES.clear()
        at = _PLACES[key] = _place(tree, pieces)
    if at is None:
        return Mul(coef, tree)
    return _put(tree, coef, pieces[at], opaque)


def _put(n, coef, where, opaque=(), done=None):
    """n with coef on one occurrence of its piece ``where``, through ordered
    products and elementwise products, never inside ``opaque`` nodes (a plain
    recursive function: a recursive closure would be a reference cycle, left
    for the cyclic collector, which the command line switches off)."""
    done = [] if done is None else done
    if done:
        return n
    if n is where:
        done.append(n)
        return Mul(coef, n)
    if n in opaque:
        return n
    if isinstance(n, Mul) and _ordered(n):
        return Mul(*[_put(f, coef, where, opaque, done) for f in n.factors])
    if isinstance(n, Hadamard):
        return Hadamard(*[_put(f, coef, where, opaque, done) for f in n.factors])
    return n


_PLACES: dict = {}  # (shape of the tree, shapes of its pieces) -> where the scalar goes


def _place(tree, pieces):
    """The index in ``pieces`` of the piece the scalar goes on, or None (the result)."""
    assigns = grid(_dims([n.shape for n in pieces] + [tree.shape]))

    def sizes(n):
        return [_size(n.shape[0], a) * _size(n.shape[1], a) for a in assigns]

    where, best = None, sizes(tree)
    for i, n in enumerate(pieces):
        s = sizes(n)
        if all(x <= y for x, y in zip(s, best)) and s != best:
            where, best = i, s
    return where


def _ordered(n) -> bool:
    for f in n.factors:
        if f.shape == SCALAR:
            return False
    return True


def _pieces(tree, opaque=()):
    """The operands and partial products of an ordered product tree, and
    through an elementwise product among them its factors and their pieces."""
    out = []
    stack = [tree]
    while stack:
        n = stack.pop()
        inner = n not in opaque
        if inner and isinstance(n, Mul) and _ordered(n):
            stack.extend(n.factors)
            if n is not tree:
                out.append(n)
        elif inner and isinstance(n, Hadamard):
            stack.extend([f for f in n.factors if f.shape != SCALAR])
            if n is not tree:
                out.append(n)
        else:
            out.append(n)
    return out


__all__ = ["LARGE", "MAX_PLANNED", "SMALL"]
