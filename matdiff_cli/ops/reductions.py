"""The reductions of a vector or matrix: the norms (Frobenius, 2, 1, max), the
indicator of the largest entry, softmax and log-sum-exp; one block each,
holding its declaration and every rule (see ``base.Builtin``).
"""
from __future__ import annotations

from .. import build as b
from ..expr import Func, OneHotMax, Softmax
from .base import Builtin, declare_builtin
from .linalg import OPERATOR, scalar_or


def _by_its_norm(e, d):
    """d ||x|| = <x, dx> / ||x||, of the 2-norm and the Frobenius norm."""
    return b.div(b.inner(e.a, d[0]), e)


def _bars(notation: str):
    """The text rule of a norm written with bars, ``||x||`` (``norm2(x)`` inside bars)."""
    def text(node, cx, k):
        d = getattr(cx.nt, notation)(cx[node.a])
        return k.Doc(d.level, d.parts, node, bars=d.bars)
    return text


def _norm_code(node, cx, k):
    return k.unless_scalar(node, cx, "linalg.norm", "abs")


# ---------------------------------------------------------------- norm, norm2

declare_builtin(Builtin(
    "norm", "the Frobenius norm", ("NormF",), "matrix -> scalar",
    differential=_by_its_norm, rule_name="Frobenius norm",
    identity="d ||X||_F = tr(X^T dX) / ||X||_F",
    value=scalar_or(lambda np, a: np.linalg.norm(a), lambda np, a: abs(a)),
    text=_bars("normF"), code=_norm_code,
    sympy=lambda node, kids, sp, k: sp.sqrt(sp.Trace(kids[0].T * kids[0]))))


def _norm2_sympy(node, kids, sp, k):
    a = kids[0]
    inner = (a.T * a) if node.a.shape[1] == 1 else (a * a.T)
    return sp.sqrt(inner[0, 0])


declare_builtin(Builtin(
    "norm2", "the Euclidean norm", ("Norm2",), "vector -> scalar", latex=OPERATOR % "norm2",
    differential=_by_its_norm, rule_name="Euclidean norm",
    identity="d ||x|| = x^T dx / ||x||",
    value=scalar_or(lambda np, a: np.linalg.norm(a), lambda np, a: abs(a)),
    text=_bars("norm2"), code=_norm_code, sympy=_norm2_sympy))


# ---------------------------------------------------------------- norm1, norm_inf, onehot_max

def _of_abs(reduce: str):
    """``reduce(abs(x))``, a norm of a vector in every library (|x| of a scalar)."""
    def code(node, cx, k):
        d = cx[node.a]
        if k.is_scalar(node.a):
            return k.call(cx.lib.fn("abs"), k.tensor(cx, node.a, d), node=node)
        return k.call(cx.lib.fn(reduce), k.call(cx.lib.fn("abs"), d), node=node)
    return code


def top_gap(np, a) -> float:
    """How far the largest entry is from the next, relative to the largest magnitude."""
    a = np.sort(np.ravel(np.asarray(a, dtype=float)))
    if a.size < 2:
        return 1.0
    return float((a[-1] - a[-2]) / (1.0 + np.max(np.abs(a))))


def _no_zero_entry(node, a, max_cond, np):
    """The 1-norm is differentiable where no entry is 0."""
    a = np.abs(np.asarray(a, dtype=float))
    return bool(np.all(a > 1e-3 * (1.0 + np.max(a, initial=0.0))))


declare_builtin(Builtin(
    "norm1", "the 1-norm", ("Norm1",), "vector -> p-norm", call=True, noun="the 1-norm",
    latex=OPERATOR % "norm1",
    differential=lambda e, d: b.inner(Func("sign", e.a), d[0]), rule_name="1-norm",
    identity="d ||x||_1 = sign(x)^T dx (where no entry of x is 0)",
    value=scalar_or(lambda np, a: np.sum(np.abs(a)), lambda np, a: abs(a)),
    acceptable=_no_zero_entry, code=_of_abs("sum")))


def _largest_magnitude_unique(node, a, max_cond, np):
    """The max-norm is differentiable where the largest magnitude is unique and not 0."""
    a = np.abs(np.asarray(a, dtype=float))
    return bool(np.max(a, initial=0.0) > 1e-3 and top_gap(np, a) > 1e-3)


declare_builtin(Builtin(
    "norm_inf", "the max-norm", ("NormInf",), "vector -> p-norm", call=True,
    noun="the max-norm", latex=OPERATOR % "norm_{inf}",
    differential=lambda e, d: b.inner(b.had(Func("sign", e.a), OneHotMax(Func("abs", e.a))),
                                      d[0]),
    rule_name="max-norm",
    identity="d ||x||_inf = sign(x_k) dx_k, k the entry of largest magnitude (unique, not 0): "
             "(sign(x) ⊙ onehot_max(abs(x)))^T dx",
    value=scalar_or(lambda np, a: np.max(np.abs(a)), lambda np, a: abs(a)),
    acceptable=_largest_magnitude_unique, code=_of_abs("max")))


def _onehot_max_code(node, cx, k):
    """``(u == u.max()) * 1.0``: 1 at the largest entry (unique where it is used)."""
    if k.is_scalar(node.a):
        return k.Doc(k.ATOM, ("1.0",), node)
    return k.Doc(k.ATOM, ("(lambda u: (u == u.max()) * 1.0)(", cx[node.a], ")"), node)


declare_builtin(Builtin(
    "onehot_max", "the indicator of the largest entry", ("OneHotMax",), "vector -> vector",
    call=True, noun="onehot_max", latex=OPERATOR % "onehot_{max}",
    differential=lambda e, d: b.zero(e.shape), rule_name="indicator of the largest entry",
    identity="d onehot_max(x) = 0 where the largest entry is unique (it is piecewise constant)",
    value=scalar_or(lambda np, a: (a == np.max(a)) * 1.0, lambda np, a: 1.0),
    acceptable=lambda node, a, max_cond, np: top_gap(np, a) > 1e-3, code=_onehot_max_code))


# ---------------------------------------------------------------- softmax, logsumexp

def _softmax_value(node, args, ev, np):
    e = np.exp(args[0] - np.max(args[0]))
    return e / np.sum(e)


declare_builtin(Builtin(
    "softmax", "the softmax function", ("Softmax",), "column -> column", call=True,
    latex=OPERATOR % "softmax",
    differential=lambda e, d: b.sub(b.had(e, d[0]), b.mul(e, b.transpose(e), d[0])),
    rule_name="softmax",
    identity="d softmax(x) = s ⊙ dx - s (s^T dx), with s = softmax(x): (diag(s) - s s^T) dx",
    value=_softmax_value,
    code=lambda node, cx, k: k.Doc(k.ATOM, (cx.lib.softmax(), "(", cx[node.a], ")"), node)))


def _logsumexp_value(node, args, ev, np):
    m = np.max(args[0])
    return m + np.log(np.sum(np.exp(args[0] - m)))


declare_builtin(Builtin(
    "logsumexp", "the logsumexp function", ("LogSumExp",), "column -> scalar", call=True,
    latex=OPERATOR % "logsumexp",
    differential=lambda e, d: b.mul(b.transpose(Softmax(e.a)), d[0]), rule_name="log-sum-exp",
    identity="d logsumexp(x) = softmax(x)^T dx",
    value=_logsumexp_value,
    code=lambda node, cx, k: k.Doc(k.ATOM, (cx.lib.logsumexp(), "(", cx[node.a], ")"), node)))
