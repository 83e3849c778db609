"""The backbone of trust: random well-shaped scalar expressions, differentiated
symbolically and compared with finite differences.

The default run tries 400 gradients (derandomized), and half as many Hessians
and Jacobians; ``MATDIFF_TEST_SCALE=20 pytest tests/test_engine_properties.py``
tries twenty times as many (tests/budget.py).
The largest relative error seen is printed at the end of the session
(``-s`` shows it).
"""
from __future__ import annotations


from hypothesis import HealthCheck, assume, given, settings, strategies as st

from matdiff_cli.derivatives import derive
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import SCALAR, symbols
from matdiff_cli.trust import numeric_check
from matdiff_cli.commands import Options
from budget import examples
from matdiff_cli.document import Problem
from strategies import expressions

EXAMPLES = examples(400)
WORST = {"gradient": 0.0, "hessian": 0.0, "jacobian": 0.0, "checked": 0}


def _smooth(e) -> bool:
    """No function with a jump in its derivative (relu, abs, step, sign: as declared)."""
    from matdiff_cli.expr import Func, walk
    from matdiff_cli.ops import ELEMENTWISE
    return not any(isinstance(n, Func) and n.name in ELEMENTWISE and not ELEMENTWISE[n.name].smooth
                   for n in walk(e))


def _check(expr, data, command):
    syms = symbols(expr)
    assume(syms)
    var = data.draw(st.sampled_from(syms), label="variable")
    try:
        der = derive(Problem.of(expr), var, command, Options())
    except MatdiffError as exc:
        # refusing is allowed (exit 3); a wrong answer is not
        assert exc.exit_code == 3, exc.message
        assume(False)
    try:
        result = numeric_check(der, seed=data.draw(st.integers(0, 2**16), label="seed"), trials=2)
    except MatdiffError:     # the sampler found no well-conditioned point: not a verdict
        assume(False)
    assume(not result.inconclusive)   # no finite values to compare: not a verdict either
    assert result.passed, (f"{command} of {expr!r} w.r.t. {var.name}: {result.summary()}\n"
                           f"result: {der.result!r}")
    kind = {"hess": "hessian", "jac": "jacobian"}.get(command, "gradient")
    WORST[kind] = max(WORST[kind], result.max_rel_error)
    WORST["checked"] += 1


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(expressions(shape=SCALAR, depth=4, diffs=False), st.data())
def test_random_gradients_match_finite_differences(expr, data):
    _check(expr, data, "grad")


@settings(max_examples=max(EXAMPLES // 2, 10), derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(expressions(shape=SCALAR, depth=4, diffs=False), st.data())
def test_random_hessians_match_finite_differences(expr, data):
    assume(_smooth(expr))
    _check(expr, data, "hess")


@settings(max_examples=max(EXAMPLES // 2, 10), derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(expressions(depth=4, diffs=False), st.data())
def test_random_jacobians_and_operators_match_finite_differences(expr, data):
    assume(expr.shape != SCALAR)
    _check(expr, data, "jac")


def teardown_module(module):
    print(f"\n[engine properties] checked {WORST['checked']} derivatives; largest relative "
          f"error: gradient {WORST['gradient']:.2e}, Hessian {WORST['hessian']:.2e}, "
          f"Jacobian/operator {WORST['jacobian']:.2e}")
