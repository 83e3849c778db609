"""numeric/: evaluation, the sampler's guarantees, finite differences."""
from __future__ import annotations

import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, HealthCheck, given, settings
from hypothesis import strategies as st

from matdiff_cli.expr import (
    SCALAR, Add, Broadcast, Commutation, Det, DiagM, DiagV, Diff, Div, EDiv, EPow, Func,
    Hadamard, Identity, Inverse, Kron, LogDet, LogSumExp, Mul, Norm2, NormF, Num, Ones,
    Power, Softmax, Sum, Sym, Trace, Transpose, Vec, Zeros, walk,
)
from matdiff_cli.numeric import (
    constraints, directional_derivative, evaluate, evaluate_all, relative_error,
    sample_direction, sample_values, second_directional_derivative,
)
from budget import examples
from strategies import expressions

n, m, k = "n", "m", "k"
A, B = Sym("A", (n, n)), Sym("B", (m, m))
X = Sym("X", (n, m))
x, b = Sym("x", (m, 1)), Sym("b", (n, 1))
s = Sym("s", SCALAR)
S = Sym("S", (n, n), {"symmetric"})
P = Sym("P", (n, n), {"spd"})
D = Sym("D", (n, n), {"diagonal"})
Q = Sym("Q", (n, n), {"orthogonal"})

RNG = np.random.default_rng(12345)
Av, Bv = RNG.standard_normal((3, 3)), RNG.standard_normal((2, 2))
Xv, xv, bv = RNG.standard_normal((3, 2)), RNG.standard_normal((2, 1)), RNG.standard_normal((3, 1))
VALUES = {"A": Av, "B": Bv, "X": Xv, "x": xv, "b": bv, "s": 0.7, ("d", "X"): np.ones((3, 2))}


def K(p, q):
    """The commutation matrix by its definition K vec(M) = vec(M^T)."""
    out = np.zeros((p * q, p * q))
    for i in range(p):
        for j in range(q):
            out[j + i * q, i + j * p] = 1.0
    return out


def vec(M):
    return M.reshape(-1, 1, order="F")


def sig(u):
    return 1 / (1 + np.exp(-u))


TABLE = [
    (X, Xv),
    (Num(Fraction(1, 3)), 1 / 3),
    (Identity(n), np.eye(3)),
    (Zeros((n, m)), np.zeros((3, 2))),
    (Ones((n, 1)), np.ones((3, 1))),
    (Diff(X), np.ones((3, 2))),
    (Commutation(n, m), K(3, 2)),
    (Add(Mul(A, X), X), Av @ Xv + Xv),
    (Mul(Transpose(b), b, b), (bv.T @ bv) * bv),            # left to right: (b^T b) b
    (Mul(s, A, X, x), 0.7 * Av @ Xv @ xv),
    (Hadamard(b, b, b), bv**3),
    (Div(X, s), Xv / 0.7),
    (EDiv(b, Add(Broadcast(Num(2), (n, 1)), b)), bv / (2 + bv)),
    (Kron(A, B), np.kron(Av, Bv)),
    (Broadcast(s, (n, m)), 0.7 * np.ones((3, 2))),
    (Power(s, 3), 0.7**3),
    (Power(s, -1), 1 / 0.7),
    (Power(A, 2), Av @ Av),
    (EPow(b, 2), bv**2),
    (Func("sigmoid", b), sig(bv)),
    (Func("relu", b), np.maximum(bv, 0)),
    (Func("step", b), (bv > 0).astype(float)),
    (Func("softplus", b), np.log1p(np.exp(bv))),
    (Func("f", b, ("t", "t^3 + sin(t)")), bv**3 + np.sin(bv)),
    (Func("g", b, ("t", "2")), 2 * np.ones((3, 1))),        # a constant body keeps the shape
    (Transpose(X), Xv.T),
    (Inverse(A), np.linalg.inv(Av)),
    (Trace(A), np.trace(Av)),
    (Det(A), np.linalg.det(Av)),
    (LogDet(Add(Mul(Transpose(A), A), Identity(n))), np.log(np.linalg.det(Av.T @ Av + np.eye(3)))),
    (Sum(X), Xv.sum()),
    (Norm2(b), np.sqrt((bv**2).sum())),
    (NormF(X), np.sqrt((Xv**2).sum())),
    (DiagM(b), np.diag(bv[:, 0])),
    (DiagV(A), np.diag(Av)[:, None]),
    (Vec(X), np.concatenate([Xv[:, 0], Xv[:, 1]])[:, None]),
    (Softmax(b), np.exp(bv) / np.exp(bv).sum()),
    (LogSumExp(b), np.log(np.exp(bv).sum())),
    (Trace(s), 0.7), (Det(s), 0.7), (Transpose(s), 0.7), (Inverse(s), 1 / 0.7),
]


@pytest.mark.parametrize("node, expected", TABLE, ids=[type(t[0]).__name__ + str(i)
                                                       for i, t in enumerate(TABLE)])
def test_evaluate_table(node, expected):
    got = evaluate(node, VALUES, sizes={"n": 3, "m": 2})
    if node.shape == SCALAR:
        assert isinstance(got, float)
    else:
        assert got.ndim == 2 and got.shape == np.shape(expected)
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_commutation_definition():
    M = RNG.standard_normal((3, 2))
    assert np.allclose(evaluate(Commutation(n, m), {}, {"n": 3, "m": 2}) @ vec(M), vec(M.T))
    assert np.allclose(evaluate(Mul(Commutation(n, m), Vec(X)), {"X": M}), vec(M.T))


def test_scalar_division_by_zero_is_inf_not_an_error():
    assert evaluate(Div(s, Num(0)), {"s": 1.0}) == np.inf
    assert evaluate(Inverse(s), {"s": 0.0}) == np.inf


def test_logdet_outside_its_domain_is_nan():
    assert np.isnan(evaluate(LogDet(A), {"A": -np.eye(3)}))
    assert np.isclose(evaluate(LogDet(A), {"A": 2 * np.eye(3)}), 3 * np.log(2))


def test_values_are_checked_and_vectors_reshaped():
    assert evaluate(Mul(A, b), {"A": np.eye(3), "b": [1.0, 2.0, 3.0]}).shape == (3, 1)
    assert evaluate(s, {"s": np.array([[2.0]])}) == 2.0
    with pytest.raises(ValueError, match="dimension n"):
        evaluate(Mul(A, b), {"A": np.eye(3), "b": np.ones((2, 1))})
    with pytest.raises(ValueError, match="no value for b"):
        evaluate(b, {})
    with pytest.raises(ValueError, match="dX"):
        evaluate(Diff(X), {"X": Xv})


def test_shared_nodes_are_evaluated_once_and_deep_dags_do_not_recurse():
    e = b
    for _ in range(300):  # a tree of 2^300 leaves, 600 distinct nodes
        e = Add(Mul(Num(Fraction(1, 2)), e), Mul(Num(Fraction(1, 2)), e))
    chain = b
    for _ in range(3000):
        chain = Func("tanh", Transpose(Transpose(chain)))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        # 2^300 paths: only a walk that evaluates each node once ends at all
        assert np.allclose(evaluate(e, {"b": bv}), bv)
        assert evaluate(chain, {"b": bv}).shape == (3, 1)
    finally:
        sys.setrecursionlimit(limit)


def test_evaluate_all_shares_one_memo():
    memo = evaluate_all([Mul(A, b), Trace(A)], VALUES)
    assert set(memo) >= {A, b, Mul(A, b), Trace(A)}


# =========================================================================== the sampler

def _props_hold(sym, v):
    if sym.has("symmetric", "spd"):
        assert np.allclose(v, v.T)
    if sym.has("spd"):
        assert np.linalg.eigvalsh(v).min() > 0
    if sym.has("diagonal"):
        assert np.allclose(v, np.diag(np.diag(v)))
    if sym.has("orthogonal"):
        assert np.allclose(v.T @ v, np.eye(len(v)))


PROBLEMS = [
    Add(Trace(Mul(S, P)), Trace(Mul(D, Q))),                   # properties
    LogDet(A), LogDet(Transpose(A)), LogDet(S), LogDet(D), LogDet(Q), LogDet(P),
    LogDet(Mul(Transpose(X), A, X)),                           # compound: A with PD symmetric part
    LogDet(Add(A, Sym("C", (n, n)))),
    LogDet(Mul(A, Sym("C", (n, n)))),                          # rejection
    Add(Trace(Inverse(A)), Det(S), Trace(Inverse(Add(A, Transpose(A))))),
    Trace(Inverse(Mul(Transpose(X), X))),                      # needs rows >= columns: rejection
    Add(Func("log", s), Func("sqrt", Sym("t", SCALAR)), Div(Num(1), Sym("u", SCALAR))),
    Sum(Func("log", X)),
]


@pytest.mark.parametrize("expr", PROBLEMS, ids=[str(i) for i in range(len(PROBLEMS))])
def test_sampler_guarantees(expr):
    rng = np.random.default_rng(7)
    for _ in range(20):
        values, sizes = sample_values(expr, rng)
        assert all(2 <= v <= 6 for v in sizes.values())
        assert len(set(sizes.values())) == len(sizes)  # different sizes while possible
        memo = evaluate_all([expr], values, sizes)
        for node in walk(expr):
            if isinstance(node, Sym):
                _props_hold(node, np.asarray(values[node.name]))
            if isinstance(node, LogDet):
                assert np.linalg.det(memo[node.a]) > 0
            if isinstance(node, (Inverse, Det, LogDet)):
                assert np.linalg.cond(memo[node.a]) < 1e8
        assert np.isfinite(memo[expr])


def test_sampler_draws_well_conditioned_inverses_of_variables():
    rng = np.random.default_rng(3)
    for _ in range(20):
        values, _ = sample_values(Trace(Inverse(A)), rng)
        sv = np.linalg.svd(values["A"], compute_uv=False)
        assert sv.min() >= 0.5 - 1e-12 and sv.max() <= 2 + 1e-12


def test_sampler_marks():
    C = Sym("C", (n, n))
    marks = constraints([Add(LogDet(A), LogDet(Mul(Transpose(X), C, X)), Func("log", s))])
    assert marks["A"] >= {"logdet", "invertible"}
    assert "pdpart" in marks["C"] and "positive" in marks["s"]


def test_sampler_sizes_fixed_and_integer_dims():
    e = Mul(Sym("F", (3, n)), Sym("v", (n, 1)))
    values, sizes = sample_values(e, np.random.default_rng(0), sizes={"n": 4})
    assert sizes == {"n": 4} and values["F"].shape == (3, 4)
    values, sizes = sample_values(Trace(Kron(A, B)), np.random.default_rng(0))
    assert values["A"].shape == (sizes["n"],) * 2 and values["B"].shape == (sizes["m"],) * 2


def test_sampler_gives_up_loudly():
    singular = LogDet(Mul(X, Transpose(X)))  # rank m < n half the time ... and always here
    with pytest.raises(ValueError, match="could not draw"):
        sample_values(singular, np.random.default_rng(0), sizes={"n": 4, "m": 2}, attempts=5)


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=examples(40), deadline=None, database=None)
def test_directions_keep_structure(seed):
    rng = np.random.default_rng(seed)
    e = Add(Trace(Mul(S, Diff(S), P, Diff(P))), Trace(Mul(D, Diff(D), Q, Diff(Q))))
    values, sizes = sample_values(e, rng)
    dS, dP, dD, dQ = (values[("d", v)] for v in "SPDQ")
    assert np.allclose(dS, dS.T) and np.allclose(dP, dP.T)
    assert np.allclose(dD, np.diag(np.diag(dD)))
    q = values["Q"]
    assert np.allclose(q.T @ dQ + dQ.T @ q, 0)  # tangent to the orthogonal group
    assert sample_direction(s, 1.0, rng, sizes).__class__ is float


# =========================================================================== finite differences

def test_directional_derivative_of_a_quadratic_form():
    """Cookbook: d tr(X^T A X) = tr(X^T (A + A^T) dX)."""
    f = Trace(Mul(Transpose(X), A, X))
    dX = RNG.standard_normal((3, 2))
    fd = directional_derivative(f, VALUES, "X", dX)
    exact = np.trace(Xv.T @ (Av + Av.T) @ dX)
    assert relative_error(fd, exact) < 1e-8
    fd2 = second_directional_derivative(f, VALUES, "X", dX)
    assert relative_error(fd2, 2 * np.trace(dX.T @ Av @ dX)) < 1e-5
    dY = RNG.standard_normal((3, 2))
    mixed = second_directional_derivative(f, VALUES, "X", dX, direction2=dY)
    assert relative_error(mixed, np.trace(dY.T @ (Av + Av.T) @ dX)) < 1e-5


def test_directional_derivative_of_a_function_and_a_matrix():
    """d(X^-1) = -X^-1 dX X^-1 (Cookbook 59), with f a plain callable."""
    dA = RNG.standard_normal((3, 3))
    fd = directional_derivative(lambda v: np.linalg.inv(v["A"]), {"A": Av + 3 * np.eye(3)}, "A", dA)
    inv = np.linalg.inv(Av + 3 * np.eye(3))
    assert relative_error(fd, -inv @ dA @ inv) < 1e-7
    assert relative_error(directional_derivative(Power(s, 3), VALUES, "s", 1.0), 3 * 0.49) < 1e-8


def test_relative_error():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0
    assert relative_error([1e-12, 0.0], [0.0, 1e-12]) < 1e-8   # both about zero: absolute
    assert relative_error([100.0, 1e-9], [100.0, 0.0]) < 1e-10  # one entry near zero: fine
    assert relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    assert relative_error(np.ones((2, 1)), np.ones((1, 2))) == float("inf")
    assert relative_error([np.nan], [1.0]) == float("inf")
    assert relative_error(np.array([[2.0]]), 2.0) == 0


# =========================================================================== random expressions

@given(expressions(), st.integers(0, 2**32 - 1))
@settings(max_examples=examples(60), deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_random_expressions_evaluate_at_sampled_points(e, seed):
    try:
        values, sizes = sample_values(e, np.random.default_rng(seed))
    except ValueError:   # no point exists (onehot_max(y - y) ties everywhere): not a value to test
        assume(False)
    v = evaluate(e, values, sizes)
    r, c = (sizes.get(d, d) if isinstance(d, str) and "*" not in d else None for d in e.shape)
    if e.shape == SCALAR:
        assert isinstance(v, float)
    else:
        assert v.ndim == 2 and all(want is None or got == want for got, want in zip(v.shape, (r, c)))
    assert np.all(np.isfinite(v))
