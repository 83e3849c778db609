"""The command line runs with the cyclic garbage collector switched off
(``cli._main``): the engine keeps what it builds (interned nodes, memo tables)
and makes no reference cycles, so the collector would only rescan live objects.

These tests keep that true: every command, in every format, with and without
--check / --steps, and every kind of error (an error report drops the
traceback whose frames would hold it again) leaves no unreachable cycle behind.
"""
from __future__ import annotations

import contextlib
import gc
import io

from matdiff_cli import cli

DECLS = ["-d", "A: n x n", "-d", "x: n", "-d", "S: n x n spd", "-d", "y: n"]
PROBLEM = "tr(A S^-1) + x^T A x + sum(tanh(A x)) + logdet(S) + lambda_max(A + A^T)"


def _cycles(*commands) -> tuple:
    """(unreachable objects, their types) after running each command line once
    in this process with the collector off, as the program runs."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.garbage.clear()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for args in commands:
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(SystemExit):
                cli.main(args)
        found = gc.collect()
        kinds = sorted({type(o).__name__ for o in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
    return found, kinds


def _assert_no_cycle(commands) -> None:
    _cycles(*commands)  # the first run imports what the commands need: not counted
    found, kinds = _cycles(*commands)
    if found:   # name the command
        culprits = [" ".join(args) for args in commands if _cycles(args)[0]]
        raise AssertionError(f"{found} unreachable objects ({kinds}) left by {culprits}")


COMMANDS = [
    [cmd, "--format", fmt, *extra, *DECLS, PROBLEM]
    for cmd in ("grad", "hess", "diff", "jac")
    for fmt in ("text", "json", "latex", "pretty")
    for extra in ([], ["--check", "--steps"])
    if not extra or fmt == "text"   # the checks cost: once per command
] + [
    ["code", *DECLS, PROBLEM],
    ["code", "--hvp", *DECLS, PROBLEM],
    ["code", "--target", "jax", *DECLS, "x^T A x"],
    ["check", *DECLS, "x^T A x", "--expect", "A x + A^T x"],
    ["solve", *DECLS, "x^T S x - 2 y^T x"],
    ["eval", "-d", "x: 3", "--let", "x=[1,2,3]", "x^T x"],
    ["shape", *DECLS, "A x"],
    ["grad", "--vec", *DECLS, "A x .* x"],
]


def test_no_command_leaves_a_cycle():
    _assert_no_cycle(COMMANDS)


ERRORS = [
    "x^T y +",                     # syntax
    "x^T z",                       # unknown name
    "A x + x^T",                   # shapes
    "sum(eigvec_max(A))",          # not in matdiff yet (exit 3)
    "1e999999999 x^T x",           # a number beyond a double
    "(" * 3000 + "x" + ")" * 3000,  # too deep
]


def test_no_error_leaves_a_cycle(tmp_path):
    doc = tmp_path / "bad.md"
    doc.write_text("".join(f"{d}\n" for d in DECLS[1::2]) + "".join(e + "\n" for e in ERRORS))
    _assert_no_cycle([["grad", "-f", str(doc)], ["hess", "--format", "json", "-f", str(doc)],
                      ["grad", "--wrt", "q", *DECLS, "x^T x"]])


def test_an_internal_error_leaves_no_cycle(monkeypatch):
    from matdiff_cli import derivatives

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    args = ["grad", *DECLS, "x^T A x"]
    _cycles(args)
    monkeypatch.setattr(derivatives, "derive", bug)
    found, kinds = _cycles(args)
    assert found == 0, kinds
