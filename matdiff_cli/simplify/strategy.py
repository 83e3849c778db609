"""The strategy: bottom-up over the DAG, memoised; at each node the first rule of its
type that changes it, then the result canonicalised again."""
from __future__ import annotations

from ..dispatch import registrar
from ..expr import Expr

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Callable  # noqa: F401

Rule = "Callable[[Expr], Expr]"
RULES: dict[type, list] = {}
rule = registrar(RULES, many=True)   # @rule(Add): a rewrite rule node -> node, in order

_canon: dict = {}


# ---------------------------------------------------------------- strategy

def simplify(expr: Expr) -> Expr:
    """The canonical form of expr."""
    hit = _canon.get(expr)
    if hit is not None:
        return hit
    canon = _canon
    if all(c in canon for c in expr.children):  # the common case: a rule's new node
        kids = tuple(canon[c] for c in expr.children)
        rebuilt = expr if kids == expr.children else expr.rebuild(kids)
        out = canon.get(rebuilt)
        if out is None:
            out = canon[rebuilt] = _normalise(rebuilt)
        canon[expr] = out
        canon.setdefault(out, out)
        return out
    stack = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in _canon:
            continue
        pending = [c for c in node.children if c not in _canon]
        if ready or not pending:
            kids = tuple(_canon[c] for c in node.children)
            rebuilt = node if kids == node.children else node.rebuild(kids)
            out = _canon.get(rebuilt)
            if out is None:
                out = _normalise(rebuilt)
                _canon[rebuilt] = out
            _canon[node] = out
            _canon.setdefault(out, out)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in pending)
    return _canon[expr]


def _normalise(node: Expr) -> Expr:
    for fn in RULES.get(type(node), ()):
        out = fn(node)
        if out is not node:
            assert out.shape == node.shape, (fn.__name__, node, out)
            return simplify(out)
    return node
