"""LaTeX: every report kind as LaTeX source, comments as ``%`` lines; a report
kind without a LaTeX form (a diagnostic) is written as text.

One function per report kind; ``WRITERS`` maps each report class (by name,
so that nothing here is imported before it is used) to its function, and
``matdiff_cli.writers.write`` picks it by the report's class and its bases.
"""
from __future__ import annotations


def shape(r) -> str:
    from ..render.latex import latex_name, to_latex

    lines = [f"{latex_name(name)} = {body}" for name, body in r.definition_lines(to_latex)]
    return "\n".join(lines + [to_latex(r.expr, names=r.top)])


def derivative(r) -> str:
    from ..render.latex import comment_lines, latex_name, to_latex

    lines = [f"{latex_name(name)} = {body}"  # t_{1}, as the body refers to it
             for name, body in r.named_lines(r.latex_of, r._exprs())]
    lines += comment_lines(r.step_lines(), "%")
    result = r.latex_of(r.shown, r.top(r.shown))
    lines.append(f"{r.latex_label()} = {result}" if r.labelled else result)
    if r.shown_vec is not None:
        lines += comment_lines([r.vec_caption()], "%")
        lines.append(r.latex_of(r.shown_vec, r.names))
    lines += comment_lines(r.verdicts(to_latex), "%")
    lines += comment_lines(["where " + f for f in r.derived_functions().values()], "%")
    return "\n".join(lines)


def hessian(r) -> str:
    from ..render.latex import comment_lines, latex_name, to_latex

    lines = [f"{latex_name(name)} = {body}"
             for name, body in r.named_lines(to_latex, r._exprs())]
    lines += comment_lines(r.step_lines(), "%")
    lines += comment_lines([r.word_label() + ", block by block"], "%")
    lines.append(r"\nabla^2 f = " + r._latex_matrix())
    if r.shown_vec is not None:
        rows = [" & ".join(to_latex(e, names=r.names) for e in row)
                for row in r.shown_vec]
        lines += comment_lines(["the matrix of H on the stacked vec of the variables"], "%")
        lines.append(r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}")
    lines += comment_lines(r.verdicts(to_latex), "%")
    return "\n".join(lines)


def evaluation(r) -> str:
    from ..values import _fmt
    return "\n".join([_fmt(r.value)] + ["% " + v for v in r.verdicts()])


def solution(r) -> str:
    from ..render.latex import comment_lines

    return "\n".join(comment_lines(r.step_lines(), "%") + [r._texts()["latex"]]
                     + comment_lines(r.after_lines(), "%"))


WRITERS = {
    "Report": lambda r: r.to_text(),
    "ShapeReport": shape,
    "DerivativeReport": derivative,
    "HessianReport": hessian,
    "EvalReport": evaluation,
    "SolveReport": solution,
}
