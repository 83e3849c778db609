"""The rules of reductions and structure: trace, determinant, sums, norms,
diagonals, vec and its inverse, softmax and log-sum-exp."""
from __future__ import annotations

from ...expr import (
    SCALAR, DiagM, DiagV, Det, Inverse, LogDet, LogSumExp, Mul, Norm1, Norm2, NormF,
    NormInf, OneHotMax, Softmax, Sum, Sym, Trace, Transpose, Unvec, Vec,
)
from .. import Doc
from .base import ATOM, MUL, NEG, at_least, call, is_plain, is_scalar, rule, tensor


def _scalar_or(fn: str, scalar=None):
    """A rule ``fn(a)``; for a 1x1 operand ``scalar(a)`` (default: a itself)."""
    def rule_(node, cx) -> Doc:
        d = cx[node.a]
        if is_scalar(node.a):
            if scalar is None:
                return Doc(d.level, d.parts, node, neg=d.neg)
            d = tensor(cx, node.a, d)
            return call(cx.lib.fn(scalar), d, node=node)
        return call(cx.lib.fn(fn), d, node=node)
    return rule_


_trace_dense = _scalar_or("trace")


@rule.register
def _trace(node: Trace, cx) -> Doc:
    """tr(P Q) of a planned product is ``sum(P * Q.T)``: O(size), no product."""
    a = node.a
    if (cx.ordered and not is_scalar(a) and is_plain(cx, a, Mul) and len(a.factors) == 2
            and not any(is_scalar(f) or is_plain(cx, f, (DiagM, Inverse)) for f in a.factors)):
        p, q = a.factors
        qt = cx[q.a] if is_plain(cx, q, Transpose) else cx.lib.transpose(cx[q])
        return call(cx.lib.fn("sum"), Doc(MUL, (at_least(cx[p], MUL), " * ", at_least(qt, NEG))),
                    node=node)
    return _trace_dense(node, cx)


rule.register(Det, _scalar_or("linalg.det"))
rule.register(Sum, _scalar_or("sum"))
rule.register(Norm2, _scalar_or("linalg.norm", "abs"))
rule.register(NormF, _scalar_or("linalg.norm", "abs"))


def _of_abs(reduce: str):
    """``reduce(abs(x))``, a norm of a vector in every library (|x| of a scalar)."""
    def render(node, cx) -> Doc:
        d = cx[node.a]
        if is_scalar(node.a):
            return call(cx.lib.fn("abs"), tensor(cx, node.a, d), node=node)
        return call(cx.lib.fn(reduce), call(cx.lib.fn("abs"), d), node=node)
    return render


rule.register(NormInf, _of_abs("max"))
rule.register(Norm1, _of_abs("sum"))


@rule.register
def _onehot_max(node: OneHotMax, cx) -> Doc:
    """``(u == u.max()) * 1.0``: 1 at the largest entry (unique where it is used)."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(ATOM, ("1.0",), node)
    return Doc(ATOM, ("(lambda u: (u == u.max()) * 1.0)(", d, ")"), node)


rule.register(DiagM, _scalar_or("diagflat"))


@rule.register
def _logdet(node: LogDet, cx) -> Doc:
    """log(det a), NaN where det a < 0, -inf where it is 0; through slogdet
    (Cholesky for a declared spd variable), so it never overflows."""
    d = cx[node.a]
    log = cx.lib.fn("log")
    if is_scalar(node.a):
        return call(log, tensor(cx, node.a, d), node=node)
    spd = isinstance(node.a, Sym) and node.a.has("spd")
    fast = cx.lib.logdet(d, spd)
    return Doc(fast.level, fast.parts, node)


@rule.register
def _diagv(node: DiagV, cx) -> Doc:
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(ATOM, (cx.lib.reshape11(d),), node)
    return Doc(ATOM, (call(cx.lib.fn("diag"), d), ".reshape(-1, 1)"), node)


@rule.register
def _vec(node: Vec, cx) -> Doc:
    """Columns stacked: column-major reshape."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(ATOM, (cx.lib.reshape11(d),), node)
    return Doc(ATOM, (cx.lib.vec(d),), node)


@rule.register
def _unvec(node: Unvec, cx) -> Doc:
    """vec's inverse: column-major reshape to (n, m)."""
    d = cx[node.a]
    if node.shape == SCALAR:
        return Doc(d.level, d.parts, node)
    n, m = (cx.dim(x) for x in node.shape)
    return Doc(ATOM, (cx.lib.unvec(d, n, m),), node)


@rule.register
def _softmax(node: Softmax, cx) -> Doc:
    return Doc(ATOM, (cx.lib.softmax(), "(", cx[node.a], ")"), node)


@rule.register
def _logsumexp(node: LogSumExp, cx) -> Doc:
    return Doc(ATOM, (cx.lib.logsumexp(), "(", cx[node.a], ")"), node)
