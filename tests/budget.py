"""What the test suite spends: one knob for the property tests, and work counts
instead of clocks.

``MATDIFF_TEST_SCALE`` (default 1) multiplies the example count of every
property test; the default run costs about a minute of CPU, and the deep
profile is ``MATDIFF_TEST_SCALE=10 python -m pytest -q``.

No test reads a clock (a busy machine would fail it): a cost that must stay
linear is measured by ``calls``, the number of Python function calls a piece of
work makes, which is the same on any machine, and ``assert_linear`` compares
two sizes of one input family.
"""
from __future__ import annotations

import os
import sys

SCALE = float(os.environ.get("MATDIFF_TEST_SCALE", "1"))


def examples(n: int) -> int:
    """The example count of a property test whose default is ``n``."""
    return max(1, round(n * SCALE))


def calls(fn, *args, **kwargs) -> int:
    """How many Python and C function calls ``fn(*args, **kwargs)`` makes."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    old = sys.getprofile()
    sys.setprofile(profile)
    try:
        fn(*args, **kwargs)
    finally:
        sys.setprofile(old)
    return count


def assert_linear(work, make_input, size: int, factor: int = 4, slack: float = 1.5):
    """``work(make_input(factor * size))`` costs at most ``slack * factor`` times
    ``work(make_input(size))`` in function calls: linear with room for constant
    overheads, while a quadratic cost (``factor ** 2``) fails."""
    work(make_input(size))  # warm: lazy imports and caches are not the input's cost
    small = calls(work, make_input(size))
    large = calls(work, make_input(factor * size))
    assert large <= slack * factor * small, (
        f"cost grew {large / small:.1f}x when the input grew {factor}x "
        f"({small} -> {large} calls): not linear")
    return small, large


class Counting:
    """A renderer's rule table that counts the rule calls."""

    def __init__(self, rule):
        self.rule, self.calls = rule, 0

    def dispatch(self, cls):
        fn = self.rule.dispatch(cls)

        def counted(node, cx):
            self.calls += 1
            return fn(node, cx)
        return counted

    def __call__(self, node, cx):  # pragma: no cover - render_dag uses dispatch
        self.calls += 1
        return self.rule(node, cx)
