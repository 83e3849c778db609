"""diff, grad, jac and hess: one problem, one variable -> a Derivation and its Report.

``derive`` reads the derivative off the differential; ``report_for`` makes its
report (``derivative_report``), with the values at ``--let`` data and the
verdicts of ``--check`` / ``--expect``.
"""
from __future__ import annotations

from functools import partial

from .errors import MatdiffError
from .expr import SCALAR, Div, EDiv, EPow, Expr, Power, Sym, Transpose, is_zero, nodes
from .names import Names
from .records import dataclass, field
from .report import CANNOT, FAILED
from .simplify import RULES, simplify
from .derivative_report import (
    WORD_LABELS, DerivativeReport, SecondDifferentialReport, conditions, definitions_by_node,
    labelled,
)


@dataclass
class Derivation:
    """What a derivative command found for one variable."""

    command: str
    problem: object
    var: Sym
    differential: Expr            # canonical df, in terms of Diff(var)
    kind: str                     # gradient | differential | jacobian | operator | hessian ...
    result: Expr                  # canonical
    operator: bool = False        # result is linear in Diff(var): written as lambda dX: ...
    vec: Expr | None = None       # the operator's matrix on vec(X), with --vec
    steps: list = field(default_factory=list)
    steps_complete: bool = True
    simplified_by: tuple = ()     # --steps: the identities the simplification used
    layout: str = "numerator"     # of a Jacobian matrix: numerator (rows are outputs)
    order: int = 1                # of a differential: d^k f with --order k
    directions: tuple = ()        # of a second differential: the Sym directions dX1, dX2

    def again(self, problem) -> "Derivation":
        """The same command for the same variable, in a variant of the problem (other
        declarations): what a check asks for without importing this module."""
        from .commands import Options

        return derive(problem, problem.symbols[self.var.name], self.command,
                      Options(layout=self.layout, order=self.order))


def _vector_like(shape) -> bool:
    return shape[0] == 1 or shape[1] == 1


def resolve_wrt(problem, names) -> list:
    """The variables to differentiate with respect to, as Sym nodes."""
    symbols = problem.symbols
    if not names:
        return list(symbols.values())
    if len(names) > len(symbols):   # a document's long list: look up the problem's few
        order = _positions(names)
        present_names = sorted([n for n in symbols if n in order], key=order.__getitem__)
    else:
        present_names = [n for n in names if n in symbols]
    if present_names and len(present_names) < len(names):
        # a document of many problems: each uses the listed variables it contains
        names = present_names
    out = []
    for name in names:
        sym = symbols.get(name)
        if sym is None:
            if name in problem.definitions:
                hint = (f"{name} is a definition; differentiate with respect to a variable "
                        f"it is made of")
            else:
                hint = "variables here: " + ", ".join(symbols) if symbols else None
            raise MatdiffError("usage", f"--wrt {name}: {name} does not appear in the expression",
                               hint=hint, statement=problem.source, line=problem.line)
        out.append(sym)
    return out


_POSITIONS: list = [None, {}]   # the last --wrt list and its names' positions


def _positions(names) -> dict:
    """name -> its first position in names, made once per list (one list serves a
    whole document: scanning it for each problem made k problems cost k^2)."""
    if _POSITIONS[0] is names:   # (kept for a tuple only: a list may change)
        return _POSITIONS[1]
    order: dict = {}
    for i, name in enumerate(names):
        order.setdefault(name, i)
    if type(names) is tuple:
        _POSITIONS[:] = [names, order]
    return order


def _refuse_division_by_zero(problem) -> None:
    """An expression that divides by something identically zero (``α / (β - β)``)
    has no derivative: an error, never ``1 / 0`` as an answer."""
    if _DIVISION_CHECKED[0] is problem:  # once per problem, not once per variable
        return
    if _cannot_divide(problem.expr):
        _DIVISION_CHECKED[0] = problem
        return
    for node in nodes(simplify(problem.expr)):
        if (isinstance(node, (Div, EDiv)) and is_zero(node.args[1])) or (
                isinstance(node, (Power, EPow)) and is_zero(node.args[0]) and node.args[1] < 0):
            raise MatdiffError(
                "shape", "the expression divides by zero: a divisor is 0 for every value",
                statement=problem.source, line=problem.line,
                hint="a divisor such as β - β is identically zero; the expression has no "
                     "value and no derivative")
    _DIVISION_CHECKED[0] = problem


_DIVISION_CHECKED: list = [None]


def _cannot_divide(expr) -> bool:
    """True when no node of expr can lead to a division by zero in its canonical
    form: every node is of a kind whose rules divide by nothing zero (a quotient or
    a power with an exponent that is not positive may, and so may any kind not
    listed).  Such an expression need not be simplified to be checked.

    An inverse is listed: its rules divide only by a scalar factor s of a
    canonical product ((c s A)^-1 = c^-1 s^-1 A^-1) and by a determinant
    (det(A^-1) = det(A)^-1), and neither is ever 0: a zero factor makes the
    whole product 0, and no rule makes a det 0.  The other rules keep the base
    of a negative power (they add exponents), so no base 0 arises later.

    A kind no rule rewrites (sigma_max, eigvals, the 1-norm, ...) passes too: it
    is no quotient or power, and its node stays as it is, a leaf to the rules
    of the nodes above it, as a symbol is (its operand's nodes are checked on
    their own)."""
    for node in nodes(expr):
        kind = type(node)
        if kind not in _NO_DIVISION and kind in RULES and not (
                kind in (Power, EPow) and node.args[1] > 0):
            return False
    return True


def _no_division_kinds() -> frozenset:
    from . import expr as E

    return frozenset((E.Sym, E.Num, E.Identity, E.Zeros, E.Ones, E.Diff, E.Add, E.Mul,
                      E.Hadamard, E.Kron, E.Broadcast, E.Transpose, E.Inverse, E.Trace, E.Sum,
                      E.Vec,
                      E.DiagM, E.DiagV, E.Func, E.Norm2, E.NormF, E.Det, E.LogDet, E.Softmax,
                      E.LogSumExp))


_NO_DIVISION = _no_division_kinds()


_READOFF: list = []   # readoff's entry points, imported once (not on every command's path)


def derive(problem, var: Sym, command: str, options) -> Derivation:
    if not _READOFF:
        from .readoff import d, hessian, read_gradient, read_jacobian
        _READOFF[:] = [d, read_gradient, read_jacobian, hessian]
    d, read_gradient, read_jacobian, hessian = _READOFF
    f = problem.expr
    _refuse_division_by_zero(problem)
    df = d(f, var)
    der = Derivation(command, problem, var, df, "differential", df, operator=True,
                     layout=options.layout)
    order = options.order
    if command == "diff" and order > 1:   # d^k f[dX, ..., dX]
        from .readoff import kth_differential

        der.result, der.order = kth_differential(f, var, order), order
    if command == "grad":
        if f.shape is not SCALAR:
            raise MatdiffError(
                "usage", f"the gradient needs a scalar expression; this one is "
                f"{f.shape[0]} x {f.shape[1]}", hint="use `matdiff jac` for the Jacobian",
                statement=problem.source, line=problem.line)
        der.kind, der.result, der.operator = "gradient", read_gradient(df, var), False
    elif command == "jac":
        if _vector_like(f.shape) and _vector_like(var.shape):
            J = read_jacobian(df, var) if f.shape is not SCALAR else _row_gradient(df, var)
            if options.layout == "denominator":
                J = simplify(Transpose(J))
            der.kind, der.result, der.operator = "jacobian", J, False
        else:
            der.kind = "operator"
            if options.vec:
                der.vec = read_jacobian(df, var)
                if options.layout == "denominator":  # the transpose, as for a Jacobian
                    der.vec = simplify(Transpose(der.vec))
    elif command == "hess" and f.shape is not SCALAR:   # the second differential d²F[dX1, dX2]
        from .readoff import direction_names, second_differential

        names = direction_names(Names.of(problem), var)
        der.result, *der.directions = second_differential(f, var, names)
        der.directions = tuple(der.directions)
        der.kind, der.operator = "second_differential", False
    elif command == "hess":
        kind, H = hessian(f, var)
        der.result = H
        der.operator = kind == "operator"
        der.kind = "hessian_operator" if der.operator else "hessian"
        if der.operator and options.vec:
            der.vec = read_jacobian(H, var)
    if options.steps:
        from .steps import Step, differential_steps, simplification

        shown_as_names = definitions_by_node(problem)
        der.steps, der.steps_complete = differential_steps(f, var, shown_as_names)
        if der.steps_complete:
            der.simplified_by = simplification(der.steps)
        if command == "hess" and f.shape is SCALAR:  # then the gradient, and its differential
            from .readoff import gradient

            G = gradient(f, var)
            more, complete = differential_steps(G, var, shown_as_names)
            read = (f"read off df = <G, {Names.of(problem).direction(var)}>, "
                    "and differentiate G")
            der.steps += [Step("gradient", read, G)] + more
            der.steps_complete = der.steps_complete and complete
    return der


def _row_gradient(df, var):
    """The Jacobian of a scalar: the row g^T."""
    from .readoff import read_gradient, vec_of
    return simplify(Transpose(vec_of(read_gradient(df, var))))


def report_for(problem, var, name, options) -> DerivativeReport:
    """Derive, then verify as asked (--check, --expect)."""
    der = derive(problem, var, name, options)
    if der.kind == "second_differential":
        report = SecondDifferentialReport(der)
    else:
        report = DerivativeReport(der)
    # an option that does not apply to this problem's result says so (never silence)
    if options.vec and der.kind == "second_differential":
        report.remarks.append("--vec: the second differential of a non-scalar is a "
                              "third-order array; it is given as the bilinear form only")
    elif options.vec and der.vec is None and name in ("jac", "hess"):
        report.remarks.append(f"--vec: the {WORD_LABELS[der.kind]} is already the matrix "
                            f"of the derivative on vec({var.name})")
    if options.layout == "denominator" and name == "jac" and der.operator and der.vec is None:
        report.remarks.append("--layout applies to a Jacobian matrix; this derivative is the "
                            "operator dF (add --vec for its matrix)")
    if options.lets:   # the numbers at the data (values.py imports NumPy)
        from .values import attach

        attach(report, der, options)
    verify(report, options, der, "numeric_check", "compare")
    return report


def verify(report, options, derived, check: str, compare: str) -> None:
    """--check and --expect on a report of ``derived``: the functions named
    ``check`` in ``trust`` and ``compare`` in ``expect`` (imported only when asked: NumPy is not
    on the plain path) give the verdicts, which add a note, a JSON field and the
    exit status."""
    if not (options.check or options.expect):
        return
    from . import expect, trust

    if options.check:
        verdict = getattr(trust, check)(derived, options.seed, bindings=options.bindings())
        report.extra["check"] = verdict.to_json()
        shown = [] if options.bindings() else _shown(report)
        under = conditions(shown) if shown else []
        if under and not verdict.inconclusive:   # the sampler drew points where these hold
            report.extra["check"]["drawn_where"] = under
            report.notes.append(partial(_drawn_note, verdict.summary(), shown))
        else:
            report.notes.append(verdict.summary())
        if not verdict.passed:   # a check that could not be made is not a failed one
            report.status = CANNOT if verdict.inconclusive else FAILED
    if options.expect:
        verdict = getattr(expect, compare)(derived, options.expect, options.seed)
        report.extra["expect"] = verdict.to_json()
        report.notes.append(verdict.summary())
        if not verdict.equal:
            report.status = max(report.status, FAILED)


def _drawn_note(summary: str, shown: list, render=None) -> str:
    """The check's line, with the conditions in the spelling of the format."""
    return summary + ", at points drawn where " + " and ".join(
        c[len("where "):] for c in conditions(shown, render))


def _shown(report) -> list:
    """The expressions a report shows, whose conditions the checks draw points under."""
    try:
        return [report.shown_df] + report._exprs()
    except AttributeError:   # a report without a differential shown
        return []


def located(command):
    """A command whose errors without a place point at the whole problem statement
    (the engine's errors are about the expression, not one character of it)."""
    def run(problem, options):
        try:
            return command(problem, options)
        except MatdiffError as e:
            if e.line is None or e.column is None:
                e.line = problem.line
                e.column, e.end_column = 1, len(problem.source) + 1
                e.source_line = e.statement = problem.source
            raise
    run.__name__ = command.__name__
    run.__doc__ = command.__doc__
    return run


def derivative_command(name: str):
    """The CLI command `name` (diff, grad, jac, hess): a list of reports, one per variable."""
    def command(problem, options):
        return labelled([report_for(problem, var, name, options)
                         for var in resolve_wrt(problem, options.wrt)])
    command.__name__ = f"{name}_command"
    return located(command)
