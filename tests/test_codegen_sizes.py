"""Generated code that chooses by the sizes it is called with, and the
scalar and sum rewrites it relies on: counted work (passes, multiply-adds),
never time, and the numbers of the engine or of hand-written code."""
from __future__ import annotations

import numpy as np

from matdiff_cli.codegen import generate
from matdiff_cli.document import read_document
from matdiff_cli.numeric import evaluate, sample_values
from matdiff_cli.render.numpy import to_numpy
from test_codegen import _work
from oracles import mlp_hvp
from test_codegen_hvp import _exec, _passes

MLP = "h = tanh(W1 X); ||W2 h - Y||_F^2"


def load(src, declare=()):
    (problem,) = list(read_document(src, declare=list(declare)))
    return problem


def _expression(src, declare, sizes, seed=0):
    """The planned NumPy code of src as a function of its variables, and the
    variables' values and the engine's value at sizes."""
    problem = load(src, declare)
    values, sz = sample_values([problem.expr], np.random.default_rng(seed), sizes=sizes)
    names = list(problem.symbols)
    fn = eval(f"lambda {', '.join(names)}: {to_numpy(problem.expr)}", {"np": np})
    return fn, [values[k] for k in names], evaluate(problem.expr, values, sz)


def test_a_scalar_goes_through_an_elementwise_product_onto_the_smallest_piece():
    """2 ((G .* (a b^T)) B): the 2 goes on the vector b^T (n entries) inside the
    elementwise product, not on the n x m result: one pass over n x n or more
    entries (the elementwise product), not two."""
    n, m = 30, 40
    fn, args, want = _expression("2 * ((G .* (a b^T)) B)",
                                 ["G: n x n", "a: n x 1", "b: n x 1", "B: n x m"],
                                 {"n": n, "m": m})
    assert np.allclose(fn(*args), want, rtol=1e-12)
    assert _passes(fn, args, n * n) == 1


def test_a_number_every_term_has_multiplies_once():
    """2 (A .* B) + 2 (C .* D) is 2 (A .* B + C .* D): two products, a sum and one
    scaling (five passes before)."""
    fn, args, want = _expression("2 * (A .* B) + 2 * (C .* D)", [], {"n": 20, "m": 30})
    assert np.allclose(fn(*args), want, rtol=1e-12)
    assert _passes(fn, args, 20 * 30) == 4


def _mlp(outputs, batch, hidden, inputs, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in ((outputs, hidden), (hidden, inputs),
                                             (inputs, batch), (outputs, batch))]


def _hand_grad(W2, W1, X, Y):
    h = np.tanh(W1 @ X)
    r = W2 @ h - Y
    g = (1 - h * h) * (W2.T @ r)
    return np.sum(r * r), 2 * (r @ h.T), 2 * (g @ X.T)


def test_the_mlp_gradient_puts_its_2_where_the_sizes_make_it_cheapest():
    """The 2 of d||r||^2 = 2 r dr goes on the residual r (outputs x batch) or on
    the results (hidden x inputs), whichever the sizes make smaller: the code
    chooses when it runs.  Few outputs and a small batch: no pass over a
    hidden x inputs array (the 2 on the n x n result was one); many outputs and
    a large batch: no pass over the residual but the one that makes it."""
    problem = load(MLP)
    fn = _exec(generate(problem, list(problem.symbols.values())[:2]))["value_and_grad"]
    for outputs, batch, hidden, inputs, size, passes in [
            (5, 8, 60, 60, 60 * 60, 0), (60, 60, 3, 3, 60 * 60, 1)]:
        args = _mlp(outputs, batch, hidden, inputs)
        for got, want in zip(fn(*args), _hand_grad(*args)):
            assert np.allclose(got, want, rtol=1e-12)
        assert _passes(fn, args, size) == passes, (outputs, batch, hidden, inputs)


def _multi_dot(arrays):
    """np.linalg.multi_dot through ``@`` (so Counting sees its multiply-adds):
    three factors in the cheaper order, more left to right."""
    if len(arrays) == 3:
        a, b, c = arrays
        left = a.shape[0] * a.shape[1] * b.shape[1] + a.shape[0] * b.shape[1] * c.shape[1]
        right = b.shape[0] * b.shape[1] * c.shape[1] + a.shape[0] * a.shape[1] * c.shape[1]
        return (a @ b) @ c if left <= right else a @ (b @ c)
    out = arrays[0]
    for x in arrays[1:]:
        out = out @ x
    return out


def test_the_mlp_hvp_shares_dr_with_many_hidden_units_and_not_with_few(monkeypatch):
    """H[V] of the MLP: with many hidden units the code shares dr = dW2 h + W2 dh
    between two products as hand-written code does (its multiply-adds), with
    3 hidden units it multiplies h h^T and W2^T W2 first (about half the
    multiply-adds of hand-written code there); the same numbers either way."""
    monkeypatch.setattr(np.linalg, "multi_dot", _multi_dot)
    problem = load(MLP)
    source = generate(problem, list(problem.symbols.values())[:2], hvp=True)
    hvp = _exec(source)["hvp"]
    rng = np.random.default_rng(2)
    for outputs, batch, hidden, inputs, bound in [(30, 45, 60, 60, 1.05), (60, 60, 3, 3, 0.7)]:
        args = _mlp(outputs, batch, hidden, inputs)
        args += [rng.standard_normal(np.shape(a)) for a in args[:2]]
        for got, want in zip(hvp(*args), mlp_hvp(*args)):
            assert np.allclose(got, want, rtol=1e-10, atol=1e-10)
        work, hand = _work(source, "hvp", args), _counted(mlp_hvp, args)
        assert work <= bound * hand, (outputs, batch, hidden, inputs, work, hand)


def _counted(fn, args):
    from test_codegen import Counting

    Counting.flops[0] = 0
    fn(*[np.asarray(a, dtype=float).view(Counting) for a in args])
    return Counting.flops[0]


def test_a_test_of_sizes_divides_out_the_dimensions_every_term_has():
    """k k m <= k k n is m <= n (sizes are positive), and the sizes line names
    only what the test reads."""
    from matdiff_cli.render.regimes import Poly, condition

    poly = Poly({("k", "k", "m"): 1, ("k", "k", "n"): -1})
    assert condition(poly, str) == "m <= n"
    poly = Poly({("k", "m", "n"): 2, ("k", "p"): -1, ("k", "k"): -1})
    assert condition(poly, str) == "2 * m * n <= k + p"
    problem = load("tr(A X B)")
    source = generate(problem, [problem.symbols["X"]])
    test = next(line for line in source.splitlines() if line.strip().startswith("if "))
    sizes = source.splitlines()[source.splitlines().index(test) - 1]
    assert test.strip() in ("if k <= m:", "if m <= k:", "if m <= n:", "if n <= m:"), source
    assert len(sizes.split("=")[0].split(",")) == 2, sizes
