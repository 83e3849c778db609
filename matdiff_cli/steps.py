"""--steps: the derivation rule by rule, in differential form, as done by hand.

Starting from ``d(f)``, each step expands the leftmost pending differential
``d(e)`` with the rule of e's node type (the same rules as the engine:
``differential.RULES``), and records the rule's name, its identity and the
whole expression after it.  Then the canonical form and the read-off follow.
Steps are for people: their number is capped (the engine itself never
expands anything).
"""
from __future__ import annotations

from . import build as b
from .calculus import RULES, RULE_NAMES, depends_on
from .expr import SCALAR, Diff, Expr, Norm2, NormF, Power, Sym, preorder
from .records import dataclass
from .simplify import _postorder_missing

MAX_STEPS = 60


@dataclass(frozen=True)
class Step:
    rule: str        # "product rule"
    identity: str    # "d(A B) = dA B + A dB"
    expr: Expr       # the whole differential after this step


def identity_of(node) -> str:
    """The rule's identity: the first sentence of its docstring, on one line; for a
    docstring of several cases ("...; ...; ..."), the case of this node."""
    doc = " ".join((RULES[type(node)].__doc__ or "").split())
    first = doc.split(". ")[0].rstrip(".")
    cases = [c.strip() for c in first.split(";")]
    if isinstance(node, Power) and len(cases) == 3:
        if isinstance(node.base, (Norm2, NormF)) and node.p == 2:
            return cases[2]
        return cases[1] if node.base.shape != SCALAR else cases[0]
    return first


def _pending(e: Expr, var: Sym):
    """The first d(node) left to expand, reading left to right."""
    return next((n for n in preorder(e) if isinstance(n, Diff) and n.sym is not var), None)


def replace_node(e: Expr, old: Expr, new: Expr) -> Expr:
    memo: dict = {old: new}
    for node in _postorder_missing(e, memo):
        kids = tuple(memo[c] for c in node.children)
        memo[node] = node if kids == node.children else _rebuild(node, kids)
    return memo[e]


def _rebuild(node, kids):
    """Rebuild, letting the light constructors drop the zeros a step produced."""
    from .expr import Add, Mul, Hadamard, Transpose, Trace
    if isinstance(node, Add):
        return b.add(*kids)
    if isinstance(node, Mul):
        return b.mul(*kids)
    if isinstance(node, Hadamard):
        return b.had(*kids)
    if isinstance(node, Transpose):
        return b.transpose(kids[0])
    if isinstance(node, Trace):
        return b.trace(kids[0])
    return node.rebuild(kids)


def derivation(expr: Expr, var: Sym) -> tuple[list, bool]:
    """(steps, complete): the expansion of d(expr), at most MAX_STEPS steps."""
    dep = depends_on(expr, var)
    if not dep.get(expr):  # a constant (e.g. the gradient of a linear function)
        zero = b.zero(expr.shape)
        return [Step("constant", f"d(c) = 0 when c does not depend on {var.name}", zero)], True
    if expr is var:
        return [Step("variable", f"d({var.name}) = d{var.name}", Diff(var))], True
    current: Expr = Diff(expr)
    steps: list = []
    while True:
        target = _pending(current, var)
        if target is None:
            return steps, True
        if len(steps) >= MAX_STEPS:
            return steps, False
        node = target.sym
        kids = tuple(
            (Diff(c) if c is not var else Diff(var)) if dep.get(c) else b.zero(c.shape)
            for c in node.children)
        out = RULES[type(node)](node, kids)
        current = replace_node(current, target, out)
        steps.append(Step(RULE_NAMES[type(node)], identity_of(node), current))
