"""Running one command over one document: read the input (EXPR, ``-`` for
standard input, or ``-f FILE``, with the ``-d`` declarations ahead of it), solve
each problem with ``COMMANDS[name]``, write each report as soon as it is ready,
and return the worst status.  Bad input never shows a traceback.  The command
line (``cli.py``: click, or ``fastargs.py`` for plain command lines) calls
:func:`run`.
"""
from __future__ import annotations

import os
import sys

from .errors import MatdiffError, worst
from .streams import GuardedStream, OutputFault


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
