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
"""
from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from . import build as b
from .calculus import depends_on, differential
from .dispatch import registrar
from .errors import MatdiffError
from .expr import (
    ONE, SCALAR, Add, Broadcast, Commutation, Diff, DiagM, DiagV, Expr, Hadamard, Identity,
    Mul, Num, Ones, Sum, Sym, Trace, Transpose, Vec, _dim_mul,
)
from .simplify import contains_diff, simplify

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Callable


def unsupported(message: str) -> MatdiffError:
    return MatdiffError("unsupported", message)


# ---------------------------------------------------------------- gradient (adjoint pass)

Adjoint = "Callable[[Expr, Expr, dict], list]"
ADJOINTS: dict[type, Adjoint] = {}
adjoint = registrar(ADJOINTS)


@adjoint(Add)
def adj_add(e, G, dep):
    """<G, a + b> = <G, a> + <G, b>: every term receives G."""
    return [(t, G) for t in e.terms if dep[t]]


def _only(e, dep):
    idx = [i for i, f in enumerate(e.args) if isinstance(f, Expr) and dep[f]]
    if len(idx) != 1:
        raise unsupported("the differential is not linear in the direction (internal error)")
    return idx[0]


@adjoint(Mul)
def adj_mul(e, G, dep):
    """<G, P F Q> = <P^T G Q^T, F> for a matrix factor F; <G, f M> = f <G, M>
    = f tr(G^T M) for a scalar factor f."""
    F = e.factors
    i = _only(e, dep)
    target = F[i]
    others = F[:i] + F[i + 1:]
    if target.shape != SCALAR:
        scalars = [f for f in others if f.shape == SCALAR]
        left = [f for f in F[:i] if f.shape != SCALAR]
        right = [f for f in F[i + 1:] if f.shape != SCALAR]
        parts = list(scalars)
        if left:
            parts.append(b.transpose(_prod(left)))
        parts.append(G)
        if right:
            parts.append(b.transpose(_prod(right)))
        return [(target, b.mul(*parts))]
    rest = _prod(list(others))
    return [(target, inner(G, rest))]


def _prod(fs):
    return fs[0] if len(fs) == 1 else Mul(*fs)


def inner(G: Expr, M: Expr) -> Expr:
    """<G, M> = tr(G^T M) (a plain product when both are scalars or vectors)."""
    if M.shape == SCALAR:
        return b.mul(G, M)
    return b.trace(b.mul(b.transpose(G), M))


@adjoint(Hadamard)
def adj_hadamard(e, G, dep):
    """<G, a ⊙ F> = <a ⊙ G, F>."""
    i = _only(e, dep)
    F = e.factors
    return [(F[i], b.had(G, *F[:i], *F[i + 1:]))]


@adjoint(Transpose)
def adj_transpose(e, G, dep):
    """<G, F^T> = <G^T, F>."""
    return [(e.a, b.transpose(G))]


@adjoint(Trace)
def adj_trace(e, G, dep):
    """g tr(F) = <g I, F>."""
    return [(e.a, b.mul(G, Identity(e.a.shape[0])))]


@adjoint(Sum)
def adj_sum(e, G, dep):
    """g sum(F) = <g 1, F> (g repeated over F's shape)."""
    return [(e.a, b.broadcast(G, e.a.shape))]


@adjoint(Broadcast)
def adj_broadcast(e, G, dep):
    """<G, f 1> = f sum(G)."""
    return [(e.args[0], Sum(G))]


@adjoint(DiagM)
def adj_diagm(e, G, dep):
    """<G, diag(f)> = <diag(G), f>."""
    return [(e.a, DiagV(G))]


@adjoint(DiagV)
def adj_diagv(e, G, dep):
    """<g, diag(F)> = <diag(g), F>."""
    return [(e.a, DiagM(G))]


@adjoint(Vec)
def adj_vec(e, G, dep):
    """<g, vec(f)> = <g, f> for a column f; a matrix needs a reshape (not expressible)."""
    if e.a.shape[1] == 1:
        return [(e.a, G)]
    raise unsupported("the gradient through vec(X) of a matrix needs a reshape, "
                      "which matdiff's operations cannot write")


def read_gradient(df: Expr, var: Sym) -> Expr:
    """G with df = <G, dX>, projected on the space of var (symmetric, diagonal)."""
    if df.shape != SCALAR:
        raise MatdiffError("usage", "a gradient needs a scalar function; use `jac` for this one")
    dX = Diff(var)
    dep = depends_on(df, dX)
    contrib: dict = defaultdict(list)
    contrib[df].append(ONE)
    result = None
    order = [n for n, d in dep.items() if d]   # dep is filled children first
    for node in reversed(order):
        if node not in contrib:
            continue
        G = b.add(*contrib.pop(node))
        if node is dX:
            result = G
            continue
        rule = ADJOINTS.get(type(node))
        if rule is None:
            raise unsupported(f"the gradient through {_describe(node)} cannot be written "
                              "with matdiff's operations")
        for child, g in rule(node, G, dep):
            contrib[child].append(g)
    if result is None:
        result = b.zero(var.shape)
    return simplify(project(simplify(result), var))


def project(G: Expr, var: Sym) -> Expr:
    """The gradient in the space of var: sym(G) = (G + G^T)/2 for a symmetric variable,
    diag(diag(G)) for a diagonal one (the Frobenius inner product on that space)."""
    if var.has("diagonal"):
        return DiagM(DiagV(G))
    if var.has("symmetric", "spd"):
        GT = simplify(Transpose(G))
        if GT is G:
            return G
        return Mul(Num(Fraction(1, 2)), Add(G, GT))
    return G


def _describe(node: Expr) -> str:
    names = {"Kron": "a Kronecker product", "Vec": "vec", "Power": "a power",
             "Inverse": "an inverse", "Func": "a function"}
    return names.get(type(node).__name__, type(node).__name__)


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


def _size(shape) -> object:
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
    if target.shape == SCALAR:
        rest = _prod(list(others))
        return b.mul(vec_of(rest) if rest.shape != SCALAR else rest, J[target])
    scalars = [f for f in others if f.shape == SCALAR]
    left = [f for f in F[:i] if f.shape != SCALAR]
    right = [f for f in F[i + 1:] if f.shape != SCALAR]
    p, q = target.shape
    P = _prod(left) if left else None
    Q = _prod(right) if right else None
    if Q is None and q == 1:
        K = P
    elif P is None and p == 1:
        K = b.transpose(Q) if Q is not None else None
    else:
        K = b.kron(b.transpose(Q) if Q is not None else Identity(q),
                   P if P is not None else Identity(p))
    parts = scalars + ([K] if K is not None else []) + [J[target]]
    return b.mul(*parts)


@vec_rule(Transpose)
def vec_transpose(e, J, dep):
    """vec(F^T) = K vec(F) (commutation matrix); for a vector, vec(f^T) = vec(f)."""
    r, c = e.a.shape
    if r == 1 or c == 1:
        return J[e.a]
    return b.mul(Commutation(r, c), J[e.a])


@vec_rule(Trace)
def vec_trace(e, J, dep):
    """tr(F) = vec(I)^T vec(F)."""
    return b.mul(b.transpose(Vec(Identity(e.a.shape[0]))), J[e.a])


@vec_rule(Hadamard)
def vec_hadamard(e, J, dep):
    """vec(a ⊙ F) = diag(vec a) vec(F)."""
    i = _only(e, dep)
    F = e.factors
    others = F[:i] + F[i + 1:]
    a = others[0] if len(others) == 1 else Hadamard(*others)
    return b.mul(DiagM(vec_of(a)), J[F[i]])


@vec_rule(Sum)
def vec_sum(e, J, dep):
    """sum(F) = 1^T vec(F)."""
    return b.mul(b.transpose(Ones((_size(e.a.shape), 1))), J[e.a])


@vec_rule(Broadcast)
def vec_broadcast(e, J, dep):
    """vec(f 1) = 1 f."""
    return b.mul(Ones((_size(e.shape), 1)), J[e.args[0]])


@vec_rule(Vec)
def vec_vec(e, J, dep):
    """vec(vec(F)) = vec(F)."""
    return J[e.a]


def read_jacobian(dF: Expr, var: Sym) -> Expr:
    """J with vec(dF) = J vec(dX) (numerator layout: rows are outputs)."""
    dX = Diff(var)
    dep = depends_on(dF, dX)
    J: dict = {}
    n = _size(var.shape)
    for node, depends in dep.items():   # children first
        if not depends:
            continue
        if node is dX:
            J[node] = Identity(n)
        elif node.shape == SCALAR and node is not dF and contains_diff(node):
            # a scalar inside: its row is vec(grad)^T, read off by the adjoint pass
            J[node] = b.transpose(vec_of(read_gradient(simplify(node), var)))
        else:
            rule = VEC_RULES.get(type(node))
            if rule is None:
                raise unsupported(f"the Jacobian through {_describe(node)} cannot be written "
                                  "as a matrix with matdiff's operations")
            J[node] = rule(node, J, dep)
    if dF not in J:
        return b.zero((_size(dF.shape), n))
    return simplify(J[dF])


# ---------------------------------------------------------------- public entry points

def d(expr: Expr, var: Sym) -> Expr:
    """The canonical differential of expr with respect to var."""
    return simplify(differential(expr, var))


def gradient(f: Expr, var: Sym) -> Expr:
    return read_gradient(d(f, var), var)


def jacobian(F: Expr, var: Sym) -> Expr:
    if F.shape == SCALAR:
        return b.transpose(vec_of(gradient(F, var))) if var.shape != SCALAR else gradient(F, var)
    return read_jacobian(d(F, var), var)


def hessian(f: Expr, var: Sym):
    """(kind, H): a scalar or a matrix for scalar/vector variables, else the operator
    H[dX] (an expression in Diff(var))."""
    G = gradient(f, var)
    dG = d(G, var)
    if var.shape == SCALAR:
        return "scalar", read_gradient(dG, var)
    if var.shape[1] == 1:
        return "matrix", read_jacobian(dG, var)
    return "operator", dG
