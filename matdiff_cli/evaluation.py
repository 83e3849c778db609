"""eval and solve: the commands that turn expressions into numbers.

Both bind data with ``--let NAME=VALUE`` (JSON-style nested lists); the data
fixes the dimensions, and shapes are checked against the declarations.
"""
from __future__ import annotations

from .derive import located
from .expr import symbols
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


@located
def eval_command(problem, options):
    from .numeric import evaluate
    from .trust import bind_values

    bindings = options.bindings()
    needed = symbols(problem.expr)
    values, sizes = bind_values(problem, bindings, needed + _declared_unused(problem, bindings, needed))
    _check_sizes_known(problem, sizes)
    return EvalReport(problem, evaluate(problem.expr, values, sizes))


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


def _check_sizes_known(problem, sizes: dict) -> None:
    """Every dimension of the expression has a size from the data, or a clear error."""
    from .errors import MatdiffError
    from .expr import walk

    unknown = []
    for node in walk(problem.expr):
        for d in node.shape:
            for part in (str(d).split("*") if isinstance(d, str) else ()):
                part = part.strip()
                if not part.isdigit() and part not in sizes and part not in unknown:
                    unknown.append(part)
    if unknown:
        d = unknown[0]
        raise MatdiffError(
            "shape", f"the size of the dimension {d} is not known: no value given fixes it",
            statement=problem.source, line=problem.line,
            hint=f"bind a variable of that dimension with --let, or write the size: "
                 f"eye({d}) for I, ones({d}), zeros({d}, ...)")


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
    from .solve import classify_numeric, stationary_point

    reports = []
    bindings = options.bindings()
    for var in resolve_wrt(problem, options.wrt or ()):
        if not options.wrt and var.name in bindings:
            continue  # without --wrt, the unbound variables are the unknowns
        sol = stationary_point(problem.expr, var)
        value = numeric_class = None
        if bindings:
            from .numeric import evaluate
            from .trust import bind_values

            needed = [s for s in symbols(sol.solution)]
            values, sizes = bind_values(problem, bindings, needed)
            value = evaluate(sol.solution, values, sizes)
            hneeded = symbols(sol.hessian)
            hvalues, hsizes = bind_values(problem, bindings, hneeded)
            H = evaluate(sol.hessian, hvalues, hsizes) if hneeded else None
            if H is not None:
                numeric_class = classify_numeric(H)
        reports.append(SolveReport(problem, sol, value, numeric_class))
    return reports
