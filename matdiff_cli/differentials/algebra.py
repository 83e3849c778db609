"""The differentials of the syntax's operations: constants, sums, transposes,
broadcasts, products (matrix, Hadamard, quotients) and powers; a chain that
repeats a block is differentiated as a power.  (The built-ins' differentials
are declared with them, in ``ops/``.)
"""
from __future__ import annotations

from .. import build as b
from ..errors import MatdiffError
from ..expr import (
    SCALAR, ZERO, Add, Broadcast, Diff, Div, EDiv, EPow, Expr, Hadamard, Identity, Mul, Norm2,
    NormF, Num, Power, Transpose, Zeros, is_zero,
)
from .registry import rule


def _power_case(node) -> str:
    if isinstance(node.base, (Norm2, NormF)) and node.p == 2:
        return "squared norm"
    return "matrix" if node.base.shape is not SCALAR else "scalar"


# ---------------------------------------------------------------- constants

@rule(Num, Diff, name="constant",
      identity="d(c) = 0 for a constant (and d(dX) = 0: a direction is constant)")
def d_constant(e, d):
    return b.zero(e.shape)


# ---------------------------------------------------------------- linear maps

@rule(Add, name="sum rule", identity="d(a + b) = da + db")
def d_add(e, d):
    return b.add(*d)


@rule(Transpose, name="transpose", identity="d(A^T) = (dA)^T")
def d_transpose(e, d):
    return b.transpose(d[0])


@rule(Broadcast, name="broadcast",
      identity="d(s 1) = ds 1: a broadcast scalar varies as the scalar")
def d_broadcast(e, d):
    return b.broadcast(d[0], e.shape)


# ---------------------------------------------------------------- products

@rule(Mul, name="product rule", identity="d(A B) = dA B + A dB, for every factor of the chain")
def d_mul(e, d):
    f = e.factors
    if len(f) >= MIN_GROUPED:
        grouped = _grouped_differential(e, d)
        if grouped is not None:
            return grouped
        f, d = _runs_as_powers(f, d)
        if len(f) > LONG_CHAIN and sum(not is_zero(di) for di in d) > 1:
            shared = _shared_product_rule(f, d)
            if shared is not None:
                return shared
    terms = []   # (a loop, not a comprehension: each is a call)
    for i, di in enumerate(d):
        if di is not ZERO and type(di) is not Zeros:   # (is_zero, inline)
            terms.append(b.mul(*f[:i], di, *f[i + 1:]))
    return b.add(*terms) if terms else b.zero(e.shape)


# A chain this long that repeats one block (A A ... A, x^T x x^T x ...) is
# differentiated as a power of the block: the product rule would write k terms
# of k factors each (quadratic in the input), the power rule k terms of three.
MIN_GROUPED = 6


def repeated_block(factors) -> tuple | None:
    """(block, k) with factors = block repeated k >= 2 times and the block's product
    square (so the chain is the k-th power of that product); None otherwise.
    Linear: the shortest period by the prefix function (Knuth-Morris-Pratt)."""
    n = len(factors)
    fail = [0] * n
    j = 0
    for i in range(1, n):
        while j and factors[i] is not factors[j]:
            j = fail[j - 1]
        if factors[i] is factors[j]:
            j += 1
        fail[i] = j
    period = n - fail[-1]
    if period == n or n % period:
        return None
    block = factors[:period]
    try:
        base = block[0] if period == 1 else Mul(*block)
    except ValueError:
        return None
    if base.shape[0] != base.shape[1]:
        return None
    return base, n // period


# A longer chain with several factors that vary: each term of the product rule
# is written prefix · dF_i · suffix, the prefixes f1 (f2 ...) and suffixes nested
# and shared, so that the terms share them instead of repeating k factors each.
LONG_CHAIN = 16


def _shared_product_rule(f, d):
    """sum_i P_{i-1} df_i S_{i+1} with P_i = (P_{i-1} f_i), S_i = (f_i S_{i+1}) shared;
    None when a nested grouping does not fit the shapes (a 1x1 step that scales)."""
    n = len(f)
    shape = Mul(*f).shape
    try:
        pre = [None] * (n + 1)
        for i in range(n):
            pre[i + 1] = f[0] if i == 0 else Mul(pre[i], f[i])
        suf = [None] * (n + 1)
        for i in range(n - 1, -1, -1):
            suf[i] = f[i] if i == n - 1 else Mul(f[i], suf[i + 1])
        terms = []
        for i, di in enumerate(d):
            if is_zero(di):
                continue
            parts = ([pre[i]] if i else []) + [di] + ([suf[i + 1]] if i + 1 < n else [])
            term = parts[0] if len(parts) == 1 else Mul(*parts)
            if term.shape != shape:
                return None
            terms.append(term)
    except ValueError:
        return None
    return b.add(*terms)


def _runs_as_powers(f, d):
    """(factors, differentials) with each run A A ... A (k >= 2 equal square factors)
    as one factor A^k, its differential d(A^k) written with k terms of three factors:
    the product rule then writes (number of runs) terms, not one per factor."""
    out_f, out_d = [], []
    i, n = 0, len(f)
    while i < n:
        j = i + 1
        while j < n and f[j] is f[i] and d[j] is d[i]:
            j += 1
        k = j - i
        if k >= 2 and f[i].shape[0] == f[i].shape[1] and f[i].shape is not SCALAR:
            out_f.append(Power(f[i], k))
            out_d.append(b.zero(f[i].shape) if is_zero(d[i])
                         else power_differential(f[i], d[i], k))
        else:
            out_f.extend(f[i:j])
            out_d.extend(d[i:j])
        i = j
    return tuple(out_f), tuple(out_d)


def _grouped_differential(e, d):
    """d(B^k) for a chain that is a block B repeated k times; None when it is not."""
    found = repeated_block(e.factors)
    if found is None:
        return None
    base, k = found
    period = len(e.factors) // k
    if any(d[i] is not d[i % period] for i in range(len(d))):
        return None     # a step placeholder per factor: keep the plain product rule
    db = d[0] if period == 1 else d_mul(base, d[:period])
    if is_zero(db):
        return b.zero(e.shape)
    return power_differential(base, db, k)


@rule(Hadamard, name="Hadamard product rule", identity="d(A ⊙ B) = dA ⊙ B + A ⊙ dB")
def d_hadamard(e, d):
    f = e.factors
    return b.add(*[b.had(*f[:i], di, *f[i + 1:]) for i, di in enumerate(d) if not is_zero(di)]
                 or [b.zero(e.shape)])


@rule(Div, name="quotient rule", identity="d(A / c) = dA / c - (dc / c^2) A")
def d_div(e, d):
    a, c = e.args
    return b.sub(b.div(d[0], c), b.mul(b.div(d[1], Power(c, 2)), a))


@rule(EDiv, name="elementwise quotient rule", identity="d(A ./ B) = dA ./ B - A ⊙ dB ./ B.^2")
def d_ediv(e, d):
    a, c = e.args
    first = b.zero(e.shape) if is_zero(d[0]) else EDiv(d[0], c)
    second = b.zero(e.shape) if is_zero(d[1]) else EDiv(b.had(a, d[1]), EPow(c, 2))
    return b.sub(first, second)


# ---------------------------------------------------------------- powers and inverses

@rule(Power, name="power rule",
      identity={"scalar": "d(a^p) = p a^(p-1) da for a scalar",
                "matrix": "d(A^k) = sum_i A^i dA A^(k-1-i)",
                "squared norm": "d(||x||^2) = 2 x^T dx and d(||X||_F^2) = 2 tr(X^T dX) "
                                "(no square root)"},
      case=_power_case)
def d_power(e, d):
    base, p = e.args
    db = d[0]
    if base.shape is not SCALAR:
        k = int(p)
        if k > MAX_POWER_TERMS:
            raise MatdiffError(
                "unsupported",
                f"the differential of a matrix power A^{k} is a sum of {k} terms "
                f"(d(A^k) = sum over i of A^i dA A^(k-1-i)); matdiff writes at most "
                f"{MAX_POWER_TERMS}",
                hint="inside a trace it is short: d tr(A^k) = k tr(A^(k-1) dA), "
                     "so tr(A^k) and its gradient k (A^(k-1))^T are written for any k")
        return power_differential(base, db, k)
    if p == 2 and isinstance(base, (Norm2, NormF)):
        if isinstance(db, Div) and db.args[1] is base:
            return b.scale(2, db.args[0])    # 2 ||x|| (x^T dx / ||x||) = 2 x^T dx
        if isinstance(db, Diff) and db.sym is base:  # a derivation step: d||u||^2 = 2 <u, du>
            return b.scale(2, b.inner(base.a, Diff(base.a)))
    return b.scale(p, b.mul(_spow(base, p - 1), db)) if p != 1 else db


# d(A^k) of a literal power is written out only up to this many terms: A^100000 is
# a short input whose differential is not (a trace of it is, see d_trace_power).
MAX_POWER_TERMS = 256


def power_differential(base, db, k: int):
    """d(B^k) = sum_{i<k} B^i dB B^(k-1-i) (k terms, each of three factors); for a
    scalar B, k B^(k-1) dB."""
    if base.shape is SCALAR:
        return b.scale(k, b.mul(_spow(base, k - 1), db))
    return b.add(*[b.mul(_mpow(base, i), db, _mpow(base, k - 1 - i)) for i in range(k)]
                 or [b.zero(base.shape)])


def power_of(a: Expr) -> tuple | None:
    """(B, k) when a is a matrix power B^k or a chain of one repeated block; else None."""
    if isinstance(a, Power) and a.shape is not SCALAR:
        return a.base, int(a.p)
    if isinstance(a, Mul) and len(a.factors) >= MIN_GROUPED:
        return repeated_block(a.factors)
    return None


def d_trace_power(e, dbase):
    """d tr(A^k) = k tr(A^(k-1) dA): the k terms of d(A^k) are one term under the
    cyclic trace.  e is tr(A^k) or the trace of a chain repeating one block A (see
    power_of); dbase is dA."""
    base, k = power_of(e.a)
    if k == 0 or is_zero(dbase):
        return b.zero(SCALAR)
    return b.scale(k, b.trace(b.mul(_mpow(base, k - 1), dbase)))


def _spow(base, p):
    return base if p == 1 else Power(base, p)


def _mpow(base, i):
    if i == 0:
        return Identity(base.shape[0])
    return base if i == 1 else Power(base, i)


@rule(EPow, name="elementwise power rule", identity="d(A.^p) = p A.^(p-1) ⊙ dA")
def d_epow(e, d):
    base, p = e.args
    if p == 1:
        return d[0]
    coef = EPow(base, p - 1) if p != 2 else base
    return b.scale(p, b.had(coef, d[0]))
