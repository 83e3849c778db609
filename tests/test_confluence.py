"""Confluence: one derivative, one printed form, however the input was written.

Random rewrites that keep the meaning -- shuffled sums, scalar factors moved
along products, rotated traces, 1x1 products written the other way round,
symbols renamed (keeping their order) -- must reach the same canonical form,
and the same gradient.  A failure prints the seed that reproduces it.
"""
from __future__ import annotations

import random

import pytest

from matdiff_cli.document import parse
from matdiff_cli.expr import SCALAR, Add, Expr, Mul, Sym, Trace, Transpose, symbols, walk
from matdiff_cli.readoff import gradient
from matdiff_cli.render.text import to_text
from matdiff_cli.simplify import present, simplify
from matdiff_cli.build import replace_node

SOURCES = [
    ("tr(X^T A X B)", []),
    ("tr(X^T A X B)", ["A: n x n symmetric", "B: m x m symmetric"]),
    ("x^T A x + b^T x + 2 c^T x", []),
    ("||A x - b||^2 + lambda x^T x", []),
    ("tr(A X B X^T C) + tr(X^T X)", ["X: n x m", "A: k x n", "B: m x m", "C: n x k"]),
    ("a^T X b + b^T X^T a + tr(X^T A)", ["X: n x n", "a, b: n"]),
    ("(x - A s)^T W (x - A s) + s^T s", ["W: n x n symmetric"]),
    ("logdet(X^T A X) + tr(inv(X^T X))", ["X: n x m", "A: n x n spd"]),
    ("sum(sigmoid(W x) .* y) + y^T W x", []),
    ("det(X) tr(X^-1 A) + tr(A X)^2", ["X, A: n x n"]),
]


def rewrite(e: Expr, rng: random.Random) -> Expr:
    """A random expression equal to e, written differently."""
    memo: dict = {}
    for node in walk(e):
        kids = tuple(memo[c] for c in node.children)
        new = node if kids == node.children else node.rebuild(kids)
        memo[node] = _rewrite_node(new, rng)
    return memo[e]


def _rewrite_node(n: Expr, rng: random.Random) -> Expr:
    if isinstance(n, Add):
        terms = list(n.terms)
        rng.shuffle(terms)
        return Add(*terms)
    if isinstance(n, Mul):
        scalars = [f for f in n.factors if f.shape == SCALAR]
        chain = [f for f in n.factors if f.shape != SCALAR]
        if chain and scalars and rng.random() < 0.7:
            # scalar factors may stand anywhere in a product
            f = scalars.pop(rng.randrange(len(scalars)))
            rest = scalars + chain
            rest.insert(rng.randrange(len(rest) + 1), f)
            if len(rest) > 1 and (rest[0].shape != SCALAR or any(r.shape != SCALAR for r in rest)):
                try:
                    return Mul(*rest)
                except ValueError:
                    return n
        if n.shape == SCALAR and len(chain) == len(n.factors) > 1 and rng.random() < 0.5:
            # a 1x1 product equals its transpose: y^T A^T x = x^T A y
            return Mul(*[Transpose(f) for f in reversed(chain)])
    if isinstance(n, Trace) and isinstance(n.a, Mul):
        chain = list(n.a.factors)
        if all(f.shape != SCALAR for f in chain) and len(chain) > 1:
            k = rng.randrange(len(chain))
            rotated = chain[k:] + chain[:k]
            try:
                return Trace(Mul(*rotated))
            except ValueError:
                return n
    return n


def renamed(e: Expr, suffix: str) -> Expr:
    """Every symbol renamed, keeping the names' order (X -> X_s)."""
    for s in symbols(e):
        e = replace_node(e, s, Sym(s.name + suffix, s.shape, s.props))
    return e


@pytest.mark.parametrize("src, declare", SOURCES, ids=[s for s, _ in SOURCES])
def test_rewritten_inputs_reach_one_canonical_form(src, declare):
    expr = parse(src, declare=declare).expr
    base = simplify(expr)
    grads = {s.name: to_text(present(gradient(expr, s))) for s in symbols(expr)}
    for seed in range(40):
        rng = random.Random(seed)
        other = rewrite(expr, rng)
        assert simplify(other) is base, f"seed {seed}: {to_text(other)}"
        for s in symbols(other):
            got = to_text(present(gradient(other, s)))
            assert got == grads[s.name], f"seed {seed}, d/d{s.name} of {to_text(other)}"


@pytest.mark.parametrize("src, declare", SOURCES[:5], ids=[s for s, _ in SOURCES[:5]])
def test_renamed_symbols_print_the_same_way(src, declare):
    expr = parse(src, declare=declare).expr
    other = renamed(expr, "_2")
    for s in symbols(expr):
        g = to_text(present(gradient(expr, s)))
        g2 = to_text(present(gradient(other, Sym(s.name + "_2", s.shape, s.props))))
        for t in symbols(expr):
            g2 = g2.replace(t.name + "_2", t.name)
        assert g2 == g
