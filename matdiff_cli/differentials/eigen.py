"""The differentials of the spectrum: the largest and smallest eigenvalue
(lambda_max, lambda_min), their eigenvectors, all eigenvalues and eigenvectors.
"""
from __future__ import annotations

from .. import build as b
from ..errors import MatdiffError
from ..expr import (
    SCALAR, EDiv, Identity, Ones, DiagV, is_zero, EigVecMax, EigVecMin, LambdaMax,
    LambdaMin, LeftVecMax, LeftVecMin,
)
from ..expr import EigVals, EigVecs, Pinv
from .registry import rule


# ---------------------------------------------------------------- the spectrum

def _eigen_rule(e, d, right, left):
    """dλ = vᵀ dA v for a symmetric A (v the unit eigenvector), else
    uᵀ dA v / (uᵀ v) with u, v the left and right eigenvectors; λ simple."""
    if e.a.shape == SCALAR:   # the eigenvalue of a number is the number
        return d[0]
    v = right(e.a)
    if b.symmetric(e.a):
        return b.mul(b.transpose(v), d[0], v)
    u = left(e.a)
    return b.div(b.mul(b.transpose(u), d[0], v), b.mul(b.transpose(u), v))


@rule(LambdaMax, name="eigenvalue",
      identity="dλ = uᵀ dA v / (uᵀ v), u = leftvec_max(A), v = eigvec_max(A); vᵀ dA v when A "
               "is symmetric (λ_max(A) real and simple)")
def d_lambda_max(e, d):
    return _eigen_rule(e, d, EigVecMax, LeftVecMax)


@rule(LambdaMin, name="eigenvalue",
      identity="dλ = uᵀ dA v / (uᵀ v), u = leftvec_min(A), v = eigvec_min(A); vᵀ dA v when A "
               "is symmetric (λ_min(A) real and simple)")
def d_lambda_min(e, d):
    return _eigen_rule(e, d, EigVecMin, LeftVecMin)


@rule(EigVecMax, EigVecMin, LeftVecMax, LeftVecMin, name="eigenvector",
      identity="dv = (λI - A)⁺ dA v (A symmetric, λ simple, v its unit eigenvector, also its "
               "left one)")
def d_eigvec(e, d):
    # the eigenvector of a general A is not differentiated
    if is_zero(d[0]):
        return b.zero(e.shape)
    largest = isinstance(e, (EigVecMax, LeftVecMax))
    if e.a.shape == SCALAR:   # the eigenvector of a number is 1
        return b.zero(e.shape)
    if b.symmetric(e.a):
        lam = (LambdaMax if largest else LambdaMin)(e.a)
        gap = b.sub(b.mul(lam, Identity(e.a.shape[0])), e.a)
        return b.mul(Pinv(gap), d[0], e)
    what = "the largest" if largest else "the smallest"
    raise MatdiffError(
        "unsupported",
        f"the derivative of the eigenvector of {what} eigenvalue of a matrix not known to be "
        "symmetric is not in matdiff yet, so neither is a second derivative of lambda_max / "
        "lambda_min of a general matrix",
        hint="ask for the gradient (grad) instead, or declare the matrix symmetric "
             "(`A: n x n symmetric`) if it is")


@rule(EigVals, name="eigenvalues",
      identity="dλ = diag(Vᵀ dA V), V = eigvecs(A) (A symmetric, its eigenvalues distinct)")
def d_eigvals(e, d):
    if e.a.shape == SCALAR:   # the eigenvalue of a number is the number
        return d[0]
    if not b.symmetric(e.a):
        from ..render.text import to_text
        raise MatdiffError(
            "unsupported",
            f"eigvals({to_text(e.a)}) is differentiated for a symmetric matrix only (the "
            "eigenvalues of a general matrix may be complex); the extreme eigenvalues "
            "lambda_max and lambda_min of a general matrix are",
            hint="declare the matrix symmetric or spd (`A: n x n symmetric`), or write a "
                 "symmetric form such as X^T X or (A + A^T)/2")
    v = EigVecs(e.a)
    return DiagV(b.mul(b.transpose(v), d[0], v))


@rule(EigVecs, name="eigenvectors",
      identity="dV = V (F ⊙ (Vᵀ dA V)), F = 1 ./ (1 λᵀ - λ 1ᵀ + I) - I, λ = eigvals(A) (A "
               "symmetric, its eigenvalues distinct: dv_i = Σ_{j≠i} v_j v_jᵀ dA v_i / (λ_i - λ_j))")
def d_eigvecs(e, d):
    if is_zero(d[0]) or e.a.shape == SCALAR:
        return b.zero(e.shape)
    if not b.symmetric(e.a):
        from ..render.text import to_text
        raise MatdiffError(
            "unsupported",
            f"eigvecs({to_text(e.a)}) is differentiated for a symmetric matrix only",
            hint="declare the matrix symmetric or spd (`A: n x n symmetric`), or write a "
                 "symmetric form such as X^T X or (A + A^T)/2")
    n = e.a.shape[0]
    lam, one, eye = EigVals(e.a), Ones((n, 1)), Identity(n)
    gaps = b.add(b.mul(one, b.transpose(lam)), b.neg(b.mul(lam, b.transpose(one))), eye)
    f = b.sub(EDiv(Ones((n, n)), gaps), eye)
    return b.mul(e, b.had(f, b.mul(b.transpose(e), d[0], e)))


@rule(Pinv, name="pseudo-inverse",
      identity="dM⁺ = -M⁺ dM M⁺ + M⁺ M⁺ᵀ dMᵀ (I - M M⁺) + (I - M⁺ M) dMᵀ M⁺ᵀ M⁺ (the rank "
               "of M constant)")
def d_pinv(e, d):
    m, dm = e.a, d[0]
    if m.shape == SCALAR:
        return b.neg(b.mul(e, dm, e))
    pt, dmt = b.transpose(e), b.transpose(dm)
    left = b.sub(Identity(m.shape[0]), b.mul(m, e))
    right = b.sub(Identity(m.shape[1]), b.mul(e, m))
    return b.add(b.neg(b.mul(e, dm, e)), b.mul(e, pt, dmt, left), b.mul(right, dmt, pt, e))
