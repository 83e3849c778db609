"""The whole Hessian over several variables, the second differential of a
non-scalar, and the k-th differential (issue 11 §1-2), each against finite
differences."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from budget import examples
from matdiff_cli.cli import cli
from matdiff_cli.commands import Options
from matdiff_cli.derivatives import derive
from matdiff_cli.document import Problem, parse, read_document
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import SCALAR, symbols
from matdiff_cli.hessians import HessianReport, whole_hessian
from matdiff_cli.numeric import evaluate, sample_direction, sample_values
from matdiff_cli.expect import split_blocks
from matdiff_cli.trust import _apply_block, numeric_check, whole_hessian_check
from strategies import expressions


def bare(expr):
    """A problem made of an expression alone."""
    return Problem.of(expr)


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def one_json(*args) -> dict:
    r = run(*args, "--format", "json")
    (obj,) = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return obj


def _vecF(a):
    return np.asarray(a, dtype=float).reshape(-1, order="F")


def point(problem, seed=0):
    values, sizes = sample_values([problem.expr], np.random.default_rng(seed))
    return {k: v for k, v in values.items() if isinstance(k, str)}, sizes


def fd_hessian(problem, names, values, sizes, h=1e-3):
    """The Hessian over the stacked [vec(v1); vec(v2); ...] by central differences."""
    shapes = [np.shape(values[n]) for n in names]
    z0 = np.concatenate([_vecF(values[n]) for n in names])

    def f(z):
        vals, at = dict(values), 0
        for n, shape in zip(names, shapes):
            k = int(np.prod(shape)) if shape else 1
            part = z[at:at + k]
            vals[n] = part.reshape(shape, order="F") if shape else float(part[0])
            at += k
        return float(np.asarray(evaluate(problem.expr, vals, sizes)).reshape(()))

    N = len(z0)
    H = np.zeros((N, N))
    for a in range(N):
        for b in range(N):
            total = 0.0
            for s, t in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                z = z0.copy()
                z[a] += s * h
                z[b] += t * h
                total += s * t * f(z)
            H[a, b] = total / (4 * h * h)
    return H


def env(values):
    return {"np": np, **values}


# ---------------------------------------------------------------- §1 the whole Hessian

def test_the_seed_hessian_is_one_two_by_two_matrix():
    args = ["hess", "x1^2 x2", "--wrt", "x1,x2", "-d", "x1, x2: scalar"]
    assert run(*args).stdout.splitlines() == [
        "# Hessian with respect to x1, x2, block by block (H[u,v] = ∂²f/∂u∂v)",
        "# H = [[2 x2, 2 x1], [2 x1, 0]]",
        "# H[x1,x1]", "2 x2", "# H[x1,x2]", "2 x1", "# H[x2,x1]", "2 x1", "# H[x2,x2]", "0"]
    pretty = run(*args, "--format", "pretty").stdout.splitlines()
    assert pretty[-2:] == ["  ∇²f = ⎡2 x2  2 x1⎤", "        ⎣2 x1  0   ⎦"]
    obj = one_json(*args)
    assert obj["wrt"] == ["x1", "x2"] and obj["result"]["kind"] == "hessian"
    assert [[b["text"] for b in row] for row in obj["result"]["blocks"]] == [
        ["2 x2", "2 x1"], ["2 x1", "0"]]
    H = eval(obj["result"]["numpy"], env({"x1": 3.0, "x2": 5.0}))
    assert np.allclose(H, [[10, 6], [6, 0]])
    # no --wrt: the same, as x1 and x2 are all the variables
    assert run("hess", "x1^2 x2", "-d", "x1, x2: scalar").stdout == run(*args).stdout


def test_one_variable_keeps_its_own_output():
    r = run("hess", "x^T A x", "--wrt", "x", "--format", "json")
    assert json.loads(r.stdout)["result"] == {
        "kind": "hessian", "shape": ["n", "n"], "text": "A + A^T",
        "latex": "A + A^{\\top}", "numpy": "A + A.T"}


MATRIX_CASES = [
    ("x1^2 x2 + sin(x1) x2^3", ["x1, x2: scalar"], ["x1", "x2"]),
    ("||A x - b||^2 + s x^T x + s^3", ["s: scalar"], ["x", "s"]),
    ("a^T x y^T b + sum(exp(x)) y^T y", ["x: 3", "y: 2"], ["x", "y"]),
    ("s ||x||^2 + logsumexp(x + y)", ["s: scalar", "x, y: n"], ["s", "x", "y"]),
]


@pytest.mark.parametrize("src,decls,wrt", MATRIX_CASES)
def test_whole_hessian_matrix_matches_finite_differences(src, decls, wrt):
    args = ["hess", src, "--wrt", ",".join(wrt)]
    for d in decls:
        args += ["-d", d]
    obj = one_json(*args)
    problem = parse(src, decls)
    values, sizes = point(problem, 3)
    want = fd_hessian(problem, wrt, values, sizes)
    H = np.atleast_2d(eval(obj["result"]["numpy"], env(values)))
    assert H.shape == want.shape and np.allclose(H, want, rtol=1e-5, atol=1e-5), (H, want)
    assert np.allclose(H, H.T)
    # every block on its own: the (i, j) part of the stacked matrix
    cuts = np.cumsum([0] + [np.size(values[n]) for n in wrt])
    for i, row in enumerate(obj["result"]["blocks"]):
        for j, block in enumerate(row):
            got = np.atleast_2d(eval(block["numpy"], env(values)))
            part = want[cuts[i]:cuts[i + 1], cuts[j]:cuts[j + 1]]
            assert np.allclose(np.broadcast_to(got, part.shape), part, rtol=1e-5, atol=1e-5)


OPERATOR_CASES = [
    ("tr(X^T A X B)", ["X: 2 x 3", "A: 2 x 2", "B: 3 x 3"], ["X", "A"]),
    ("sum(sigmoid(W x)) + x^T W^T W x", [], ["W", "x"]),
    ("logdet(X) + s tr(X) + s^2", ["X: 3 x 3", "s: scalar"], ["X", "s"]),
]


@pytest.mark.parametrize("src,decls,wrt", OPERATOR_CASES)
def test_whole_hessian_operator_and_vec_match_finite_differences(src, decls, wrt):
    args = ["hess", src, "--wrt", ",".join(wrt), "--vec"]
    for d in decls:
        args += ["-d", d]
    obj = one_json(*args)
    problem = parse(src, decls)
    values, sizes = point(problem, 5)
    want = fd_hessian(problem, wrt, values, sizes)
    # --vec: the whole matrix over [vec(X); vec(Y)]
    V = np.atleast_2d(eval(obj["result"]["vec"]["numpy"], env(values)))
    assert np.allclose(V, want, rtol=1e-4, atol=1e-4)
    # the operator: lambda dX, dY: (HX, HY), the parts of H applied to the stacked direction
    rng = np.random.default_rng(2)
    dirs = [rng.standard_normal(np.shape(values[n])) if np.ndim(values[n]) else
            float(rng.standard_normal()) for n in wrt]
    parts = eval(obj["result"]["numpy"], env(values))(*dirs)
    got = np.concatenate([_vecF(p) for p in parts])
    assert np.allclose(got, want @ np.concatenate([_vecF(d) for d in dirs]), rtol=1e-4, atol=1e-4)
    assert obj["result"]["directions"] == ["d" + n for n in wrt]


def test_check_and_expect_work_on_the_whole_hessian():
    args = ["hess", "x1^2 x2", "--wrt", "x1,x2", "-d", "x1, x2: scalar", "--seed", "1"]
    ok = run(*args, "--check", "--expect", "[[2 x2, 2 x1], [2 x1, 0]]")
    assert ok.exit_code == 0 and "check passed" in ok.stdout and "expect: equal" in ok.stdout
    assert run(*args, "--expect", "2 x2, x1 + x1; 2 x1, 0").exit_code == 0
    bad = run(*args, "--expect", "[[2 x2, x1], [2 x1, 0]]")
    assert bad.exit_code == 1 and "block [x1, x2] differs" in bad.stdout
    shape = run(*args, "--expect", "2 x2")
    assert shape.exit_code == 2 and "2 x 2 blocks" in shape.stderr
    ops = run("hess", "tr(X^T A X B)", "--wrt", "X,A", "--seed", "1", "--expect",
              "[[A dX B + A^T dX B^T, dA X B + dA^T X B^T], [X B^T dX^T + dX B^T X^T, 0]]")
    assert ops.exit_code == 0, ops.stdout
    checked = run("check", "x^T A x", "--seed", "4", "--format", "json")
    kinds = [json.loads(line)["result"]["kind"] for line in checked.stdout.splitlines()]
    assert checked.exit_code == 0 and kinds == ["gradient", "gradient", "hessian"]


def test_split_blocks_keeps_commas_inside_calls():
    assert split_blocks("[[kron(A, B), 0], [0, f(x, y)]]") == [["kron(A, B)", "0"],
                                                               ["0", "f(x, y)"]]
    assert split_blocks("a, b; c, d") == [["a", "b"], ["c", "d"]]


def test_whole_hessian_text_reads_back():
    """Every block line is a problem: read back with the declarations, the same numbers."""
    for src, wrt in [("tr(X^T A X B) + a^T X b", ["X", "A", "a"]), ("x1^2 x2", ["x1", "x2"])]:
        decls = ["x1, x2: scalar"] if "x1" in src else []
        problem = parse(src, decls)
        h = whole_hessian(problem, [problem.symbols[n] for n in wrt], Options())
        report = HessianReport(h)
        items = [i for i in read_document(report.to_text(), decls) if hasattr(i, "expr")]
        assert len(items) == len(wrt) ** 2
        rng = np.random.default_rng(0)
        values, sizes = sample_values([e for row in h.blocks for e in row] + [problem.expr], rng)
        back = dict(values)
        for v in h.vars:
            back[report.directions[v.name]] = values.get(("d", v.name), 0.0)
        for item, e in zip(items, [e for row in report.shown for e in row]):
            assert np.allclose(evaluate(e, values, sizes), evaluate(item.expr, back, sizes))


NONSMOOTH = ("relu", "abs", "step", "sign")


def _smooth(e) -> bool:
    from matdiff_cli.expr import Func, walk
    return not any(isinstance(n, Func) and n.name in NONSMOOTH for n in walk(e))


@settings(max_examples=examples(25), derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(expressions(shape=SCALAR, depth=3, diffs=False),
       expressions(shape=SCALAR, depth=2, diffs=False), st.data())
def test_random_whole_hessians_are_symmetric_and_match_mixed_differences(e1, e2, data):
    from matdiff_cli.expr import Add, Mul

    # a product couples the variables of both factors: the mixed blocks are not zero
    expr = Add(Mul(e1, e2), e1) if data.draw(st.booleans(), label="sum") else Mul(e1, e2)
    syms = symbols(expr)
    assume(len(syms) >= 2 and _smooth(expr))
    k = data.draw(st.integers(2, min(3, len(syms))), label="how many")
    chosen = data.draw(st.permutations(syms), label="variables")[:k]
    try:
        h = whole_hessian(bare(expr), chosen, Options())
    except MatdiffError as exc:
        assert exc.exit_code == 3, exc.message   # refusing is allowed, a wrong answer is not
        assume(False)
    import io

    from rich.console import Console

    report = HessianReport(h)   # every format answers, or refuses in words (exit 2 or 3)
    report.to_json(), report.to_text(), report.to_latex()
    report.to_pretty(Console(file=io.StringIO(), width=60))
    try:
        report.to_numpy()
    except MatdiffError as exc:
        assert exc.exit_code in (2, 3), exc.message
    seed = data.draw(st.integers(0, 2**16), label="seed")
    try:
        result = whole_hessian_check(h, seed=seed, trials=2)
    except MatdiffError:
        assume(False)
    assume(not result.inconclusive)
    assert result.passed, f"{expr!r} over {[v.name for v in chosen]}: {result.summary()}"
    # the whole operator is self-adjoint: <D, H[E]> = <E, H[D]>
    rng = np.random.default_rng(seed)
    try:
        values, sizes = sample_values([expr] + [e for row in h.blocks for e in row], rng)
    except (ValueError, MatdiffError):
        return
    D = {v.name: sample_direction(v, values[v.name], rng, sizes) for v in chosen}
    E = {v.name: sample_direction(v, values[v.name], rng, sizes) for v in chosen}

    def form(P, Q):
        return sum(float(np.sum(np.asarray(P[vi.name]) *
                                np.asarray(_apply_block(h, i, j, values, sizes, Q[vj.name]))))
                   for i, vi in enumerate(chosen) for j, vj in enumerate(chosen))
    a, b = form(D, E), form(E, D)
    if np.isfinite(a) and np.isfinite(b):
        assert abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b)), (a, b)
    # the NumPy code of the whole: np.block of the blocks, or lambda dX, dY: (HX, HY)
    obj = report.to_json()
    code = obj["result"].get("numpy")
    if code is None:
        return
    py = obj.get("python_names", {})
    scope = {"np": np, **{py.get(k, k): v for k, v in values.items() if isinstance(k, str)}}
    got = eval(code, scope)
    if h.matrix:
        want = np.block([[np.atleast_2d(np.asarray(evaluate(e, values, sizes), dtype=float))
                          for e in row] for row in h.blocks])
        got = np.atleast_2d(np.asarray(got, dtype=float))
    else:
        got = [np.asarray(p, dtype=float) for p in got(*[E[v.name] for v in chosen])]
        want = [np.asarray(sum(_apply_block(h, i, j, values, sizes, E[vj.name])
                               for j, vj in enumerate(chosen)), dtype=float)
                for i in range(len(chosen))]
        got = np.concatenate([(g.reshape(w.shape) if g.size == w.size else
                               np.broadcast_to(g, w.shape)).ravel() for g, w in zip(got, want)])
        want = np.concatenate([w.ravel() for w in want])
    if np.all(np.isfinite(want)):
        assert np.allclose(got, want, rtol=1e-6, atol=1e-8), (code, got, want)


# ---------------------------------------------------------------- §2 second differentials

SECOND = [
    ("softmax(x)", "x", "dx1 .* t1 - softmax(x) (dx1^T t1) - t1 (dx1^T softmax(x))",
     {"t1": "dx2 .* softmax(x) - softmax(x) (dx2^T softmax(x))"}),
    ("sigmoid(W x)", "x",
     "W dx2 .* (W dx1) .* sigmoid(W x) .* t1.^2 - W dx2 .* (W dx1) .* sigmoid(W x).^2 .* t1",
     {"t1": "1 - sigmoid(W x)"}),
    ("sigmoid(W x)", "W",
     "sigmoid(W x) .* t1.^2 .* (dW1 x) .* (dW2 x) - sigmoid(W x).^2 .* t1 .* (dW1 x) .* (dW2 x)",
     {"t1": "1 - sigmoid(W x)"}),
    ("X^T X", "X", "dX1^T dX2 + dX2^T dX1", None),
    ("inv(X)", "X", "X^-1 (dX1 X^-1 dX2 + dX2 X^-1 dX1) X^-1", None),
    ("X^3", "X", "X dX1 dX2 + (X dX2 + dX2 X) dX1 + dX1 (X dX2 + dX2 X) + dX2 dX1 X", None),
    ("(x^T x) x", "x", "2 (dx1^T dx2) x + 2 (dx1^T x) dx2 + 2 (dx2^T x) dx1", None),
    ("exp(x) .* x", "x", "dx1 .* dx2 .* x .* exp(x) + 2 (dx1 .* dx2 .* exp(x))", None),
]


@pytest.mark.parametrize("src,wrt,text,where", SECOND)
def test_second_differentials(src, wrt, text, where):
    obj = one_json("hess", src, "--wrt", wrt, "--check", "--seed", "3")
    result = obj["result"]
    assert result["kind"] == "second_differential" and result["text"] == text
    assert result.get("where") == where and obj["check"]["passed"]
    d1, d2 = result["directions"]
    assert result["numpy"].startswith(f"lambda {d1}, {d2}: ")
    # the NumPy form against d²/ds dt F(X + s D + t E), and its symmetry
    problem = parse(src)
    values, sizes = point(problem, 11)
    rng = np.random.default_rng(4)
    D = rng.standard_normal(np.shape(values[wrt]))
    E = rng.standard_normal(np.shape(values[wrt]))
    fn = eval(result["numpy"], env(values))

    def F(s, t):
        vals = dict(values)
        vals[wrt] = values[wrt] + s * D + t * E
        return np.asarray(evaluate(problem.expr, vals, sizes), dtype=float)
    h = 1e-3
    num = (F(h, h) - F(h, -h) - F(-h, h) + F(-h, -h)) / (4 * h * h)
    got = np.asarray(fn(D, E))
    assert got.shape == num.shape and np.allclose(got, num, rtol=1e-4, atol=1e-5)
    assert np.allclose(fn(D, E), fn(E, D))


def test_second_differential_text_reads_back_and_expect_takes_the_quadratic_form():
    out = run("hess", "inv(X)").stdout.splitlines()
    assert out[:3] == ["X: n x n  # inferred", "dX1, dX2: n x n  # the directions",
                       "# second differential d²F[dX1, dX2] with respect to X (symmetric, "
                       "bilinear)"]
    assert [i for i in read_document("\n".join(out), []) if not hasattr(i, "expr")] == []
    assert run("hess", "inv(X)", "--expect", "2 X^-1 dX X^-1 dX X^-1").exit_code == 0
    assert run("hess", "inv(X)", "--expect", "X^-1 dX X^-1 dX X^-1", "--seed", "1").exit_code == 1
    pretty = run("hess", "X^T X", "--format", "pretty").stdout
    assert "d²F[dX1, dX2] = dX1ᵀ dX2 + dX2ᵀ dX1" in pretty


@settings(max_examples=examples(25), derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(expressions(depth=3, diffs=False), st.data())
def test_random_second_differentials_match_mixed_differences(expr, data):
    assume(expr.shape != SCALAR and _smooth(expr))
    syms = symbols(expr)
    assume(syms)
    var = data.draw(st.sampled_from(syms), label="variable")
    try:
        der = derive(bare(expr), var, "hess", Options())
    except MatdiffError as exc:
        assert exc.exit_code == 3, exc.message
        assume(False)
    assert der.kind == "second_differential"
    try:
        result = numeric_check(der, seed=data.draw(st.integers(0, 2**16), label="seed"), trials=2)
    except MatdiffError:
        assume(False)
    assume(not result.inconclusive)
    assert result.passed, f"d² of {expr!r} w.r.t. {var.name}: {result.summary()}"


# ---------------------------------------------------------------- diff --order k

@pytest.mark.parametrize("src,k,text", [
    ("x^T A x", 2, "2 dx^T A dx"),
    ("sum(exp(x))", 3, "sum(exp(x) .* dx.^3)"),
    ("logdet(X)", 3, "2 tr(X^-1 dX X^-1 dX X^-1 dX)"),
    ("inv(X)", 2, "2 X^-1 dX X^-1 dX X^-1"),
    ("x^T A x", 3, "0"),
])
def test_kth_differential(src, k, text):
    problem = parse(src)
    (name,) = [n for n in problem.symbols if n in ("x", "X")]
    obj = one_json("diff", src, "--wrt", name, "--order", str(k), "--check", "--seed", "2")
    assert obj["order"] == k and obj["result"]["text"] == text and obj["check"]["passed"]
    # the NumPy form against d^k/dt^k F(X + t D), by the central k-th difference
    values, sizes = point(problem, 6)
    D = np.random.default_rng(1).standard_normal(np.shape(values[name]))

    def F(t):
        vals = dict(values)
        vals[name] = values[name] + t * D
        return np.asarray(evaluate(problem.expr, vals, sizes), dtype=float)
    from math import comb
    h = 1e-2
    num = sum((-1) ** i * comb(k, i) * F((k / 2 - i) * h) for i in range(k + 1)) / h ** k
    got = eval(obj["result"]["numpy"], env(values))(D)
    assert np.allclose(got, num, rtol=1e-3, atol=1e-3)


def test_order_one_is_the_differential_and_text_says_the_order():
    assert run("diff", "x^T x", "--order", "1").stdout == run("diff", "x^T x").stdout
    assert "# differential of order 2" in run("diff", "x^T x", "--order", "2").stdout
    assert run("diff", "x^T x", "--order", "0").exit_code == 2


def test_api_whole_hessian():
    import matdiff_cli

    r = matdiff_cli.hessian("x1^2 x2", wrt=["x1", "x2"], declare=["x1, x2: scalar"])
    assert r.kind == "hessian" and r.text == "[[2 x2, 2 x1], [2 x1, 0]]"
    assert np.allclose(eval(r.numpy, env({"x1": 1.0, "x2": 2.0})), [[4, 2], [2, 0]])
    assert matdiff_cli.hessian("x^T A x", wrt=["x"]).text == "A + A^T"


def test_vec_of_an_all_matrix_hessian_says_it_is_already_one():
    r = run("hess", "x1^2 x2", "-d", "x1, x2: scalar", "--vec")
    assert r.exit_code == 0 and "# --vec: the Hessian is already the matrix" in r.stdout
    assert "vec block" not in r.stdout


def test_pretty_whole_hessian_keeps_its_indent_at_any_width():
    import io

    from rich.console import Console

    from matdiff_cli.runner import reports
    from matdiff_cli.commands import COMMANDS

    for expr, decl in [("sum(sigmoid(W x - b)) + x^T A x", ()),
                       ("x1^2 x2 + exp(x1 x2) sin(x1)", ("x1, x2: scalar",)),
                       ("x1^2 x2", ("x1, x2: scalar",))]:
        (report,) = reports("hess", expr, None, decl, Options(command="hess", fmt="pretty",
                                                               vec=True), COMMANDS["hess"])
        for width in (30, 40, 80):
            buf = io.StringIO()
            report.to_pretty(Console(file=buf, width=width, highlight=False, color_system=None))
            lines = buf.getvalue().splitlines()
            assert all(line.startswith("  ") for line in lines[2:]), (width, lines)
            assert max(len(line.rstrip()) for line in lines) <= width


def test_second_differentials_of_several_variables_each_read_back():
    out = run("hess", "sigmoid(W x)").stdout
    blocks = out.split("\n\n")
    assert len(blocks) == 2 and blocks[1].splitlines()[0] == "dx1, dx2: m  # the directions"
    assert blocks[0].splitlines()[:2] == ["W: n x m; x: m  # inferred",
                                          "dW1, dW2: n x m  # the directions"]
    assert all(not isinstance(i, Exception) for i in read_document(out, []))


TRIVIAL_NAME = re.compile(r"^[tuvV]\d+ = (-?[tuvV]\d+(\^T)?( [+-] -?[tuvV]\d+(\^T)?)*|[tuvV]\d+ [IO1]|\w+ eye\(\w+\))$")


@pytest.mark.parametrize("src, decls", [
    ("lambda_max(2 A + 2 A^T + B .* B^T)", ["A: n x n", "B: n x n"]),
    ("tr(inv(A + B) A) + logdet(A^T A + B^T B)", ["A: n x n", "B: n x n"]),
    ("sum(tanh(W x + b)) + x^T W^T W x", ["W: n x n", "x: n", "b: n"]),
])
def test_a_named_piece_is_never_a_trivial_composition_of_names(src, decls):
    """Shared pieces are named by their size as printed, names counting as one:
    never `t4 = -t1`, `t6 = t5^T`, `t3 = t2 eye(n)` or `t5 = t3 + t4`."""
    args = ["hess", src]
    for d in decls:
        args += ["-d", d]
    out = CliRunner().invoke(cli, args).output
    assert out.count("\n") > 3, out
    for line in out.splitlines():
        assert not TRIVIAL_NAME.match(line), (line, out)


def test_a_costly_shared_call_stays_named_for_the_code():
    """pinv(t1) is a word once t1 has a name, but it costs: it stays named, and
    the JSON numpy field computes it once (13 times when it was written out)."""
    out = CliRunner().invoke(cli, ["hess", "sum(tanh(eigvec_max(S)))", "-d",
                                   "S: n x n symmetric", "--wrt", "S", "--format", "json"]).output
    assert json.loads(out.splitlines()[0])["result"]["numpy"].count("pinv") == 1


def test_taking_whole_terms_out_never_parts_a_shared_piece():
    """0.5 (t2 + (t2 + t3)^T + t3), not U1 t1 V1^T - V1 t1 U1^T + 0.5 (2 U1 t1 V1^T -
    2 V1 t1 U1^T)^T: the whole terms stay in when they are shared with the rest."""
    out = CliRunner().invoke(cli, ["grad", "||polar(S)||_F^2", "-d", "S: n x n symmetric",
                                   "--wrt", "S"]).output
    assert "0.5 (t2 + (t2 + t3)^T + t3)" in out, out
