"""The command line: input sources, formats, exit statuses, bad input.

Most tests run in-process with click's CliRunner; a few run the real thing
(``python -m matdiff_cli``) in a subprocess.  Golden cases are data files in
``tests/data/cli/`` (see ``test_golden``); set MATDIFF_REGOLD=1 to rewrite
their expected output after a deliberate change.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from budget import assert_linear
from matdiff_cli.cli import cli
from matdiff_cli.commands import COMMANDS, Options

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "cli"


def run(*args, input=None):
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def assert_no_traceback(result):
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream


# ---------------------------------------------------------------------------
# Where the input comes from


def test_expr_argument():
    r = run("shape", "tr(X^T A X B)", "--format", "json")
    assert r.exit_code == 0, r.output
    (obj,) = json_lines(r.stdout)
    assert obj["ok"] is True
    assert obj["command"] == "shape"
    assert obj["input"] == "tr(X^T A X B)"
    assert obj["result"]["shape"] == [1, 1]
    assert set(obj["shapes"]) == {"X", "A", "B"}


def test_standard_input():
    r = run("shape", "-", "--format", "json", input="x^T A x\n")
    assert r.exit_code == 0, r.output
    (obj,) = json_lines(r.stdout)
    assert obj["ok"] and obj["input"] == "x^T A x"
    assert obj["shapes"]["x"][1] == 1  # a column vector is [n, 1]


def test_file(tmp_path):
    f = tmp_path / "problems.txt"
    f.write_text("X: n x m; A: n x n; B: m x m\ntr(X^T A X B)\ntr(X^T X)\n", encoding="utf-8")
    r = run("shape", "-f", str(f), "--format", "json")
    assert r.exit_code == 0, r.output
    objs = json_lines(r.stdout)
    assert [o["input"] for o in objs] == ["tr(X^T A X B)", "tr(X^T X)"]
    assert objs[0]["shapes"]["X"] == ["n", "m"]
    assert "X" not in objs[0]["inferred"]


def test_file_dash_is_standard_input():
    r = run("shape", "-f", "-", "--format", "json", input="tr(X)\n")
    assert r.exit_code == 0 and json_lines(r.stdout)[0]["ok"]


def test_declare_goes_ahead_of_the_input():
    r = run("shape", "x^T A x", "-d", "A: n x n symmetric", "-d", "x: n", "--format", "json")
    assert r.exit_code == 0, r.output
    (obj,) = json_lines(r.stdout)
    assert obj["assumptions"] == {"A": ["symmetric"]}
    assert obj["shapes"]["A"] == ["n", "n"] and obj["shapes"]["x"] == ["n", 1]
    assert obj["inferred"] == []


def test_bad_declaration_is_one_error_object():
    r = run("shape", "tr(X)", "-d", "A: n x", "--format", "json")
    assert r.exit_code == 2
    (obj,) = json_lines(r.stdout)
    assert obj["ok"] is False and obj["error"]["type"]


def test_expression_as_declaration_is_refused():
    r = run("shape", "tr(X)", "-d", "A x", "--format", "json")
    assert r.exit_code == 2
    (obj,) = json_lines(r.stdout)
    assert "not a declaration" in obj["error"]["message"]


def test_expr_starting_with_minus_after_double_dash():
    r = run("shape", "--format", "json", "--", "-x^T x")
    assert r.exit_code == 0, r.output
    assert json_lines(r.stdout)[0]["input"] == "-x^T x"


def test_expr_starting_with_minus_without_double_dash_gets_a_hint():
    r = run("shape", "-x^T x")
    assert r.exit_code == 2
    assert 'matdiff shape -- "-x^T x"' in r.stderr


def test_expr_and_file_together_is_a_usage_error(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("tr(X)\n")
    r = run("shape", "tr(X)", "-f", str(f))
    assert r.exit_code == 2 and "not both" in r.stderr


def test_missing_expr_is_a_usage_error():
    r = run("shape")
    assert r.exit_code == 2 and "missing EXPR" in r.stderr


def test_usage_error_in_json_format_is_json():
    r = run("shape", "tr(X)", "--bogus", "--format", "json")
    assert r.exit_code == 2
    (obj,) = json_lines(r.stdout)
    assert obj["ok"] is False and obj["error"]["type"] == "usage"


# ---------------------------------------------------------------------------
# Formats


@pytest.mark.parametrize("fmt", ["pretty", "text", "latex", "json", "numpy"])
def test_every_format_writes_something(fmt):
    r = run("shape", "tr(X^T A X B)", "--format", fmt)
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() and not r.stderr


def test_default_format_is_text_when_not_a_terminal():
    r = run("shape", "tr(X^T A X B)")
    assert r.exit_code == 0
    assert r.stdout == run("shape", "tr(X^T A X B)", "--format", "text").stdout
    assert "\x1b[" not in r.stdout


def test_json_lines_one_object_per_problem():
    doc = "A: n x n\ntr(A)\n# a comment\nx^T A x; A x\nlogdet(A)\n"
    r = run("shape", "-", "--format", "json", input=doc)
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 4
    assert [json.loads(l)["input"] for l in lines] == ["tr(A)", "x^T A x", "A x", "logdet(A)"]


def test_shape_json_fields():
    r = run("shape", "x^T A x", "-d", "A: n x n spd", "--format", "json")
    obj = json_lines(r.stdout)[0]
    for field in ("ok", "input", "command", "shapes", "assumptions", "inferred", "result", "tree"):
        assert field in obj
    assert obj["result"]["kind"] == "shape"
    assert set(obj["result"]) >= {"shape", "text", "latex", "numpy"}
    assert obj["assumptions"] == {"A": ["spd"]}
    assert obj["inferred"] == ["x"]
    tree = obj["tree"]
    assert tree["shape"] == [1, 1] and tree["children"]


def test_shape_text_reads_back():
    """The text output of shape is itself a matdiff document: same problem."""
    from matdiff_cli.document import read_document

    for expr in ("tr(X^T A X B)", "||A x - b||^2", "sigmoid(W x + b)", "logdet(S) - tr(S C)"):
        r = run("shape", expr, "--format", "text")
        assert r.exit_code == 0, r.output
        (first,) = read_document(expr, [])
        (again,) = read_document(r.stdout, [])
        assert again.expr is first.expr  # same nodes, so same shapes and properties


def test_diagnostics_go_to_stderr_results_to_stdout():
    r = run("shape", "-", "--format", "text", input="tr(X)\nA x +\n")
    assert r.exit_code == 2
    assert "tr(X)" in r.stdout and "A x +" not in r.stdout
    assert "A x +" in r.stderr


# ---------------------------------------------------------------------------
# Exit statuses


def test_exit_0():
    assert run("shape", "tr(X^T A X B)").exit_code == 0


def test_syntax_error_exit_2():
    r = run("shape", "-", "--format", "json", input="A x +\n")
    assert r.exit_code == 2
    (obj,) = json_lines(r.stdout)
    assert obj["ok"] is False
    assert obj["input"] == "A x +"
    assert obj["error"]["type"] == "syntax"
    assert obj["error"]["line"] == 1 and obj["error"]["column"]


@pytest.mark.parametrize("doc", ["", "\n\n", "# only a comment\n", "X: n x m\nA: n x n\n"])
def test_no_problem_in_the_input_exit_2(doc):
    r = run("shape", "-", "--format", "json", input=doc)
    assert r.exit_code == 2
    (obj,) = json_lines(r.stdout)
    assert obj["ok"] is False and "no expression" in obj["error"]["message"]


def test_five_problems_third_malformed():
    doc = "tr(X)\nx^T x\nA x +\nA x\nlogdet(S)\n"
    r = run("shape", "-", "--format", "json", input=doc)
    assert r.exit_code == 2
    objs = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(objs) == 5
    assert [o["ok"] for o in objs] == [True, True, False, True, True]
    assert objs[2]["error"]["line"] == 3


def test_one_crashing_problem_loses_nothing(monkeypatch):
    real = COMMANDS["shape"]

    def flaky(problem, options):
        if problem.source == "x^T x":
            raise KeyError("boom")
        return real(problem, options)

    monkeypatch.setitem(COMMANDS, "shape", flaky)
    r = run("shape", "-", "--format", "json", input="tr(X)\nx^T x\nA x\n")
    assert r.exit_code == 3
    objs = json_lines(r.stdout)
    assert [o["ok"] for o in objs] == [True, False, True]
    assert objs[1]["error"]["type"] == "internal"
    assert "please report" in objs[1]["error"]["message"]
    assert_no_traceback(r)


def test_a_command_may_return_one_report_per_variable(monkeypatch):
    shape = COMMANDS["shape"]
    monkeypatch.setitem(COMMANDS, "grad", lambda p, o: [shape(p, o), shape(p, o)])
    r = run("grad", "-", "--format", "json", input="tr(X)\nx^T x\n")
    assert r.exit_code == 0
    assert [o["input"] for o in json_lines(r.stdout)] == ["tr(X)", "tr(X)", "x^T x", "x^T x"]


def test_a_command_may_raise_a_matdiff_error(monkeypatch):
    from matdiff_cli.errors import MatdiffError

    def refuse(problem, options):
        raise MatdiffError("name", "no variable named W in this problem", hint="--wrt X",
                           line=problem.line)

    monkeypatch.setitem(COMMANDS, "grad", refuse)
    r = run("grad", "tr(X)", "--wrt", "W", "--format", "json")
    assert r.exit_code == 2
    (obj,) = json_lines(r.stdout)
    assert obj["input"] == "tr(X)" and obj["error"]["type"] == "name"


def test_worst_status_wins():
    from matdiff_cli.errors import worst

    assert worst([]) == 0
    assert worst([0, 2, 1]) == 2
    assert worst([0, 3, 2]) == 3


# ---------------------------------------------------------------------------
# Bad input never shows a traceback


def test_invalid_utf8_on_stdin():
    # the statement with the bad byte is the error; the others are still solved
    r = run("shape", "-", "--format", "json", input=b"tr(X)\ntr(\xff\xfe)\n")
    assert r.exit_code == 2
    ok, obj = json_lines(r.stdout)
    assert ok["ok"] is True and ok["input"] == "tr(X)"
    assert "UTF-8" in obj["error"]["message"] and "0xff" in obj["error"]["message"]
    assert (obj["error"]["line"], obj["error"]["column"]) == (2, 4)
    assert_no_traceback(r)


def test_invalid_utf8_in_file(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_bytes(b"\x80abc")
    r = run("shape", "-f", str(f))
    assert r.exit_code == 2 and "byte 0x80 is not valid UTF-8" in r.stderr
    assert "line 1, column 1" in r.stderr
    assert_no_traceback(r)


def test_nul_byte():
    r = run("shape", "-", input=b"tr(X)\x00\n")
    assert r.exit_code == 2 and "NUL" in r.stderr
    assert_no_traceback(r)


def test_missing_file(tmp_path):
    r = run("shape", "-f", str(tmp_path / "nope.txt"))
    assert r.exit_code == 2 and "cannot read" in r.stderr
    assert_no_traceback(r)


def test_directory_as_file(tmp_path):
    r = run("shape", "-f", str(tmp_path))
    assert r.exit_code == 2 and "cannot read" in r.stderr


def test_reserved_name():
    r = run("shape", "-", "--format", "json", input="tr: n\ntr(X)\n")
    assert r.exit_code == 2
    objs = json_lines(r.stdout)
    assert objs[0]["ok"] is False and "reserved" in objs[0]["error"]["message"]


@pytest.mark.parametrize(
    "expr",
    [
        "(" * 10_000 + "x" + ")" * 10_000,
        "tr(" * 10_000 + "X" + ")" * 10_000,
        " + ".join(["x"] * 250_000),  # about 1 MB
        "x" * 1_000_000,
    ],
    ids=["10k-parens", "10k-calls", "1MB-sum", "1MB-name"],
)
def test_huge_inputs_are_handled_cleanly(expr):
    r = run("shape", "-", "--format", "json", input=expr)
    assert r.exit_code in (0, 2, 3), r.output
    assert_no_traceback(r)
    objs = json_lines(r.stdout)
    assert len(objs) == 1
    assert objs[0]["ok"] or objs[0]["error"]["type"] != "internal"


@pytest.mark.parametrize("make", [
    lambda k: "(" * k + "x" + ")" * k,
    lambda k: "tr(" * k + "X" + ")" * k,
    lambda k: " + ".join(["x"] * k),
    lambda k: "x" * k,
], ids=["parens", "calls", "sum", "name"])
def test_huge_inputs_cost_linear_work(make):
    assert_linear(lambda text: run("shape", "-", "--format", "json", input=text), make, 500)


def test_deep_tree_json_is_bounded():
    from matdiff_cli.expr import Sym, Transpose
    from matdiff_cli.render.json import to_json_line
    from matdiff_cli.tree import TREE_MAX_DEPTH, build_tree, tree_json, tree_lines

    e = Sym("x", ("n", 1))
    for _ in range(5000):
        e = Transpose(e)
    tree = build_tree(e)
    line = to_json_line({"tree": tree_json(tree)})
    assert line.count('"children"') <= TREE_MAX_DEPTH + 1
    assert len(tree_lines(tree)) <= TREE_MAX_DEPTH + 2


# ---------------------------------------------------------------------------
# Options


def test_options_is_frozen_and_parses_lets():
    o = Options(lets=(("X", "[[1, 2], [3, 4]]"), ("s", "2.5")))
    assert o.bindings() == {"X": [[1, 2], [3, 4]], "s": 2.5}
    with pytest.raises(Exception):
        o.fmt = "json"


def test_options_reach_the_command(monkeypatch):
    seen = {}

    def spy(problem, options):
        seen["options"] = options
        return COMMANDS["shape"](problem, options)

    monkeypatch.setitem(COMMANDS, "jac", spy)
    r = run("jac", "A x", "--wrt", "x", "--wrt", "A", "--layout", "denominator", "--vec",
            "--let", "x=[[1],[2]]", "--seed", "7", "--check", "--format", "json")
    assert r.exit_code == 0, r.output
    o = seen["options"]
    assert o.command == "jac" and o.wrt == ("x", "A") and o.layout == "denominator"
    assert o.vec and o.check and o.seed == 7 and o.fmt == "json"
    assert o.bindings() == {"x": [[1], [2]]}


@pytest.mark.parametrize("bad", ["X", "X=[1,", "X=\"a\"", "1x=2"])
def test_bad_let_is_a_usage_error(bad):
    r = run("eval", "tr(X)", "--let", bad)
    assert r.exit_code == 2 and "--let" in r.stderr


def test_help_lists_every_command():
    r = run("--help")
    assert r.exit_code == 0
    for command in ("grad", "diff", "jac", "hess", "check", "solve", "shape", "eval", "code"):
        assert command in r.stdout


# ---------------------------------------------------------------------------
# The real thing, in a subprocess


def matdiff(*args, input=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "matdiff_cli", *args], input=input, capture_output=True,
        cwd=ROOT, env=env, timeout=60,
    )


def test_subprocess_json_lines_and_exit_status():
    p = matdiff("shape", "-", "--format", "json", input=b"tr(X^T A X B)\nA x +\nx^T x\n")
    assert p.returncode == 2
    objs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    assert [o["ok"] for o in objs] == [True, False, True]
    assert b"Traceback" not in p.stderr


def test_subprocess_default_format_is_text_when_piped():
    p = matdiff("shape", "tr(X^T A X B)")
    assert p.returncode == 0
    assert p.stdout.decode() == matdiff("shape", "tr(X^T A X B)", "--format", "text").stdout.decode()


def test_subprocess_syntax_error_on_stdin():
    p = matdiff("shape", "-", input=b"A x +\n")
    assert p.returncode == 2 and p.stdout == b""
    assert b"A x +" in p.stderr and b"Traceback" not in p.stderr


def test_subprocess_invalid_utf8_and_nul():
    for data in (b"tr(\xc3\x28)\n", b"tr(X)\0\n"):
        p = matdiff("shape", "-", input=data)
        assert p.returncode == 2 and b"Traceback" not in p.stderr


def test_shape_does_not_import_heavy_modules():
    p = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "matdiff_cli", "shape", "tr(X^T A X B)",
         "--format", "text"],
        capture_output=True, cwd=ROOT, timeout=60,
    )
    assert p.returncode == 0, p.stderr.decode()
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in p.stderr.decode().splitlines() if line.startswith("import time:")}
    assert not imported & {"sympy", "numpy", "rich"}


# what a text gradient must not import (README "Performance"): each costs start-up time
HEAVY_AT_START = {"click", "dataclasses", "typing", "hashlib", "numpy", "sympy", "rich", "lark"}


def test_text_gradient_imports_nothing_heavy():
    """The start-up path of the commonest command line: matdiff's own modules,
    the standard library's light ones, the cached parser tables; no click (the
    plain command line is read without it), no dataclasses/typing/hashlib."""
    code = "import sys; from matdiff_cli.cli import main; main()"
    argv = [sys.executable, "-X", "importtime", "-c", code, "grad", "--format", "text",
            "tr(X^T A X B)", "--wrt", "X", "-d", "A: n x n"]
    subprocess.run(argv, capture_output=True, cwd=ROOT, timeout=60)  # the parser's tables cached
    p = subprocess.run(argv, capture_output=True, cwd=ROOT, timeout=60)
    assert p.returncode == 0 and p.stdout == b"X: n x m; B: m x m  # inferred\nA X B + A^T X B^T\n"
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in p.stderr.decode().splitlines() if line.startswith("import time:")}
    assert "matdiff_cli" in imported  # the measurement itself works
    assert not imported & HEAVY_AT_START, sorted(imported & HEAVY_AT_START)
    # what matdiff itself imports (after the interpreter's and site's own imports)
    names = [line.split("|")[-1].strip() for line in p.stderr.decode().splitlines()
             if line.startswith("import time:") and "|" in line]
    ours = set(names[names.index("matdiff_cli"):])
    unneeded = ours & LAZY_FOR_TEXT_GRADIENT
    assert not unneeded, f"a text gradient imported {len(unneeded)} it does not need: {sorted(unneeded)}"


#: modules a text gradient does not need, each imported where it is used: the
#: differential rules of other families and the built-ins of the families loaded on
#: first need (on a node of theirs), the Jacobian's vec
#: rules, the other writers and renderers, the numeric code, the patterns of
#: declarations and numbers, and the standard modules only those need
LAZY_FOR_TEXT_GRADIENT = {
    "matdiff_cli.differentials.elementwise", "matdiff_cli.ops.reductions",
    "matdiff_cli.ops.eigen", "matdiff_cli.ops.singular",
    "matdiff_cli.readoff.vec", "matdiff_cli.steps", "matdiff_cli.hessians",
    "matdiff_cli.evaluation", "matdiff_cli.codegen", "matdiff_cli.numeric",
    "matdiff_cli.writers.json", "matdiff_cli.writers.latex", "matdiff_cli.writers.pretty",
    "matdiff_cli.writers.numpy", "matdiff_cli.render.json", "matdiff_cli.render.latex",
    "matdiff_cli.render.pretty", "matdiff_cli.render.numpy", "matdiff_cli.render.plan",
    "zlib", "unicodedata", "bisect", "importlib",
}


def _click_reading(monkeypatch, args):
    """What the click group passes to run() for args, or None (a usage error, help...)."""
    import matdiff_cli.cli as cli_module

    seen = []
    monkeypatch.setattr(cli_module, "run", lambda name, **kw: seen.append((name, kw)) or 0)
    CliRunner().invoke(cli, list(args))
    monkeypatch.undo()
    return seen[0] if seen else None


FAST_TOKENS = [
    ["tr(X^T A X B)"], ["-"], ["--", "-x^T x"], ["--", "--wrt"], [""], ["extra"], ["-f", "p.txt"],
    ["--file=p.txt"], ["-f", "-"], ["-f"], ["--wrt", "X"], ["--wrt=X, A,,X"], ["--wrt", "--steps"],
    ["--wrt", "-"], ["--format", "json"], ["--format=latex"], ["--format", "JSON"], ["--format"],
    ["-d", "A: n x n"], ["--declare=B: m x m"], ["-dA: n x n"], ["--steps"], ["--steps=1"],
    ["--check"], ["--vec"], ["--expect", "2 x"], ["--expect=-2 x"], ["--layout", "denominator"],
    ["--layout", "bogus"], ["--lang", "jax"], ["--let", "x=1"], ["--seed", "3"], ["-h"],
    ["--help"], ["-x"], ["--nope"], ["-V"],
]


def test_fast_front_end_reads_as_click_does(monkeypatch):
    """fast_args gives run() exactly click's arguments, or leaves the command line
    to click; and the plain command lines do take the fast path."""
    from matdiff_cli.fastargs import fast_args

    rng = random.Random(13)
    lines = [[name] for name in COMMANDS] + [["--version"], []]
    for name in COMMANDS:
        lines += [[name, *t] for t in FAST_TOKENS]
        for _ in range(12):
            picks = rng.sample(FAST_TOKENS, rng.randint(2, 4))
            lines.append([name] + [tok for t in picks for tok in t])
    fast_taken = 0
    for args in lines:
        fast = fast_args(list(args))
        if fast is not None:
            fast_taken += 1
            assert fast == _click_reading(monkeypatch, args), args
    assert fast_taken > 60  # (86 of 452 lines)
    for args in (["grad", "tr(X^T A X B)", "--wrt", "X", "--format", "text"],
                 ["shape", "-f", "p.txt", "-d", "A: n x n"], ["jac", "A x", "--wrt=x", "--vec"]):
        assert fast_args(args) is not None, args


def test_public_api_is_lazy():
    import matdiff_cli

    problem = matdiff_cli.parse("tr(X^T A X B)")
    assert problem.expr.shape == (1, 1)
    (again,) = matdiff_cli.read_document("X: n x m\ntr(X^T A X B)", declare=["A: n x n"])
    assert again.symbols["X"].shape == ("n", "m")
    with pytest.raises(AttributeError):
        matdiff_cli.no_such_thing


def test_import_matdiff_cli_is_cheap():
    code = "import sys, matdiff_cli; print(sorted(m for m in sys.modules if m.startswith(('click', 'lark', 'sympy', 'numpy', 'rich'))))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60)
    assert p.stdout.decode().strip() == "[]"


# ---------------------------------------------------------------------------
# Golden cases: tests/data/cli/*.case


def read_case(path: Path) -> dict:
    """A case file: ``args:``/``exit:`` header lines, then ``--- stdin``,
    ``--- stdout`` and ``--- stderr`` sections."""
    head, *sections = path.read_text(encoding="utf-8").split("\n--- ")
    case = {"stdin": None, "stdout": "", "stderr": ""}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "args":
            case["args"] = json.loads(value)
        elif key.strip() == "exit":
            case["exit"] = int(value)
    for section in sections:
        name, _, body = section.partition("\n")
        case[name.strip()] = body
    return case


def write_case(path: Path, case: dict, stdout: str, stderr: str, status: int) -> None:
    parts = [f"args: {json.dumps(case['args'], ensure_ascii=False)}", f"exit: {status}"]
    if case["stdin"] is not None:
        parts.append("--- stdin\n" + case["stdin"])
    parts.append("--- stdout\n" + stdout)
    parts.append("--- stderr\n" + stderr)
    path.write_text("".join(p.rstrip("\n") + "\n" for p in parts), encoding="utf-8")


def same_lines(text: str) -> list[str]:
    """Lines without trailing blanks (Rich pads table cells; editors strip them)."""
    return [line.rstrip() for line in text.rstrip("\n").splitlines()]


CASES = sorted(DATA.glob("*.case"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path):
    case = read_case(path)
    r = run(*case["args"], input=case["stdin"])
    if os.environ.get("MATDIFF_REGOLD"):
        write_case(path, case, r.stdout, r.stderr, r.exit_code)
        case = read_case(path)
    assert (r.exit_code, same_lines(r.stdout), same_lines(r.stderr)) == (
        case["exit"], same_lines(case["stdout"]), same_lines(case["stderr"])
    )
