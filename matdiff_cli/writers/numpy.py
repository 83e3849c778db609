"""NumPy code: every report kind as Python/NumPy source, comments as ``#``
lines; a report kind without code (a diagnostic, a value) is written as text.

One function per report kind; ``WRITERS`` maps each report class (by name,
so that nothing here is imported before it is used) to its function, and
``matdiff_cli.writers.write`` picks it by the report's class and its bases.
"""
from __future__ import annotations


def shape(r) -> str:
    from ..names import Names
    from ..render.numpy import to_numpy

    return to_numpy(r.expr, names=r.names, naming=Names.of(r.problem))


def derivative(r) -> str:
    from ..render.latex import comment_lines
    from ..render.numpy import to_numpy, to_numpy_operator

    lines = comment_lines(r.step_lines(), "#")
    if r.labelled:
        lines += comment_lines([r.word_label()], "#")
    if r.der.operator:
        lines.append(to_numpy_operator(r.shown, r.der.var, names=r.code_names(r.shown),
                                       bound=r.scope(), naming=r.naming))
    else:
        lines.append(to_numpy(r.shown, names=r.code_names(r.shown),
                              bound=r.scope(), naming=r.naming))
    if r.shown_vec is not None:
        lines += comment_lines([r.vec_caption()], "#")
        lines.append(to_numpy(r.shown_vec, names=r.bound(r.names),
                              bound=r.scope(), naming=r.naming))
    lines += comment_lines(r.verdicts(), "#")
    return "\n".join(lines)


def second_differential(r) -> str:
    from ..render.latex import comment_lines

    lines = comment_lines(r.step_lines(), "#")
    lines += comment_lines([r.word_label()], "#")
    lines.append(r._code())
    lines += comment_lines(r.verdicts(), "#")
    return "\n".join(lines)


def hessian(r) -> str:
    from ..render.latex import comment_lines

    lines = comment_lines(r.step_lines(), "#")
    what = ("the whole Hessian matrix over the stacked variables" if r.der.matrix else
            "the Hessian operator: (dX, dY, ...) -> the parts of d(∇f)")
    lines += comment_lines([f"{r.word_label()}: {what}"], "#")
    lines.append(r._code_whole())
    if r.shown_vec is not None:
        lines += comment_lines(["its matrix on the stacked vec of the variables"], "#")
        lines.append(r._code_whole(r.shown_vec))
    lines += comment_lines(r.verdicts(), "#")
    return "\n".join(lines)


def solution(r) -> str:
    from ..render.latex import comment_lines

    return "\n".join(comment_lines(r.step_lines(), "#") + [r._texts()["numpy"]]
                     + comment_lines(r.after_lines(), "#"))


WRITERS = {
    "Report": lambda r: r.to_text(),
    "ShapeReport": shape,
    "DerivativeReport": derivative,
    "SecondDifferentialReport": second_differential,
    "HessianReport": hessian,
    "SolveReport": solution,
}
