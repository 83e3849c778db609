"""The ``matdiff`` command line: a thin click shell over the commands.

Every command reads one input document (EXPR, ``-`` for standard input, or
``-f FILE``; ``-d`` declarations go ahead of it), solves each problem in it
with ``COMMANDS[name]``, writes each report as soon as it is ready, and exits
with the worst status.  Bad input never shows a traceback.

Start-up is kept short (README "Performance"): a command line made only of a
command, an EXPR or -f FILE and the plain options is read by :func:`fast_args`
(``fastargs.py``) without click; anything else (help, --version's neighbours, --let, errors of
usage, ...) goes to the click group, which is built on first use.  The parser,
the engine, SymPy, NumPy and Rich are imported when a command needs them.
The standard streams and the faults of the environment (a closed output, a
broken pipe, Ctrl-C) are handled in ``streams.py``.
"""
from __future__ import annotations

import os
import sys

from . import __version__
from .errors import MatdiffError, worst
from .fastargs import _commands, _split_wrt, fast_args  # noqa: F401  (cli.fast_args)
from .streams import (  # noqa: F401  (the exit statuses are cli's too)
    EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_OUTPUT, GuardedStream, Interrupted, OutputFault,
    _ascii_spellings, _diagnose, _exit_now, _prepare_streams, _silence_stdout,
)

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


def _parse_lets(ctx, param, values):
    if not values:
        return ()
    import click

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
        if any(name == seen for seen, _ in lets):  # which one would win? neither: say so
            raise click.BadParameter(f"{name} is bound twice; give each name one value")
        lets.append((name, text.strip()))
    return tuple(lets)


def _option(name: str) -> click.Option:
    """A fresh click Option for one of the command-line options."""
    import click

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
            help="Seed for reproducible random checks (a whole number >= 0)."
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
    if name == "order":
        return click.Option(
            ["--order"], type=click.IntRange(min=1), default=1, metavar="K",
            help="The K-th differential d^K f[dX, ..., dX] (default 1).",
        )
    if name == "lang":
        return click.Option(
            ["--lang"], type=click.Choice(["numpy", "torch", "jax"]), default="numpy",
            show_default=True, help="Language of the generated code.",
        )
    if name == "hvp":
        return click.Option(
            ["--hvp"], is_flag=True,
            help="Also write hvp(..., dX), the Hessian applied to a direction (scalar EXPR).",
        )
    raise ValueError(name)  # pragma: no cover


def _input_params() -> list[click.Parameter]:
    import click

    from .report import FORMATS

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


def _make_command(command):
    import click

    name, summary, example = command.name, command.summary, command.example

    def callback(**kwargs):
        try:
            return run(name, **kwargs)
        except KeyboardInterrupt:  # before click turns it into Abort (and writes to stderr)
            raise Interrupted() from None

    return click.Command(
        name,
        params=_input_params() + [_option(o) for o in command.options],
        callback=callback,
        help=summary + "\n\nEXPR is an expression, or a document of declarations and "
        "expressions (one problem per expression); - reads standard input.",
        short_help=summary,
        epilog=f"\b\nExample:\n  {example}\n  matdiff {name} -f problems.txt --format json",
    )


# ---------------------------------------------------------------------------
# The group: usage errors are reported like every other error


def _group_class():
    import click

    class MatdiffGroup(click.Group):
        def list_commands(self, ctx):
            return list(_commands())  # the SPEC's order, not alphabetical

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
            except (click.exceptions.Abort, Interrupted):
                # Ctrl-C: one line saying so (a JSON object in json format), status 130
                if _wants_json(args):
                    _write_json_error("interrupted", "interrupted (Ctrl-C)", _command_of(args))
                else:
                    _diagnose("interrupted")
                status = EXIT_INTERRUPTED
            if not standalone_mode:
                return status
            sys.exit(status if isinstance(status, int) else 0)

    return MatdiffGroup


def _wants_json(args: list[str]) -> bool:
    for i, a in enumerate(args):
        if a == "--":
            break
        if a == "--format=json" or (a == "--format" and args[i + 1 : i + 2] == ["json"]):
            return True
    return False


def _usage_hint(e: click.ClickException, args: list[str]) -> str | None:
    """An unknown option that looks like an expression: say how to pass it."""
    import click

    name = getattr(e, "option_name", None)
    if not isinstance(e, click.NoSuchOption) or not name or name.startswith("--"):
        return None
    arg = next((a for a in args if a.startswith(name)), name)
    return f'an EXPR that starts with - goes after --: matdiff {_command_of(args) or "grad"} -- "{arg}"'


def _command_of(args: list[str]) -> str | None:
    commands = _commands()
    return next((a for a in args if a in commands), None)


def _write_json_error(kind: str, message: str, command: str | None, hint=None) -> None:
    from .render.json import to_json_line

    obj = {"ok": False, "input": None, "command": command,
           "error": {"type": kind, "message": message, "line": None, "column": None,
                     "hint": hint}}
    out = GuardedStream(sys.stdout, "standard output")
    out.write(to_json_line(obj, out) + "\n")
    out.flush()


def _build_cli():
    """The click group of every command (``matdiff --help``, usage errors, ...)."""
    import click

    @click.group(
        cls=_group_class(),
        context_settings={"help_option_names": ["-h", "--help"]},
        epilog=EPILOG,
    )
    @click.version_option(__version__, "-V", "--version", prog_name="matdiff")
    def cli():
        """matdiff: matrix calculus in differential form.

        Differentiate expressions such as tr(X^T A X B) or ||A x - b||^2 with
        respect to vectors and matrices, with shapes declared or inferred.
        """

    for command in _commands().values():
        cli.add_command(_make_command(command))
    return cli


def __getattr__(name: str):
    """``cli`` (the click group) is built when it is first asked for."""
    if name == "cli":
        globals()["cli"] = value = _build_cli()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _run_fast(name: str, kwargs: dict, args: list[str]) -> int:
    """run() as the click group runs it: Ctrl-C is status 130, said once."""
    try:
        return run(name, **kwargs)
    except KeyboardInterrupt:
        if _wants_json(args):
            _write_json_error("interrupted", "interrupted (Ctrl-C)", _command_of(args))
        else:
            _diagnose("interrupted")
        return EXIT_INTERRUPTED


def _version() -> int:
    """``matdiff --version``, written as click's version option writes it."""
    import errno

    try:
        sys.stdout.write(f"matdiff, version {__version__}\n")
        sys.stdout.flush()
    except OSError as e:
        if e.errno != errno.EPIPE:
            raise
        _silence_stdout()  # click's status for a closed pipe here: 1
        return 1
    return 0


# ---------------------------------------------------------------------------
# Running one command over one document


def run(name: str, expr, file, declare, fmt, **opts) -> int:
    """Read the input, solve each problem, write each report; return the status."""
    from .commands import COMMANDS, Options
    from .report import FORMATS, Output

    stdout = GuardedStream(sys.stdout, "standard output")
    if fmt is None:
        fmt = "pretty" if stdout.isatty() else "text"
    refuse_idle_options(name, opts)
    options = Options(command=name, fmt=fmt, **opts)
    write = FORMATS[fmt]
    out = Output(stdout, GuardedStream(sys.stderr, "standard error", quiet=True))
    import warnings

    with warnings.catch_warnings():
        # Python's warnings (NumPy's overflow in a finite difference, ...) are
        # not for users: what matters is in the report; and JSON mode writes
        # JSON lines on standard output and nothing else anywhere
        warnings.simplefilter("ignore")
        return _write_all(name, expr, file, declare, options, write, out, COMMANDS[name])


def _write_all(name, expr, file, declare, options, write, out, command) -> int:
    from .report import ErrorReport

    statuses = []
    for report in reports(name, expr, file, declare, options, command):
        try:
            write(report, out)
        except OutputFault:  # the output itself failed: stop (see main)
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


def refuse_idle_options(name: str, opts: dict) -> None:
    """No option is accepted and then ignored: one that would do nothing with
    the others given is a usage error (exit 2) that says what it needs."""
    if not opts.get("lets") and opts.get("seed") is None:
        return
    from click import UsageError  # only reached with --let or --seed (click read them)

    verifies = opts.get("check") or opts.get("expect") or name == "check"
    if opts.get("lets") and name == "diff" and not opts.get("check"):
        raise UsageError(
            "--let gives the data of --check; `matdiff diff` without --check uses no data "
            "(add --check, or use grad, jac or hess for values at the data)")
    if opts.get("seed") is not None and not verifies:
        raise UsageError(
            "--seed makes the random points of --check and --expect reproducible; "
            "give it with one of them")


def reports(name, expr, file, declare, options, command):
    """The reports of every problem (or error) of the document, in order."""
    from .report import ErrorReport, Report

    try:
        text = read_input(expr, file)
        items = read_items(text, declare)
        refuse_unused_lets(options, items)
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
    except Exception as exc:  # a bug while reading: report it, never a traceback
        if _is_click_exception(exc):  # a usage error: the group reports it
            raise
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
        # a command returns one report, or one per variable; never none at all
        results = [result] if isinstance(result, Report) else list(result)
        if not results:
            results = [ErrorReport(nothing_to_do(name, item, options), name, input=item.source)]
        yield from results


def _is_click_exception(exc: BaseException) -> bool:
    click = sys.modules.get("click")  # no click exception without click
    return click is not None and isinstance(exc, click.ClickException)


def refuse_unused_lets(options, items) -> None:
    """--let binds a variable of the input: a name that no problem uses (a typo,
    or data meant for another input) is a usage error, never silently ignored."""
    problems = [i for i in items if not isinstance(i, BaseException)]
    if not problems:  # every problem failed: its own error says more
        return
    used = set().union(*(p.symbols for p in problems))
    unused = [name for name, _ in options.lets if name not in used]
    if unused:
        names = ", ".join(unused)
        known = ", ".join(dict.fromkeys(n for p in problems for n in p.symbols))
        raise MatdiffError(
            "usage", f"--let {names}: no problem of the input uses "
                     f"{'it' if len(unused) == 1 else 'them'}",
            hint=f"the variables are {known}" if known else "the input has no variable")


def nothing_to_do(name: str, problem, options) -> MatdiffError:
    """The error of a problem that has no variable to work on (e.g. ``grad "2"``):
    bad input (exit 2), never a problem that silently has no output."""
    source = problem.source
    if name == "solve" and problem.symbols:
        message = "nothing to solve for: every variable is bound by --let"
        hint = "name the unknown with --wrt, or leave it out of --let"
    else:
        verb = {"solve": "solve for", "code": "generate code for"}.get(name, "differentiate")
        message = f"nothing to {verb}: the expression has no variable"
        hint = ("a constant's derivative is zero; matdiff differentiates expressions "
                "of variables, e.g. x^T x")
    return MatdiffError("usage", message, line=problem.line, column=1,
                        end_column=len(source) + 1, source_line=source, hint=hint,
                        statement=source)


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
    if (expr is None) == (file is None):
        import click
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
    """The console script ``matdiff``.

    Run as a program (``argv`` None), it ends without the interpreter's
    teardown once its output is flushed: freeing every expression node one by
    one is some 5% of a large document's time, and nothing of matdiff's runs at
    exit (no atexit handler, no finaliser, no thread).
    """
    try:
        _main(argv)
    except SystemExit as e:
        if argv is None and type(e.code) is int:
            _exit_now(e.code)
        raise


def _main(argv) -> None:
    import gc

    # expression nodes are interned and live as long as the process: the cyclic
    # collector would scan them again and again for nothing, so it runs rarely
    gc.set_threshold(100_000, 50, 100)
    if not _prepare_streams():
        _diagnose(OutputFault("standard output").describe())
        sys.exit(EXIT_OUTPUT)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args in (["--version"], ["-V"]):  # click's version option, without click
            sys.exit(_version())
        fast = fast_args(args)
        if fast is not None:
            status = _run_fast(*fast, args)
            sys.exit(status if isinstance(status, int) else 0)
        group = globals().get("cli") or __getattr__("cli")
        group.main(args, prog_name="matdiff")
    except OutputFault as fault:
        _silence_stdout()
        if fault.broken_pipe:
            sys.exit(EXIT_BROKEN_PIPE)
        _diagnose(fault.describe())
        sys.exit(EXIT_OUTPUT)
    except BrokenPipeError:  # e.g. click's own help text into a closed pipe
        _silence_stdout()
        sys.exit(EXIT_BROKEN_PIPE)
    except OSError as e:  # click's own output (help, usage) could not be written
        _silence_stdout()
        _diagnose(OutputFault("standard output", e).describe())
        sys.exit(EXIT_OUTPUT)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":  # pragma: no cover
    main()
