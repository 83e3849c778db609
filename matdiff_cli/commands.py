"""The commands: one function per CLI command, ``(problem, options) -> Report``.

``COMMANDS`` is the one registry of the commands: each entry holds the
command's summary, options and example (the CLI's help and option parsing read
them) and its code.  A command never prints and never
exits, it returns a :class:`~matdiff_cli.report.Report` (or a list of them,
e.g. one per ``--wrt`` variable).  A command may raise a ``MatdiffError``
(an unknown variable, a derivative that cannot be written): the CLI reports
it with its own exit code.  Any other exception is reported as an internal
error of that problem alone.  ``shape`` is implemented here; the others are
imported when they run (derivatives.py, evaluation.py, codegen.py), so that start-up
stays light.
"""
from __future__ import annotations

from .records import dataclass
from .report import Report, ShapeReport


@dataclass(frozen=True)
class Options:
    """Every command-line option, collected once (black's ``Mode`` habit).

    ``wrt`` is empty when no ``--wrt`` was given: every variable, in order of
    first appearance.  ``lets`` holds ``(name, value_text)`` pairs whose text
    is valid JSON (checked by the CLI); ``bindings()`` parses them.
    """

    command: str = "shape"
    wrt: tuple[str, ...] = ()
    fmt: str = "text"
    steps: bool = False
    check: bool = False
    expect: str | None = None
    lets: tuple[tuple[str, str], ...] = ()
    seed: int | None = None
    layout: str = "numerator"
    vec: bool = False
    order: int = 1
    lang: str = "numpy"
    hvp: bool = False

    def bindings(self) -> dict[str, object]:
        """``--let`` values as numbers and nested lists, by name."""
        import json

        return {name: json.loads(text) for name, text in self.lets}


def shape_command(problem, options: Options) -> Report:
    """Parse, infer shapes, draw the expression tree."""
    return ShapeReport(problem)


@dataclass(frozen=True)
class Command:
    """One command of the command line, declared once: the CLI builds its options,
    help and fast reading from it, and calls it as ``command(problem, options)``.

    ``options``: the command-line options it accepts (names of ``cli._option``);
    the code is ``attr`` of ``module`` (called with ``args`` first when given),
    imported when the command runs so that start-up stays light, or ``run``.
    """

    name: str
    summary: str
    options: tuple
    example: str
    module: str = ""
    attr: str = ""
    args: tuple = ()
    run: object = None

    def __call__(self, problem, options: Options):
        fn = self.run or _RESOLVED.get(self.name)
        if fn is None:   # imported on first use, once (not once per problem)
            fn = _RESOLVED[self.name] = self._resolve()
        return fn(problem, options)

    def _resolve(self):
        import sys

        module = self.module  # importlib is not imported for it (start-up)
        if module.startswith("."):
            module = __package__ + module
        __import__(module)
        fn = getattr(sys.modules[module], self.attr)
        return fn(*self.args) if self.args else fn


_RESOLVED: dict = {}   # command name -> its function, once imported


_CHECKED = ("wrt", "steps", "check", "expect", "let", "seed")

# in the order of SPEC §3 (``matdiff --help`` lists them so)
COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("grad", "The gradient of a scalar EXPR.", _CHECKED,
            'matdiff grad "tr(X^T A X B)" --wrt X -d "A, B: n x n symmetric"',
            ".derivatives", "derivative_command", ("grad",)),
    Command("diff", "The differential df = L[dX] (with --order K, the K-th differential).",
            _CHECKED + ("order",), 'matdiff diff "logdet(X^T A X)" --wrt X --steps',
            ".derivatives", "derivative_command", ("diff",)),
    Command("jac", "The Jacobian, or the linear operator dF = L[dX].",
            _CHECKED + ("layout", "vec"), 'matdiff jac "sigmoid(W x - b)" --wrt x',
            ".derivatives", "derivative_command", ("jac",)),
    Command("hess", "The Hessian matrix, or the Hessian operator H[dX].", _CHECKED + ("vec",),
            'matdiff hess "||A x - b||^2" --wrt x', ".hessians", "hess_command"),
    Command("check", "Verify the derivatives numerically (finite differences).",
            ("wrt", "expect", "let", "seed"),
            'matdiff check "tr(X^T A X B)" --wrt X --expect "A X B + A^T X B^T"',
            ".hessians", "check_command"),
    Command("solve", "The stationary point of a quadratic objective.",
            ("wrt", "steps", "check", "let", "seed"), 'matdiff solve "||X w - y||^2" --wrt w',
            ".evaluation", "solve_command"),
    Command("shape", "Parse, infer the shapes and draw the expression tree.", (),
            'matdiff shape "x^T A x" -d "A: n x n spd"', run=shape_command),
    Command("eval", "The numeric value of EXPR at the --let bindings.", ("let", "expect"),
            'matdiff eval "x^T A x" --let "x=[[1],[2]]" --let "A=[[2,0],[0,3]]"',
            ".evaluation", "eval_command"),
    Command("code", "A generated function for the value and the derivative.",
            ("wrt", "lang", "hvp"),
            'matdiff code "||A x - b||^2" --wrt x --lang numpy', ".codegen", "code_command"),
)}
