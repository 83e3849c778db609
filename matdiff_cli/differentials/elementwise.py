"""The chain rule of an elementwise function f(U): f'(U) ⊙ dU, with f' declared with
f (ops/elementwise.py) or, for a user's function, found with SymPy.
"""
from __future__ import annotations

from .. import build as b
from ..expr import Expr, Func
from ..ops import ELEMENTWISE
from .registry import rule


# ---------------------------------------------------------------- elementwise functions

# f'(u) of each built-in f is declared with f (ops/elementwise.py)


@rule(Func, name="chain rule (elementwise)",
      identity="d f(U) = f'(U) ⊙ dU for an elementwise f")
def d_func(e, d):
    if len(e.args) == 3:
        deriv = user_derivative(e)
    else:
        deriv = ELEMENTWISE[e.name].derivative(e)
    return b.had(deriv, d[0])


def user_derivative(e: Func) -> Expr:
    """f'(u) for a user function f(t) := body, found with SymPy (imported only here)."""
    from ..usersym import derivative_text
    name, arg, (param, body) = e.args
    return Func(name + "'", arg, (param, derivative_text(param, body)))
