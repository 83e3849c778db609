"""No option is accepted and then ignored (issue 7 §4), and results say what they are (§5).

``test_every_option_of_every_command`` walks the options click itself lists
for each command (what ``--help`` shows: a new option is walked without
editing this file, and fails until it is given a value in ``VALUES``) and
asserts that adding it to a working invocation either changes the output or is
refused as a usage error (exit 2).
"""
from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from matdiff_cli.cli import cli


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# a working invocation of each command (text format), where its options matter
BASES = {
    "grad": ["x^T A x"],
    "diff": ["x^T A x"],
    "jac": ["A X B"],
    "hess": ["x^T A x"],
    "check": ["x^T A x", "--seed", "1"],
    "solve": ["||A x - b||^2", "--wrt", "x"],
    "shape": ["x^T A x"],
    "eval": ["x^T A x", "--let", "A=[[1,2],[3,4]]", "--let", "x=[1,2]"],
    "code": ["||A x - b||^2"],
}

# what to add for each option (by click's parameter name); (command, name) overrides
VALUES = {
    "file": ["-f", "problems.txt"],
    "declare": ["-d", "A: n x n symmetric"],
    "fmt": ["--format", "json"],
    "wrt": ["--wrt", "x"],
    "steps": ["--steps"],
    "check": ["--check"],
    "expect": ["--expect", "2 A x"],
    "lets": ["--let", "x=[1,2]"],
    "seed": ["--seed", "7"],
    "layout": ["--layout", "denominator"],
    "vec": ["--vec"],
    "lang": ["--lang", "torch"],
    "order": ["--order", "3"],
    "hvp": ["--hvp"],
    "help": ["--help"],
    ("jac", "wrt"): ["--wrt", "X"],
    ("jac", "expect"): ["--expect", "A dX B"],
    ("check", "lets"): ["--let", "x=[1,2]", "--let", "A=[[1,2],[3,4]]"],
    ("check", "seed"): ["--seed", "2"],
    ("solve", "lets"): ["--let", "A=[[1,0],[0,2],[1,1]]", "--let", "b=[1,2,3]"],
    ("solve", "wrt"): ["--wrt", "b"],
    ("solve", "declare"): ["-d", "A: n x n spd"],
    ("eval", "declare"): ["-d", "x: 3"],
    ("eval", "expect"): ["--expect", "27"],
    ("eval", "lets"): ["--let", "x=[3,4]"],  # x twice: refused
}


def cases():
    for name, cmd in cli.commands.items():
        ctx = click.Context(cmd, info_name=name)
        for param in cmd.get_params(ctx):
            if isinstance(param, click.Argument):
                continue  # EXPR: every base gives one
            key = "help" if "--help" in param.opts else param.name
            yield pytest.param(name, key, id=f"{name}-{key}")


def test_every_command_is_walked():
    walked = {c for c, _ in (p.values for p in cases())}
    assert walked == set(cli.commands) and len(walked) == 9


@pytest.mark.parametrize("command,option", list(cases()))
def test_every_option_of_every_command(command, option, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "problems.txt").write_text("x^T x\n")
    args = VALUES.get((command, option)) or VALUES.get(option)
    assert args, f"give the option {option} of {command} a value in VALUES"
    cmd = cli.commands[command]
    help_text = run(command, "--help").stdout
    assert args[0] in help_text  # the option walked is one the help lists
    base = run(command, *BASES[command])
    assert base.exit_code in (0, 1), (command, base.output)
    given = run(command, *BASES[command], *args)
    assert "Traceback" not in given.output and "internal error" not in given.output
    if given.exit_code == 2:  # refused: it must say it is a usage error (or bad input)
        assert given.stderr.strip()
        return
    assert (given.stdout, given.stderr, given.exit_code) != (
        base.stdout, base.stderr, base.exit_code), (
        f"{command} {' '.join(args)} is accepted and changes nothing")
    assert cmd is cli.commands[command]


# ---------------------------------------------------------------------------
# The listed examples of issue 7 §4


def test_eval_expect_compares_values():
    r = run("eval", "x^T x", "--let", "x=[1,2]", "--expect", "6")
    assert r.exit_code == 1 and "differs" in r.stdout and r.stdout.splitlines()[0] == "5"
    r = run("eval", "x^T x", "--let", "x=[1,2]", "--expect", "5")
    assert r.exit_code == 0 and "equal" in r.stdout
    r = run("eval", "2 x", "--let", "x=[1,2]", "--expect", "x + x")  # a claim may be an expression
    assert r.exit_code == 0
    r = run("eval", "2 x", "--let", "x=[1,2]", "--expect", "[2, 5]", "--format", "json")
    (obj,) = json_lines(r.stdout)
    assert r.exit_code == 1 and obj["ok"] is False and obj["expect"]["equal"] is False
    assert obj["error"]["type"] == "check"


@pytest.mark.parametrize("claim", ["x +", "(x", "y", "x: n", ""])
def test_eval_refuses_a_claim_it_cannot_read(claim):
    r = run("eval", "x^T x", "--let", "x=[1,2]", "--expect", claim)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output


def test_eval_expect_random_values_agree_only_when_equal():
    import numpy as np

    rng = np.random.default_rng(0)
    for _ in range(10):
        x = rng.normal(size=3).round(3).tolist()
        value = float(np.dot(x, x))
        for claim, ok in [(value, True), (value * (1 + 1e-3), False), (value + 1, False)]:
            r = run("eval", "x^T x", "--let", f"x={json.dumps(x)}", "--expect", repr(claim))
            assert r.exit_code == (0 if ok else 1), (x, claim, r.output)


def test_solve_check_and_steps_do_something():
    base = run("solve", "||X w - y||^2", "--wrt", "w", "--seed", "3", "--check")
    assert base.exit_code == 0 and "check passed" in base.stdout
    steps = run("solve", "||X w - y||^2", "--wrt", "w", "--steps")
    assert "gradient" in steps.stdout and "stationary point" in steps.stdout
    (obj,) = json_lines(run("solve", "||X w - y||^2", "--wrt", "w", "--steps", "--check",
                            "--format", "json").stdout)
    assert obj["check"]["passed"] is True and obj["steps"][-1]["text"] == "(X^T X)^-1 X^T y"


def test_solve_check_fails_for_a_wrong_solution(monkeypatch):
    """The check differentiates the objective itself: a wrong closed form fails it."""
    from matdiff_cli import stationary as solve_module
    from matdiff_cli.expr import Num

    real = solve_module.stationary_point

    def wrong(f, var):
        sol = real(f, var)
        from matdiff_cli import build as b
        sol.solution = b.mul(Num(2), sol.solution)
        return sol

    monkeypatch.setattr(solve_module, "stationary_point", wrong)
    r = run("solve", "||X w - y||^2", "--wrt", "w", "--check", "--seed", "1")
    assert r.exit_code == 1 and "check FAILED" in r.stdout


def test_vec_follows_the_layout():
    num = run("jac", "A X B", "--wrt", "X", "--vec")
    den = run("jac", "A X B", "--wrt", "X", "--vec", "--layout", "denominator")
    assert num.stdout.splitlines()[-1] == "kron(B^T, A)"
    assert den.stdout.splitlines()[-1] == "kron(B, A^T)"
    assert "J^T" in den.stdout


@pytest.mark.parametrize("fmt,mark", [("latex", "%"), ("numpy", "#")])
@pytest.mark.parametrize("extra,needle", [
    (["--steps"], "product rule"),
    (["--check", "--seed", "1"], "check passed"),
    (["--expect", "A dX B"], "expect: equal"),
    (["--vec"], "vec(dF) = J vec(dX)"),
])
def test_latex_and_numpy_keep_what_the_options_add(fmt, mark, extra, needle):
    r = run("jac", "A X B", "--wrt", "X", "--format", fmt, *extra)
    assert r.exit_code == 0, r.output
    lines = [line for line in r.stdout.splitlines() if needle in line]
    assert lines and all(line.startswith(mark + " ") for line in lines), r.stdout


def test_check_in_latex_says_whether_it_passed():
    ok = run("check", "x^T x", "--wrt", "x", "--format", "latex", "--seed", "1")
    assert ok.exit_code == 0 and ok.stdout.count("% check passed") == 2
    bad = run("check", "x^T x", "--wrt", "x", "--format", "latex", "--expect", "x")
    assert bad.exit_code == 1 and "% expect: differs" in bad.stdout


# ---------------------------------------------------------------------------
# Issue 7 §5: several results say what they are


@pytest.mark.parametrize("command,labels", [
    ("grad", ["gradient with respect to x", "gradient with respect to A"]),
    ("diff", ["differential with respect to x", "differential with respect to A"]),
])
def test_several_results_are_labelled_in_text_and_numpy(command, labels):
    for fmt in ("text", "numpy"):
        r = run(command, "x^T A x", "--format", fmt)
        comments = [line for line in r.stdout.splitlines() if line.startswith("# ")]
        for label in labels:
            assert "# " + label in comments, (fmt, r.stdout)
    one = run(command, "x^T A x", "--wrt", "x")
    assert "with respect to" not in one.stdout  # one result: nothing to tell apart


def test_the_whole_hessian_says_what_it_is_in_text_and_numpy():
    """Several variables: one Hessian, labelled with all of them, every block named."""
    text = run("hess", "x^T A x", "--format", "text").stdout.splitlines()
    assert text[2].startswith("# Hessian with respect to x, A, block by block"), text
    assert [line for line in text if line.startswith("# H[")] == [
        "# H[x,x]", "# H[x,A][dA]", "# H[A,x][dx]", "# H[A,A][dA]"]
    code = run("hess", "x^T A x", "--format", "numpy").stdout
    assert code.startswith("# Hessian with respect to x, A:") and "lambda dx, dA: (" in code


def test_several_results_are_labelled_in_latex():
    r = run("grad", "x^T A x", "--format", "latex")
    assert r.stdout.splitlines() == [r"\nabla_{x} f = \left(A + A^{\top}\right) x",
                                     r"\nabla_{A} f = x x^{\top}"]


def test_labelled_text_reads_back():
    """The label is a comment: each result, read back with its declarations, is the same."""
    from matdiff_cli.document import read_document

    out = run("grad", "x^T A x + sum(sigmoid(W x))").stdout
    for block in out.split("\n\n"):
        items = read_document(block, [])
        assert items and not any(isinstance(i, Exception) for i in items), block


def test_eval_keeps_small_numbers():
    assert run("eval", "x", "--let", "x=[1e-8, 2]").stdout.strip() == "[1e-08, 2]"
    assert run("eval", "s: scalar; s", "--let", "s=1e-8").stdout.strip() == "1e-08"


def test_tree_names_definitions_by_their_operation():
    r = run("shape", "h1 = tanh(W x); h2 = h1 + x; sum(h2)")
    tree = [line for line in r.stdout.splitlines() if "h1 =" in line or "h2 =" in line]
    assert any("h1 = tanh" in line for line in tree) and any("h2 = Add" in line for line in tree)
    assert not any("= Func" in line for line in r.stdout.splitlines())


STEP_EXPRS = ["a^T x", "tr(A)", "a^T x + b^T y", "tr(A X) + tr(B)", "||A x - b||^2", "x",
              "x^T x + 3", "s x^T x", "a^T x + 5"]


@pytest.mark.parametrize("command", ["diff", "hess", "solve"])
def test_steps_never_fail_on_constants_and_linear_parts(command):
    """--steps expands d(.) of every node, including the pieces that do not depend
    on the variable (the gradient of a linear function is a constant)."""
    for e in STEP_EXPRS:
        r = run(command, e, "--steps", "--format", "json")
        for obj in json_lines(r.stdout):
            assert obj.get("error", {}).get("type") != "internal", (e, obj)
            if obj["ok"] and command != "solve":
                assert obj["steps"], (e, obj)


def test_an_option_given_twice_is_used_once_or_refused():
    once = run("grad", "x^T A x", "--wrt", "x")
    assert run("grad", "x^T A x", "--wrt", "x", "--wrt", "x").stdout == once.stdout
    assert run("grad", "x^T A x", "--wrt", "x,x").stdout == once.stdout
    twice = run("eval", "x^T x", "--let", "x=[1,2]", "--let", "x=[3,4]")
    assert twice.exit_code == 2 and "bound twice" in twice.stderr


# ---------------------------------------------------------------------------
# Pretty output at a narrow width (what a terminal shows)

LONG = [
    "sum(sigmoid(W x - b)) + sum(tanh(W x - b))^2 + x^T A x + tr(W^T W W^T W)",
    "||A x - b||^2 + 0.5 alpha ||x||^2 + logdet(X^T B X) + tr(X^T C X D)",
    "sum(sigmoid(W x - b) .* tanh(W x - b) .* exp(W x - b))",
]


def pretty_at(width: int, command: str, expr: str, steps: bool = True) -> str:
    """The pretty output of a command, rendered at ``width`` columns (derived once)."""
    import io

    from rich.console import Console

    from matdiff_cli.runner import reports
    from matdiff_cli.commands import COMMANDS, Options

    key = (command, expr, steps)
    if key not in _REPORTS:
        options = Options(command=command, fmt="pretty", steps=steps, wrt=("x",))
        _REPORTS[key] = list(reports(command, expr, None, (), options, COMMANDS[command]))
    out = []
    for report in _REPORTS[key]:
        buf = io.StringIO()
        report.to_pretty(Console(file=buf, width=width, highlight=False, color_system=None))
        out.append(buf.getvalue())
    return "\n".join(out)


_REPORTS: dict = {}


@pytest.mark.parametrize("command", ["grad", "hess", "jac"])
def test_pretty_wrapped_lines_keep_their_indent(command):
    for e in LONG:
        for width in (40, 60):
            out = pretty_at(width, command, e)
            for block in out.split("\n\n"):
                lines = block.splitlines()
                body = [ln for ln in lines if ln.startswith("  ")]
                # every line of a result after its head is indented: a wrapped
                # line never falls back to the first column
                head_end = next(i for i, ln in enumerate(lines) if ln.startswith("  "))
                assert len(body) == len(lines) - head_end, (width, block)
                assert max(len(ln.rstrip()) for ln in lines) <= width
                # and no line is padded to the width: piped output ends in text
                assert all(ln == ln.rstrip() for ln in lines), (width, block)


def test_pretty_names_a_piece_before_the_lines_that_use_it():
    for e in LONG:
        for command in ("grad", "hess", "jac"):
            lines = pretty_at(200, command, e).splitlines()
            for i, line in enumerate(lines):
                for name in ("t1", "t2", "t3", "t4"):
                    if f"  {name} = " in line:
                        earlier = "\n".join(lines[:i])
                        last_block = earlier.split("\n\n")[-1]
                        assert name not in last_block.replace(f"{name} =", ""), (e, name)


def test_pretty_error_colours_only_the_caret(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    for expr in ["x^T x +", "x^T (A x", "A^T x^T +"]:
        r = run("grad", expr, "--format", "pretty")
        lines = r.stderr.splitlines()
        source = [ln for ln in lines if ln.strip() == expr]
        assert source, r.stderr  # the echoed statement carries no colour at all
        caret = [ln for ln in lines if "^" in ln and ln.strip() != expr]
        assert caret and all("\x1b[" in ln for ln in caret)


# ---------------------------------------------------------------------------
# --let and --seed values: refused with a usage error, never an internal error


def _random_value(rng, depth=0):
    kind = rng.choice(["num", "num", "list", "bad"] if depth < 4 else ["num", "bad"])
    if kind == "num":
        return rng.choice(["1", "-2.5", "1e-8", "0", "3e300"])
    if kind == "bad":
        return rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "true", "null",
                           '"a"', "{}", "1" + "0" * 400])
    return "[" + ",".join(_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))) + "]"


def test_let_values_are_data_or_refused():
    """Generated values: what the CLI accepts, NumPy reads as a finite 0-, 1- or
    2-d array of equal rows; what it refuses, it refuses with a reason."""
    import random

    import numpy as np

    from matdiff_cli.numeric import read_let_value

    rng = random.Random(1)
    accepted = refused = 0
    for _ in range(3000):
        text = _random_value(rng)
        try:
            read_let_value(text)
        except ValueError as e:
            assert str(e).strip(), text
            refused += 1
            continue
        a = np.asarray(json.loads(text), dtype=float)
        assert a.ndim <= 2 and a.size > 0 and np.all(np.isfinite(a)), text
        accepted += 1
    assert accepted > 100 and refused > 100
    for deep in (3, 500, 3000):
        with pytest.raises(ValueError, match="deep"):
            read_let_value("[" * deep + "1" + "]" * deep)


@pytest.mark.parametrize("value", ["[[1,2],[3]]", "[NaN,1]", "[1e999]", "[[[1]]]",
                                   "[" * 3000 + "]" * 3000, "[1,[2]]", "[]"])
def test_bad_let_is_a_usage_error(value):
    r = run("eval", "x^T x", "--let", f"x={value}")
    assert r.exit_code == 2 and "--let" in r.stderr and "Traceback" not in r.output


def test_negative_seed_is_a_usage_error():
    r = run("check", "x^T x", "--seed", "-1")
    assert r.exit_code == 2 and "--seed" in r.stderr


def test_latex_defines_every_name_it_uses():
    """Named pieces and definitions are written as the LaTeX names the body uses."""
    import re

    for args in (["jac", "sigmoid(W x - b)", "--wrt", "x"],
                 ["shape", "h1 = tanh(W x); h2 = tanh(h1); sum(h2)"],
                 ["grad", "h1 = tanh(W x); sum(h1) + sum(h1 .* h1)", "--wrt", "x"]):
        lines = run(*args, "--format", "latex").stdout.splitlines()
        defined = {line.split(" = ", 1)[0] for line in lines[:-1] if " = " in line}
        used = set(re.findall(r"[th]_\{\d+\}", lines[-1]))
        assert used <= defined, (args, lines)


LET_CASES = {  # command -> (document, the data it uses)
    "eval": ("x^T A x\nsum(y)", {"x": "[1,2]", "A": "[[1,2],[3,4]]", "y": "[1,2,3]"}),
    "solve": ("||A x - b||^2", {"A": "[[1,0],[0,1],[1,1]]", "b": "[1,2,3]"}),
    "check": ("x^T A x", {"x": "[1,2]"}),
    "grad": ("x^T A x", {"A": "[[1,2],[3,4]]"}),
}


@pytest.mark.parametrize("command", list(LET_CASES))
@pytest.mark.parametrize("stray", ["y2", "z", "Q", "alpha", "t1"])
def test_a_let_that_no_problem_uses_is_refused(command, stray):
    doc, data = LET_CASES[command]
    args = [command, "-", *(a for k, v in data.items() for a in ("--let", f"{k}={v}"))]
    if command == "grad":
        args.append("--check")
    assert run(*args, input=doc).exit_code == 0
    for fmt in ("text", "json"):
        r = run(*args, "--let", f"{stray}=[1]", "--format", fmt, input=doc)
        assert r.exit_code == 2, r.output
        assert f"--let {stray}: no problem of the input uses it" in r.output
