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
    Kron, Mul, Num, Ones, Sum, Sym, Trace, Transpose, Unvec, Vec, _dim_mul,
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


@adjoint(Kron)
def _kron_adjoint_rule(e, G, dep):
    """<G, A ⊗ F>: see ``_adj_kron``."""
    return _adj_kron(e, G, dep)


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
    """<g, vec(F)> = <unvec(g), F>: g itself for a column F; for a matrix, the
    reshape of g, written without unvec where g has the structure of a vec (see
    ``unvec_of``), else unvec(g, n, m)."""
    if e.a.shape[1] == 1:
        return [(e.a, G)]
    U = unvec_of(G, e.a.shape)
    return [(e.a, Unvec(G, e.a.shape) if U is None else U)]


@adjoint(Unvec)
def adj_unvec(e, G, dep):
    """<G, unvec(v)> = <vec(G), v>."""
    return [(e.a, Vec(G))]


def unvec_of(g: Expr, shape):
    """M with vec(M) = g, when g's form shows it: vec(M) -> M, (Q^T ⊗ P) vec(M) -> P M Q,
    kron(v, u) -> u v^T (columns), constants, scalar multiples and sums of those;
    None otherwise (a general vector is written unvec(g, n, m) by the caller)."""
    from .expr import Kron, Zeros

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
        scalars = [f for f in g.factors if f.shape == SCALAR]
        rest = [f for f in g.factors if f.shape != SCALAR]
        if len(rest) == 1:
            inner_ = unvec_of(rest[0], shape)
            return None if inner_ is None else b.mul(*scalars, inner_)
        if len(rest) == 2 and isinstance(rest[0], Kron):
            Qt, P = rest[0].args
            M = unvec_of(rest[1], (Qt.shape[1], P.shape[1])[::-1])
            if M is not None:   # (Q^T ⊗ P) vec(M) = vec(P M Q)
                return b.mul(*scalars, P, M, b.transpose(Qt))
    return None


def _multiple_of_identity(G: Expr):
    """c when G = c I (c a scalar expression, 1 for I itself), else None."""
    G = simplify(G)
    if isinstance(G, Identity):
        return ONE
    if isinstance(G, Mul):
        scalars = [f for f in G.factors if f.shape == SCALAR]
        rest = [f for f in G.factors if f.shape != SCALAR]
        if len(rest) == 1 and isinstance(rest[0], Identity):
            return b.mul(*scalars) if len(scalars) > 1 else scalars[0]
    return None


def _adj_kron(e, G, dep):
    """<G, A ⊗ F> and <G, F ⊗ B> for the factor F that holds the direction:
    G = c I: c tr(A) tr(F); G = G1 ⊗ G2 (G1 of A's shape): <G1, A> <G2, F>;
    G = u v^T: with U = unvec(u), V = unvec(v), U A V^T (second factor) and
    U^T B V (first factor)."""
    from .expr import Kron, Trace as Tr

    a, c = e.args
    first = bool(dep[a])
    F, other = (a, c) if first else (c, a)
    scale = _multiple_of_identity(G)
    if scale is not None and F.shape[0] == F.shape[1] and other.shape[0] == other.shape[1]:
        return [(F, b.mul(scale, Tr(other) if other.shape != SCALAR else other,
                          Identity(F.shape[0])))]
    Gs = simplify(G)
    if isinstance(Gs, (Ones, Broadcast)):   # <c 1, A ⊗ F> = c sum(A) sum(F)
        c = Gs.args[0] if isinstance(Gs, Broadcast) else ONE
        return [(F, b.mul(c, Sum(other) if other.shape != SCALAR else other,
                          Ones(F.shape) if F.shape != SCALAR else ONE))]
    if isinstance(Gs, Kron):
        G1, G2 = Gs.args
        if not first and G1.shape == a.shape and G2.shape == c.shape:
            return [(F, b.mul(inner(G1, a), G2))]
        if first and G1.shape == a.shape and G2.shape == c.shape:
            return [(F, b.mul(inner(G2, c), G1))]
    if isinstance(Gs, Mul):
        chain = [f for f in Gs.factors if f.shape != SCALAR]
        scalars = [f for f in Gs.factors if f.shape == SCALAR]
        if len(chain) == 2 and chain[0].shape[1] == 1 and chain[1].shape[0] == 1:
            u, v = chain[0], b.transpose(chain[1])
            (p, q), (r, s_) = a.shape, c.shape
            U = unvec_of(u, (r, p))
            V = unvec_of(v, (s_, q))
            U = Unvec(u, (r, p)) if U is None else U
            V = Unvec(v, (s_, q)) if V is None else V
            if first:
                return [(F, b.mul(*scalars, b.transpose(U), c, V))]
            return [(F, b.mul(*scalars, U, a, b.transpose(V)))]
    raise unsupported("the gradient through a Kronecker product kron(A, X) is written only "
                      "when it meets a trace, another Kronecker product or a product "
                      "u^T (...) v")


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
    if isinstance(J.get(target), Deferred):   # P diag(f) Q, read off here if Q is a column
        return _vec_diag_product(e, i, J)
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


def _vec_diag_product(e, i, J):
    """vec(P diag(f) q) = P diag(q) f (q a column); vec(p^T diag(f) Q) = Q^T diag(p) f
    (p^T a row); any other P diag(f) Q waits for a diag(...) around it."""
    F = e.factors
    f = F[i].a
    scalars = [x for x in F if x.shape == SCALAR]
    left = [x for x in F[:i] if x.shape != SCALAR]
    right = [x for x in F[i + 1:] if x.shape != SCALAR]
    P = _prod(left) if left else None
    Q = _prod(right) if right else None
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


@vec_rule(Unvec)
def vec_unvec(e, J, dep):
    """vec(unvec(v)) = v."""
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
            waiting = [c for c in node.children if isinstance(J.get(c), Deferred)]
            if waiting and type(node) not in (Mul, DiagV):
                raise J[waiting[0]].error()
            J[node] = rule(node, J, dep)
    if dF not in J:
        return b.zero((_size(dF.shape), n))
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


@vec_rule(DiagM)
def vec_diagm(e, J, dep):
    """vec(diag(f)): no matrix of matdiff's; the parent reads it off (see Deferred)."""
    if isinstance(J.get(e.a), Deferred):
        raise J[e.a].error()
    return Deferred(e)


def _outer_product(M: Expr):
    """(L, R) with M = L R, L a column and R a row (a product of rank one), else None."""
    if not isinstance(M, Mul):
        return None
    F = M.factors
    scalars = [f for f in F if f.shape == SCALAR]
    chain = [f for f in F if f.shape != SCALAR]
    for k in range(1, len(chain)):
        L, R = chain[:k], chain[k:]
        if L[-1].shape[1] == 1 and R[0].shape[0] == 1:
            return b.mul(*scalars, *L), _prod(R)
    return None


@vec_rule(DiagV)
def vec_diagv(e, J, dep):
    """diag(P diag(f) Q) = (P ⊙ Q^T) f (diag(diag(P)) f when Q is absent); diag(diag(f)) = f.
    The diagonal of any other matrix has no Jacobian matrix of matdiff's."""
    inner_ = e.a
    split = _outer_product(inner_) if not isinstance(J.get(inner_), Deferred) else None
    if split is not None:   # diag(u v^T) = u ⊙ v, read off as a Hadamard product
        dX = next(k for k in J if isinstance(k, Diff))
        return read_jacobian(simplify(b.had(split[0], b.transpose(split[1]))), dX.sym)
    if not isinstance(J.get(inner_), Deferred):
        raise unsupported("the Jacobian through diag(X) of a matrix cannot be written as a "
                          "matrix with matdiff's operations; the operator form is given by "
                          "`matdiff diff`")
    if isinstance(inner_, DiagM):
        return J[inner_.a]
    if not isinstance(inner_, Mul):
        raise J[inner_].error()
    F = inner_.factors
    i = next(k for k, x in enumerate(F) if isinstance(J.get(x), Deferred))
    f = F[i].a
    scalars = [x for x in F if x.shape == SCALAR]
    left = [x for x in F[:i] if x.shape != SCALAR]
    right = [x for x in F[i + 1:] if x.shape != SCALAR]
    if left and right:
        K = Hadamard(_prod(left), b.transpose(_prod(right)))
    elif left or right:
        K = DiagM(DiagV(_prod(left or right)))
    else:
        K = None
    return b.mul(*scalars, *([K] if K is not None else []), J[f])


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


# ---------------------------------------------------------------- second and k-th differentials

def direction_names(naming, var: Sym) -> tuple[str, str]:
    """dX1, dX2 (dx1_1, dx1_2 for a name that ends in a digit), never a name in use."""
    base = naming.direction(var)
    sep = "_" if base[-1].isdigit() else ""
    return naming.fresh(f"{base}{sep}1"), naming.fresh(f"{base}{sep}2")


def second_differential(f: Expr, var: Sym, names: tuple[str, str]) -> tuple[Expr, Sym, Sym]:
    """d²F[dX1, dX2]: the differential of dF[dX1] along dX2 (dX1 held constant)."""
    from .build import replace_node

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
