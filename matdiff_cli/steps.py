"""--steps: the derivation rule by rule, in differential form, as done by hand.

Starting from ``d(f)``, each step expands the leftmost pending differential
``d(e)`` with the rule of e's node type (the same rules as the engine:
``differentials.RULES``), and records the rule's name, its identity (data filed with
the rule: ``differentials.identity_of``) and the
whole expression after it.  Then the canonical form and the read-off follow.
Steps are for people: their number is capped (the engine itself never
expands anything).
"""
from __future__ import annotations

from . import build as b
from .build import replace_node
from .differentials import RULES, RULE_NAMES, d_trace_power, depends_on, identity_of, power_of
from .expr import Diff, Expr, Sym, Trace, preorder
from .expr import postorder_missing as _postorder_missing
from .records import dataclass

MAX_STEPS = 60
TRACE_OF_A_POWER = "d tr(A^k) = k tr(A^(k-1) dA)"


@dataclass(frozen=True)
class Step:
    rule: str        # "product rule"
    identity: str    # "d(A B) = dA B + A dB"
    expr: Expr       # the whole differential after this step


def _pending(e: Expr, var: Sym):
    """The first d(node) left to expand, reading left to right."""
    return next((n for n in preorder(e) if isinstance(n, Diff) and n.sym is not var), None)


# A step is written out whole, as a tree (definitions by name): a differential
# whose shared pieces double at each step (h_i = h_{i-1} + sin(h_{i-1})) would be
# written in exponential space, so the steps stop at a step this large.
MAX_STEP_NODES = 2000


def printed_size(e: Expr, names: dict, cap: int = MAX_STEP_NODES + 1) -> int:
    """Nodes of e written as a tree, a node in names counting as one (at most cap)."""
    size: dict = {}
    for node in _postorder_missing(e, size):
        if node in names and node is not e:
            size[node] = 1
        else:
            size[node] = min(cap, 1 + sum(size[c] for c in node.children))
    return size[e]


def differential_steps(expr: Expr, var: Sym, names: dict | None = None) -> tuple[list, bool]:
    """(steps, complete): the expansion of d(expr), at most MAX_STEPS steps, each
    at most MAX_STEP_NODES nodes as printed (``names``: nodes printed as a name)."""
    from .simplify import present
    names = names or {}
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
        if isinstance(node, Trace) and power_of(node.a) is not None:
            # tr(A^k) in one step: the k terms of d(A^k) are never written
            base = power_of(node.a)[0]
            out = d_trace_power(node, _placeholder(base, var, dep))
            current = replace_node(current, target, out)
            if printed_size(present(current), names) > MAX_STEP_NODES:
                return steps, False
            steps.append(Step("trace of a power", TRACE_OF_A_POWER, current))
            continue
        kids = tuple(_placeholder(c, var, dep) for c in node.children)
        out = RULES[type(node)](node, kids)
        current = replace_node(current, target, out)
        if printed_size(present(current), names) > MAX_STEP_NODES:
            return steps, False
        steps.append(Step(RULE_NAMES[type(node)], identity_of(node), current))


def _placeholder(c, var, dep):
    """d(c) still to expand: Diff(c), dX for the variable, 0 for a constant."""
    if c is var:
        return Diff(var)
    if dep.get(c) or (c not in dep and any(s is var for s in preorder(c))):
        return Diff(c)
    return b.zero(c.shape)


def simplification(steps: list) -> tuple:
    """The identities of the simplification rules that take the expanded differential
    (the last step) to its canonical form, each once, in the order they fired."""
    from .simplify import rules_fired

    if not steps:
        return ()
    return tuple(r.identity for r in rules_fired(steps[-1].expr))
