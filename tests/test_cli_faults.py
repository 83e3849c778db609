"""Faults of the environment are named once, with a documented status (issue 8 §3, §4).

Two layers:

* a few runs of the real interpreter (``python -m matdiff_cli``) for what only a
  fresh process shows: standard output closed at start-up, ``/dev/full`` (no
  second message when the interpreter exits), a reader that has gone, closed
  standard error, an ASCII-only stream, a non-UTF-8 argument, Ctrl-C;
* a generated test over every command x every fault, each case in a process
  forked from this (warm) one with its descriptors arranged as the fault
  wants, so that the whole matrix stays cheap.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from matdiff_cli.cli import EXIT_BROKEN_PIPE, EXIT_OUTPUT, main
from matdiff_cli.commands import COMMANDS

ROOT = Path(__file__).resolve().parent.parent

# a working problem for every command
GOOD = {
    "grad": ["x^T A x"], "diff": ["x^T A x"], "jac": ["A x"], "hess": ["x^T A x"],
    "check": ["x^T x", "--wrt", "x", "--seed", "1"], "solve": ["||A x - b||^2", "--wrt", "x"],
    "shape": ["x^T A x"], "eval": ["x^T x", "--let", "x=[1,2]"],
    "code": ["||A x - b||^2", "--wrt", "x"],
}
BAD = "x^T x +"  # bad input for every command


def test_every_command_has_a_case():
    assert set(GOOD) == set(COMMANDS)


def env(**extra):
    e = dict(os.environ)
    e.pop("COLUMNS", None)
    e.update({"PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8", **extra})
    return e


def matdiff(*args, **kw):
    return subprocess.run([sys.executable, "-m", "matdiff_cli", *args], env=kw.pop("env", env()),
                          capture_output=kw.pop("capture_output", True), **kw)


# ---------------------------------------------------------------------------
# The real interpreter


def test_closed_stdout_is_named_once():
    r = subprocess.run([sys.executable, "-m", "matdiff_cli", "grad", "x^T x", "--wrt", "x"],
                       env=env(), stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1))
    assert r.returncode == EXIT_OUTPUT
    assert r.stderr.decode().splitlines() == [
        "matdiff: cannot write the results: standard output is closed"]


@pytest.mark.parametrize("fmt", ["text"])
def test_full_disk_is_named_once(fmt, tmp_path):
    doc = tmp_path / "many.txt"
    doc.write_text("x^T x\n" * 300)
    with open("/dev/full", "w") as full:
        r = matdiff("grad", "-f", str(doc), "--format", fmt, stdout=full,
                    stderr=subprocess.PIPE, capture_output=False)
    lines = r.stderr.decode().splitlines()
    assert r.returncode == EXIT_OUTPUT
    assert lines == ["matdiff: cannot write the results to standard output: "
                     "No space left on device"], lines


def test_broken_pipe_before_the_first_line():
    r, w = os.pipe()
    os.close(r)  # the reader is gone before anything is written
    p = subprocess.run([sys.executable, "-m", "matdiff_cli", "grad", "x^T A x"], env=env(),
                       stdout=w, stderr=subprocess.PIPE)
    os.close(w)
    assert p.returncode == EXIT_BROKEN_PIPE and p.stderr == b""


@pytest.mark.parametrize("fmt", ["pretty"])
def test_closed_stderr_keeps_the_status_and_stdout_clean(fmt):
    r = subprocess.run([sys.executable, "-m", "matdiff_cli", "grad", BAD, "--format", fmt],
                       env=env(), stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2))
    assert r.returncode == 2 and r.stdout == b""


def test_ascii_stream_gets_ascii_spellings():
    r = matdiff("shape", "α x", env=env(PYTHONIOENCODING="ascii"))
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode("ascii")
    assert "alpha x" in out and r.stderr == b""


def test_json_is_valid_utf8_whatever_the_argument_holds():
    r = subprocess.run([sys.executable, "-m", "matdiff_cli", "shape", b"x\xff", "--format",
                        "json"], env=env(), capture_output=True)
    assert r.returncode == 2 and r.stderr == b""
    (obj,) = [json.loads(line) for line in r.stdout.decode("utf-8").splitlines()]
    assert obj["ok"] is False and "\ufffd" in obj["input"]


def test_json_writes_nothing_on_stderr_for_overflowing_data():
    r = matdiff("grad", "sum(exp(x))", "--wrt", "x", "--check", "--let", "x=[1000,1]",
                "--format", "json")
    assert r.stderr == b""
    assert all(json.loads(line) for line in r.stdout.decode().splitlines())


@pytest.mark.parametrize("fmt", ["json"])
def test_ctrl_c_is_named_once(fmt, tmp_path):
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen([sys.executable, "-m", "matdiff_cli", "grad", "-", "--format", fmt],
                             env=env(), stdin=subprocess.PIPE, stdout=o, stderr=e)
        p.stdin.write(b"x^T A x + sum(sigmoid(W x))\n" * 1500)
        p.stdin.close()
        # Ctrl-C once the first result is out (matdiff is running, its handler set)
        while p.poll() is None and out.stat().st_size == 0:
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        p.wait()
    if p.returncode == 0:
        pytest.skip("finished before the signal")
    assert p.returncode == 130
    if fmt == "json":
        assert err.read_bytes() == b""
        objs = [json.loads(line) for line in out.read_text().splitlines()]
        assert objs[-1]["error"]["type"] == "interrupted"
    else:
        assert err.read_text().splitlines()[-1] == "matdiff: interrupted"


# ---------------------------------------------------------------------------
# Every command x every fault, forked from this process


def forked(argv, *, stdout="pipe", stderr="file", encoding="utf-8", environ=None):
    """Run ``main(argv)`` in a child process with its descriptors arranged:
    stdout "pipe" (read here), "closed", "full" or "broken"; stderr "file" or "closed".
    Returns (status, stdout bytes, stderr bytes)."""
    err_file = tempfile.TemporaryFile()
    out_file = tempfile.TemporaryFile()
    broken_r, broken_w = os.pipe()
    os.close(broken_r)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 99
        try:
            os.environ.pop("COLUMNS", None)
            os.environ.update(environ or {})
            target = {"pipe": out_file.fileno(), "broken": broken_w}.get(stdout)
            if stdout == "full":
                target = os.open("/dev/full", os.O_WRONLY)
            if target is None:
                os.close(1)
            else:
                os.dup2(target, 1)
            if stderr == "closed":
                os.close(2)
            else:
                os.dup2(err_file.fileno(), 2)
            sys.stdout = (open(1, "w", encoding=encoding, closefd=False)
                          if stdout != "closed" else None)
            sys.stderr = (open(2, "w", encoding=encoding, closefd=False)
                          if stderr != "closed" else None)
            try:
                main(argv)
                status = 0
            except SystemExit as e:
                status = e.code if isinstance(e.code, int) else 1
        except BaseException:  # a traceback in the child: visible in its stderr
            import traceback

            try:
                os.write(err_file.fileno(), traceback.format_exc().encode())
            except OSError:
                pass
            status = 98
        finally:
            os._exit(status)
    os.close(broken_w)
    _, wait = os.waitpid(pid, 0)
    status = os.waitstatus_to_exitcode(wait)
    out_file.seek(0)
    err_file.seek(0)
    return status, out_file.read(), err_file.read()


FAULTS = ["closed", "full", "broken", "stderr-closed", "ascii", "columns0"]


@pytest.fixture(scope="module")
def warm():
    """Import what the commands use once, in this process, so that each forked
    case is cheap."""
    from click.testing import CliRunner

    from matdiff_cli.cli import cli

    for name, args in GOOD.items():
        for fmt in ("text", "pretty", "json"):
            CliRunner().invoke(cli, [name, *args, "--format", fmt])


@pytest.mark.skipif(not hasattr(os, "fork") or not os.path.exists("/dev/full"),
                    reason="needs fork and /dev/full")
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("command", list(GOOD))
def test_every_command_under_every_fault(command, fault, warm):
    good = [command, *GOOD[command]]
    if fault == "closed":
        status, out, err = forked(good, stdout="closed")
        assert status == EXIT_OUTPUT
        assert err.decode().splitlines() == [
            "matdiff: cannot write the results: standard output is closed"]
    elif fault == "full":
        status, out, err = forked(good, stdout="full")
        assert status == EXIT_OUTPUT
        assert len(err.decode().splitlines()) == 1 and "No space left" in err.decode()
    elif fault == "broken":
        status, out, err = forked(good, stdout="broken")
        assert status == EXIT_BROKEN_PIPE and err == b""
    elif fault == "stderr-closed":
        for fmt in ("pretty", "text"):
            status, out, _ = forked([command, BAD, "--format", fmt], stderr="closed")
            assert status == 2 and out == b"", (fmt, out)
    elif fault == "ascii":
        if command == "eval":
            argv = [command, "α x^T x", "--let", "x=[1,2]", "--let", "α=2"]
        else:
            argv = [command, *GOOD[command]]
            argv[1] = "α (" + argv[1] + ")"
        for fmt in ("text", "pretty"):
            status, out, err = forked(argv + ["--format", fmt], encoding="ascii")
            assert status in (0, 1), (fmt, out, err)
            out.decode("ascii")
            assert b"Traceback" not in err and b"internal error" not in err + out
    elif fault == "columns0":
        status, out, err = forked(good + ["--format", "pretty"], environ={"COLUMNS": "0"})
        assert status in (0, 1) and out.strip(), err


@pytest.mark.parametrize("command", list(GOOD))
def test_json_output_is_json_lines_only(command, warm):
    status, out, err = forked([command, *GOOD[command], "--format", "json"])
    assert err == b""
    objs = [json.loads(line) for line in out.decode("utf-8").splitlines()]
    assert objs and all(o["ok"] or "error" in o for o in objs)


# ---------------------------------------------------------------------------
# Issue 8 §4: no problem is lost


@pytest.mark.parametrize("command", ["grad", "diff", "jac", "hess", "check", "solve"])
def test_a_problem_without_a_variable_gets_its_object(command, warm):
    extra = ["--seed", "1"] if command == "check" else []
    from click.testing import CliRunner

    from matdiff_cli.cli import cli

    r = CliRunner().invoke(cli, [command, "-", "--format", "json", *extra],
                           input="x^T x\n2\nsum(y)\n")
    objs = [json.loads(line) for line in r.stdout.splitlines()]
    inputs = [o["input"] for o in objs]
    assert "2" in inputs, (command, inputs)
    (const,) = [o for o in objs if o["input"] == "2"]
    assert const["ok"] is False and const["error"]["type"] == "usage"
    assert "nothing to" in const["error"]["message"]
    # every problem has its objects (check: gradient and Hessian); the worst status
    # wins (solve: sum(y) has no minimum, 3)
    assert set(inputs) == {"x^T x", "2", "sum(y)"} and r.exit_code >= 2
    single = CliRunner().invoke(cli, [command, "2"])
    assert single.exit_code == 2 and "nothing to" in single.stderr


def test_every_pretty_character_has_an_ascii_spelling():
    """Random strings over every character the pretty output uses (the notation's
    marks and Greek letters, Rich's tree guides, others) always encode to ASCII."""
    import codecs
    import random

    from matdiff_cli.streams import _ascii_spellings
    from matdiff_cli.render.pretty import GREEK

    try:
        codecs.lookup_error("matdiff-ascii")
    except LookupError:
        codecs.register_error("matdiff-ascii", _ascii_spellings)
    alphabet = (list("⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀ⊙⊘⊗‖×𝟏…σ├└│─∇") + list(GREEK.values())
                + list("中😀é") + list("xA (),^-_"))
    rng = random.Random(0)
    for _ in range(2000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        s.encode("ascii", "matdiff-ascii")  # never raises
    assert "C⁻ᵀ A⁻¹ ‖x‖² ∇²".encode("ascii", "matdiff-ascii") == b"C^-T A^-1 ||x||^2 nabla^2"
