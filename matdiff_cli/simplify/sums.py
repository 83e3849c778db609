"""Sums: like terms collected, sorted; a factor shared by every term written once."""
from __future__ import annotations

from ..expr import SCALAR, Add, Expr, Mul, is_zero
from .order import contains_diff, sort_key
from .strategy import NORMAL, SHRINKS, rule
from .terms import FLAT_LIMIT, product, split_coef, with_coef, zero

# ---------------------------------------------------------------- sums


@rule(Add, identity="a + 2 a + 0 = 3 a", terminates=NORMAL)
def collect_like_terms(e: Add) -> Expr:
    """a + 2a + 0 + (b + c) -> 3a + b + c, terms in one fixed order."""
    coefs: dict = {}
    for t in e.terms:
        for u in (t.terms if isinstance(t, Add) and len(t.terms) <= FLAT_LIMIT else (t,)):
            if is_zero(u):
                continue
            c, core = split_coef(u)
            coefs[core] = coefs.get(core, 0) + c
    terms = sorted((with_coef(c, core) for core, c in coefs.items() if c != 0), key=sort_key)
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
    return _factor_right(list(e.terms)) or e


@rule(Add, identity="X b + X c = X (b + c)", terminates=SHRINKS)
def factor_left(e: Add) -> Expr:
    return _factor_left(list(e.terms)) or e


@rule(Add, identity="s P + s Q = s (P + Q) for a scalar s", terminates=SHRINKS)
def factor_scalar(e: Add) -> Expr:
    return _factor_scalar(list(e.terms)) or e


def _factor_left(terms: list):
    """X c b^T + X b c^T -> X (c b^T + b c^T): a left factor shared by every term."""
    if any(contains_diff(t) for t in terms):
        return None
    first, rests = None, []
    for t in terms:
        c, core = split_coef(t)
        if not isinstance(core, Mul) or core.factors[0].shape == SCALAR:
            return None
        f = core.factors[0]
        if first is None:
            first = f
        elif f is not first:
            return None
        rest = core.factors[1:]
        if any(r.shape == SCALAR for r in rest) or not rest:
            return None
        rests.append(with_coef(c, product(list(rest), None)))
    return Mul(first, Add(*rests))


def _factor_scalar(terms: list):
    """det(M) P + det(M) Q -> det(M) (P + Q): a scalar factor shared by every term."""
    if any(contains_diff(t) for t in terms) or terms[0].shape == SCALAR:
        return None
    common = None
    for t in terms:
        c, core = split_coef(t)
        scal = [f for f in (core.factors if isinstance(core, Mul) else ()) if f.shape == SCALAR]
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


def _factor_right(terms: list):
    """A x + A^T x -> (A + A^T) x: a right factor shared by every term is written once.
    Not in differentials, whose terms must stay apart for the trace read-off."""
    if any(contains_diff(t) for t in terms):
        return None
    last = None
    prefixes = []
    for t in terms:
        c, core = split_coef(t)
        if not isinstance(core, Mul) or core.factors[-1].shape == SCALAR:
            return None
        f = core.factors[-1]
        if last is None:
            last = f
        elif f is not last:
            return None
        rest = core.factors[:-1]
        if any(r.shape == SCALAR for r in rest) or not rest:
            return None
        prefixes.append(with_coef(c, product(list(rest), None)))
    return Mul(Add(*prefixes), last)
