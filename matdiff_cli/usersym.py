"""User scalar functions ``f(t) := body``: derivatives and values through SymPy.

SymPy is imported here only, and only when a problem uses a user function.
The body is written in matdiff's scalar syntax (``t^3 + sin(t)``,
``sigmoid(t)``); derivatives come back in the same syntax.
"""
from __future__ import annotations

import re
from functools import lru_cache


def _namespace():
    import sympy as sp

    return {
        "sigmoid": lambda u: 1 / (1 + sp.exp(-u)),
        "softplus": lambda u: sp.log(1 + sp.exp(u)),
        "relu": lambda u: sp.Max(u, 0),
        "step": sp.Heaviside,
        "sign": sp.sign,
        "abs": sp.Abs,
        "exp": sp.exp, "log": sp.log, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh,
        "sqrt": sp.sqrt,
    }


@lru_cache(maxsize=None)
def to_sympy(param: str, body: str):
    """(symbol, SymPy expression) of a body in matdiff syntax."""
    import sympy as sp
    from sympy.parsing.sympy_parser import (
        implicit_multiplication_application, parse_expr, standard_transformations,
    )

    t = sp.Symbol(param, real=True)
    text = body.replace("^", "**").replace(".*", "*")
    ns = dict(_namespace())
    ns[param] = t
    expr = parse_expr(text, local_dict=ns,
                      transformations=standard_transformations + (implicit_multiplication_application,))
    return t, expr


_FUNCS = {"Abs": "abs", "Heaviside": "step"}


@lru_cache(maxsize=None)
def derivative_text(param: str, body: str) -> str:
    """The derivative of body with respect to param, in matdiff syntax."""
    import sympy as sp

    t, expr = to_sympy(param, body)
    deriv = sp.diff(expr, t)
    text = sp.sstr(deriv).replace("**", "^")
    for old, new in _FUNCS.items():
        text = re.sub(rf"\b{old}\(", f"{new}(", text)
    return text


@lru_cache(maxsize=None)
def numeric_function(param: str, body: str):
    """A NumPy-vectorised function of the body."""
    import sympy as sp

    t, expr = to_sympy(param, body)
    return sp.lambdify(t, expr, modules=["numpy"])
