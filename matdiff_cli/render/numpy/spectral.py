"""The rules of the spectral functions: eigenvalues and eigenvectors, the
pseudo-inverse, singular values and vectors, the polar factor."""
from __future__ import annotations

from ...build import symmetric
from ...expr import (
    SCALAR, EigVals, EigVecMax, EigVecMin, EigVecs, LambdaMax, LambdaMin, LeftVecMax,
    LeftVecMin, NormNuc, Pinv, Polar, SigmaMax, SVecLeftMax, SVecRightMax, SvdU, SvdV, SvdVals,
)
from .. import Doc
from .base import ATOM, MUL, NEG, at_least, call, is_scalar, rule, tensor
from .base import NoNumpyCode


@rule.register(LambdaMax)
@rule.register(LambdaMin)
def _lambda(node, cx) -> Doc:
    """``eigvalsh(A)[-1]`` (ascending) for a symmetric A, else the largest real part."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(d.level, d.parts, node, neg=d.neg)
    largest = isinstance(node, LambdaMax)
    if symmetric(node.a):
        return Doc(ATOM, (call(cx.lib.fn("linalg.eigvalsh"), d), "[-1]" if largest else "[0]"),
                   node)
    return Doc(ATOM, (call(cx.lib.fn("linalg.eigvals"), d), ".real.max()" if largest
                      else ".real.min()"), node)


@rule.register(EigVecMax)
@rule.register(EigVecMin)
@rule.register(LeftVecMax)
@rule.register(LeftVecMin)
def _eigvec(node, cx) -> Doc:
    """``eigh(A)[1][:, -1:]``: the unit eigenvector as a column; of a general A,
    the column of ``eig(A)`` (left: of ``eig(A^T)``) of largest / smallest real part."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(ATOM, ("1.0",), node)
    largest = isinstance(node, (EigVecMax, LeftVecMax))
    if symmetric(node.a):
        cols = "[:, -1:]" if largest else "[:, :1]"
        return signed(cx, Doc(ATOM, (call(cx.lib.fn("linalg.eigh"), d), "[1]" + cols)), node)
    if isinstance(node, (LeftVecMax, LeftVecMin)):
        d = cx.lib.transpose(d)
    pick = cx.lib.fn("argmax" if largest else "argmin")
    return signed(cx, Doc(ATOM, ("(lambda w: w[1][:, ", pick, "(w[0].real)].real.reshape(-1, 1))(",
                                 call(cx.lib.fn("linalg.eig"), d), ")")), node)


def signed(cx, vectors: Doc, node=None, by: str = "V") -> Doc:
    """The columns V with the sign that makes each one's entry of largest magnitude
    positive (``numeric.evaluator.signs``: every eigen- and singular vector's convention).
    ``by``: the columns whose signs decide, in terms of ``V`` (for the SVD's
    right vectors, the left ones)."""
    m = cx.lib
    flip = (f"{m.fn('sign')}({by}[{m.fn('abs')}({by}).argmax(0), "
            f"{m.fn('arange')}({by}.shape[1])])")
    head = "V" if by == "V" else "V[2].T"
    return Doc(ATOM, (f"(lambda V: {head} * {flip})(", vectors, ")"), node)


@rule.register
def _eigvals(node: EigVals, cx) -> Doc:
    """``eigvalsh(A).reshape(-1, 1)``: the eigenvalues ascending, a column."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(d.level, d.parts, node, neg=d.neg)
    if not symmetric(node.a):
        raise NoNumpyCode("unsupported", "the eigenvalues of a matrix not known to be "
                                         "symmetric have no NumPy code in matdiff")
    return Doc(ATOM, (call(cx.lib.fn("linalg.eigvalsh"), d), ".reshape(-1, 1)"), node)


@rule.register
def _eigvecs(node: EigVecs, cx) -> Doc:
    """``eigh(A)[1]``: the unit eigenvectors, the columns in ascending order."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(ATOM, ("1.0",), node)
    if not symmetric(node.a):
        raise NoNumpyCode("unsupported", "the eigenvectors of a matrix not known to be "
                                         "symmetric have no NumPy code in matdiff")
    return signed(cx, Doc(ATOM, (call(cx.lib.fn("linalg.eigh"), d), "[1]")), node)


@rule.register
def _pinv(node: Pinv, cx) -> Doc:
    """``linalg.pinv(M, rcond=1e-10)``: the Moore-Penrose pseudo-inverse, singular
    values below 1e-10 of the largest counted as 0 (as numeric/evaluator.py's value: the
    default 1e-15 keeps the rounding noise of λI - A's zero eigenvalue)."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(MUL, ("1 / ", at_least(d, NEG)), node)
    tol = "rcond=1e-10" if cx.lib.name == "numpy" else "rtol=1e-10"
    return call(cx.lib.fn("linalg.pinv"), d, tol, node=node)
@rule.register(SigmaMax)
@rule.register(NormNuc)
@rule.register(SvdVals)
@rule.register(SvdU)
@rule.register(SvdV)
@rule.register(SVecLeftMax)
@rule.register(SVecRightMax)
@rule.register(Polar)
def _singular(node, cx) -> Doc:
    """From ``linalg.svd(X, full_matrices=False)`` (U, s, Vh; s descending, as the
    numeric value): the singular values (``compute_uv=False``; PyTorch's
    ``svdvals``), sigma_max = s[0], the nuclear norm sum(s), U, V, u1, v1, U Vh."""
    d = cx[node.a]
    lib = cx.lib
    if is_scalar(node.a):   # x = sign(x) |x| 1
        if isinstance(node, (SVecRightMax, SvdV)):
            return Doc(ATOM, ("1.0",), node)
        fn = "abs" if isinstance(node, (SigmaMax, NormNuc, SvdVals)) else "sign"
        return call(lib.fn(fn), tensor(cx, node.a, d), node=node)
    if isinstance(node, (SigmaMax, NormNuc, SvdVals)):
        s = (call(lib.fn("linalg.svdvals"), d) if lib.name == "torch"
             else call(lib.fn("linalg.svd"), d, "compute_uv=False"))
        if isinstance(node, SigmaMax):
            return Doc(ATOM, (s, "[0]"), node)
        if isinstance(node, NormNuc):
            return call(lib.fn("sum"), s, node=node)
        return Doc(ATOM, (s, ".reshape(-1, 1)"), node)
    svd = call(lib.fn("linalg.svd"), d, "full_matrices=False")
    if isinstance(node, Polar):
        return Doc(ATOM, ("(lambda s: s[0] @ s[2])(", svd, ")"), node)
    if isinstance(node, (SvdU, SVecLeftMax)):   # U, its signs fixed by U
        out = signed(cx, Doc(ATOM, (svd, "[0]")))
    else:   # V = Vh^T, with the signs of U's columns
        out = signed(cx, svd, by="V[0]")
    if isinstance(node, (SVecLeftMax, SVecRightMax)):
        out = Doc(ATOM, (out, "[:, :1]"))
    if node.shape == SCALAR:   # v1 of a column, u1 of a row: 1 x 1
        out = Doc(ATOM, (out, "[0, 0]"))
    return Doc(out.level, out.parts, node)
