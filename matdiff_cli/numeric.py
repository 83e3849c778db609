"""NumPy evaluation, property-respecting random points, finite differences.

* :func:`evaluate` computes an expression at a point, once per distinct node of
  the DAG, children first with an explicit stack (deep DAGs are fine).
  Non-scalars are 2-D arrays (vectors (n, 1) columns); scalars are floats.
  ``logdet(a)`` is ``log(det(a))``: NaN where ``det(a) < 0`` (outside its
  domain), -inf where it is 0.
* :func:`sample_values` draws a random point at which the expressions are
  defined and well conditioned, with every declared property holding.
* :func:`directional_derivative`, :func:`second_directional_derivative` and
  :func:`relative_error` are the finite-difference oracle of ``check``.
* Faults at the edges, refused in words before they become numbers:
  :func:`read_let_value` (finite, rectangular, at most a matrix),
  :func:`property_violation` (data against declared properties),
  :func:`guard_memory` (sizes that would not fit, before allocating),
  :func:`undefined_at` (where a value stops being finite), :func:`quiet`
  (no NumPy warning reaches the streams).  An inverse of a matrix singular to
  working precision (condition number over 1e15) is NaN, not noise.

Values are keyed by variable name; the direction of ``Diff(X)`` (``dX``) is
keyed ``("d", "X")``.
"""
from __future__ import annotations

import json
import math
import warnings
from collections import defaultdict
from contextlib import contextmanager
from functools import singledispatch

import numpy as np

from .errors import MatdiffError

from .expr import (
    SCALAR, Add, Broadcast, Commutation, Det, DiagM, DiagV, Diff, Div, EDiv, EPow, Expr,
    Func, Hadamard, Identity, Inverse, Kron, LogDet, LogSumExp, Mul, Norm2, NormF, Num,
    Ones, Power, Softmax, Sum, Sym, Trace, Transpose, Unvec, Vec, Zeros, symbols, walk,
    EigVecMax, EigVecMin, LambdaMax, LambdaMin, LeftVecMax, LeftVecMin, Norm1,
    NormInf, OneHotMax,
    NormNuc, Polar, SigmaMax, SVecLeftMax, SVecRightMax, SvdU, SvdV, SvdVals,
)
from .expr import EigVals, EigVecs, Pinv
from .ops import ELEMENTWISE

SIZES = (2, 3, 4, 5, 6)


# =========================================================================== dimensions

class UnknownSize(ValueError):
    """A dimension whose size neither the data nor a literal fixes (``.dim``)."""

    def __init__(self, dim):
        super().__init__(f"the size of dimension {dim!r} is not known")
        self.dim = dim


def dim_size(d, sizes: dict) -> int:
    """The integer value of a dimension: an int, a name, or a product ``n*m``."""
    if isinstance(d, int):
        return d
    if d in sizes:
        return sizes[d]
    if "*" in d:
        out = 1
        for part in d.split("*"):
            out *= dim_size(part.strip(), sizes)
        return out
    raise UnknownSize(d)


def base_dims(roots) -> list:
    """The symbolic dimension names the expressions use (composites split), in order."""
    out: dict = {}
    for root in roots:
        for node in walk(root):
            dims = list(node.shape)
            if isinstance(node, (Identity, Commutation)):
                dims += list(node.args)
            for d in dims:
                if isinstance(d, str):
                    for part in d.split("*"):
                        out.setdefault(part.strip(), None)
    return list(out)


def sizes_from_values(roots, values: dict, sizes: dict | None = None) -> dict:
    """Dimension sizes read off the values of the variables (checked for consistency)."""
    sizes = dict(sizes or {})
    for root in roots:
        for node in walk(root):
            if isinstance(node, Sym) and node.name in values:
                _bind(node, np.shape(values[node.name]), sizes)
    return sizes


def _bind(sym: Sym, shape, sizes: dict) -> None:
    if sym.shape == SCALAR:
        return
    if len(shape) == 1:
        shape = (shape[0], 1)
    if len(shape) != 2:
        raise ValueError(f"{sym.name}: expected a 2-D value, got shape {shape}")
    for d, k in zip(sym.shape, shape):
        if isinstance(d, str) and "*" not in d:
            if sizes.setdefault(d, k) != k:
                raise ValueError(f"{sym.name}: dimension {d} is {sizes[d]} elsewhere, {k} here")
        elif isinstance(d, int) and d != k:
            raise ValueError(f"{sym.name}: expected {d} for a dimension, got {k}")


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
def _identity(node: Identity, args, ev):
    return np.eye(dim_size(node.n, ev.sizes))


@value.register
def _zeros(node: Zeros, args, ev):
    return np.zeros(ev.shape(node.shape))


@value.register
def _ones(node: Ones, args, ev):
    return np.ones(ev.shape(node.shape))


@value.register
def _commutation(node: Commutation, args, ev):
    """K(m,n) vec(A) = vec(A^T): K[j + i n, i + j m] = 1."""
    m, n = (dim_size(d, ev.sizes) for d in node.args)
    return np.eye(m * n)[np.arange(m * n).reshape(n, m).T.ravel()]


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
def _kron(node: Kron, args, ev):
    return np.kron(np.atleast_2d(args[0]), np.atleast_2d(args[1]))


@value.register
def _broadcast(node: Broadcast, args, ev):
    return args[0] * np.ones(ev.shape(node.shape))


@value.register
def _transpose(node: Transpose, args, ev):
    return args[0] if node.shape == SCALAR else args[0].T


@value.register
def _inverse(node: Inverse, args, ev):
    """NaN for a singular matrix (the check reports it, nothing raises)."""
    if node.shape == SCALAR:
        return 1.0 / args[0]
    return _inv(args[0])


#: Beyond this condition number (about 1/eps) an inverse has no correct digit.
SINGULAR_COND = 1e15


def _inv(a):
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


@value.register
def _power(node: Power, args, ev):
    p = node.p
    if node.shape == SCALAR:
        if p.denominator == 1 and p >= 0:
            return args[0] ** int(p)
        return float(np.power(np.float64(args[0]), float(p)))  # 0^-1 is inf, not an exception
    if p < 0:
        return np.linalg.matrix_power(_inv(args[0]), -int(p))
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


value.register(Trace, _scalar_or(np.trace))
value.register(Det, _scalar_or(np.linalg.det))
value.register(Sum, _scalar_or(np.sum))
value.register(Norm2, _scalar_or(np.linalg.norm, abs))
value.register(NormF, _scalar_or(np.linalg.norm, abs))
value.register(Norm1, _scalar_or(lambda a: np.sum(np.abs(a)), abs))
value.register(NormInf, _scalar_or(lambda a: np.max(np.abs(a)), abs))
value.register(OneHotMax, _scalar_or(lambda a: (a == np.max(a)) * 1.0, lambda a: 1.0))


def top_gap(a) -> float:
    """How far the largest entry is from the next, relative to the largest magnitude."""
    a = np.sort(np.ravel(np.asarray(a, dtype=float)))
    if a.size < 2:
        return 1.0
    return float((a[-1] - a[-2]) / (1.0 + np.max(np.abs(a))))
value.register(DiagM, _scalar_or(np.diagflat))
value.register(DiagV, _scalar_or(lambda a: np.diag(a).reshape(-1, 1)))
value.register(Vec, _scalar_or(lambda a: a.reshape(-1, 1, order="F")))


@value.register
def _unvec(node: Unvec, args, ev):
    """The inverse of vec: a column-major reshape."""
    if node.shape == SCALAR:
        return args[0]
    return np.reshape(args[0], ev.shape(node.shape), order="F")


@value.register
def _logdet(node: LogDet, args, ev):
    """log det a where det a > 0, else NaN -- computed as the ``numpy`` field
    writes it, ``np.log(np.linalg.det(a))``, so that the two agree to the bit."""
    a = args[0]
    return np.log(a if node.a.shape == SCALAR else np.linalg.det(a))


@value.register
def _softmax(node: Softmax, args, ev):
    e = np.exp(args[0] - np.max(args[0]))
    return e / np.sum(e)


@value.register
def _logsumexp(node: LogSumExp, args, ev):
    m = np.max(args[0])
    return m + np.log(np.sum(np.exp(args[0] - m)))


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
        return w[k], v[:, k:k + 1] if k == 0 else v[:, -1:]
    w, v = np.linalg.eig(a)
    k = int(np.argmax(w.real) if largest else np.argmin(w.real))
    vec = v[:, k:k + 1]
    return (w[k].real if abs(w[k].imag) <= 1e-12 * (1 + abs(w[k])) else np.nan,
            (vec / np.linalg.norm(vec)).real)


@value.register(LambdaMax)
@value.register(LambdaMin)
def _lambda(node, args, ev):
    return float(_eigen(args[0], isinstance(node, LambdaMax), sym=_by_form(node.a))[0])


def _by_form(a) -> bool:
    """Symmetric by form: eigh, else eig, as the code generator decides (the same
    routine gives the same eigenvector's sign)."""
    from .build import symmetric
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
        return np.linalg.eigh(a)
    w, v = np.linalg.eig(a)
    k = np.argsort(w.real)
    w, v = w[k], v[:, k]
    if np.any(np.abs(w.imag) > 1e-12 * (1 + np.abs(w))):
        return np.full(w.shape, np.nan), np.full(v.shape, np.nan)
    return w.real, (v / np.linalg.norm(v, axis=0)).real


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
    return u, w, vt.T


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


@value.register
def _func(node: Func, args, ev):
    if len(node.args) > 2:
        return user_function(node.args[2])(args[0])
    return ELEMENTWISE[node.name].value(np, args[0])


def user_function(spec):
    """A vectorised NumPy function for a user function's ``(param, body)``.

    The body is parsed by SymPy (``^`` read as a power, implicit products
    allowed, matdiff's scalar functions known), not by matdiff's parser."""
    from .usersym import numeric_function

    param, body = spec if isinstance(spec, tuple) else ("t", str(spec))
    fn = numeric_function(param, body)
    return lambda u: np.asarray(fn(u), dtype=float) * np.ones_like(u, dtype=float)


# =========================================================================== sampling

def sample_values(exprs_or_syms, rng: np.random.Generator, sizes: dict | None = None,
                  attempts: int = 100, check: bool = True):
    """A random point ``(values, sizes)`` at which the expressions are defined.

    * Sizes: every symbolic dimension gets its own size from 2..6 (all different
      while there are enough of them; given ``sizes`` and integer dimensions stay).
    * Properties always hold: symmetric (M + M^T)/2, spd (G G^T + n I)/n,
      diagonal, orthogonal (QR of a Gaussian, signs fixed by diag(R) > 0).
    * A square matrix inside the argument of an inverse, det or logdet is well
      conditioned: U diag(s) V^T with orthogonal U, V and s in [0.5, 2]
      (symmetric: eigenvalues +-[0.5, 2]; diagonal: entries +-[0.5, 2]).
    * logdet of a variable X (or X^T): det X > 0 -- if the draw has det < 0, the
      sign of its first column is flipped (for a symmetric X, of one eigenvalue).
    * logdet of a compound argument (``logdet(X^T A X)``, ``logdet(A + B)``):
      every square variable inside is drawn with a positive-definite symmetric
      part, S + K with S spd (eigenvalues in [0.5, 2]) and K skew; such
      matrices have det > 0, and so do X^T A X (X of full column rank), sums
      and inverses of them.  Whatever the construction cannot promise (X with
      more columns than rows, products of general matrices) is handled by
      rejection: the point is redrawn (sizes included) until every inverse,
      det and logdet argument has condition number < 1e8, every logdet
      argument has det > 0 and every expression is finite.
    * A scalar or matrix directly under log, sqrt or a fractional power is
      drawn positive; one directly under a division or negative power, away
      from zero.
    * Directions: ``values[("d", X)]`` for every ``Diff(X)`` in the expressions,
      with X's structure (see :func:`sample_direction`).

    Raises ValueError when no acceptable point is found in ``attempts`` draws,
    MatdiffError when the sizes would not fit in memory (:func:`guard_memory`);
    ``check=False`` returns the first draw unchecked (when given data decides).
    """
    roots = [exprs_or_syms] if isinstance(exprs_or_syms, Expr) else list(exprs_or_syms)
    syms = _all_symbols(roots)
    diffs = [n.sym for r in roots for n in walk(r) if isinstance(n, Diff)]
    marks = constraints(roots)
    fixed = dict(sizes or {})
    dims = [d for d in base_dims(roots) if d not in fixed]
    for _ in range(attempts):
        sz = {**fixed, **draw_sizes(dims, rng)}
        guard_memory(roots, sz)   # before a single value is drawn
        values = {s.name: draw_symbol(s, sz, marks.get(s.name, set()), rng) for s in syms}
        for s in diffs:
            values[("d", s.name)] = sample_direction(s, values[s.name], rng, sz)
        if not check or acceptable(roots, values, sz):
            return values, sz
    raise ValueError("could not draw a point where every inverse, det and logdet "
                     f"is defined and well conditioned ({attempts} attempts)")


def _all_symbols(roots) -> list:
    out, seen = [], set()
    for r in roots:
        for s in symbols(r):
            if s.name not in seen:
                seen.add(s.name)
                out.append(s)
    return out


def draw_sizes(dims, rng) -> dict:
    """Sizes from 2..6, all different while there are at most five dimensions."""
    if len(dims) <= len(SIZES):
        picks = rng.choice(SIZES, size=len(dims), replace=False)
    else:
        picks = rng.choice(SIZES, size=len(dims))
    return {d: int(k) for d, k in zip(dims, picks)}


def _domain(node: Func) -> str | None:
    """Where a built-in elementwise function is defined ("positive"), None: everywhere."""
    f = ELEMENTWISE.get(node.name)
    return f.domain if f is not None else None


def _direct(e: Expr) -> str | None:
    """The variable e is, up to transposition (X or X^T), else None."""
    while isinstance(e, Transpose):
        e = e.a
    return e.name if isinstance(e, Sym) else None


def constraints(roots) -> dict:
    """variable name -> marks: ``logdet`` (direct argument), ``pdpart`` (inside a
    compound logdet argument), ``invertible``, ``positive``, ``nonzero``."""
    marks: dict = defaultdict(set)
    for root in roots:
        for node in walk(root):
            for name, mark in _marks(node):
                marks[name].add(mark)
    return marks


def _marks(node: Expr):
    if isinstance(node, LogDet):
        direct = _direct(node.a)
        if direct is not None:
            yield direct, "logdet"
        else:
            for s in symbols(node.a):
                yield s.name, "pdpart"
    if isinstance(node, (Inverse, Det, LogDet)):
        for s in symbols(node.a):
            yield s.name, "invertible"
    fractional = isinstance(node, (Power, EPow)) and node.p.denominator != 1
    if fractional or (isinstance(node, Func) and _domain(node) == "positive"):
        direct = _direct(node.args[1] if isinstance(node, Func) else node.base)
        if direct is not None:
            yield direct, "positive"
    negative = isinstance(node, (Power, EPow)) and node.p < 0
    if negative or isinstance(node, (Div, EDiv)):
        direct = _direct(node.base if negative else node.args[1])
        if direct is not None:
            yield direct, "nonzero"


def _magnitudes(rng, k) -> np.ndarray:
    return rng.uniform(0.5, 2.0, size=k)


def _signs(rng, k) -> np.ndarray:
    return rng.choice((-1.0, 1.0), size=k)


def random_orthogonal(n: int, rng) -> np.ndarray:
    """QR of a Gaussian with the signs fixed (diag R > 0): Haar distributed."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def draw_symbol(sym: Sym, sizes: dict, marks: set, rng):
    """A value for one variable, with its properties and the marks' guarantees."""
    r, c = (dim_size(d, sizes) for d in sym.shape)
    if sym.shape == SCALAR:
        return _draw_scalar(marks, rng)
    if r != c:
        if "positive" in marks:
            return rng.uniform(0.5, 2.0, size=(r, c))
        return rng.standard_normal((r, c))
    return _draw_square(sym, r, marks, rng)


def _draw_scalar(marks, rng) -> float:
    if "positive" in marks or "logdet" in marks or "pdpart" in marks:
        return float(rng.uniform(0.5, 2.0))
    if marks & {"nonzero", "invertible"}:
        return float(_signs(rng, 1)[0] * _magnitudes(rng, 1)[0])
    return float(rng.standard_normal())


def _draw_square(sym: Sym, n: int, marks: set, rng) -> np.ndarray:
    logdet = "logdet" in marks
    pd = "pdpart" in marks
    cond = logdet or pd or "invertible" in marks
    if sym.has("orthogonal"):
        q = random_orthogonal(n, rng)
        if logdet and np.linalg.det(q) < 0:
            q[:, 0] = -q[:, 0]
        return q
    if sym.has("spd"):
        g = rng.standard_normal((n, n))
        return (g @ g.T + n * np.eye(n)) / n
    if sym.has("diagonal"):
        if not cond:
            return np.diag(rng.standard_normal(n))
        d = _magnitudes(rng, n) * (1.0 if pd else _signs(rng, n))
        if logdet and np.prod(d) < 0:
            d[0] = -d[0]
        return np.diag(d)
    if sym.has("symmetric"):
        if not cond:
            g = rng.standard_normal((n, n))
            return (g + g.T) / 2
        lam = _magnitudes(rng, n) * (1.0 if pd else _signs(rng, n))
        if logdet and np.prod(lam) < 0:
            lam[0] = -lam[0]
        u = random_orthogonal(n, rng)
        return (u * lam) @ u.T
    if "positive" in marks:  # under an elementwise log / sqrt: positive entries
        return rng.uniform(0.5, 2.0, size=(n, n))
    if pd:
        u = random_orthogonal(n, rng)
        s = (u * _magnitudes(rng, n)) @ u.T
        g = rng.standard_normal((n, n))
        return s + (g - g.T) / (2 * np.sqrt(n))
    if cond:
        m = (random_orthogonal(n, rng) * _magnitudes(rng, n)) @ random_orthogonal(n, rng).T
        if logdet and np.linalg.det(m) < 0:
            m[:, 0] = -m[:, 0]
        return m
    return rng.standard_normal((n, n))


def sample_direction(sym: Sym, value, rng, sizes: dict):
    """A random direction dX that keeps X's structure: symmetric for symmetric
    and spd X, diagonal for diagonal X, the tangent X Ω (Ω skew) for orthogonal X."""
    if sym.shape == SCALAR:
        return float(rng.standard_normal())
    r, c = (dim_size(d, sizes) for d in sym.shape)
    g = rng.standard_normal((r, c))
    if r != c:
        return g
    if sym.has("orthogonal"):
        return np.asarray(value) @ (g - g.T) / 2
    if sym.has("symmetric", "spd"):
        return (g + g.T) / 2
    if sym.has("diagonal"):
        return np.diag(np.diag(g))
    return g


def acceptable(roots, values: dict, sizes: dict, max_cond: float = 1e8) -> bool:
    """Every inverse/det/logdet argument well conditioned (logdet: det > 0) and
    every root finite."""
    memo = evaluate_all(roots, values, sizes)
    for node, v in memo.items():
        if isinstance(node, (Inverse, Det, LogDet)) and node.a.shape != SCALAR:
            a = memo[node.a]
            if not np.all(np.isfinite(a)) or np.linalg.cond(a) > max_cond:
                return False
            if isinstance(node, LogDet) and not np.linalg.det(a) > 0:
                return False
        if isinstance(node, NormInf):   # the largest magnitude unique and not 0
            a = np.abs(np.asarray(memo[node.a], dtype=float))
            if not (np.max(a, initial=0.0) > 1e-3 and top_gap(a) > 1e-3):
                return False
        if isinstance(node, OneHotMax) and not top_gap(memo[node.a]) > 1e-3:
            return False
        if isinstance(node, Norm1):   # differentiable where no entry is 0
            a = np.abs(np.asarray(memo[node.a], dtype=float))
            if not np.all(a > 1e-3 * (1.0 + np.max(a, initial=0.0))):
                return False
        if isinstance(node, (LambdaMax, LambdaMin, EigVecMax, EigVecMin, LeftVecMax, LeftVecMin)):
            if not np.all(np.isfinite(memo[node.a])) or eigen_gap(node, memo[node.a]) < 1e-3:
                return False   # the eigenvalue must be simple: drawn again
        if isinstance(node, (EigVals, EigVecs)) and node.a.shape != SCALAR:
            if not np.all(np.isfinite(memo[node.a])) or not spectrum_gap(memo[node.a]) >= 1e-3:
                return False   # the eigenvalues must be distinct: drawn again
        if isinstance(node, Pinv) and node.a.shape != SCALAR:
            if not np.all(np.isfinite(memo[node.a])) or not rank_gap(memo[node.a]) > 1e-4:
                return False   # the rank must not be about to change
        if isinstance(node, (SigmaMax, NormNuc, SvdVals, SvdU, SvdV, SVecLeftMax, SVecRightMax,
                             Polar)):   # simple, distinct, full rank: drawn again
            if not np.all(np.isfinite(memo[node.a])) or svd_gaps(node, memo[node.a]) < 1e-3:
                return False
    return all(np.all(np.isfinite(memo[r])) for r in roots)


# =========================================================================== finite differences

def _caller(f, sizes=None):
    """f as a function of the values: an expression is evaluated."""
    if isinstance(f, Expr):
        return lambda vals: evaluate(f, vals, sizes)
    return f


def _shifted(values: dict, name: str, steps) -> dict:
    out = dict(values)
    x = np.asarray(values[name], dtype=float)
    for coef, direction in steps:
        x = x + coef * np.asarray(direction, dtype=float)
    out[name] = x if x.ndim else float(x)
    return out


def directional_derivative(f, values: dict, name: str, direction, h: float = 1e-6,
                           sizes: dict | None = None):
    """Central difference: (f(X + h D) - f(X - h D)) / 2h, error O(h^2).

    f: an expression (evaluated with ``sizes``) or a function of the values
    dict; name: the variable X."""
    f = _caller(f, sizes)
    plus = f(_shifted(values, name, [(h, direction)]))
    minus = f(_shifted(values, name, [(-h, direction)]))
    return (np.asarray(plus) - np.asarray(minus)) / (2 * h)


def second_directional_derivative(f, values: dict, name: str, direction, h: float = 1e-4,
                                  direction2=None, sizes: dict | None = None):
    """d²/dt² f(X + t D) at 0: (f(X + hD) - 2 f(X) + f(X - hD)) / h².

    With ``direction2`` E, the mixed d²/ds dt f(X + s D + t E): the four-point
    formula (f(+D+E) - f(+D-E) - f(-D+E) + f(-D-E)) / 4h²."""
    f = _caller(f, sizes)
    if direction2 is None:
        fp = f(_shifted(values, name, [(h, direction)]))
        fm = f(_shifted(values, name, [(-h, direction)]))
        return (np.asarray(fp) - 2 * np.asarray(f(values)) + np.asarray(fm)) / h**2
    total = 0
    for s, t in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        total = total + s * t * np.asarray(f(_shifted(values, name, [(s * h, direction),
                                                                        (t * h, direction2)])))
    return total / (4 * h**2)


def relative_error(a, b, floor: float = 1e-3) -> float:
    """max|a - b| / max(max|a|, max|b|, floor).

    Relative to the larger of the two arrays as a whole (so a single entry near
    zero does not blow up the error), and absolute (divided by ``floor``) when
    both are about zero.  inf when shapes differ or a value is not finite."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size == 1 and b.size == 1:
        a, b = a.reshape(()), b.reshape(())
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), floor)
    return float(np.max(np.abs(a - b))) / scale


# =========================================================================== faults at the edges

#: The most memory (bytes) the numbers of one evaluation may take: every
#: distinct node's value is held at once.  Larger sizes are refused up front.
MEMORY_LIMIT = 2 * 2**30


@contextmanager
def quiet():
    """NumPy's floating-point warnings off: overflow, 0/0 and the like show in
    the values (inf, nan) and are reported in words, never as a RuntimeWarning."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def footprint(roots, sizes: dict) -> tuple[int, object, tuple]:
    """(bytes, largest node, its shape) of evaluating roots at sizes: 8 bytes per
    entry of every distinct node.  Raises UnknownSize for a dimension not in sizes."""
    total, big, big_shape, big_k = 0, None, (), -1
    seen: set = set()
    for root in roots:
        for node in walk(root):
            if node in seen:
                continue
            seen.add(node)
            r, c = (dim_size(d, sizes) for d in node.shape)
            total += r * c
            if r * c > big_k:
                big, big_shape, big_k = node, (r, c), r * c
    return 8 * total, big, big_shape


class TooLarge(MatdiffError):
    """Sizes whose numbers would not fit (exit 3, like other things matdiff cannot do)."""


def guard_memory(roots, sizes: dict, limit: int | None = None) -> None:
    """Refuse (before anything is allocated) sizes whose numbers would not fit."""
    limit = MEMORY_LIMIT if limit is None else limit
    need, big, (r, c) = footprint(roots, sizes)
    if need <= limit:
        return
    from .render.text import to_text

    what = big.name if isinstance(big, Sym) else to_text(big)
    what = what if len(what) <= 40 else what[:37] + "..."
    raise TooLarge(
        "unsupported", f"the numbers would need about {_bytes(need)} of memory ({what} alone "
        f"is {r} x {c}); matdiff evaluates at most {_bytes(limit)}",
        hint="use smaller sizes: declare symbolic dimensions (X: n x m) and let the check "
             "draw small ones, or bind smaller data")


def _bytes(k: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if k >= size:
            return f"{k / size:.1f} {unit}"
    return f"{k} bytes"


class _Refused(ValueError):
    pass


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise _Refused(f"{_clip(text)} is too large for a double (it would be read as infinity)")
    return v


def _no_constant(text: str):
    raise _Refused(f"{text} is not a finite number (values must be finite)")


def _clip(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def read_let_value(text: str):
    """A ``--let`` value from its JSON text: a finite number, a list of numbers (a
    column vector) or a list of rows of equal length (a matrix).  Raises
    ValueError whose message says, in words, what is wrong."""
    depth = deepest = 0
    for ch in text:     # before json: a deep nest must not exhaust the recursion
        if ch == "[":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == "]":
            depth -= 1
    if deepest > 2:
        raise ValueError(f"it is nested {deepest} lists deep; a value is a number, a list "
                         "(a vector) or a list of rows (a matrix)")
    try:
        value = json.loads(text, parse_float=_finite_float, parse_int=_finite_float,
                           parse_constant=_no_constant)
    except _Refused as e:
        raise ValueError(str(e)) from None
    except ValueError:
        raise ValueError("it is not a number or a nested list of numbers (JSON)") from None
    return check_let_value(value)


def check_let_value(value):
    """value itself when it is a finite number, a list of them or a rectangular list
    of rows; else ValueError with the reason in words."""
    if _is_number(value):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number (values must be finite)")
        return value
    if not isinstance(value, list):
        raise ValueError("it is not a number or a nested list of numbers (JSON)")
    if not value:
        raise ValueError("it is an empty list; give at least one number")
    if all(_is_number(v) for v in value):
        for v in value:
            check_let_value(v)
        return value
    if not all(isinstance(v, list) for v in value):
        raise ValueError("it mixes numbers and lists; a matrix is a list of rows, "
                         "e.g. [[1,2],[3,4]]")
    for i, row in enumerate(value, 1):
        if not row:
            raise ValueError(f"row {i} is empty")
        if not all(_is_number(v) for v in row):
            raise ValueError(f"row {i} holds something other than numbers (a value is at "
                             "most a list of rows)")
        for v in row:
            check_let_value(v)
        if len(row) != len(value[0]):
            raise ValueError(f"its rows differ in length: row 1 has {len(value[0])} "
                             f"numbers, row {i} has {len(row)}")
    return value


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def property_violation(sym: Sym, value) -> str | None:
    """How data breaks sym's declared properties (symmetric, spd, diagonal,
    orthogonal), in words, or None when it keeps them (to rounding)."""
    a = np.asarray(value, dtype=float)
    if not sym.props or a.ndim != 2 or a.shape[0] != a.shape[1]:
        return None
    n, tol = sym.name, 1e-8 * max(1.0, float(np.max(np.abs(a))))
    if sym.has("symmetric", "spd"):
        off = float(np.max(np.abs(a - a.T)))
        if off > tol:
            return f"{n} is declared {_declared(sym)} but its value is not symmetric " \
                   f"(largest |{n} - {n}^T| entry {off:.3g})"
    if sym.has("spd"):
        low = float(np.linalg.eigvalsh((a + a.T) / 2).min())
        if low <= tol:
            return f"{n} is declared spd but its value is not positive definite " \
                   f"(smallest eigenvalue {low:.4g})"
    if sym.has("diagonal"):
        off = float(np.max(np.abs(a - np.diag(np.diag(a)))))
        if off > tol:
            return f"{n} is declared diagonal but its value has an off-diagonal entry {off:.3g}"
    if sym.has("orthogonal"):
        err = float(np.max(np.abs(a.T @ a - np.eye(len(a)))))
        if err > 1e-6:
            return f"{n} is declared orthogonal but its value is not " \
                   f"(largest |{n}^T {n} - I| entry {err:.3g}; 1e-6 is allowed, so give " \
                   "at least 7 digits)"
    return None


def _declared(sym: Sym) -> str:
    return "spd" if sym.has("spd") else "symmetric"


_WHY = {"Inverse": "the matrix is singular", "Power": "the base is singular or zero",
        "LogDet": "the determinant is not positive", "Div": "it divides by zero",
        "EDiv": "it divides by zero", "EPow": "a base is zero or negative"}


def undefined_at(roots, values: dict, sizes: dict | None = None):
    """The first node (children first) whose value is not finite although its
    children's are: (node, reason in words), or None when every value is finite."""
    memo = evaluate_all(roots, values, sizes)
    for node, v in memo.items():
        if np.all(np.isfinite(v)):
            continue
        if all(np.all(np.isfinite(memo[c])) for c in node.children):
            if isinstance(node, Func):
                why = ELEMENTWISE[node.name].undefined if node.name in ELEMENTWISE else None
            else:
                why = _WHY.get(type(node).__name__)
            if why:
                return node, why
            if isinstance(node, Num):
                return node, "the number is beyond the largest double, about 1.8e308"
            if not np.any(np.isnan(v)):
                return node, "it overflows a double, beyond about 1.8e308"
            return node, "it is not defined there (0 / 0, inf - inf or the like)"
    return None


__all__ = ["evaluate", "evaluate_all", "sample_values", "sample_direction", "draw_symbol",
           "constraints", "random_orthogonal", "directional_derivative",
           "second_directional_derivative", "relative_error", "dim_size", "sizes_from_values",
           "UnknownSize", "TooLarge", "MEMORY_LIMIT", "quiet", "footprint", "guard_memory",
           "read_let_value", "check_let_value", "property_violation", "undefined_at"]
