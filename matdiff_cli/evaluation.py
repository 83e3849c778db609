"""eval and solve: the commands that turn expressions into numbers.

Both bind data with ``--let NAME=VALUE`` (JSON-style nested lists); the data
fixes the dimensions, and shapes are checked against the declarations.  A
number is never invented: a dimension the data does not fix, sizes that would
not fit in memory, a value that is not finite at the data (a singular inverse,
the log of a negative number) and a Hessian singular at the data are errors
that say why, not nan with exit 0.
"""
from __future__ import annotations

from .derive import located
from .expr import Num, symbols
from .report import Report, inferred_line, inferred_symbols, shape_json


def _fmt(v) -> str:
    """A value for reading: a number, or nested lists with 4 decimals."""
    import numpy as np

    a = np.asarray(v, dtype=float)
    if a.size == 1:
        return f"{float(a.reshape(())):.6g}"
    if a.ndim == 2 and a.shape[1] == 1:
        return "[" + ", ".join(f"{x:.4f}" for x in a[:, 0]) + "]"
    return "[" + ", ".join("[" + ", ".join(f"{x:.4f}" for x in row) + "]" for row in a) + "]"


def _json_value(v):
    import numpy as np

    a = np.asarray(v, dtype=float)
    if a.size == 1:
        return float(a.reshape(()))
    if a.ndim == 2 and a.shape[1] == 1:
        return a[:, 0].tolist()
    return a.tolist()


class EvalReport(Report):
    command = "eval"

    def __init__(self, problem, value):
        self.problem = problem
        self.input = problem.source
        self.value = value

    def to_json(self) -> dict:
        syms = list(self.problem.symbols.values())
        return {"ok": True, "input": self.input, "command": "eval",
                "shapes": {s.name: shape_json(s.shape) for s in syms},
                "value": _json_value(self.value)}

    def to_text(self) -> str:
        return _fmt(self.value)


def _bind(problem, bindings, needed):
    """(values, sizes) of the needed variables, with sizes fixed by every bound
    variable of the problem (data for an unused or solved-for variable still
    fixes its dimensions)."""
    from .trust import bind_values

    names = {s.name for s in needed}
    more = [s for s in problem.symbols.values() if s.name in bindings and s.name not in names]
    more += _declared_unused(problem, bindings, list(needed) + more)
    return bind_values(problem, bindings, list(needed) + more)


def _numbers(problem, exprs, values, sizes, what="the value"):
    """The values of exprs at the data, all finite, or an error that says why."""
    import numpy as np

    from .errors import MatdiffError
    from .numeric import UnknownSize, evaluate, guard_memory, quiet, undefined_at
    from .render.text import to_text

    try:
        guard_memory(exprs, sizes)
        with quiet():
            out = [evaluate(e, values, sizes) for e in exprs]
            bad = None
            if not all(np.all(np.isfinite(v)) for v in out):
                bad = undefined_at(exprs, values, sizes)
    except UnknownSize as e:
        raise MatdiffError(
            "usage", f"the data does not fix the size of the dimension {e.dim}: no bound "
            f"variable has it", hint=f"bind a variable with dimension {e.dim}, or give the size "
            "in the expression, e.g. eye(3), ones(3), zeros(3, 2)") from None
    if bad is not None:
        node, why = bad
        text = to_text(node)
        if isinstance(node, Num) and abs(node.value) >= 1:   # 2e308, not its 309 digits
            digits = str(int(abs(node.value)))
            text = f"{'-' if node.value < 0 else ''}{digits[0]}.{digits[1:4]}e{len(digits) - 1}"
        text = text if len(text) <= 60 else text[:57] + "..."
        where = " at the data" if values else ""
        raise MatdiffError(
            "domain", f"{what} is not finite{where}: {text} is not finite ({why})",
            hint="give data inside the expression's domain" if values else
                 "keep the numbers within the range of doubles")
    return out


@located
def eval_command(problem, options):
    values, sizes = _bind(problem, options.bindings(), symbols(problem.expr))
    value, = _numbers(problem, [problem.expr], values, sizes)
    return EvalReport(problem, value)


def _declared_unused(problem, bindings: dict, needed) -> list:
    """Declared variables that the expression does not use but the data binds:
    they fix dimensions (``X: n x m; ones(n, m)`` with X's value)."""
    from .expr import Sym

    scope = getattr(problem, "_scope", None)
    if scope is None:
        return []
    used = {s.name for s in needed}
    out = []
    for name in bindings:
        info = scope.symbols.get(name) if name not in used else None
        if info is not None and info.declared and all(isinstance(d, (int, str)) for d in info.shape):
            out.append(Sym(name, tuple(info.shape), info.props))
    return out


class SolveReport(Report):
    command = "solve"

    def __init__(self, problem, sol, value=None, numeric_class=None):
        self.problem = problem
        self.input = problem.source
        self.sol = sol
        self.value = value
        self.classification = sol.classification
        self.reason = sol.reason
        if numeric_class is not None:
            self.classification, self.reason = numeric_class

    def _texts(self):
        from .render.latex import to_latex
        from .render.numpy import to_numpy
        from .render.text import to_text
        from .simplify import present

        shown = present(self.sol.solution)
        return {"text": to_text(shown), "latex": to_latex(shown),
                "numpy": to_numpy(shown, bound=list(self.problem.symbols.values()))}

    def to_json(self) -> dict:
        from .render.text import to_text
        from .simplify import present

        result = {"kind": "stationary_point", "shape": shape_json(self.sol.var.shape),
                  "solution": self._texts(),
                  "gradient": to_text(present(self.sol.gradient)),
                  "hessian": to_text(present(self.sol.hessian)),
                  "classification": self.classification, "reason": self.reason}
        if self.sol.assumptions:
            result["assumptions"] = self.sol.assumptions
        if self.value is not None:
            result["value"] = _json_value(self.value)
        syms = list(self.problem.symbols.values())
        return {"ok": True, "input": self.input, "command": "solve", "wrt": self.sol.var.name,
                "shapes": {s.name: shape_json(s.shape) for s in syms},
                "inferred": [s.name for s in inferred_symbols(self.problem)], "result": result}

    def _lines(self) -> list[str]:
        why = self.reason + (" (assuming " + ", ".join(self.sol.assumptions) + ")"
                             if self.sol.assumptions and self.value is None else "")
        lines = [f"# {self.classification}: {why}"]
        if self.value is not None:
            lines.insert(0, f"# {self.sol.var.name}* = {_fmt(self.value)}")
        return lines

    def to_text(self) -> str:
        return "\n".join(inferred_line(self.problem) + [self._texts()["text"]] + self._lines())

    def to_latex(self) -> str:
        return self._texts()["latex"]

    def to_numpy(self) -> str:
        return self._texts()["numpy"]

    def to_pretty(self, console) -> None:
        from rich.text import Text

        from .render.pretty import to_rich_text
        from .report import compact_shape
        from .simplify import present

        head = Text(self.input, style="bold")
        inferred = inferred_symbols(self.problem)
        if inferred:
            head.append("    (inferred: " + ", ".join(
                f"{s.name}: {compact_shape(s.shape)}" for s in inferred) + ")",
                style="dim italic")
        console.print(head)
        line = Text(f"  {self.sol.var.name}* = ", style="bold green")
        line.append_text(to_rich_text(present(self.sol.solution)))
        console.print(line)
        if self.value is not None:
            console.print(Text(f"  {self.sol.var.name}* = {_fmt(self.value)}", style="bold"))
        style = "green" if self.classification == "minimum" else "yellow"
        console.print(Text(f"  {self.classification}", style=style)
                      + Text(": " + self._lines()[-1].split(": ", 1)[1], style="dim"))


@located
def solve_command(problem, options):
    from .derive import resolve_wrt
    from .solve import classify_numeric, singular_at, stationary_point

    reports = []
    bindings = options.bindings()
    for var in resolve_wrt(problem, options.wrt or ()):
        if not options.wrt and var.name in bindings:
            continue  # without --wrt, the unbound variables are the unknowns
        sol = stationary_point(problem.expr, var)
        value = numeric_class = None
        if bindings:
            needed = list(dict.fromkeys(symbols(sol.hessian) + symbols(sol.solution)))
            values, sizes = _bind(problem, bindings, needed)
            H, = _numbers(problem, [sol.hessian], values, sizes, "the Hessian")
            singular = singular_at(H)
            if singular:
                from .errors import MatdiffError
                from .render.text import to_text

                raise MatdiffError(
                    "unsupported", f"no unique stationary point at the data: the Hessian "
                    f"{to_text(sol.hessian)} is singular there ({singular}), so ∇f = 0 has "
                    "no solution or infinitely many",
                    hint="add a regularizer such as λ ||w||^2, or give data of full rank")
            numeric_class = classify_numeric(H)
            value, = _numbers(problem, [sol.solution], values, sizes, "the solution")
        reports.append(SolveReport(problem, sol, value, numeric_class))
    return reports
