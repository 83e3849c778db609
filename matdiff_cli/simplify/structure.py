"""Transposes, inverses, traces, determinants and the other structural built-ins."""
from __future__ import annotations

from fractions import Fraction

from ..expr import (
    ONE, SCALAR, ZERO, Add, Broadcast, Det, DiagM, DiagV, Diff, Expr, Identity, Inverse,
    Kron, LogDet, Mul, Norm2, NormF, Num, Ones, Power, Sum, Trace, Transpose, Unvec, Vec,
    Zeros, is_zero,
)
from .order import _chain_key, contains_diff, tree_size
from .strategy import rule
from .terms import _parts, is_orthogonal, is_symmetric, product, split_coef, T, with_coef

# ---------------------------------------------------------------- transposes

@rule(Transpose)
def push_transpose(e: Transpose) -> Expr:
    """(A^T)^T = A, A^T = A for symmetric A, (A B)^T = B^T A^T, scalars and I are
    their own transposes.  Moves the transpose down one level."""
    a = e.a
    if a.shape == SCALAR or isinstance(a, (Identity, DiagM)) or is_symmetric(a):
        return a
    if isinstance(a, Transpose):
        return a.a
    if isinstance(a, Zeros):
        return Zeros((a.shape[1], a.shape[0]))
    if isinstance(a, Ones):
        return Ones((a.shape[1], a.shape[0]))
    if isinstance(a, Broadcast):
        return Broadcast(a.args[0], (a.shape[1], a.shape[0]))
    if isinstance(a, Mul):
        return Mul(*[Transpose(f) if f.shape != SCALAR else f for f in reversed(a.factors)])
    if isinstance(a, Kron):
        return Kron(Transpose(a.args[0]), Transpose(a.args[1]))
    if isinstance(a, Add):
        pushed = [T(t) for t in a.terms]
        if sum(map(_transposes, pushed)) < 1 + sum(map(_transposes, a.terms)):
            return Add(*pushed)   # (A + A^T)^T = A + A^T; (A x - b)^T stays as written
    if isinstance(a, Power) and a.shape != SCALAR:
        return Power(Transpose(a.base), a.p)
    if isinstance(a, Inverse) and T(a.a) is a.a:
        return a              # M^-T = M^-1 for symmetric M (X^T A X with A symmetric)
    return e


def _transposes(e: Expr) -> int:
    """Transposes showing at the top of a term (the term and its factors)."""
    items = e.factors if isinstance(e, Mul) else (e,)
    return sum(isinstance(f, Transpose) for f in items)


# ---------------------------------------------------------------- inverses

@rule(Inverse)
def simplify_inverse(e: Inverse) -> Expr:
    """(A^-1)^-1 = A, I^-1 = I, Q^-1 = Q^T, (A^T)^-1 = (A^-1)^T, (c A)^-1 = A^-1 / c."""
    a = e.a
    if isinstance(a, Inverse):
        return a.a
    if isinstance(a, Identity):
        return a
    if is_orthogonal(a):
        return Transpose(a)
    if isinstance(a, Transpose):
        return Transpose(Inverse(a.a))
    if isinstance(a, Power) and a.shape != SCALAR:
        return Power(Inverse(a.base), a.p)     # (A^k)^-1 = (A^-1)^k
    if isinstance(a, Mul):
        c, scalars, chain = _parts(a.factors)
        if chain and (c != 1 or scalars):
            inv_scalars = [Power(s, -1) for s in scalars]
            return Mul(Num(Fraction(1) / c), *inv_scalars, Inverse(product(chain, a.shape)))
        if len(chain) > 1 and all(f.shape == a.shape for f in chain):
            # (A B)^-1 = B^-1 A^-1 when every factor is square (so each is invertible)
            return Mul(*[Inverse(f) for f in reversed(chain)])
    if isinstance(a, Add):
        c = _common_coef(a.terms)
        if c != 1:   # (2 A + 2 λ I)^-1 = 1/2 (A + λ I)^-1
            return Mul(Num(Fraction(1) / c), Inverse(Add(*[with_coef(split_coef(t)[0] / c, split_coef(t)[1])
                                                  for t in a.terms])))
    return e


def _common_coef(terms) -> Fraction:
    """The largest number dividing every term's coefficient (with the first term's sign)."""
    from math import gcd
    coefs = [split_coef(t)[0] for t in terms]
    num = 0
    den = 1
    for c in coefs:
        num = gcd(num, abs(c.numerator))
        den = den * c.denominator // gcd(den, c.denominator)
    if num == 0:
        return Fraction(1)
    g = Fraction(num, den) if all((c / Fraction(num, den)).denominator == 1 for c in coefs) else Fraction(1)
    return -g if coefs[0] < 0 else g


# ---------------------------------------------------------------- traces

@rule(Trace)
def simplify_trace(e: Trace) -> Expr:
    """tr is linear; tr(A^T) = tr(A); tr(c A) = c tr(A); tr(x y^T) = y^T x;
    tr(A B C) = tr(B C A): rotate so a differential comes last."""
    a = e.a
    if a.shape == SCALAR:
        return a
    if isinstance(a, Add):
        return Add(*[Trace(t) for t in a.terms])
    if isinstance(a, Transpose):
        return Trace(a.a)
    if isinstance(a, Zeros):
        return ZERO
    if isinstance(a, Identity) and isinstance(a.n, int):
        return Num(a.n)
    if isinstance(a, Mul):
        out = _scalars_out(Trace, a)
        if out is not None:
            return out
        chain = list(a.factors)   # no number, no scalar: the product is its chain
        expanded = _expand_differential(chain, a.shape)
        if expanded is not None:
            return expanded
        best = _best_rotation(chain)
        if best[0].shape[0] == 1:     # a rotation that is a 1x1 product
            return Mul(*best)
        if best != chain:
            return Trace(Mul(*best))
    return e


MAX_EXPANDED_TERMS = 8


def _expand_differential(chain: list, shape):
    """tr(P (dX^T A + B dX) Q) = tr(P dX^T A Q) + tr(P B dX Q): a sum holding the
    differential is distributed inside a trace, so that each term can bring dX to
    its end.  Only small sums, so nothing is expanded into a large tree."""
    for i, f in enumerate(chain):
        if isinstance(f, Add) and contains_diff(f) and len(f.terms) <= MAX_EXPANDED_TERMS \
                and tree_size(Mul(*chain)) <= 400:
            return Add(*[Trace(Mul(*chain[:i], t, *chain[i + 1:])) for t in f.terms])
    return None


def _best_rotation(chain: list) -> list:
    """The rotation of tr(chain) (or of its transpose) to keep: a 1x1 one if there
    is one, else one that ends in dX, else the smallest by _chain_key."""
    k = len(chain)
    for i in range(k):  # a rotation that is a 1x1 product (its transpose is too)
        if chain[i].shape[0] == 1 and chain[i - 1].shape[1] == 1:
            return chain[i:] + chain[:i]
    flipped = [T(f) for f in reversed(chain)]
    candidates = [ch[i:] + ch[:i] for ch in (chain, flipped) for i in range(k)]
    if any(contains_diff(f) for f in chain):
        ending = [c for c in candidates if isinstance(c[-1], Diff)]
        candidates = ending or candidates
    return min(candidates, key=_chain_key)


# ---------------------------------------------------------------- reductions

@rule(Det)
def simplify_det(e: Det) -> Expr:
    """det(A^T) = det(A); det(A^-1) = det(A)^-1; det(I) = 1."""
    a = e.a
    if isinstance(a, Transpose):
        return Det(a.a)
    if isinstance(a, Inverse):
        return Power(Det(a.a), -1)
    if isinstance(a, Identity):
        return ONE
    return e


@rule(LogDet)
def simplify_logdet(e: LogDet) -> Expr:
    """logdet(A^T) = logdet(A); logdet(A^-1) = -logdet(A); logdet(I) = 0."""
    a = e.a
    if isinstance(a, Transpose):
        return LogDet(a.a)
    if isinstance(a, Inverse):
        return Mul(Num(-1), LogDet(a.a))
    if isinstance(a, Identity):
        return ZERO
    return e


@rule(Sum)
def simplify_sum(e: Sum) -> Expr:
    """sum(s) = s for a scalar; sum(c A) = c sum(A)."""
    a = e.a
    if a.shape == SCALAR:
        return a
    if isinstance(a, Zeros):
        return ZERO
    if isinstance(a, Transpose):
        return Sum(a.a)
    if isinstance(a, Mul):
        return _scalars_out(Sum, a) or e
    return e


def _scalars_out(op, a: Mul):
    """op(c s M) = c s op(M) for a linear op (tr, sum): the product's number and
    scalar factors in front; None when it has none."""
    c, scalars, chain = _parts(a.factors)
    if c == 1 and not scalars:
        return None
    return Mul(*([Num(c)] if c != 1 else []), *scalars, op(product(chain, a.shape)))


@rule(Norm2, NormF)
def norm_of_zero(e) -> Expr:
    """||0|| = 0."""
    return ZERO if is_zero(e.a) else e


@rule(DiagV)
def simplify_diagv(e: DiagV) -> Expr:
    """diag(diag(x)) = x; diag(A^T) = diag(A)."""
    if isinstance(e.a, DiagM):
        return e.a.a
    if isinstance(e.a, Transpose):
        return DiagV(e.a.a)
    return e


@rule(DiagM)
def simplify_diagm(e: DiagM) -> Expr:
    """diag(0) = 0; diag(1) = I; diag(s 1) = s I."""
    if isinstance(e.a, Zeros):
        return Zeros(e.shape)
    if isinstance(e.a, Ones):
        return Identity(e.shape[0])
    if isinstance(e.a, Broadcast):
        return Mul(e.a.args[0], Identity(e.shape[0]))
    return e


@rule(Vec)
def simplify_vec(e: Vec) -> Expr:
    """vec(x) = x for a column; vec(x^T) = x."""
    a = e.a
    if a.shape[1] == 1:
        return a
    if a.shape[0] == 1:
        return Transpose(a)
    if isinstance(a, Unvec):
        return a.a
    return e


@rule(Unvec)
def simplify_unvec(e: Unvec) -> Expr:
    """unvec(v, n, 1) = v; unvec(v, 1, m) = v^T; unvec(vec(X), n, m) = X."""
    a = e.a
    if e.shape[1] == 1:
        return a
    if e.shape[0] == 1:
        return Transpose(a)
    if isinstance(a, Vec) and a.a.shape == e.shape:
        return a.a
    return e
