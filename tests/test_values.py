"""grad / jac / hess with --let binding every variable: the numbers at the data.

Every expected number is computed here, independently, with NumPy: a closed
form written by hand, or central finite differences of a NumPy function.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from matdiff_cli.cli import cli
from oracles import fd_gradient as fd_grad


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def one(*args) -> dict:
    r = run(*args, "--format", "json")
    assert r.exit_code == 0, r.output
    (obj,) = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return obj


def lets(**data) -> list:
    out = []
    for name, value in data.items():
        out += ["--let", f"{name}={json.dumps(np.asarray(value).tolist())}"]
    return out




def fd_jac_vec(F, X, h=1e-6):
    """J with vec(dF) = J vec(dX), column-major vec, by central differences."""
    cols = []
    for k in range(X.size):
        e = np.zeros(X.size)
        e[k] = h
        E = e.reshape(X.shape, order="F")
        cols.append(((F(X + E) - F(X - E)) / (2 * h)).reshape(-1, order="F"))
    return np.column_stack(cols)


RNG = np.random.default_rng(20261202)


@pytest.mark.parametrize("trial", range(4))
def test_gradient_and_value_of_a_quadratic_form(trial):
    n = 2 + trial
    A, x = RNG.standard_normal((n, n)), RNG.standard_normal(n)
    obj = one("grad", "x^T A x + sum(exp(x))", "--wrt", "x", *lets(A=A, x=x))
    assert np.isclose(obj["value"], x @ A @ x + np.exp(x).sum(), rtol=1e-12)
    assert np.allclose(obj["result"]["value"], (A + A.T) @ x + np.exp(x), rtol=1e-12)


@pytest.mark.parametrize("trial", range(3))
def test_matrix_gradient_against_finite_differences(trial):
    n, m = 3, 1 + trial   # m <= n: X^T A X is invertible
    X, A = RNG.standard_normal((n, m)), RNG.standard_normal((n, n))
    A = A @ A.T + n * np.eye(n)
    f = lambda X: np.log(np.linalg.det(X.T @ A @ X)) + np.sum(np.tanh(X))
    obj = one("grad", "logdet(X^T A X) + sum(tanh(X))", "--wrt", "X", *lets(X=X, A=A))
    assert np.isclose(obj["value"], f(X), rtol=1e-10)
    G = np.reshape(obj["result"]["value"], X.shape)   # a column comes as a list, as in eval
    assert np.allclose(G, fd_grad(f, X), rtol=1e-6, atol=1e-7)


def test_jacobian_of_vectors_and_operator_on_vec():
    A, x = RNG.standard_normal((3, 2)), RNG.standard_normal(2)
    obj = one("jac", "tanh(A x)", "--wrt", "x", *lets(A=A, x=x))
    assert np.allclose(obj["value"], np.tanh(A @ x))
    assert np.allclose(obj["result"]["value"], (1 - np.tanh(A @ x) ** 2)[:, None] * A)
    # the operator dF = A dX B: its matrix on vec(X) is kron(B^T, A)
    A, X, B = (RNG.standard_normal(s) for s in ((2, 3), (3, 2), (2, 4)))
    obj = one("jac", "A X B", "--wrt", "X", *lets(A=A, X=X, B=B))
    assert np.allclose(obj["value"], A @ X @ B)
    assert np.allclose(obj["result"]["value"], np.kron(B.T, A))
    # a nonlinear operator, against finite differences
    X = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    obj = one("jac", "X^-1 + X .* X", "--wrt", "X", *lets(X=X))
    J = fd_jac_vec(lambda X: np.linalg.inv(X) + X * X, X)
    assert np.allclose(obj["result"]["value"], J, rtol=1e-6, atol=1e-7)


def test_symmetric_variable_operator_acts_on_symmetric_directions():
    S = RNG.standard_normal((3, 3))
    S = S @ S.T + 3 * np.eye(3)
    obj = one("jac", "S^-1", "--wrt", "S", "-d", "S: n x n spd", *lets(S=S))
    J = np.asarray(obj["result"]["value"])
    for _ in range(3):   # J vec(dS) = -S^-1 dS S^-1 for every symmetric dS
        D = RNG.standard_normal((3, 3))
        D = D + D.T
        Si = np.linalg.inv(S)
        assert np.allclose(J @ D.reshape(-1, order="F"), (-Si @ D @ Si).reshape(-1, order="F"))


def test_hessians_matrix_operator_and_whole():
    A, x = RNG.standard_normal((3, 3)), RNG.standard_normal(3)
    obj = one("hess", "x^T A x + sum(exp(x))", *lets(A=A, x=x), "--wrt", "x")
    assert np.allclose(obj["result"]["value"], A + A.T + np.diag(np.exp(x)))
    X = RNG.standard_normal((2, 2))
    obj = one("hess", "tr(X^T X X^T X)", *lets(X=X))
    f = lambda X: np.trace(X.T @ X @ X.T @ X)
    H = fd_jac_vec(lambda X: fd_grad(f, X, 1e-5), X, 1e-5)
    assert np.isclose(obj["value"], f(X))
    assert np.allclose(obj["result"]["value"], H, rtol=1e-4, atol=1e-4)
    w, b = RNG.standard_normal(2), 0.7
    obj = one("hess", "w^T w b + b^2", "-d", "b: scalar", "--wrt", "w,b", *lets(w=w, b=b))
    expected = np.block([[2 * b * np.eye(2), 2 * w[:, None]], [2 * w[None, :], np.array([[2.0]])]])
    assert np.allclose(obj["result"]["value"], expected)


def test_every_format_has_a_readable_line():
    args = ["grad", "x^T x", *lets(x=[1, 2])]
    assert run(*args).stdout.splitlines()[-2:] == [
        "# value at the data: 5", "# gradient at the data: [2, 4]"]
    assert "% gradient at the data: [2, 4]" in run(*args, "--format", "latex").stdout
    assert "gradient at the data: [2, 4]" in run(*args, "--format", "pretty").stdout


def test_incomplete_data_without_check_is_a_usage_error():
    r = run("grad", "x^T A x", "--wrt", "x", *lets(x=[1, 2]))
    assert r.exit_code == 2 and "no value for A" in r.stderr and "--check" in r.stderr
    # with --check, partial data is the check's: no values, as before
    r = run("grad", "x^T A x", "--wrt", "x", "--check", *lets(x=[1, 2]), "--format", "json")
    assert r.exit_code == 0 and "value" not in json.loads(r.stdout)["result"]
    r = run("diff", "x^T x", *lets(x=[1, 2]))
    assert r.exit_code == 2 and "--let" in r.stderr


def test_values_outside_the_domain_are_an_error_or_a_note_with_check():
    r = run("grad", "sum(log(x))", *lets(x=[-1, 2]))
    assert r.exit_code == 2 and "not finite" in r.stderr
    r = run("grad", "sum(log(x))", "--check", *lets(x=[-1, 2]))
    assert "no values at the data" in r.stdout and "Traceback" not in r.output
    r = run("hess", "X X", *lets(X=[[1, 2], [3, 4]]))   # a bilinear form: no matrix
    assert r.exit_code == 3 and "third-order" in r.stderr
