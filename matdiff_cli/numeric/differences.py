"""Finite differences, the oracle of the checks: central first and second
(and mixed) directional differences, :func:`relative_error`; and the estimates
the checks use: first, second, mixed and k-th directional derivatives by central
differences, each with one Richardson step (O(h^4), or O(h^2) for the k-th).
"""
from __future__ import annotations

import numpy as np

from ..expr import Expr
from .evaluator import evaluate


def _caller(f, sizes=None):
    """f as a function of the values: an expression is evaluated."""
    if isinstance(f, Expr):
        return lambda vals: evaluate(f, vals, sizes)
    return f


def _shifted(values: dict, name: str, steps) -> dict:
    out = dict(values)
    x = np.asarray(values[name], dtype=float)
    for coef, direction in steps:
        x = x + coef * np.asarray(direction, dtype=float)
    out[name] = x if x.ndim else float(x)
    return out


def directional_derivative(f, values: dict, name: str, direction, h: float = 1e-6,
                           sizes: dict | None = None):
    """Central difference: (f(X + h D) - f(X - h D)) / 2h, error O(h^2).

    f: an expression (evaluated with ``sizes``) or a function of the values
    dict; name: the variable X."""
    f = _caller(f, sizes)
    plus = f(_shifted(values, name, [(h, direction)]))
    minus = f(_shifted(values, name, [(-h, direction)]))
    return (np.asarray(plus) - np.asarray(minus)) / (2 * h)


def second_directional_derivative(f, values: dict, name: str, direction, h: float = 1e-4,
                                  direction2=None, sizes: dict | None = None):
    """d²/dt² f(X + t D) at 0: (f(X + hD) - 2 f(X) + f(X - hD)) / h².

    With ``direction2`` E, the mixed d²/ds dt f(X + s D + t E): the four-point
    formula (f(+D+E) - f(+D-E) - f(-D+E) + f(-D-E)) / 4h²."""
    f = _caller(f, sizes)
    if direction2 is None:
        fp = f(_shifted(values, name, [(h, direction)]))
        fm = f(_shifted(values, name, [(-h, direction)]))
        return (np.asarray(fp) - 2 * np.asarray(f(values)) + np.asarray(fm)) / h**2
    total = 0
    for s, t in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        total = total + s * t * np.asarray(f(_shifted(values, name, [(s * h, direction),
                                                                        (t * h, direction2)])))
    return total / (4 * h**2)


def relative_error(a, b, floor: float = 1e-3) -> float:
    """max|a - b| / max(max|a|, max|b|, floor).

    Relative to the larger of the two arrays as a whole (so a single entry near
    zero does not blow up the error), and absolute (divided by ``floor``) when
    both are about zero.  inf when shapes differ or a value is not finite."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size == 1 and b.size == 1:
        a, b = a.reshape(()), b.reshape(())
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), floor)
    return float(np.max(np.abs(a - b))) / scale


def first_derivative(f, values, name, D, h=1e-3):
    """d/dt f(X + t D) at 0 by central differences with one Richardson step:
    (4 C(h/2) - C(h)) / 3 cancels the h^2 error term, so a larger h (less
    rounding) gives an O(h^4) estimate."""
    c1 = np.asarray(directional_derivative(f, values, name, D, h), dtype=float)
    c2 = np.asarray(directional_derivative(f, values, name, D, h / 2), dtype=float)
    return c2 + (c2 - c1) / 3   # = (4 c2 - c1) / 3, without overflowing near the largest double


def second_derivative(f, values, name, D, E=None, h=1e-2):
    """d²/ds dt f(X + s D + t E) (or d²/dt² along D), second differences with one
    Richardson step, O(h^4)."""
    s1 = np.asarray(second_directional_derivative(f, values, name, D, h, direction2=E))
    s2 = np.asarray(second_directional_derivative(f, values, name, D, h / 2, direction2=E))
    return s2 + (s2 - s1) / 3


def kth_derivative(f, values, name, D, k, h=1e-2):
    """d^k/dt^k f(X + t D) at 0: the central k-th difference
    sum_i (-1)^i C(k, i) f(X + (k/2 - i) h D) / h^k (error O(h^2)), one Richardson step."""
    from math import comb

    def once(h):
        total = 0
        for i in range(k + 1):
            shifted = dict(values)
            x = np.asarray(values[name], dtype=float) + (k / 2 - i) * h * np.asarray(D, dtype=float)
            shifted[name] = x if x.ndim else float(x)
            total = total + (-1) ** i * comb(k, i) * np.asarray(f(shifted), dtype=float)
        return total / h ** k
    c1, c2 = once(h), once(h / 2)
    return c2 + (c2 - c1) / 3


def _shifted_many(values: dict, steps) -> dict:
    """values with each (name, coefficient, direction) step added."""
    out = dict(values)
    for name, coef, direction in steps:
        x = np.asarray(out[name], dtype=float) + coef * np.asarray(direction, dtype=float)
        out[name] = x if x.ndim else float(x)
    return out


def _mixed_many(f, values, first, second, h):
    """d²/ds dt f(V + s D + t E) by the four-point formula, one Richardson step.
    first, second: lists of (name, direction)."""
    def once(h):
        total = 0
        for s, t in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
            steps = [(n, s * h, D) for n, D in first] + [(n, t * h, E) for n, E in second]
            total = total + s * t * np.asarray(f(_shifted_many(values, steps)), dtype=float)
        return total / (4 * h * h)
    s1, s2 = once(h), once(h / 2)
    return s2 + (s2 - s1) / 3
