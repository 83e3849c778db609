"""The rules of the reductions: norms, softmax and log-sum-exp."""
from __future__ import annotations

from ...expr import (
    LogSumExp, Norm1, Norm2, NormF, NormInf, OneHotMax, Softmax,
)
from .. import Doc
from .base import ATOM, call, is_scalar, rule, tensor


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


@rule.register
def _softmax(node: Softmax, cx) -> Doc:
    return Doc(ATOM, (cx.lib.softmax(), "(", cx[node.a], ")"), node)


@rule.register
def _logsumexp(node: LogSumExp, cx) -> Doc:
    return Doc(ATOM, (cx.lib.logsumexp(), "(", cx[node.a], ")"), node)
