"""diff, grad, jac and hess: one problem, one variable -> a Derivation and its Report.

The text format of a result is itself a matdiff document: named pieces
(definitions the result uses, and shared subexpressions ``t1``, ``t2``) come
first as definitions, the derivation steps as ``#`` comments, and the result
expression last, so that the output can be read back.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import MatdiffError
from .expr import SCALAR, Expr, Sym, Transpose, walk
from .report import (
    FAILED, OK, Report, compact_shape, inferred_line, inferred_symbols, shape_json,
)
from .simplify import present, simplify, tree_size


@dataclass
class Derivation:
    """What a derivative command found for one variable."""

    command: str
    problem: object
    var: Sym
    differential: Expr            # canonical df, in terms of Diff(var)
    kind: str                     # gradient | differential | jacobian | operator | hessian ...
    result: Expr                  # canonical
    operator: bool = False        # result is linear in Diff(var): written as lambda dX: ...
    vec: Expr | None = None       # the operator's matrix on vec(X), with --vec
    steps: list = field(default_factory=list)
    steps_complete: bool = True
    layout: str = "numerator"     # of a Jacobian matrix: numerator (rows are outputs)


def _vector_like(shape) -> bool:
    return shape[0] == 1 or shape[1] == 1


def resolve_wrt(problem, names) -> list:
    """The variables to differentiate with respect to, as Sym nodes."""
    symbols = problem.symbols
    if not names:
        return list(symbols.values())
    present_names = [n for n in names if n in symbols]
    if present_names and len(present_names) < len(names):
        # a document of many problems: each uses the listed variables it contains
        names = present_names
    out = []
    for name in names:
        sym = symbols.get(name)
        if sym is None:
            if name in getattr(problem, "definitions", {}):
                hint = (f"{name} is a definition; differentiate with respect to a variable "
                        f"it is made of")
            else:
                hint = "variables here: " + ", ".join(symbols) if symbols else None
            raise MatdiffError("usage", f"--wrt {name}: {name} does not appear in the expression",
                               hint=hint, statement=problem.source, line=problem.line)
        out.append(sym)
    return out


def derive(problem, var: Sym, command: str, options) -> Derivation:
    from .extract import d, read_gradient, read_jacobian, hessian

    f = problem.expr
    df = d(f, var)
    der = Derivation(command, problem, var, df, "differential", df, operator=True,
                     layout=options.layout)
    if command == "grad":
        if f.shape != SCALAR:
            raise MatdiffError(
                "usage", f"the gradient needs a scalar expression; this one is "
                f"{f.shape[0]} x {f.shape[1]}", hint="use `matdiff jac` for the Jacobian",
                statement=problem.source, line=problem.line)
        der.kind, der.result, der.operator = "gradient", read_gradient(df, var), False
    elif command == "jac":
        if _vector_like(f.shape) and _vector_like(var.shape):
            J = read_jacobian(df, var) if f.shape != SCALAR else _row_gradient(df, var)
            if options.layout == "denominator":
                J = simplify(Transpose(J))
            der.kind, der.result, der.operator = "jacobian", J, False
        else:
            der.kind = "operator"
            if options.vec:
                der.vec = read_jacobian(df, var)
    elif command == "hess":
        if f.shape != SCALAR:
            raise MatdiffError(
                "usage", "the Hessian needs a scalar expression", statement=problem.source,
                line=problem.line, hint="use `matdiff jac` for the derivative of a vector function")
        kind, H = hessian(f, var)
        der.result = H
        der.operator = kind == "operator"
        der.kind = "hessian_operator" if der.operator else "hessian"
        if der.operator and options.vec:
            der.vec = read_jacobian(H, var)
    if options.steps:
        from .steps import Step, derivation

        shown_as_names = definitions_by_node(problem)
        der.steps, der.steps_complete = derivation(f, var, shown_as_names)
        if command == "hess":  # then the gradient, and its own differential
            from .extract import gradient

            G = gradient(f, var)
            more, complete = derivation(G, var, shown_as_names)
            read = f"read off df = <G, d{var.name}>, and differentiate G"
            der.steps += [Step("gradient", read, G)] + more
            der.steps_complete = der.steps_complete and complete
    return der


def _row_gradient(df, var):
    """The Jacobian of a scalar: the row g^T."""
    from .extract import read_gradient, vec_of
    return simplify(Transpose(vec_of(read_gradient(df, var))))


# ---------------------------------------------------------------- naming

def shared_names(exprs, taken: dict) -> dict:
    """Name the nontrivial subexpressions used more than once (t1, t2, ...).

    ``taken`` maps nodes to names already in use (the problem's definitions)."""
    counts: dict = {}
    order = []
    for e in exprs:
        for node in walk(e):
            order.append(node)
            for c in node.children:
                counts[c] = counts.get(c, 0) + 1
    names = dict(taken)
    used = set(taken.values())
    k = 0
    for node in order:
        if node in names or counts.get(node, 0) < 2 or tree_size(node) < 8:
            continue
        if not node.children:
            continue
        k += 1
        while f"t{k}" in used:
            k += 1
        names[node] = f"t{k}"
    return names


def definitions_by_node(problem) -> dict:
    """Each definition's canonical body -> its name, so results print in its terms."""
    out = {}
    for name, body in getattr(problem, "definitions", {}).items():
        out.setdefault(present(simplify(body)), name)
        out.setdefault(body, name)
    return out


# ---------------------------------------------------------------- the report

LABELS = {
    "gradient": "∇_{v} f",
    "differential": "df",
    "jacobian": "J",
    "operator": "dF",
    "hessian": "∇²_{v} f",
    "hessian_operator": "H[d{v}]",
}


# the last step of a derivation: how the result is read off the differential
READ_OFF = {
    "gradient": "read off: move d{v} to the end of every term (cyclic trace, transposes), "
                "df = <G, d{v}> = tr(G^T d{v}), so the gradient is G",
    "differential": "the differential is linear in d{v}",
    "jacobian": "read off: vec(df) = J vec(d{v}), by vec(P d{v} Q) = (Q^T ⊗ P) vec(d{v})",
    "operator": "the derivative is the linear operator d{v} -> dF",
    "hessian": "differentiate the gradient again and read off d(∇f) = H d{v}",
    "hessian_operator": "differentiate the gradient again: H[d{v}] = d(∇f)",
}


class DerivativeReport(Report):
    """The report of diff / grad / jac / hess for one problem and one variable."""

    def __init__(self, der: Derivation):
        self.der = der
        self.command = der.command
        self.input = der.problem.source
        self.line = der.problem.line
        self.status = OK
        self.extra: dict = {}          # check / expect fields, added by trust commands
        self.notes: list[str] = []     # human lines (text as comments)
        self.shown = present(der.result)
        self.shown_df = present(der.differential)
        self.shown_vec = present(der.vec) if der.vec is not None else None
        outputs = [self.shown] + ([self.shown_vec] if self.shown_vec is not None else [])
        self.defs = definitions_by_node(der.problem)   # steps are written with them
        self.names = shared_names(outputs, self.defs)
        self._df_names = None

    # -- pieces
    def label(self) -> str:
        from .render.pretty import pretty_name

        return LABELS[self.der.kind].format(v=pretty_name(self.der.var.name))

    def named_lines(self, render, exprs, names=None) -> list[tuple[str, str]]:
        """(name, rendered body) of every named piece the outputs use, in dependency order.
        A renderer writes its root out even when it has a name, so every piece is
        rendered with the one names dict (no copy per piece: linear in their number)."""
        names = self.names if names is None else names
        out, seen = [], set()
        for e in exprs:
            for node in walk(e):
                name = names.get(node)
                if name is None or name in seen or node in exprs:
                    continue
                seen.add(name)
                out.append((name, render(node, names=names)))
        return out

    def top(self, e) -> dict:
        """The names to print e with (the root is written out even when named: a result
        is never just a name)."""
        return self.names

    def df_names(self) -> dict:
        """The names to print the differential with: the result's, and its own shared
        pieces (a differential through definitions shares them as the result does;
        written as a tree it would double with each definition)."""
        if self._df_names is None:
            self._df_names = shared_names([self.shown_df], self.names)
        return self._df_names

    def df_where(self, render) -> list[tuple[str, str]]:
        """(name, body) of the differential's own named pieces (not the result's)."""
        result_names = {name for name, _ in self.named_lines(lambda e, names: "", self._exprs())}
        return [(n, body) for n, body in self.named_lines(render, [self.shown_df], self.df_names())
                if n not in result_names]

    def derived_functions(self) -> dict:
        """f' (and f'') of user functions the outputs use: name -> "param -> body"."""
        from .expr import Func

        out: dict = {}
        if not getattr(self.der.problem, "functions", True):
            return out  # no user function in this problem: nothing to walk for
        for e in [self.shown_df] + self._exprs():
            for node in walk(e):
                if isinstance(node, Func) and len(node.args) == 3 and node.name.endswith("'"):
                    param, body = node.args[2]
                    out.setdefault(node.name, f"{node.name}({param}) = {body}")
        return out

    def scope(self) -> list:
        """The problem's variables: in scope where the NumPy code runs (for dimensions)."""
        return list(self.der.problem.symbols.values())

    def _exprs(self):
        return [self.shown] + ([self.shown_vec] if self.shown_vec is not None else [])

    # -- formats
    def to_json(self) -> dict:
        from .render.latex import to_latex
        from .render.numpy import numpy_or_none, to_numpy, to_numpy_operator
        from .render.text import to_text

        der = self.der
        syms = list(der.problem.symbols.values())
        result = {
            "kind": der.kind,
            "shape": shape_json(self.shown.shape),
            "text": to_text(self.shown, names=self.top(self.shown)),
            "latex": to_latex(self.shown, names=self.top(self.shown)),
        }
        if der.operator:
            result["direction"] = "d" + der.var.name
            result["numpy"], why = numpy_or_none(to_numpy_operator, self.shown, der.var,
                                                 names=self.top(self.shown), bound=self.scope())
        else:
            result["numpy"], why = numpy_or_none(to_numpy, self.shown,
                                                 names=self.top(self.shown), bound=self.scope())
        if why:
            result["numpy_error"] = why
        where = self.named_lines(to_text, self._exprs())
        if where:
            result["where"] = dict(where)
        if self.shown_vec is not None:
            result["vec"] = {"text": to_text(self.shown_vec, names=self.names),
                             "latex": to_latex(self.shown_vec, names=self.names),
                             "numpy": numpy_or_none(to_numpy, self.shown_vec,
                                                    names=self.names, bound=self.scope())[0]}
        out = {
            "ok": self.status == OK, "input": self.input, "command": self.command,
            "wrt": der.var.name,
            "shapes": {s.name: shape_json(s.shape) for s in syms},
            "assumptions": {s.name: sorted(s.props) for s in syms if s.props},
            "inferred": [s.name for s in inferred_symbols(der.problem)],
            "differential": self._differential_json(to_text, to_latex),
            "result": result,
        }
        functions = self.derived_functions()
        if functions:
            out["functions"] = {name: text.split(" = ", 1)[1] for name, text in functions.items()}
        if der.steps:
            out["steps"] = [{"rule": s.rule, "identity": s.identity,
                             "text": to_text(present(s.expr), names=self.defs)}
                            for s in der.steps]
        out.update(self.extra)
        return out

    def _differential_json(self, to_text, to_latex) -> dict:
        names = self.df_names()
        out = {"text": to_text(self.shown_df, names=names),
               "latex": to_latex(self.shown_df, names=names)}
        where = self.named_lines(to_text, [self.shown_df], names)
        if where:
            out["where"] = dict(where)
        return out

    def to_text(self) -> str:
        from .render.text import to_text

        der = self.der
        lines = inferred_line(der.problem)
        if der.steps:
            simplified = "\n".join(
                [f"#   simplify: df = {to_text(self.shown_df, names=self.df_names())}"]
                + [f"#     where {n} = {body}" for n, body in self.df_where(to_text)])
            lines.append(f"# d/d{der.var.name} of {self.input}")
            for s in der.steps:
                if s.rule == "gradient":  # the first derivation ends here
                    lines.append(simplified)
                    simplified = None
                lines.append(f"#   {s.rule}: {s.identity}")
                lines.append(f"#     = {to_text(present(s.expr), names=self.defs)}")
            if not der.steps_complete:
                lines.append("#   ... (further steps omitted)")
            if simplified:
                lines.append(simplified)
            lines.append(f"#   {READ_OFF[der.kind].format(v=der.var.name)}")
        for name, body in self.named_lines(to_text, self._exprs()):
            lines.append(f"{name} = {body}")
        lines.append(to_text(self.shown, names=self.top(self.shown)))
        if self.shown_vec is not None:
            lines.append(f"# d vec(F) = J d vec(d{der.var.name}) with J =")
            lines.append(to_text(self.shown_vec, names=self.names))
        lines.extend("# " + n for n in self.notes)
        lines.extend("# where " + f for f in self.derived_functions().values())
        return "\n".join(lines)

    def to_latex(self) -> str:
        from .render.latex import to_latex

        lines = [f"{name} = {body}" for name, body in self.named_lines(to_latex, self._exprs())]
        lines.append(to_latex(self.shown, names=self.top(self.shown)))
        return "\n".join(lines)

    def to_numpy(self) -> str:
        from .render.numpy import to_numpy, to_numpy_operator

        if self.der.operator:
            return to_numpy_operator(self.shown, self.der.var, names=self.top(self.shown),
                                     bound=self.scope())
        return to_numpy(self.shown, names=self.top(self.shown), bound=self.scope())

    def to_pretty(self, console) -> None:
        from rich.text import Text

        from .render.pretty import pretty_name, to_rich_text

        der = self.der
        head = Text(self.input or "", style="bold")
        shapes = "  ".join(f"{pretty_name(s.name)}: {compact_shape(s.shape)}{' ' + ' '.join(sorted(s.props)) if s.props else ''}"
                           for s in der.problem.symbols.values())
        head.append("    " + shapes, style="dim")
        inferred = inferred_symbols(der.problem)
        if inferred:
            head.append(f"  (inferred: {', '.join(pretty_name(s.name) for s in inferred)})",
                        style="dim italic")
        console.print(head)
        if der.steps:
            for i, s in enumerate(der.steps, 1):
                if s.rule == "gradient":  # the first derivation ends here
                    self._pretty_df(console, "  df = ")
                line = Text(f"  {i:>2}. {s.rule}", style="cyan")
                line.append(f"   {s.identity}", style="dim")
                console.print(line)
                body = Text("      = ")
                body.append_text(to_rich_text(present(s.expr), names=self.defs))
                console.print(body)
            if not der.steps_complete:
                console.print(Text("      … further steps omitted", style="dim"))
        shown_df = any(s.rule == "gradient" for s in der.steps)  # a Hessian's: shown above
        if der.steps and not shown_df:
            line = Text(f"  {len(der.steps) + 1:>2}. simplify", style="cyan")
            line.append("   collect terms, rotate traces, use the declared properties", style="dim")
            console.print(line)
        if (der.kind != "differential" or der.steps) and not shown_df:
            self._pretty_df(console, "  df = ")
        if der.steps:
            console.print(Text(f"  {len(der.steps) + (1 if shown_df else 2):>2}. " +
                               READ_OFF[der.kind].format(v=der.var.name), style="cyan"))
        for name, body in self.named_lines(lambda e, names: e, self._exprs()):
            line = Text(f"  {pretty_name(name)} = ", style="bold")
            line.append_text(to_rich_text(body, names=self.names))
            console.print(line)
        line = Text(f"  {self.label()} = ", style="bold green")
        line.append_text(to_rich_text(self.shown, names=self.top(self.shown)))
        console.print(line)
        if self.shown_vec is not None:
            line = Text(f"  d vec(F) = J d vec(d{der.var.name}),  J = ", style="bold")
            line.append_text(to_rich_text(self.shown_vec, names=self.names))
            console.print(line)
        for f in self.derived_functions().values():
            console.print(Text("  where " + f, style="dim"))
        for n in self.notes:
            bad = "FAILED" in n or n.startswith("expect: differs")
            console.print(Text("  " + n, style="bold red" if bad else "green"))


    def _pretty_df(self, console, head: str) -> None:
        """The differential line, with its own named pieces after it."""
        from rich.text import Text

        from .render.pretty import pretty_name, to_rich_text

        names = self.df_names()
        line = Text(head, style="bold")
        line.append_text(to_rich_text(self.shown_df, names=names))
        console.print(line)
        for name, body in self.df_where(lambda e, names: e):
            line = Text(f"      where {pretty_name(name)} = ", style="dim")
            line.append_text(to_rich_text(body, names=names))
            console.print(line)


def report_for(problem, var, name, options) -> DerivativeReport:
    """Derive, then verify as asked (--check, --expect)."""
    der = derive(problem, var, name, options)
    report = DerivativeReport(der)
    if options.check:
        from .trust import numeric_check

        result = numeric_check(der, options.seed, bindings=options.bindings())
        report.extra["check"] = result.to_json()
        report.notes.append(result.summary())
        if not result.passed:
            report.status = FAILED
    if options.expect:
        from .trust import compare

        cmp = compare(der, options.expect, options.seed)
        report.extra["expect"] = cmp.to_json()
        report.notes.append(cmp.summary())
        if not cmp.equal:
            report.status = FAILED
    return report


def located(command):
    """A command whose errors without a place point at the whole problem statement
    (the engine's errors are about the expression, not one character of it)."""
    def run(problem, options):
        try:
            return command(problem, options)
        except MatdiffError as e:
            if e.line is None or e.column is None:
                e.line = problem.line
                e.column, e.end_column = 1, len(problem.source) + 1
                e.source_line = e.statement = problem.source
            raise
    run.__name__ = command.__name__
    run.__doc__ = command.__doc__
    return run


def derivative_command(name: str):
    """The CLI command `name` (diff, grad, jac, hess): a list of reports, one per variable."""
    def command(problem, options):
        return [report_for(problem, var, name, options)
                for var in resolve_wrt(problem, options.wrt)]
    command.__name__ = f"{name}_command"
    return located(command)


@located
def check_command(problem, options):
    """matdiff check: the gradient and the Hessian of a scalar (the Jacobian operator
    of anything else), each verified by finite differences."""
    from dataclasses import replace

    opts = replace(options, check=True)
    names = ("grad", "hess") if problem.expr.shape == SCALAR else ("jac",)
    return [report_for(problem, var, name, opts)
            for var in resolve_wrt(problem, options.wrt) for name in names]
