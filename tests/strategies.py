"""Hypothesis strategies: random well-shaped expressions over a small symbol pool.

``expressions(shape=None, depth=4)`` builds an expression of the given shape
(or of a random one) from the constructors of ``matdiff_cli.expr``, choosing
at each level among the productions that give that shape, down to ``depth``
levels.  Every node type can appear (``NODE_TYPES``, read from
``matdiff_cli.expr.node_types()``; a test checks it), and every declared
elementwise function (``matdiff_cli.ops.ELEMENTWISE``, read at each draw).  The
values are numerically tame at the sampler's points: logs and square roots
see positive arguments, divisions positive denominators, inverses and
logdets matrices of the forms ``M^T M + I``, ``X P X^T`` or a variable.

Dimensions are ``n``, ``m``, ``k``; the pool has a matrix for every pair of
them, columns, rows, scalars (one named ``lambda``, a Python keyword), and
square matrices with each property.  Reuse: parse/print round trips
(``to_text``), derivative checks (``Diff`` leaves appear with ``diffs=True``).
"""
from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from matdiff_cli.expr import (
    SCALAR, Add, Broadcast, Commutation, Det, DiagM, DiagV, Diff, Div, EDiv, EPow, Func,
    Hadamard, Identity, Inverse, Kron, LogDet, LogSumExp, Mul, Norm2, NormF, Num, Ones,
    Power, Softmax, Sum, Sym, Trace, Transpose, Unvec, Vec, Zeros, node_types,
)
from matdiff_cli.expr import (
    EigVecMax, EigVecMin, LambdaMax, LambdaMin, LeftVecMax, LeftVecMin, Norm1, NormInf,
    OneHotMax,
)
from matdiff_cli.expr import EigVals, EigVecs, Pinv
from matdiff_cli.expr import (
    NormNuc, Polar, SigmaMax, SVecLeftMax, SVecRightMax, SvdU, SvdV, SvdVals,
)
from matdiff_cli.ops import ELEMENTWISE as DECLARED

DIMS = ("n", "m", "k")
_M = {(r, c): name for name, (r, c) in {
    "A": ("n", "n"), "B": ("m", "m"), "C": ("k", "k"), "X": ("n", "m"), "Y": ("m", "k"),
    "Z": ("k", "n"), "U": ("m", "n"), "V": ("k", "m"), "W": ("n", "k")}.items()}

POOL = [Sym(name, shape) for shape, name in _M.items()] + [
    Sym("S", ("n", "n"), {"symmetric"}), Sym("P", ("m", "m"), {"spd"}),
    Sym("D", ("k", "k"), {"diagonal"}), Sym("Q", ("n", "n"), {"orthogonal"}),
    Sym("x", ("n", 1)), Sym("y", ("m", 1)), Sym("z", ("k", 1)), Sym("x_0", ("n", 1)),
    Sym("r", (1, "n")), Sym("q", (1, "m")), Sym("w", (1, "k")),
    Sym("alpha", SCALAR), Sym("beta", SCALAR), Sym("lambda", SCALAR),
]
BY_SHAPE: dict = {}
for _s in POOL:
    BY_SHAPE.setdefault(_s.shape, []).append(_s)

NODE_TYPES = node_types()
USER = ("f", ("t", "t^3 + sin(t)"))
NUMBERS = [Fraction(v) for v in ("2", "3", "-1", "-2", "1/2", "1/3", "-3/4", "0.001", "1")]
SHAPES = [(r, c) for r in (*DIMS, 1) for c in (*DIMS, 1)]


def shapes():
    return st.sampled_from(SHAPES)


def expressions(shape=None, depth: int = 4, diffs: bool = True):
    """Random expressions of ``shape`` (random if None), up to ``depth`` levels."""
    if shape is None:
        return shapes().flatmap(lambda s: _expr(tuple(s), depth, diffs))
    return _expr(tuple(shape), depth, diffs)


@st.composite
def _expr(draw, shape, depth, diffs):
    if depth <= 0 or draw(st.integers(0, 5)) == 0:
        return draw(leaves(shape, diffs))
    options = productions(shape)
    build = draw(st.sampled_from(options))
    return build(draw, shape, depth - 1, diffs)


def leaves(shape, diffs=True):
    r, c = shape
    out = list(BY_SHAPE.get(shape, []))
    if diffs:
        out += [Diff(s) for s in BY_SHAPE.get(shape, []) if not s.props and s.name != "lambda"]
    if shape == SCALAR:
        out += [Num(v) for v in NUMBERS]
    else:
        out += [Ones(shape), Zeros(shape)]
        if r == c:
            out += [Identity(r), Commutation(r, 1)]
    return st.sampled_from(out)


# --------------------------------------------------------------------------- productions
# each: (draw, shape, depth, diffs) -> Expr of that shape

def _sub(draw, shape, depth, diffs):
    return draw(_expr(tuple(shape), depth, diffs))


def _dim(draw):
    return draw(st.sampled_from((*DIMS, 1)))


def p_add(draw, shape, d, diffs):
    terms = [_sub(draw, shape, d, diffs) for _ in range(draw(st.integers(2, 3)))]
    if shape != SCALAR and draw(st.booleans()):
        terms.insert(draw(st.integers(0, len(terms))),
                     Broadcast(_sub(draw, SCALAR, d, diffs), shape))
    return Add(*terms)


def p_mul(draw, shape, d, diffs):
    r, c = shape
    inner = [_dim(draw) for _ in range(draw(st.integers(1, 2)))]
    dims = [r, *inner, c]
    return Mul(*[_sub(draw, (a, b), d, diffs) for a, b in zip(dims, dims[1:])])


def p_scale(draw, shape, d, diffs):
    s, e = _sub(draw, SCALAR, d, diffs), _sub(draw, shape, d, diffs)
    return Mul(s, e) if draw(st.booleans()) else Mul(e, s)


def p_hadamard(draw, shape, d, diffs):
    return Hadamard(*[_sub(draw, shape, d, diffs) for _ in range(draw(st.integers(2, 3)))])


def positive(draw, shape, d, diffs):
    """Something positive entrywise: exp(e), 1 + e.^2, a positive number."""
    e = _sub(draw, shape, max(d - 1, 0), diffs)
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return Func("exp", e)
    if shape == SCALAR:
        return Add(Num(1), Power(e, 2)) if kind == 1 else Num(Fraction(draw(st.integers(1, 4))))
    return Add(Broadcast(Num(1), shape), EPow(e, 2))


def p_div(draw, shape, d, diffs):
    return Div(_sub(draw, shape, d, diffs), positive(draw, SCALAR, d, diffs))


def p_ediv(draw, shape, d, diffs):
    return EDiv(_sub(draw, shape, d, diffs), positive(draw, shape, d, diffs))


def p_kron(draw, shape, d, diffs):
    r, c = shape
    if draw(st.booleans()):
        return Kron(_sub(draw, (r, 1), d, diffs), _sub(draw, (1, c), d, diffs))
    return Kron(_sub(draw, shape, d, diffs), _sub(draw, SCALAR, d, diffs))


def p_broadcast(draw, shape, d, diffs):
    return Broadcast(_sub(draw, SCALAR, d, diffs), shape)


def p_transpose(draw, shape, d, diffs):
    return Transpose(_sub(draw, (shape[1], shape[0]), d, diffs))


def elementwise(domain=None) -> tuple:
    """The declared elementwise functions defined on ``domain`` (None: everywhere)."""
    return tuple(name for name, f in DECLARED.items() if f.domain == domain)


def p_func(draw, shape, d, diffs):
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return Func(draw(st.sampled_from(elementwise("positive"))), positive(draw, shape, d, diffs))
    if kind == 1:
        return Func(USER[0], _sub(draw, shape, d, diffs), USER[1])
    return Func(draw(st.sampled_from(elementwise())), _sub(draw, shape, d, diffs))


def p_epow(draw, shape, d, diffs):
    p = draw(st.sampled_from((2, 3, Fraction(1, 2), -1)))
    base = positive(draw, shape, d, diffs) if p in (Fraction(1, 2), -1) else _sub(draw, shape, d, diffs)
    return EPow(base, p)


def p_power(draw, shape, d, diffs):
    if shape != SCALAR:
        return Power(_sub(draw, shape, d, diffs), draw(st.sampled_from((0, 1, 2, 3))))
    p = draw(st.sampled_from((2, 3, -1, -2, Fraction(1, 2), Fraction(1, 3))))
    base = positive(draw, shape, d, diffs) if p < 0 or p.denominator != 1 else _sub(draw, shape, d, diffs)
    return Power(base, p)


def well_conditioned(draw, n, d, diffs):
    """A square n x n matrix safe to invert: a variable, M^T M + I, X P X^T."""
    kind = draw(st.integers(0, 2))
    if kind == 0 and BY_SHAPE.get((n, n)):
        return draw(st.sampled_from(BY_SHAPE[(n, n)]))
    if kind == 2 and n == "n":
        x = BY_SHAPE[("n", "m")][0]
        return Mul(x, Sym("P", ("m", "m"), {"spd"}), Transpose(x))
    m = _sub(draw, (_dim(draw), n), min(d, 1), diffs)
    return Add(Mul(Transpose(m), m), Identity(n))


def p_inverse(draw, shape, d, diffs):
    return Inverse(well_conditioned(draw, shape[0], d, diffs))


def p_diagm(draw, shape, d, diffs):
    return DiagM(_sub(draw, (shape[0], 1), d, diffs))


def p_commutation(draw, shape, d, diffs):
    n = shape[0]
    k = Commutation(n, 1) if draw(st.booleans()) else Commutation(1, n)
    return Mul(k, _sub(draw, shape, d, diffs))


# scalars
def p_trace(draw, shape, d, diffs):
    return Trace(_sub(draw, (n := _dim(draw), n), d, diffs))


def p_det(draw, shape, d, diffs):
    return Det(well_conditioned(draw, draw(st.sampled_from(DIMS)), d, diffs))


def p_logdet(draw, shape, d, diffs):
    return LogDet(well_conditioned(draw, draw(st.sampled_from(DIMS)), d, diffs))


def p_reduce(draw, shape, d, diffs):
    cls = draw(st.sampled_from((Sum, NormF)))
    return cls(_sub(draw, (_dim(draw), _dim(draw)), d, diffs))


def p_norm2(draw, shape, d, diffs):
    n = draw(st.sampled_from(DIMS))
    f, g = draw(st.permutations((Norm2, Norm1, NormInf, NormF)))[:2]
    shape = (n, 1) if draw(st.booleans()) else (1, n)
    u = _sub(draw, shape, d, diffs)
    return Add(f(generic(draw, f, u)), g(generic(draw, g, u)))


def generic(draw, f, u):
    """u plus a variable where f needs distinct, nonzero entries (a 1-norm, a max:
    ones(n) or 2 alpha would tie everywhere)."""
    if f not in (Norm1, NormInf, OneHotMax):
        return u
    return Add(draw(st.sampled_from([s for s in BY_SHAPE[u.shape] if not s.props])), u)


def p_logsumexp(draw, shape, d, diffs):
    return LogSumExp(_sub(draw, (draw(st.sampled_from(DIMS)), 1), d, diffs))


_SYMMETRIC = {"n": Sym("S", ("n", "n"), {"symmetric"}), "m": Sym("P", ("m", "m"), {"spd"}),
              "k": Sym("D", ("k", "k"), {"diagonal"})}


def symmetric_matrix(draw, n, d, diffs):
    """An n x n matrix symmetric by its form, its spectrum simple at sampled
    points: a variable so declared, X^T X of a variable, S + M^T M."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return _SYMMETRIC[n]
    if kind == 1:
        x = draw(st.sampled_from([s for (r, c), v in BY_SHAPE.items() if c == n and r != n
                                  for s in v if not s.props]))
        return Mul(Transpose(x), x)
    m = _sub(draw, (_dim(draw), n), min(d, 1), diffs)
    return Add(_SYMMETRIC[n], Mul(Transpose(m), m))


def p_eigvec(draw, shape, d, diffs):
    """Eigenvectors (right or left) of a symmetric matrix, or of a general
    square variable, two times the extreme eigenvalues (λ_max v + λ_min w + ...)."""
    n = shape[0]
    a = _M[(n, n)] if draw(st.integers(0, 3)) == 0 else None
    a = Sym(a, (n, n)) if a else symmetric_matrix(draw, n, d, diffs)
    v, w, u, z = draw(st.permutations((EigVecMax, EigVecMin, LeftVecMax, LeftVecMin)))
    terms = [Mul(LambdaMax(a), v(a)), Mul(LambdaMin(a), w(a)), u(a), z(a)]
    return Add(*terms[:draw(st.integers(2, 4))])


def p_eigvals(draw, shape, d, diffs):
    """The eigenvalues of a symmetric matrix, alone or turned by its eigenvectors
    (V λ), or an eigenvector through the pseudo-inverse of λI - A (an eigenvalue's
    Hessian)."""
    n = shape[0]
    a = symmetric_matrix(draw, n, d, diffs)
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return EigVals(a)
    if kind == 1:
        return Mul(EigVecs(a), EigVals(a))
    lam, v = draw(st.sampled_from(((LambdaMax, EigVecMax), (LambdaMin, EigVecMin))))
    return Mul(Pinv(Add(Mul(lam(a), Identity(n)), Mul(Num(-1), a))), _sub(draw, shape, d, diffs),
               Transpose(v(a)), _sub(draw, shape, d, diffs))


def p_pinv(draw, shape, d, diffs):
    """The pseudo-inverse of a matrix of the transposed shape."""
    return Pinv(_sub(draw, (shape[1], shape[0]), d, diffs))


def p_onehot(draw, shape, d, diffs):
    """The indicator of the largest entry, as the max-norm's gradient uses it."""
    return Hadamard(OneHotMax(generic(draw, OneHotMax, _sub(draw, shape, d, diffs))),
                    _sub(draw, shape, d, diffs))


def generic_matrix(draw, shape, d, diffs):
    """An r x c matrix whose singular values are distinct and not 0 at sampled points:
    a variable of that shape plus an expression (ones(n, m) alone has rank 1)."""
    var = draw(st.sampled_from([s for s in BY_SHAPE[shape] if not s.props]))
    return Add(var, _sub(draw, shape, min(d, 1) if draw(st.booleans()) else 0, diffs))


def p_singular(draw, shape, d, diffs):
    """sigma_max(M) + ||N||_* of any shapes, c^T svdvals(A) of a square A."""
    (a, b), (e, f) = ((draw(st.sampled_from(DIMS)), draw(st.sampled_from(DIMS)))
                      for _ in range(2))
    terms = [SigmaMax(generic_matrix(draw, (a, b), d, diffs)),
             NormNuc(generic_matrix(draw, (e, f), d, diffs))]
    if draw(st.booleans()):
        s = SvdVals(generic_matrix(draw, (a, a), d, diffs))
        terms.append(Mul(Transpose(_sub(draw, (a, 1), d, diffs)), s))
    terms = terms[draw(st.integers(0, 1)):]
    return Add(*terms) if len(terms) > 1 else terms[0]


def p_singular_vector(draw, shape, d, diffs):
    """σ_max(M) u1(M) + v1(N) + U(A) svdvals(A) + V(A) c: the singular vectors and the
    thin SVD's factors of a matrix (square where the factors are)."""
    r = shape[0]
    b = draw(st.sampled_from(DIMS))
    kind = draw(st.integers(0, 2))
    if kind == 0:
        m = generic_matrix(draw, (r, b), d, diffs)
        return Add(Mul(SigmaMax(m), SVecLeftMax(m)), SVecRightMax(generic_matrix(draw, (b, r), d,
                                                                                  diffs)))
    a = generic_matrix(draw, (r, r), d, diffs)
    if kind == 1:
        return Mul(SvdU(a), SvdVals(a))
    return Mul(SvdV(a), _sub(draw, shape, d, diffs))


def p_polar(draw, shape, d, diffs):
    """The polar factor U V^T of a matrix of full rank."""
    return Polar(generic_matrix(draw, shape, d, diffs))


def p_kron_reduce(draw, shape, d, diffs):
    """Composite shapes: tr(A ⊗ B), vec(X)^T K vec(Y), ||vec(X)||."""
    a, b = (draw(st.sampled_from(DIMS)) for _ in range(2))
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return Trace(Kron(_sub(draw, (a, a), d, diffs), _sub(draw, (b, b), d, diffs)))
    if kind == 1:
        return Norm2(Vec(_sub(draw, (a, b), d, diffs)))
    v1, v2 = Vec(_sub(draw, (a, b), d, diffs)), Vec(_sub(draw, (a, b), d, diffs))
    return Mul(Transpose(v1), Commutation(a, b), v2)


def p_unvec(draw, shape, d, diffs):
    """unvec(v, r, c) of a column of r*c entries: vec(E), K vec(E^T) (commutation) or
    (F ⊗ G) vec(E), whose reshapes are E, E^T and G E F^T."""
    r, c = shape
    kind = draw(st.integers(0, 2))
    if kind == 1:
        v = Mul(Commutation(c, r), Vec(_sub(draw, (c, r), d, diffs)))
    else:
        v = Vec(_sub(draw, shape, d, diffs))
    if kind == 2:
        v = Mul(Kron(_sub(draw, (c, c), d, diffs), _sub(draw, (r, r), d, diffs)), v)
    return Unvec(v, shape)


# vectors
def p_diagv(draw, shape, d, diffs):
    return DiagV(_sub(draw, (shape[0], shape[0]), d, diffs))


def p_vec(draw, shape, d, diffs):
    return Vec(_sub(draw, (1, shape[0]), d, diffs))


def p_softmax(draw, shape, d, diffs):
    return Softmax(_sub(draw, shape, d, diffs))


def productions(shape):
    r, c = shape
    out = [p_add, p_mul, p_scale, p_hadamard, p_div, p_ediv, p_kron, p_transpose, p_func,
           p_epow, p_power]
    if shape == SCALAR:
        out += [p_trace, p_det, p_logdet, p_reduce, p_norm2, p_logsumexp, p_kron_reduce,
                p_singular]
    else:
        out.append(p_broadcast)
    if r == c and r != 1:
        out += [p_inverse, p_diagm, p_commutation]
    if r != 1 and c != 1:
        out += [p_unvec, p_polar, p_pinv]
    if c == 1 and r != 1:
        out += [p_diagv, p_vec, p_softmax, p_eigvec, p_onehot, p_singular_vector, p_eigvals]
    if shape != SCALAR and r != c:
        out.remove(p_power)
    return out


__all__ = ["expressions", "shapes", "leaves", "POOL", "NODE_TYPES", "DIMS", "SHAPES"]
