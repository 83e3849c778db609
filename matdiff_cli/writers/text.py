"""Plain text: every report kind, in matdiff's own input syntax where it can be
(a result with its declarations and named pieces reads back), comments
(``#``) for what is not an expression.

One function per report kind; ``WRITERS`` maps each report class (by name,
so that nothing here is imported before it is used) to its function, and
``matdiff_cli.writers.write`` picks it by the report's class and its bases.
"""
from __future__ import annotations


def diagnostic(r) -> str:
    where = f"line {r.line}: " if r.line else ""
    lines = [f"{r.prefix}: {where}{r.message}"]
    if r.input:
        lines.append(f"  {r.input}")
    if r.hint:
        lines.append(f"hint: {r.hint}")
    return "\n".join(lines)


def error(r) -> str:
    return f"{r.prefix}: {r.error.format()}"


def internal_error(r) -> str:
    text = diagnostic(r)
    return text + "\n" + r.traceback.rstrip() if r.traceback else text


def shape(r) -> str:
    """A matdiff document that reads back: declarations, definitions, the
    expression with its shape, and the tree as comments."""
    from ..report import describe_shape
    from ..tree import tree_lines
    from ..render.text import to_text

    lines = r.declarations()
    lines.extend(f"{f}({param}) := {body}"
                 for f, (param, body) in r.problem.functions.items())
    lines.extend(f"{name} = {body}" for name, body in r.definition_lines(to_text))
    lines.append(f"{r.expression_text()}  # {describe_shape(r.expr.shape, ' x ')}")
    lines.extend("# " + line for line in tree_lines(r.tree))
    return "\n".join(lines)


def derivative(r) -> str:
    global inferred_line, to_text
    if to_text is None:   # imported once: an import statement per problem costs
        from ..report import inferred_line
        from ..render.text import to_text

    der = r.der
    lines = []
    if not r.continued:  # once per problem: output stays linear in its variables
        lines += inferred_line(der.problem)
        # the user functions, so that f(u) and f'(u) in the result read back
        lines += [f"{n}({p}) := {b}" for n, (p, b) in
                  der.problem.functions.items()]
    if der.operator:  # the direction dX, so that the operator reads back
        from ..report import shape_decl

        lines.append(f"{r.direction}: {shape_decl(der.var.shape)}  # the direction")
    # the named pieces first: the steps' df and the result use them
    for name, body in r.named_lines(r.text_of, r._exprs()):
        lines.append(f"{name} = {body}")
    lines.extend("# " + line for line in r.step_lines())
    if r.labelled or der.order > 1:
        lines.append("# " + r.word_label())
    lines.append(r.text_of(r.shown, r.top(r.shown)))
    if r.shown_vec is not None:
        lines.append("# " + r.vec_caption())
        lines.append(r.text_of(r.shown_vec, r.names))
    lines.extend("# " + n for n in r.verdicts())
    lines.extend("# where " + f for f in r.derived_functions().values())
    return "\n".join(lines)


inferred_line = to_text = None


def second_differential(r) -> str:
    from ..report import inferred_line
    lines = derivative(r).split("\n")
    at = 0 if r.continued else len(inferred_line(r.der.problem))
    return "\n".join(lines[:at] + [r._declaration()] + lines[at:])


def hessian(r) -> str:
    from ..report import inferred_line
    from ..render.text import to_text

    h = r.der
    n = len(h.vars)
    lines = []
    if not r.continued:   # once per problem
        lines += inferred_line(h.problem)
        lines += [f"{name}({p}) := {body}" for name, (p, body) in
                  (getattr(h.problem, "functions", None) or {}).items()]
    lines += r._direction_decl()
    for name, body in r.named_lines(to_text, r._exprs()):
        lines.append(f"{name} = {body}")
    lines.extend("# " + line for line in r.step_lines())
    lines.append(f"# {r.word_label()}, block by block "
                 f"(H[u,v] = ∂²f/∂u∂v{'; H[u,v][dv]: the u part of d(∇f) along dv' if not h.matrix else ''})")
    whole = r._matrix_line(to_text)
    if whole is not None:
        lines.append(f"# H = {whole}")
    for i in range(n):
        for j in range(n):
            e = r.shown[i][j]
            lines.append("# " + r.block_label(i, j))
            lines.append(to_text(e, names=r.top(e)))
    if r.shown_vec is not None:
        lines.append(f"# the matrix of H on [{'; '.join('vec(' + v.name + ')' for v in h.vars)}], "
                     "block by block")
        for i in range(n):
            for j in range(n):
                lines.append(f"# vec block [{h.vars[i].name},{h.vars[j].name}]")
                lines.append(to_text(r.shown_vec[i][j], names=r.names))
    lines.extend("# " + v for v in r.verdicts())
    return "\n".join(lines)


def evaluation(r) -> str:
    from ..values import _fmt
    return "\n".join([_fmt(r.value)] + ["# " + v for v in r.verdicts()])


def solution(r) -> str:
    from ..report import inferred_line
    return "\n".join(inferred_line(r.problem) + ["# " + s for s in r.step_lines()]
                     + [r._texts()["text"]] + ["# " + a for a in r.after_lines()])


def code(r) -> str:
    return r.source.rstrip("\n")


def abstract(r) -> str:
    raise NotImplementedError(f"{type(r).__name__} has no text")


WRITERS = {
    "Report": abstract,
    "DiagnosticReport": diagnostic,
    "ErrorReport": error,
    "InternalErrorReport": internal_error,
    "ShapeReport": shape,
    "DerivativeReport": derivative,
    "SecondDifferentialReport": second_differential,
    "HessianReport": hessian,
    "EvalReport": evaluation,
    "SolveReport": solution,
    "CodeReport": code,
}
