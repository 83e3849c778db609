"""The NumPy code computes a factorisation once however many pieces use it: the
SVD of X for both its singular vectors (u1 and v1 of sigma_max), for U and V, and
for the polar factor.  Checked by counting the calls the code makes when it runs,
and against central differences of NumPy's own svd (the numbers are unchanged)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from matdiff_cli.cli import cli
from oracles import fd_gradient

RNG = np.random.default_rng(20261203)


def sv(x):
    return np.linalg.svd(x, compute_uv=False)


def numpy_field(*args):
    out = CliRunner().invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)["result"]["numpy"]


class Counting:
    """``np`` for the generated code, counting its calls of ``linalg.svd``."""

    def __init__(self):
        self.svd_calls = 0
        counting = self

        class Linalg:
            def __getattr__(self, name):
                return getattr(np.linalg, name)

            def svd(self, *args, **kwargs):
                counting.svd_calls += 1
                return np.linalg.svd(*args, **kwargs)

        self.linalg = Linalg()

    def __getattr__(self, name):
        return getattr(np, name)


def run(code, **values):
    """(the value of code, how many SVDs it computed)."""
    counting = Counting()
    value = eval(code, {"np": counting, "__builtins__": {}, **values})
    return value, counting.svd_calls


def test_both_singular_vectors_of_one_matrix_share_one_svd():
    code = numpy_field("grad", "sigma_max(A x b^T)", "--wrt", "x",
                       "-d", "A: n x n", "-d", "x: n", "-d", "b: n")
    assert code.count("linalg.svd(") == 1
    a, b, x0 = RNG.standard_normal((4, 4)), RNG.standard_normal((4, 1)), RNG.standard_normal((4, 1))
    got, calls = run(code, A=a, b=b, x=x0)
    assert calls == 1
    assert np.allclose(got, fd_gradient(lambda v: sv(a @ v @ b.T)[0], x0), atol=1e-6)


def test_the_polar_factor_and_both_vectors_share_one_svd():
    code = numpy_field("grad", "sigma_max(X) + sigma_max(X)^2 + ||X||_*", "--wrt", "X",
                       "-d", "X: n x m")
    assert code.count("full_matrices=False") == 1   # (the values are svd(X, compute_uv=False))
    x0 = RNG.standard_normal((4, 3))
    got, calls = run(code, X=x0)
    assert calls == code.count("linalg.svd(")
    assert np.allclose(got, fd_gradient(lambda v: sv(v)[0] + sv(v)[0] ** 2 + sv(v).sum(), x0),
                       atol=1e-5)


def test_u_and_v_share_one_svd():
    code = numpy_field("jac", "svdvals(X)", "--wrt", "X", "-d", "X: 4 x 3")
    assert code.count("linalg.svd(") == 1
    x0, dx = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    counting = Counting()
    got = eval(code, {"np": counting, "__builtins__": {}, "X": x0})(dx)
    assert counting.svd_calls == 1
    fd = (sv(x0 + 1e-6 * dx) - sv(x0 - 1e-6 * dx)) / 2e-6
    assert np.allclose(np.ravel(got), fd, atol=1e-6)


@pytest.mark.parametrize("src, decl", [
    ("norm_nuc(X)", "X: n x m"),                  # one use of the SVD (polar): nothing to share
    ("tr(X^T A X)", "A: n x n"),                  # no factorisation at all
])
def test_code_without_a_shared_factorisation_binds_nothing_new(src, decl):
    code = numpy_field("grad", src, "--wrt", "X", "-d", decl)
    assert "lambda svd" not in code


@pytest.mark.parametrize("src, decl, f", [
    ("tr(A polar(X)) + sigma_max(X)", "X, A: n x n",
     lambda x, a: np.trace(a @ _polar(x)) + sv(x)[0]),
    ("tr(polar(X)^T polar(X) A) + sum(polar(X))", "X, A: n x n",
     lambda x, a: np.trace(_polar(x).T @ _polar(x) @ a) + _polar(x).sum()),
    ("sigma_max(X)^2 + ||X||_* + tr(A polar(X))", "X, A: n x n",
     lambda x, a: sv(x)[0] ** 2 + sv(x).sum() + np.trace(a @ _polar(x))),
])
@pytest.mark.parametrize("var", ["X", "svd"])   # (a variable may take the binding's name)
def test_matdiff_code_computes_a_shared_thin_svd_once(src, decl, f, var):
    """`matdiff code` names the thin SVD of a matrix several pieces use on a line of
    its own (it computed it once per piece and once more per inline use), and its
    value and gradient are the function's."""
    out = CliRunner().invoke(cli, ["code", src.replace("X", var), "--wrt", var,
                                   "-d", decl.replace("X", var)], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    namespace = {"np": Counting()}
    exec(out.stdout.replace("import numpy as np\n", ""), namespace)
    x0, a = RNG.standard_normal((4, 4)), RNG.standard_normal((4, 4))
    value, grad = namespace["value_and_grad"](**{"A": a, var: x0})
    assert out.stdout.count("full_matrices=False") == 1
    assert namespace["np"].svd_calls == out.stdout.count("linalg.svd(")
    assert np.isclose(value, f(x0, a))
    assert np.allclose(grad, fd_gradient(lambda v: f(v, a), x0), atol=1e-5)


def _polar(x):
    u, _, vt = np.linalg.svd(x)
    return u @ vt
