"""The commands: one function per CLI command, ``(problem, options) -> Report``.

The CLI looks commands up in ``COMMANDS``; a command never prints and never
exits, it returns a :class:`~matdiff_cli.report.Report` (or a list of them,
e.g. one per ``--wrt`` variable).  A command may raise a ``MatdiffError``
(an unknown variable, a derivative that cannot be written): the CLI reports
it with its own exit code.  Any other exception is reported as an internal
error of that problem alone.  ``shape`` is implemented here; the others are
imported when they run (derive.py, evaluation.py, codegen.py), so that start-up
stays light.
"""
from __future__ import annotations

from .records import dataclass
from .report import Report, ShapeReport

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Callable



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


Command = "Callable[[object, Options], Report | list[Report]]"


def shape_command(problem, options: Options) -> Report:
    """Parse, infer shapes, draw the expression tree."""
    return ShapeReport(problem)


def _lazy(module: str, attr: str, *args) -> Command:
    """A command whose code is imported when it runs (keeps start-up light)."""
    def command(problem, options: Options):
        from importlib import import_module

        fn = getattr(import_module(module, __package__), attr)
        return (fn(*args) if args else fn)(problem, options)

    command.__name__ = attr
    return command


COMMANDS: dict[str, Command] = {
    "shape": shape_command,
    "diff": _lazy(".derive", "derivative_command", "diff"),
    "grad": _lazy(".derive", "derivative_command", "grad"),
    "jac": _lazy(".derive", "derivative_command", "jac"),
    "hess": _lazy(".hessians", "hess_command"),
    "check": _lazy(".hessians", "check_command"),
    "eval": _lazy(".evaluation", "eval_command"),
    "solve": _lazy(".evaluation", "solve_command"),
    "code": _lazy(".codegen", "code_command"),
}
