"""Transposes, inverses, traces, determinants and the other structural built-ins."""
from __future__ import annotations

from ..rational import Fraction

from ..build import symmetric
from ..expr import Pinv
from ..expr import (
    ONE, SCALAR, ZERO, Add, Broadcast, Det, DiagM, DiagV, Diff, Expr, Hadamard, Identity,
    Inverse, Kron, LogDet, Mul, Norm2, NormF, Num, Ones, Power, Sum, Sym, Trace, Transpose,
    Unvec, Vec, Zeros, is_zero,
)
from .core import (
    NORMAL, PUSHES, REPLACES, SHRINKS, T, _chain_key, _parts, _transposes_to_diff, any_diff,
    coefficient, contains_diff, is_orthogonal, is_symmetric, product, rule, split_coef, tree_size, with_coef,
    zero,
)

# ---------------------------------------------------------------- transposes
# The transpose moves down to the leaves, where it vanishes on scalars,
# identities, diagonal and symmetric matrices.

@rule(Transpose, identity="s^T = s for a scalar s", terminates=SHRINKS)
def transpose_of_scalar(e: Transpose) -> Expr:
    return e.a if e.a.shape is SCALAR else e


@rule(Transpose, identity="I^T = I, diag(v)^T = diag(v)", terminates=SHRINKS,
      operand=(Identity, DiagM))
def transpose_of_diagonal(e: Transpose) -> Expr:
    return e.a if isinstance(e.a, (Identity, DiagM)) else e


@rule(Transpose, identity="A^T = A for a symmetric A", terminates=SHRINKS)
def transpose_of_symmetric(e: Transpose) -> Expr:
    """Declared symmetric, or by form (A + A^T, X^T S X, pinv(λ I - S), ...)."""
    return e.a if is_symmetric(e.a) or symmetric(e.a) else e


@rule(Transpose, identity="(A^T)^T = A", terminates=SHRINKS, operand=Transpose)
def double_transpose(e: Transpose) -> Expr:
    return e.a.a if isinstance(e.a, Transpose) else e


@rule(Transpose, identity="0^T = 0, 1^T = 1, (s 1)^T = s 1 (of the other shape)",
      terminates=SHRINKS, operand=(Zeros, Ones, Broadcast))
def transpose_of_constant(e: Transpose) -> Expr:
    a = e.a
    if isinstance(a, Zeros):
        return Zeros((a.shape[1], a.shape[0]))
    if isinstance(a, Ones):
        return Ones((a.shape[1], a.shape[0]))
    if isinstance(a, Broadcast):
        return Broadcast(a.args[0], (a.shape[1], a.shape[0]))
    return e


@rule(Transpose, identity="(A B)^T = B^T A^T", terminates=PUSHES, operand=Mul)
def transpose_of_product(e: Transpose) -> Expr:
    a = e.a
    if isinstance(a, Mul):
        return Mul(*[Transpose(f) if f.shape is not SCALAR else f for f in reversed(a.factors)])
    return e


@rule(Transpose, identity="(A ⊗ B)^T = A^T ⊗ B^T", terminates=PUSHES, operand=Kron)
def transpose_of_kron(e: Transpose) -> Expr:
    a = e.a
    return Kron(Transpose(a.args[0]), Transpose(a.args[1])) if isinstance(a, Kron) else e


@rule(Transpose, identity="(A + B)^T = A^T + B^T, when fewer transposes show",
      terminates=PUSHES, operand=Add)
def transpose_of_sum(e: Transpose) -> Expr:
    a = e.a
    if isinstance(a, Add):   # (A + A^T)^T = A + A^T; (A x - b)^T stays as written
        pushed, allowed = [], sum(map(_transposes, a.terms))   # (at most as many)
        for t in a.terms:
            p = T(t)
            allowed -= _transposes(p)
            if allowed < 0:   # (the terms left are not transposed for nothing)
                return e
            pushed.append(p)
        return Add(*pushed)
    return e


@rule(Transpose, identity="(A ⊙ B)^T = A^T ⊙ B^T, when each factor is a symbol, a transpose "
      "or symmetric and no more transposes show", terminates=PUSHES, operand=Hadamard)
def transpose_of_hadamard(e: Transpose) -> Expr:
    """(B ⊙ S)^T = B^T ⊙ S, which a B^T ⊙ S beside it joins; (x ⊙ a)^T stays (two
    transposes for one), and so does a factor that is a product."""
    a = e.a
    if isinstance(a, Hadamard):
        pushed = [T(f) for f in a.factors]
        if all(p is f or isinstance(f, Sym) or (isinstance(f, Transpose) and p is f.a)
               for f, p in zip(a.factors, pushed)) and \
                sum(map(_transposes, pushed)) <= 1 + sum(map(_transposes, a.factors)):
            return Hadamard(*pushed)
    return e


@rule(Transpose, identity="(A^k)^T = (A^T)^k", terminates=PUSHES, operand=Power)
def transpose_of_power(e: Transpose) -> Expr:
    a = e.a
    if isinstance(a, Power) and a.shape is not SCALAR:
        return Power(Transpose(a.base), a.p)
    return e


@rule(Transpose, identity="M^-T = M^-1 for a symmetric M", terminates=SHRINKS, operand=Inverse)
def transpose_of_symmetric_inverse(e: Transpose) -> Expr:
    a = e.a
    if isinstance(a, Inverse) and T(a.a) is a.a:
        return a              # X^T A X with A symmetric
    return e


@rule(Transpose, identity="pinv(M)^T = pinv(M) for a symmetric M", terminates=SHRINKS,
      operand=Pinv)
def transpose_of_symmetric_pinv(e: Transpose) -> Expr:
    a = e.a
    if isinstance(a, Pinv) and T(a.a) is a.a:
        return a              # pinv(λI - A) of an eigenvector's derivative
    return e


def _transposes(e: Expr) -> int:
    """Transposes showing at the top of a term (the term and its factors)."""
    items = e.factors if isinstance(e, Mul) else (e,)
    return [type(f) for f in items].count(Transpose)   # (Transpose has no subclass)


# ---------------------------------------------------------------- inverses

@rule(Inverse, identity="(A^-1)^-1 = A", terminates=SHRINKS, operand=Inverse)
def double_inverse(e: Inverse) -> Expr:
    return e.a.a if isinstance(e.a, Inverse) else e


@rule(Inverse, identity="I^-1 = I", terminates=SHRINKS, operand=Identity)
def inverse_of_identity(e: Inverse) -> Expr:
    return e.a if isinstance(e.a, Identity) else e


@rule(Inverse, identity="Q^-1 = Q^T for an orthogonal Q", terminates=REPLACES)
def inverse_of_orthogonal(e: Inverse) -> Expr:
    return Transpose(e.a) if is_orthogonal(e.a) else e


@rule(Inverse, identity="(A^T)^-1 = (A^-1)^T", terminates=PUSHES, operand=Transpose)
def inverse_of_transpose(e: Inverse) -> Expr:
    return Transpose(Inverse(e.a.a)) if isinstance(e.a, Transpose) else e


@rule(Inverse, identity="(A^k)^-1 = (A^-1)^k", terminates=PUSHES, operand=Power)
def inverse_of_power(e: Inverse) -> Expr:
    a = e.a
    return Power(Inverse(a.base), a.p) if isinstance(a, Power) and a.shape is not SCALAR else e


@rule(Inverse, identity="(c s A)^-1 = c^-1 s^-1 A^-1 for scalars c, s", terminates=PUSHES,
      operand=Mul)
def inverse_of_scaled(e: Inverse) -> Expr:
    a = e.a
    if isinstance(a, Mul):
        c, scalars, chain = _parts(a.factors)
        if chain and (c != 1 or scalars):
            inv_scalars = [Power(s, -1) for s in scalars]
            return Mul(Num(Fraction(1) / c), *inv_scalars, Inverse(product(chain, a.shape)))
    return e


@rule(Inverse, identity="(A B)^-1 = B^-1 A^-1 for square A, B", terminates=PUSHES, operand=Mul)
def inverse_of_product(e: Inverse) -> Expr:
    a = e.a
    if isinstance(a, Mul):
        c, scalars, chain = _parts(a.factors)
        if not (chain and (c != 1 or scalars)) and len(chain) > 1 \
                and all(f.shape == a.shape for f in chain):
            # every factor square, so each is invertible
            return Mul(*[Inverse(f) for f in reversed(chain)])
    return e


@rule(Inverse, identity="(2 A + 2 B)^-1 = 1/2 (A + B)^-1", terminates=PUSHES, operand=Add)
def inverse_of_common_multiple(e: Inverse) -> Expr:
    a = e.a
    if isinstance(a, Add):
        c = _common_coef(a.terms)
        if c != 1:
            return Mul(Num(Fraction(1) / c),
                       Inverse(Add(*[with_coef(split_coef(t)[0] / c, split_coef(t)[1])
                                     for t in a.terms])))
    return e


def _common_coef(terms) -> Fraction:
    """The largest number dividing every term's coefficient (with the first term's sign)."""
    from math import gcd
    coefs = [coefficient(t) for t in terms]
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

@rule(Trace, identity="tr(s) = s for a scalar s", terminates=SHRINKS)
def trace_of_scalar(e: Trace) -> Expr:
    return e.a if e.a.shape is SCALAR else e


@rule(Trace, identity="tr(A + B) = tr(A) + tr(B)", terminates=PUSHES, operand=Add)
def trace_of_sum(e: Trace) -> Expr:
    return Add(*[Trace(t) for t in e.a.terms]) if isinstance(e.a, Add) else e


@rule(Trace, identity="tr(A^T) = tr(A)", terminates=SHRINKS, operand=Transpose)
def trace_of_transpose(e: Trace) -> Expr:
    return Trace(e.a.a) if isinstance(e.a, Transpose) else e


@rule(Trace, identity="tr(0) = 0, tr(I_n) = n", terminates=SHRINKS, operand=(Zeros, Identity))
def trace_of_constant(e: Trace) -> Expr:
    a = e.a
    if isinstance(a, Zeros):
        return ZERO
    if isinstance(a, Identity) and isinstance(a.n, int):
        return Num(a.n)
    return e


@rule(Trace, identity="tr(c s A) = c s tr(A) for scalars c, s", terminates=PUSHES, operand=Mul)
def trace_of_scaled(e: Trace) -> Expr:
    return (_scalars_out(Trace, e.a) or e) if isinstance(e.a, Mul) else e


@rule(Trace, identity="tr(P (dX^T A + B dX) Q) = tr(P dX^T A Q) + tr(P B dX Q)",
      terminates=PUSHES, operand=Mul)
def trace_of_differential_sum(e: Trace) -> Expr:
    """A small sum holding the differential is distributed inside a trace (each
    term can then bring dX to its end); the trace moves into the sum."""
    if isinstance(e.a, Mul):
        return _expand_differential(list(e.a.factors), e.a.shape) or e
    return e


@rule(Trace, identity="tr(x y^T) = y^T x", terminates=SHRINKS, operand=Mul)
def trace_of_outer_product(e: Trace) -> Expr:
    if isinstance(e.a, Mul):
        chain = _scalar_rotation(list(e.a.factors))
        if chain is not None:
            return Mul(*chain)
    return e


@rule(Trace, identity="tr(A B C) = tr(C A B), dX last", terminates=NORMAL, operand=Mul)
def rotate_trace(e: Trace) -> Expr:
    """The rotation (of the chain or of its transpose) that brings a differential
    last, else the least by _chain_key: the least rotation of the least is itself."""
    if isinstance(e.a, Mul):
        chain = list(e.a.factors)
        best = _best_rotation(chain)
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
    scalar = _scalar_rotation(chain)
    if scalar is not None:
        return scalar
    if any_diff(chain) and not any(map(_transposes_to_diff, chain)):
        # no rotation of the transpose ends in dX: those of chain that do are the candidates
        ending = [chain[i:] + chain[:i] for i in range(k) if isinstance(chain[i - 1], Diff)]
        if ending:
            return ending[0] if len(ending) == 1 else min(ending, key=_chain_key)
    flipped = [T(f) for f in reversed(chain)]
    candidates = [ch[i:] + ch[:i] for ch in (chain, flipped) for i in range(k)]
    if any_diff(chain):
        ending = [c for c in candidates if isinstance(c[-1], Diff)]
        candidates = ending or candidates
    return min(candidates, key=_chain_key)


def _scalar_rotation(chain: list):
    """A rotation of tr(chain) that is a 1x1 product (its transpose is one too), or None."""
    for i in range(len(chain)):
        if chain[i].shape[0] == 1 and chain[i - 1].shape[1] == 1:
            return chain[i:] + chain[:i]
    return None


# ---------------------------------------------------------------- reductions

@rule(Det, identity="det(A^T) = det(A)", terminates=SHRINKS)
def det_of_transpose(e: Det) -> Expr:
    return Det(e.a.a) if isinstance(e.a, Transpose) else e


@rule(Det, identity="det(A^-1) = det(A)^-1", terminates=REPLACES)
def det_of_inverse(e: Det) -> Expr:
    return Power(Det(e.a.a), -1) if isinstance(e.a, Inverse) else e


@rule(Det, identity="det(I) = 1", terminates=SHRINKS)
def det_of_identity(e: Det) -> Expr:
    return ONE if isinstance(e.a, Identity) else e


@rule(LogDet, identity="logdet(A^T) = logdet(A)", terminates=SHRINKS)
def logdet_of_transpose(e: LogDet) -> Expr:
    return LogDet(e.a.a) if isinstance(e.a, Transpose) else e


@rule(LogDet, identity="logdet(A^-1) = -logdet(A)", terminates=REPLACES)
def logdet_of_inverse(e: LogDet) -> Expr:
    return Mul(Num(-1), LogDet(e.a.a)) if isinstance(e.a, Inverse) else e


@rule(LogDet, identity="logdet(I) = 0", terminates=SHRINKS)
def logdet_of_identity(e: LogDet) -> Expr:
    return ZERO if isinstance(e.a, Identity) else e


@rule(Sum, identity="sum(s) = s for a scalar s", terminates=SHRINKS)
def sum_of_scalar(e: Sum) -> Expr:
    return e.a if e.a.shape is SCALAR else e


@rule(Sum, identity="sum(0) = 0", terminates=SHRINKS, operand=Zeros)
def sum_of_zeros(e: Sum) -> Expr:
    return ZERO if isinstance(e.a, Zeros) else e


@rule(Sum, identity="sum(A^T) = sum(A)", terminates=SHRINKS, operand=Transpose)
def sum_of_transpose(e: Sum) -> Expr:
    return Sum(e.a.a) if isinstance(e.a, Transpose) else e


@rule(Sum, identity="sum(c s A) = c s sum(A) for scalars c, s", terminates=PUSHES, operand=Mul)
def sum_of_scaled(e: Sum) -> Expr:
    return (_scalars_out(Sum, e.a) or e) if isinstance(e.a, Mul) else e


def _scalars_out(op, a: Mul):
    """op(c s M) = c s op(M) for a linear op (tr, sum): the product's number and
    scalar factors in front; None when it has none."""
    for f in a.factors:   # (most have neither: looked for before _parts splits the product)
        if f.shape is SCALAR or type(f) is Broadcast and f.args[0] is not ONE:
            break
    else:
        return None
    c, scalars, chain = _parts(a.factors)
    if c == 1 and not scalars:
        return None
    return Mul(*([Num(c)] if c != 1 else []), *scalars, op(product(chain, a.shape)))


@rule(Norm2, NormF, identity="||0|| = 0", terminates=SHRINKS)
def norm_of_zero(e) -> Expr:
    return ZERO if is_zero(e.a) else e


@rule(DiagV, identity="diag(diag(x)) = x", terminates=SHRINKS)
def diag_of_diag(e: DiagV) -> Expr:
    return e.a.a if isinstance(e.a, DiagM) else e


@rule(DiagV, identity="diag(A^T) = diag(A)", terminates=SHRINKS)
def diag_of_transpose(e: DiagV) -> Expr:
    return DiagV(e.a.a) if isinstance(e.a, Transpose) else e


@rule(Vec, Unvec, DiagV, Kron,
      identity="vec(0) = 0, unvec(0) = 0, diag(0) = 0, 0 ⊗ B = A ⊗ 0 = 0", terminates=SHRINKS)
def linear_of_zero(e: Expr) -> Expr:
    """A linear map of 0 is 0 (a zero result read back as input stays 0)."""
    return zero(e.shape) if any(is_zero(c) for c in e.children) else e


@rule(DiagM, identity="diag(0) = 0, diag(1) = I", terminates=SHRINKS)
def diagonal_of_constant(e: DiagM) -> Expr:
    if isinstance(e.a, Zeros):
        return Zeros(e.shape)
    if isinstance(e.a, Ones):
        return Identity(e.shape[0])
    return e


@rule(DiagM, identity="diag(s 1) = s I", terminates=REPLACES)
def diagonal_of_broadcast(e: DiagM) -> Expr:
    return Mul(e.a.args[0], Identity(e.shape[0])) if isinstance(e.a, Broadcast) else e


@rule(Vec, identity="vec(x) = x for a column x", terminates=SHRINKS)
def vec_of_column(e: Vec) -> Expr:
    return e.a if e.a.shape[1] == 1 else e


@rule(Vec, identity="vec(x^T) = x for a row x^T", terminates=REPLACES)
def vec_of_row(e: Vec) -> Expr:
    return Transpose(e.a) if e.a.shape[0] == 1 else e


@rule(Vec, identity="vec(unvec(v, n, m)) = v", terminates=SHRINKS)
def vec_of_unvec(e: Vec) -> Expr:
    return e.a.a if isinstance(e.a, Unvec) else e


@rule(Unvec, identity="unvec(v, n, 1) = v", terminates=SHRINKS)
def unvec_to_column(e: Unvec) -> Expr:
    return e.a if e.shape[1] == 1 else e


@rule(Unvec, identity="unvec(v, 1, m) = v^T", terminates=REPLACES)
def unvec_to_row(e: Unvec) -> Expr:
    return Transpose(e.a) if e.shape[0] == 1 else e


@rule(Unvec, identity="unvec(vec(X), n, m) = X", terminates=SHRINKS)
def unvec_of_vec(e: Unvec) -> Expr:
    a = e.a
    return a.a if isinstance(a, Vec) and a.a.shape == e.shape else e
