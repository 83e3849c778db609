"""diff, grad, jac and hess: one problem, one variable -> a Derivation and its Report.

The text format of a result is itself a matdiff document: named pieces
(definitions the result uses, and shared subexpressions ``t1``, ``t2``) come
first as definitions, the derivation steps as ``#`` comments, and the result
expression last, so that the output can be read back.
"""
from __future__ import annotations

from .errors import MatdiffError
from .expr import (
    SCALAR, Diff, EigVecMax, EigVecMin, Expr, LeftVecMax, LeftVecMin, Sym, Transpose, walk,
)
from .names import Names, renamed
from .records import dataclass, field
from .report import (
    CANNOT, FAILED, OK, Report, compact_shape, inferred_line, inferred_symbols, shape_json,
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
    simplified_by: tuple = ()     # --steps: the identities the simplification used
    layout: str = "numerator"     # of a Jacobian matrix: numerator (rows are outputs)
    order: int = 1                # of a differential: d^k f with --order k
    directions: tuple = ()        # of a second differential: the Sym directions dX1, dX2

    def again(self, problem) -> "Derivation":
        """The same command for the same variable, in a variant of the problem (other
        declarations): what a check asks for without importing this module."""
        from .commands import Options

        return derive(problem, problem.symbols[self.var.name], self.command,
                      Options(layout=self.layout, order=self.order))


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
            if name in problem.definitions:
                hint = (f"{name} is a definition; differentiate with respect to a variable "
                        f"it is made of")
            else:
                hint = "variables here: " + ", ".join(symbols) if symbols else None
            raise MatdiffError("usage", f"--wrt {name}: {name} does not appear in the expression",
                               hint=hint, statement=problem.source, line=problem.line)
        out.append(sym)
    return out


def _refuse_division_by_zero(problem) -> None:
    """An expression that divides by something identically zero (``α / (β - β)``)
    has no derivative: an error, never ``1 / 0`` as an answer."""
    from .expr import Div, EDiv, EPow, Num, Power, Zeros

    def zero(c):
        return (isinstance(c, Num) and c.value == 0) or isinstance(c, Zeros)

    if _DIVISION_CHECKED[0] is problem:  # once per problem, not once per variable
        return
    if _cannot_divide(problem.expr):
        _DIVISION_CHECKED[0] = problem
        return
    for node in walk(simplify(problem.expr)):
        if (isinstance(node, (Div, EDiv)) and zero(node.args[1])) or (
                isinstance(node, (Power, EPow)) and zero(node.args[0]) and node.args[1] < 0):
            raise MatdiffError(
                "shape", "the expression divides by zero: a divisor is 0 for every value",
                statement=problem.source, line=problem.line,
                hint="a divisor such as β - β is identically zero; the expression has no "
                     "value and no derivative")
    _DIVISION_CHECKED[0] = problem


_DIVISION_CHECKED: list = [None]


def _cannot_divide(expr) -> bool:
    """True when no node of expr can lead to a division or a negative power in
    its canonical form: every node is of a kind whose rules divide by nothing
    (an inverse, a quotient or a power with an exponent that is not positive
    may, and so may any kind not listed).  Such an expression need not be
    simplified to be checked."""
    from .expr import EPow, Power

    for node in walk(expr):
        kind = type(node)
        if kind not in _NO_DIVISION and not (kind in (Power, EPow) and node.args[1] > 0):
            return False
    return True


def _no_division_kinds() -> frozenset:
    from . import expr as E

    return frozenset((E.Sym, E.Num, E.Identity, E.Zeros, E.Ones, E.Diff, E.Add, E.Mul,
                      E.Hadamard, E.Kron, E.Broadcast, E.Transpose, E.Trace, E.Sum, E.Vec,
                      E.DiagM, E.DiagV, E.Func, E.Norm2, E.NormF, E.Det, E.LogDet, E.Softmax,
                      E.LogSumExp))


_NO_DIVISION = _no_division_kinds()


def derive(problem, var: Sym, command: str, options) -> Derivation:
    from .extract import d, read_gradient, read_jacobian, hessian

    f = problem.expr
    _refuse_division_by_zero(problem)
    df = d(f, var)
    der = Derivation(command, problem, var, df, "differential", df, operator=True,
                     layout=options.layout)
    order = options.order
    if command == "diff" and order > 1:   # d^k f[dX, ..., dX]
        from .extract import kth_differential

        der.result, der.order = kth_differential(f, var, order), order
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
                if options.layout == "denominator":  # the transpose, as for a Jacobian
                    der.vec = simplify(Transpose(der.vec))
    elif command == "hess" and f.shape != SCALAR:   # the second differential d²F[dX1, dX2]
        from .extract import direction_names, second_differential

        names = direction_names(Names.of(problem), var)
        der.result, *der.directions = second_differential(f, var, names)
        der.directions = tuple(der.directions)
        der.kind, der.operator = "second_differential", False
    elif command == "hess":
        kind, H = hessian(f, var)
        der.result = H
        der.operator = kind == "operator"
        der.kind = "hessian_operator" if der.operator else "hessian"
        if der.operator and options.vec:
            der.vec = read_jacobian(H, var)
    if options.steps:
        from .steps import Step, derivation, simplification

        shown_as_names = definitions_by_node(problem)
        der.steps, der.steps_complete = derivation(f, var, shown_as_names)
        if der.steps_complete:
            der.simplified_by = simplification(der.steps)
        if command == "hess" and f.shape == SCALAR:  # then the gradient, and its differential
            from .extract import gradient

            G = gradient(f, var)
            more, complete = derivation(G, var, shown_as_names)
            read = (f"read off df = <G, {Names.of(problem).direction(var)}>, "
                    "and differentiate G")
            der.steps += [Step("gradient", read, G)] + more
            der.steps_complete = der.steps_complete and complete
    return der


def _row_gradient(df, var):
    """The Jacobian of a scalar: the row g^T."""
    from .extract import read_gradient, vec_of
    return simplify(Transpose(vec_of(read_gradient(df, var))))


# ---------------------------------------------------------------- naming

EIGENVECTORS = (EigVecMax, EigVecMin, LeftVecMax, LeftVecMin)
#: the singular vectors and factors a result names (`u1 = svec_left_max(X)`), with
#: the letter of their name and where the result holds
SINGULAR = {"SVecLeftMax": ("u", "{sigma} is simple"), "SVecRightMax": ("v", "{sigma} is simple"),
            "SvdU": ("U", "the singular values of {x} are distinct and not 0"),
            "SvdV": ("V", "the singular values of {x} are distinct and not 0"),
            "Polar": ("Q", "{x} has full rank")}


def conditions(exprs, render=None) -> list[str]:
    """Where a result holds, in words, once each: ``lambda_max(A) is simple`` for
    every eigenvector it uses (the eigenvalue's derivative exists there), ``no
    entry of x is 0`` for every sign(x) (the 1-norm's, abs's derivative).
    ``render``: how the eigenvalue is written (text unless given)."""
    from .build import symmetric
    from .expr import Func, LambdaMax, LambdaMin, OneHotMax
    if render is None:
        from .render.text import to_text as render
    out: dict = {}
    signs: list = []
    maxima: set = set()
    for e in exprs:
        for node in walk(e):
            if isinstance(node, EIGENVECTORS) and node.a.shape != SCALAR:
                largest = isinstance(node, (EigVecMax, LeftVecMax))
                lam = (LambdaMax if largest else LambdaMin)(node.a)
                what = "simple" if symmetric(node.a) else "real and simple"
                out.setdefault(f"where {render(lam)} is {what}", None)
            elif type(node).__name__ in SINGULAR and node.a.shape != SCALAR:
                from .expr import SigmaMax
                said = SINGULAR[type(node).__name__][1].format(sigma=render(SigmaMax(node.a)),
                                                              x=render(node.a))
                out.setdefault(f"where {said}", None)
            elif isinstance(node, Func) and node.name == "sign" and len(node.args) == 2:
                signs.append(node.arg)
            elif isinstance(node, OneHotMax):
                arg = node.a.arg if isinstance(node.a, Func) and node.a.name == "abs" else node.a
                maxima.add(arg)
                what = "magnitude" if arg is not node.a else "value"
                out.setdefault(f"where the entry of largest {what} of {render(arg)} is unique",
                               None)
    for arg in signs:   # sign(x) ⊙ onehot_max(abs(x)) needs x_k ≠ 0 only: unique says so
        if arg not in maxima:
            out.setdefault(f"where no entry of {render(arg)} is 0", None)
    return list(out)


def shared_names(exprs, taken: dict, naming=None) -> dict:
    """Name the nontrivial subexpressions used more than once (t1, t2, ...).

    ``taken`` maps nodes to names already in use (the problem's definitions);
    ``naming`` (:class:`matdiff_cli.names.Names`) gives fresh names, never a
    name of the problem (a variable may be called ``t1``)."""
    if naming is None:
        naming = Names(set(taken.values()))
    counts: dict = {}
    order = []
    for e in exprs:
        for node in walk(e):
            order.append(node)
            for c in node.children:
                counts[c] = counts.get(c, 0) + 1
    names = dict(taken)
    for node in order:
        if isinstance(node, EIGENVECTORS) and node not in names:
            # named always: `v1 = eigvec_max(A)`, `u2 = leftvec_max(A)`
            left = isinstance(node, (LeftVecMax, LeftVecMin))
            names[node] = naming.numbered("u" if left else "v")
            continue
        if type(node).__name__ in SINGULAR and node not in names:   # `u1 = svec_left_max(X)`
            names[node] = naming.numbered(SINGULAR[type(node).__name__][0])
            continue
        if node in names or counts.get(node, 0) < 2 or tree_size(node) < 8:
            continue
        if not node.children:
            continue
        names[node] = naming.numbered("t")
    return names


def definitions_by_node(problem) -> dict:
    """Each definition's canonical body -> its name, so results print in its terms."""
    out = {}
    for name, body in problem.definitions.items():
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
    "hessian_operator": "H[{d}]",
    "second_differential": "d²F[{d}]",
}


# the result's name in LaTeX, when a problem has several results ({v}: the variable)
LATEX_LABELS = {
    "gradient": r"\nabla_{{{v}}} f",
    "differential": r"\mathrm{{d}}f",
    "jacobian": r"J_{{{v}}}",
    "operator": r"\mathrm{{d}}F",
    "hessian": r"\nabla^2_{{{v}}} f",
    "hessian_operator": r"H[{d}]",
    "second_differential": r"\mathrm{{d}}^2 F[{d}]",
}

# ... and in words, as a comment line of text and NumPy output
WORD_LABELS = {
    "gradient": "gradient",
    "differential": "differential",
    "jacobian": "Jacobian",
    "operator": "derivative (the operator dF)",
    "hessian": "Hessian",
    "hessian_operator": "Hessian operator",
    "second_differential": "second differential",
}


# the last step of a derivation: how the result is read off the differential
READ_OFF = {
    "gradient": "read off: move {d} to the end of every term (cyclic trace, transposes), "
                "df = <G, {d}> = tr(G^T {d}), so the gradient is G",
    "differential": "the differential is linear in {d}",
    "jacobian": "read off: vec(df) = J vec({d}), by vec(P {d} Q) = (Q^T ⊗ P) vec({d})",
    "operator": "the derivative is the linear operator {d} -> dF",
    "hessian": "differentiate the gradient again and read off d(∇f) = H {d}",
    "hessian_operator": "differentiate the gradient again: H[{d}] = d(∇f)",
    "second_differential": "differentiate dF[{d}] again, the first direction held constant",
}


class DerivativeReport(Report):
    """The report of diff / grad / jac / hess for one problem and one variable."""

    def __init__(self, der: Derivation):
        self.start(der)
        self.shown = present(der.result)
        self.shown_df = present(der.differential)
        self.shown_vec = present(der.vec) if der.vec is not None else None
        outputs = [self.shown] + ([self.shown_vec] if self.shown_vec is not None else [])
        self.naming = Names.of(der.problem)
        self.direction = self.naming.direction(der.var)   # dX, or d_X when dX is taken
        self.defs = definitions_by_node(der.problem)   # steps are written with them
        if self.direction != "d" + der.var.name:
            self.defs[Diff(der.var)] = self.direction
        self.names = shared_names(outputs, self.defs, self.naming)
        self._df_names = None

    # -- pieces
    def label(self) -> str:
        from .render.pretty import pretty_name

        if self.der.order > 1:
            return f"d{superscript(self.der.order)}f"
        return LABELS[self.der.kind].format(v=pretty_name(self.der.var.name),
                                            d=pretty_name(self.direction))

    def named_lines(self, render, exprs, names=None) -> list[tuple[str, str]]:
        """(name, rendered body) of every named piece the outputs use, in dependency order.
        A renderer writes its root out even when it has a name, so every piece is
        rendered with the one names dict (no copy per piece: linear in their number)."""
        names = self.names if names is None else names
        out, seen = [], set()
        for e in exprs:
            for node in walk(e):
                name = names.get(node)
                if name is None or name in seen or node in exprs or type(node) is Diff:
                    continue
                seen.add(name)
                out.append((name, render(node, names=names)))
        return out

    def top(self, e) -> dict:
        """The names to print e with: all but e's own (a result is never just a name)."""
        return {k: v for k, v in self.names.items() if k is not e or type(k) is Diff}

    @staticmethod
    def bound(names: dict) -> dict:
        """The names NumPy code binds inside (a direction is the lambda's parameter)."""
        return {k: v for k, v in names.items() if type(k) is not Diff}

    def code_names(self, e) -> dict:
        return self.bound(self.top(e))

    def df_names(self) -> dict:
        """The names to print the differential with: the result's, and its own shared
        pieces (a differential through definitions shares them as the result does;
        written as a tree it would double with each definition)."""
        if self._df_names is None:
            self._df_names = shared_names([self.shown_df], self.names, self.naming)
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
        if not self.der.problem.functions:
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
            result["direction"] = self.direction
            result["numpy"], why = numpy_or_none(to_numpy_operator, self.shown, der.var,
                                                 names=self.code_names(self.shown),
                                                 bound=self.scope(), naming=self.naming)
        else:
            result["numpy"], why = numpy_or_none(to_numpy, self.shown,
                                                 names=self.code_names(self.shown),
                                                 bound=self.scope(), naming=self.naming)
        if why:
            result["numpy_error"] = why
        where = self.named_lines(to_text, self._exprs())
        if where:
            result["where"] = dict(where)
        if self.shown_vec is not None:
            result["vec"] = {"text": to_text(self.shown_vec, names=self.names),
                             "latex": to_latex(self.shown_vec, names=self.names),
                             "numpy": numpy_or_none(to_numpy, self.shown_vec,
                                                    names=self.bound(self.names),
                                                    bound=self.scope(),
                                                    naming=self.naming)[0]}
        out = {
            "ok": self.status == OK, "input": self.input, "command": self.command,
            "wrt": der.var.name,
            "shapes": {s.name: shape_json(s.shape) for s in syms},
            "assumptions": {s.name: sorted(s.props) for s in syms if s.props},
            "inferred": [s.name for s in inferred_symbols(der.problem)],
            "differential": self._differential_json(to_text, to_latex),
            "result": result,
        }
        if der.order > 1:
            out["order"] = der.order
        python_names = renamed(self.naming, syms)
        if python_names:  # the numpy field's names for variables Python cannot use as is
            out["python_names"] = python_names
        functions = self.derived_functions()
        if functions:
            out["functions"] = {name: text.split(" = ", 1)[1] for name, text in functions.items()}
        if der.steps:
            out["steps"] = [{"rule": s.rule, "identity": s.identity,
                             "text": to_text(present(s.expr), names=self.defs)}
                            for s in der.steps]
        conds = conditions([self.shown_df] + self._exprs())
        if conds:   # where the result holds
            out["conditions"] = conds
        if self.remarks:
            out["remarks"] = list(self.remarks)
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

    def word_label(self) -> str:
        """``gradient with respect to x``: the comment line that says what a result is."""
        what = WORD_LABELS[self.der.kind]
        if self.der.order > 1:
            what = f"differential of order {self.der.order}, d^{self.der.order} f[{self.direction}, ...],"
        return f"{what} with respect to {self.der.var.name}"

    def latex_label(self) -> str:
        from .render.latex import to_latex

        from .render.latex import latex_name

        var = self.der.var
        d = (r"\mathrm{d}" + to_latex(var) if self.direction == "d" + var.name
             else latex_name(self.direction))
        if self.der.order > 1:
            return rf"\mathrm{{d}}^{{{self.der.order}}} f"
        return LATEX_LABELS[self.der.kind].format(v=to_latex(var), d=d)

    def vec_caption(self) -> str:
        d = self.direction
        if self.der.layout == "denominator" and self.der.kind == "operator":
            return f"vec(dF) = J^T vec({d}), in denominator layout J^T ="
        return f"vec(dF) = J vec({d}) with J ="

    def step_lines(self) -> list[str]:
        """--steps as lines of words (each output format makes them comments)."""
        from .render.text import to_text

        der = self.der
        if not der.steps:
            return []
        lines = [f"d/d{der.var.name} of {self.input}"]
        simplified = ([f"  simplify: df = {to_text(self.shown_df, names=self.df_names())}"]
                      + [f"    where {n} = {body}" for n, body in self.df_where(to_text)]
                      + [f"    by {identity}" for identity in der.simplified_by])
        for s in der.steps:
            if s.rule == "gradient":  # the first derivation ends here
                lines.extend(simplified)
                simplified = None
            lines.append(f"  {s.rule}: {s.identity}")
            lines.append(f"    = {to_text(present(s.expr), names=self.defs)}")
        if not der.steps_complete:
            lines.append("  ... (further steps omitted)")
        if simplified:
            lines.extend(simplified)
        lines.append(f"  {READ_OFF[der.kind].format(d=self.direction)}")
        return lines

    def verdicts(self, render=None) -> list[str]:
        """Where the result holds, the verdicts of --check / --expect, one line each
        (and the remarks)."""
        return (conditions([self.shown_df] + self._exprs(), render) + list(self.notes)
                + list(self.remarks))

    def to_text(self) -> str:
        from .render.text import to_text

        der = self.der
        lines = []
        if not self.continued:  # once per problem: output stays linear in its variables
            lines += inferred_line(der.problem)
            # the user functions, so that f(u) and f'(u) in the result read back
            lines += [f"{n}({p}) := {b}" for n, (p, b) in
                      der.problem.functions.items()]
        if der.operator:  # the direction dX, so that the operator reads back
            from .report import shape_decl

            lines.append(f"{self.direction}: {shape_decl(der.var.shape)}  # the direction")
        # the named pieces first: the steps' df and the result use them
        for name, body in self.named_lines(to_text, self._exprs()):
            lines.append(f"{name} = {body}")
        lines.extend("# " + line for line in self.step_lines())
        if self.labelled or der.order > 1:
            lines.append("# " + self.word_label())
        lines.append(to_text(self.shown, names=self.top(self.shown)))
        if self.shown_vec is not None:
            lines.append("# " + self.vec_caption())
            lines.append(to_text(self.shown_vec, names=self.names))
        lines.extend("# " + n for n in self.verdicts())
        lines.extend("# where " + f for f in self.derived_functions().values())
        return "\n".join(lines)

    def to_latex(self) -> str:
        from .render.latex import comment_lines, latex_name, to_latex

        lines = [f"{latex_name(name)} = {body}"  # t_{1}, as the body refers to it
                 for name, body in self.named_lines(to_latex, self._exprs())]
        lines += comment_lines(self.step_lines(), "%")
        result = to_latex(self.shown, names=self.top(self.shown))
        lines.append(f"{self.latex_label()} = {result}" if self.labelled else result)
        if self.shown_vec is not None:
            lines += comment_lines([self.vec_caption()], "%")
            lines.append(to_latex(self.shown_vec, names=self.names))
        lines += comment_lines(self.verdicts(to_latex), "%")
        lines += comment_lines(["where " + f for f in self.derived_functions().values()], "%")
        return "\n".join(lines)

    def to_numpy(self) -> str:
        from .render.latex import comment_lines
        from .render.numpy import to_numpy, to_numpy_operator

        lines = comment_lines(self.step_lines(), "#")
        if self.labelled:
            lines += comment_lines([self.word_label()], "#")
        if self.der.operator:
            lines.append(to_numpy_operator(self.shown, self.der.var, names=self.code_names(self.shown),
                                           bound=self.scope(), naming=self.naming))
        else:
            lines.append(to_numpy(self.shown, names=self.code_names(self.shown),
                                  bound=self.scope(), naming=self.naming))
        if self.shown_vec is not None:
            lines += comment_lines([self.vec_caption()], "#")
            lines.append(to_numpy(self.shown_vec, names=self.bound(self.names),
                                  bound=self.scope(), naming=self.naming))
        lines += comment_lines(self.verdicts(), "#")
        return "\n".join(lines)

    def to_pretty(self, console) -> None:
        from rich.text import Text

        from .render.pretty import hanging, pretty_name, to_rich_text

        der = self.der
        if not self.continued:  # the problem and its shapes, once per problem
            head = Text((self.input or "") + "    ", style="bold")
            shapes = Text("  ".join(f"{pretty_name(s.name)}: {compact_shape(s.shape)}{' ' + ' '.join(sorted(s.props)) if s.props else ''}"
                                    for s in der.problem.symbols.values()), style="dim")
            inferred = inferred_symbols(der.problem)
            if inferred:
                shapes.append(f"  (inferred: {', '.join(pretty_name(s.name) for s in inferred)})",
                              style="dim italic")
            console.print(hanging(head, shapes))
        # the named pieces first: the lines below use them
        for name, body in self.named_lines(lambda e, names: e, self._exprs()):
            console.print(hanging(Text(f"  {pretty_name(name)} = ", style="bold"),
                                  to_rich_text(body, names=self.names)))
        if der.steps:
            for i, s in enumerate(der.steps, 1):
                if s.rule == "gradient":  # the first derivation ends here
                    self._pretty_df(console)
                console.print(hanging(Text(f"  {i:>2}. {s.rule}   ", style="cyan"),
                                      Text(s.identity, style="dim")))
                console.print(hanging("      = ", to_rich_text(present(s.expr), names=self.defs)))
            if not der.steps_complete:
                console.print(Text("      … further steps omitted", style="dim"))
        shown_df = any(s.rule == "gradient" for s in der.steps)  # a Hessian's: shown above
        if der.steps and not shown_df:
            console.print(hanging(Text(f"  {len(der.steps) + 1:>2}. simplify   ", style="cyan"),
                                  Text("; ".join(der.simplified_by) or "collect terms, rotate "
                                       "traces, use the declared properties", style="dim")))
        if (der.kind != "differential" or der.steps) and not shown_df:
            self._pretty_df(console)
        if der.steps:
            console.print(hanging(Text(f"  {len(der.steps) + (1 if shown_df else 2):>2}. ",
                                       style="cyan"),
                                  Text(READ_OFF[der.kind].format(d=pretty_name(self.direction)), style="cyan")))
        console.print(hanging(Text(f"  {self.label()} = ", style="bold green"),
                              to_rich_text(self.shown, names=self.top(self.shown))))
        if self.shown_vec is not None:
            console.print(hanging(Text("  " + self.vec_caption() + " ",
                                       style="bold"),
                                  to_rich_text(self.shown_vec, names=self.names)))
        for f in self.derived_functions().values():
            console.print(hanging("  where ", Text(f, style="dim"), head_style="dim"))
        for n in self.verdicts():
            bad = "FAILED" in n or n.startswith(("expect: differs", "check not made"))
            console.print(hanging("  ", Text(n, style="bold red" if bad else "green")))

    def _pretty_df(self, console) -> None:
        """The differential line, with its own named pieces after it."""
        from rich.text import Text

        from .render.pretty import hanging, pretty_name, to_rich_text

        names = self.df_names()
        console.print(hanging(Text("  df = ", style="bold"),
                              to_rich_text(self.shown_df, names=names)))
        for name, body in self.df_where(lambda e, names: e):
            console.print(hanging(Text(f"      where {pretty_name(name)} = ", style="dim"),
                                  to_rich_text(body, names=names)))


class SecondDifferentialReport(DerivativeReport):
    """d²F[dX1, dX2] of a non-scalar F: a symmetric bilinear form of F's shape."""

    def __init__(self, der):
        super().__init__(der)
        for s in der.directions:   # the directions' names are the report's too
            self.naming.fresh(s.name)
        self.labelled = True       # what the result is: said in every format

    def pair(self, pretty: bool = False) -> str:
        from .render.pretty import pretty_name

        show = pretty_name if pretty else (lambda s: s)
        return ", ".join(show(s.name) for s in self.der.directions)

    def label(self) -> str:
        return f"d²F[{self.pair(True)}]"

    def word_label(self) -> str:
        return (f"second differential d²F[{self.pair()}] with respect to {self.der.var.name} "
                "(symmetric, bilinear)")

    def latex_label(self) -> str:
        from .render.latex import latex_name

        return (r"\mathrm{d}^2 F[" + ", ".join(latex_name(s.name) for s in self.der.directions)
                + "]")

    def scope(self) -> list:
        return super().scope() + list(self.der.directions)

    def _code(self) -> str:
        from .render.numpy import to_numpy

        params = ", ".join(self.naming.python(s.name) for s in self.der.directions)
        body = to_numpy(self.shown, names=self.code_names(self.shown), bound=self.scope(),
                        naming=self.naming)
        return f"lambda {params}: {body}"

    def _declaration(self) -> str:
        from .report import shape_decl

        var = self.der.var
        props = sorted(set(self.der.directions[0].props))
        return (f"{self.pair()}: {shape_decl(var.shape)}{' ' + ' '.join(props) if props else ''}"
                "  # the directions")

    def to_json(self) -> dict:
        from .render.numpy import numpy_or_none

        out = super().to_json()
        result = out["result"]
        result.pop("numpy_error", None)
        result["numpy"], why = numpy_or_none(self._code)
        if why:
            result["numpy_error"] = why
        result["directions"] = [s.name for s in self.der.directions]
        return out

    def to_text(self) -> str:
        lines = super().to_text().split("\n")
        at = 0 if self.continued else len(inferred_line(self.der.problem))
        return "\n".join(lines[:at] + [self._declaration()] + lines[at:])

    def to_numpy(self) -> str:
        from .render.latex import comment_lines

        lines = comment_lines(self.step_lines(), "#")
        lines += comment_lines([self.word_label()], "#")
        lines.append(self._code())
        lines += comment_lines(self.verdicts(), "#")
        return "\n".join(lines)


def report_for(problem, var, name, options) -> DerivativeReport:
    """Derive, then verify as asked (--check, --expect)."""
    der = derive(problem, var, name, options)
    if der.kind == "second_differential":
        report = SecondDifferentialReport(der)
    else:
        report = DerivativeReport(der)
    # an option that does not apply to this problem's result says so (never silence)
    if options.vec and der.kind == "second_differential":
        report.remarks.append("--vec: the second differential of a non-scalar is a "
                              "third-order array; it is given as the bilinear form only")
    elif options.vec and der.vec is None and name in ("jac", "hess"):
        report.remarks.append(f"--vec: the {WORD_LABELS[der.kind]} is already the matrix "
                            f"of the derivative on vec({var.name})")
    if options.layout == "denominator" and name == "jac" and der.operator and der.vec is None:
        report.remarks.append("--layout applies to a Jacobian matrix; this derivative is the "
                            "operator dF (add --vec for its matrix)")
    verify(report, options, der, "numeric_check", "compare")
    return report


def verify(report, options, derived, check: str, compare: str) -> None:
    """--check and --expect on a report of ``derived``: the functions named
    ``check`` and ``compare`` in ``trust`` (imported only when asked: NumPy is not
    on the plain path) give the verdicts, which add a note, a JSON field and the
    exit status."""
    if not (options.check or options.expect):
        return
    from . import trust

    if options.check:
        verdict = getattr(trust, check)(derived, options.seed, bindings=options.bindings())
        report.extra["check"] = verdict.to_json()
        report.notes.append(verdict.summary())
        if not verdict.passed:   # a check that could not be made is not a failed one
            report.status = CANNOT if verdict.inconclusive else FAILED
    if options.expect:
        verdict = getattr(trust, compare)(derived, options.expect, options.seed)
        report.extra["expect"] = verdict.to_json()
        report.notes.append(verdict.summary())
        if not verdict.equal:
            report.status = max(report.status, FAILED)


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
        return labelled([report_for(problem, var, name, options)
                         for var in resolve_wrt(problem, options.wrt)])
    command.__name__ = f"{name}_command"
    return located(command)


def superscript(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def labelled(reports: list) -> list:
    """Several results for one problem: each says what it is and for which variable."""
    if len(reports) > 1:
        for i, r in enumerate(reports):
            r.labelled, r.continued = True, i > 0
    return reports
