"""Faults at the edges, refused in words before they become numbers:
:func:`read_let_value` (finite, rectangular, at most a matrix),
:func:`property_violation` (data against declared properties),
:func:`undefined_at` (where a value stops being finite), :func:`quiet` (no NumPy
warning reaches the streams).
"""
from __future__ import annotations

import json
import math
import warnings
from contextlib import contextmanager

import numpy as np

from ..expr import Func, Num, Sym
from ..ops import ELEMENTWISE
from .evaluator import evaluate_all


@contextmanager
def quiet():
    """NumPy's floating-point warnings off: overflow, 0/0 and the like show in
    the values (inf, nan) and are reported in words, never as a RuntimeWarning."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


class _Refused(ValueError):
    pass


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise _Refused(f"{_clip(text)} is too large for a double (it would be read as infinity)")
    return v


def _no_constant(text: str):
    raise _Refused(f"{text} is not a finite number (values must be finite)")


def _clip(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def read_let_value(text: str):
    """A ``--let`` value from its JSON text: a finite number, a list of numbers (a
    column vector) or a list of rows of equal length (a matrix).  Raises
    ValueError whose message says, in words, what is wrong."""
    depth = deepest = 0
    for ch in text:     # before json: a deep nest must not exhaust the recursion
        if ch == "[":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == "]":
            depth -= 1
    if deepest > 2:
        raise ValueError(f"it is nested {deepest} lists deep; a value is a number, a list "
                         "(a vector) or a list of rows (a matrix)")
    try:
        value = json.loads(text, parse_float=_finite_float, parse_int=_finite_float,
                           parse_constant=_no_constant)
    except _Refused as e:
        raise ValueError(str(e)) from None
    except ValueError:
        raise ValueError("it is not a number or a nested list of numbers (JSON)") from None
    return check_let_value(value)


def check_let_value(value):
    """value itself when it is a finite number, a list of them or a rectangular list
    of rows; else ValueError with the reason in words."""
    if _is_number(value):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number (values must be finite)")
        return value
    if not isinstance(value, list):
        raise ValueError("it is not a number or a nested list of numbers (JSON)")
    if not value:
        raise ValueError("it is an empty list; give at least one number")
    if all(_is_number(v) for v in value):
        for v in value:
            check_let_value(v)
        return value
    if not all(isinstance(v, list) for v in value):
        raise ValueError("it mixes numbers and lists; a matrix is a list of rows, "
                         "e.g. [[1,2],[3,4]]")
    for i, row in enumerate(value, 1):
        if not row:
            raise ValueError(f"row {i} is empty")
        if not all(_is_number(v) for v in row):
            raise ValueError(f"row {i} holds something other than numbers (a value is at "
                             "most a list of rows)")
        for v in row:
            check_let_value(v)
        if len(row) != len(value[0]):
            raise ValueError(f"its rows differ in length: row 1 has {len(value[0])} "
                             f"numbers, row {i} has {len(row)}")
    return value


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def property_violation(sym: Sym, value) -> str | None:
    """How data breaks sym's declared properties (symmetric, spd, diagonal,
    orthogonal), in words, or None when it keeps them (to rounding)."""
    a = np.asarray(value, dtype=float)
    if not sym.props or a.ndim != 2 or a.shape[0] != a.shape[1]:
        return None
    n, tol = sym.name, 1e-8 * max(1.0, float(np.max(np.abs(a))))
    if sym.has("symmetric", "spd"):
        off = float(np.max(np.abs(a - a.T)))
        if off > tol:
            return f"{n} is declared {_declared(sym)} but its value is not symmetric " \
                   f"(largest |{n} - {n}^T| entry {off:.3g})"
    if sym.has("spd"):
        low = float(np.linalg.eigvalsh((a + a.T) / 2).min())
        if low <= tol:
            return f"{n} is declared spd but its value is not positive definite " \
                   f"(smallest eigenvalue {low:.4g})"
    if sym.has("diagonal"):
        off = float(np.max(np.abs(a - np.diag(np.diag(a)))))
        if off > tol:
            return f"{n} is declared diagonal but its value has an off-diagonal entry {off:.3g}"
    if sym.has("orthogonal"):
        err = float(np.max(np.abs(a.T @ a - np.eye(len(a)))))
        if err > 1e-6:
            return f"{n} is declared orthogonal but its value is not " \
                   f"(largest |{n}^T {n} - I| entry {err:.3g}; 1e-6 is allowed, so give " \
                   "at least 7 digits)"
    return None


def _declared(sym: Sym) -> str:
    return "spd" if sym.has("spd") else "symmetric"


_WHY = {"Inverse": "the matrix is singular", "Power": "the base is singular or zero",
        "LogDet": "the determinant is not positive", "Div": "it divides by zero",
        "EDiv": "it divides by zero", "EPow": "a base is zero or negative"}


def undefined_at(roots, values: dict, sizes: dict | None = None):
    """The first node (children first) whose value is not finite although its
    children's are: (node, reason in words), or None when every value is finite."""
    memo = evaluate_all(roots, values, sizes)
    for node, v in memo.items():
        if np.all(np.isfinite(v)):
            continue
        if all(np.all(np.isfinite(memo[c])) for c in node.children):
            if isinstance(node, Func):
                why = ELEMENTWISE[node.name].undefined if node.name in ELEMENTWISE else None
            else:
                why = _WHY.get(type(node).__name__)
            if why:
                return node, why
            if isinstance(node, Num):
                return node, "the number is beyond the largest double, about 1.8e308"
            if not np.any(np.isnan(v)):
                return node, "it overflows a double, beyond about 1.8e308"
            return node, "it is not defined there (0 / 0, inf - inf or the like)"
    return None
