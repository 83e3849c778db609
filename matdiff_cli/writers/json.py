"""JSON: every report kind as the SPEC §3.1 object (``ok``, ``input``,
``command``, ...), plain data that ``render.json`` writes as one line.

One function per report kind; ``WRITERS`` maps each report class (by name,
so that nothing here is imported before it is used) to its function, and
``matdiff_cli.writers.write`` picks it by the report's class and its bases.
"""
from __future__ import annotations


def diagnostic(r) -> dict:
    return {
        "ok": False,
        "input": r.input,
        "command": r.command,
        "error": {
            "type": r.kind,
            "message": r.message,
            "line": r.line,
            "column": r.column,
            "hint": r.hint,
        },
    }


def shape(r) -> dict:
    from ..report import shape_json
    from ..tree import tree_json
    from ..render.latex import to_latex
    from ..names import Names, renamed
    from ..render.numpy import to_numpy
    from ..render.numpy.context import numpy_or_none

    python_names = renamed(Names.of(r.problem), r.symbols)
    return {
        "ok": True,
        "input": r.input,
        "command": r.command,
        "shapes": {s.name: shape_json(s.shape) for s in r.symbols},
        "assumptions": {s.name: sorted(s.props) for s in r.symbols if s.props},
        "inferred": list(r.inferred),
        "result": {
            "kind": "shape",
            "shape": shape_json(r.expr.shape),
            "text": r.expression_text(),
            "latex": to_latex(r.expr, names=r.top),
            "numpy": numpy_or_none(to_numpy, r.expr, names=r.names,
                                   naming=Names.of(r.problem))[0],
        },
        "tree": tree_json(r.tree),
        **({"python_names": python_names} if python_names else {}),
    }


def derivative_field(r, key: str):
    """One field of a derivative's ``result`` (``text``, ``latex``, ``numpy``),
    written alone: the Python API asks for one at a time."""
    if key == "numpy":
        return _derivative_numpy(r)[0]
    render = r.text_of if key == "text" else r.latex_of
    return render(r.shown, r.top(r.shown))


class _Modules:
    """The modules a derivative's object uses, imported on first use (a JSON
    diagnostic needs none of them) and kept: import statements run once per
    problem cost more than a look-up.  Their functions are looked up at each use."""

    def __init__(self):
        from .. import derivative_report, names, report
        from ..render import numpy
        from ..render.numpy import context

        self.derivative_report, self.names, self.report = derivative_report, names, report
        self.numpy, self.context = numpy, context


_MODULES: list = []


def _r() -> _Modules:
    if not _MODULES:
        _MODULES.append(_Modules())
    return _MODULES[0]


def _derivative_numpy(r):
    """(code, None) or (None, why not) for a derivative's result."""
    R = _r()
    numpy_or_none = R.context.numpy_or_none
    der = r.der
    if der.operator:
        return numpy_or_none(R.numpy.to_numpy_operator, r.shown, der.var,
                             names=r.code_names(r.shown), bound=r.scope(), naming=r.naming)
    return numpy_or_none(R.numpy.to_numpy, r.shown, names=r.code_names(r.shown), bound=r.scope(),
                         naming=r.naming)


def result_field(r, key: str, whole):
    """``whole()["result"][key]`` for report r, written alone where the report
    kind can (``whole``: the report's JSON, made once by the caller)."""
    if type(r).__name__ == "DerivativeReport":   # not a subclass: its fields differ
        return derivative_field(r, key)
    return whole()["result"][key]


def derivative(r) -> dict:
    R = _r()
    report = R.report
    renamed, OK, inferred_symbols, shape_json = (R.names.renamed, report.OK,
                                                 report.inferred_symbols, report.shape_json)
    to_numpy, numpy_or_none = R.numpy.to_numpy, R.context.numpy_or_none
    der = r.der
    syms = list(der.problem.symbols.values())
    shapes, assumptions = {}, {}
    for s in syms:
        shapes[s.name] = shape_json(s.shape)
        if s.props:
            assumptions[s.name] = sorted(s.props)
    shown = r.shown
    top = r.top(shown)   # (derivative_field's, for both fields at once)
    result = {
        "kind": der.kind,
        "shape": shape_json(shown.shape),
        "text": r.text_of(shown, top),
        "latex": r.latex_of(shown, top),
    }
    if der.operator:
        result["direction"] = r.direction
    result["numpy"], why = _derivative_numpy(r)
    if why:
        result["numpy_error"] = why
    where = r.named_lines(r.text_of, r._exprs())
    if where:
        result["where"] = dict(where)
    if r.shown_vec is not None:
        result["vec"] = {"text": r.text_of(r.shown_vec, r.names),
                         "latex": r.latex_of(r.shown_vec, r.names),
                         "numpy": numpy_or_none(to_numpy, r.shown_vec,
                                                names=r.bound(r.names),
                                                bound=r.scope(),
                                                naming=r.naming)[0]}
    out = {
        "ok": r.status == OK, "input": r.input, "command": r.command,
        "wrt": der.var.name, "shapes": shapes, "assumptions": assumptions,
        "inferred": [s.name for s in inferred_symbols(der.problem)],
        "differential": differential_json(r, r.text_of, r.latex_of),
        "result": result,
    }
    if der.order > 1:
        out["order"] = der.order
    python_names = renamed(r.naming, syms)
    if python_names:  # the numpy field's names for variables Python cannot use as is
        out["python_names"] = python_names
    functions = r.derived_functions()
    if functions:
        out["functions"] = {name: text.split(" = ", 1)[1] for name, text in functions.items()}
    if der.steps:
        out["steps"] = [{"rule": s.rule, "identity": s.identity, "text": text}
                        for s, text in zip(der.steps, r.step_texts())]
    return _closing(r, out, result)


def differential_json(r, to_text, to_latex) -> dict:
    names = r.df_names()
    out = {"text": to_text(r.shown_df, names=names),
           "latex": to_latex(r.shown_df, names=names)}
    where = r.named_lines(to_text, [r.shown_df], names)
    if where:
        out["where"] = dict(where)
    return out


def second_differential(r) -> dict:
    from ..render.numpy.context import numpy_or_none

    out = derivative(r)
    result = out["result"]
    result.pop("numpy_error", None)
    result["numpy"], why = numpy_or_none(r._code)
    if why:
        result["numpy_error"] = why
    result["directions"] = [s.name for s in r.der.directions]
    return out


def hessian(r) -> dict:
    from ..names import renamed
    from ..report import OK, inferred_symbols, shape_json
    from ..simplify import present
    from ..render.latex import to_latex
    from ..render.numpy.context import numpy_or_none
    from ..render.text import to_text

    h = r.der
    n = len(h.vars)
    syms = list(h.problem.symbols.values())
    blocks = []
    for i in range(n):
        row = []
        for j in range(n):
            e = r.shown[i][j]
            item = {"text": to_text(e, names=r.top(e)),
                    "latex": to_latex(e, names=r.top(e)),
                    "shape": shape_json(e.shape)}
            item["numpy"], why = numpy_or_none(r._code_block, i, j)
            if why:
                item["numpy_error"] = why
            if h.operator[i][j]:
                item["direction"] = r.directions[h.vars[j].name]
            row.append(item)
        blocks.append(row)
    result = {"kind": "hessian",
              "text": "[" + ", ".join("[" + ", ".join(c["text"] for c in row) + "]"
                                      for row in blocks) + "]",
              "latex": r._latex_matrix(),
              "blocks": blocks}
    result["numpy"], why = numpy_or_none(r._code_whole)
    if why:
        result["numpy_error"] = why
    if not h.matrix:
        result["directions"] = [r.directions[v.name] for v in h.vars]
    where = r.named_lines(to_text, r._exprs())
    if where:
        result["where"] = dict(where)
    if r.shown_vec is not None:
        result["vec"] = {
            "text": "[" + ", ".join("[" + ", ".join(to_text(e, names=r.names) for e in row)
                                    + "]" for row in r.shown_vec) + "]",
            "numpy": numpy_or_none(r._code_whole, r.shown_vec)[0]}
    out = {
        "ok": r.status == OK, "input": r.input, "command": r.command,
        "wrt": [v.name for v in h.vars],
        "shapes": {s.name: shape_json(s.shape) for s in syms},
        "assumptions": {s.name: sorted(s.props) for s in syms if s.props},
        "inferred": [s.name for s in inferred_symbols(h.problem)],
        "differential": {"text": to_text(r.shown_df, names=r.names),
                         "latex": to_latex(r.shown_df, names=r.names)},
        "result": result,
    }
    python_names = renamed(r.naming, syms)
    if python_names:
        out["python_names"] = python_names
    if h.steps:
        out["steps"] = [{"rule": what,
                         "identity": ("read off df = <G, dv>" if what.startswith("gradient")
                                      else "differentiate the gradient along every variable"),
                         "text": to_text(present(e), names=r.defs)}
                        for what, e in h.steps]
    return _closing(r, out, result)


def _closing(r, out: dict, result: dict) -> dict:
    """What a derivative's and a whole Hessian's objects end with: where the result
    holds, remarks, the numbers at the --let data (f's value, the derivative's),
    and the report's extra fields."""
    conds = _r().derivative_report.report_conditions(r)
    if conds:   # where the result holds
        out["conditions"] = conds
    if r.remarks:
        out["remarks"] = list(r.remarks)
    if r.values is not None:
        out["value"], result["value"] = r.values["function"], r.values["derivative"]
    out.update(r.extra)
    return out


def evaluation(r) -> dict:
    from ..report import shape_json
    from ..values import _json_value
    syms = list(r.problem.symbols.values())
    out = {"ok": r.status == 0, "input": r.input, "command": "eval",
           "shapes": {s.name: shape_json(s.shape) for s in syms},
           "value": _json_value(r.value)}
    if r.expect is not None:
        e = r.expect
        out["expect"] = {"claim": e["claim"], "equal": e["equal"],
                         "value": _json_value(e["value"]) if e["value"] is not None else None}
    return out


def solution(r) -> dict:
    from ..names import Names
    from ..report import inferred_symbols, shape_json
    from ..values import _json_value
    from ..names import renamed
    from ..render.text import to_text
    from ..simplify import present

    result = {"kind": "stationary_point", "shape": shape_json(r.sol.var.shape),
              "solution": r._texts(),
              "gradient": to_text(present(r.sol.gradient)),
              "hessian": to_text(present(r.sol.hessian)),
              "classification": r.classification, "reason": r.reason}
    if r.sol.assumptions:
        result["assumptions"] = r.sol.assumptions
    if r.value is not None:
        result["value"] = _json_value(r.value)
    syms = list(r.problem.symbols.values())
    out = {"ok": r.status == 0, "input": r.input, "command": "solve",
           "wrt": r.sol.var.name,
           "shapes": {s.name: shape_json(s.shape) for s in syms},
           "inferred": [s.name for s in inferred_symbols(r.problem)], "result": result}
    if r.steps:
        out["steps"] = [{"rule": r, "identity": i, "text": t} for r, i, t in r.step_texts()]
    if r.check is not None:
        out["check"] = r.check.to_json()
    python_names = renamed(Names.of(r.problem), syms)
    if python_names:  # the numpy field's names for variables Python cannot use as is
        out["python_names"] = python_names
    return out


def code(r) -> dict:
    return {"ok": True, "input": r.input, "command": "code", "lang": r.lang,
            "code": r.source}


WRITERS = {
    "Report": lambda r: {"ok": r.status == 0, "input": r.input, "command": r.command},
    "DiagnosticReport": diagnostic,
    "ShapeReport": shape,
    "DerivativeReport": derivative,
    "SecondDifferentialReport": second_differential,
    "HessianReport": hessian,
    "EvalReport": evaluation,
    "SolveReport": solution,
    "CodeReport": code,
}
