"""Sums and powers: like terms collected and sorted, a factor shared by every term
written once; powers, quotients as negative powers, elementwise powers and
products, Kronecker products of scalars, broadcasts.  (Products: products.py.)"""
from __future__ import annotations

from ..rational import Fraction

from ..expr import (
    ONE, SCALAR, ZERO, Add, Broadcast, Div, EDiv, EPow, Expr, Hadamard, Identity, Kron, Mul, Num,
    Ones, Power, Zeros, is_zero,
)
from .core import (
    _FRACTION_ONE, FLAT_LIMIT, NORMAL, PUSHES, REPLACES, SHRINKS, _parts, any_diff, product,
    rule, simplify, sort_key, split_coef, with_coef, zero,
)
from .products import _orient_product, canonical_product  # noqa: F401  (were here)

# ---------------------------------------------------------------- sums


@rule(Add, identity="a + 2 a + 0 = 3 a", terminates=NORMAL)
def collect_like_terms(e: Add) -> Expr:
    """a + 2a + 0 + (b + c) -> 3a + b + c, terms in one fixed order."""
    coefs: dict = {}
    for t in e.terms:
        for u in (t.terms if isinstance(t, Add) and len(t.terms) <= FLAT_LIMIT else (t,)):
            if u is ZERO or type(u) is Zeros:   # (is_zero, inline: a call per term)
                continue
            c, core = split_coef(u)
            old = coefs.get(core)
            coefs[core] = c if old is None else old + c
    # (c.numerator: c is a Fraction, and c != 0 would be a call into it)
    terms = sorted([with_coef(c, core) for core, c in coefs.items() if c.numerator], key=sort_key)
    if not terms:
        return zero(e.shape)
    if len(terms) == 1:
        return terms[0]
    out = Add(*terms)
    return e if out is e else out


# A factor shared by every term is written once (not in a differential, whose
# terms must stay apart for the read-off).  Each shrinks: k copies become one.

@rule(Add, identity="A x + B x = (A + B) x", terminates=SHRINKS)
def factor_right(e: Add) -> Expr:
    return e if any_diff(e.terms) else _factor_right(e.terms) or e


@rule(Add, identity="X b + X c = X (b + c)", terminates=SHRINKS)
def factor_left(e: Add) -> Expr:
    return e if any_diff(e.terms) else _factor_left(e.terms) or e


@rule(Add, identity="s P + s Q = s (P + Q) for a scalar s", terminates=SHRINKS)
def factor_scalar(e: Add) -> Expr:
    return e if any_diff(e.terms) else _factor_scalar(e.terms) or e


def _factor_left(terms):
    """X c b^T + X b c^T -> X (c b^T + b c^T): a left factor shared by every term
    (of a sum that holds no differential)."""
    first, rests = None, []
    for t in terms:
        c, core = split_coef(t)
        if not isinstance(core, Mul) or core.factors[0].shape is SCALAR:
            return None
        f = core.factors[0]
        if first is None:
            first = f
        elif f is not first:
            return None
        rest = core.factors[1:]
        if any(r.shape is SCALAR for r in rest) or not rest:
            return None
        rests.append((c, rest))   # (written once every term has the factor)
    return Mul(first, Add(*[with_coef(c, product(list(rest), None)) for c, rest in rests]))


def _factor_scalar(terms):
    """det(M) P + det(M) Q -> det(M) (P + Q): a scalar factor shared by every term
    (of a sum that holds no differential)."""
    if terms[0].shape is SCALAR:
        return None
    common = None
    for t in terms:
        c, core = split_coef(t)
        scal = [f for f in (core.factors if isinstance(core, Mul) else ()) if f.shape is SCALAR]
        common = set(scal) if common is None else common & set(scal)
        if not common:
            return None
    shared = sorted(common, key=sort_key)
    rests = []
    for t in terms:
        c, core = split_coef(t)
        left = [f for f in core.factors if f not in common]
        rests.append(with_coef(c, product(left, core.shape)))
    return Mul(*shared, Add(*rests))


def _factor_right(terms):
    """A x + A^T x -> (A + A^T) x: a right factor shared by every term is written once.
    Not in differentials, whose terms must stay apart for the trace read-off (the
    rules do not call it on a sum that holds one)."""
    last = None
    prefixes = []
    for t in terms:
        c, core = split_coef(t)
        if not isinstance(core, Mul) or core.factors[-1].shape is SCALAR:
            return None
        f = core.factors[-1]
        if last is None:
            last = f
        elif f is not last:
            return None
        rest = core.factors[:-1]
        if any(r.shape is SCALAR for r in rest) or not rest:
            return None
        prefixes.append((c, rest))   # (written once every term has the factor)
    return Mul(Add(*[with_coef(c, product(list(rest), None)) for c, rest in prefixes]), last)


# ---------------------------------------------------------------- powers, quotients

@rule(Power, identity="a^1 = a", terminates=SHRINKS)
def first_power(e: Power) -> Expr:
    return e.base if e.p == 1 else e


@rule(Power, identity="a^0 = 1, A^0 = I", terminates=SHRINKS)
def zeroth_power(e: Power) -> Expr:
    if e.p == 0:
        return ONE if e.shape is SCALAR else Identity(e.shape[0])
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
    if p.denominator == 1 and isinstance(base, Mul) and e.shape is SCALAR:
        c, scalars, chain = _parts(base.factors)
        if not chain:
            powered = _powered_scalars(c, scalars, p)
            if powered is not None:
                return Mul(*powered)
    return e


def _powered_scalars(c, scalars: list, p: Fraction):
    """[c^p, s^p, ...] for an integer p, or None when c^p is too large to fold."""
    v = _num_power(Fraction(c), p)
    return None if v is None else [Num(v), *[Power(s, p) for s in scalars]]


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
    return Power(e.base, e.p) if e.shape is SCALAR else e


@rule(EPow, identity="A.^0 = 1", terminates=SHRINKS)
def zeroth_elementwise_power(e: EPow) -> Expr:
    return Ones(e.shape) if e.p == 0 else e


@rule(EPow, identity="(A.^p).^q = A.^(p q) for an integer q", terminates=SHRINKS)
def elementwise_power_of_power(e: EPow) -> Expr:
    base, p = e.args
    return EPow(base.base, base.p * p) if p.denominator == 1 and isinstance(base, EPow) else e


@rule(EPow, identity="0.^p = 0 for p > 0", terminates=SHRINKS)
def positive_elementwise_power_of_zeros(e: EPow) -> Expr:
    return e.base if is_zero(e.base) and e.p > 0 else e


@rule(EPow, identity="1.^p = 1", terminates=SHRINKS)
def elementwise_power_of_ones(e: EPow) -> Expr:
    return e.base if isinstance(e.base, Ones) else e


@rule(EPow, identity="(s 1).^p = s^p 1 (a broadcast scalar)", terminates=PUSHES)
def elementwise_power_of_broadcast(e: EPow) -> Expr:
    b = e.base
    return Broadcast(Power(b.args[0], e.p), e.shape) if isinstance(b, Broadcast) else e


@rule(EPow, identity="(c s A).^q = c^q s^q A.^q for scalars c, s and an integer q",
      terminates=PUSHES)
def elementwise_power_of_scaled(e: EPow) -> Expr:
    base, p = e.args
    if p.denominator == 1 and isinstance(base, Mul):
        c, scalars, chain = _parts(base.factors)
        if (c != 1 or scalars) and chain:
            powered = _powered_scalars(c, scalars, p)
            if powered is not None:
                return Mul(*powered, EPow(product(chain, e.shape), p))
    return e


# ---------------------------------------------------------------- elementwise products

@rule(Hadamard, identity="a ⊙ b = a b for scalars a, b", terminates=REPLACES)
def hadamard_of_scalars(e: Hadamard) -> Expr:
    """Between 1 x 1 factors the elementwise product is the product: (2 .* 3) x is 6 x."""
    return Mul(*e.factors) if e.shape is SCALAR else e


@rule(Hadamard, identity="(c A) ⊙ A ⊙ 1 = c A.^2", terminates=NORMAL)
def canonical_hadamard(e: Hadamard) -> Expr:
    """Flat, sorted, ones dropped, scalars pulled out (c a) ⊙ b = c (a ⊙ b),
    a ⊙ a = a.^2.  Shrinks or sorts."""
    coef, scalars, items = 1, [], []   # an int until a number comes (Fraction is slow)
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
                    if isinstance(g, Hadamard) and len(g.factors) <= FLAT_LIMIT:
                        items.extend(g.factors)   # (c (a ⊙ b)) ⊙ d: a, b, d (flat at once)
                        continue
            items.append(g)
    exps: dict = {}
    for g in items:
        base, p = (g.base, g.p) if isinstance(g, EPow) else (g, _FRACTION_ONE)
        old = exps.get(base)
        exps[base] = p if old is None else old + p
    items = sorted((simplify(EPow(b, p)) if p != 1 else b for b, p in exps.items() if p != 0),
                   key=sort_key)
    core = Ones(e.shape) if not items else items[0] if len(items) == 1 else Hadamard(*items)
    if coef == 1 and not scalars:
        return e if core is e else core
    return Mul(*([Num(coef)] if coef != 1 else []), *scalars, core)


@rule(Kron, identity="s ⊗ A = s A for a scalar s", terminates=REPLACES)
def kron_of_scalar(e: Kron) -> Expr:
    a, c = e.args
    if a.shape is SCALAR:
        return Mul(a, c)
    if c.shape is SCALAR:
        return Mul(c, a)
    return e


@rule(Broadcast, identity="0 1 = 0 (a broadcast 0)", terminates=SHRINKS)
def broadcast_of_zero(e: Broadcast) -> Expr:
    return Zeros(e.shape) if is_zero(e.args[0]) else e
