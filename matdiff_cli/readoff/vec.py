"""The Jacobian read off in vec form: vec(dF) = J vec(dX), by vec(P dX Q) =
(Q^T ⊗ P) vec(dX), vec(dX^T) = K vec(dX) (commutation matrix) and
vec(a ⊙ dX) = diag(vec a) vec(dX); for vectors these collapse to ordinary
matrices (``diag(σ'(u)) W``).  ``VEC_RULES``: the vec rule of each node type.
"""
from __future__ import annotations

import sys

from .. import build as b
from ..differentials import depends_on
from ..dispatch import registrar
from ..expr import (
    SCALAR, Add, Broadcast, Commutation, Diff, DiagM, DiagV, Expr, Hadamard, Identity, Mul,
    Ones, Sym, Transpose, Vec, _dim_mul,
)
from ..ops import file_declared, load_all
from ..simplify import contains_diff, simplify
from .adjoint import _describe, _only, prod, read_gradient, unsupported

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Callable


# ---------------------------------------------------------------- Jacobian (vec form)

Forward = "Callable[[Expr, list, dict], Expr]"
VEC_RULES: dict[type, Forward] = {}
vec_rule = registrar(VEC_RULES)


def vec_of(M: Expr) -> Expr:
    """vec(M): M itself for a column, M^T for a row."""
    if M.shape[1] == 1:
        return M
    if M.shape[0] == 1:
        return b.transpose(M)
    return Vec(M)


def size(shape) -> object:
    return _dim_mul(shape[0], shape[1])


@vec_rule(Add)
def vec_add(e, J, dep):
    """vec(a + b) = vec(a) + vec(b)."""
    return b.add(*[J[t] for t in e.terms if dep[t]])


@vec_rule(Mul)
def vec_mul(e, J, dep):
    """vec(P F Q) = (Q^T ⊗ P) vec(F); vec(f M) = vec(M) f for a scalar factor f."""
    F = e.factors
    i = _only(e, dep)
    target = F[i]
    others = F[:i] + F[i + 1:]
    if isinstance(J.get(target), Deferred):   # P diag(f) Q, read off here if Q is a column
        return _vec_diag_product(e, i, J)
    if target.shape is SCALAR:
        rest = prod(list(others))
        return b.mul(vec_of(rest) if rest.shape is not SCALAR else rest, J[target])
    scalars = [f for f in others if f.shape is SCALAR]
    left = [f for f in F[:i] if f.shape is not SCALAR]
    right = [f for f in F[i + 1:] if f.shape is not SCALAR]
    p, q = target.shape
    P = prod(left) if left else None
    Q = prod(right) if right else None
    if Q is None and q == 1:
        K = P
    elif P is None and p == 1:
        K = b.transpose(Q) if Q is not None else None
    else:
        K = b.kron(b.transpose(Q) if Q is not None else Identity(q),
                   P if P is not None else Identity(p))
    parts = scalars + ([K] if K is not None else []) + [J[target]]
    return b.mul(*parts)


def _vec_diag_product(e, i, J):
    """vec(P diag(f) q) = P diag(q) f (q a column); vec(p^T diag(f) Q) = Q^T diag(p) f
    (p^T a row); any other P diag(f) Q waits for a diag(...) around it."""
    F = e.factors
    f = F[i].a
    scalars = [x for x in F if x.shape is SCALAR]
    left = [x for x in F[:i] if x.shape is not SCALAR]
    right = [x for x in F[i + 1:] if x.shape is not SCALAR]
    P = prod(left) if left else None
    Q = prod(right) if right else None
    if Q is not None and Q.shape[1] == 1:
        return b.mul(*scalars, *([P] if P is not None else []), DiagM(Q), J[f])
    if P is not None and P.shape[0] == 1:
        return b.mul(*scalars, *([b.transpose(Q)] if Q is not None else []),
                     DiagM(b.transpose(P)), J[f])
    return Deferred(e)


@vec_rule(Transpose)
def vec_transpose(e, J, dep):
    """vec(F^T) = K vec(F) (commutation matrix); for a vector, vec(f^T) = vec(f)."""
    r, c = e.a.shape
    if r == 1 or c == 1:
        return J[e.a]
    return b.mul(Commutation(r, c), J[e.a])


@vec_rule(Hadamard)
def vec_hadamard(e, J, dep):
    """vec(a ⊙ F) = diag(vec a) vec(F)."""
    i = _only(e, dep)
    F = e.factors
    others = F[:i] + F[i + 1:]
    a = others[0] if len(others) == 1 else Hadamard(*others)
    return b.mul(DiagM(vec_of(a)), J[F[i]])


@vec_rule(Broadcast)
def vec_broadcast(e, J, dep):
    """vec(f 1) = 1 f."""
    return b.mul(Ones((size(e.shape), 1)), J[e.args[0]])


def read_jacobian(dF: Expr, var: Sym) -> Expr:
    """J with vec(dF) = J vec(dX) (numerator layout: rows are outputs)."""
    dX = Diff(var)
    dep = depends_on(dF, dX)
    J: dict = {}
    n = size(var.shape)
    for node, depends in dep.items():   # children first
        if not depends:
            continue
        if node is dX:
            J[node] = Identity(n)
        elif node.shape is SCALAR and node is not dF and contains_diff(node):
            # a scalar inside: its row is vec(grad)^T, read off by the adjoint pass
            J[node] = b.transpose(vec_of(read_gradient(simplify(node), var)))
        else:
            rule = VEC_RULES.get(type(node))
            if rule is None:
                raise unsupported(f"the Jacobian through {_describe(node)} cannot be written "
                                  "as a matrix with matdiff's operations")
            waiting = [c for c in node.children if isinstance(J.get(c), Deferred)]
            if waiting and type(node) not in (Mul, DiagV):
                raise J[waiting[0]].error()
            J[node] = rule(node, J, dep)
    if dF not in J:
        return b.zero((size(dF.shape), n))
    if isinstance(J[dF], Deferred):
        raise J[dF].error()
    return simplify(J[dF])


class Deferred:
    """A node whose vec has no Jacobian matrix of its own, diag(dx) (its matrix is a
    Khatri-Rao product), read off by its parent: P diag(dx) q = P diag(q) dx,
    diag(P diag(dx) Q) = (P ⊙ Q^T) dx."""

    def __init__(self, node):
        self.node = node

    def error(self):
        return unsupported(
            "the Jacobian through diag(x) of a vector is written as a matrix where diag(x) "
            "multiplies a vector (diag(x) A y = diag(A y) x) or sits inside diag(...) "
            "(diag(A diag(x)) = diag(diag(A)) x); the operator form is given by `matdiff diff`")


def outer_product(M: Expr):
    """(L, R) with M = L R, L a column and R a row (a product of rank one), else None."""
    if not isinstance(M, Mul):
        return None
    F = M.factors
    scalars = [f for f in F if f.shape is SCALAR]
    chain = [f for f in F if f.shape is not SCALAR]
    for k in range(1, len(chain)):
        L, R = chain[:k], chain[k:]
        if L[-1].shape[1] == 1 and R[0].shape[0] == 1:
            return b.mul(*scalars, *L), prod(R)
    return None


file_declared("vec", VEC_RULES.__setitem__, sys.modules[__name__])   # (ops/; its helpers)
load_all()   # every family: the Jacobian is not on the start-up path
