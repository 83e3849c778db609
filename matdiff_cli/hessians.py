"""The whole Hessian over several variables, and the second (k-th) differential.

* ``whole_hessian``: f scalar, variables v1..vk.  Block [i][j] is the vi part
  of d(∇f) along dvj, H_ij[dvj] = d_vj(∇_vi f): a matrix of shape
  (size vi, size vj) when vi and vj are scalars or column vectors (read off
  as for a Jacobian), else the operator itself (an expression in dvj).  The
  diagonal blocks are the one-variable Hessians; the mixed ones are what a
  Newton step in (w, b) needs.
* ``second_differential``: F of any shape, one variable X.  d²F[dX1, dX2] is
  the differential of dF[dX1] (dX1 held constant) along dX2: a symmetric
  bilinear form with F's shape.  ``kth_differential``: d^k F[dX, ..., dX],
  k differentials in a row with one direction (d(dX) = 0).
"""
from __future__ import annotations

from .records import dataclass, field

from . import build as b
from .expr import SCALAR, Diff, Expr, Sym
from .names import Names
from .errors import EXIT_UNSUPPORTED, MatdiffError
from .report import ErrorReport, Report, shape_decl
from .derivatives import _refuse_division_by_zero, located, report_for, resolve_wrt, verify
from .derivative_report import (
    DerivativeReport, definitions_by_node, labelled, shared_names, verdict_lines,
)
from .simplify import present, simplify


def column_like(v) -> bool:
    """A scalar or a column vector: its Hessian blocks are matrices."""
    return v.shape == SCALAR or v.shape[1] == 1


# ---------------------------------------------------------------- the whole Hessian

@dataclass
class WholeHessian:
    """What `hess` found for a scalar f and several variables."""

    command: str
    problem: object
    vars: list
    differential: Expr                 # df along every variable
    gradients: list                    # ∇_vi f
    blocks: list                       # blocks[i][j], canonical
    operator: list                     # operator[i][j]: block [i][j] is an expression in d vj
    applied: list                      # the vi part of d(∇f) along all the directions
    vec: list | None = None            # with --vec: every block as a matrix on vec
    kind: str = "hessian"
    layout: str = "numerator"
    steps: list = field(default_factory=list)

    @property
    def matrix(self) -> bool:
        """Every block a matrix: the whole Hessian is one matrix over [v1; v2; ...]."""
        return not any(any(row) for row in self.operator)


def _block(G: Expr, dG: Expr, vi: Sym, vj: Sym):
    """(block, is_operator) from dG = d_vj(∇_vi f)."""
    from .readoff import read_gradient, read_jacobian

    if column_like(vi) and column_like(vj):
        if G.shape == SCALAR:
            g = read_gradient(dG, vj)
            return (g if vj.shape == SCALAR else simplify(b.transpose(g))), False
        return read_jacobian(dG, vj), False
    return dG, True


def _vec_block(G: Expr, dG: Expr, vj: Sym) -> Expr:
    """The block as the matrix of its operator on vec(vj) (rows: vec(vi))."""
    from .readoff import read_gradient, read_jacobian, vec_of

    if G.shape == SCALAR:
        return simplify(b.transpose(vec_of(read_gradient(dG, vj))))
    return read_jacobian(dG, vj)


def whole_hessian(problem, variables, options) -> WholeHessian:
    from .readoff import d, gradient

    f = problem.expr
    _refuse_division_by_zero(problem)
    grads = [gradient(f, v) for v in variables]
    blocks, operator, applied, vec = [], [], [], []
    for G, vi in zip(grads, variables):
        row, ops, vrow, parts = [], [], [], []
        for vj in variables:
            dG = d(G, vj)
            parts.append(dG)
            block, is_op = _block(G, dG, vi, vj)
            row.append(block)
            ops.append(is_op)
            if options.vec:
                vrow.append(block if not is_op else _vec_block(G, dG, vj))
        blocks.append(row)
        operator.append(ops)
        applied.append(simplify(b.add(*parts)))
        vec.append(vrow)
    df = simplify(b.add(*[d(f, v) for v in variables]))
    any_operator = any(any(row) for row in operator)
    h = WholeHessian("hess", problem, list(variables), df, grads, blocks, operator, applied,
                     vec if options.vec and any_operator else None, layout=options.layout)
    if options.steps:
        h.steps = [(f"gradient with respect to {v.name}", G) for v, G in zip(variables, grads)]
        h.steps += [(f"d(∇_{v.name} f), along every direction", a)
                    for v, a in zip(variables, applied)]
    return h


# ---------------------------------------------------------------- its report

class HessianReport(Report):
    """The report of `hess` for a scalar and several variables: one result, every block."""

    def __init__(self, h: WholeHessian):
        self.start(h)
        n = len(h.vars)
        self.shown = [[present(h.blocks[i][j]) for j in range(n)] for i in range(n)]
        self.shown_applied = [present(a) for a in h.applied]
        self.shown_df = present(h.differential)
        self.shown_vec = ([[present(e) for e in row] for row in h.vec]
                          if h.vec is not None else None)
        self.naming = Names.of(h.problem)
        self.directions = {v.name: self.naming.direction(v) for v in h.vars}
        self.defs = definitions_by_node(h.problem)
        for v in h.vars:
            if self.directions[v.name] != "d" + v.name:
                self.defs[Diff(v)] = self.directions[v.name]
        self.names = shared_names(self._exprs(), self.defs, self.naming)

    # -- pieces
    def _flat(self, rows) -> list:
        return [e for row in rows for e in row]

    def _exprs(self) -> list:
        out = self._flat(self.shown)
        if self.shown_vec is not None:
            out += self._flat(self.shown_vec)
        return out

    # the names a result is printed with, and the scope of its code: as for one variable
    top, scope = DerivativeReport.top, DerivativeReport.scope
    bound = staticmethod(DerivativeReport.bound)

    def block_label(self, i: int, j: int, pretty: bool = False) -> str:
        from .render.pretty import pretty_name

        h = self.der
        vi, vj = h.vars[i], h.vars[j]
        show = pretty_name if pretty else (lambda s: s)
        head = f"H[{show(vi.name)},{show(vj.name)}]"
        if h.operator[i][j]:
            head += f"[{show(self.directions[vj.name])}]"
        return head

    def named_lines(self, render, exprs) -> list:
        """As for one variable: every piece rendered with the one names dict (a
        renderer writes its root out even when it has a name), never a copy per
        piece, which made this quadratic in the number of pieces."""
        return DerivativeReport.named_lines(self, render, exprs)

    def word_label(self) -> str:
        names = ", ".join(v.name for v in self.der.vars)
        return f"Hessian with respect to {names}"

    def _code_block(self, i, j, rows=None) -> str:
        from .render.numpy import to_numpy, to_numpy_operator

        rows = rows if rows is not None else self.shown
        e = rows[i][j]
        names = self.bound(self.top(e))
        if rows is self.shown and self.der.operator[i][j]:
            return to_numpy_operator(e, self.der.vars[j], names=names, bound=self.scope(),
                                     naming=self.naming)
        return to_numpy(e, names=names, bound=self.scope(), naming=self.naming)

    def _code_whole(self, rows=None) -> str:
        """np.block of the blocks (matrices), else lambda dX, dY: (HX, HY)."""
        from .render.numpy import to_numpy

        h = self.der
        if rows is not None or h.matrix:
            rows = rows if rows is not None else self.shown
            n = len(rows)
            inner = ", ".join("[" + ", ".join(self._code_block(i, j, rows) for j in range(n)) + "]"
                              for i in range(n))
            return f"np.block([{inner}])"
        py = self.naming.python
        params = ", ".join(py(self.directions[v.name]) for v in h.vars)
        extra = [Diff(v) for v in h.vars] + self.scope()
        parts = [to_numpy(a, names=self.bound(self.top(a)), bound=extra, naming=self.naming)
                 for a in self.shown_applied]
        return f"lambda {params}: ({', '.join(parts)}{',' if len(parts) == 1 else ''})"

    def _matrix_line(self, render) -> str | None:
        """``[[2 x2, 2 x1], [2 x1, 0]]``: the whole matrix on one line, when it is one."""
        if not self.der.matrix:
            return None
        return "[" + ", ".join("[" + ", ".join(render(e, names=self.top(e)) for e in row) + "]"
                               for row in self.shown) + "]"

    def verdicts(self, render=None) -> list[str]:
        return verdict_lines(self, render)

    def step_lines(self) -> list[str]:
        from .render.text import to_text

        if not self.der.steps:
            return []
        lines = [f"the Hessian of {self.input}, block by block",
                 f"  df = {to_text(self.shown_df, names=self.names)}"]
        for what, e in self.der.steps:
            lines.append(f"  {what}:")
            lines.append(f"    = {to_text(present(e), names=self.defs)}")
        lines.append("  read off block [i, j]: the vi part of d(∇f) along d vj")
        return lines

    def _direction_decl(self) -> list[str]:
        h = self.der
        used = [v for j, v in enumerate(h.vars) if any(h.operator[i][j] for i in range(len(h.vars)))]
        if not used:
            return []
        return ["; ".join(f"{self.directions[v.name]}: {shape_decl(v.shape)}" for v in used)
                + "  # the directions"]

    # -- formats


    def _latex_matrix(self) -> str:
        from .render.latex import to_latex

        rows = [" & ".join(to_latex(e, names=self.top(e)) for e in row) for row in self.shown]
        return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def hessian_report(problem, variables, options) -> HessianReport:
    """Derive the whole Hessian, then verify as asked (--check, --expect)."""
    h = whole_hessian(problem, variables, options)
    report = HessianReport(h)
    if options.vec and h.vec is None:
        report.remarks.append("--vec: the Hessian is already the matrix over the stacked "
                              "variables")
    if options.lets:   # the numbers at the data (values.py imports NumPy)
        from .values import attach

        attach(report, h, options)
    verify(report, options, h, "whole_hessian_check", "compare_blocks")
    return report


# ---------------------------------------------------------------- the commands

@located
def hess_command(problem, options):
    """matdiff hess: one whole Hessian for a scalar and several variables, else one
    result per variable (a Hessian, or the second differential of a non-scalar)."""
    variables = resolve_wrt(problem, options.wrt)
    if len(variables) > 1 and problem.expr.shape == SCALAR:
        return [hessian_report(problem, variables, options)]   # one result, every block
    return labelled([report_for(problem, var, "hess", options) for var in variables])


@located
def check_command(problem, options):
    """matdiff check: the gradient and the Hessian of a scalar (the whole Hessian of
    several variables), the Jacobian operator of anything else, each verified by
    finite differences; --expect is a claimed first derivative, compared with the
    gradient (or the Jacobian) only."""
    from .records import replace

    opts = replace(options, check=True)
    variables = resolve_wrt(problem, options.wrt)
    if problem.expr.shape == SCALAR and len(variables) > 1:
        grads = [report_for(problem, var, "grad", opts) for var in variables]
        return labelled(grads + [hessian_report(problem, variables, replace(opts, expect=None))])
    names = ("grad", "hess") if problem.expr.shape == SCALAR else ("jac",)
    reports, refused = [], []
    for var in variables:
        for name in names:
            try:
                reports.append(report_for(problem, var, name,
                                          opts if name != "hess" else replace(opts, expect=None)))
            except MatdiffError as exc:
                if name != "hess" or exc.exit_code != EXIT_UNSUPPORTED:
                    raise
                # the gradient is checked all the same; the Hessian says why it is not
                # (exit 3): lambda_max's, for one, needs its eigenvector's derivative
                refused.append(ErrorReport(exc, "check", problem.source))
    return labelled(reports) + refused
