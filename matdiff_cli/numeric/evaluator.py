"""NumPy evaluation: :func:`evaluate` computes an expression at a point, once per
distinct node of the DAG, children first with an explicit stack (deep DAGs are
fine); ``value`` holds the rule of each node type.  Non-scalars are 2-D arrays
(vectors (n, 1) columns); scalars are floats.  ``logdet(a)`` is ``log(det(a))``:
NaN where ``det(a) < 0`` (outside its domain), -inf where it is 0.  An inverse of a
matrix singular to working precision (condition number over 1e15) is NaN, not
noise.

Values are keyed by variable name; the direction of ``Diff(X)`` (``dX``) is
keyed ``("d", "X")``.
"""
from __future__ import annotations

from functools import singledispatch

import numpy as np

from ..expr import (
    SCALAR, Add, Broadcast, Diff, Div, EDiv, EPow, Expr, Func, Hadamard, Mul, Num, Power, Sym,
    Transpose, walk, EigVecMax, EigVecMin, LambdaMax, LambdaMin, LeftVecMax, LeftVecMin, NormNuc, Polar, SigmaMax, SVecLeftMax, SVecRightMax, SvdU, SvdV, SvdVals,
)
from ..expr import EigVals, EigVecs, Pinv
from .. import expr as _expr
from ..ops import ELEMENTWISE, declared
from ..ops.linalg import inverse_value
from .sizes import dim_size, sizes_from_values


# =========================================================================== evaluation

def evaluate(expr: Expr, values: dict, sizes: dict | None = None):
    """The value of expr at ``values`` (name -> array or float; ("d", name) ->
    direction).  Scalars come back as floats, everything else as 2-D arrays."""
    return evaluate_all([expr], values, sizes)[expr]


def evaluate_all(roots, values: dict, sizes: dict | None = None) -> dict:
    """node -> value for every node of the DAGs of roots (each computed once)."""
    ev = _Evaluator(values, sizes_from_values(roots, values, sizes))
    memo: dict = {}
    with np.errstate(all="ignore"):
        for root in roots:
            for node in walk(root):
                if node not in memo:
                    memo[node] = _check(node, value(node, [memo[c] for c in node.children], ev))
    return memo


class _Evaluator:
    def __init__(self, values, sizes):
        self.values = values
        self.sizes = sizes

    def shape(self, shape) -> tuple:
        return tuple(dim_size(d, self.sizes) for d in shape)


def _check(node: Expr, v):
    """Scalars as floats (NumPy's, so 1/0 is inf, not an exception), the rest
    as 2-D float arrays."""
    if node.shape == SCALAR:
        return np.float64(np.asarray(v, dtype=float).reshape(-1)[0])
    v = np.asarray(v, dtype=float)
    if v.ndim != 2:
        v = v.reshape(-1, 1) if v.ndim <= 1 else v
    return v


@singledispatch
def value(node: Expr, args: list, ev: _Evaluator):
    raise NotImplementedError(f"no numeric rule for {type(node).__name__}")


@value.register
def _sym(node: Sym, args, ev):
    if node.name not in ev.values:
        raise ValueError(f"no value for {node.name}")
    v = np.asarray(ev.values[node.name], dtype=float)
    return v if node.shape == SCALAR else v.reshape(ev.shape(node.shape))


@value.register
def _diff(node: Diff, args, ev):
    key = ("d", node.sym.name)
    if key not in ev.values:
        raise ValueError(f"no value for the direction d{node.sym.name}")
    v = np.asarray(ev.values[key], dtype=float)
    return v if node.shape == SCALAR else v.reshape(ev.shape(node.shape))


@value.register
def _num(node: Num, args, ev):
    try:
        return float(node.value)
    except OverflowError:  # a folded constant beyond the doubles (1e300 1e300): +-inf, as NumPy
        return float("inf") if node.value > 0 else float("-inf")


@value.register
def _add(node: Add, args, ev):
    out = args[0]
    for a in args[1:]:
        out = out + a
    return out


@value.register
def _mul(node: Mul, args, ev):
    """Left to right: a scalar step when either side is 1x1, else a matrix product."""
    out, shape = args[0], node.factors[0].shape
    for f, a in zip(node.factors[1:], args[1:]):
        if SCALAR in (shape, f.shape):
            out = out * a
        else:
            out = out @ a
        shape = f.shape if shape == SCALAR else (shape if f.shape == SCALAR else (shape[0], f.shape[1]))
    return out


@value.register
def _hadamard(node: Hadamard, args, ev):
    out = args[0]
    for a in args[1:]:
        out = out * a
    return out


@value.register(Div)
@value.register(EDiv)
def _divide(node, args, ev):
    return args[0] / args[1]


@value.register
def _broadcast(node: Broadcast, args, ev):
    return args[0] * np.ones(ev.shape(node.shape))


@value.register
def _transpose(node: Transpose, args, ev):
    return args[0] if node.shape == SCALAR else args[0].T


@value.register
def _power(node: Power, args, ev):
    p = node.p
    if node.shape == SCALAR:
        if p.denominator == 1 and p >= 0:
            return args[0] ** int(p)
        return float(np.power(np.float64(args[0]), float(p)))  # 0^-1 is inf, not an exception
    if p < 0:
        return np.linalg.matrix_power(inverse_value(np, args[0]), -int(p))
    return np.linalg.matrix_power(args[0], int(p))


@value.register
def _epow(node: EPow, args, ev):
    p = node.p
    return args[0] ** (int(p) if p.denominator == 1 and p >= 0 else float(p))


def _scalar_or(fn, scalar=lambda a: a):
    def rule_(node, args, ev):
        a = args[0]
        return scalar(a) if node.a.shape == SCALAR else fn(a)
    return rule_




def signs(u):
    """The sign of each column of u that makes its entry of largest magnitude
    positive: the one convention of every eigenvector and singular vector, so
    that a value, the JSON ``numpy`` field and the code of every library agree
    (``render/numpy.py`` writes the same)."""
    return np.sign(u[np.abs(u).argmax(0), np.arange(u.shape[1])])


def _eigen(a, largest: bool, left: bool = False, sym: bool | None = None):
    """(λ, v) of the largest / smallest eigenvalue: ``eigh`` for a symmetric a (as
    the generated code computes it), else the eigenvalue of largest / smallest
    real part and its unit right eigenvector (``left``: of aᵀ, the left one).
    ``sym``: symmetric by form (the generated code's choice, so that both pick
    the same eigenvector's sign); None: decided by the values."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    if left:
        a = a.T
    if sym is None:
        sym = np.allclose(a, a.T, rtol=1e-12, atol=1e-12 * (1 + np.max(np.abs(a), initial=0)))
    if sym:
        w, v = np.linalg.eigh(a)
        k = -1 if largest else 0
        vec = v[:, k:k + 1] if k == 0 else v[:, -1:]
        return w[k], vec * signs(vec)
    w, v = np.linalg.eig(a)
    k = int(np.argmax(w.real) if largest else np.argmin(w.real))
    vec = (v[:, k:k + 1] / np.linalg.norm(v[:, k:k + 1])).real
    return (w[k].real if abs(w[k].imag) <= 1e-12 * (1 + abs(w[k])) else np.nan,
            vec * signs(vec))


@value.register(LambdaMax)
@value.register(LambdaMin)
def _lambda(node, args, ev):
    return float(_eigen(args[0], isinstance(node, LambdaMax), sym=_by_form(node.a))[0])


def _by_form(a) -> bool:
    """Symmetric by form: eigh, else eig, as the code generator decides (the same
    routine gives the same eigenvector's sign)."""
    from ..build import symmetric
    return symmetric(a)


@value.register(EigVecMax)
@value.register(EigVecMin)
@value.register(LeftVecMax)
@value.register(LeftVecMin)
def _eigvec(node, args, ev):
    v = _eigen(args[0], isinstance(node, (EigVecMax, LeftVecMax)),
               isinstance(node, (LeftVecMax, LeftVecMin)), sym=_by_form(node.a))[1]
    return float(v[0, 0]) if node.shape == SCALAR else v


def eigen_gap(node, a) -> float:
    """How far the eigenvalue of a λ / eigenvector node is from the next one,
    relative to the spread of the spectrum (0: not simple)."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    if a.shape[0] < 2:
        return 1.0
    w = np.sort(np.linalg.eigvals(a).real) if not np.allclose(a, a.T) else np.linalg.eigvalsh(a)
    largest = isinstance(node, (LambdaMax, EigVecMax, LeftVecMax))
    gap = (w[-1] - w[-2]) if largest else (w[1] - w[0])
    return float(gap / (1.0 + np.max(np.abs(w))))


def _spectrum(a, sym: bool | None = None):
    """(w, V) ascending: ``eigh`` for a symmetric a (``sym``: by form, as the
    generated code decides; None: by the values), else the eigenvalues sorted by
    real part (nan where one is complex)."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    if sym is None:
        sym = np.allclose(a, a.T, rtol=1e-12, atol=1e-12 * (1 + np.max(np.abs(a), initial=0)))
    if sym:
        w, v = np.linalg.eigh(a)
        return w, v * signs(v)
    w, v = np.linalg.eig(a)
    k = np.argsort(w.real)
    w, v = w[k], v[:, k]
    if np.any(np.abs(w.imag) > 1e-12 * (1 + np.abs(w))):
        return np.full(w.shape, np.nan), np.full(v.shape, np.nan)
    v = (v / np.linalg.norm(v, axis=0)).real
    return w.real, v * signs(v)


@value.register(EigVals)
@value.register(EigVecs)
def _eigvals(node, args, ev):
    if node.a.shape == SCALAR:
        return args[0] if isinstance(node, EigVals) else 1.0
    w, v = _spectrum(args[0], _by_form(node.a) or None)
    return w.reshape(-1, 1) if isinstance(node, EigVals) else v


#: pinv counts singular values below this, relative to the largest, as 0: NumPy's
#: default 1e-15 keeps the rounding noise of λI - A's zero eigenvalue (1e-16 |λ|)
PINV_RCOND = 1e-10
value.register(Pinv, _scalar_or(lambda a: np.linalg.pinv(a, rcond=PINV_RCOND),
                                lambda a: 0.0 if a == 0 else 1.0 / a))


def spectrum_gap(a) -> float:
    """The smallest distance between two eigenvalues, relative to the spectrum's
    size (0: an eigenvalue is repeated)."""
    w = _spectrum(a)[0]
    if w.size < 2:
        return 1.0
    return float(np.min(np.diff(w)) / (1.0 + np.max(np.abs(w))))


def rank_gap(a) -> float:
    """The smallest nonzero singular value relative to the largest: small where the
    rank is about to change (pinv jumps)."""
    s = np.linalg.svd(np.atleast_2d(np.asarray(a, dtype=float)), compute_uv=False)
    if s.size == 0 or s[0] == 0:   # zeros(m, n): random draws are never 0 by chance
        return 1.0
    kept = s[s > 1e-13 * s[0]]   # below: the rounding noise of a structural zero
    return float(kept[-1] / s[0])
def _svd(a):
    """The thin SVD (U, σ descending, V) of a matrix, as NumPy's ``svd`` (a number:
    (sign a, |a|, 1))."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    u, w, vt = np.linalg.svd(a, full_matrices=False)
    flip = signs(u)   # u_k and v_k change sign together
    return u * flip, w, vt.T * flip


def _svd_value(node, args, ev):
    a = args[0]
    if node.a.shape == SCALAR:   # X = sign(x) |x| 1
        a = float(a)
        return {SigmaMax: abs(a), NormNuc: abs(a), SvdVals: abs(a), SVecRightMax: 1.0,
                SvdV: 1.0}.get(type(node), float(np.sign(a)))
    u, w, v = _svd(a)
    if isinstance(node, (SigmaMax, NormNuc)):
        return float(w[0] if isinstance(node, SigmaMax) else np.sum(w))
    out = {SvdVals: lambda: w.reshape(-1, 1), SvdU: lambda: u, SvdV: lambda: v,
           SVecLeftMax: lambda: u[:, :1], SVecRightMax: lambda: v[:, :1],
           Polar: lambda: u @ v.T}[type(node)]()
    return float(out[0, 0]) if node.shape == SCALAR else out


for _t in (SigmaMax, NormNuc, SvdVals, SvdU, SvdV, SVecLeftMax, SVecRightMax, Polar):
    value.register(_t, _svd_value)


def svd_gaps(node, a) -> float:
    """How far the singular values a node's derivative needs are from a tie or from
    0, relative to σ_max (0: not differentiable there): σ1 − σ2 for sigma_max and its
    vectors; every gap and σ_min for svdvals and the factors; σ_min for the nuclear
    norm and polar (full rank)."""
    if node.a.shape == SCALAR:
        return abs(float(a)) / (1.0 + abs(float(a)))
    w = np.linalg.svd(np.atleast_2d(np.asarray(a, dtype=float)), compute_uv=False)
    top = 1.0 + w[0]
    if isinstance(node, (SigmaMax, SVecLeftMax, SVecRightMax)):
        return float(((w[0] - w[1]) if w.size > 1 else w[0]) / top)
    if isinstance(node, (NormNuc, Polar)):
        return float(w[-1] / top)
    return float(min(np.min(-np.diff(w), initial=np.inf), w[-1]) / top)


def _declared(fn):
    def rule_(node, args, ev):
        return fn(np, node, args, ev)
    return rule_


for _node, _op, _fn in declared("value"):   # the values the built-ins declare (ops/)
    value.register(getattr(_expr, _node), _declared(_fn))


@value.register
def _func(node: Func, args, ev):
    if len(node.args) > 2:
        return user_function(node.args[2])(args[0])
    return ELEMENTWISE[node.name].value(np, args[0])


def user_function(spec):
    """A vectorised NumPy function for a user function's ``(param, body)``.

    The body is parsed by SymPy (``^`` read as a power, implicit products
    allowed, matdiff's scalar functions known), not by matdiff's parser."""
    from ..usersym import numeric_function

    param, body = spec if isinstance(spec, tuple) else ("t", str(spec))
    fn = numeric_function(param, body)
    return lambda u: np.asarray(fn(u), dtype=float) * np.ones_like(u, dtype=float)
