"""The strategy: bottom-up over the DAG, memoised; at each node the first rule of its
type that changes it, then the result canonicalised again."""
from __future__ import annotations

from ..expr import Expr

# Why each rule terminates: every rule says which of these it is, and the
# strategy applies the rules of a node until none changes it.
SHRINKS = "shrinks: the result has fewer nodes"
PUSHES = ("pushes down: moves an operator (transpose, inverse, trace, a scalar) one level "
          "toward the leaves, where it stops")
NORMAL = ("normal form: its result is a fixed point of the rule (collected, sorted, merged), "
          "and it returns a node already so unchanged")
REPLACES = "replaces a node that no rule builds (a / c, a ./ b) by one that no rule undoes"
TERMINATION = (SHRINKS, PUSHES, NORMAL, REPLACES)


class Rewrite:
    """One simplification rule: an identity, as data, and the function that applies it
    to a node (returning the node itself when it does not apply)."""

    __slots__ = ("fn", "name", "identity", "terminates", "types")

    def __init__(self, fn, identity: str, terminates: str, types: tuple):
        if terminates not in TERMINATION:
            raise ValueError(f"{fn.__name__}: say why it terminates ({terminates!r})")
        self.fn, self.name, self.identity = fn, fn.__name__, identity
        self.terminates, self.types = terminates, types

    def __call__(self, node: Expr) -> Expr:
        return self.fn(node)

    def __repr__(self) -> str:
        return f"Rewrite({self.name}: {self.identity})"


RULES: dict[type, list] = {}   # node type -> its rewrites, in the order they are tried


def rule(*types, identity: str, terminates: str):
    """@rule(Transpose, identity="(A^T)^T = A", terminates=SHRINKS): a rewrite of
    those node types, tried after the ones filed before it."""
    def register(fn):
        rewrite = Rewrite(fn, identity, terminates, types)
        for t in types:
            RULES.setdefault(t, []).append(rewrite)
        return fn
    return register


_canon: dict = {}
_fired: dict = {}   # a node a rule changed -> (the rewrite, its direct result)


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
    for rewrite in RULES.get(type(node), ()):
        out = rewrite.fn(node)
        if out is not node:
            assert out.shape == node.shape, (rewrite.name, node, out)
            _fired[node] = (rewrite, out)
            return simplify(out)
    return node


def rules_fired(expr: Expr) -> list:
    """The rewrites that took expr to its canonical form (each once, in the order of
    a walk from the leaves up): read back from what the memo recorded, so it costs
    a walk of expr and of the intermediate forms, whenever they were simplified."""
    from ..expr import postorder_missing

    simplify(expr)
    out: dict = {}
    seen: dict = {}
    todo = [expr]
    while todo:
        for node in postorder_missing(todo.pop(), seen):
            seen[node] = True
            kids = tuple(_canon.get(c, c) for c in node.children)
            rebuilt = node if kids == node.children else node.rebuild(kids)
            fired = _fired.get(rebuilt)
            if fired is not None:
                out.setdefault(fired[0], None)
                if fired[1] not in seen:
                    todo.append(fired[1])
    return list(out)
