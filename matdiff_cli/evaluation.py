"""eval and solve: the commands that turn expressions into numbers.

Both bind data with ``--let NAME=VALUE`` (JSON-style nested lists); the data
fixes the dimensions, and shapes are checked against the declarations.  A
number is never invented: a dimension the data does not fix, sizes that would
not fit in memory, a value that is not finite at the data (a singular inverse,
the log of a negative number) and a Hessian singular at the data are errors
that say why, not nan with exit 0.
"""
from __future__ import annotations

from .derivatives import located
from .expr import symbols
from .names import Names
from .report import Report
from .values import _bind, _fmt, _numbers


# --expect with eval: the value and the claim agree to this relative tolerance
# (eval prints 6 significant digits: a printed value copied into --expect holds)
EXPECT_RTOL = 1e-6
EXPECT_ATOL = 1e-12


class EvalReport(Report):
    command = "eval"

    def __init__(self, problem, value, expect: dict | None = None):
        from .report import FAILED, OK

        self.problem = problem
        self.input = problem.source
        self.line = problem.line
        self.value = value
        self.expect = expect     # {"claim", "value", "equal"} with --expect
        self.status = FAILED if expect is not None and not expect["equal"] else OK

    def verdicts(self) -> list[str]:
        if self.expect is None:
            return []
        e = self.expect
        if e["equal"]:
            return [f"expect: equal to {e['claim']} (relative tolerance {EXPECT_RTOL:g})"]
        why = e.get("why") or f"the value is {_fmt(self.value)}, the claim {_fmt(e['value'])}"
        return [f"expect: differs from {e['claim']}: {why}"]


def _claimed_value(problem, text: str, bindings: dict):
    """The claim of ``eval --expect``: a number or nested list (JSON), or an
    expression in the problem's scope evaluated at the same data."""
    import json

    import numpy as np

    from .numeric import evaluate
    from .trust import bind_values

    try:
        literal = json.loads(text)
    except ValueError:
        literal = None
    if isinstance(literal, (int, float, list)) and not isinstance(literal, bool):
        try:
            return np.asarray(literal, dtype=float)
        except (TypeError, ValueError):
            pass  # a ragged list: read it as an expression, which says what is wrong
    from .errors import MatdiffError

    try:
        claim = problem.parse(text)
        values, sizes = bind_values(problem, bindings, symbols(claim))
        return evaluate(claim, values, sizes)
    except MatdiffError as e:  # about the claim, not the problem: say so
        e.message = f"in --expect {text!r}: {e.message}"
        e.args = (e.message,)
        raise


def _agree(value, claimed) -> tuple[bool, str | None]:
    import numpy as np

    a = np.asarray(value, dtype=float)
    b = np.asarray(claimed, dtype=float)
    if a.size == 1 and b.size == 1:
        a, b = a.reshape(()), b.reshape(())
    elif a.ndim == 2 and a.shape[1] == 1 and b.ndim == 1:
        b = b.reshape(-1, 1)
    if a.shape != b.shape:
        return False, (f"the value is {' x '.join(map(str, a.shape)) or 'a number'}, "
                       f"the claim {' x '.join(map(str, b.shape)) or 'a number'}")
    with np.errstate(all="ignore"):
        return bool(np.allclose(a, b, rtol=EXPECT_RTOL, atol=EXPECT_ATOL, equal_nan=True)), None


@located
def eval_command(problem, options):
    bindings = options.bindings()
    values, sizes = _bind(problem, bindings, symbols(problem.expr))
    value, = _numbers(problem, [problem.expr], values, sizes)
    expect = None
    if options.expect is not None:
        claimed = _claimed_value(problem, options.expect, bindings)
        equal, why = _agree(value, claimed)
        expect = {"claim": options.expect, "value": claimed, "equal": equal, "why": why}
    return EvalReport(problem, value, expect)


class SolveReport(Report):
    command = "solve"

    def __init__(self, problem, sol, value=None, numeric_class=None, steps=(), check=None):
        from .report import FAILED, OK

        self.problem = problem
        self.input = problem.source
        self.line = problem.line
        self.sol = sol
        self.value = value
        self.steps = list(steps)   # --steps: (rule, identity, expr), the derivation of ∇f = 0
        self.check = check         # --check: StationaryCheck
        self.status = FAILED if check is not None and not check.passed else OK
        self.classification = sol.classification
        self.reason = sol.reason
        if numeric_class is not None:
            self.classification, self.reason = numeric_class

    def _texts(self):
        from .render.latex import to_latex
        from .render.numpy import to_numpy
        from .render.text import to_text
        from .simplify import present

        shown = present(self.sol.solution)
        return {"text": to_text(shown), "latex": to_latex(shown),
                "numpy": to_numpy(shown, bound=list(self.problem.symbols.values()),
                                  naming=Names.of(self.problem))}


    def step_texts(self) -> list[tuple[str, str, str]]:
        from .render.text import to_text
        from .simplify import present

        from .expr import Diff

        var = self.sol.var
        dname = Names.of(self.problem).direction(var)
        names = {Diff(var): dname} if dname != "d" + var.name else {}  # dx may be a variable
        return [(rule, identity, to_text(present(e), names=names))
                for rule, identity, e in self.steps]

    def verdicts(self) -> list[str]:
        return [self.check.summary()] if self.check is not None else []

    def step_lines(self) -> list[str]:
        """--steps as lines of words (each format makes them comments)."""
        if not self.steps:
            return []
        lines = [f"solve ∇f = 0 for {self.sol.var.name}, where f = {self.input}"]
        for rule, identity, text in self.step_texts():
            lines.append(f"  {rule}: {identity}")
            lines.append(f"    = {text}")
        return lines

    def _lines(self) -> list[str]:
        why = self.reason + (" (assuming " + ", ".join(self.sol.assumptions) + ")"
                             if self.sol.assumptions and self.value is None else "")
        lines = [f"# {self.classification}: {why}"]
        if self.value is not None:
            lines.insert(0, f"# {self.sol.var.name}* = {_fmt(self.value)}")
        return lines

    def after_lines(self) -> list[str]:
        """What follows the solution, as words: its value at the data, the
        second-order test, the verdict of --check."""
        return [line[2:] for line in self._lines()] + self.verdicts()


@located
def solve_command(problem, options):
    from .derivatives import resolve_wrt
    from .stationary import classify_numeric, singular_at, stationary_point

    reports = []
    bindings = options.bindings()
    for var in resolve_wrt(problem, options.wrt or ()):
        if not options.wrt and var.name in bindings:
            continue  # without --wrt, the unbound variables are the unknowns
        sol = stationary_point(problem.expr, var)
        value = numeric_class = None
        if bindings:
            needed = list(dict.fromkeys(symbols(sol.hessian) + symbols(sol.solution)))
            values, sizes = _bind(problem, bindings, needed)
            H, = _numbers(problem, [sol.hessian], values, sizes, "the Hessian")
            singular = singular_at(H)
            if singular:
                from .errors import MatdiffError
                from .render.text import to_text

                raise MatdiffError(
                    "unsupported", f"no unique stationary point at the data: the Hessian "
                    f"{to_text(sol.hessian)} is singular there ({singular}), so ∇f = 0 has "
                    "no solution or infinitely many",
                    hint="add a regularizer such as λ ||w||^2, or give data of full rank")
            numeric_class = classify_numeric(H)
            value, = _numbers(problem, [sol.solution], values, sizes, "the solution")
        steps = solve_steps(problem.expr, sol, Names.of(problem).direction(sol.var)) \
            if options.steps else ()
        check = (check_stationary(problem, sol, options.seed, bindings)
                 if options.check else None)
        reports.append(SolveReport(problem, sol, value, numeric_class, steps, check))
    return reports


def solve_steps(f, sol, direction: str | None = None) -> list:
    """The derivation of the stationary point: df rule by rule, the gradient read
    off, the (constant) Hessian, and ∇f = 0 solved (``direction``: dX's name)."""
    from .steps import differential_steps

    v = sol.var.name
    first, complete = differential_steps(f, sol.var)
    steps = [(s.rule, s.identity, s.expr) for s in first]
    if not complete:
        steps.append(("...", "further steps omitted", first[-1].expr))
    steps.append(("gradient", f"read off df = <∇f, {direction or 'd' + v}>", sol.gradient))
    steps.append(("Hessian", f"∇f is affine in {v}: ∇f = H {v} + ∇f(0), with constant H",
                  sol.hessian))
    steps.append(("stationary point", f"∇f = 0 gives {v}* = -H^-1 ∇f(0)", sol.solution))
    return steps


# --check with solve: the slope of f at the solution, relative to the slope at
# a point one random step away, along random directions
STATIONARY_TOL = 1e-6
STATIONARY_TRIALS = 3


class StationaryCheck:
    def __init__(self, passed, max_rel, trials, seed, reason=None):
        self.passed, self.max_rel, self.trials, self.seed = passed, max_rel, trials, seed
        self.reason = reason

    def to_json(self) -> dict:
        out = {"passed": self.passed, "max_rel_error": self.max_rel, "trials": self.trials,
               "seed": self.seed,
               "method": "directional derivative of f at the stationary point"}
        if self.reason:
            out["reason"] = self.reason
        return out

    def summary(self) -> str:
        if self.reason:
            return f"check FAILED: {self.reason} (seed {self.seed})"
        status = "passed" if self.passed else "FAILED"
        return (f"check {status}: the slope of f at the solution, along random directions, "
                f"is {self.max_rel:.1e} of the slope one step away, over {self.trials} "
                f"trials (seed {self.seed})")


def check_stationary(problem, sol, seed, bindings) -> StationaryCheck:
    """Finite differences of the objective itself (not of the symbolic gradient)
    at the solution: every directional derivative there must vanish."""
    import numpy as np

    from .numeric import directional_derivative, sample_direction, sample_values
    from .trust import bind_values, resolve_seed

    from .numeric import evaluate

    seed = resolve_seed(seed)
    rng = np.random.default_rng(seed)
    f, var = problem.expr, sol.var
    given = [s for s in symbols(f) if s.name in bindings and s is not var]
    worst = 0.0
    for _ in range(STATIONARY_TRIALS):
        try:
            if given:
                fixed, fixed_sizes = bind_values(problem, bindings, given)
                values, sizes = sample_values([f, sol.solution], rng, sizes=fixed_sizes,
                                              check=False)
                values.update(fixed)
            else:
                values, sizes = sample_values([f, sol.solution], rng)
        except ValueError:
            return StationaryCheck(False, float("nan"), 0, seed,
                                   "no random data where the solution is defined")
        with np.errstate(all="ignore"):
            x = evaluate(sol.solution, values, sizes)
            if not np.all(np.isfinite(x)):
                return StationaryCheck(False, float("nan"), 0, seed,
                                       "the solution is not finite at the data "
                                       "(a singular matrix?)")
            values[var.name] = x
            D = sample_direction(var, x, rng, sizes)
            h = 1e-3 * (1.0 + float(np.max(np.abs(x))))
            at = float(np.sum(directional_derivative(f, values, var.name, D, h, sizes)))
            away = dict(values)
            away[var.name] = x + D
            near = float(np.sum(directional_derivative(f, away, var.name, D, h, sizes)))
        rel = abs(at) / max(abs(near), 1e-300)
        worst = max(worst, rel if np.isfinite(rel) else float("inf"))
    return StationaryCheck(worst <= STATIONARY_TOL, worst, STATIONARY_TRIALS, seed)
