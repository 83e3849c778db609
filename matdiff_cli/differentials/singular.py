"""The differentials of singular values and vectors: pinv, sigma_max, svdvals,
the nuclear norm, the singular vectors of the largest value, the polar factor and
svd_u / svd_v.
"""
from __future__ import annotations

from .. import build as b
from ..errors import MatdiffError
from ..expr import (
    SCALAR, EDiv, EPow, Func, Identity, Ones, Power, DiagM, DiagV, is_zero, NormNuc, Polar,
    SigmaMax, SVecLeftMax, SVecRightMax, SvdU, SvdV, SvdVals,
)
from .registry import rule


def _matrix_or_number(node) -> str:
    return "number" if node.a.shape == SCALAR else "matrix"


def _abs_differential(e, d):
    """Of a number x, every singular-value function is |x|: d|x| = sign(x) dx."""
    return b.mul(Func("sign", e.a), d[0])


# ---------------------------------------------------------------- singular values

@rule(SigmaMax, name="largest singular value",
      identity={"matrix": "dσ = u1ᵀ dX v1, u1 = svec_left_max(X), v1 = svec_right_max(X) "
                          "(σ_max(X) simple)", "number": "d|x| = sign(x) dx"},
      case=_matrix_or_number)
def d_sigma_max(e, d):
    if e.a.shape == SCALAR:
        return _abs_differential(e, d)
    return b.mul(b.transpose(SVecLeftMax(e.a)), d[0], SVecRightMax(e.a))


@rule(SvdVals, name="singular values",
      identity={"matrix": "dσ_i = u_iᵀ dX v_i: dσ = diag(Uᵀ dX V), U = svd_u(X), V = svd_v(X) "
                          "(the singular values distinct and not 0)", "number": "d|x| = sign(x) dx"},
      case=_matrix_or_number)
def d_svdvals(e, d):
    if e.a.shape == SCALAR:
        return _abs_differential(e, d)
    return DiagV(b.mul(b.transpose(SvdU(e.a)), d[0], SvdV(e.a)))


@rule(NormNuc, name="nuclear norm",
      identity={"matrix": "d||X||_* = tr(polar(X)ᵀ dX), polar(X) = U Vᵀ of the thin SVD "
                          "(X of full rank)", "number": "d|x| = sign(x) dx"},
      case=_matrix_or_number)
def d_norm_nuc(e, d):
    if e.a.shape == SCALAR:
        return _abs_differential(e, d)
    return b.inner(Polar(e.a), d[0])


@rule(SVecLeftMax, SVecRightMax, name="singular vector",
      identity={SVecLeftMax: "du1 = M⁺ (σ dX v1 + X dXᵀ u1), M = σ²I − X Xᵀ, σ = sigma_max(X)",
                SVecRightMax: "dv1 = N⁺ (σ dXᵀ u1 + Xᵀ dX v1), N = σ²I − Xᵀ X, "
                              "σ = sigma_max(X)"})
def d_singular_vector(e, d):
    """du1 = M⁺ (σ dX v1 + X dXᵀ u1), M = σ²I − X Xᵀ; dv1 = N⁺ (σ dXᵀ u1 + Xᵀ dX v1),
    N = σ²I − Xᵀ X; σ = sigma_max(X) simple, M⁺ = (M + u1 u1ᵀ)⁻¹ − u1 u1ᵀ (M is
    symmetric with null space u1: the eigenvector derivative of u1 for X Xᵀ)."""
    x, dx = e.a, d[0]
    if is_zero(dx) or e.shape == SCALAR:   # ±1: constant where σ is simple
        return b.zero(e.shape)
    u, v, s = SVecLeftMax(x), SVecRightMax(x), SigmaMax(x)
    left = isinstance(e, SVecLeftMax)
    w, gram = (u, b.mul(x, b.transpose(x))) if left else (v, b.mul(b.transpose(x), x))
    ww = b.mul(w, b.transpose(w))
    m = b.add(b.mul(Power(s, 2), Identity(e.shape[0])), b.neg(gram), ww)
    pinv = b.sub(b.inverse(m), ww)
    if left:
        rhs = b.add(b.mul(s, dx, v), b.mul(x, b.transpose(dx), u))
    else:
        rhs = b.add(b.mul(s, b.transpose(dx), u), b.mul(b.transpose(x), dx, v))
    return b.mul(pinv, rhs)


@rule(Polar, name="polar factor",
      identity="d polar(X) = U ((M − Mᵀ) ./ (σ 1ᵀ + 1 σᵀ)) Vᵀ + (I − U Uᵀ) dX V Σ⁻¹ Vᵀ "
               "+ U Σ⁻¹ Uᵀ dX (I − V Vᵀ), M = Uᵀ dX V")
def d_polar(e, d):
    """d polar(X) = U ((M − Mᵀ) ./ (σ 1ᵀ + 1 σᵀ)) Vᵀ + (I − U Uᵀ) dX V Σ⁻¹ Vᵀ
    + U Σ⁻¹ Uᵀ dX (I − V Vᵀ), M = Uᵀ dX V, U = svd_u(X), V = svd_v(X), σ = svdvals(X),
    Σ = diag(σ) (X of full rank; the last two terms vanish for a square X)."""
    x, dx = e.a, d[0]
    if is_zero(dx) or e.shape == SCALAR:   # sign(x): constant away from 0
        return b.zero(e.shape)
    n, m = x.shape
    if n != m and not (isinstance(n, int) and isinstance(m, int)):
        raise MatdiffError(
            "unsupported",
            "the derivative of polar(X) for a non-square X of symbolic sizes needs svd_u(X), "
            "of min(n, m) columns, which matdiff cannot write; so neither is the second "
            "derivative of the nuclear norm of such a matrix",
            hint="declare the matrix square or with numeric sizes (`X: 5 x 3`), or ask for "
                 "the gradient (grad) instead")
    u, v, sv = SvdU(x), SvdV(x), SvdVals(x)
    k = sv.shape[0]
    one = Ones((k, 1))
    mm = b.mul(b.transpose(u), dx, v)
    out = b.mul(u, EDiv(b.sub(mm, b.transpose(mm)),
                        b.add(b.mul(sv, b.transpose(one)), b.mul(one, b.transpose(sv)))),
                b.transpose(v))
    inv_s = DiagM(EDiv(one, sv))
    if n != m and n > m:   # tall: the part of dX outside the range of U
        out = b.add(out, b.mul(b.sub(Identity(n), b.mul(u, b.transpose(u))), dx, v, inv_s,
                               b.transpose(v)))
    elif n != m:           # wide
        out = b.add(out, b.mul(u, inv_s, b.transpose(u), dx,
                               b.sub(Identity(m), b.mul(v, b.transpose(v)))))
    return out


@rule(SvdU, SvdV, name="singular vectors",
      identity={SvdU: "dU = U (F ⊙ (M Σ + Σ Mᵀ)) + (I − U Uᵀ) dX V Σ⁻¹, M = Uᵀ dX V, "
                      "F_ij = 1 / (σ_j² − σ_i²)",
                SvdV: "dV = V (F ⊙ (Mᵀ Σ + Σ M)) + (I − V Vᵀ) dXᵀ U Σ⁻¹, M = Uᵀ dX V, "
                      "F_ij = 1 / (σ_j² − σ_i²)"})
def d_singular_vectors(e, d):
    """dU = U (F ⊙ (M Σ + Σ Mᵀ)) + (I − U Uᵀ) dX V Σ⁻¹, dV = V (F ⊙ (Mᵀ Σ + Σ M)) + (I −
    V Vᵀ) dXᵀ U Σ⁻¹, M = Uᵀ dX V, Σ = diag(σ), F_ij = 1 / (σ_j² − σ_i²) off the
    diagonal, 0 on it (σ = svdvals(X) distinct and not 0; the second terms only for a
    tall X (dU) or a wide X (dV))."""
    x, dx = e.a, d[0]
    if is_zero(dx) or x.shape == SCALAR:   # sign(x), 1: constant away from 0
        return b.zero(e.shape)
    n, m = x.shape
    u, v, sv = SvdU(x), SvdV(x), SvdVals(x)
    k = sv.shape[0]
    one, eye = Ones((k, 1)), Identity(k)
    mm, sig = b.mul(b.transpose(u), dx, v), DiagM(sv)
    sq = EPow(sv, 2)
    f = EDiv(b.sub(Ones((k, k)), eye),
             b.add(b.mul(one, b.transpose(sq)), b.neg(b.mul(sq, b.transpose(one))), eye))
    inv_s = DiagM(EDiv(one, sv))
    if isinstance(e, SvdU):
        out = b.mul(u, b.had(f, b.add(b.mul(mm, sig), b.mul(sig, b.transpose(mm)))))
        if n != m and n > m:
            out = b.add(out, b.mul(b.sub(Identity(n), b.mul(u, b.transpose(u))), dx, v, inv_s))
        return out
    out = b.mul(v, b.had(f, b.add(b.mul(b.transpose(mm), sig), b.mul(sig, mm))))
    if n != m and m > n:
        out = b.add(out, b.mul(b.sub(Identity(m), b.mul(v, b.transpose(v))), b.transpose(dx),
                               u, inv_s))
    return out
