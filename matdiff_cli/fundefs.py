"""User functions' bodies: what they may contain, and their text in plain operators.

``f(t) := body`` defines a scalar function applied entrywise (``document.py``
reads the statement); its body may use only its parameter, numbers, arithmetic
and elementwise functions, and is kept as text (in plain operators).
"""
from __future__ import annotations

from . import syntax
from .syntax import Node

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from .parser import Source


#: what the body of a user function may contain (a scalar function, applied entrywise)
_BODY_NODES = (syntax.Number, syntax.Name, syntax.Negation, syntax.Sum, syntax.Chain,
               syntax.Postfix, syntax.Call)


def check_body(body: Node, fname: str, param: str, src: "Source", span) -> None:
    """A user function's body: only its parameter, numbers, arithmetic and
    elementwise functions (it is a scalar function, applied entrywise)."""
    from .ops import ALIASES, ELEMENTWISE

    stack = [body]
    while stack:
        k = stack.pop()
        bad = None
        if not isinstance(k, _BODY_NODES):
            bad = "a norm" if isinstance(k, syntax.Norm) else "this"
        elif isinstance(k, syntax.Name) and k.val != param:
            bad = f"'{k.val}'"
        elif isinstance(k, syntax.Call) and (k.val not in ELEMENTWISE and k.val != param
                                             and k.val not in ALIASES or len(k.kids) != 1):
            bad = f"'{k.val}(...)'"
        elif isinstance(k, syntax.Postfix) and k.val[0] not in ("pow", "epow"):
            bad = "a transpose" if k.val[0] == "T" else "an inverse"
        elif isinstance(k, syntax.Chain) and any(op[0] == "kron" for op in k.val[1:]):
            bad = "a Kronecker product"
        if bad is not None:
            raise src.error(
                "name", f"the body of {fname} may use only its parameter {param}, numbers and "
                        f"elementwise functions; it uses {bad}", k.start, k.end,
                f"e.g. `{fname}({param}) := {param}^3 + sin({param})`", span=span)
        stack.extend(k.kids)


PLAIN_BODY = r"[A-Za-z0-9_ +\-*/^().]*"
ELEMENTWISE_OP = r"\.[*/^]"

#: what a body's part may be written next to without brackets: atoms and powers,
#: and in a sum also products
_ATOMS = (syntax.Number, syntax.Name, syntax.Call, syntax.Postfix)
_PRODUCTS = _ATOMS + (syntax.Chain,)
_PLAIN_OPS = {"mul": " * ", "had": " * ", "div": " / ", "ediv": " / "}


def body_text(node: Node) -> str:
    """A user function's body in plain operators (``t² ⊙ t`` -> ``t^2 * t``)."""
    return _BODY_TEXT[type(node)](node)


def _wrapped(kid: Node, loose: tuple = _ATOMS) -> str:
    text = body_text(kid)
    return text if isinstance(kid, loose) and not text.startswith("-") else f"({text})"


def _number_text(node) -> str:
    v = node.val
    return str(v.numerator) if v.denominator == 1 else f"({v.numerator}/{v.denominator})"


def _sum_text(node) -> str:
    parts = [body_text(node.kids[0])]
    for (sign, _, _), kid in zip(node.val[1:], node.kids[1:]):
        parts.append(("+ " if sign > 0 else "- ") + _wrapped(kid, _PRODUCTS))
    return " ".join(parts)


def _chain_text(node) -> str:
    out = _wrapped(node.kids[0])
    for op, kid in zip(node.val[1:], node.kids[1:]):
        out += _PLAIN_OPS[op[0]] + _wrapped(kid)
    return out


def _power_text(node) -> str:
    p = node.val[1]
    exp = str(p) if p.denominator == 1 and p >= 0 else f"({p})"
    return _wrapped(node.kids[0], (syntax.Name, syntax.Call)) + "^" + exp


#: syntax node type -> its text in plain operators (the types check_body allows)
_BODY_TEXT = {
    syntax.Number: _number_text,
    syntax.Name: lambda node: node.val,
    syntax.Negation: lambda node: "-" + _wrapped(node.kids[0]),
    syntax.Sum: _sum_text,
    syntax.Chain: _chain_text,
    syntax.Postfix: _power_text,
    syntax.Call: lambda node: f"{node.val}({body_text(node.kids[0])})",
}
