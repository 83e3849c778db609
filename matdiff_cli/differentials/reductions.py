"""The differentials of reductions to a number: norms (2, 1, max, Frobenius),
softmax and log-sum-exp.
"""
from __future__ import annotations

from .. import build as b
from ..expr import (
    Func, LogSumExp, Norm2, NormF, Softmax, Norm1, NormInf,
    OneHotMax,
)
from .algebra import _inner
from .registry import rule


# ---------------------------------------------------------------- reductions

@rule(Norm2, name="Euclidean norm", identity="d ||x|| = x^T dx / ||x||")
def d_norm2(e, d):
    return b.div(_inner(e.a, d[0]), e)


@rule(Norm1, name="1-norm", identity="d ||x||_1 = sign(x)^T dx (where no entry of x is 0)")
def d_norm1(e, d):
    return _inner(Func("sign", e.a), d[0])


@rule(NormInf, name="max-norm",
      identity="d ||x||_inf = sign(x_k) dx_k, k the entry of largest magnitude (unique, not 0): "
               "(sign(x) ⊙ onehot_max(abs(x)))^T dx")
def d_norm_inf(e, d):
    return _inner(b.had(Func("sign", e.a), OneHotMax(Func("abs", e.a))), d[0])


@rule(OneHotMax, name="indicator of the largest entry",
      identity="d onehot_max(x) = 0 where the largest entry is unique (it is piecewise constant)")
def d_onehot_max(e, d):
    return b.zero(e.shape)


@rule(NormF, name="Frobenius norm", identity="d ||X||_F = tr(X^T dX) / ||X||_F")
def d_normf(e, d):
    return b.div(_inner(e.a, d[0]), e)


@rule(Softmax, name="softmax",
      identity="d softmax(x) = s ⊙ dx - s (s^T dx), with s = softmax(x): (diag(s) - s s^T) dx")
def d_softmax(e, d):
    return b.sub(b.had(e, d[0]), b.mul(e, b.transpose(e), d[0]))


@rule(LogSumExp, name="log-sum-exp", identity="d logsumexp(x) = softmax(x)^T dx")
def d_logsumexp(e, d):
    return b.mul(b.transpose(Softmax(e.a)), d[0])
