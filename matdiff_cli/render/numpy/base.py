"""What every NumPy rule writes with: Python's precedence levels, the ``Doc``
helpers (a call, a number, a bracket where precedence needs one) and ``rule``,
the table of rules by node type that the families (:mod:`.algebra`,
:mod:`.linalg`, :mod:`.spectral`, :mod:`.functions`) fill."""
from __future__ import annotations

from functools import singledispatch

from ...expr import SCALAR, Diff, Expr, Sym, walk
from .. import Doc, paren
from ..text import decimal

# Python's precedence, loosest to tightest
LAMBDA, ADD, MUL, NEG, POW, ATOM = 0, 10, 11, 12, 13, 14


# --------------------------------------------------------------------------- helpers

def at_least(d: Doc, level: int) -> Doc:
    return d if d.level >= level else paren(d, ATOM)


def call(fn: str, *args, node=None) -> Doc:
    parts = [fn, "("]
    for i, a in enumerate(args):
        parts += [", ", a] if i else [a]
    parts.append(")")
    return Doc(ATOM, parts, node)


def number(v) -> Doc:
    """A non-negative number: ``2``, ``0.5``, ``1/3``."""
    if v.denominator == 1:
        return Doc(ATOM, (str(v.numerator),))
    d = decimal(v)
    if d is not None:
        return Doc(ATOM, (d,))
    return Doc(MUL, (f"{v.numerator}/{v.denominator}",))


def exponent(p) -> str:
    """A power: integers >= 0 stay integers, others are floats (no int**-1 error)."""
    if p.denominator == 1 and p >= 0:
        return str(p.numerator)
    if p.denominator == 1:
        return f"{p.numerator}.0"
    d = decimal(abs(p))
    if d is not None:
        return ("-" if p < 0 else "") + d
    return f"({p.numerator}/{p.denominator})"


def tensor(cx, node: Expr, d: Doc) -> Doc:
    """d as a function's argument: PyTorch wants a tensor where node is a
    constant (no variable or direction in it), NumPy takes the number."""
    if cx.lib.name != "torch" or any(isinstance(n, (Sym, Diff)) for n in walk(node)):
        return d
    return cx.lib.number(d)


def is_scalar(node: Expr) -> bool:
    return node.shape == SCALAR


def is_plain(cx, node, cls) -> bool:
    return isinstance(node, cls) and cx[node].node is node


# --------------------------------------------------------------------------- rules

@singledispatch
def rule(node: Expr, cx) -> Doc:
    raise NotImplementedError(f"no NumPy rule for {type(node).__name__}")

