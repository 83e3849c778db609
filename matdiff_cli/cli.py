"""The ``matdiff`` command line: a thin click shell over the commands.

Every command reads one input document (EXPR, ``-`` for standard input, or
``-f FILE``; ``-d`` declarations go ahead of it), solves each problem in it
with ``COMMANDS[name]``, writes each report as soon as it is ready, and exits
with the worst status.  Bad input never shows a traceback.

Only click and the standard library are imported at start-up; the parser, the
engine, SymPy, NumPy and Rich are imported when a command needs them.
"""
from __future__ import annotations

import os
import sys

import click

from . import __version__
from .errors import MatdiffError, worst
from .report import FORMATS

FORMAT_HELP = "Output format [default: pretty on a terminal, text otherwise]."

EPILOG = """\b
Examples:
  matdiff grad "tr(X^T A X B)" --wrt X -d "A, B: n x n symmetric"
  matdiff hess "||A x - b||^2" --wrt x
  matdiff shape "x^T A x"
  echo "A x +" | matdiff shape -
  matdiff grad -f problems.txt --format json
  matdiff grad -- "-x^T x"          (an EXPR that starts with -)
"""


# ---------------------------------------------------------------------------
# Options, each defined once and attached where SPEC §3 lists it


def _split_wrt(ctx, param, values):
    out = []
    for v in values:
        out.extend(name.strip() for name in v.split(",") if name.strip())
    return tuple(out)


def _parse_lets(ctx, param, values):
    from .numeric import read_let_value  # finite numbers, a vector or a matrix (numeric.py)

    lets = []
    for item in values:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq or not name.isidentifier():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE (e.g. --let \"X=[[1,2],[3,4]]\")")
        try:
            read_let_value(text)
        except ValueError as e:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise click.BadParameter(f"the value of {name} cannot be used: {e}: {shown!r}") from None
        lets.append((name, text.strip()))
    return tuple(lets)


def _option(name: str) -> click.Option:
    """A fresh click Option for one of the command-line options."""
    if name == "wrt":
        return click.Option(
            ["--wrt", "wrt"], multiple=True, metavar="VAR", callback=_split_wrt,
            help="Variable to differentiate with respect to (repeatable; "
            "default: every variable, in order of appearance).",
        )
    if name == "steps":
        return click.Option(["--steps"], is_flag=True, help="Show the derivation rule by rule.")
    if name == "check":
        return click.Option(
            ["--check"], is_flag=True, help="Verify the result numerically (finite differences)."
        )
    if name == "expect":
        return click.Option(
            ["--expect"], metavar="EXPR",
            help="Compare the result with a claimed one; exit 1 when they differ.",
        )
    if name == "let":
        return click.Option(
            ["--let", "lets"], multiple=True, metavar="NAME=VALUE", callback=_parse_lets,
            help="Bind a variable to numbers (JSON-style nested lists); repeatable.",
        )
    if name == "seed":
        return click.Option(
            ["--seed"], type=click.IntRange(min=0), metavar="N",
            help="Seed for reproducible random checks."
        )
    if name == "layout":
        return click.Option(
            ["--layout"], type=click.Choice(["numerator", "denominator"]),
            default="numerator", show_default=True,
            help="Jacobian layout: rows are outputs (numerator) or inputs (denominator).",
        )
    if name == "vec":
        return click.Option(
            ["--vec"], is_flag=True, help="Also give the matrix of the operator on vec(X)."
        )
    if name == "lang":
        return click.Option(
            ["--lang"], type=click.Choice(["numpy", "torch", "jax"]), default="numpy",
            show_default=True, help="Language of the generated code.",
        )
    raise ValueError(name)  # pragma: no cover


def _input_params() -> list[click.Parameter]:
    return [
        click.Argument(["expr"], required=False, metavar="EXPR"),
        click.Option(
            ["-f", "--file", "file"], metavar="FILE",
            help="Read the problems from FILE (- for standard input).",
        ),
        click.Option(
            ["-d", "--declare", "declare"], multiple=True, metavar="DECL",
            help='A declaration read ahead of the input, e.g. "A: n x n symmetric" (repeatable).',
        ),
        click.Option(
            ["--format", "fmt"], type=click.Choice(list(FORMATS)), default=None, help=FORMAT_HELP
        ),
    ]


# name: (summary, options, example) in the order of SPEC §3
COMMAND_TABLE: dict[str, tuple[str, tuple[str, ...], str]] = {
    "grad": ("The gradient of a scalar EXPR.",
             ("wrt", "steps", "check", "expect", "let", "seed"),
             'matdiff grad "tr(X^T A X B)" --wrt X -d "A, B: n x n symmetric"'),
    "diff": ("The differential df = L[dX].",
             ("wrt", "steps", "check", "expect", "let", "seed"),
             'matdiff diff "logdet(X^T A X)" --wrt X --steps'),
    "jac": ("The Jacobian, or the linear operator dF = L[dX].",
            ("wrt", "steps", "check", "expect", "let", "seed", "layout", "vec"),
            'matdiff jac "sigmoid(W x - b)" --wrt x'),
    "hess": ("The Hessian matrix, or the Hessian operator H[dX].",
             ("wrt", "steps", "check", "expect", "let", "seed", "vec"),
             'matdiff hess "||A x - b||^2" --wrt x'),
    "check": ("Verify the derivatives numerically (finite differences).",
              ("wrt", "expect", "let", "seed"),
              'matdiff check "tr(X^T A X B)" --wrt X --expect "A X B + A^T X B^T"'),
    "solve": ("The stationary point of a quadratic objective.",
              ("wrt", "steps", "check", "let", "seed"),
              'matdiff solve "||X w - y||^2" --wrt w'),
    "shape": ("Parse, infer the shapes and draw the expression tree.", (),
              'matdiff shape "x^T A x" -d "A: n x n spd"'),
    "eval": ("The numeric value of EXPR at the --let bindings.", ("let", "seed", "expect"),
             'matdiff eval "x^T A x" --let "x=[[1],[2]]" --let "A=[[2,0],[0,3]]"'),
    "code": ("A generated function for the value and the derivative.", ("wrt", "lang"),
             'matdiff code "||A x - b||^2" --wrt x --lang numpy'),
}


def _make_command(name: str, summary: str, options: tuple[str, ...], example: str):
    def callback(**kwargs):
        return run(name, **kwargs)

    return click.Command(
        name,
        params=_input_params() + [_option(o) for o in options],
        callback=callback,
        help=summary + "\n\nEXPR is an expression, or a document of declarations and "
        "expressions (one problem per expression); - reads standard input.",
        short_help=summary,
        epilog=f"\b\nExample:\n  {example}\n  matdiff {name} -f problems.txt --format json",
    )


# ---------------------------------------------------------------------------
# The group: usage errors are reported like every other error


class MatdiffGroup(click.Group):
    def list_commands(self, ctx):
        return list(COMMAND_TABLE)  # the SPEC's order, not alphabetical

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run, and exit with the status (usage errors: 2, in json format too)."""
        args = list(sys.argv[1:] if args is None else args)
        try:
            status = super().main(
                args, prog_name or "matdiff", complete_var, standalone_mode=False, **extra
            )
        except click.ClickException as e:
            hint = _usage_hint(e, args)
            if _wants_json(args):
                _write_json_error("usage", e.format_message(), _command_of(args), hint)
            else:
                e.show()
                if hint:
                    click.echo(f"hint: {hint}", err=True)
            status = e.exit_code
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            status = 130
        if not standalone_mode:
            return status
        sys.exit(status if isinstance(status, int) else 0)


def _wants_json(args: list[str]) -> bool:
    for i, a in enumerate(args):
        if a == "--":
            break
        if a == "--format=json" or (a == "--format" and args[i + 1 : i + 2] == ["json"]):
            return True
    return False


def _usage_hint(e: click.ClickException, args: list[str]) -> str | None:
    """An unknown option that looks like an expression: say how to pass it."""
    name = getattr(e, "option_name", None)
    if not isinstance(e, click.NoSuchOption) or not name or name.startswith("--"):
        return None
    arg = next((a for a in args if a.startswith(name)), name)
    return f'an EXPR that starts with - goes after --: matdiff {_command_of(args) or "grad"} -- "{arg}"'


def _command_of(args: list[str]) -> str | None:
    return next((a for a in args if a in COMMAND_TABLE), None)


def _write_json_error(kind: str, message: str, command: str | None, hint=None) -> None:
    from .render.json import to_json_line

    obj = {"ok": False, "input": None, "command": command,
           "error": {"type": kind, "message": message, "line": None, "column": None,
                     "hint": hint}}
    sys.stdout.write(to_json_line(obj, sys.stdout) + "\n")
    sys.stdout.flush()


@click.group(
    cls=MatdiffGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EPILOG,
)
@click.version_option(__version__, "-V", "--version", prog_name="matdiff")
def cli():
    """matdiff: matrix calculus in differential form.

    Differentiate expressions such as tr(X^T A X B) or ||A x - b||^2 with
    respect to vectors and matrices, with shapes declared or inferred.
    """


for _name, _entry in COMMAND_TABLE.items():
    cli.add_command(_make_command(_name, *_entry))
del _name, _entry


# ---------------------------------------------------------------------------
# Running one command over one document


def run(name: str, expr, file, declare, fmt, **opts) -> int:
    """Read the input, solve each problem, write each report; return the status."""
    from .commands import COMMANDS, Options
    from .errors import MatdiffError
    from .report import ErrorReport, Output

    stdout = sys.stdout
    if fmt is None:
        fmt = "pretty" if stdout.isatty() else "text"
    options = Options(command=name, fmt=fmt, **opts)
    write = FORMATS[fmt]
    out = Output(stdout, sys.stderr)

    statuses = []
    for report in reports(name, expr, file, declare, options, COMMANDS[name]):
        try:
            write(report, out)
        except BrokenPipeError:  # the reader has gone: stop (see main)
            raise
        except RecursionError:
            report = _too_deep(name, report.input, report.line)
            write(report, out)
        except MatdiffError as exc:  # a format that cannot be written for this result
            if exc.line is None and report.input:
                exc.line, exc.column, exc.end_column = report.line, 1, len(report.input) + 1
                exc.source_line = exc.statement = report.input
            report = ErrorReport(exc, name, input=report.input)
            write(report, out)
        except Exception as exc:  # a bug in a renderer: say so, keep going
            report = _internal(exc, name, report.input, report.line)
            write(report, out)
        statuses.append(report.status)
    return worst(statuses)  # the one place the exit status is decided


def reports(name, expr, file, declare, options, command):
    """The reports of every problem (or error) of the document, in order."""
    from .report import ErrorReport, Report

    try:
        text = read_input(expr, file)
        items = read_items(text, declare)
    except MatdiffError as e:  # the input as a whole: unreadable, no problem, bad -d
        yield ErrorReport(e, name, input=e.statement or _short(expr))
        return
    except RecursionError:
        yield ErrorReport(
            input_error("the input is nested too deeply to read",
                        "split the expression with definitions (h = ...) on separate lines"),
            name, input=_short(expr),
        )
        return
    except click.ClickException:
        raise
    except Exception as exc:  # a bug while reading: report it, never a traceback
        yield _internal(exc, name, _short(expr), None)
        return

    for item in items:
        if isinstance(item, BaseException):
            yield ErrorReport(item, name)
            continue
        line = getattr(item, "line", None)
        try:
            result = command(item, options)
        except MatdiffError as e:  # e.g. an unknown --wrt, a derivative that cannot be written
            result = ErrorReport(e, name, input=item.source)
        except RecursionError:
            result = _too_deep(name, item.source, line)
        except Exception as exc:
            result = _internal(exc, name, item.source, line)
        # a command returns one report, or one per variable
        yield from [result] if isinstance(result, Report) else result


def _internal(exc, name, source, line):
    from .report import InternalErrorReport

    return InternalErrorReport(exc, name, input=source, line=line)


def _too_deep(name, source, line=None):
    from .report import TooDeepReport

    return TooDeepReport(name, input=source, line=line)


def _short(expr: str | None, limit: int = 200) -> str | None:
    if expr is None or expr == "-":
        return None
    return expr if len(expr) <= limit else expr[:limit] + "..."


def read_items(text: str, declare: tuple[str, ...]) -> list:
    """Problems and errors of the document, after checking the -d declarations."""
    from .document import read_document

    for decl in declare:
        for item in read_document("", [decl]):  # declarations only: a definition is bad input too
            if isinstance(item, MatdiffError):  # the language's own error, about -d
                raise MatdiffError(
                    item.kind, f"in -d {decl!r}: {item.message}", column=item.column,
                    end_column=item.end_column, source_line=decl, hint=item.hint,
                    statement=decl,
                )
    items = read_document(text, list(declare))
    if not items:
        raise input_error(
            "the input has no expression to work on",
            "give an expression, e.g. matdiff shape \"tr(X^T A X)\"; declarations "
            "and comments alone set no problem",
        )
    return items


def input_error(message: str, hint: str, line=None, column=None, statement=None):
    """An error about the input as a whole (kind "input": exit 2)."""
    return MatdiffError("input", message, line=line, column=column, hint=hint,
                        statement=statement)


def read_input(expr: str | None, file: str | None) -> str:
    """The input document as text: EXPR, standard input (-) or FILE."""
    if expr is not None and file is not None:
        raise click.UsageError("give either EXPR or -f FILE, not both")
    if expr is None and file is None:
        raise click.UsageError("missing EXPR (an expression, - for standard input, or -f FILE)")
    if file is not None and file != "-":
        try:
            with open(file, "rb") as fh:
                data = fh.read()
        except OSError as e:
            reason = e.strerror or type(e).__name__
            raise input_error(
                f"cannot read {file}: {reason}", "check the path; -f - reads standard input"
            ) from None
        return decode(data, file)
    if file == "-" or expr == "-":
        stdin = getattr(sys.stdin, "buffer", None)  # sys.stdin is None when fd 0 is closed
        return decode(stdin.read() if stdin is not None else b"", "standard input")
    try:
        expr.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in argv arrive as surrogates
        return decode(os.fsencode(expr), "EXPR")
    return _check_text(expr, "EXPR")


def decode(data: bytes, origin: str) -> str:
    """Strict UTF-8 (a leading BOM is dropped); the offset of a bad byte is given."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # a byte that is not UTF-8 becomes a lone surrogate: the statement holding
    # it is an error (parser.py), the other problems are still solved
    return _check_text(data.decode("utf-8", errors="surrogateescape"), origin)


def _check_text(text: str, origin: str) -> str:
    # a NUL byte makes its statement an error (parser.py); \r and \r\n are line breaks
    return text.replace("\r\n", "\n")


def main(argv=None) -> None:
    """The console script ``matdiff``."""
    import gc

    # expression nodes are interned and live as long as the process: the cyclic
    # collector would scan them again and again for nothing, so it runs rarely
    gc.set_threshold(100_000, 50, 100)
    try:
        cli.main(argv, prog_name="matdiff")
    except BrokenPipeError:  # e.g. matdiff ... | head -1
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
