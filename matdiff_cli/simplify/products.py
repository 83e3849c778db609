"""Products: coefficient · sorted scalars · matrix chain, with 1x1 sub-chains made
scalars, inverse pairs cancelled and neighbouring powers of one base merged."""
from __future__ import annotations

from fractions import Fraction

from ..expr import (
    ONE, SCALAR, DiagM, Expr, Hadamard, Identity, Inverse, Mul, Num, Power, Transpose,
    Zeros, is_zero,
)
from .order import _chain_key, sort_key
from .strategy import NORMAL, rule, simplify
from .terms import _parts, _scaled_ones, chain_of, FLAT_LIMIT, is_orthogonal, product, T, zero

# ---------------------------------------------------------------- products

@rule(Mul, identity="2 A (x^T y) (B C) = 2 (x^T y) A B C", terminates=NORMAL)
def canonical_product(e: Mul) -> Expr:
    """coefficient · sorted scalars · chain, with 1x1 sub-chains made scalars,
    identities dropped and X X^-1, Q^T Q cancelled.  Shrinks or sorts."""
    if _already_canonical(e):
        return e
    coef, scalars, chain = 1, [], []   # an int until a number comes (Fraction is slow)

    for f in e.factors:
        if isinstance(f, Num):
            coef *= f.value
        elif is_zero(f):
            return zero(e.shape)
        elif isinstance(f, Mul) and len(f.factors) <= FLAT_LIMIT or _scaled_ones(f):
            c, s, ch = _parts(f.factors if isinstance(f, Mul) else (f,))
            coef *= c
            scalars.extend(s)
            if f.shape == SCALAR and ch:
                scalars.append(product(ch, SCALAR))
            else:
                chain.extend(ch)
        elif f.shape == SCALAR:
            scalars.append(f)
        else:
            chain.append(f)
    if coef == 0:
        return zero(e.shape)
    chain = _split_chain(chain, scalars)
    chain = _cancel(chain)
    scalars = _combine_powers(scalars)
    if any(isinstance(s, Num) for s in scalars):
        coef *= _num_product(scalars)
        scalars = [s for s in scalars if not isinstance(s, Num)]
        if coef == 0:
            return zero(e.shape)
    scalars = [_orient(s) for s in scalars]
    scalars.sort(key=sort_key)
    chain = [c for c in chain if not isinstance(c, Identity)]
    if e.shape != SCALAR and not chain:
        chain = [Identity(e.shape[0])]
    if e.shape == SCALAR:
        if len(chain) > 1:
            chain = chain_of(_orient(Mul(*chain)))
        elif not chain and scalars and isinstance(scalars[-1], Mul):
            chain = list(scalars.pop().factors)   # 2 (x^T y) prints as 2 x^T y
    factors = ([Num(coef)] if coef != 1 else []) + scalars + chain
    if not factors:
        return ONE
    out = factors[0] if len(factors) == 1 else Mul(*factors)
    if out.shape != e.shape:  # pragma: no cover - a bug guard
        raise AssertionError(f"canonical_product changed a shape: {e} -> {out}")
    return e if out is e else out


def _already_canonical(e: Mul) -> bool:
    """A plain matrix chain with nothing to do (most products): no numbers, scalars,
    nested products, identities or zeros; no 1x1 sub-chain; no neighbours that
    cancel or merge.  Exactly the cases where the full rule returns e itself."""
    if e.shape == SCALAR:
        return False
    factors = e.factors
    last = len(factors) - 1
    prev = None
    for i, f in enumerate(factors):
        shape = f.shape
        if shape == SCALAR or isinstance(f, (Num, Mul, Identity, Zeros)):
            return False
        if _scaled_ones(f):
            return False
        if (i > 0 and shape[0] == 1) or (i < last and shape[1] == 1):
            return False
        if prev is not None and _interact(prev, f):
            return False
        prev = f
    return True



def _split_chain(chain: list, scalars: list) -> list:
    """Make every 1x1 sub-chain of a product a scalar factor: x y^T z -> (y^T z) x."""
    out: list = []
    i = 0
    while i < len(chain):
        f = chain[i]
        if f.shape[0] == 1 and (i > 0 or _has_col_before_end(chain, i)):
            j = _first_col(chain, i)
            if j is not None and not (i == 0 and j == len(chain) - 1):
                scalars.append(simplify(product(chain[i:j + 1], SCALAR)))
                i = j + 1
                continue
        out.append(f)
        i += 1
    return out


def _first_col(chain, i):
    for j in range(i, len(chain)):
        if chain[j].shape[1] == 1:
            return j
    return None


def _has_col_before_end(chain, i):
    j = _first_col(chain, i)
    return j is not None and j < len(chain) - 1


def _inverse_pair(a: Expr, c: Expr) -> bool:
    """a c = I: X X^-1, X^-1 X, X^-T X^T, X^T X^-T, and Q^T Q, Q Q^T for orthogonal Q."""
    if isinstance(c, Inverse) and c.a is a or isinstance(a, Inverse) and a.a is c:
        return True
    if isinstance(a, Transpose) and isinstance(c, Transpose):
        return _inverse_pair(a.a, c.a)
    if isinstance(a, Transpose) and is_orthogonal(a.a) and a.a is c:
        return True
    return isinstance(c, Transpose) and is_orthogonal(c.a) and c.a is a


def _cancel(chain: list) -> list:
    """Cancel inverse pairs, merge A A -> A^2, and diag(v) w -> v ⊙ w."""
    if len(chain) < 2:
        return chain
    out: list = []
    for f in chain:
        if isinstance(f, Identity) and (out or len(chain) > 1):
            continue
        if out and _inverse_pair(out[-1], f):
            out.pop()
            continue
        if out and _diag_times_column(out[-1], f):
            out[-1] = simplify(Hadamard(out[-1].a, f))
            continue
        if out and _same_base(out[-1], f):
            base, k = _signed_base(out.pop())      # A^2 A^-3 = A^-1, X^T X^-T = I
            merged = _signed_power(base, k + _signed_base(f)[1])
            if merged is not None:
                out.append(merged)
            continue
        out.append(f)
    return out


def _diag_times_column(a: Expr, c: Expr) -> bool:
    """diag(v) w, written v ⊙ w."""
    return c.shape[1] == 1 and isinstance(a, DiagM)


def _same_base(a: Expr, c: Expr) -> bool:
    """Neighbours that are powers of one square base (A^2 A^-3, X^T X^-T)."""
    return c.shape[0] == c.shape[1] and _signed_base(a)[0] is _signed_base(c)[0]


def _interact(a: Expr, c: Expr) -> bool:
    """Neighbours that _cancel changes."""
    return _inverse_pair(a, c) or _diag_times_column(a, c) or _same_base(a, c)


def _signed_base(f):
    """(base, k) with f = base^k, k a nonzero integer, negative for inverses:
    A^2 -> (A, 2), X^-1 -> (X, -1), (X^-T)^3 -> (X^T, -3)."""
    k = 1
    if isinstance(f, Power) and f.shape != SCALAR:
        f, k = f.base, int(f.p)
    if isinstance(f, Inverse):
        return f.a, -k
    if isinstance(f, Transpose) and isinstance(f.a, Inverse):
        return T(f.a.a), -k
    return f, k


def _signed_power(base, k: int):
    """base^k (None for k = 0), canonical."""
    if k == 0:
        return None
    b = base if k > 0 else simplify(Inverse(base))
    return b if abs(k) == 1 else simplify(Power(b, abs(k)))


def _power_base(f):
    if isinstance(f, Power):
        return f.base, f.p
    return f, Fraction(1)


def _combine_powers(scalars: list) -> list:
    """s s^2 / s -> s^2: equal scalar bases add their exponents."""
    exps: dict = {}
    for s in scalars:
        base, p = _power_base(s)
        exps[base] = exps.get(base, 0) + p
    out = []
    for base, p in exps.items():
        if p == 0:
            continue
        out.append(simplify(Power(base, p)) if p != 1 else base)
    return out


def _num_product(scalars):
    c = Fraction(1)
    for s in scalars:
        if isinstance(s, Num):
            c *= s.value
    return c


def _orient(s: Expr) -> Expr:
    """A 1x1 product equals its transpose; write it the canonical way round."""
    if not (isinstance(s, Mul) and s.shape == SCALAR):
        return s
    scalars, chain = [], []
    for f in s.factors:
        (chain if f.shape != SCALAR else scalars).append(f)
    if len(chain) < 2:
        return s
    flipped = [T(f) for f in reversed(chain)]
    best = min(chain, flipped, key=_chain_key)
    if best is chain:
        return s
    return Mul(*[f for f in s.factors if f.shape == SCALAR], *flipped)
