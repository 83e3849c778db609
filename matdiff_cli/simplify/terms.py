"""Small helpers of the rules: coefficients, zeros, transposes, products, declared
properties."""
from __future__ import annotations

from fractions import Fraction

from ..expr import (
    ONE, SCALAR, ZERO, Broadcast, Diff, Expr, Identity, Mul, Num, Sym, Transpose, Zeros,
)
from .strategy import simplify

# ---------------------------------------------------------------- helpers

def zero(shape) -> Expr:
    return ZERO if tuple(shape) == SCALAR else Zeros(shape)


def split_coef(e: Expr):
    """e = c * core with c a number."""
    if isinstance(e, Num):
        return e.value, ONE
    if isinstance(e, Mul) and isinstance(e.factors[0], Num):
        rest = e.factors[1:]
        return e.factors[0].value, rest[0] if len(rest) == 1 else Mul(*rest)
    if isinstance(e, Broadcast) and isinstance(e.args[0], Num):
        return e.args[0].value, Broadcast(ONE, e.shape)
    return Fraction(1), e


def with_coef(c: Fraction, core: Expr) -> Expr:
    if c == 0:
        return zero(core.shape)
    if core is ONE:
        return Num(c)
    if isinstance(core, Broadcast) and core.args[0] is ONE:
        return Broadcast(Num(c), core.shape)
    if c == 1:
        return core
    if isinstance(core, Mul):
        return Mul(Num(c), *core.factors)
    return Mul(Num(c), core)


def is_symmetric(e: Expr) -> bool:
    if isinstance(e, Diff):
        e = e.sym
    return isinstance(e, Sym) and e.has("symmetric", "spd", "diagonal")


def is_orthogonal(e: Expr) -> bool:
    return isinstance(e, Sym) and e.has("orthogonal")


def T(e: Expr) -> Expr:
    """The canonical transpose of e."""
    return simplify(Transpose(e))


def chain_of(e: Expr) -> list:
    return list(e.factors) if isinstance(e, Mul) else [e]


def product(factors: list, shape) -> Expr:
    if not factors:
        return ONE if tuple(shape) == SCALAR else Identity(shape[0])
    return factors[0] if len(factors) == 1 else Mul(*factors)

def _parts(factors):
    """(coef, scalars, chain) of the factors of a canonical product."""
    coef, scalars, chain = 1, [], []
    for f in factors:
        if isinstance(f, Num):
            coef *= f.value
        elif f.shape == SCALAR:
            scalars.append(f)
        elif _scaled_ones(f):
            c = f.args[0]   # (-1 ones(n, k)) C^T is -ones(n, k) C^T
            if isinstance(c, Num):
                coef *= c.value
            else:
                scalars.append(c)
            chain.append(Broadcast(ONE, f.shape))
        else:
            chain.append(f)
    return coef, scalars, chain


def _scaled_ones(f: Expr) -> bool:
    """c ones(n, k) with c not 1: in a matrix product, c is a scalar factor."""
    return isinstance(f, Broadcast) and f.args[0] is not ONE


# A nested sum (product, Hadamard product) is spliced into its parent only when it
# has at most this many terms.  A chain of definitions h_i = h_{i-1} + ... nests
# one sum in the next: splicing every level would rewrite i terms at level i
# (quadratic work, and output that grows as k^2); with the limit every node is
# rewritten in bounded work and a long sum stays a parenthesised term.
FLAT_LIMIT = 16
