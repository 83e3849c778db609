"""The derivation skips work it can prove it need not do, and gives what the long
way gives: a rule that makes a normal form is not run again over its own result
(its result is a fixed point of it), and the division check does not simplify an
expression whose kinds no rule rewrites into a division."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from matdiff_cli.derivatives import _cannot_divide
from matdiff_cli.document import parse
from matdiff_cli.expr import Expr, Sym, Trace, walk
from matdiff_cli.simplify import RULES, simplify
from matdiff_cli.simplify.core import NORMAL
from budget import examples
from strategies import expressions

PROPERTY = settings(max_examples=examples(80), deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def _normal_rules(kind) -> list:
    return [r for r in RULES.get(kind, ()) if r.terminates is NORMAL]


@PROPERTY
@given(expressions(depth=4))
def test_a_normal_form_rule_leaves_its_result_over_canonical_children_unchanged(e):
    """What lets the strategy try only the other rules on such a result
    (core._normal_form)."""
    for node in walk(e):
        rebuilt = node.rebuild([simplify(c) for c in node.children]) if node.children else node
        for rewrite in _normal_rules(type(rebuilt)):
            out = rewrite.fn(rebuilt)
            if type(out) is type(rebuilt) and all(simplify(c) is c for c in out.children):
                assert rewrite.fn(out) is out, (rewrite.name, rebuilt, out)


def test_a_scaled_elementwise_product_inside_one_is_spliced_at_once():
    """(c (a ⊙ b)) ⊙ d is c (a ⊙ b ⊙ d) in one pass of canonical_hadamard."""
    from matdiff_cli.simplify.algebra import canonical_hadamard

    p = parse("X: n x m\nsin(cos(X)) .* (2 sin(X) .* X)")
    out = canonical_hadamard(p.expr.rebuild([simplify(c) for c in p.expr.children]))
    inner = out.factors[-1]
    assert [type(f).__name__ for f in inner.factors].count("Hadamard") == 0
    assert simplify(p.expr) is simplify(out)


def test_a_kind_no_rule_rewrites_passes_the_division_check_unsimplified():
    for text in ("sigma_max(X)", "lambda_max(S) + ||X x||_1", "sum(eigvals(S))"):
        e = parse("X: n x m\nx: m\nS: n x n symmetric\n" + text).expr
        assert _cannot_divide(e), text
    for text in ("sigma_max(X) / (α - α)", "lambda_max(S)^-1"):
        e = parse("X: n x m\nS: n x n symmetric\nα: scalar\n" + text).expr
        assert not _cannot_divide(e), text


def test_a_rotated_trace_is_tried_by_the_other_trace_rules_only():
    A, B = Sym("A_skip", ("n", "n")), Sym("B_skip", ("n", "n"))
    from matdiff_cli.expr import Diff, Mul

    t = Trace(Mul(Diff(A), B))
    assert simplify(t) is Trace(Mul(B, Diff(A)))


def test_a_product_that_drops_only_ones_is_not_shaped_again(monkeypatch):
    """b.mul(1, A, 1, x) is A x: a 1x1 factor never sets a chain's shape, so the
    chain is not walked for its shape once more (and 1 I stays I, shaped)."""
    from matdiff_cli import build
    from matdiff_cli.expr import ONE, Identity, Mul

    A, x = Sym("A_ones", ("n", "n")), Sym("x_ones", ("n", 1))
    calls = []
    real = build._shape_of
    monkeypatch.setattr(build, "_shape_of", lambda fs: calls.append(fs) or real(fs))
    assert build.mul(ONE, A, ONE, x) is Mul(A, x)
    assert build.mul(ONE, x) is x
    assert not calls
    assert build.mul(ONE, ONE) is ONE and build.mul(ONE, Identity("n")) is Identity("n")


@PROPERTY
@given(expressions(depth=4))
def test_a_node_made_of_operands_only_has_its_args_as_children(e):
    """Expr.__new__ takes the args of such a kind as its children without a look
    at each: they are exactly its node args."""
    for node in walk(e):
        assert node.children == tuple(a for a in node.args if isinstance(a, Expr))
        if type(node)._operands_only:
            assert node.children is node.args


def test_the_kinds_made_of_operands_only_have_no_data_field():
    from matdiff_cli.expr import Add, Diff, Div, EDiv, Hadamard, Kron, Mul, node_types
    from matdiff_cli.expr.unary import Unary

    flagged = {t for t in node_types() if t._operands_only}
    assert {Add, Diff, Div, EDiv, Hadamard, Kron, Mul} <= flagged
    assert all(t in {Add, Diff, Div, EDiv, Hadamard, Kron, Mul} or issubclass(t, Unary)
               for t in flagged)


@PROPERTY
@given(expressions(depth=4))
def test_the_first_differential_of_an_expression_is_the_one_the_map_of_parents_gives(e):
    """One pass over the nodes finds those holding the variable the first time an
    expression is differentiated; the map of parents, made for a second variable,
    finds the same ones (and gives the same differential)."""
    from matdiff_cli.differentials import engine
    from matdiff_cli.expr import symbols

    from matdiff_cli.errors import MatdiffError

    def differential(var):
        try:
            return engine.differential(e, var)
        except MatdiffError as error:   # (a derivative matdiff cannot write: the same twice)
            return error.message

    for var in symbols(e):
        engine._first_of[0] = engine._graph_of[0] = None
        once = differential(var)
        assert engine._graph_of[0] is not e   # (no map made)
        again = differential(var)
        assert engine._graph_of[0] is e
        assert once == again


def test_each_variable_of_a_long_sum_costs_its_own_terms_only(monkeypatch):
    from matdiff_cli.differentials import engine
    from matdiff_cli.expr import Add, Mul

    xs = [Sym(f"x{i}_many", ("n", 1)) for i in range(30)]
    a = Sym("a_many", ("n", 1))
    from matdiff_cli.expr import Transpose
    e = Add(*[Mul(Transpose(a), x) for x in xs])
    rules = []
    real = engine.apply_rule
    monkeypatch.setattr(engine, "apply_rule", lambda n, d: rules.append(n) or real(n, d))
    for x in xs:
        engine.differential(e, x)
    assert len(rules) == 30   # the one product holding each variable, once
