"""Powers, quotients (as negative powers), elementwise powers and products, Kronecker
products of scalars, broadcasts."""
from __future__ import annotations

from fractions import Fraction

from ..expr import (
    ONE, SCALAR, Broadcast, Div, EDiv, EPow, Expr, Hadamard, Identity, Kron, Mul, Num, Ones,
    Power, Zeros, is_zero,
)
from .order import sort_key
from .strategy import rule, simplify
from .terms import _parts, FLAT_LIMIT, product

# ---------------------------------------------------------------- powers, quotients

@rule(Power)
def simplify_power(e: Power) -> Expr:
    """a^1 = a; a^0 = 1; numbers fold; (a^p)^q = a^(pq) for integer q;
    (c s)^q = c^q s^q for scalar factors and integer q."""
    base, p = e.args
    if p == 1:
        return base
    if p == 0:
        return ONE if e.shape == SCALAR else Identity(e.shape[0])
    if isinstance(base, Num):
        v = _num_power(base.value, p)
        return Num(v) if v is not None else e
    if p.denominator == 1 and isinstance(base, Power):
        return Power(base.base, base.p * p)
    if isinstance(base, Identity) or (is_zero(base) and p > 0):
        return base
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


@rule(Div)
def div_as_power(e: Div) -> Expr:
    """a / c = c^-1 a (the printed form puts it back as a division)."""
    a, c = e.args
    return Mul(Power(c, -1), a)


@rule(EDiv)
def ediv_as_power(e: EDiv) -> Expr:
    """a ./ b = a ⊙ b.^-1."""
    a, c = e.args
    return Hadamard(a, EPow(c, -1))


@rule(EPow)
def simplify_epow(e: EPow) -> Expr:
    """a.^1 = a; a.^0 = 1; a scalar's elementwise power is its power."""
    base, p = e.args
    if p == 1:
        return base
    if e.shape == SCALAR:
        return Power(base, p)
    if p == 0:
        return Ones(e.shape)
    if p.denominator == 1 and isinstance(base, EPow):
        return EPow(base.base, base.p * p)
    if isinstance(base, Ones):
        return base
    return e


# ---------------------------------------------------------------- elementwise products

@rule(Hadamard)
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


@rule(Kron)
def simplify_kron(e: Kron) -> Expr:
    """s ⊗ A = s A for a scalar s."""
    a, c = e.args
    if a.shape == SCALAR:
        return Mul(a, c)
    if c.shape == SCALAR:
        return Mul(c, a)
    return e


@rule(Broadcast)
def simplify_broadcast(e: Broadcast) -> Expr:
    """A broadcast 0 is the zero matrix."""
    return Zeros(e.shape) if is_zero(e.args[0]) else e
