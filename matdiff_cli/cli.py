"""The ``matdiff`` command line: a thin click shell over the commands.

Every command reads one input document (EXPR, ``-`` for standard input, or
``-f FILE``; ``-d`` declarations go ahead of it), solves each problem in it
with ``COMMANDS[name]``, writes each report as soon as it is ready, and exits
with the worst status (``runner.py``).  Bad input never shows a traceback.

Start-up is kept short (README "Performance"): a command line made only of a
command, an EXPR or -f FILE and the plain options is read by :func:`fast_args`
(``fastargs.py``) without click; anything else (help, --version's neighbours, --let, errors of
usage, ...) goes to the click group, which is built on first use.  The parser,
the engine, SymPy, NumPy and Rich are imported when a command needs them.
The standard streams and the faults of the environment (a closed output, a
broken pipe, Ctrl-C) are handled in ``streams.py``.
"""
from __future__ import annotations

import sys

from . import __version__
from .fastargs import _commands, _split_wrt, fast_args
from .streams import (
    EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_OUTPUT, GuardedStream, Interrupted, OutputFault,
    _diagnose, _exit_now, _prepare_streams, _silence_stdout,
)
from .runner import run

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

    from .numeric import read_let_value  # finite numbers, a vector or a matrix (numeric/guards.py)

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
    # (every million net allocations: 1.7 % fewer instructions than every 100,000
    # on a 1,000-problem document, and the same peak memory on 10,000 problems,
    # solved or failed)
    gc.set_threshold(1_000_000, 50, 100)
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
