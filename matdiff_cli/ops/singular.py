"""The singular values and vectors of a matrix (X = U diag(σ) Vᵀ, the thin SVD, σ
descending, as NumPy's ``svd``): pinv, sigma_max, the singular vectors of the
largest value, svdvals, svd_u / svd_v, the nuclear norm and the polar factor;
one block each, holding its declaration and every rule (see ``base.Builtin``).
Of a number x, every singular-value function is |x| (and a vector ±1).
"""
from __future__ import annotations

from .. import build as b
from ..errors import MatdiffError
from ..expr import (
    SCALAR, DiagM, DiagV, EDiv, EPow, Func, Identity, NormNuc, Ones, Polar, Power, SigmaMax,
    SVecLeftMax, SVecRightMax, SvdU, SvdV, SvdVals, is_zero,
)
from .base import STRUCTURE, Builtin, declare_builtin
from .eigen import signed, signs
from .linalg import OPERATOR, scalar_or


# ---------------------------------------------------------------- pinv

#: pinv counts singular values below this, relative to the largest, as 0: NumPy's
#: default 1e-15 keeps the rounding noise of λI - A's zero eigenvalue (1e-16 |λ|)
PINV_RCOND = 1e-10


def _pinv_differential(e, d):
    m, dm = e.a, d[0]
    if m.shape == SCALAR:
        return b.neg(b.mul(e, dm, e))
    pt, dmt = b.transpose(e), b.transpose(dm)
    left = b.sub(Identity(m.shape[0]), b.mul(m, e))
    right = b.sub(Identity(m.shape[1]), b.mul(e, m))
    return b.add(b.neg(b.mul(e, dm, e)), b.mul(e, pt, dmt, left), b.mul(right, dmt, pt, e))


def _constant_rank(node, a, max_cond, np):
    """The rank must not be about to change: the smallest nonzero singular value,
    relative to the largest, above 1e-4 (else the point is drawn again)."""
    if node.a.shape == SCALAR:
        return True
    if not np.all(np.isfinite(a)):
        return False
    s = np.linalg.svd(np.atleast_2d(np.asarray(a, dtype=float)), compute_uv=False)
    if s.size == 0 or s[0] == 0:   # zeros(m, n): random draws are never 0 by chance
        return True
    kept = s[s > 1e-13 * s[0]]   # below: the rounding noise of a structural zero
    return float(kept[-1] / s[0]) > 1e-4


def _pinv_code(node, cx, k):
    """``linalg.pinv(M, rcond=1e-10)``: singular values below 1e-10 of the largest
    counted as 0, as the value (``PINV_RCOND``)."""
    d = cx[node.a]
    if k.is_scalar(node.a):
        return k.Doc(k.MUL, ("1 / ", k.at_least(d, k.NEG)), node)
    tol = "rcond=1e-10" if cx.lib.name == "numpy" else "rtol=1e-10"
    return k.call(cx.lib.fn("linalg.pinv"), d, tol, node=node)


declare_builtin(Builtin(
    "pinv", "the pseudo-inverse", ("Pinv",), "matrix -> transposed", call=True,
    latex=OPERATOR % "pinv",
    differential=_pinv_differential, rule_name="pseudo-inverse",
    identity="dM⁺ = -M⁺ dM M⁺ + M⁺ M⁺ᵀ dMᵀ (I - M M⁺) + (I - M⁺ M) dMᵀ M⁺ᵀ M⁺ (the rank "
             "of M constant)",
    value=scalar_or(lambda np, a: np.linalg.pinv(a, rcond=PINV_RCOND),
                    lambda np, a: 0.0 if a == 0 else 1.0 / a),
    acceptable=_constant_rank, code=_pinv_code))


# ---------------------------------------------------------------- shared by the SVD's functions

def _svd(np, a):
    """The thin SVD (U, σ descending, V) of a matrix, as NumPy's ``svd``."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    u, w, vt = np.linalg.svd(a, full_matrices=False)
    flip = signs(np, u)   # u_k and v_k change sign together
    return u * flip, w, vt.T * flip


def _svd_value(node, args, ev, np):
    a = args[0]
    if node.a.shape == SCALAR:   # X = sign(x) |x| 1
        a = float(a)
        return {SigmaMax: abs(a), NormNuc: abs(a), SvdVals: abs(a), SVecRightMax: 1.0,
                SvdV: 1.0}.get(type(node), float(np.sign(a)))
    u, w, v = _svd(np, a)
    if isinstance(node, (SigmaMax, NormNuc)):
        return float(w[0] if isinstance(node, SigmaMax) else np.sum(w))
    out = {SvdVals: lambda: w.reshape(-1, 1), SvdU: lambda: u, SvdV: lambda: v,
           SVecLeftMax: lambda: u[:, :1], SVecRightMax: lambda: v[:, :1],
           Polar: lambda: u @ v.T}[type(node)]()
    return float(out[0, 0]) if node.shape == SCALAR else out


def _svd_gaps(np, node, a) -> float:
    """How far the singular values a node's derivative needs are from a tie or from
    0, relative to σ_max (0: not differentiable there): σ1 − σ2 for sigma_max and its
    vectors; every gap and σ_min for svdvals and the factors; σ_min for the nuclear
    norm and polar (full rank)."""
    if node.a.shape == SCALAR:
        return abs(float(a)) / (1.0 + abs(float(a)))
    w = np.linalg.svd(np.atleast_2d(np.asarray(a, dtype=float)), compute_uv=False)
    top = 1.0 + w[0]
    if isinstance(node, (SigmaMax, SVecLeftMax, SVecRightMax)):
        return float(((w[0] - w[1]) if w.size > 1 else w[0]) / top)
    if isinstance(node, (NormNuc, Polar)):
        return float(w[-1] / top)
    return float(min(np.min(-np.diff(w), initial=np.inf), w[-1]) / top)


def _separated(node, a, max_cond, np):
    """Simple, distinct, full rank as the node needs (else the point is drawn again)."""
    return bool(np.all(np.isfinite(a))) and not _svd_gaps(np, node, a) < 1e-3


#: the thin SVD, (U, s, Vh) = linalg.svd(X, full_matrices=False): the call and its options
THIN_SVD = ("linalg.svd", "full_matrices=False")
#: the nodes whose code takes the thin SVD of their argument; the NumPy writer
#: computes it once when several of them share an argument (u1 and v1 of X)
THIN_SVD_NODES = (SvdU, SvdV, SVecLeftMax, SVecRightMax, Polar)


def _svd_code(node, cx, k):
    """From ``linalg.svd(X, full_matrices=False)`` (U, s, Vh; s descending, as the
    value): the singular values (``compute_uv=False``; PyTorch's ``svdvals``),
    sigma_max = s[0], the nuclear norm sum(s), U, V, u1, v1, U Vh."""
    d = cx[node.a]
    lib = cx.lib
    if k.is_scalar(node.a):   # x = sign(x) |x| 1
        if isinstance(node, (SVecRightMax, SvdV)):
            return k.Doc(k.ATOM, ("1.0",), node)
        fn = "abs" if isinstance(node, (SigmaMax, NormNuc, SvdVals)) else "sign"
        return k.call(lib.fn(fn), k.tensor(cx, node.a, d), node=node)
    if isinstance(node, (SigmaMax, NormNuc, SvdVals)):
        s = (k.call(lib.fn("linalg.svdvals"), d) if lib.name == "torch"
             else k.call(lib.fn("linalg.svd"), d, "compute_uv=False"))
        if isinstance(node, SigmaMax):
            return k.Doc(k.ATOM, (s, "[0]"), node)
        if isinstance(node, NormNuc):
            return k.call(lib.fn("sum"), s, node=node)
        return k.Doc(k.ATOM, (s, ".reshape(-1, 1)"), node)
    svd = k.factorisation(cx, node.a, *THIN_SVD)   # THIN_SVD_NODES: bound once when shared
    if isinstance(node, Polar):
        return k.Doc(k.ATOM, ("(lambda s: s[0] @ s[2])(", svd, ")"), node)
    if isinstance(node, (SvdU, SVecLeftMax)):   # U, its signs fixed by U
        out = signed(cx, k.Doc(k.ATOM, (svd, "[0]")), k)
    else:   # V = Vh^T, with the signs of U's columns
        out = signed(cx, svd, k, by="V[0]")
    if isinstance(node, (SVecLeftMax, SVecRightMax)):
        out = k.Doc(k.ATOM, (out, "[:, :1]"))
    if node.shape == SCALAR:   # v1 of a column, u1 of a row: 1 x 1
        out = k.Doc(k.ATOM, (out, "[0, 0]"))
    return k.Doc(out.level, out.parts, node)


def _no_svd(node, kids, sp, k):
    """Refused in words: SymPy's matrix expressions have no SVD."""
    name = next(op.name for op in STRUCTURE.values() if type(node).__name__ in op.nodes)
    raise NotImplementedError(f"{name} has no SymPy form: SymPy's matrix expressions have no "
                              "singular values or singular vectors")


#: the rules every function of the SVD shares
SVD = dict(value=_svd_value, acceptable=_separated, code=_svd_code, sympy=_no_svd)


def _matrix_or_number(node) -> str:
    return "number" if node.a.shape == SCALAR else "matrix"


def _of_a_number(matrix: str) -> dict:
    """The identity of a singular-value function, of a matrix and of a number."""
    return dict(identity={"matrix": matrix, "number": "d|x| = sign(x) dx"}, case=_matrix_or_number)


def _abs_differential(e, d):
    """Of a number x, every singular-value function is |x|: d|x| = sign(x) dx."""
    return b.mul(Func("sign", e.a), d[0])


# ---------------------------------------------------------------- sigma_max, svdvals, norm_nuc

def _sigma_max_differential(e, d):
    if e.a.shape == SCALAR:
        return _abs_differential(e, d)
    return b.mul(b.transpose(SVecLeftMax(e.a)), d[0], SVecRightMax(e.a))


declare_builtin(Builtin(
    "sigma_max", "the largest singular value", ("SigmaMax",), "matrix -> scalar",
    noun="the largest singular value", call=True, latex=r"\sigma_{\max}", pretty="σ_max",
    differential=_sigma_max_differential, rule_name="largest singular value",
    **_of_a_number("dσ = u1ᵀ dX v1, u1 = svec_left_max(X), v1 = svec_right_max(X) "
                   "(σ_max(X) simple)"), **SVD))


def _svdvals_differential(e, d):
    if e.a.shape == SCALAR:
        return _abs_differential(e, d)
    return DiagV(b.mul(b.transpose(SvdU(e.a)), d[0], SvdV(e.a)))


def _norm_nuc_differential(e, d):
    if e.a.shape == SCALAR:
        return _abs_differential(e, d)
    return b.inner(Polar(e.a), d[0])


# ---------------------------------------------------------------- svec_left_max, svec_right_max

def _singular_vector_differential(e, d):
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

def _singular_vector(side: str, node_type: str, identity: str):
    declare_builtin(Builtin(
        f"svec_{side}_max", f"the unit {side} singular vector of the largest singular value",
        (node_type,), f"matrix -> {side} column", noun=f"the {side} singular vector",
        call=True, latex=OPERATOR % f"svec_{{{side},max}}",
        differential=_singular_vector_differential, rule_name="singular vector",
        identity=identity, **SVD))


_singular_vector("left", "SVecLeftMax",
                 "du1 = M⁺ (σ dX v1 + X dXᵀ u1), M = σ²I − X Xᵀ, σ = sigma_max(X)")
_singular_vector("right", "SVecRightMax",
                 "dv1 = N⁺ (σ dXᵀ u1 + Xᵀ dX v1), N = σ²I − Xᵀ X, σ = sigma_max(X)")

declare_builtin(Builtin(
    "svdvals", "the singular values, descending", ("SvdVals",), "matrix -> singular values",
    noun="svdvals", call=True, latex=OPERATOR % "svdvals",
    differential=_svdvals_differential, rule_name="singular values",
    **_of_a_number("dσ_i = u_iᵀ dX v_i: dσ = diag(Uᵀ dX V), U = svd_u(X), V = svd_v(X) "
                   "(the singular values distinct and not 0)"), **SVD))


# ---------------------------------------------------------------- svd_u, svd_v

def _singular_vectors_differential(e, d):
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

SVD_VECTORS = ", M = Uᵀ dX V, F_ij = 1 / (σ_j² − σ_i²)"

declare_builtin(Builtin(
    "svd_u", "U of the thin SVD", ("SvdU",), "matrix -> left factor", noun="svd_u", call=True,
    latex=OPERATOR % "svd_U",
    differential=_singular_vectors_differential, rule_name="singular vectors",
    identity="dU = U (F ⊙ (M Σ + Σ Mᵀ)) + (I − U Uᵀ) dX V Σ⁻¹" + SVD_VECTORS, **SVD))

declare_builtin(Builtin(
    "svd_v", "V of the thin SVD", ("SvdV",), "matrix -> right factor", noun="svd_v", call=True,
    latex=OPERATOR % "svd_V",
    differential=_singular_vectors_differential, rule_name="singular vectors",
    identity="dV = V (F ⊙ (Mᵀ Σ + Σ M)) + (I − V Vᵀ) dXᵀ U Σ⁻¹" + SVD_VECTORS, **SVD))

declare_builtin(Builtin(
    "norm_nuc", "the nuclear norm", ("NormNuc",), "matrix -> scalar", noun="the nuclear norm",
    call=True, latex=r"\left\|{a}\right\|_*",
    differential=_norm_nuc_differential, rule_name="nuclear norm",
    **_of_a_number("d||X||_* = tr(polar(X)ᵀ dX), polar(X) = U Vᵀ of the thin SVD "
                   "(X of full rank)"), **SVD))


# ---------------------------------------------------------------- polar

def _polar_differential(e, d):
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

declare_builtin(Builtin(
    "polar", "the polar factor U V^T of the thin SVD", ("Polar",), "matrix -> matrix",
    noun="the polar factor", call=True, latex=OPERATOR % "polar",
    differential=_polar_differential, rule_name="polar factor",
    identity="d polar(X) = U ((M − Mᵀ) ./ (σ 1ᵀ + 1 σᵀ)) Vᵀ + (I − U Uᵀ) dX V Σ⁻¹ Vᵀ "
             "+ U Σ⁻¹ Uᵀ dX (I − V Vᵀ), M = Uᵀ dX V", **SVD))
