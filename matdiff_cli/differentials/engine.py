"""The walk: d(expr) with respect to one variable, visiting only the nodes that
contain it, children first, each rule applied once per node (a shared
subexpression's differential is shared).
"""
from __future__ import annotations

from .. import build as b
from ..expr import Add, Diff, Expr, Mul, Power, Sym, Trace, nodes
from .algebra import MIN_GROUPED, d_trace_power, power_of
from .registry import apply_rule


# ---------------------------------------------------------------- the engine

def depends_on(expr: Expr, target: Expr) -> dict:
    """For every node of expr, children first: does it contain target (a variable,
    or its dX)?"""
    dep: dict = {}
    for node in nodes(expr):
        found = node is target
        if not found:
            for c in node.children:
                if dep[c]:
                    found = True
                    break
        dep[node] = found
    return dep


def differential(expr: Expr, var: Sym) -> Expr:
    """The differential of expr with respect to var, in terms of Diff(var).

    Only the nodes that contain var are differentiated.  The first time an
    expression is differentiated, one pass over its nodes finds them; for another
    variable of the same expression they are found upwards from var through a map
    of parents (made then, once): differentiating a sum of n variables' terms with
    respect to each in turn costs n, not n^2."""
    if _graph_of[0] is expr or _first_of[0] is expr:   # (again: the map of parents)
        order, parents = _graph(expr)
        if var not in order:
            return b.zero(expr.shape)
        up = {var}              # the nodes that contain var
        stack = [var]
        while stack:
            for p in parents.get(stack.pop(), ()):
                if p not in up:
                    up.add(p)
                    stack.append(p)
        todo = sorted(up, key=order.__getitem__)   # children first
    else:
        _first_of[0] = expr
        up, todo = set(), []
        for node in nodes(expr):   # (children first)
            if node is not var:
                for c in node.children:
                    if c in up:
                        break
                else:
                    continue
            up.add(node)
            todo.append(node)
        if not todo:
            return b.zero(expr.shape)
    memo: dict = {}
    for node in todo:
        kind = type(node)
        if node is var:
            memo[node] = Diff(var)
        elif kind is Trace and power_of(node.a) is not None:
            # tr(A^k): from dA directly, never through the k terms of d(A^k)
            memo[node] = d_trace_power(node, _base_differential(node.a, memo))
        elif (kind is Power or kind is Mul and len(node.args) >= MIN_GROUPED) and \
                power_of(node) is not None:   # (power_of's test, before the call)
            memo[node] = _Lazy()   # written only if a parent other than a trace needs it
        elif kind is Add:
            memo[node] = b.add(*[_get(memo, c) for c in node.children if c in up])
        else:
            kids = []   # (_get, inline for a child's differential in the memo)
            for c in node.children:
                dc = memo.get(c)
                kids.append(dc if dc is not None and type(dc) is not _Lazy else _get(memo, c))
            memo[node] = apply_rule(node, tuple(kids))
    return _get(memo, expr)


_first_of: list = [None]   # the last expression differentiated once (without the map)


_graph_of: list = [None, None, None]


def _graph(expr: Expr) -> tuple:
    """(post-order index, parents) of expr's nodes; kept for the last expression
    (a problem is differentiated with respect to each of its variables in turn)."""
    if _graph_of[0] is not expr:
        order: dict = {}
        parents: dict = {}
        for i, node in enumerate(nodes(expr)):
            order[node] = i
            for c in node.children:
                ps = parents.get(c)
                if ps is None:
                    parents[c] = [node]
                elif ps[-1] is not node:   # (a child twice, as in A A: one parent)
                    ps.append(node)
        _graph_of[:] = [expr, order, parents]
    return _graph_of[1], _graph_of[2]


class _Lazy:
    """A power's differential not written yet (see differential)."""
    __slots__ = ()


def _get(memo, c):
    out = memo.get(c)
    if out is None:          # a child without the variable
        return b.zero(c.shape)
    if type(out) is _Lazy:   # a power used outside a trace: write its terms now
        out = memo[c] = apply_rule(c, tuple(_get(memo, g) for g in c.children))
    return out


def _base_differential(a, memo):
    """dB for tr(B^k), from the memo: B is A of A^k, or the block of a repeated chain."""
    if isinstance(a, Power):
        return _get(memo, a.base)
    base, k = power_of(a)
    period = len(a.factors) // k
    kids = tuple(_get(memo, f) for f in a.factors[:period])
    return kids[0] if period == 1 else apply_rule(base, kids)
