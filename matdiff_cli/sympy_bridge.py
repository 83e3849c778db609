"""matdiff expressions as SymPy matrix expressions (``Result.to_sympy()``).

Dimensions become SymPy symbols, variables ``MatrixSymbol``s (a scalar is a
plain ``Symbol``).  Operations SymPy's matrix expressions do not have
(softmax, logsumexp, elementwise functions of matrices) raise
``NotImplementedError`` naming the operation.
"""
from __future__ import annotations

import sys
from functools import singledispatch

from .expr import (
    SCALAR, Add, Broadcast, Diff, Div, Expr, Func, Hadamard, Mul, Norm2, Num, Power, Sym,
    Transpose, walk,
)
from .ops import file_declared, load_all


def to_sympy(expr: Expr):
    """The SymPy form of expr (a MatrixExpr, or a scalar expression for a 1x1 value)."""
    import sympy as sp

    from .expr import symbols
    from .names import Names

    naming = None
    memo: dict = {}
    for node in walk(expr):
        if isinstance(node, Diff) and isinstance(node.sym, Sym):
            # the direction's own name: dX, or d_X when a variable is called dX
            naming = naming or Names((), symbols(expr))
            memo[node] = _convert(Sym(naming.direction(node.sym), node.shape), [], sp)
            continue
        memo[node] = _convert(node, [memo[c] for c in node.children], sp)
    return memo[expr]


def _dim(d, sp):
    if isinstance(d, int):
        return d
    out = 1
    for part in str(d).split("*"):
        out *= int(part) if part.isdigit() else sp.Symbol(part, positive=True, integer=True)
    return out


def _scalar(v, sp):
    """A 1x1 matrix expression as a scalar."""
    if isinstance(v, sp.MatrixExpr) or getattr(v, "is_Matrix", False):
        return v[0, 0]
    return v


@singledispatch
def _convert(node, kids, sp):
    raise NotImplementedError(f"{type(node).__name__} has no SymPy matrix form")


@_convert.register
def _(node: Sym, kids, sp):
    if node.shape == SCALAR:
        return sp.Symbol(node.name, real=True)
    return sp.MatrixSymbol(node.name, _dim(node.shape[0], sp), _dim(node.shape[1], sp))


@_convert.register
def _(node: Diff, kids, sp):
    if node.shape == SCALAR:
        return sp.Symbol("d" + node.sym.name, real=True)
    return sp.MatrixSymbol("d" + node.sym.name, _dim(node.shape[0], sp), _dim(node.shape[1], sp))


@_convert.register
def _(node: Num, kids, sp):
    return sp.Rational(node.value.numerator, node.value.denominator)


@_convert.register
def _(node: Add, kids, sp):
    if node.shape == SCALAR and not all(isinstance(k, sp.MatrixExpr) for k in kids):
        return sp.Add(*[_scalar(k, sp) for k in kids])
    return sp.MatAdd(*kids).doit()


@_convert.register
def _(node: Broadcast, kids, sp):
    return _scalar(kids[0], sp) * sp.OneMatrix(_dim(node.shape[0], sp), _dim(node.shape[1], sp))


@_convert.register
def _(node: Mul, kids, sp):
    acc, shape = kids[0], node.factors[0].shape
    for f, k in zip(node.factors[1:], kids[1:]):
        if shape == SCALAR:
            acc = _scalar(acc, sp) * k
            shape = f.shape
        elif f.shape == SCALAR:
            acc = acc * _scalar(k, sp)
        else:
            acc = sp.MatMul(acc, k)
            shape = (shape[0], f.shape[1])
    return acc


@_convert.register
def _(node: Div, kids, sp):
    return kids[0] / _scalar(kids[1], sp)


@_convert.register
def _(node: Hadamard, kids, sp):
    return sp.hadamard_product(*kids)


@_convert.register
def _(node: Transpose, kids, sp):
    return sp.Transpose(kids[0]) if node.shape != SCALAR else kids[0]


@_convert.register
def _(node: Power, kids, sp):
    p = sp.Rational(node.p.numerator, node.p.denominator)
    if p == 2 and isinstance(node.base, Norm2):   # ||u||^2 = u^T u, without the root
        u = to_sympy(node.base.a)
        return u.T * u if node.base.a.shape[1] == 1 else u * u.T
    if node.shape == SCALAR:
        return _scalar(kids[0], sp) ** p
    return sp.MatPow(kids[0], p)


@_convert.register
def _(node: Func, kids, sp):
    if node.shape != SCALAR:
        raise NotImplementedError(f"the elementwise {node.name} of a matrix has no SymPy "
                                  "matrix-expression form")
    from .ops import ELEMENTWISE

    if node.name not in ELEMENTWISE:
        raise NotImplementedError(f"{node.name} has no SymPy form")
    return ELEMENTWISE[node.name].sympy(sp, _scalar(kids[0], sp))




file_declared("sympy", _convert.register, sys.modules[__name__])   # (ops/; its helpers)
load_all()   # every family
