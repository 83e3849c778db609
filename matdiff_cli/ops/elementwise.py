"""The elementwise scalar functions: one declaration each.

Adding a function is one ``declare(Elementwise(...))`` here: the parser,
shape inference, the differential (chain rule), numeric evaluation, the
text / pretty / LaTeX / NumPy / JAX / PyTorch renderers and SymPy read it.
``step`` and ``sign`` are in the language too; they appear as derivatives
(step = relu', sign = abs').
"""
from __future__ import annotations

from ..rational import Fraction

from .. import build as b
from ..expr import SCALAR, EPow, Func, Num, Power
from .base import Elementwise, declare


def _one_minus(u):
    return b.sub(b.broadcast(Num(1), u.shape), u)


def _square(f):
    return Power(f, 2) if f.shape == SCALAR else EPow(f, 2)


def _reciprocal(u):
    return Power(u, -1) if u.shape == SCALAR else EPow(u, -1)


def _sigmoid(sp, u):
    return 1 / (1 + sp.exp(-u))


declare(Elementwise(
    "exp", lambda f: f, "exp' = exp",
    value=lambda np, u: np.exp(u), sympy=lambda sp, u: sp.exp(u),
    latex=r"\exp", sympy_class="exp"))

declare(Elementwise(
    "log", lambda f: _reciprocal(f.arg), "log' = 1 / u",
    value=lambda np, u: np.log(u), sympy=lambda sp, u: sp.log(u),
    latex=r"\log", sympy_class="log", domain="positive",
    undefined="an argument is not positive"))

declare(Elementwise(
    "sin", lambda f: Func("cos", f.arg), "sin' = cos",
    value=lambda np, u: np.sin(u), sympy=lambda sp, u: sp.sin(u),
    latex=r"\sin", sympy_class="sin"))

declare(Elementwise(
    "cos", lambda f: b.neg(Func("sin", f.arg)), "cos' = -sin",
    value=lambda np, u: np.cos(u), sympy=lambda sp, u: sp.cos(u),
    latex=r"\cos", sympy_class="cos"))

declare(Elementwise(
    "tanh", lambda f: _one_minus(_square(f)), "tanh' = 1 - tanh^2",
    value=lambda np, u: np.tanh(u), sympy=lambda sp, u: sp.tanh(u),
    latex=r"\tanh", sympy_class="tanh"))

declare(Elementwise(
    "sigmoid", lambda f: b.had(f, _one_minus(f)), "σ' = σ ⊙ (1 - σ)",
    value=lambda np, u: 1 / (1 + np.exp(-u)), sympy=_sigmoid,
    # exp(-log(1 + exp(-a))): 1 / (1 + exp(-a)) without overflow where a << 0
    code="{m}.exp(-{m}.logaddexp(0, -{a:pow}))", torch="torch.sigmoid({a})",
    latex=r"\sigma", pretty="σ", aliases=("σ", "sigma")))

declare(Elementwise(
    "relu", lambda f: Func("step", f.arg), "relu' = step",
    value=lambda np, u: np.maximum(u, 0), sympy=lambda sp, u: sp.Max(u, 0),
    code="{m}.maximum({a}, 0)", torch="torch.clamp({a}, min=0)", smooth=False))

declare(Elementwise(
    "softplus", lambda f: Func("sigmoid", f.arg), "softplus' = σ",
    value=lambda np, u: np.logaddexp(0, u), sympy=lambda sp, u: sp.log(1 + sp.exp(u)),
    code="{m}.logaddexp(0, {a})",
    torch="(lambda u: torch.logaddexp(torch.zeros_like(u), u))({a})"))

declare(Elementwise(
    "sqrt", lambda f: b.scale(Fraction(1, 2), _reciprocal(f)), "sqrt' = 1 / (2 sqrt)",
    value=lambda np, u: np.sqrt(u), sympy=lambda sp, u: sp.sqrt(u),
    latex=r"\sqrt{{a}}", domain="positive", undefined="an argument is negative"))

declare(Elementwise(
    "abs", lambda f: Func("sign", f.arg), "abs' = sign",
    value=lambda np, u: np.abs(u), sympy=lambda sp, u: sp.Abs(u),
    latex=r"\left|{a}\right|", sympy_class="Abs", smooth=False))

declare(Elementwise(
    "step", lambda f: b.zero(f.shape), "step' = 0 (away from 0)",
    value=lambda np, u: np.heaviside(u, 0.0), sympy=lambda sp, u: sp.Heaviside(u),
    code="{m}.heaviside({a}, 0.0)",
    torch="(lambda u: torch.heaviside(u, torch.zeros_like(u)))({a})",
    sympy_class="Heaviside", smooth=False))

declare(Elementwise(
    "sign", lambda f: b.zero(f.shape), "sign' = 0 (away from 0)",
    value=lambda np, u: np.sign(u), sympy=lambda sp, u: sp.sign(u),
    sympy_class="sign", smooth=False))
