"""NumPy evaluation: :func:`evaluate` computes an expression at a point, once per
distinct node of the DAG, children first with an explicit stack (deep DAGs are
fine); ``value`` holds the rule of each node type.  Non-scalars are 2-D arrays
(vectors (n, 1) columns); scalars are floats.  ``logdet(a)`` is ``log(det(a))``:
NaN where ``det(a) < 0`` (outside its domain), -inf where it is 0.  An inverse of a
matrix singular to working precision (condition number over 1e15) is NaN, not
noise.

Values are keyed by variable name; the direction of ``Diff(X)`` (``dX``) is
keyed ``("d", "X")``.
"""
from __future__ import annotations

from functools import singledispatch

import numpy as np

from ..expr import (
    SCALAR, Add, Broadcast, Diff, Div, EDiv, EPow, Expr, Func, Hadamard, Mul, Num, Power, Sym,
    Transpose, walk,
)
from ..ops import ELEMENTWISE, file_declared, load_all
from ..ops.linalg import inverse_value
from .sizes import dim_size, sizes_from_values


# =========================================================================== evaluation

def evaluate(expr: Expr, values: dict, sizes: dict | None = None):
    """The value of expr at ``values`` (name -> array or float; ("d", name) ->
    direction).  Scalars come back as floats, everything else as 2-D arrays."""
    return evaluate_all([expr], values, sizes)[expr]


def evaluate_all(roots, values: dict, sizes: dict | None = None) -> dict:
    """node -> value for every node of the DAGs of roots (each computed once)."""
    ev = _Evaluator(values, sizes_from_values(roots, values, sizes))
    memo: dict = {}
    with np.errstate(all="ignore"):
        for root in roots:
            for node in walk(root):
                if node not in memo:
                    memo[node] = _check(node, value(node, [memo[c] for c in node.children], ev))
    return memo


class _Evaluator:
    def __init__(self, values, sizes):
        self.values = values
        self.sizes = sizes

    def shape(self, shape) -> tuple:
        return tuple(dim_size(d, self.sizes) for d in shape)


def _check(node: Expr, v):
    """Scalars as floats (NumPy's, so 1/0 is inf, not an exception), the rest
    as 2-D float arrays."""
    if node.shape == SCALAR:
        return np.float64(np.asarray(v, dtype=float).reshape(-1)[0])
    v = np.asarray(v, dtype=float)
    if v.ndim != 2:
        v = v.reshape(-1, 1) if v.ndim <= 1 else v
    return v


@singledispatch
def value(node: Expr, args: list, ev: _Evaluator):
    raise NotImplementedError(f"no numeric rule for {type(node).__name__}")


@value.register
def _sym(node: Sym, args, ev):
    if node.name not in ev.values:
        raise ValueError(f"no value for {node.name}")
    v = np.asarray(ev.values[node.name], dtype=float)
    return v if node.shape == SCALAR else v.reshape(ev.shape(node.shape))


@value.register
def _diff(node: Diff, args, ev):
    key = ("d", node.sym.name)
    if key not in ev.values:
        raise ValueError(f"no value for the direction d{node.sym.name}")
    v = np.asarray(ev.values[key], dtype=float)
    return v if node.shape == SCALAR else v.reshape(ev.shape(node.shape))


@value.register
def _num(node: Num, args, ev):
    try:
        return float(node.value)
    except OverflowError:  # a folded constant beyond the doubles (1e300 1e300): +-inf, as NumPy
        return float("inf") if node.value > 0 else float("-inf")


@value.register
def _add(node: Add, args, ev):
    out = args[0]
    for a in args[1:]:
        out = out + a
    return out


@value.register
def _mul(node: Mul, args, ev):
    """Left to right: a scalar step when either side is 1x1, else a matrix product."""
    out, shape = args[0], node.factors[0].shape
    for f, a in zip(node.factors[1:], args[1:]):
        if SCALAR in (shape, f.shape):
            out = out * a
        else:
            out = out @ a
        shape = f.shape if shape == SCALAR else (shape if f.shape == SCALAR else (shape[0], f.shape[1]))
    return out


@value.register
def _hadamard(node: Hadamard, args, ev):
    out = args[0]
    for a in args[1:]:
        out = out * a
    return out


@value.register(Div)
@value.register(EDiv)
def _divide(node, args, ev):
    return args[0] / args[1]


@value.register
def _broadcast(node: Broadcast, args, ev):
    return args[0] * np.ones(ev.shape(node.shape))


@value.register
def _transpose(node: Transpose, args, ev):
    return args[0] if node.shape == SCALAR else args[0].T


@value.register
def _power(node: Power, args, ev):
    p = node.p
    if node.shape == SCALAR:
        if p.denominator == 1 and p >= 0:
            return args[0] ** int(p)
        return float(np.power(np.float64(args[0]), float(p)))  # 0^-1 is inf, not an exception
    if p < 0:
        return np.linalg.matrix_power(inverse_value(np, args[0]), -int(p))
    return np.linalg.matrix_power(args[0], int(p))


@value.register
def _epow(node: EPow, args, ev):
    p = node.p
    return args[0] ** (int(p) if p.denominator == 1 and p >= 0 else float(p))


file_declared("value", value.register, np)   # (ops/)
load_all()   # every family: NumPy is not on the start-up path


@value.register
def _func(node: Func, args, ev):
    if len(node.args) > 2:
        return user_function(node.args[2])(args[0])
    return ELEMENTWISE[node.name].value(np, args[0])


def user_function(spec):
    """A vectorised NumPy function for a user function's ``(param, body)``.

    The body is parsed by SymPy (``^`` read as a power, implicit products
    allowed, matdiff's scalar functions known), not by matdiff's parser."""
    from ..usersym import numeric_function

    param, body = spec if isinstance(spec, tuple) else ("t", str(spec))
    fn = numeric_function(param, body)
    return lambda u: np.asarray(fn(u), dtype=float) * np.ones_like(u, dtype=float)
