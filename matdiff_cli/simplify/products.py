"""Products: a product as coefficient · sorted scalars · matrix chain, with 1x1
sub-chains made scalars, identities dropped, inverse pairs cancelled and
neighbouring powers of one base merged; a 1x1 product written the canonical way
round.  (The rule of its node type, canonical_product, with its fast path.)"""
from __future__ import annotations

from ..rational import Fraction

from ..expr import (
    ONE, SCALAR, ZERO, Broadcast, DiagM, Diff, Expr, Hadamard, Identity, Inverse, Mul, Num, Power,
    Transpose, Zeros, is_zero,
)
from .core import (
    _FRACTION_ONE, FLAT_LIMIT, NORMAL, T, _chain_key, _parts, _scaled_ones, _transposes_to_diff,
    chain_of, is_orthogonal, product, rule, simplify, sort_key, zero,
)

@rule(Mul, identity="2 A (x^T y) (B C) = 2 (x^T y) A B C", terminates=NORMAL)
def canonical_product(e: Mul) -> Expr:
    """coefficient · sorted scalars · chain, with 1x1 sub-chains made scalars,
    identities dropped and X X^-1, Q^T Q cancelled.  Shrinks or sorts."""
    if _already_canonical(e):
        return e
    coef, scalars, chain = 1, [], []   # an int until a number comes (Fraction is slow)
    for f in e.factors:
        if isinstance(f, Num):
            v = f.value   # a whole number keeps coef an int (Fraction arithmetic is slow)
            coef *= v.numerator if v.denominator == 1 else v
        elif f is ZERO or type(f) is Zeros:   # (is_zero, inline: a call per factor)
            return zero(e.shape)
        elif isinstance(f, Mul) and len(f.factors) <= FLAT_LIMIT or _scaled_ones(f):
            c, s, ch = _parts(f.factors if isinstance(f, Mul) else (f,))
            coef *= c
            scalars.extend(s)
            if f.shape is SCALAR and ch:
                scalars.append(product(ch, SCALAR))
            else:
                chain.extend(ch)
        elif f.shape is SCALAR:
            scalars.append(f)
        else:
            chain.append(f)
    if coef == 0:
        return zero(e.shape)
    chain = _split_chain(chain, scalars)
    chain = _cancel(chain)
    scalars = _combine_powers(scalars)
    if Num in [type(s) for s in scalars]:   # (no subclass)
        coef *= _num_product(scalars)
        scalars = [s for s in scalars if not isinstance(s, Num)]
        if coef == 0:
            return zero(e.shape)
    scalars = [_orient(s) for s in scalars]
    scalars.sort(key=sort_key)
    chain = [c for c in chain if not isinstance(c, Identity)]
    if e.shape is not SCALAR and not chain:
        chain = [Identity(e.shape[0])]
    if e.shape is SCALAR:
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
    """A product with nothing to do (most products): a number (not 0 or 1) first,
    then scalars in order (none a number, a product or an identity; no two powers of
    one base), then a matrix chain without numbers, scalars, nested products, zeros or
    identities (but for a lone I after scalars); no 1x1 sub-chain (_split_chain's);
    no neighbours that cancel or merge (_cancel's); a 1x1 one the way round _orient
    keeps.  Exactly the cases where the full rule returns e itself."""
    factors = e.factors
    i, n = 0, len(factors)
    if type(factors[0]) is Num:   # (no subclass)
        v = factors[0].value
        if v.numerator == 0 or v.numerator == v.denominator:   # 0 or 1 (no Fraction.__eq__)
            return False
        i = 1
    prev = bases = None   # the previous scalar, and the power bases seen
    while i < n and factors[i].shape is SCALAR:
        f = factors[i]
        kind = type(f)
        if kind in _NOT_PLAIN:
            return False
        base = f.base if kind is Power else f
        if prev is not None:   # (in order: the stable sort keeps them as they are)
            if base in bases or sort_key(f) < sort_key(prev):
                return False
            bases.append(base)
        else:
            bases = [base]
        prev = f
        i += 1
    if i == n:   # no chain (a non-scalar product has one)
        return e.shape is SCALAR
    if n - i == 1 and type(factors[i]) is Identity:   # c I
        return e.shape is not SCALAR
    last = n - 1
    start = i
    row_first = row_later = False   # a row first in the chain, a row after it
    prev = prev_base = prev_kind = None   # prev_base: _signed_base's base of a square prev
    for i in range(start, n):
        f = factors[i]
        kind = type(f)   # (none of these node types has a subclass)
        if kind in _NOT_PLAIN and (kind is not Broadcast or f.args[0] is not ONE):
            return False   # (ones(n, k), unscaled, is a plain factor)
        rows, cols = f.shape
        if cols == 1:   # a column: a scalar, or after a row a 1x1 sub-chain (but x^T ... y)
            if rows == 1 or row_later or (row_first and i < last) or prev_kind is DiagM:
                return False   # (diag(v) w: v ⊙ w)
        elif rows == 1:
            if i == start:
                row_first = True
            else:
                row_later = True
        # _signed_base's base of a square f (_same_base compares square neighbours)
        base = None if rows != cols else _signed_base(f)[0] if kind in _SIGNED else f
        if prev is not None:   # _cancel's pairs (only a transpose or an inverse is in one)
            if (kind in _PAIRED or prev_kind in _PAIRED) and _inverse_pair(prev, f):
                return False
            if base is not None and base is prev_base:
                return False
        prev, prev_base, prev_kind = f, base, kind
    return e.shape is not SCALAR or _orient(e) is e


_SIGNED = frozenset({Power, Inverse, Transpose})   # the factors _signed_base may take apart
_PAIRED = frozenset({Inverse, Transpose})   # one of the two in each of _inverse_pair's pairs
# what the full rule takes apart or drops (a number, a nested product, an identity, a
# zero, a scaled ones(n, k)): not among a canonical product's scalars or in its chain
_NOT_PLAIN = frozenset({Num, Mul, Identity, Zeros, Broadcast})


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
    ta, tc = type(a), type(c)   # (neither node type has a subclass)
    if tc is Inverse and c.args[0] is a or ta is Inverse and a.args[0] is c:
        return True
    if ta is Transpose:
        if tc is Transpose:
            return _inverse_pair(a.args[0], c.args[0])
        return a.args[0] is c and is_orthogonal(c)
    return tc is Transpose and c.args[0] is a and is_orthogonal(a)


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


def _signed_base(f):
    """(base, k) with f = base^k, k a nonzero integer, negative for inverses:
    A^2 -> (A, 2), X^-1 -> (X, -1), (X^-T)^3 -> (X^T, -3)."""
    k = 1
    if isinstance(f, Power) and f.shape is not SCALAR:
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
    return f, _FRACTION_ONE


def _combine_powers(scalars: list) -> list:
    """s s^2 / s -> s^2: equal scalar bases add their exponents."""
    exps: dict = {}
    for s in scalars:
        base, p = _power_base(s)
        old = exps.get(base)
        exps[base] = p if old is None else old + p
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


_oriented: dict = {}   # a pure function of the node: one memo for the run


def _orient(s: Expr) -> Expr:
    """A 1x1 product equals its transpose; write it the canonical way round."""
    if not (isinstance(s, Mul) and s.shape is SCALAR):
        return s
    out = _oriented.get(s)
    if out is None:
        out = _oriented[s] = _orient_product(s)
    return out


def _orient_product(s: Mul) -> Expr:
    scalars, chain = [], []
    for f in s.factors:
        (chain if f.shape is not SCALAR else scalars).append(f)
    if len(chain) < 2 or isinstance(chain[-1], Diff) and not _transposes_to_diff(chain[0]):
        return s   # (x^T A dx: only this way round does dX come last)
    flipped = [T(f) for f in reversed(chain)]
    best = min(chain, flipped, key=_chain_key)
    if best is chain:
        return s
    return Mul(*[f for f in s.factors if f.shape is SCALAR], *flipped)
