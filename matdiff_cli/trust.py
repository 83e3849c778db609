"""Trust without blind faith: numerical checks and --expect (eval and solve are evaluation.py).

* ``numeric_check``: central finite differences along random directions at
  random points (declared properties respected) against the symbolic result:
  a gradient by its directional derivative <G, D>, a Jacobian by J[D], a
  Hessian by the second directional derivative <H[D], D> and by polarization
  <H[D], E> (the mixed second derivative).
* ``compare``: is a claimed result the same as matdiff's?  Symbolically when
  the canonical forms agree, else numerically, else a counterexample; when
  they agree only under symmetry of some matrices, it says which.
The finite differences are in ``differences.py``, the --let data bound to a
problem in ``letdata.py``.  NumPy is imported here, so only the commands that
need numbers load it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .errors import MatdiffError
from .expr import SCALAR, Diff, Expr, Sym
from .letdata import _show, bind_values  # noqa: F401  (bind_values: trust's face)
from .numeric import TooLarge, evaluate, quiet, relative_error, sample_direction, sample_values
from .numeric.differences import (  # noqa: F401  (first_derivative: trust's face)
    _mixed_many, first_derivative, kth_derivative, second_derivative,
)
from .simplify import simplify

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
        return [(first_derivative(f, values, name, D, 1e-3 * scale),
                 evaluate(der.result, vals, sizes))]
    # Hessians: Q(D) = <H[D], D> and the polarization B(D, E) = <H[D], E>
    q_num = second_derivative(f, values, name, D, h=1e-2 * scale)
    b_num = second_derivative(f, values, name, D, E, h=1e-2 * scale)
    HD = _apply_hessian(der, values, sizes, D)
    return [(q_num, _inner(HD, D)), (b_num, _inner(HD, E))]


def _apply_hessian(der, values, sizes, D):
    if der.kind == "hessian_operator":
        vals = dict(values)
        vals[("d", der.var.name)] = D
        return evaluate(der.result, vals, sizes)
    H = np.atleast_2d(np.asarray(evaluate(der.result, values, sizes), dtype=float))
    return (H @ _vecF(D)).reshape(np.shape(D) if np.ndim(D) else ())


# ---------------------------------------------------------------- --expect

@dataclass
class Comparison:
    equal: bool
    how: str                     # "symbolically" | "numerically" | "differs"
    trials: int = 0
    max_rel_error: float = 0.0
    seed: int | None = None
    counterexample: dict | None = None
    hint: str | None = None
    claim_text: str = ""

    def summary(self) -> str:
        if self.equal and self.how == "symbolically":
            return f"expect: equal (symbolically) to {self.claim_text}"
        if self.equal:
            return (f"expect: equal (numerically, {self.trials} trials, max relative error "
                    f"{self.max_rel_error:.1e}) to {self.claim_text}")
        line = f"expect: differs from {self.claim_text}"
        if self.counterexample:
            c = self.counterexample
            line += (f" (at a random point, trial {c['trial']} of --seed {self.seed}, they differ "
                     f"by {c['rel_error']:.0%} relative; the point is in the JSON output)")
        if self.hint:
            line += f"; {self.hint}"
        return line

    def to_json(self) -> dict:
        out = {"claim": self.claim_text, "equal": self.equal,
               "how": self.how if self.equal else "differs"}
        if self.trials:
            out.update(trials=self.trials, max_rel_error=self.max_rel_error, seed=self.seed)
        if self.counterexample:
            out["counterexample"] = self.counterexample
        if self.hint:
            out["hint"] = self.hint
        return out


def parse_claim(der, text: str) -> Expr:
    """The claim of a derivation's result, in its problem's scope."""
    return claim_of(der.problem, der.var, der.result.shape, text)


def claim_of(problem, var: Sym, shape, text: str) -> Expr:
    """A claimed derivative with respect to var, of this shape, read in the problem's
    scope; ``dX`` (the direction's name) is Diff(var)."""
    from .names import Names
    from .build import replace_node

    dname = Names.of(problem).direction(var)   # dX, or d_X when dX is a variable
    claim = problem.parse(text, directions={var.name: dname}, shape=shape, known_only=True)
    for node in _symbols_named(claim, dname):
        if node.shape != var.shape:
            raise MatdiffError("shape", f"in the claim, {dname} is {node.shape[0]} x "
                               f"{node.shape[1]} but {var.name} is {var.shape[0]} x "
                               f"{var.shape[1]}", statement=text)
        claim = replace_node(claim, node, Diff(var))
    return claim


def _symbols_named(e: Expr, name: str):
    from .expr import symbols
    return [s for s in symbols(e) if s.name == name]


def compare(der, claim_text: str, seed=None, trials: int = TRIALS) -> Comparison:
    """Is the claim the result?  Symbolically, else at random points (the variable
    is drawn even when neither side contains it), else a counterexample."""
    claim = parse_claim(der, claim_text)
    with quiet():
        return _compare(der, claim, claim_text, seed, trials)


def comparable(der) -> Expr:
    """The result as the claim is written: a second differential d²F[dX1, dX2] as its
    quadratic form d²F[dX, dX] (which fixes the symmetric form, by polarization)."""
    if der.kind != "second_differential":
        return der.result
    from .build import replace_node

    out = der.result
    for s in der.directions:
        out = replace_node(out, s, Diff(der.var))
    return simplify(out)


def _compare(der, claim, claim_text, seed, trials) -> Comparison:
    result = comparable(der)
    if claim.shape != result.shape:
        return Comparison(False, "differs", claim_text=claim_text,
                          hint=f"the claim is {claim.shape[0]} x {claim.shape[1]}, the result "
                               f"{result.shape[0]} x {result.shape[1]}")
    if simplify(claim) is simplify(result):
        return Comparison(True, "symbolically", claim_text=claim_text)
    seed = resolve_seed(seed)
    same, err, counter = _numerically_equal(result, claim, der.var, seed, trials)
    if same:
        return Comparison(True, "numerically", trials, err, seed, claim_text=claim_text)
    return Comparison(False, "differs", trials, err, seed, counter,
                      hint=_symmetry_hint(der, claim_text), claim_text=claim_text)


def _numerically_equal(a: Expr, b: Expr, var: Sym, seed: int, trials: int):
    rng = np.random.default_rng(seed)
    worst = 0.0
    for trial in range(trials):
        values, sizes = _trial_values([a, b], var, rng)[:2]
        values[("d", var.name)] = sample_direction(var, values[var.name], rng, sizes)
        va, vb = evaluate(a, values, sizes), evaluate(b, values, sizes)
        err = relative_error(va, vb)
        worst = max(worst, err)
        if err > EQUAL_TOL:
            return False, worst, {"trial": trial + 1, "rel_error": err,
                                  "result": _plain(va), "claim": _plain(vb),
                                  "point": {str(k): _plain(v) for k, v in values.items()
                                            if isinstance(k, str)}}
    return True, worst, None


def _symmetry_hint(der, claim_text: str) -> str | None:
    """Which square matrices, declared symmetric, would make the claim true?"""
    syms = [s for s in der.problem.symbols.values()
            if s.shape[0] == s.shape[1] and s.shape != SCALAR and not s.props
            and s is not der.var]
    if not syms or len(syms) > 4:
        return None
    for k in range(1, len(syms) + 1):
        for subset in combinations(syms, k):
            problem = der.problem.assuming_symmetric(subset)
            try:
                der2 = der.again(problem)
                claim = parse_claim(der2, claim_text)   # read with the subset symmetric
            except Exception:
                continue
            same, _, _ = _numerically_equal(comparable(der2), claim, der2.var, 1, 3)
            if same:
                names = ", ".join(s.name for s in subset)
                decls = " and ".join(f"`-d \"{s.name}: {s.shape[0]} x {s.shape[1]} symmetric\"`"
                                     for s in subset)
                return (f"they agree when {names} {'is' if k == 1 else 'are'} symmetric: "
                        f"declare {decls}")
    return None


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


def _zero(shape):
    from . import build
    return build.zero(shape)


def compare_blocks(h, claim_text: str, seed=None, trials: int = TRIALS) -> Comparison:
    """A claimed whole Hessian, ``[[H11, H12], [H21, H22]]`` (or ``H11, H12; H21, H22``),
    block by block: symbolically where the canonical forms agree, else numerically."""
    rows = split_blocks(claim_text)
    n = len(h.vars)
    if len(rows) != n or any(len(r) != n for r in rows):
        raise MatdiffError(
            "usage", f"--expect: the Hessian over {', '.join(v.name for v in h.vars)} has "
                     f"{n} x {n} blocks; the claim has {len(rows)} row(s) of "
                     f"{', '.join(str(len(r)) for r in rows)} block(s)",
            hint="write the claim as [[H11, H12], [H21, H22]] (or H11, H12; H21, H22), "
                 "a block of matrix variables in terms of the direction (dX)",
            statement=claim_text)
    seed = resolve_seed(seed)
    how, worst = "symbolically", 0.0
    with quiet():
        for i in range(n):
            for j in range(n):
                label = f"block [{h.vars[i].name}, {h.vars[j].name}]"
                result = h.blocks[i][j]
                if rows[i][j] == "0" and simplify(result) is simplify(_zero(result.shape)):
                    continue   # 0 stands for a zero block of any shape
                claim = claim_of(h.problem, h.vars[j], result.shape, rows[i][j])
                if claim.shape != result.shape:
                    return Comparison(False, "differs", claim_text=claim_text,
                                      hint=f"{label}: the claim is {_show(claim.shape)}, the "
                                           f"result {_show(result.shape)}")
                if simplify(claim) is simplify(result):
                    continue
                same, err, counter = _numerically_equal(result, claim, h.vars[j], seed, trials)
                worst = max(worst, err)
                if not same:
                    return Comparison(False, "differs", trials, err, seed, counter,
                                      hint=f"{label} differs", claim_text=claim_text)
                how = "numerically"
    if how == "symbolically":
        return Comparison(True, how, claim_text=claim_text)
    return Comparison(True, how, trials, worst, seed, claim_text=claim_text)


def split_blocks(text: str) -> list[list[str]]:
    """A claimed block matrix: ``[[a, b], [c, d]]`` or ``a, b; c, d`` (commas and
    semicolons inside parentheses belong to the entries)."""
    s = text.strip()
    if s.startswith("[[") and s.endswith("]]"):
        rows = _top_split(s[1:-1].strip(), ",", brackets=True)
        out = []
        for r in rows:
            r = r.strip()
            if not (r.startswith("[") and r.endswith("]")):
                return [[text]]
            out.append([c.strip() for c in _top_split(r[1:-1], ",")])
        return out
    return [[c.strip() for c in _top_split(r, ",")] for r in _top_split(s, ";")]


def _top_split(s: str, sep: str, brackets: bool = False) -> list[str]:
    out, depth, cur = [], 0, []
    opens, closes = "([{" if brackets else "({", ")]}" if brackets else ")}"
    for ch in s:
        if ch in opens:
            depth += 1
        elif ch in closes:
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out
