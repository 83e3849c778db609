"""The constant matrices: the identity, ones, zeros and the commutation matrix;
one block each, holding its declaration and every rule (see ``base.Builtin``).
Each is written by its notation (``I``, ``ones(n, m)``, ``𝟏``, ``K_{m,n}``: the
``Notation`` of each text format spells it).
"""
from __future__ import annotations

from .. import build as b
from .base import Builtin, declare_builtin

#: a constant's differential: d(c) = 0 (filed as the registry's "constant" rule)
CONSTANT = dict(differential=lambda e, d: b.zero(e.shape), rule_name="constant",
                identity="d(c) = 0 for a constant (and d(dX) = 0: a direction is constant)")


declare_builtin(Builtin(
    "eye", "the identity matrix", ("Identity",), "size -> square", **CONSTANT,
    value=lambda np, node, args, ev: np.eye(ev.shape((node.n,))[0]),
    text=lambda node, cx, k: k.as_node(cx.nt.identity(node.n), node),
    code=lambda node, cx, k: k.Doc(k.ATOM, (cx.lib.eye(cx.dim(node.n)),), node),
    sympy=lambda sp, node, kids, k: sp.Identity(k._dim(node.n, sp))))

declare_builtin(Builtin(
    "ones", "the matrix of ones", ("Ones",), "sizes -> matrix", arity=(1, 2), **CONSTANT,
    value=lambda np, node, args, ev: np.ones(ev.shape(node.shape)),
    text=lambda node, cx, k: k.as_node(cx.nt.ones(node.shape), node),
    code=lambda node, cx, k: k.Doc(k.ATOM, (cx.lib.ones(cx.shape(node.shape)),), node),
    sympy=lambda sp, node, kids, k: sp.OneMatrix(*(k._dim(d, sp) for d in node.shape))))

declare_builtin(Builtin(
    "zeros", "the zero matrix", ("Zeros",), "sizes -> matrix", arity=(1, 2), **CONSTANT,
    value=lambda np, node, args, ev: np.zeros(ev.shape(node.shape)),
    text=lambda node, cx, k: k.as_node(cx.nt.zeros(node.shape), node),
    code=lambda node, cx, k: k.Doc(k.ATOM, (cx.lib.zeros(cx.shape(node.shape)),), node),
    sympy=lambda sp, node, kids, k: sp.ZeroMatrix(*(k._dim(d, sp) for d in node.shape))))


def _commutation_value(np, node, args, ev):
    """K(m,n) vec(A) = vec(A^T): K[j + i n, i + j m] = 1."""
    m, n = ev.shape(node.args)
    return np.eye(m * n)[np.arange(m * n).reshape(n, m).T.ravel()]


def _commutation_code(node, cx, k):
    """K(m,n) vec(A) = vec(A^T): row j + i n of K is row i + j m of I."""
    m, n = (cx.dim(d) for d in node.args)
    return k.Doc(k.ATOM, (cx.lib.commutation(m, n),), node)


declare_builtin(Builtin(
    "commutation", "the commutation matrix", ("Commutation",), "sizes -> commutation",
    arity=(2, 2), **CONSTANT,
    # K(m, n) vec(A) = vec(A^T); a function of the language, so that it reads back
    value=_commutation_value, text=lambda node, cx, k: k.as_node(cx.nt.commutation(*node.args), node), code=_commutation_code))
