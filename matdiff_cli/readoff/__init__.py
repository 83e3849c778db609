"""From a differential df = L[dX] to a gradient, a Jacobian or a Hessian.

* ``read_gradient``: df = <G, dX> = tr(G^T dX).  One reverse (adjoint) pass
  over the linear expression moves dX "to the end" of every term: each node
  hands its children the adjoint of the linear map it applies (for a product
  P dX Q it is P^T G Q^T), exactly as one does by hand with the cyclic trace.
  Linear in the size of the DAG.
* ``read_jacobian``: vec(dF) = J vec(dX), by vec(P dX Q) = (Q^T ⊗ P) vec(dX),
  vec(dX^T) = K vec(dX) (commutation matrix) and vec(a ⊙ dX) = diag(vec a) vec(dX);
  for vectors these collapse to ordinary matrices (``diag(σ'(u)) W``).
* Hessians are derivatives of the gradient: a matrix for a vector variable,
  the operator H[dX] = d(∇f)[dX] for a matrix variable.

The adjoint pass is ``adjoint.py``, the vec form ``vec.py`` (imported when a
Jacobian or a vec is first asked for: a gradient does not need it); the entry
points (``d``, ``gradient``, ``jacobian``, ``hessian``, the second and k-th
differentials) are here.
"""
from __future__ import annotations

from .. import build as b
from ..differentials import differential
from ..expr import SCALAR, Diff, Expr, Sym
from ..simplify import simplify
from .adjoint import ADJOINTS, project, read_gradient, unvec_of  # noqa: F401


def read_jacobian(dF: Expr, var: Sym) -> Expr:
    """vec(dF) = J vec(dX): the Jacobian J (``vec.py``)."""
    from .vec import read_jacobian as read

    return read(dF, var)


def vec_of(M: Expr) -> Expr:
    """vec(M), written through (``vec.py``)."""
    from .vec import vec_of as vec

    return vec(M)


def __getattr__(name: str):
    if name == "VEC_RULES":  # the vec rule of each node type (vec.py, imported now)
        from .vec import VEC_RULES

        return VEC_RULES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- public entry points

def d(expr: Expr, var: Sym) -> Expr:
    """The canonical differential of expr with respect to var."""
    return simplify(differential(expr, var))


def gradient(f: Expr, var: Sym) -> Expr:
    return read_gradient(d(f, var), var)


def jacobian(F: Expr, var: Sym) -> Expr:
    if F.shape is SCALAR:
        return b.transpose(vec_of(gradient(F, var))) if var.shape is not SCALAR else gradient(F, var)
    return read_jacobian(d(F, var), var)


def hessian(f: Expr, var: Sym):
    """(kind, H): a scalar or a matrix for scalar/vector variables, else the operator
    H[dX] (an expression in Diff(var))."""
    G = gradient(f, var)
    dG = d(G, var)
    if var.shape is SCALAR:
        return "scalar", read_gradient(dG, var)
    if var.shape[1] == 1:
        return "matrix", read_jacobian(dG, var)
    return "operator", dG


# ---------------------------------------------------------------- second and k-th differentials

def direction_names(naming, var: Sym) -> tuple[str, str]:
    """dX1, dX2 (dx1_1, dx1_2 for a name that ends in a digit), never a name in use."""
    base = naming.direction(var)
    sep = "_" if base[-1].isdigit() else ""
    return naming.fresh(f"{base}{sep}1"), naming.fresh(f"{base}{sep}2")


def second_differential(f: Expr, var: Sym, names: tuple[str, str]) -> tuple[Expr, Sym, Sym]:
    """d²F[dX1, dX2]: the differential of dF[dX1] along dX2 (dX1 held constant)."""
    from ..build import replace_node

    D1 = Sym(names[0], var.shape, var.props & {"symmetric", "diagonal"})
    D2 = Sym(names[1], var.shape, var.props & {"symmetric", "diagonal"})
    first = replace_node(d(f, var), Diff(var), D1)
    second = replace_node(d(first, var), Diff(var), D2)
    return simplify(second), D1, D2


def kth_differential(f: Expr, var: Sym, k: int) -> Expr:
    """d^k F[dX, ..., dX]: differentiate k times along one direction (d(dX) = 0)."""

    out = f
    for _ in range(k):
        out = d(out, var)
    return out
