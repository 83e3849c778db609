"""Trust without blind faith: the numerical checks (eval and solve are
evaluation.py, --expect is expect.py).

* ``numeric_check``: central finite differences along random directions at
  random points (declared properties respected) against the symbolic result:
  a gradient by its directional derivative <G, D>, a Jacobian by J[D], a
  Hessian by the second directional derivative <H[D], D> and by polarization
  <H[D], E> (the mixed second derivative).
* ``whole_hessian_check``: the same, block by block, for the whole Hessian of
  several variables.
The finite differences are in ``numeric/differences.py``, the --let data bound
to a problem in ``letdata.py``.  NumPy is imported here, so only the commands
that need numbers load it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .errors import MatdiffError
from .expr import Sym
from .letdata import bind_values
from .numeric import TooLarge, evaluate, quiet, relative_error, sample_direction, sample_values
from .numeric.differences import (
    _mixed_many, first_derivative, kth_derivative, second_derivative,
)

FIRST_ORDER_TOL = 1e-5
SECOND_ORDER_TOL = 1e-3
EQUAL_TOL = 1e-8
TRIALS = 5


def resolve_seed(seed):
    """The seed to use: the one given, or a fresh one (reported, so a run can be repeated)."""
    if seed is None:
        return int.from_bytes(os.urandom(3), "big")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise MatdiffError("usage", f"the seed must be a whole number 0 or larger, not {seed!r}",
                           hint="e.g. --seed 7")
    return seed


def _vecF(a) -> np.ndarray:
    return np.asarray(a, dtype=float).reshape(-1, order="F")


def _inner(a, b) -> float:
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


def _plain(v):
    """A value as plain numbers / nested lists (JSON-ready, rounded for reading)."""
    a = np.asarray(v, dtype=float)
    if a.size == 1:
        return float(np.round(a.reshape(()), 12))
    return np.round(a, 12).tolist()


def _rounded(v) -> str:
    """A value with 4 decimals: 1.2346 or [[1.0, 2.0], ...]."""
    a = np.round(np.asarray(v, dtype=float), 4)
    return str(float(a)) if a.ndim == 0 else str(a.tolist())


def _short(v) -> str:
    text = str(v)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class CheckResult:
    passed: bool
    max_rel_error: float
    trials: int
    seed: int
    what: str                   # "directional derivative", ...
    failure: dict | None = None
    inconclusive: str | None = None   # why the check could not be made (values not finite)
    skipped: int = 0                  # trials whose values were not finite (not compared)

    def to_json(self) -> dict:
        out = {"passed": self.passed, "max_rel_error": self.max_rel_error,
               "trials": self.trials, "seed": self.seed, "method": self.what}
        if self.failure:
            out["failure"] = self.failure
        if self.inconclusive:
            out.update(inconclusive=True, reason=self.inconclusive)
        if self.skipped:
            out["skipped"] = self.skipped
        return out

    def summary(self) -> str:
        if self.inconclusive:
            return (f"check not made: {self.inconclusive}; the result is neither confirmed "
                    f"nor refuted ({self.what}, seed {self.seed})")
        status = "passed" if self.passed else "FAILED"
        over = f"{self.trials} trials" if not self.skipped else \
            f"{self.trials - self.skipped} of {self.trials} trials ({self.skipped} skipped: " \
            "values not finite)"
        line = (f"check {status}: {self.what}, max relative error {self.max_rel_error:.2e} "
                f"over {over} (seed {self.seed})")
        if self.failure:
            f = self.failure
            line += (f"; trial {f['trial']} fails with relative error {f['rel_error']:.2e} "
                     f"(finite differences {_short(f['numeric'])}, result "
                     f"{_short(f['symbolic'])})")
            where = "; ".join(f"{k} = {_rounded(v)}" for k, v in f["point"].items())
            where += f"; direction {_rounded(f['direction'])}"
            if len(where) <= 400:   # small enough to read here
                line += f" at {where}"
            else:
                line += "; the point and the direction are in the JSON output"
            line += f"; repeat with --seed {self.seed}"
        return line


class _NoPoint(MatdiffError):
    """No random point at which both sides are finite and well conditioned."""

    reason = ("no random point was found where the expression and its derivative are "
              "both finite, defined and well conditioned")

    def __init__(self):
        super().__init__("unsupported", "the numerical comparison could not be made: " + self.reason,
                         hint="check the expression's domain (inverses, logdet, divisions) "
                              "and the size of its numbers")


def _trial_values(roots, var: Sym, rng, fixed=None):
    """A random point (values, sizes) and two directions D, E for var.  ``fixed``:
    (values, sizes) bound with --let; the other variables are drawn around them.
    var is drawn even where no root contains it (a claim without the variable)."""
    roots = list(roots) + [var]
    try:
        if fixed:
            given, given_sizes = fixed  # the data decides: the rest is drawn unchecked
            values, sizes = sample_values(roots, rng, sizes=given_sizes, check=False)
            values.update(given)
        else:
            values, sizes = sample_values(roots, rng)
    except ValueError:
        raise _NoPoint() from None
    D = sample_direction(var, values[var.name], rng, sizes)
    E = sample_direction(var, values[var.name], rng, sizes)
    return values, sizes, D, E


def numeric_check(der, seed=None, trials: int = TRIALS, bindings=None) -> CheckResult:
    """Compare a Derivation's result with finite differences of the problem, at
    random points, or at the --let data (``bindings``: name -> numbers) with
    the unbound variables drawn at random.

    A trial whose values are not finite (they overflow a double, or the data is
    outside the domain) decides nothing and is counted as skipped: a check
    passes when no trial fails and at least one was compared, and is
    ``inconclusive`` (not made) when none could be."""
    seed = resolve_seed(seed)
    with quiet():
        try:
            return _numeric_check(der, seed, trials, bindings)
        except _NoPoint:
            return CheckResult(False, 0.0, trials, seed, _METHOD[der.kind], None,
                               _NoPoint.reason)
        except TooLarge as e:   # refused before allocating: the result still stands
            return CheckResult(False, 0.0, trials, seed, _METHOD[der.kind], None, e.message)


def _numeric_check(der, seed, trials, bindings) -> CheckResult:
    fixed = _bound_point(der, bindings) if bindings else None
    rng = np.random.default_rng(seed)
    f, var, kind = der.problem.expr, der.var, der.kind
    roots = [f, der.result]
    second = kind in ("hessian", "hessian_operator", "second_differential") or der.order > 1
    what = _METHOD[kind] if der.order == 1 else f"differential of order {der.order} along D"
    worst, failure, not_finite, skipped = 0.0, None, None, set()
    for trial in range(trials):
        values, sizes, D, E = _trial_values(roots, var, rng, fixed)
        # finite differences lose about eps |f| / h^k to rounding: measure errors
        # against the function's own scale too, not only the derivative's
        floor = 1e-3 + 1e-4 * float(np.max(np.abs(evaluate(f, values, sizes))))
        # a fast-growing f needs a smaller step: the best of a few steps is the verdict
        tol = SECOND_ORDER_TOL if second else FIRST_ORDER_TOL
        candidates, errors = [], []
        for scale in STEP_SCALES:
            candidates.append(_compare_pairs(der, values, sizes, D, E, scale))
            errors.append([relative_error(n, s, floor) for n, s in candidates[-1]])
            if max(errors[-1]) <= tol:
                break
        best = min(range(len(candidates)), key=lambda i: max(errors[i]))
        for (numeric, symbolic), err in zip(candidates[best], errors[best]):
            if not (np.all(np.isfinite(numeric)) and np.all(np.isfinite(symbolic))):
                if not_finite is None:
                    not_finite = (trial + 1, numeric, symbolic)
                skipped.add(trial)
                continue    # nothing to compare: no verdict from this pair
            if err > worst:
                worst = err
            if err > tol and failure is None:
                failure = {"trial": trial + 1, "rel_error": err, "numeric": _plain(numeric),
                           "symbolic": _plain(symbolic),
                           "point": {str(k): _plain(v) for k, v in values.items()
                                     if isinstance(k, str)},
                           "direction": _plain(D), "sizes": dict(sizes)}
    if failure is None and len(skipped) == trials:   # not one trial could be compared
        trial, numeric, symbolic = not_finite
        where = "at the data" if fixed else "at the random points"
        why = (f"the values are not finite {where} (trial {trial}: finite differences "
               f"{_short(_plain(numeric))}, result {_short(_plain(symbolic))}), they overflow "
               "a double or leave the domain")
        return CheckResult(False, worst, trials, seed, what, None, why, len(skipped))
    return CheckResult(failure is None, worst, trials, seed, what, failure, None, len(skipped))


STEP_SCALES = (1.0, 1e-2, 1e-4, 1e-6)

_METHOD = {"gradient": "directional derivative <G, D>",
           "jacobian": "Jacobian product J vec(D)",
           "operator": "linear operator L[D]", "differential": "differential df[D]",
           "hessian": "second directional derivative and polarization",
           "hessian_operator": "second directional derivative and polarization",
           "second_differential": "mixed second derivative d²/ds dt F(X + s D + t E)"}


def _compare_pairs(der, values, sizes, D, E, scale):
    expr, var, kind = der.problem.expr, der.var, der.kind

    def f(vals):  # dimensions that no variable carries (ones(n)) come from sizes
        return evaluate(expr, vals, sizes)
    name = var.name
    if kind == "gradient":
        G = evaluate(der.result, values, sizes)
        return [(first_derivative(f, values, name, D, 1e-3 * scale), _inner(G, D))]
    if kind == "jacobian":
        J = np.atleast_2d(np.asarray(evaluate(der.result, values, sizes), dtype=float))
        if der.layout == "denominator":
            J = J.T
        num = _vecF(first_derivative(f, values, name, D, 1e-3 * scale))
        return [(num, J @ _vecF(D))]
    if kind == "second_differential":   # d²F[D, E] = d²/ds dt F(X + s D + t E)
        vals = dict(values)
        D1, D2 = der.directions
        vals[D1.name], vals[D2.name] = D, E
        return [(second_derivative(f, values, name, D, E, h=1e-2 * scale),
                 evaluate(der.result, vals, sizes))]
    if kind == "differential" and der.order > 1:   # d^k f[D, ..., D] = d^k/dt^k f(X + t D)
        vals = dict(values)
        vals[("d", name)] = D
        return [(kth_derivative(f, values, name, D, der.order, h=1e-2 * scale),
                 evaluate(der.result, vals, sizes))]
    if kind in ("operator", "differential"):
        vals = dict(values)
        vals[("d", name)] = D
        num = first_derivative(f, values, name, D, 1e-3 * scale)
        pairs = [(num, evaluate(der.result, vals, sizes))]
        if der.vec is not None:   # the matrix --vec prints is checked too: J vec(D)
            pairs.append((_vecF(num), _vec_matrix(der, values, sizes) @ _vecF(D)))
        return pairs
    # Hessians: Q(D) = <H[D], D> and the polarization B(D, E) = <H[D], E>
    q_num = second_derivative(f, values, name, D, h=1e-2 * scale)
    b_num = second_derivative(f, values, name, D, E, h=1e-2 * scale)
    HD = _apply_hessian(der, values, sizes, D)
    pairs = [(q_num, _inner(HD, D)), (b_num, _inner(HD, E))]
    if der.vec is not None:       # and the Hessian matrix --vec prints
        HvD = _vec_matrix(der, values, sizes) @ _vecF(D)
        pairs += [(q_num, float(HvD @ _vecF(D))), (b_num, float(HvD @ _vecF(E)))]
    return pairs


def _vec_matrix(der, values, sizes) -> np.ndarray:
    """The matrix of ``--vec`` at the point, in numerator layout (vec(dF) = J vec(dX))."""
    J = np.atleast_2d(np.asarray(evaluate(der.vec, values, sizes), dtype=float))
    return J.T if der.layout == "denominator" and der.kind == "operator" else J


def _apply_hessian(der, values, sizes, D):
    if der.kind == "hessian_operator":
        vals = dict(values)
        vals[("d", der.var.name)] = D
        return evaluate(der.result, vals, sizes)
    H = np.atleast_2d(np.asarray(evaluate(der.result, values, sizes), dtype=float))
    return (H @ _vecF(D)).reshape(np.shape(D) if np.ndim(D) else ())


def _bound_point(der, bindings: dict):
    """(values, sizes) of the bound variables the problem uses."""
    needed = [s for s in der.problem.symbols.values() if s.name in bindings]
    return bind_values(der.problem, bindings, needed)


# ---------------------------------------------------------------- the whole Hessian

def _apply_block(h, i, j, values, sizes, E):
    """Block [i][j] applied to the direction E of variable j (an array of vi's shape)."""
    vi, vj = h.vars[i], h.vars[j]
    block = h.blocks[i][j]
    if h.operator[i][j]:
        vals = dict(values)
        vals[("d", vj.name)] = E
        return evaluate(block, vals, sizes)
    H = np.atleast_2d(np.asarray(evaluate(block, values, sizes), dtype=float))
    out = H @ _vecF(E).reshape(-1, 1)
    return out.reshape(np.shape(values[vi.name])) if np.ndim(values[vi.name]) else out.item()


def whole_hessian_check(h, seed=None, trials: int = TRIALS, bindings=None) -> CheckResult:
    """Every block [i][j] against the mixed second derivative
    d²/ds dt f(vi + s Di, vj + t Ej): <Di, H_ij[Ej]>, at random points and directions."""
    seed = resolve_seed(seed)
    what = "mixed second derivatives, block by block"
    with quiet():
        try:
            return _whole_check(h, seed, trials, bindings, what)
        except _NoPoint:
            return CheckResult(False, 0.0, trials, seed, what, None, _NoPoint.reason)
        except TooLarge as e:
            return CheckResult(False, 0.0, trials, seed, what, None, e.message)


def _whole_check(h, seed, trials, bindings, what) -> CheckResult:
    fixed = None
    if bindings:
        needed = [s for s in h.problem.symbols.values() if s.name in bindings]
        fixed = bind_values(h.problem, bindings, needed)
    rng = np.random.default_rng(seed)
    f = h.problem.expr
    roots = [f] + [e for row in h.blocks for e in row]
    n = len(h.vars)
    worst, failure, not_finite, skipped = 0.0, None, None, set()
    for trial in range(trials):
        values, sizes, _, _ = _trial_values(roots, h.vars[0], rng, fixed)
        D = {v.name: sample_direction(v, values[v.name], rng, sizes) for v in h.vars}
        E = {v.name: sample_direction(v, values[v.name], rng, sizes) for v in h.vars}
        floor = 1e-3 + 1e-4 * float(np.max(np.abs(evaluate(f, values, sizes))))

        def fn(vals):
            return evaluate(f, vals, sizes)

        best = None
        for scale in STEP_SCALES:
            pairs = []
            for i in range(n):
                for j in range(n):
                    vi, vj = h.vars[i].name, h.vars[j].name
                    num = _mixed_many(fn, values, [(vi, D[vi])], [(vj, E[vj])], 1e-2 * scale)
                    sym = _inner(D[vi], _apply_block(h, i, j, values, sizes, E[vj]))
                    pairs.append(((vi, vj), num, sym))
            errs = [relative_error(nm, sy, floor) for _, nm, sy in pairs]
            if best is None or max(errs) < max(best[1]):
                best = (pairs, errs)
            if max(errs) <= SECOND_ORDER_TOL:
                break
        for ((vi, vj), numeric, symbolic), err in zip(*best):
            if not (np.all(np.isfinite(numeric)) and np.all(np.isfinite(symbolic))):
                if not_finite is None:
                    not_finite = (trial + 1, numeric, symbolic)
                skipped.add(trial)
                continue
            worst = max(worst, err)
            if err > SECOND_ORDER_TOL and failure is None:
                failure = {"trial": trial + 1, "rel_error": err, "block": [vi, vj],
                           "numeric": _plain(numeric), "symbolic": _plain(symbolic),
                           "point": {str(k): _plain(v) for k, v in values.items()
                                     if isinstance(k, str)},
                           "direction": _plain(D[vi]), "sizes": dict(sizes)}
    if failure is None and len(skipped) == trials:
        trial, numeric, symbolic = not_finite
        why = (f"the values are not finite at the random points (trial {trial}: finite "
               f"differences {_short(_plain(numeric))}, result {_short(_plain(symbolic))})")
        return CheckResult(False, worst, trials, seed, what, None, why, len(skipped))
    return CheckResult(failure is None, worst, trials, seed, what, failure, None, len(skipped))
