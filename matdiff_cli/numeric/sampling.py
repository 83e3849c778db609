"""Random points: :func:`sample_values` draws a point at which the expressions
are defined and well conditioned, with every declared property holding
(``constraints``, ``draw_symbol``, ``acceptable``); :func:`sample_direction` a
direction that keeps the properties.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from .. import expr as _expr
from ..expr import (
    SCALAR, Det, Diff, Div, EDiv, EPow, Expr, Func, Inverse, LogDet, Power, Sym, Transpose,
    symbols, walk,
)
from ..ops import ELEMENTWISE, declared
from .evaluator import evaluate_all
from .sizes import base_dims, dim_size, guard_memory


SIZES = (2, 3, 4, 5, 6)


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


#: node type -> where a sampled argument is one its derivative exists at (ops/; every
#: family is loaded with the evaluator)
_ACCEPTABLE = {getattr(_expr, node): fn for node, _, fn in declared("acceptable")}


def acceptable(roots, values: dict, sizes: dict, max_cond: float = 1e8) -> bool:
    """Every built-in's argument one where it is differentiable (its declared
    ``acceptable``: an inverse's, det's or logdet's well conditioned, an
    eigenvalue simple, ...) and every root finite."""
    memo = evaluate_all(roots, values, sizes)
    for node, v in memo.items():
        check = _ACCEPTABLE.get(type(node))
        if check is not None and not check(node, memo[node.a], max_cond, np):
            return False
    return all(np.all(np.isfinite(memo[r])) for r in roots)
