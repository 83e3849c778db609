"""No small input costs more than linear work (issue 8 §2, issue 13 "quadratic paths").

Cost is counted, never timed: ``work(fn, modules)`` counts the Python line events
run inside the given modules (a loop iteration is a line event, so a quadratic
loop shows however fast the machine is).  Each family is run at two sizes and
the ratio of the counts must stay well under the 4x of a quadratic (doubling the
size gives ~2x for linear cost; the bound is generous).  The mathematics of the
changes (powers, repeated chains) is checked by finite differences.
"""
from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from matdiff_cli import derivatives, readoff, simplify, steps
from matdiff_cli import derivative_report
from matdiff_cli.differentials import algebra, engine, registry
from matdiff_cli.readoff import adjoint, vec
from matdiff_cli.shapes import calls, desugar, dims, elaborate, layers, plans, scope
from matdiff_cli.writers import text as text_writer
from matdiff_cli.commands import Options
from matdiff_cli.derivative_report import DerivativeReport
from matdiff_cli.derivatives import derive
from matdiff_cli.document import read_document
from matdiff_cli.errors import MatdiffError
from matdiff_cli.trust import numeric_check

ENGINE = (engine, registry, algebra, simplify, readoff, adjoint, vec)
LINEAR = 2.8          # doubling the input: linear cost gives ~2, quadratic ~4


def work(fn, modules) -> int:
    """Line events executed in the files of ``modules`` while fn runs."""
    files = {m.__file__ for m in modules}
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def outer(frame, event, arg):
        return local if frame.f_code.co_filename in files else None

    old = sys.gettrace()
    sys.settrace(outer)
    try:
        fn()
    finally:
        sys.settrace(old)
    return count


def problem(text: str):
    items = read_document(text)
    last = items[-1]
    if isinstance(last, MatdiffError):
        raise last
    return last


def derivation(text: str, var: str, command: str = "grad", **opts):
    p = problem(text)
    return derive(p, p.symbols[var], command, Options(**opts))


def ratio(family, modules, small: int, big: int) -> float:
    """work(big) / work(small); each size has fresh variable names (interned nodes of
    one size are not reused by the other)."""
    counts = [work(lambda n=n, tag=tag: family(n, tag), modules)
              for n, tag in ((small, "p"), (big, "q"))]
    return counts[1] / counts[0]


def fd_ok(text: str, var: str, command: str = "grad") -> None:
    der = derivation(text, var, command)
    result = numeric_check(der, seed=3, trials=2)
    assert result.passed, (text, result.summary())


# ---------------------------------------------------------------- powers

@pytest.mark.parametrize("text,var", [
    *[(f"tr(A^{k})", "A") for k in (1, 2, 3, 5, 8, 40)],
    *[(f"tr(B A^{k})", "A") for k in (2, 3, 4)],
    ("tr(A A A A A A A)", "A"),                        # a repeated chain is a power
    ("tr(A B A B A B A B A B A B)", "A"),              # of a block of two factors
    ("tr(A B A B A B A B A B A B)", "B"),
    (" ".join(["x^T x"] * 7), "x"),                    # a scalar block
    (" ".join(["(x^T A x)"] * 6), "A"),
    ("y^T A A A A A A A B B B x", "A"),                # runs inside a chain
    ("tr(X X X X X X X C)", "X"),
    ("sum(A^3)", "A"),
])
def test_power_and_repeated_chain_derivatives_match_finite_differences(text, var):
    fd_ok(text, var)


@pytest.mark.parametrize("text", ["A^3", "A A A A A A A", "A B A B A B A B A B A B"])
def test_power_jacobian_operator_matches_finite_differences(text):
    fd_ok(text, "A", "jac")


@pytest.mark.parametrize("text,var", [("tr(A^4)", "A"), (" ".join(["x^T x"] * 6), "x"),
                                      ("tr(A A A A A A B)", "A")])
def test_power_hessians_match_finite_differences(text, var):
    fd_ok(text, var, "hess")


def test_generated_repeated_chains_match_finite_differences():
    """Chains that repeat a random block k times (the class the power rule takes
    over), with a random prefix and suffix so that runs and whole-chain periods
    both occur, checked against finite differences."""
    import random

    rng = random.Random(8)
    blocks = [["A"], ["A", "B"], ["A", "x", "x^T"], ["B", "A^T"], ["(x^T A x)", "A"]]
    for _ in range(10):
        block = rng.choice(blocks)
        k = rng.randint(2, 7)
        chain = " ".join(block * k)
        pre, post = rng.choice([("", ""), ("B", ""), ("", "B"), ("A", "B")])
        text = f"tr({' '.join(p for p in (pre, chain, post) if p)})"
        fd_ok("A, B: n x n; x: n\n" + text, "A")


def test_generated_long_chains_of_varying_factors_match_finite_differences():
    """Chains longer than differentials.LONG_CHAIN with several factors that vary: the
    product rule with shared prefixes and suffixes (or the plain rule, when a 1x1
    step makes a nested grouping not fit), against finite differences."""
    import random

    rng = random.Random(13)
    pool = ["X", "A", "B", "X^T", "x x^T", "(x^T X x)", "(x^T x)", "X^-1"]
    for _ in range(8):
        factors = [rng.choice(pool) for _ in range(rng.randint(17, 24))]
        factors[rng.randrange(len(factors))] = "X"
        fd_ok("A, B, X: n x n; x: n\n" + f"tr({' '.join(factors)})", "X")
    fd_ok("x: n; A: n x n\n" + "x^T x x^T " + " ".join(["A x x^T"] * 9) + " A x", "x")
    fd_ok("x: n; A: n x n\n" + "x^T x x^T " + " ".join(["A x x^T"] * 9) + " A x", "A")


def test_steps_of_a_huge_power_are_one_step():
    der = derivation("tr(A^1000000)", "A", steps=True)
    assert [s.rule for s in der.steps] == ["trace of a power"]
    assert der.steps_complete


def test_trace_of_a_huge_power_is_one_term():
    der = derivation("tr(A^1000000)", "A")
    assert der.result.size() < 10
    assert "1000000" in DerivativeReport(der).to_text()
    # its cost does not depend on the exponent
    r = ratio(lambda n, tag: derivation(f"tr({tag.upper()}^{10 ** n})", tag.upper()),
              ENGINE, 3, 6)
    assert r < 1.5


def test_a_huge_power_outside_a_trace_is_refused_with_a_message():
    for text in ("tr(B A^1000000)", "sum(A^100000)", "A^5000"):
        with pytest.raises(MatdiffError) as info:
            derivation(text, "A", "grad" if text[0] != "A" else "jac")
        assert info.value.exit_code == 3
        assert "terms" in info.value.message and "Error" not in info.value.message


# ---------------------------------------------------------------- families

def repeated_products(n, tag):
    derivation(" ".join([f"{tag}^T {tag}"] * n), tag)


def factors_of_a(n, tag):
    derivation(" ".join([tag.upper()] * n), tag.upper(), "jac")


def long_trace(n, tag):
    X = tag.upper()
    derivation(f"tr({' '.join([X] * n)} {X}B)", X)


def interleaved_factors(n, tag):
    X = tag.upper()
    derivation(f"tr({' '.join(f'{X} {X}C{i}' for i in range(n))})", X)


def many_variables(n, tag):
    p = problem(" + ".join(f"{tag}{i}^T {tag}{i}" for i in range(n)))
    for s in p.symbols.values():
        readoff.gradient(p.expr, s)


def _chain(n, tag, rhs):
    lines = [f"{tag}: n"]
    prev = tag
    for i in range(1, n + 1):
        lines.append(f"{tag}h{i} = {rhs(prev)}")
        prev = f"{tag}h{i}"
    lines.append(f"sum({prev})")
    return "\n".join(lines)


def tanh_chain(n, tag):
    der = derivation(_chain(n, tag, lambda p: f"tanh({p})"), tag)
    DerivativeReport(der).to_text()


def square_chain(n, tag):
    der = derivation(_chain(n, tag, lambda p: f"{p} .* {p} + {p}"), tag)
    DerivativeReport(der).to_text()


@pytest.mark.parametrize("family,small", [
    (repeated_products, 40),
    (factors_of_a, 40),
    (long_trace, 40),
    (interleaved_factors, 20),
    (many_variables, 40),
    (tanh_chain, 100),
    (square_chain, 40),
])
def test_engine_work_is_linear(family, small):
    assert ratio(family, ENGINE, small, 2 * small) < LINEAR


SHAPES = (calls, desugar, dims, elaborate, layers, plans, scope)


def test_definition_shapes_work_is_linear():
    def shapes_only(n, tag):
        read_document(_chain(n, tag, lambda p: f"tanh({p})"))
    assert ratio(shapes_only, SHAPES, 200, 400) < LINEAR


@pytest.mark.parametrize("rhs", [lambda p: f"tanh({p})", lambda p: f"(I - x x^T) tanh({p})"])
def test_shape_report_of_a_definition_chain_is_linear(rhs):
    """The shape report writes every definition: each is rendered with the others as
    names, never by walking into them (nor into their declarations)."""
    from matdiff_cli import report as report_mod
    from matdiff_cli.commands import COMMANDS
    from matdiff_cli.render import text as text_mod

    def shape_text(n, tag):
        doc = _chain(n, tag, rhs).replace("x x^T", f"{tag} {tag}^T")
        out = COMMANDS["shape"](problem(doc), Options(command="shape"))
        for r in (out if isinstance(out, list) else [out]):
            r.to_text()
    assert ratio(shape_text, (text_mod, report_mod, text_writer), 60, 120) < LINEAR


def test_report_named_lines_work_is_linear():
    ders = {}
    for n, tag in ((60, "r"), (120, "s")):
        ders[tag] = derivation(_chain(n, tag, lambda p: f"tanh({p})"), tag)
    # the report's pieces and its text writer (where the report's code is)
    counts = [work(lambda d=d: DerivativeReport(d).to_text(),
                   (derivatives, derivative_report, text_writer))
              for d in ders.values()]
    assert counts[1] / counts[0] < LINEAR


def doubling(n, tag):
    return _chain(n, tag, lambda p: f"{p} + sin({p})")


def test_doubling_definitions_json_and_steps_stay_linear():
    sizes = {}
    for n, tag in ((10, "u"), (20, "v")):
        der = derivation(doubling(n, tag), tag, steps=True)
        report = DerivativeReport(der)
        sizes[n] = (len(json.dumps(report.to_json())), len(report.to_text()))
    for k in range(2):
        assert sizes[20][k] < LINEAR * sizes[10][k], sizes
    # the differential is written with named pieces, each defined
    der = derivation(doubling(12, "w"), "w")
    out = DerivativeReport(der).to_json()["differential"]
    assert len(out["text"]) < 400 and out["where"]


def test_steps_stop_before_a_step_grows_too_large():
    der = derivation(doubling(30, "z"), "z", steps=True)
    assert not der.steps_complete
    names = derivative_report.definitions_by_node(der.problem)
    assert all(steps.printed_size(simplify.present(s.expr), names) <= steps.MAX_STEP_NODES
               for s in der.steps)


# ---------------------------------------------------------------- NumPy code of deep nesting

@pytest.mark.parametrize("wrap", ["sigmoid({})", "softplus({})", "exp({})", "({})^T", "-({})",
                                  "log(1 + {})", "2 {} .* x", "x + ({})", "A ({})"])
def test_numpy_code_of_deep_nesting_compiles(wrap):
    from matdiff_cli.render.numpy import to_numpy

    for depth in (30, 60, 120):
        text = "x"
        for _ in range(depth):
            text = wrap.format(text)
        try:
            p = problem("x: n; A: n x n\n" + text)
        except MatdiffError:
            continue     # nested deeper than the language allows
        compile(to_numpy(p.expr), "<numpy>", "eval")


@pytest.mark.parametrize("fmt", ["text", "pretty"])
def test_output_over_all_variables_is_linear(fmt):
    """grad without --wrt: one result per variable, the problem's shapes written
    once (each result repeating all n shapes made the output n^2)."""
    from matdiff_cli.cli import cli

    sizes = {}
    for n in (20, 40):
        doc = " + ".join(f"x{i}^T A x{i}" for i in range(n))
        out = CliRunner().invoke(cli, ["grad", doc, "--format", fmt], env={"COLUMNS": "200"})
        assert out.exit_code == 0, out.output
        sizes[n] = len(out.output)
    assert sizes[40] < LINEAR * sizes[20], sizes


def test_reports_over_all_variables_are_linear_work():
    """One name table and one division check per problem, not per variable."""
    from matdiff_cli import names as names_mod
    from matdiff_cli.commands import COMMANDS

    def every_variable(n, tag):
        p = problem(" + ".join(f"{tag}{i}^T {tag}{i}" for i in range(n)))
        for r in COMMANDS["grad"](p, Options(command="grad")):
            r.to_text()
    assert ratio(every_variable, (derivatives, names_mod), 40, 80) < LINEAR


def test_whole_hessian_named_lines_work_is_linear():
    """The whole Hessian's named pieces are rendered with the one names dict: a
    copy of it per piece made the report quadratic in their number."""
    from matdiff_cli import hessians
    from matdiff_cli.hessians import hessian_report
    from matdiff_cli.render.text import to_text

    counts, pieces = [], []
    for n, tag in ((8, "p"), (16, "q")):
        lines = ["x, b: n", "W: n x n", f"{tag}1 = tanh(W x + b)"]
        lines += [f"{tag}{i} = tanh({tag}{i - 1})" for i in range(2, n + 1)]
        prob = problem("\n".join(lines + [f"sum({tag}{n})"]))
        (xs, bs) = (prob.symbols["x"], prob.symbols["b"])
        report = hessian_report(prob, [xs, bs], Options(command="hess"))
        pieces.append(len(report.named_lines(to_text, report._exprs())))
        counts.append(work(lambda r=report: r.named_lines(lambda e, names: "", r._exprs()),
                           (hessians, derivatives, derivative_report)))
    assert pieces[1] > 1.5 * pieces[0] > 0
    assert counts[1] / counts[0] < LINEAR


def test_a_long_wrt_list_is_read_once_per_document():
    """One --wrt list serves a document whose problems each use one of its names:
    each problem looks up its own few symbols (scanning the list for each of k
    problems cost k^2), and gets exactly the variables a scan would give."""
    def resolve_all(n, tag):
        items = read_document("".join(
            f"{tag}{i}, {tag}{i + 1}: n x n\ntr({tag}{i} {tag}{i + 1})\n" for i in range(n)))
        wrt = tuple(f"{tag}{i}" for i in reversed(range(n + 1)))
        for p in items:
            got = [s.name for s in derivatives.resolve_wrt(p, wrt)]
            assert got == [w for w in wrt if w in p.symbols]   # the list's order
    assert ratio(resolve_all, (derivatives,), 100, 200) < LINEAR
