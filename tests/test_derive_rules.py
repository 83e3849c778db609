"""A rule filed with ``operand=`` is tried only on nodes whose operand is of those
types: it must leave every other node as it is (else skipping it would change
the canonical form)."""
from __future__ import annotations

from matdiff_cli.expr import (
    Add, Broadcast, DiagM, Diff, Hadamard, Identity, Inverse, Kron, Mul, Num, Ones, Pinv,
    Power, Sum, Sym, Trace, Transpose, Zeros,
)
from matdiff_cli.simplify import RULES
from matdiff_cli.simplify.core import _tried


def _operands():
    """Square operands of every kind the filtered rules look for, and others."""
    A, B = Sym("A_op", ("n", "n")), Sym("B_op", ("n", "n"))
    S = Sym("S_op", ("n", "n"), frozenset({"symmetric"}))
    Q = Sym("Q_op", ("n", "n"), frozenset({"orthogonal"}))
    v = Sym("v_op", ("n", 1))
    c = Sym("c_op", (1, 1))
    return [A, S, Q, Transpose(A), Transpose(S), Inverse(A), Inverse(S), Mul(A, B),
            Mul(Num(2), A), Mul(c, A, B), Add(A, B), Add(Mul(Num(2), A), Mul(Num(2), B)),
            Identity("n"), Zeros(("n", "n")), Ones(("n", "n")), Broadcast(c, ("n", "n")),
            Power(A, 2), Hadamard(A, B), DiagM(v), Pinv(A), Pinv(S), Diff(A),
            Kron(Sym("a_op", (2, 2)), Sym("b_op", (2, 2)))]


def test_a_rule_skipped_for_its_operand_would_not_have_changed_the_node():
    checked = 0
    for kind in (Transpose, Inverse, Trace, Sum):
        for rewrite in RULES[kind]:
            if rewrite.operand is None:
                continue
            for x in _operands():
                if not isinstance(x, rewrite.operand):
                    node = kind(x)
                    assert rewrite.fn(node) is node, (rewrite.name, node)
                    checked += 1
    assert checked > 100


def test_the_rules_tried_keep_their_order():
    for kind in (Transpose, Inverse, Trace, Sum):
        for x in _operands():
            tried = _tried(kind, type(x))
            every = RULES[kind]
            assert list(tried) == [r for r in every if r in tried]
            assert all(r.operand is None or isinstance(x, r.operand) for r in tried)
            assert all(r in tried for r in every if r.operand is None or isinstance(x, r.operand))
