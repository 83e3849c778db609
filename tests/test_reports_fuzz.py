"""No traceback, whatever the expression: every derivative command on random
expressions, rendered in every format (pretty included).  A refusal must be a
MatdiffError with exit status 2 or 3, never another exception."""
from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings, strategies as st
from rich.console import Console

from matdiff_cli.derivative_report import DerivativeReport

from matdiff_cli.derivatives import derive
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import SCALAR, symbols
from matdiff_cli.commands import Options
from budget import examples
from matdiff_cli.document import Problem
from strategies import expressions


@settings(max_examples=examples(90), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(expressions(depth=3, diffs=False), st.data())
def test_every_command_and_format_answers_or_refuses_cleanly(expr, data):
    syms = symbols(expr)
    if not syms:
        return
    var = data.draw(st.sampled_from(syms), label="variable")
    commands = ["diff", "jac"] + (["grad", "hess"] if expr.shape == SCALAR else [])
    for command in commands:
        try:
            report = DerivativeReport(derive(Problem.of(expr), var, command,
                                             Options(vec=True, steps=True)))
            report.to_json()
            report.to_text()
            report.to_latex()
            report.to_pretty(Console(file=io.StringIO()))
            report.to_numpy()
        except MatdiffError as e:
            assert e.exit_code in (2, 3), e.message
