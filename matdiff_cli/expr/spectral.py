"""The spectral nodes: eigenvalues and eigenvectors (lambda_max, eigvals, eigvecs,
...), the pseudo-inverse, singular values and vectors, the nuclear norm and the
polar factor.
"""
from __future__ import annotations

from .core import SCALAR, ShapeMismatch, _square
from .unary import Unary


class LambdaMax(Unary):
    """``lambda_max(a)``: the largest eigenvalue of a square matrix (symmetric:
    real; differentiated where it is simple)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("lambda_max", a)
        return SCALAR


class LambdaMin(Unary):
    """``lambda_min(a)``: the smallest eigenvalue of a square matrix."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("lambda_min", a)
        return SCALAR


class EigVecMax(Unary):
    """``eigvec_max(a)``: the unit eigenvector of lambda_max(a), a column (its
    sign is NumPy's ``eigh``'s; v v^T does not depend on it)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("eigvec_max", a)
        return (a.shape[0], 1)


class EigVecMin(Unary):
    """``eigvec_min(a)``: the unit eigenvector of lambda_min(a), a column."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("eigvec_min", a)
        return (a.shape[0], 1)


class LeftVecMax(Unary):
    """``leftvec_max(a)``: the unit left eigenvector u of lambda_max(a)
    (uᵀ a = λ uᵀ), a column; for a symmetric a it is eigvec_max(a)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("leftvec_max", a)
        return (a.shape[0], 1)


class LeftVecMin(Unary):
    """``leftvec_min(a)``: the unit left eigenvector of lambda_min(a), a column."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("leftvec_min", a)
        return (a.shape[0], 1)


class EigVals(Unary):
    """``eigvals(a)``: the eigenvalues of a symmetric matrix, ascending (NumPy's
    ``eigvalsh``), a column; differentiated where they are distinct."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("eigvals", a)
        return (a.shape[0], 1)


class EigVecs(Unary):
    """``eigvecs(a)``: the unit eigenvectors of a symmetric matrix, the columns in
    the order of eigvals(a) (NumPy's ``eigh``; V diag(λ) V^T = a)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("eigvecs", a)
        return a.shape


class Pinv(Unary):
    """``pinv(a)``: the Moore-Penrose pseudo-inverse (n x m for an m x n a);
    differentiated where the rank of a is constant."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[1], a.shape[0])


# singular values: X = U diag(σ) Vᵀ (thin SVD, σ descending, as NumPy's svd)

def _svd_rank(op, a):
    """min(n, m) of an n x m matrix: its number of singular values.  Dimensions
    cannot write min(n, m), so a square matrix or numbers only."""
    n, m = a.shape
    if n == m:
        return n
    if isinstance(n, int) and isinstance(m, int):
        return min(n, m)
    raise ShapeMismatch(f"{op} of a non-square matrix has min({n}, {m}) entries, which matdiff "
                        "cannot write; it needs a square matrix or numeric sizes")


class SigmaMax(Unary):
    """``sigma_max(a)``: the largest singular value (the spectral norm ||a||_2 of a
    matrix; of a vector, its Euclidean norm)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return SCALAR


class SVecLeftMax(Unary):
    """``svec_left_max(a)``: the unit left singular vector u1 of sigma_max(a), a column
    of a's rows (a v1 = σ1 u1; its sign is NumPy's svd's, u1 v1ᵀ does not depend on it)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[0], 1)


class SVecRightMax(Unary):
    """``svec_right_max(a)``: the unit right singular vector v1 of sigma_max(a), a
    column of a's columns (aᵀ u1 = σ1 v1)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[1], 1)


class SvdVals(Unary):
    """``svdvals(a)``: the singular values, descending, a column of min(n, m)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (_svd_rank("svdvals", a), 1)


class SvdU(Unary):
    """``svd_u(a)``: U of the thin SVD a = U diag(svdvals(a)) Vᵀ, n x min(n, m)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[0], _svd_rank("svd_u", a))


class SvdV(Unary):
    """``svd_v(a)``: V of the thin SVD (not Vᵀ), m x min(n, m)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[1], _svd_rank("svd_v", a))


class NormNuc(Unary):
    """``norm_nuc(a)``, ``||a||_*``: the nuclear norm, the sum of the singular values."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return SCALAR


class Polar(Unary):
    """``polar(a)``: U Vᵀ of the thin SVD, the orthogonal polar factor of a (a =
    polar(a) (aᵀ a)^(1/2) for a of full rank), of a's shape."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return a.shape
