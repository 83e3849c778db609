"""What every NumPy rule writes with: Python's precedence levels, the ``Doc``
helpers (a call, a number, a bracket where precedence needs one) and ``rule``,
the table of rules by node type that :mod:`.algebra` (the syntax's
operations) and :mod:`.functions` (elementwise and user functions) fill, and
into which the code each built-in declares in its block (``ops/``) is filed,
handed this module as its helpers."""
from __future__ import annotations

import sys
from ...dispatch import singledispatch

from ...errors import MatdiffError
from ...expr import SCALAR, Diff, Expr, Sym, walk
from ...ops import file_declared, load_all
from .. import Doc, joined, leaf
from ..text import decimal

# Python's precedence, loosest to tightest
LAMBDA, ADD, MUL, NEG, POW, ATOM = 0, 10, 11, 12, 13, 14


# --------------------------------------------------------------------------- helpers

def at_least(d: Doc, level: int) -> Doc:
    return d if d.level >= level else _joined(ATOM, ("(", d, ")"), "(", d.text, ")")


def _joined(level: int, parts: tuple, before: str, inner, after: str, node=None) -> Doc:
    """``Doc(level, parts, node)`` for parts whose text is ``before + inner +
    after`` (inner: the text of the one Doc among them, maybe None)."""
    return joined(level, parts, None if inner is None else before + inner + after, node)


def binary(level: int, left: Doc, op: str, right: Doc, node=None) -> Doc:
    """``Doc(level, (left, op, right), node)`` (``a @ b``, ``a + b``)."""
    a, b = left.text, right.text
    return joined(level, (left, op, right), None if a is None or b is None else a + op + b, node)


def postfix(d: Doc, op: str, node=None) -> Doc:
    """``Doc(ATOM, (d at least an atom, op), node)`` (``X.T``), made as
    :func:`_joined` makes a Doc."""
    d = at_least(d, ATOM)
    return _joined(ATOM, (d, op), "", d.text, op, node)


def call(fn: str, *args, node=None) -> Doc:
    if len(args) == 1:   # (most calls: ``np.log(x)``)
        a = args[0]
        return _joined(ATOM, (fn, "(", a, ")"), fn + "(", a if type(a) is str else a.text, ")",
                       node)
    parts = [fn, "("]
    for i, a in enumerate(args):
        parts += [", ", a] if i else [a]
    parts.append(")")
    return Doc(ATOM, parts, node)


def number(v, node=None) -> Doc:
    """A non-negative number: ``2``, ``0.5``, ``1/3`` (the Doc of node, if given)."""
    if v.denominator == 1:
        return leaf(ATOM, str(v.numerator), node)
    d = decimal(v)
    if d is not None:
        return leaf(ATOM, d, node)
    return leaf(MUL, f"{v.numerator}/{v.denominator}", node)


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


def factorisation(cx, node: Expr, fn: str, *options: str) -> Doc:
    """``fn(node, *options)`` (``linalg.svd(X, full_matrices=False)``), or the
    name the code binds it to when several pieces use it (:func:`.to_numpy`
    computes the SVD of X once for both its singular vectors)."""
    name = cx.factored.get((fn, node, options)) if cx.factored else None
    if name is not None:
        return leaf(ATOM, name)
    return call(cx.lib.fn(fn), cx[node], *options)


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


def spd(node) -> bool:
    """A variable declared spd (Cholesky applies)."""
    return isinstance(node, Sym) and node.has("spd")


def unless_scalar(node, cx, fn: str, scalar: str | None = None) -> Doc:
    """``fn(a)``; for a 1x1 operand ``scalar(a)`` (None: a itself)."""
    d = cx[node.a]
    if is_scalar(node.a):
        if scalar is None:
            return Doc(d.level, d.parts, node, neg=d.neg)
        return call(cx.lib.fn(scalar), tensor(cx, node.a, d), node=node)
    return call(cx.lib.fn(fn), d, node=node)


class NoNumpyCode(MatdiffError, ValueError):
    """An expression NumPy code cannot be written for (a dimension not in scope)."""


# --------------------------------------------------------------------------- rules

@singledispatch
def rule(node: Expr, cx) -> Doc:
    raise NotImplementedError(f"no NumPy rule for {type(node).__name__}")



file_declared("code", rule.register, sys.modules[__name__])   # (ops/; these helpers)
load_all()   # every family: code is not on the start-up path
