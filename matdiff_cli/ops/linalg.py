"""The linear-algebra built-ins: trace, determinant, log-determinant, sum, diag,
vec / unvec, the Kronecker product, the inverse and the constant matrices
(eye, ones, zeros, commutation); one block each, holding its declaration and
every rule (see ``base.Builtin``).  NumPy and SymPy are
handed to the rules that use them, never imported here.
"""
from __future__ import annotations

from .. import build as b
from ..expr import (
    ONE, SCALAR, Broadcast, DiagM, DiagV, Diff, Hadamard, Identity, Inverse, Kron, Mul, Ones,
    Sum, Trace, Transpose, Unvec, Vec, is_zero,
)
from .base import Builtin, declare_builtin

OPERATOR = r"\operatorname{%s}"


def scalar_or(fn, scalar=lambda np, a: a):
    """A value rule ``fn(np, a)``; for a 1x1 argument ``scalar(np, a)`` (default: a)."""
    def value(node, args, ev, np):
        return scalar(np, args[0]) if node.a.shape == SCALAR else fn(np, args[0])
    return value


def unchanged(e, J, dep, k):
    """A read-off through a reshape that keeps vec: vec(vec(F)) = vec(F)."""
    return J[e.a]


# ---------------------------------------------------------------- tr

def _trace_code(node, cx, k):
    """tr(P Q) of a planned product is ``sum(P * Q.T)``: O(size), no product."""
    a = node.a
    if (cx.ordered and not k.is_scalar(a) and k.is_plain(cx, a, Mul) and len(a.factors) == 2
            and not any(k.is_scalar(f) or k.is_plain(cx, f, (DiagM, Inverse))
                        for f in a.factors)):
        p, q = a.factors
        qt = cx[q.a] if k.is_plain(cx, q, Transpose) else cx.lib.transpose(cx[q])
        return k.call(cx.lib.fn("sum"), k.Doc(k.MUL, (k.at_least(cx[p], k.MUL), " * ",
                                                      k.at_least(qt, k.NEG))), node=node)
    return k.unless_scalar(node, cx, "trace")


declare_builtin(Builtin(
    "tr", "the trace function", ("Trace",), "square -> scalar", noun="the trace", call=True,
    latex=OPERATOR % "tr",
    differential=lambda e, d: b.trace(d[0]), rule_name="trace", identity="d tr(A) = tr(dA)",
    value=scalar_or(lambda np, a: np.trace(a)),
    code=_trace_code,
    sympy=lambda node, kids, sp, k: sp.Trace(kids[0]),
    # g tr(F) = <g I, F>; tr(F) = vec(I)^T vec(F)
    adjoint=lambda e, G, dep, k: [(e.a, b.mul(G, Identity(e.a.shape[0])))],
    vec=lambda e, J, dep, k: b.mul(b.transpose(Vec(Identity(e.a.shape[0]))), J[e.a])))


# ---------------------------------------------------------------- det, logdet

def _well_conditioned(node, a, max_cond, np):
    """An inverse, det or logdet only where its argument is well conditioned
    (logdet: where det > 0)."""
    if node.a.shape == SCALAR:
        return True
    if not np.all(np.isfinite(a)) or np.linalg.cond(a) > max_cond:
        return False
    return type(node).__name__ != "LogDet" or np.linalg.det(a) > 0


declare_builtin(Builtin(
    "det", "the determinant function", ("Det",), "square -> scalar", noun="the determinant",
    call=True, latex=r"\det",
    differential=lambda e, d: b.mul(e, b.trace(b.mul(Inverse(e.a), d[0]))),
    rule_name="determinant", identity="d det(A) = det(A) tr(A^-1 dA)",
    value=scalar_or(lambda np, a: np.linalg.det(a)), acceptable=_well_conditioned,
    code=lambda node, cx, k: k.unless_scalar(node, cx, "linalg.det"),
    sympy=lambda node, kids, sp, k: sp.Determinant(kids[0])))


def _logdet_value(node, args, ev, np):
    """log det a where det a > 0, else NaN -- computed as the ``numpy`` field
    writes it, ``np.log(np.linalg.det(a))``, so that the two agree to the bit."""
    a = args[0]
    return np.log(a if node.a.shape == SCALAR else np.linalg.det(a))


def _logdet_code(node, cx, k):
    """log(det a), NaN where det a < 0, -inf where it is 0; through slogdet
    (Cholesky for a declared spd variable), so it never overflows."""
    d = cx[node.a]
    if k.is_scalar(node.a):
        return k.call(cx.lib.fn("log"), k.tensor(cx, node.a, d), node=node)
    fast = cx.lib.logdet(d, k.spd(node.a))
    return k.Doc(fast.level, fast.parts, node)


declare_builtin(Builtin(
    "logdet", "the log-determinant", ("LogDet",), "square -> scalar", call=True,
    latex=r"\log\det", pretty="log det",
    differential=lambda e, d: b.trace(b.mul(Inverse(e.a), d[0])), rule_name="log-determinant",
    identity="d logdet(A) = tr(A^-1 dA)",
    value=_logdet_value, acceptable=_well_conditioned, code=_logdet_code,
    sympy=lambda node, kids, sp, k: sp.log(sp.Determinant(kids[0]))))


# ---------------------------------------------------------------- sum

def _sum_sympy(node, kids, sp, k):
    r, c = (k._dim(d, sp) for d in node.a.shape)
    return (sp.OneMatrix(1, r) * kids[0] * sp.OneMatrix(c, 1))[0, 0]


declare_builtin(Builtin(
    "sum", "the sum of entries", ("Sum",), "matrix -> scalar", call=True, latex=OPERATOR % "sum",
    differential=lambda e, d: b.zero(SCALAR) if is_zero(d[0]) else Sum(d[0]),
    rule_name="sum of entries", identity="d sum(A) = sum(dA)",
    value=scalar_or(lambda np, a: np.sum(a)),
    code=lambda node, cx, k: k.unless_scalar(node, cx, "sum"),
    sympy=_sum_sympy,
    # g sum(F) = <g 1, F> (g repeated over F's shape); sum(F) = 1^T vec(F)
    adjoint=lambda e, G, dep, k: [(e.a, b.broadcast(G, e.a.shape))],
    vec=lambda e, J, dep, k: b.mul(b.transpose(Ones((k.size(e.a.shape), 1))), J[e.a])))


# ---------------------------------------------------------------- diag

def _linear(e, d):
    """d f(X) = f(dX) for a linear f (diag, vec)."""
    return b.zero(e.shape) if is_zero(d[0]) else type(e)(d[0])


def _diag_value(node, args, ev, np):
    a = args[0]
    if node.a.shape == SCALAR:
        return a
    return np.diagflat(a) if isinstance(node, DiagM) else np.diag(a).reshape(-1, 1)


def _diag_code(node, cx, k):
    if isinstance(node, DiagM):
        return k.unless_scalar(node, cx, "diagflat")
    d = cx[node.a]
    if k.is_scalar(node.a):
        return k.Doc(k.ATOM, (cx.lib.reshape11(d),), node)
    return k.Doc(k.ATOM, (k.call(cx.lib.fn("diag"), d), ".reshape(-1, 1)"), node)


def _diag_adjoint(e, G, dep, k):
    """<G, diag(f)> = <diag(G), f>; <g, diag(F)> = <diag(g), F>."""
    return [(e.a, DiagV(G) if isinstance(e, DiagM) else DiagM(G))]


def _diag_vec(e, J, dep, k):
    """vec(diag(f)) has no matrix of matdiff's: its parent reads it off (``k.Deferred``);
    diag(P diag(f) Q) = (P ⊙ Q^T) f (diag(diag(P)) f when Q is absent), diag(diag(f)) = f,
    diag(u v^T) = u ⊙ v; the diagonal of any other matrix M through the diagonal
    selection matrix."""
    if isinstance(e, DiagM):
        if isinstance(J.get(e.a), k.Deferred):
            raise J[e.a].error()
        return k.Deferred(e)
    inner_ = e.a
    split = k.outer_product(inner_) if not isinstance(J.get(inner_), k.Deferred) else None
    if split is not None:   # diag(u v^T) = u ⊙ v, read off as a Hadamard product
        dX = next(x for x in J if isinstance(x, Diff))
        return k.read_jacobian(k.simplify(b.had(split[0], b.transpose(split[1]))), dX.sym)
    if not isinstance(J.get(inner_), k.Deferred):
        # vec(diag(M)) = (1^T ⊗ I) diag(vec(I)) vec(M): keep M's diagonal entries of
        # vec(M), then add up its n columns (the diagonal selection matrix, n x n^2)
        n = inner_.shape[0]
        select = b.mul(Kron(Ones((1, n)), Identity(n)), DiagM(Vec(Identity(n))))
        return b.mul(select, J[inner_])
    if isinstance(inner_, DiagM):
        return J[inner_.a]
    if not isinstance(inner_, Mul):
        raise J[inner_].error()
    F = inner_.factors
    i = next(x for x, f in enumerate(F) if isinstance(J.get(f), k.Deferred))
    scalars = [x for x in F if x.shape == SCALAR]
    left = [x for x in F[:i] if x.shape != SCALAR]
    right = [x for x in F[i + 1:] if x.shape != SCALAR]
    if left and right:
        K = Hadamard(k.prod(left), b.transpose(k.prod(right)))
    elif left or right:
        K = DiagM(DiagV(k.prod(left or right)))
    else:
        K = None
    return b.mul(*scalars, *([K] if K is not None else []), J[F[i].a])


declare_builtin(Builtin(
    "diag", "the diag function", ("DiagM", "DiagV"), "vector or square -> diag", call=True,
    latex=OPERATOR % "diag",
    differential=_linear, rule_name="linear structure",
    identity={DiagM: "d diag(x) = diag(dx)", DiagV: "d diag(X) = diag(dX)"},
    value=_diag_value, code=_diag_code, adjoint=_diag_adjoint, vec=_diag_vec))


# ---------------------------------------------------------------- vec, unvec

def _vec_code(node, cx, k):
    """Columns stacked: column-major reshape."""
    d = cx[node.a]
    if k.is_scalar(node.a):
        return k.Doc(k.ATOM, (cx.lib.reshape11(d),), node)
    return k.Doc(k.ATOM, (cx.lib.vec(d),), node)


def _vec_adjoint(e, G, dep, k):
    """<g, vec(F)> = <unvec(g), F>: g itself for a column F; for a matrix, the
    reshape of g, written without unvec where g has the structure of a vec (see
    ``unvec_of``), else unvec(g, n, m)."""
    if e.a.shape[1] == 1:
        return [(e.a, G)]
    U = k.unvec_of(G, e.a.shape)
    return [(e.a, Unvec(G, e.a.shape) if U is None else U)]


declare_builtin(Builtin(
    "vec", "the vec function", ("Vec",), "matrix -> column", call=True, latex=OPERATOR % "vec",
    differential=_linear, rule_name="linear structure", identity="d vec(X) = vec(dX)",
    value=scalar_or(lambda np, a: a.reshape(-1, 1, order="F")),
    code=_vec_code, adjoint=_vec_adjoint, vec=unchanged))


def _unvec_value(node, args, ev, np):
    """The inverse of vec: a column-major reshape."""
    if node.shape == SCALAR:
        return args[0]
    return np.reshape(args[0], ev.shape(node.shape), order="F")


def _unvec_text(node, cx, k):
    """``unvec(v, n, m)``: a function of the language, so that it reads back."""
    nt = cx.nt
    return k.as_node(nt.call("unvec", cx[node.a], *map(nt.dim, node.shape)), node)


def _unvec_code(node, cx, k):
    """vec's inverse: column-major reshape to (n, m)."""
    d = cx[node.a]
    if node.shape == SCALAR:
        return k.Doc(d.level, d.parts, node)
    n, m = (cx.dim(x) for x in node.shape)
    return k.Doc(k.ATOM, (cx.lib.unvec(d, n, m),), node)


declare_builtin(Builtin(
    "unvec", "the unvec function", ("Unvec",), "column, sizes -> matrix", arity=(3, 3),
    latex=OPERATOR % "unvec",
    differential=lambda e, d: b.zero(e.shape) if is_zero(d[0]) else Unvec(d[0], e.shape),
    rule_name="linear structure", identity="d unvec(v) = unvec(dv)",
    value=_unvec_value, text=_unvec_text, code=_unvec_code,
    adjoint=lambda e, G, dep, k: [(e.a, Vec(G))],   # <G, unvec(v)> = <vec(G), v>
    vec=unchanged))


# ---------------------------------------------------------------- kron

def _kron_text(node, cx, k):
    nt = cx.nt
    a, c = cx[node.args[0]], cx[node.args[1]]
    if nt.kron_op is None:
        return k.as_node(nt.call("kron", a, c), node)
    return k.Doc(k.PROD, (k.first_operand(nt, a), nt.kron_op, k.later(nt, c)), node)


def _kron_code(node, cx, k):
    a, c = (k.tensor(cx, e, cx[e]) for e in node.args)
    return cx.lib.kron(a, c, node)


def _kron_sympy(node, kids, sp, k):
    from sympy import kronecker_product
    return kronecker_product(*kids)


def _kron_adjoint(e, G, dep, k):
    """<G, A ⊗ F> and <G, F ⊗ B> for the factor F that holds the direction:
    G = c I: c tr(A) tr(F); G = G1 ⊗ G2 (G1 of A's shape): <G1, A> <G2, F>;
    G = u v^T: with U = unvec(u), V = unvec(v), U A V^T (second factor) and
    U^T B V (first factor)."""
    a, c = e.args
    first = bool(dep[a])
    F, other = (a, c) if first else (c, a)
    scale = k.multiple_of_identity(G)
    if scale is not None and F.shape[0] == F.shape[1] and other.shape[0] == other.shape[1]:
        return [(F, b.mul(scale, Trace(other) if other.shape != SCALAR else other,
                          Identity(F.shape[0])))]
    Gs = k.simplify(G)
    if isinstance(Gs, (Ones, Broadcast)):   # <c 1, A ⊗ F> = c sum(A) sum(F)
        s = Gs.args[0] if isinstance(Gs, Broadcast) else ONE
        return [(F, b.mul(s, Sum(other) if other.shape != SCALAR else other,
                          Ones(F.shape) if F.shape != SCALAR else ONE))]
    if isinstance(Gs, Kron):
        G1, G2 = Gs.args
        if not first and G1.shape == a.shape and G2.shape == c.shape:
            return [(F, b.mul(k.inner(G1, a), G2))]
        if first and G1.shape == a.shape and G2.shape == c.shape:
            return [(F, b.mul(k.inner(G2, c), G1))]
    if isinstance(Gs, Mul):
        chain = [f for f in Gs.factors if f.shape != SCALAR]
        scalars = [f for f in Gs.factors if f.shape == SCALAR]
        if len(chain) == 2 and chain[0].shape[1] == 1 and chain[1].shape[0] == 1:
            u, v = chain[0], b.transpose(chain[1])
            (p, q), (r, s_) = a.shape, c.shape
            U = k.unvec_of(u, (r, p))
            V = k.unvec_of(v, (s_, q))
            U = Unvec(u, (r, p)) if U is None else U
            V = Unvec(v, (s_, q)) if V is None else V
            if first:
                return [(F, b.mul(*scalars, b.transpose(U), c, V))]
            return [(F, b.mul(*scalars, U, a, b.transpose(V)))]
    raise k.unsupported("the gradient through a Kronecker product kron(A, X) is written only "
                        "when it meets a trace, another Kronecker product or a product "
                        "u^T (...) v")


declare_builtin(Builtin(
    "kron", "the Kronecker product", ("Kron",), "kron", arity=(2, 2), latex=OPERATOR % "kron",
    differential=lambda e, d: b.add(b.kron(d[0], e.args[1]), b.kron(e.args[0], d[1])),
    rule_name="Kronecker product rule", identity="d(A ⊗ B) = dA ⊗ B + A ⊗ dB",
    value=lambda node, args, ev, np: np.kron(np.atleast_2d(args[0]), np.atleast_2d(args[1])),
    text=_kron_text, code=_kron_code, sympy=_kron_sympy, adjoint=_kron_adjoint))


# ---------------------------------------------------------------- inv

#: Beyond this condition number (about 1/eps) an inverse has no correct digit.
SINGULAR_COND = 1e15


def inverse_value(np, a):
    """The inverse, or NaN where a is singular to working precision: LU may miss an
    exact zero pivot by rounding and return huge, meaningless numbers, so the
    condition number ||a||_inf ||a^-1||_inf decides (cheap: no SVD)."""
    try:
        out = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.full(np.shape(a), np.nan)
    cond = np.abs(a).sum(axis=1).max() * np.abs(out).sum(axis=1).max()
    if not cond < SINGULAR_COND:   # nan too
        return np.full(np.shape(a), np.nan)
    return out


def _inverse_code(node, cx, k):
    d = cx[node.a]
    if k.is_scalar(node):
        return k.Doc(k.MUL, ("1 / ", k.at_least(d, k.NEG)), node)
    return k.Doc(k.ATOM, cx.lib.inverse(d, k.spd(node.a)).parts, node)


declare_builtin(Builtin(
    "inv", "the inverse", ("Inverse",), "square -> inverse", latex=OPERATOR % "inv",
    differential=lambda e, d: b.neg(b.mul(e, d[0], e)), rule_name="inverse",
    identity="d(A^-1) = -A^-1 dA A^-1",
    # NaN for a singular matrix (the check reports it, nothing raises)
    value=scalar_or(inverse_value, lambda np, a: 1.0 / a), acceptable=_well_conditioned,
    text=lambda node, cx, k: k.Doc(k.POST, (k.base(cx.nt, cx[node.a]), cx.nt.inverse_mark),
                                   node),
    code=_inverse_code, sympy=lambda node, kids, sp, k: sp.Inverse(kids[0])))


# ---------------------------------------------------------------- eye, ones, zeros, commutation
# (each written by its notation: I, ones(n, m), 𝟏, K_{m,n}: the ``Notation`` of each
# text format spells it)

#: a constant's differential: d(c) = 0 (filed as the registry's "constant" rule)
CONSTANT = dict(differential=lambda e, d: b.zero(e.shape), rule_name="constant",
                identity="d(c) = 0 for a constant (and d(dX) = 0: a direction is constant)")


declare_builtin(Builtin(
    "eye", "the identity matrix", ("Identity",), "size -> square", **CONSTANT,
    value=lambda node, args, ev, np: np.eye(ev.shape((node.n,))[0]),
    text=lambda node, cx, k: k.as_node(cx.nt.identity(node.n), node),
    code=lambda node, cx, k: k.Doc(k.ATOM, (cx.lib.eye(cx.dim(node.n)),), node),
    sympy=lambda node, kids, sp, k: sp.Identity(k._dim(node.n, sp))))

def _filled(name: str, words: str, node_type: str, sympy_class: str):
    """ones(n, m) and zeros(n, m): every library's function of that name, and the
    notation's spelling of that name."""
    declare_builtin(Builtin(
        name, words, (node_type,), "sizes -> matrix", arity=(1, 2), **CONSTANT,
        value=lambda node, args, ev, np: getattr(np, name)(ev.shape(node.shape)),
        text=lambda node, cx, k: k.as_node(getattr(cx.nt, name)(node.shape), node),
        code=lambda node, cx, k: k.Doc(
            k.ATOM, (getattr(cx.lib, name)(cx.shape(node.shape)),), node),
        sympy=lambda node, kids, sp, k: getattr(sp, sympy_class)(
            *(k._dim(d, sp) for d in node.shape))))


_filled("ones", "the matrix of ones", "Ones", "OneMatrix")
_filled("zeros", "the zero matrix", "Zeros", "ZeroMatrix")


def _commutation_value(node, args, ev, np):
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
