"""The rules as data: every differential rule and every simplification rule carries
its identity (what ``--steps`` writes), every simplification rule says why it
terminates, and the ones that say they shrink do shrink."""
from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matdiff_cli import differentials
from matdiff_cli.expr import Expr, node_types
from matdiff_cli.simplify import RULES, core, simplify
from matdiff_cli.steps import differential_steps
from budget import examples
from strategies import expressions


def test_every_differential_rule_has_its_identity():
    missing = [t.__name__ for t in differentials.RULES if t not in differentials.RULE_IDENTITIES]
    assert not missing, f"rules without an identity (differentials.rule(identity=...)): {missing}"
    for t, identity in differentials.RULE_IDENTITIES.items():
        cases = identity[0].values() if isinstance(identity, tuple) else [identity]
        assert all(isinstance(c, str) and "=" in c or "not written" in c for c in cases), t


def test_every_simplification_rule_is_one_identity_that_says_why_it_stops():
    rewrites = {r for rules in RULES.values() for r in rules}
    assert len(rewrites) > 50
    identities = [r.identity for r in rewrites]
    assert len(set(identities)) == len(identities), "two rules state the same identity"
    for r in rewrites:
        assert "=" in r.identity and r.terminates in core.TERMINATION, r
        assert set(r.types) <= set(node_types()), r


def _measure(e: Expr, memo: dict) -> tuple:
    """(leaves, nodes) of e written as a tree."""
    for node in _post(e, memo):
        if not node.children:
            memo[node] = (1, 1)
        else:
            kids = [memo[c] for c in node.children]
            memo[node] = (sum(k[0] for k in kids), 1 + sum(k[1] for k in kids))
    return memo[e]


def _post(e, memo):
    from matdiff_cli.expr import postorder_missing
    return postorder_missing(e, memo)


@settings(max_examples=120, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(expressions(depth=4))
def test_a_rule_that_says_it_shrinks_shrinks(expr):
    """Each firing of a SHRINKS rule gives fewer leaves, or as many and fewer nodes
    (a factor written k times is written once; (A^T)^T is A)."""
    before = dict(core._fired)
    simplify(expr)
    memo: dict = {}
    for node, (rewrite, out) in core._fired.items():
        if node in before or rewrite.terminates is not core.SHRINKS:
            continue
        assert _measure(out, memo) < _measure(node, memo), (rewrite, node, out)


def test_the_rules_that_fired_are_read_back():
    from matdiff_cli.document import parse

    problem = parse("A: n x n symmetric\nx: n\ntr((A X)^T) + x^T A^T x + x^T A x")
    fired = [r.identity for r in core.rules_fired(problem.expr)]
    assert "A^T = A for a symmetric A" in fired and "(A B)^T = B^T A^T" in fired
    assert "a + 2 a + 0 = 3 a" in fired
    assert core.rules_fired(simplify(problem.expr)) == []   # canonical: nothing to do


def test_steps_write_the_identities_of_the_rules():
    from matdiff_cli.document import parse

    problem = parse("X: n x m\ntr(X^T A X B)")
    steps, complete = differential_steps(problem.expr, problem.symbols["X"])
    assert complete and [s.identity for s in steps] == [
        "d tr(A) = tr(dA)", "d(A B) = dA B + A dB, for every factor of the chain",
        "d(A^T) = (dA)^T"]


def test_steps_say_which_simplification_rules_fired():
    out = subprocess.run([sys.executable, "-m", "matdiff_cli", "grad", "tr(X^T A X B)",
                          "--wrt", "X", "--steps", "--format", "text"],
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "simplify: df =" in line)
    assert "#     by tr(A + B) = tr(A) + tr(B)" in lines[at + 1:]
    assert "#     by tr(A B C) = tr(C A B), dX last" in lines[at + 1:]


def test_each_lazy_family_is_filed_under_the_module_of_its_node_classes():
    """A differential rule outside algebra.py is found on first need by the module
    of its node's class (registry.LAZY_FAMILIES): every rule is where that looks."""
    from matdiff_cli.differentials import registry

    families = registry.LAZY_FAMILIES
    for t, fn in differentials.RULES.items():  # every family loaded
        if fn.__module__.startswith("matdiff_cli.ops."):
            continue   # a built-in's, declared in ops/ and filed with the registry
        family = fn.__module__.rsplit(".", 1)[-1]
        assert family == "algebra" or family in families.get(t.__module__, ()), (t, family)
    assert {f for fs in families.values() for f in fs} == {"elementwise"}


def test_a_fresh_process_loads_a_family_when_a_node_of_it_is_differentiated():
    code = """if True:
        import sys
        from matdiff_cli import gradient
        g = gradient("tr(X^T A X B)", wrt="X")
        before = {m for m in sys.modules if m.startswith("matdiff_cli.differentials.")}
        g2 = gradient("lambda_max(S) + logdet(S) + sum(exp(S))", wrt="S",
                      declare=["S: n x n symmetric"])
        after = {m for m in sys.modules if m.startswith("matdiff_cli.differentials.")}
        print(sorted(m.rsplit(".", 1)[1] for m in before))
        print(sorted(m.rsplit(".", 1)[1] for m in after - before))
        print(g.text)
        print(g2.text)
    """
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "['algebra', 'engine', 'registry']"
    assert lines[1] == "['elementwise']"
    assert lines[2] == "A X B + A^T X B^T"
    from matdiff_cli import gradient  # here every family is loaded: the same gradient

    assert lines[3] == gradient("lambda_max(S) + logdet(S) + sum(exp(S))", wrt="S",
                                declare=["S: n x n symmetric"]).text


def _brackets_a_whole_term(e: Expr) -> bool:
    from matdiff_cli.expr import Add, Mul, Num, walk
    from matdiff_cli.simplify.core import split_coef
    for n in walk(e):
        if isinstance(n, Mul) and len(n.factors) == 2 and isinstance(n.factors[0], Num) \
                and isinstance(n.factors[1], Add) and n.factors[0].value.denominator != 1:
            c = n.factors[0].value
            whole = [(c * split_coef(t)[0]).denominator == 1 for t in n.factors[1].terms]
            if any(whole):
                return True
    return False


def _brackets_only_negative_terms(e: Expr) -> bool:
    from matdiff_cli.expr import Add, Mul, walk
    from matdiff_cli.simplify.core import split_coef
    return any(isinstance(n, Mul) and any(
        isinstance(f, Add) and all(split_coef(t)[0] < 0 for t in f.terms) for f in n.factors)
        for n in walk(e))


def test_a_bracket_of_negative_terms_gives_its_sign_to_the_product():
    """-0.5 X^-1 (A + A^T) X^-1, not 0.5 X^-1 (-A - A^T) X^-1."""
    from matdiff_cli import api
    g = api.gradient("tr(inv(X) A)", "X", ["X: n x n spd", "A: n x n"])
    assert g.text == "-0.5 X^-1 (A + A^T) X^-1"


def test_a_fraction_never_brackets_a_term_it_makes_whole():
    """S^-1 - 0.5 (C + C^T), not 0.5 (2 S^-1 - C - C^T)."""
    from matdiff_cli import api
    g = api.gradient("logdet(S) - tr(S C)", "S", ["S: n x n symmetric", "C: n x n"])
    assert g.text == "S^-1 - 0.5 (C + C^T)"
    assert api.gradient("x^T S x + tr(S C)", "S", ["S: n x n symmetric", "C: n x n", "x: n"]
                        ).text == "x x^T + 0.5 (C + C^T)"
    assert api.gradient("logdet(S) + 2 tr(A S)", "S", ["S: n x n symmetric", "A: n x n"]
                        ).text == "A + A^T + S^-1"   # every term whole: no bracket


@settings(max_examples=examples(60), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(expressions(shape=("n", "n"), depth=2), expressions(shape=("n", "n"), depth=2))
def test_the_printed_form_takes_whole_terms_out_of_a_fraction(a, b):
    from fractions import Fraction

    from matdiff_cli.expr import Add, Mul, Num
    from matdiff_cli.simplify import present
    try:
        e = Mul(Num(Fraction(1, 2)), Add(Mul(Num(2), a), b))
    except ValueError:   # shapes that do not add up
        return
    shown = present(simplify(e))
    assert not _brackets_a_whole_term(shown), e
    assert not _brackets_only_negative_terms(shown), e
    minus = present(simplify(Mul(a, Add(Mul(Num(-1), a), Mul(Num(-3), b)))))
    assert not _brackets_only_negative_terms(minus), minus


# gradients as written by hand: each a member of a class a property test below generates
PRINTED = [
    # between 1 x 1 factors the elementwise product is the product
    ("(2 .* 3) x^T x", "x", ["x: scalar"], "12 x"),
    ("x^T (2 .* x)", "x", ["x: scalar"], "4 x"),
    ("(a .* b) x", "x", ["a, b, x: scalar"], "a b"),
    ("sigmoid(x)", "x", ["x: scalar"], "sigmoid(x) (1 - sigmoid(x))"),
    # a bracket's common whole number goes to the product
    ("det(S^2 + I)", "S", ["S: n x n symmetric"], "det(I + S^2) ((I + S^2)^-1 S + S (I + S^2)^-1)"),
    ("det((S 3)^T (S 3) + I)", "S", ["S: n x n symmetric"],
     "9 det(I + 9 S^2) (S (I + 9 S^2)^-1 + (I + 9 S^2)^-1 S)"),
    # an elementwise power of a scaled matrix: numbers and scalars out for a whole
    # exponent (not for 0.5: alpha may be negative); a broadcast constant's power
    ("sum((2 ones(n)).^3 .* x)", "x", ["x: n"], "8 ones(n)"),
    ("sum((alpha ones(n)).^2 .* x)", "x", ["alpha: scalar", "x: n"], "alpha^2 ones(n)"),
    ("x^T (1 + zeros(n)).^(-1)", "x", ["x: n"], "ones(n)"),
    ("sum((alpha x).^0.5)", "x", ["alpha: scalar", "x: n"], "0.5 alpha (alpha x).^(-0.5)"),
]


@pytest.mark.parametrize("src, wrt, declare, text", PRINTED)
def test_the_printed_gradient_reads_as_by_hand(src, wrt, declare, text):
    from matdiff_cli import api
    assert api.gradient(src, wrt, declare).text == text


@settings(max_examples=examples(60), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(expressions(shape=(1, 1), depth=3))
def test_no_canonical_form_keeps_an_elementwise_product_of_scalars(e):
    from matdiff_cli.expr import Hadamard, walk
    kept = [n for n in walk(simplify(e)) if isinstance(n, Hadamard) and n.shape == (1, 1)]
    assert not kept, kept


@pytest.mark.parametrize("rows, cols", [(2, 3), ("n", "m"), ("n", 1), (1, "m"), ("n", "n")])
def test_a_linear_map_of_zeros_is_zeros(rows, cols):
    """Every linear built-in, and a positive elementwise power, takes 0 to 0: a zero
    result copied back into an input stays zero."""
    from matdiff_cli.expr import (
        DiagM, DiagV, EPow, Kron, Sum, Sym, Trace, Transpose, Unvec, Vec, Zeros, is_zero,
    )
    from matdiff_cli.rational import Fraction
    z, a = Zeros((rows, cols)), Sym("A", (rows, cols))
    made = [Vec(z), Transpose(z), Sum(z), Kron(z, a), Kron(a, z), EPow(z, Fraction(3, 2)),
            EPow(z, Fraction(2))]
    if rows == cols:
        made += [DiagV(z), Trace(z)]
    if cols == 1:
        made.append(DiagM(z))
    if isinstance(rows, int) and isinstance(cols, int):
        made.append(Unvec(Vec(z), (cols, rows)))
    for e in made:
        assert is_zero(simplify(e)), e
    assert not is_zero(simplify(EPow(z, Fraction(0))))   # 0.^0 is ones


def _keeps_a_common_number(e: Expr) -> bool:
    """A product with a bracketed sum whose whole-number coefficients share a factor."""
    from math import gcd

    from matdiff_cli.expr import Add, Hadamard, Mul, walk
    from matdiff_cli.simplify.core import split_coef
    for n in walk(e):
        for f in n.factors if isinstance(n, (Mul, Hadamard)) else ():
            if isinstance(f, Add):
                ks = [split_coef(t)[0] for t in f.terms]
                if all(k.denominator == 1 for k in ks) and gcd(*(k.numerator for k in ks)) > 1:
                    return True
    return False


@settings(max_examples=examples(60), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(expressions(shape=("n", "n"), depth=2), expressions(shape=("n", "n"), depth=2),
       expressions(shape=(1, 1), depth=2))
def test_the_printed_form_takes_a_common_number_out_of_a_bracket(a, b, s):
    from matdiff_cli.expr import Add, Mul, Num
    from matdiff_cli.rational import Fraction
    from matdiff_cli.simplify import present
    from matdiff_cli.expr import Hadamard
    for c in (Fraction(1, 2), Fraction(3), Fraction(-1, 6)):
        bracket = Add(Mul(Num(6), a), Mul(Num(-4), b))
        for e in (Mul(Num(c), s, bracket), Mul(Num(c), s, Hadamard(a, bracket))):
            shown = present(simplify(e))
            assert not _keeps_a_common_number(shown), shown


@settings(max_examples=examples(60), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(expressions(shape=("n", 1), depth=2), st.sampled_from([2, 3, -1, -2]))
def test_no_canonical_elementwise_power_keeps_a_number_or_scalar_inside(v, p):
    from matdiff_cli.expr import SCALAR, EPow, Mul, Num, Sym, walk
    from matdiff_cli.rational import Fraction
    out = simplify(EPow(Mul(Num(3), Sym("alpha", SCALAR), v), Fraction(p)))
    kept = [n for n in walk(out) if isinstance(n, EPow) and n.p.denominator == 1
            and isinstance(n.base, Mul) and any(f.shape == SCALAR for f in n.base.factors)]
    assert not kept, kept


def test_a_transpose_goes_into_an_elementwise_product_of_symbols_and_symmetric_factors():
    """(B .* S)^T = B^T .* S, so the whole Hessian's H[B,A] joins (B .* t)^T + B^T .* t
    into 2 B^T .* t; a product factor keeps the transpose outside."""
    from click.testing import CliRunner

    from matdiff_cli.build import symmetric
    from matdiff_cli.cli import cli
    from matdiff_cli.document import parse_expr
    from matdiff_cli.expr import Hadamard, Sym, Transpose
    d = ["B, A, C: n x n", "S: n x n symmetric", "x: n"]
    assert simplify(Transpose(parse_expr("B .* S", d))) is simplify(parse_expr("B^T .* S", d))
    kept = simplify(Transpose(parse_expr("(A C) .* S", d)))
    assert isinstance(kept, Transpose) and isinstance(kept.a, Hadamard)
    assert symmetric(parse_expr("x ones(1, n) + ones(n) x^T", d))   # ones(1, n)^T is ones(n)
    out = CliRunner().invoke(cli, ["hess", "lambda_max(2 A + 2 A^T + B .* B^T)",
                                   "-d", "A, B: n x n"]).output
    blocks = out.split("# H[")
    ba = next(b for b in blocks if b.startswith("B,A]"))
    assert ba.splitlines()[1].startswith("4 (B^T .* ("), out
    # and a transpose that would become two stays outside: (x .* a)^T
    x, a = Sym("x", ("n", 1)), Sym("a", ("n", 1))
    kept = simplify(Transpose(Hadamard(x, a)))
    assert isinstance(kept, Transpose), kept


# the forms this round's rules rewrite, built around random operands
def _rewritten_forms(a, b, s, t):
    from matdiff_cli.expr import (
        SCALAR, Broadcast, DiagV, EPow, Hadamard, Kron, Mul, Num, Sym, Transpose, Vec, Zeros,
    )
    from matdiff_cli.rational import Fraction
    alpha = Sym("alpha", SCALAR)
    z = Zeros(a.shape)
    return [Transpose(Hadamard(a, b)), Transpose(Hadamard(Transpose(a), b)),
            EPow(Mul(Num(3), alpha, a), Fraction(2)), EPow(Mul(Num(-2), a), Fraction(-1)),
            EPow(Broadcast(s, a.shape), Fraction(3)), Hadamard(s, t), Mul(Hadamard(s, t), a),
            Vec(z), Kron(z, a), EPow(z, Fraction(2)), DiagV(Mul(Num(2), Zeros(("n", "n")))),
            Mul(Num(Fraction(1, 2)), s, Hadamard(a, Mul(Num(6), b)))]


@settings(max_examples=examples(40), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(expressions(shape=("n", "n"), depth=2, diffs=False),
       expressions(shape=("n", "n"), depth=2, diffs=False),
       expressions(shape=(1, 1), depth=2, diffs=False),
       expressions(shape=(1, 1), depth=2, diffs=False), st.integers(0, 2 ** 16))
def test_the_canonical_and_the_printed_forms_keep_the_value(a, b, s, t, seed):
    """Every form above, and random ones, evaluate the same before and after
    simplify and present, at random points (the rules' numerical test)."""
    import numpy as np

    from matdiff_cli.errors import MatdiffError
    from matdiff_cli.numeric import evaluate, relative_error, sample_values
    from matdiff_cli.simplify import present
    for e in _rewritten_forms(a, b, s, t) + [a, s]:
        try:
            values, sizes = sample_values([e], np.random.default_rng(seed))
        except (ValueError, MatdiffError):
            continue
        with np.errstate(all="ignore"):
            want = np.asarray(evaluate(e, values, sizes), dtype=float)
            if not np.all(np.isfinite(want)):
                continue
            for got in (simplify(e), present(simplify(e))):
                have = np.asarray(evaluate(got, values, sizes), dtype=float)
                assert relative_error(have.reshape(want.shape), want, floor=1e-6) < 1e-8, (e, got)
