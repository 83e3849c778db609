"""The Python API (SPEC §3.2): the CLI's commands as functions.

    >>> import matdiff_cli
    >>> g = matdiff_cli.gradient("tr(X^T A X B)", wrt="X",
    ...                          declare=["A: n x n symmetric", "B: m x m symmetric"])
    >>> g.text
    '2 A X B'
    >>> g.numpy
    '2 * A @ X @ B'

Each function takes one expression (declarations and definitions may come
before it, separated by newlines or ``;``), raises ``MatdiffError`` for bad
input or a derivative that cannot be written, and returns a ``Result``.
"""
from __future__ import annotations

from typing import Sequence

from .commands import Options
from .errors import MatdiffError
from .expr import Expr
from .records import dataclass, field, replace


@dataclass(frozen=True)
class Result:
    """A derivative: the expression (canonical) and its renderings.

    Each rendering is written once, when first asked for, and only it: ``.text``
    writes the text of the result, not the whole JSON object (nor its NumPy
    code); ``to_json()`` makes the object once."""

    kind: str               # gradient | differential | jacobian | operator | hessian | ...
    expr: Expr
    wrt: str
    differential: Expr
    report: object
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def text(self) -> str:
        return self._field("text")

    @property
    def latex(self) -> str:
        return self._field("latex")

    @property
    def numpy(self) -> str:
        return self._field("numpy")

    def _field(self, key: str):
        cache = self._cache
        if key not in cache:
            from .writers.json import result_field

            cache[key] = result_field(self.report, key, self.to_json)
        return cache[key]

    def to_json(self) -> dict:
        cache = self._cache
        if "json" not in cache:
            cache["json"] = self.report.to_json()
        return cache["json"]

    def to_sympy(self):
        """The result as a SymPy matrix expression (imports SymPy)."""
        from .sympy_bridge import to_sympy

        return to_sympy(self.expr)

    def __str__(self) -> str:
        return self.text


def _problem(expr: str, declare: Sequence[str] | str):
    """The one problem of ``expr``.  ``declare`` is a declaration or a list of
    them (``"A: n x n symmetric"`` or ``["A: n x n symmetric", "x: n"]``)."""
    from .document import parse

    if isinstance(declare, str):
        declare = [declare]
    return parse(expr, declare=list(declare))


def _derive(command: str, expr: str, wrt: str, declare, **options) -> Result:
    from .derivatives import report_for, resolve_wrt

    problem = _problem(expr, declare)
    (var,) = resolve_wrt(problem, (wrt,))
    opts = replace(Options(command=command), **options)
    report = report_for(problem, var, command, opts)
    der = report.der
    return Result(der.kind, der.result, wrt, der.differential, report)


def differential(expr: str, wrt: str, declare: Sequence[str] = ()) -> Result:
    """df = L[dX], canonical."""
    return _derive("diff", expr, wrt, declare)


def gradient(expr: str, wrt: str, declare: Sequence[str] = (), check: bool = False,
             expect: str | None = None, seed: int | None = None) -> Result:
    """∇f for a scalar f (a symmetric / diagonal gradient for such a variable)."""
    return _derive("grad", expr, wrt, declare, check=check, expect=expect, seed=seed)


def jacobian(expr: str, wrt: str, declare: Sequence[str] = (), layout: str = "numerator",
             vec: bool = False) -> Result:
    """The Jacobian matrix (vectors), else the linear operator dF = L[dX]."""
    return _derive("jac", expr, wrt, declare, layout=layout, vec=vec)


def hessian(expr: str, wrt, declare: Sequence[str] = (), vec: bool = False) -> Result:
    """The Hessian matrix (scalar or vector variable) or the operator H[dX]; with a
    list of variables (``wrt=["x1", "x2"]``), the whole Hessian: ``.text`` is the
    block matrix ``[[...], [...]]``, ``.expr`` the blocks (a list of lists)."""
    if isinstance(wrt, str) or len(wrt) == 1:
        return _derive("hess", expr, wrt if isinstance(wrt, str) else wrt[0], declare, vec=vec)
    from .derivatives import resolve_wrt
    from .hessians import hessian_report

    problem = _problem(expr, declare)
    if problem.expr.shape != (1, 1):
        raise MatdiffError("usage", "the whole Hessian of several variables needs a scalar "
                           "expression", hint="give one variable for the second differential")
    report = hessian_report(problem, resolve_wrt(problem, tuple(wrt)),
                            Options(command="hess", vec=vec))
    h = report.der
    return Result("hessian", h.blocks, ",".join(v.name for v in h.vars), h.differential, report)


def check(expr: str, wrt: str, declare: Sequence[str] = (), seed: int | None = None) -> dict:
    """The finite-difference verdict on the gradient (or Jacobian operator)."""
    problem = _problem(expr, declare)
    command = "grad" if problem.expr.shape == (1, 1) else "jac"
    return _derive(command, expr, wrt, declare, check=True, seed=seed).to_json()["check"]


def solve(expr: str, wrt: str, declare: Sequence[str] = ()):
    """The stationary point of a quadratic objective (a ``stationary.Solution``)."""
    from .stationary import stationary_point

    problem = _problem(expr, declare)
    from .derivatives import resolve_wrt

    (var,) = resolve_wrt(problem, (wrt,))
    return stationary_point(problem.expr, var)
