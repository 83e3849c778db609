"""The gradient read off a differential: df = <G, dX> = tr(G^T dX).  One reverse
(adjoint) pass over the linear expression moves dX "to the end" of every term:
each node hands its children the adjoint of the linear map it applies (for a
product P dX Q it is P^T G Q^T), exactly as one does by hand with the cyclic
trace.  Linear in the size of the DAG.  ``ADJOINTS``: the adjoint of each node type.
"""
from __future__ import annotations

import sys
from collections import defaultdict
from ..rational import Fraction

from .. import build as b
from ..differentials import depends_on
from ..dispatch import registrar
from ..errors import MatdiffError
from ..expr import (
    ONE, SCALAR, Add, Broadcast, Diff, DiagM, DiagV, Expr, Hadamard, Identity, Mul, Num, Ones,
    Sum, Sym, Transpose, Vec,
)
from ..ops import file_declared, load_all
from ..simplify import contains_diff, simplify

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
    """The index in e.args of the one operand that holds the direction."""
    found = None
    for i, f in enumerate(e.args):
        if isinstance(f, Expr) and dep[f]:
            if found is not None:
                found = -1
                break
            found = i
    if found is None or found < 0:
        raise unsupported("the differential is not linear in the direction (internal error)")
    return found


@adjoint(Mul)
def adj_mul(e, G, dep):
    """<G, P F Q> = <P^T G Q^T, F> for a matrix factor F; <G, f M> = f <G, M>
    = f tr(G^T M) for a scalar factor f."""
    F = e.factors
    i = _only(e, dep)
    target = F[i]
    if target.shape is not SCALAR:
        # the scalars first, then (P Q)^T = Q^T P^T written factor by factor: the
        # simplifier need not push the transpose of each product down (nor rewrite
        # the products it makes)
        parts, left, right = [], [], []   # (one pass sorts the factors into the three)
        for j, f in enumerate(F):
            if j != i:
                (parts if f.shape is SCALAR else left if j < i else right).append(f)
        parts += [b.transpose(f) for f in reversed(left)]
        parts.append(G)
        parts += [b.transpose(f) for f in reversed(right)]
        return [(target, b.mul(*parts))]
    rest = prod(list(F[:i] + F[i + 1:]))
    return [(target, inner(G, rest))]


def prod(fs):
    return fs[0] if len(fs) == 1 else Mul(*fs)


def inner(G: Expr, M: Expr) -> Expr:
    """<G, M> = tr(G^T M) (a plain product when both are scalars or vectors)."""
    if M.shape is SCALAR:
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


@adjoint(Broadcast)
def adj_broadcast(e, G, dep):
    """<G, f 1> = f sum(G)."""
    return [(e.args[0], Sum(G))]


def unvec_of(g: Expr, shape):
    """M with vec(M) = g, when g's form shows it: vec(M) -> M, (Q^T ⊗ P) vec(M) -> P M Q,
    kron(v, u) -> u v^T (columns), constants, scalar multiples and sums of those;
    None otherwise (a general vector is written unvec(g, n, m) by the caller)."""
    from ..expr import Kron, Zeros

    g = simplify(g)
    if isinstance(g, Vec) and g.a.shape == tuple(shape):
        return g.a
    if isinstance(g, Zeros):
        return b.zero(shape)
    if isinstance(g, Ones):
        return Ones(tuple(shape))
    if isinstance(g, Broadcast):
        return b.broadcast(g.args[0], shape)
    if isinstance(g, Add):
        parts = [unvec_of(t, shape) for t in g.terms]
        return None if any(p is None for p in parts) else b.add(*parts)
    if isinstance(g, Kron):
        v, u = g.args
        if v.shape[1] == 1 and u.shape[1] == 1 and (u.shape[0], v.shape[0]) == tuple(shape):
            return b.mul(u, b.transpose(v))
        return None
    if isinstance(g, Mul):
        scalars = [f for f in g.factors if f.shape is SCALAR]
        rest = [f for f in g.factors if f.shape is not SCALAR]
        if len(rest) == 1:
            inner_ = unvec_of(rest[0], shape)
            return None if inner_ is None else b.mul(*scalars, inner_)
        if len(rest) == 2 and isinstance(rest[0], Kron):
            Qt, P = rest[0].args
            M = unvec_of(rest[1], (Qt.shape[1], P.shape[1])[::-1])
            if M is not None:   # (Q^T ⊗ P) vec(M) = vec(P M Q)
                return b.mul(*scalars, P, M, b.transpose(Qt))
    return None


def multiple_of_identity(G: Expr):
    """c when G = c I (c a scalar expression, 1 for I itself), else None."""
    G = simplify(G)
    if isinstance(G, Identity):
        return ONE
    if isinstance(G, Mul):
        scalars = [f for f in G.factors if f.shape is SCALAR]
        rest = [f for f in G.factors if f.shape is not SCALAR]
        if len(rest) == 1 and isinstance(rest[0], Identity):
            return b.mul(*scalars) if len(scalars) > 1 else scalars[0]
    return None


file_declared("adjoint", ADJOINTS.__setitem__, sys.modules[__name__])   # (ops/; its helpers)


def read_gradient(df: Expr, var: Sym) -> Expr:
    """G with df = <G, dX>, projected on the space of var (symmetric, diagonal)."""
    if df.shape is not SCALAR:
        raise MatdiffError("usage", "a gradient needs a scalar function; use `jac` for this one")
    dX = Diff(var)
    walked = _holding(df, dX)
    if walked is None:   # another differential in df: the general walk
        dep = depends_on(df, dX)
        order = [n for n, d in dep.items() if d]   # dep is filled children first
    else:
        order, dep = walked
    contrib: dict = defaultdict(list)
    contrib[df].append(ONE)
    result = None
    for node in reversed(order):
        gs = contrib.pop(node, None)
        if gs is None:
            continue
        G = gs[0] if len(gs) == 1 else b.add(*gs)   # (add of one term is the term itself)
        if node is dX:
            result = G
            continue
        rule = ADJOINTS.get(type(node))
        if rule is None:   # a built-in's family not loaded yet?
            load_all()
            rule = ADJOINTS.get(type(node))
        if rule is None:
            raise unsupported(f"the gradient through {_describe(node)} cannot be written "
                              "with matdiff's operations")
        for child, g in rule(node, G, dep):
            contrib[child].append(g)
    if result is None:
        result = b.zero(var.shape)
    return simplify(project(simplify(result), var))


def _holding(df: Expr, dX: Diff):
    """(the nodes of df that hold dX, children first, in the order of depends_on;
    for each of them and each of their children, whether it holds dX), or None
    when df holds a differential other than dX.  Only the nodes that hold a
    differential are entered: whether one does is mostly known already (the
    simplifier memoises it), so the rest of df is not walked again."""
    dep = {df: contains_diff(df)}
    if not dep[df]:
        return [], dep
    order, stack, seen = [], [df], set()
    while stack:   # (the walk of nodes(), over the nodes that hold a differential)
        node = stack.pop()
        if node is None:   # the mark above a node whose children are listed now
            order.append(stack.pop())
            continue
        if node in seen:
            continue
        seen.add(node)
        if type(node) is Diff:   # (no subclass)
            if node is not dX:
                return None
            order.append(node)
            continue
        stack.append(node)
        stack.append(None)
        for c in reversed(node.children):
            held = dep.get(c)
            if held is None:
                held = dep[c] = contains_diff(c)
            if held and c not in seen:
                stack.append(c)
    return order, dep


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
    """What the user wrote, in words: never an internal class name."""
    names = {"Kron": "a Kronecker product", "Vec": "vec(X)", "Power": "a power",
             "Inverse": "an inverse", "Func": "a function", "DiagM": "diag(x) of a vector",
             "DiagV": "diag(X) of a matrix", "Softmax": "softmax", "LogSumExp": "logsumexp",
             "Det": "det", "LogDet": "logdet", "Norm2": "a 2-norm", "NormF": "a Frobenius norm",
             "EPow": "an elementwise power", "Div": "a division", "EDiv": "an elementwise "
             "division", "Hadamard": "an elementwise product", "Mul": "a product",
             "Add": "a sum", "Transpose": "a transpose", "Trace": "a trace", "Sum": "sum",
             "Broadcast": "a scalar spread over a matrix", "Commutation": "a commutation "
             "matrix", "LambdaMax": "lambda_max", "LambdaMin": "lambda_min",
             "EigVecMax": "eigvec_max", "EigVecMin": "eigvec_min",
             "LeftVecMax": "leftvec_max", "LeftVecMin": "leftvec_min", "Norm1": "a 1-norm",
             "NormInf": "a max-norm", "OneHotMax": "onehot_max",
             "EigVals": "eigvals", "EigVecs": "eigvecs", "Pinv": "pinv",
             "SigmaMax": "sigma_max", "SVecLeftMax": "svec_left_max",
             "SVecRightMax": "svec_right_max", "SvdVals": "svdvals", "SvdU": "svd_u",
             "SvdV": "svd_v", "NormNuc": "the nuclear norm", "Polar": "polar"}
    return names.get(type(node).__name__, "this operation")
