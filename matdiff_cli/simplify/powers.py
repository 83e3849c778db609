"""Powers, quotients (as negative powers), elementwise powers and products, Kronecker
products of scalars, broadcasts."""
from __future__ import annotations

from fractions import Fraction

from ..expr import (
    ONE, SCALAR, Broadcast, Div, EDiv, EPow, Expr, Hadamard, Identity, Kron, Mul, Num, Ones,
    Power, Zeros, is_zero,
)
from .order import sort_key
from .strategy import NORMAL, PUSHES, REPLACES, SHRINKS, rule, simplify
from .terms import _parts, FLAT_LIMIT, product

# ---------------------------------------------------------------- powers, quotients

@rule(Power, identity="a^1 = a", terminates=SHRINKS)
def first_power(e: Power) -> Expr:
    return e.base if e.p == 1 else e


@rule(Power, identity="a^0 = 1, A^0 = I", terminates=SHRINKS)
def zeroth_power(e: Power) -> Expr:
    if e.p == 0:
        return ONE if e.shape == SCALAR else Identity(e.shape[0])
    return e


@rule(Power, identity="2^3 = 8", terminates=SHRINKS)
def power_of_number(e: Power) -> Expr:
    if isinstance(e.base, Num):
        v = _num_power(e.base.value, e.p)
        return Num(v) if v is not None else e
    return e


@rule(Power, identity="(a^p)^q = a^(p q) for an integer q", terminates=SHRINKS)
def power_of_power(e: Power) -> Expr:
    base, p = e.args
    return Power(base.base, base.p * p) if p.denominator == 1 and isinstance(base, Power) else e


@rule(Power, identity="I^p = I, 0^p = 0 for p > 0", terminates=SHRINKS)
def power_of_constant(e: Power) -> Expr:
    base, p = e.args
    if isinstance(base, Num):   # a number's power is folded or kept (power_of_number)
        return e
    return base if isinstance(base, Identity) or (is_zero(base) and p > 0) else e


@rule(Power, identity="(c s)^q = c^q s^q for scalars and an integer q", terminates=PUSHES)
def power_of_scalar_product(e: Power) -> Expr:
    base, p = e.args
    if p.denominator == 1 and isinstance(base, Mul) and e.shape == SCALAR:
        c, scalars, chain = _parts(base.factors)
        if not chain:
            v = _num_power(Fraction(c), p)
            if v is not None:
                return Mul(Num(v), *[Power(s, p) for s in scalars])
    return e


#: the most bits of a number a power is folded into (beyond, ``2^100000`` is
#: kept as a power: computing it would cost time and digits, and no double holds it)
_FOLD_BITS = 1100


def _num_power(v: Fraction, p: Fraction):
    if p.denominator == 1:
        if v == 0 and p < 0:
            return None
        k = int(p)
        if abs(v) != 1 and v != 0 and abs(k) * max(abs(v.numerator).bit_length(),
                                                    v.denominator.bit_length()) > _FOLD_BITS:
            return None
        return v ** k
    return None


@rule(Div, identity="a / c = c^-1 a", terminates=REPLACES)
def div_as_power(e: Div) -> Expr:
    """The printed form (present) puts it back as a division."""
    a, c = e.args
    return Mul(Power(c, -1), a)


@rule(EDiv, identity="a ./ b = a ⊙ b.^-1", terminates=REPLACES)
def ediv_as_power(e: EDiv) -> Expr:
    a, c = e.args
    return Hadamard(a, EPow(c, -1))


@rule(EPow, identity="a.^1 = a", terminates=SHRINKS)
def first_elementwise_power(e: EPow) -> Expr:
    return e.base if e.p == 1 else e


@rule(EPow, identity="s.^p = s^p for a scalar s", terminates=REPLACES)
def elementwise_power_of_scalar(e: EPow) -> Expr:
    return Power(e.base, e.p) if e.shape == SCALAR else e


@rule(EPow, identity="A.^0 = 1", terminates=SHRINKS)
def zeroth_elementwise_power(e: EPow) -> Expr:
    return Ones(e.shape) if e.p == 0 else e


@rule(EPow, identity="(A.^p).^q = A.^(p q) for an integer q", terminates=SHRINKS)
def elementwise_power_of_power(e: EPow) -> Expr:
    base, p = e.args
    return EPow(base.base, base.p * p) if p.denominator == 1 and isinstance(base, EPow) else e


@rule(EPow, identity="1.^p = 1", terminates=SHRINKS)
def elementwise_power_of_ones(e: EPow) -> Expr:
    return e.base if isinstance(e.base, Ones) else e


# ---------------------------------------------------------------- elementwise products

@rule(Hadamard, identity="(c A) ⊙ A ⊙ 1 = c A.^2", terminates=NORMAL)
def canonical_hadamard(e: Hadamard) -> Expr:
    """Flat, sorted, ones dropped, scalars pulled out (c a) ⊙ b = c (a ⊙ b),
    a ⊙ a = a.^2.  Shrinks or sorts."""
    coef, scalars, items = Fraction(1), [], []
    for f in e.factors:
        for g in (f.factors if isinstance(f, Hadamard) and len(f.factors) <= FLAT_LIMIT
                  else (f,)):
            if is_zero(g):
                return Zeros(e.shape)
            if isinstance(g, Ones):
                continue
            if isinstance(g, Broadcast):
                scalars.append(g.args[0])
                continue
            if isinstance(g, Mul):
                c, s, chain = _parts(g.factors)
                if c != 1 or s:
                    coef *= c
                    scalars.extend(s)
                    g = product(chain, g.shape)
            items.append(g)
    exps: dict = {}
    for g in items:
        base, p = (g.base, g.p) if isinstance(g, EPow) else (g, Fraction(1))
        exps[base] = exps.get(base, 0) + p
    items = sorted((simplify(EPow(b, p)) if p != 1 else b for b, p in exps.items() if p != 0),
                   key=sort_key)
    core = Ones(e.shape) if not items else items[0] if len(items) == 1 else Hadamard(*items)
    if coef == 1 and not scalars:
        return e if core is e else core
    return Mul(*([Num(coef)] if coef != 1 else []), *scalars, core)


@rule(Kron, identity="s ⊗ A = s A for a scalar s", terminates=REPLACES)
def kron_of_scalar(e: Kron) -> Expr:
    a, c = e.args
    if a.shape == SCALAR:
        return Mul(a, c)
    if c.shape == SCALAR:
        return Mul(c, a)
    return e


@rule(Broadcast, identity="0 1 = 0 (a broadcast 0)", terminates=SHRINKS)
def broadcast_of_zero(e: Broadcast) -> Expr:
    return Zeros(e.shape) if is_zero(e.args[0]) else e
