"""The unary operators: transpose, inverse, trace, determinant, log-determinant,
sum, the norms, diag, vec / unvec, softmax, log-sum-exp.
"""
from __future__ import annotations

from .core import _FIRST, Expr, SCALAR, ShapeMismatch, _dim_mul, _square


# --------------------------------------------------------------------------
# unary operators


class Unary(Expr):
    __slots__ = ()
    _operands_only = True   # (one operand, a node)
    a = _FIRST


class Transpose(Unary):
    """``a^T``."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[1], a.shape[0])


class Inverse(Unary):
    """``a^-1`` of a square matrix."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("inv", a)
        return a.shape


class Trace(Unary):
    """``tr(a)``."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("tr", a)
        return SCALAR


class Det(Unary):
    """``det(a)``."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("det", a)
        return SCALAR


class LogDet(Unary):
    """``logdet(a)`` = log(det(a)), where det(a) > 0."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("logdet", a)
        return SCALAR


class Sum(Unary):
    """``sum(a)``: the sum of all entries."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return SCALAR


class Norm2(Unary):
    """``||x||``: the Euclidean norm of a vector."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1 and a.shape[0] != 1:
            raise ShapeMismatch("||.||_2 needs a vector")
        return SCALAR


class Norm1(Unary):
    """``||x||_1``: the sum of the magnitudes of a vector's entries."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1 and a.shape[0] != 1:
            raise ShapeMismatch("||.||_1 needs a vector")
        return SCALAR


class NormInf(Unary):
    """``||x||_inf``: the largest magnitude of a vector's entries."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1 and a.shape[0] != 1:
            raise ShapeMismatch("||.||_inf needs a vector")
        return SCALAR


class OneHotMax(Unary):
    """``onehot_max(x)``: the vector of x's shape with 1 at x's largest entry, 0
    elsewhere (e_k, k = argmax x; piecewise constant)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1 and a.shape[0] != 1:
            raise ShapeMismatch("onehot_max needs a vector")
        return a.shape


class NormF(Unary):
    """``||X||_F``: the Frobenius norm."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return SCALAR


class DiagM(Unary):
    """``diag(x)``: the diagonal matrix of a column vector."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1:
            raise ShapeMismatch("diag(x) needs a column vector")
        return (a.shape[0], a.shape[0])


class DiagV(Unary):
    """``diag(X)``: the column vector of a square matrix's diagonal."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("diag", a)
        return (a.shape[0], 1)


class Vec(Unary):
    """``vec(X)``: the columns of X stacked (column-major)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (_dim_mul(a.shape[0], a.shape[1]), 1)


class Unvec(Expr):
    """``unvec(v, n, m)``: the n x m matrix whose vec is v (column-major), vec's inverse."""
    __slots__ = ()

    def __new__(cls, a, shape):
        return Expr.__new__(cls, a, tuple(shape))

    @staticmethod
    def _shape(a, shape):
        if a.shape != (_dim_mul(shape[0], shape[1]), 1):
            n, m = shape
            raise ShapeMismatch(f"unvec(v, {n}, {m}) needs a column v of {n}*{m} entries, and the "
                                f"shape of v here is not determined by that alone; declare the "
                                f"shapes of its variables (e.g. X: {n} x {m})")
        return tuple(shape)

    a = _FIRST


class Softmax(Unary):
    """``softmax(x)`` of a column vector."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1:
            raise ShapeMismatch("softmax needs a column vector")
        return a.shape


class LogSumExp(Unary):
    """``logsumexp(x)`` of a column vector."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1:
            raise ShapeMismatch("logsumexp needs a column vector")
        return SCALAR
