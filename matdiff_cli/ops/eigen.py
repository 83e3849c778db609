"""The spectrum of a square matrix: the largest and smallest eigenvalue
(lambda_max, lambda_min), their right and left unit eigenvectors, all the
eigenvalues and eigenvectors; one block each, holding its declaration and every
rule (see ``base.Builtin``).  Every eigen- and singular vector takes one sign
convention (``signs``), so that a value and the code of every library agree.
"""
from __future__ import annotations

from .. import build as b
from ..errors import MatdiffError
from ..expr import (
    REPR_TEXT, SCALAR, DiagV, EDiv, EigVals, EigVecMax, EigVecMin, EigVecs, Identity,
    LambdaMax, LambdaMin, LeftVecMax, LeftVecMin, Ones, Pinv, is_zero,
)
from .base import Builtin, declare_builtin
from .linalg import OPERATOR


# ---------------------------------------------------------------- shared by the family

def signs(np, u):
    """The sign of each column of u that makes its entry of largest magnitude
    positive: the one convention of every eigenvector and singular vector, so
    that a value, the JSON ``numpy`` field and the code of every library agree
    (``signed`` writes the same)."""
    return np.sign(u[np.abs(u).argmax(0), np.arange(u.shape[1])])


def signed(cx, vectors, k, node=None, by: str = "V"):
    """The code of the columns V with the sign that makes each one's entry of largest
    magnitude positive (``signs``).  ``by``: the columns whose signs decide, in terms
    of ``V`` (for the SVD's right vectors, the left ones)."""
    m = cx.lib
    flip = (f"{m.fn('sign')}({by}[{m.fn('abs')}({by}).argmax(0), "
            f"{m.fn('arange')}({by}.shape[1])])")
    head = "V" if by == "V" else "V[2].T"
    return k.Doc(k.ATOM, (f"(lambda V: {head} * {flip})(", vectors, ")"), node)


def _symmetric_by_values(np, a) -> bool:
    return bool(np.allclose(a, a.T, rtol=1e-12, atol=1e-12 * (1 + np.max(np.abs(a), initial=0))))


def _largest(node) -> bool:
    return isinstance(node, (LambdaMax, EigVecMax, LeftVecMax))


def _not_symmetric(name: str, a, more: str, hint: str) -> MatdiffError:
    """A derivative refused for a matrix not known to be symmetric (its text by the
    hook render.text fills: the differentials' registry loads it)."""
    return MatdiffError("unsupported", f"{name}({REPR_TEXT[0](a)}) is differentiated for a "
                                       f"symmetric matrix only{more}", hint=hint)


SYMMETRIC_HINT = ("declare the matrix symmetric or spd (`A: n x n symmetric`), or write a "
                  "symmetric form such as X^T X or (A + A^T)/2")


# ---------------------------------------------------------------- lambda_max, lambda_min

def _eigen(np, a, largest: bool, left: bool = False, sym: bool | None = None):
    """(λ, v) of the largest / smallest eigenvalue: ``eigh`` for a symmetric a (as
    the generated code computes it), else the eigenvalue of largest / smallest
    real part and its unit right eigenvector (``left``: of aᵀ, the left one).
    ``sym``: symmetric by form (the generated code's choice, so that both pick
    the same eigenvector's sign); None: decided by the values."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    if left:
        a = a.T
    if sym is None:
        sym = _symmetric_by_values(np, a)
    if sym:
        w, v = np.linalg.eigh(a)
        i = -1 if largest else 0
        vec = v[:, i:i + 1] if i == 0 else v[:, -1:]
        return w[i], vec * signs(np, vec)
    w, v = np.linalg.eig(a)
    i = int(np.argmax(w.real) if largest else np.argmin(w.real))
    vec = (v[:, i:i + 1] / np.linalg.norm(v[:, i:i + 1])).real
    return (w[i].real if abs(w[i].imag) <= 1e-12 * (1 + abs(w[i])) else np.nan,
            vec * signs(np, vec))


def eigen_gap(np, node, a) -> float:
    """How far the eigenvalue of a λ / eigenvector node is from the next one,
    relative to the spread of the spectrum (0: not simple)."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    if a.shape[0] < 2:
        return 1.0
    w = np.sort(np.linalg.eigvals(a).real) if not np.allclose(a, a.T) else np.linalg.eigvalsh(a)
    gap = (w[-1] - w[-2]) if _largest(node) else (w[1] - w[0])
    return float(gap / (1.0 + np.max(np.abs(w))))


def _simple(node, a, max_cond, np):
    """The eigenvalue must be simple (else the point is drawn again)."""
    return bool(np.all(np.isfinite(a))) and not eigen_gap(np, node, a) < 1e-3


def _eigenvalue_differential(e, d):
    """dλ = vᵀ dA v for a symmetric A (v the unit eigenvector), else
    uᵀ dA v / (uᵀ v) with u, v the left and right eigenvectors; λ simple."""
    if e.a.shape == SCALAR:   # the eigenvalue of a number is the number
        return d[0]
    v = (EigVecMax if _largest(e) else EigVecMin)(e.a)
    if b.symmetric(e.a):
        return b.mul(b.transpose(v), d[0], v)
    u = (LeftVecMax if _largest(e) else LeftVecMin)(e.a)
    return b.div(b.mul(b.transpose(u), d[0], v), b.mul(b.transpose(u), v))


def _lambda_code(node, cx, k):
    """``eigvalsh(A)[-1]`` (ascending) for a symmetric A, else the largest real part."""
    d = cx[node.a]
    if k.is_scalar(node.a):
        return k.Doc(d.level, d.parts, node, neg=d.neg)
    largest = _largest(node)
    if b.symmetric(node.a):
        return k.Doc(k.ATOM, (k.call(cx.lib.fn("linalg.eigvalsh"), d),
                              "[-1]" if largest else "[0]"), node)
    return k.Doc(k.ATOM, (k.call(cx.lib.fn("linalg.eigvals"), d), ".real.max()" if largest
                          else ".real.min()"), node)


def _lambda(name: str, words: str, largest: str):
    declare_builtin(Builtin(
        name, f"the {words} eigenvalue", (f"Lambda{largest.title()}",), "square -> scalar",
        noun=f"the {words} eigenvalue", call=True, latex=rf"\lambda_{{\{largest}}}",
        pretty=f"λ_{largest}",
        differential=_eigenvalue_differential, rule_name="eigenvalue",
        identity=f"dλ = uᵀ dA v / (uᵀ v), u = leftvec_{largest}(A), v = eigvec_{largest}(A); "
                 f"vᵀ dA v when A is symmetric (λ_{largest}(A) real and simple)",
        value=lambda node, args, ev, np: float(_eigen(np, args[0], _largest(node),
                                                      sym=b.symmetric(node.a))[0]),
        acceptable=_simple, code=_lambda_code))


_lambda("lambda_max", "largest", "max")
_lambda("lambda_min", "smallest", "min")


# ---------------------------------------------------------------- eigvec_*, leftvec_*

def _eigenvector_differential(e, d):
    """dv = (λI - A)⁺ dA v for a symmetric A; the eigenvector of a general A is not
    differentiated."""
    if is_zero(d[0]):
        return b.zero(e.shape)
    largest = _largest(e)
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


def _eigenvector_value(node, args, ev, np):
    left = isinstance(node, (LeftVecMax, LeftVecMin))
    v = _eigen(np, args[0], _largest(node), left, sym=b.symmetric(node.a))[1]
    return float(v[0, 0]) if node.shape == SCALAR else v


def _eigenvector_code(node, cx, k):
    """``eigh(A)[1][:, -1:]``: the unit eigenvector as a column; of a general A,
    the column of ``eig(A)`` (left: of ``eig(A^T)``) of largest / smallest real part."""
    d = cx[node.a]
    if k.is_scalar(node.a):
        return k.Doc(k.ATOM, ("1.0",), node)
    largest = _largest(node)
    if b.symmetric(node.a):
        cols = "[:, -1:]" if largest else "[:, :1]"
        return signed(cx, k.Doc(k.ATOM, (k.call(cx.lib.fn("linalg.eigh"), d), "[1]" + cols)), k,
                      node)
    if isinstance(node, (LeftVecMax, LeftVecMin)):
        d = cx.lib.transpose(d)
    pick = cx.lib.fn("argmax" if largest else "argmin")
    return signed(cx, k.Doc(k.ATOM, ("(lambda w: w[1][:, ", pick,
                                     "(w[0].real)].real.reshape(-1, 1))(",
                                     k.call(cx.lib.fn("linalg.eig"), d), ")")), k, node)


def _eigenvector(name: str, words: str, node: str, noun: str, sub: str):
    declare_builtin(Builtin(
        name, f"the unit {words}", (node,), "square -> column", noun=noun, call=True,
        latex=OPERATOR % sub,
        differential=_eigenvector_differential, rule_name="eigenvector",
        identity="dv = (λI - A)⁺ dA v (A symmetric, λ simple, v its unit eigenvector, also its "
                 "left one)",
        value=_eigenvector_value, acceptable=_simple, code=_eigenvector_code))


_eigenvector("eigvec_max", "eigenvector of the largest eigenvalue", "EigVecMax",
             "the eigenvector", "eigvec_{max}")
_eigenvector("eigvec_min", "eigenvector of the smallest eigenvalue", "EigVecMin",
             "the eigenvector", "eigvec_{min}")
_eigenvector("leftvec_max", "left eigenvector of the largest eigenvalue", "LeftVecMax",
             "the left eigenvector", "leftvec_{max}")
_eigenvector("leftvec_min", "left eigenvector of the smallest eigenvalue", "LeftVecMin",
             "the left eigenvector", "leftvec_{min}")


# ---------------------------------------------------------------- eigvals, eigvecs

def spectrum(np, a, sym: bool | None = None):
    """(w, V) ascending: ``eigh`` for a symmetric a (``sym``: by form, as the
    generated code decides; None: by the values), else the eigenvalues sorted by
    real part (nan where one is complex)."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    if sym is None:
        sym = _symmetric_by_values(np, a)
    if sym:
        w, v = np.linalg.eigh(a)
        return w, v * signs(np, v)
    w, v = np.linalg.eig(a)
    i = np.argsort(w.real)
    w, v = w[i], v[:, i]
    if np.any(np.abs(w.imag) > 1e-12 * (1 + np.abs(w))):
        return np.full(w.shape, np.nan), np.full(v.shape, np.nan)
    v = (v / np.linalg.norm(v, axis=0)).real
    return w.real, v * signs(np, v)


def _distinct(node, a, max_cond, np):
    """The eigenvalues must be distinct: the smallest distance between two, relative
    to the spectrum's size, not below 1e-3 (else the point is drawn again)."""
    if node.a.shape == SCALAR:
        return True
    if not np.all(np.isfinite(a)):
        return False
    w = spectrum(np, a)[0]
    return w.size < 2 or float(np.min(np.diff(w)) / (1.0 + np.max(np.abs(w)))) >= 1e-3


def _eigvals_differential(e, d):
    if e.a.shape == SCALAR:   # the eigenvalue of a number is the number
        return d[0]
    if not b.symmetric(e.a):
        raise _not_symmetric("eigvals", e.a, " (the eigenvalues of a general matrix may be "
                             "complex); the extreme eigenvalues lambda_max and lambda_min of "
                             "a general matrix are", SYMMETRIC_HINT)
    v = EigVecs(e.a)
    return DiagV(b.mul(b.transpose(v), d[0], v))


def _eigvals_value(node, args, ev, np):
    if node.a.shape == SCALAR:
        return args[0]
    return spectrum(np, args[0], b.symmetric(node.a) or None)[0].reshape(-1, 1)


def _symmetric_only(node, k, words: str) -> None:
    if not b.symmetric(node.a):
        raise k.NoNumpyCode("unsupported", f"the {words} of a matrix not known to be "
                                           "symmetric have no NumPy code in matdiff")


def _eigvals_code(node, cx, k):
    """``eigvalsh(A).reshape(-1, 1)``: the eigenvalues ascending, a column."""
    d = cx[node.a]
    if k.is_scalar(node.a):
        return k.Doc(d.level, d.parts, node, neg=d.neg)
    _symmetric_only(node, k, "eigenvalues")
    return k.Doc(k.ATOM, (k.call(cx.lib.fn("linalg.eigvalsh"), d), ".reshape(-1, 1)"), node)


declare_builtin(Builtin(
    "eigvals", "the eigenvalues", ("EigVals",), "square -> column", noun="the eigenvalues",
    call=True, latex=OPERATOR % "eigvals",
    differential=_eigvals_differential, rule_name="eigenvalues",
    identity="dλ = diag(Vᵀ dA V), V = eigvecs(A) (A symmetric, its eigenvalues distinct)",
    value=_eigvals_value, acceptable=_distinct, code=_eigvals_code))


def _eigvecs_differential(e, d):
    if is_zero(d[0]) or e.a.shape == SCALAR:
        return b.zero(e.shape)
    if not b.symmetric(e.a):
        raise _not_symmetric("eigvecs", e.a, "", SYMMETRIC_HINT)
    n = e.a.shape[0]
    lam, one, eye = EigVals(e.a), Ones((n, 1)), Identity(n)
    gaps = b.add(b.mul(one, b.transpose(lam)), b.neg(b.mul(lam, b.transpose(one))), eye)
    f = b.sub(EDiv(Ones((n, n)), gaps), eye)
    return b.mul(e, b.had(f, b.mul(b.transpose(e), d[0], e)))


def _eigvecs_value(node, args, ev, np):
    if node.a.shape == SCALAR:
        return 1.0
    return spectrum(np, args[0], b.symmetric(node.a) or None)[1]


def _eigvecs_code(node, cx, k):
    """``eigh(A)[1]``: the unit eigenvectors, the columns in ascending order."""
    d = cx[node.a]
    if k.is_scalar(node.a):
        return k.Doc(k.ATOM, ("1.0",), node)
    _symmetric_only(node, k, "eigenvectors")
    return signed(cx, k.Doc(k.ATOM, (k.call(cx.lib.fn("linalg.eigh"), d), "[1]")), k, node)


declare_builtin(Builtin(
    "eigvecs", "the unit eigenvectors", ("EigVecs",), "square -> square",
    noun="the eigenvectors", call=True, latex=OPERATOR % "eigvecs",
    differential=_eigvecs_differential, rule_name="eigenvectors",
    identity="dV = V (F ⊙ (Vᵀ dA V)), F = 1 ./ (1 λᵀ - λ 1ᵀ + I) - I, λ = eigvals(A) (A "
             "symmetric, its eigenvalues distinct: dv_i = Σ_{j≠i} v_j v_jᵀ dA v_i / (λ_i - λ_j))",
    value=_eigvecs_value, acceptable=_distinct, code=_eigvecs_code))
