"""Reports: what every command returns, as data, and where each is written.

A command turns one problem into a :class:`Report`: plain data (the problem,
the derivation, the verdicts, the exit status) and the pieces every format
shares (named subexpressions, labels).  How a report is written in each format
is the business of that format's module in ``writers/``; the CLI only picks the
format (``FORMATS``), the stream and the exit status (the worst one wins).

Results go to standard output; diagnostics (errors, unavailable commands)
go to standard error, except in ``json`` format, where every report is one
JSON object on one line of standard output (JSON Lines).

This module imports nothing heavy: the writers are imported by name when a
format is first used, and Rich only by the pretty writer.
"""
from __future__ import annotations

import os
import sys

from .errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EXIT_UNSUPPORTED
from .expr import SCALAR, Expr
from .writers import write

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Callable

    from .tree import TreeNode

# Exit statuses (SPEC §3); errors.worst decides: the highest wins.
OK, FAILED, BAD_INPUT, CANNOT = EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_UNSUPPORTED

class Report:
    """One command's result for one problem.

    Subclasses set ``command`` and ``input``; the writers of ``writers/`` write
    them (``to_text()`` and the like ask the format's writer); ``status`` is this
    report's contribution to the exit status.  ``to_stderr`` marks diagnostics (written to standard
    error in every format but ``json``).
    """

    status: int = OK
    to_stderr: bool = False
    command: str = ""
    input: str | None = None
    line: int | None = None

    def start(self, der) -> None:
        """The fields a report of a derivation (``der``) starts with."""
        self.der = der
        self.command = der.command
        self.input = der.problem.source
        self.line = der.problem.line
        self.status = OK
        self.extra: dict = {}          # check / expect fields, added by trust commands
        self.notes: list[str] = []     # human lines (text as comments)
        self.labelled = False          # one of several results of a problem: say which
        self.continued = False         # not the first of them: the problem's header is out
        self.remarks: list[str] = []   # an option that does not apply here, and why
        self.values: dict | None = None   # at the --let data: {"function", "derivative"}

    # Each format is written by its module in ``writers/`` (one writer per format
    # for every report kind); these are the report's face for callers.
    def to_json(self) -> dict:
        """The SPEC §3.1 object: ``ok``, ``input``, ``command``, ..."""
        return write("json", self)

    def to_text(self) -> str:
        """Plain text, in matdiff's own input syntax where it can be."""
        return write("text", self)

    def to_latex(self) -> str:
        return write("latex", self)

    def to_numpy(self) -> str:
        return write("numpy", self)

    def to_pretty(self, console) -> None:
        """Print Rich renderables on ``console``."""
        write("pretty", self, console)


# ---------------------------------------------------------------------------
# Diagnostics


class DiagnosticReport(Report):
    """A report that did not produce a result: an error of some ``kind``."""

    to_stderr = True
    kind = "error"
    prefix = "error"
    message = ""
    hint: str | None = None
    column: int | None = None


class ErrorReport(DiagnosticReport):
    """A problem (or the whole input) that could not be read: a MatdiffError."""

    def __init__(self, error, command: str, input: str | None = None):
        self.error = _detached(error)
        self.command = command
        self.kind, self.message, self.hint = error.kind, error.message, error.hint
        self.line, self.column = error.line, error.column
        self.status = error.exit_code
        self.input = input if input is not None else (error.statement or error.source_line)


def _detached(error: BaseException) -> BaseException:
    """error without the tracebacks of it and of the exceptions it came from: a
    report keeps only what it says, and a traceback's frames would hold the
    report again: a cycle, freed only when the cyclic collector next runs."""
    seen = set()
    e = error
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        e.__traceback__ = None
        e = e.__cause__ or e.__context__
    return error


class InternalErrorReport(DiagnosticReport):
    """An unexpected exception while solving one problem: a bug in matdiff."""

    kind = "internal"
    prefix = "internal error"
    status = CANNOT

    def __init__(self, exc: BaseException, command: str, input=None, line=None):
        self.command = command
        self.input = input
        self.line = line
        name = type(exc).__name__
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        self.message = (
            f"{name}{': ' + detail if detail else ''}; "
            "this is a bug in matdiff: please report it with the input that caused it"
        )
        self.hint = "set MATDIFF_DEBUG=1 to see the traceback"
        if os.environ.get("MATDIFF_DEBUG"):
            import traceback

            self.hint = None
            self.traceback = "".join(traceback.format_exception(exc))
        else:
            self.traceback = None


class TooDeepReport(DiagnosticReport):
    """A problem nested deeper than matdiff's recursion allows: a limitation."""

    kind = "too_deep"
    status = CANNOT
    message = "the expression is nested too deeply for matdiff"
    hint = "split it with definitions (h = ...) on separate lines"

    def __init__(self, command: str, input=None, line=None):
        self.command, self.input, self.line = command, input, line


# ---------------------------------------------------------------------------
# shape: symbols, their shapes and the expression tree


def dim_json(d) -> int | str:
    """A dimension in JSON: ints stay ints, names are strings."""
    return d if isinstance(d, int) else str(d)


def shape_json(shape) -> list:
    n, m = shape   # (dim_json inline: every variable of every JSON object)
    return [n if isinstance(n, int) else str(n), m if isinstance(m, int) else str(m)]


def shape_text(shape, times: str = " x ") -> str:
    """``n x m`` (text) or ``n×m`` (pretty)."""
    return f"{shape[0]}{times}{shape[1]}"


def compact_shape(shape) -> str:
    """A shape for reading: ``scalar``, ``n`` (a column), ``n×m``."""
    if shape == SCALAR:
        return "scalar"
    if shape[1] == 1:
        return str(shape[0])
    return f"{shape[0]}×{shape[1]}"


def inferred_symbols(problem) -> list:
    """The problem's symbols whose shapes were inferred, not declared."""
    names = problem.inferred
    return [s for s in problem.symbols.values() if s.name in names]


def inferred_line(problem) -> list:
    """The inferred shapes as one declaration line (shown with every result, so
    that a text result reads back with them), or no line."""
    syms = inferred_symbols(problem)
    if not syms:
        return []
    return ["; ".join(f"{s.name}: {shape_decl(s.shape)}" for s in syms) + "  # inferred"]


def shape_decl(shape) -> str:
    """A shape as the right-hand side of a declaration: ``scalar``, ``n``, ``1 x n``."""
    if shape == SCALAR:
        return "scalar"
    if shape[1] == 1:
        return str(shape[0])
    return shape_text(shape)


def definition_names(problem) -> dict:
    """``{node: name}`` for every definition the problem can refer to."""
    return {e: name for name, e in problem.definitions.items()}


class ShapeReport(Report):
    """``matdiff shape``: every symbol's shape, the assumptions, the tree."""

    command = "shape"

    def __init__(self, problem):
        self.problem = problem
        self.input = problem.source
        self.line = problem.line
        self.expr: Expr = problem.expr
        self.names = definition_names(problem)
        # the expression itself is written out, never as the name it was defined with
        self.top = {e: n for e, n in self.names.items() if e is not self.expr}
        self.symbols = list(problem.symbols.values())
        self.inferred = [s.name for s in self.symbols if s.name in problem.inferred]
        self._tree: TreeNode | None = None

    @property
    def tree(self) -> TreeNode:
        if self._tree is None:
            from .tree import build_tree   # only the shape command draws one

            self._tree = build_tree(self.expr, self.names)
        return self._tree

    def expression_text(self) -> str:
        from .render.text import to_text

        return to_text(self.expr, names=self.top)

    def used_definitions(self) -> list[tuple[str, Expr]]:
        """The definitions the expression uses, in the order they were written."""
        return [(n, e) for n, e in self.problem.definitions.items() if e is not self.expr]

    def definition_lines(self, render) -> list[tuple[str, object]]:
        """``(name, body)`` of each definition used, each body in terms of the
        definitions before it."""
        names = dict(self.top)
        out = []
        for name, e in self.used_definitions():
            names.pop(e, None)
            out.append((name, render(e, names=names)))
            names[e] = name
        return out


    def declarations(self) -> list[str]:
        """One declaration per symbol, in matdiff's input syntax."""
        out = []
        for s in self.symbols:
            decl = f"{s.name}: {shape_decl(s.shape)}"
            if s.props:
                decl += " " + " ".join(sorted(s.props))
            if s.name in self.inferred:
                decl += "  # inferred"
            out.append(decl)
        return out


def describe_shape(shape, times: str = "×") -> str:
    """``scalar``, ``n×1 (vector)`` or ``n×m``."""
    s = shape_text(shape, times)
    if shape == SCALAR:
        return "scalar"
    if shape[1] == 1:
        return s + " (vector)"
    return s


# ---------------------------------------------------------------------------
# Output formats: a registry, not a flag per format


class Output:
    """Where reports go: standard output and standard error, Consoles on demand."""

    def __init__(self, stdout=None, stderr=None):
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self._consoles: dict = {}
        self._used: set = set()  # the streams written to so far

    def stream(self, report: Report):
        return self.stderr if report.to_stderr else self.stdout

    def console(self, report: Report):
        key = report.to_stderr
        if key not in self._consoles:
            from rich.console import Console

            self._consoles[key] = Console(file=self.stream(report), highlight=False,
                                          width=console_width(self.stream(report)))
        return self._consoles[key]

    def write(self, report: Report, text: str, blank_between: bool = False) -> None:
        """Write one report's text; with ``blank_between``, reports on one
        stream are separated by a blank line."""
        stream = self.stream(report)
        if blank_between and stream in self._used:
            text = "\n" + text
        self._used.add(stream)
        stream.write(text if text.endswith("\n") else text + "\n")
        stream.flush()


MIN_WIDTH = 20  # narrower than this, a line holds too little: wrap at this width


def console_width(stream=None) -> int | None:
    """The width for Rich: ``COLUMNS`` when it is a sensible number (None: Rich
    reads it, or the terminal's); an unusable one (0, negative, not a number,
    which would print nothing) counts as unset.  Never below ``MIN_WIDTH``."""
    columns = os.environ.get("COLUMNS", "").strip()
    if not columns:
        return None
    try:
        width = int(columns)
    except ValueError:
        width = 0
    if width <= 0:
        try:
            width = os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            width = 80
    return max(width, MIN_WIDTH)


def write_pretty(report: Report, out: Output) -> None:
    console = out.console(report)
    if out._used:  # a blank line between problems, whichever stream they went to
        console.print()
    out._used.add(out.stream(report))
    report.to_pretty(console)
    out.stream(report).flush()


def write_text(report: Report, out: Output) -> None:
    out.write(report, report.to_text(), blank_between=True)


def write_latex(report: Report, out: Output) -> None:
    out.write(report, report.to_text() if report.to_stderr else report.to_latex())


def write_numpy(report: Report, out: Output) -> None:
    out.write(report, report.to_text() if report.to_stderr else report.to_numpy())


def write_json(report: Report, out: Output) -> None:
    global to_json_line
    if to_json_line is None:   # imported once (an import statement per report costs)
        from .render.json import to_json_line

    out.stdout.write(to_json_line(with_error(report.to_json(), report), out.stdout) + "\n")
    out.stdout.flush()


to_json_line = None


def with_error(obj: dict, report: Report) -> dict:
    """Every ``ok: false`` object has an ``error`` object, the same for every
    report: a failed ``--check`` or ``--expect`` is ``{"type": "check"}`` (exit 1),
    one that could not be made ``{"type": "check_not_made"}`` (exit 3); the message
    is the verdicts' one-line summaries, the details are in ``check`` / ``expect``."""
    if obj.get("ok") is not False or "error" in obj:
        return obj
    failed = [v for v in verdict_lines(report)
              if "FAILED" in v or "differs" in v or v.startswith("check not made")]
    message = "; ".join(failed) or "a check or an expectation failed"
    obj = dict(obj)
    # a check that could not be made (values not finite: exit 3) is not a failure
    kind = "check" if report.status == FAILED else "check_not_made"
    obj["error"] = {"type": kind, "message": message, "line": report.line,
                    "column": None, "hint": None}
    return obj


def verdict_lines(report: Report) -> list[str]:
    """The one-line verdicts of --check / --expect a report carries."""
    lines = getattr(report, "verdicts", None)
    if callable(lines):
        return list(lines())
    return note_lines(getattr(report, "notes", []))


def note_lines(notes: list, render=None) -> list[str]:
    """A report's notes as lines: a note that writes expressions is a function of
    the format's renderer (``render``: None for text), so that each format spells
    them its own way."""
    return [n(render) if callable(n) else n for n in notes]


FORMATS: dict[str, Callable[[Report, Output], None]] = {
    "pretty": write_pretty,
    "text": write_text,
    "latex": write_latex,
    "json": write_json,
    "numpy": write_numpy,
}

