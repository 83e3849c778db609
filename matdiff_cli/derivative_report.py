"""The report of a derivative (diff, grad, jac, hess for one variable) as data.

What every format writes a derivative with: the result and its differential as
they are shown (``present``), their shared pieces named (``t1``, ``t2``, the
problem's definitions), the labels of each kind of result, the conditions
under which it holds, the verdicts of ``--check``/``--expect`` and the values at
``--let`` data.  How each format writes it is in ``writers/``.

The text format of a result is itself a matdiff document: named pieces come
first as definitions, the derivation steps as ``#`` comments, and the result
expression last, so that the output can be read back.
"""
from __future__ import annotations

from .build import symmetric
from .expr import SCALAR, Diff, EigVecMax, EigVecMin, LeftVecMax, LeftVecMin, walk
from .expr import (
    Add, EigVecs, Func, Hadamard, LambdaMax, LambdaMin, Mul, OneHotMax, Pinv, Polar, SigmaMax,
    SVecLeftMax, SVecRightMax, SvdU, SvdV, Transpose,
)
from .names import Names, definitions_by_node
from .report import Report, note_lines
from .simplify import present, tree_size


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
    kinds = _CONDITION_KINDS
    # most results: no node says anything (a function but sign neither), which a
    # plain search finds out (the ordered walk below is made only when one does)
    seen: set = set()
    add = seen.add
    stack = list(exprs)
    pop, push = stack.pop, stack.extend
    while stack:
        node = pop()
        if node in seen:
            continue
        add(node)
        cls = type(node)
        if kinds[cls] and (cls is not Func or node.args[0] == "sign"):
            break
        push(node.children)
    else:
        return []
    nodes = list(walk(*exprs))
    if render is None:
        global _to_text
        if _to_text is None:   # imported once (an import statement per problem costs)
            from .render.text import to_text as _to_text
        render = _to_text
    out: dict = {}
    signs: list = []
    maxima: set = set()
    bare: set = set()   # x of a sign(x) that is not the max-norm's sign(x) ⊙ onehot_max(abs(x))
    for e in exprs:
        if _is_sign(e):
            bare.add(e.arg)
    for node in nodes:
        for c in node.children:   # children come first: their kinds are known
            if kinds[type(c)] and _is_sign(c) and not (isinstance(node, Hadamard) and any(
                    isinstance(f, OneHotMax) and _is_abs_of(f.a, c.arg) for f in node.args)):
                bare.add(c.arg)
        if not kinds[type(node)]:
            continue
        if isinstance(node, EIGENVECTORS) and node.a.shape != SCALAR:
            largest = isinstance(node, (EigVecMax, LeftVecMax))
            lam = (LambdaMax if largest else LambdaMin)(node.a)
            what = "simple" if symmetric(node.a) else "real and simple"
            out.setdefault(f"where {render(lam)} is {what}", None)
        elif isinstance(node, EigVecs) and node.a.shape != SCALAR:
            out.setdefault(f"where the eigenvalues of {render(node.a)} are distinct", None)
        elif isinstance(node, Pinv) and node.a.shape != SCALAR and not any(
                isinstance(n, (LambdaMax, LambdaMin)) for n in walk(node.a)):
            # pinv(λI - A) of an eigenvector's derivative: λ simple says it
            out.setdefault(f"where the rank of {render(node.a)} is constant", None)
        elif type(node).__name__ in SINGULAR and node.a.shape != SCALAR:
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
        if arg not in maxima or arg in bare:
            out.setdefault(f"where no entry of {render(arg)} is 0", None)
    return list(out)


_to_text = None


class _ConditionKinds(dict):
    """node type -> is it one ``conditions`` says something about (eigenvectors,
    eigenvector matrices, pseudo-inverses, singular vectors and factors, functions
    such as sign, onehot_max)?  Worked out on first sight: every other node is
    passed over with one look-up."""

    def __missing__(self, cls) -> bool:
        flag = self[cls] = (issubclass(cls, EIGENVECTORS + (EigVecs, Pinv, Func, OneHotMax))
                            or cls.__name__ in SINGULAR)
        return flag


_CONDITION_KINDS = _ConditionKinds()


def _is_sign(e) -> bool:
    return isinstance(e, Func) and e.name == "sign" and len(e.args) == 2


def _is_abs_of(e, arg) -> bool:
    return isinstance(e, Func) and e.name == "abs" and len(e.args) == 2 and e.arg is arg


def shared_names(exprs, taken: dict, naming=None, nodes: set | None = None) -> dict:
    """Name the nontrivial subexpressions used more than once (t1, t2, ...).

    ``taken`` maps nodes to names already in use (the problem's definitions);
    ``naming`` (:class:`matdiff_cli.names.Names`) gives fresh names, never a
    name of the problem (a variable may be called ``t1``); ``nodes``, if given,
    gets the nodes of exprs (this walk finds them anyway)."""
    if naming is None:
        naming = Names(set(taken.values()))
    # a node is pushed once per parent (and place) using it: used twice when popped again
    used: set = set()    # the nodes some node of an expr uses (all but the roots)
    twice: set = set()   # ... those used more than once
    kinds: set = set()
    for e in exprs:   # (in no order: a plain search, cheaper than the walk)
        seen: set = set()
        stack = [e]
        pop, push, add, again = stack.pop, stack.extend, seen.add, twice.add
        while stack:
            node = pop()
            if node in seen:
                again(node)
                continue
            add(node)
            push(node.children)
        kinds.update(map(type, seen))
        if nodes is not None:
            nodes |= seen
        seen.discard(e)
        if used:   # a part of an expr before too (a result and its vec)
            twice |= used & seen
        used |= seen
    names = dict(taken)
    # node -> its size as printed, a named piece counting as one (a piece that is a
    # word or two once its parts have names is written out, unless it costs: a call
    # such as pinv(t1) stays named, for the code too); only worked out when some
    # piece could be named (shown <= tree_size; most results have none)
    shown: dict | None = None
    for n in twice:
        if tree_size(n) >= 8:
            shown = {}
            break
    else:   # no piece used twice: only a piece named always may get a name
        if _NAMED_ALWAYS.isdisjoint(kinds) or all(
                n in names for n in (*exprs, *used) if type(n) in _NAMED_ALWAYS):
            return names   # none without one (most results; a differential has the result's)
    order = [node for e in exprs for node in walk(e)]
    for node in order:
        if shown is not None:
            shown[node] = 1 + sum(1 if c in names else shown.get(c, tree_size(c))
                                  for c in node.args if c in used)
        if type(node) not in _NAMED_ALWAYS:   # most nodes: the general rule below
            pass
        elif isinstance(node, EIGENVECTORS) and node not in names:
            # named always: `v1 = eigvec_max(A)`, `u2 = leftvec_max(A)`
            left = isinstance(node, (LeftVecMax, LeftVecMin))
            names[node] = naming.numbered("u" if left else "v")
            continue
        elif isinstance(node, EigVecs) and node not in names and node.a.shape != SCALAR:
            names[node] = naming.numbered("V")   # `V1 = eigvecs(A)`
            continue
        elif type(node).__name__ in SINGULAR and node not in names:   # `u1 = svec_left_max(X)`
            names[node] = naming.numbered(SINGULAR[type(node).__name__][0])
            continue
        if node in names or node not in twice or tree_size(node) < 8:
            continue
        if shown[node] < 4 and _is_cheap(node):   # -t1, t2 I, v1^T, t3 + t4: written out
            continue
        if not node.children:
            continue
        names[node] = naming.numbered("t")
    return names


#: the node types shared_names names even when used once (no subclass has another name)
_NAMED_ALWAYS = frozenset(EIGENVECTORS + (EigVecs, SVecLeftMax, SVecRightMax, SvdU, SvdV, Polar))
assert {c.__name__ for c in _NAMED_ALWAYS} >= set(SINGULAR)


def _is_cheap(node) -> bool:
    """A sum, a transpose, or a product with one matrix in it (a scaling): as
    cheap to compute again as to look up."""
    if isinstance(node, (Add, Transpose)):
        return True
    return isinstance(node, Mul) and sum(f.shape != SCALAR for f in node.factors) <= 1


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

    def __init__(self, der):   # a derivatives.Derivation
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
        self.nodes: set = set()   # the nodes of the outputs (and differential, with its names)
        self.names = shared_names(outputs, self.defs, self.naming, self.nodes)
        self._df_names = self.kinds = None   # kinds: the node types of all, with the df's names
        self._memos = ({}, {})   # the renderers' memos (contexts) for names, for _df_names

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
        for k in names:
            if type(k) is not Diff:
                break
        else:   # nothing named (often): no walk
            return out
        for e in exprs:
            for node in walk(e):
                name = names.get(node)
                if name is None or name in seen or node in exprs or type(node) is Diff:
                    continue
                seen.add(name)
                out.append((name, render(node, names=names)))
        return out

    def top(self, e) -> dict:
        """The names to print e with: all but e's own (a result is never just a name);
        the report's names themselves when e has none (so their memo serves)."""
        if e not in self.names or type(e) is Diff:
            return self.names
        return {k: v for k, v in self.names.items() if k is not e or type(k) is Diff}

    def text_of(self, e, names) -> str:
        """e as text with names, through the report's memo for them (see ``memo``)."""
        global _text_module
        if _text_module is None:
            from .render import text as _text_module
        return _text_module.to_text(e, names, self.memo(names))

    def latex_of(self, e, names) -> str:
        """e as LaTeX with names, through the report's memo for them."""
        global _latex_module
        if _latex_module is None:
            from .render import latex as _latex_module
        return _latex_module.to_latex(e, names, self.memo(names))

    def memo(self, names) -> dict | None:
        """The renderers' memo for names when they are the report's own or its
        differential's (a piece the result, its differential and the where lines
        share is rendered once per format), else None."""
        if names is self.names:
            return self._memos[0]
        if names is self._df_names:
            return self._memos[1]
        return None

    @staticmethod
    def bound(names: dict) -> dict:
        """The names NumPy code binds inside (a direction is the lambda's parameter);
        names itself when it holds no direction (most: the code copies it)."""
        if Diff not in map(type, names):
            return names
        return {k: v for k, v in names.items() if type(k) is not Diff}

    def code_names(self, e) -> dict:
        return self.bound(self.top(e))

    def df_names(self) -> dict:
        """The names to print the differential with: the result's, and its own shared
        pieces (a differential through definitions shares them as the result does;
        written as a tree it would double with each definition)."""
        if self._df_names is None:
            names = shared_names([self.shown_df], self.names, self.naming, self.nodes)
            self.kinds = set(map(type, self.nodes))
            # no piece of its own (most): the report's names, and their memo
            self._df_names = self.names if len(names) == len(self.names) else names
        return self._df_names

    def df_where(self, render) -> list[tuple[str, str]]:
        """(name, body) of the differential's own named pieces (not the result's)."""
        result_names = {name for name, _ in self.named_lines(lambda e, names: "", self._exprs())}
        return [(n, body) for n, body in self.named_lines(render, [self.shown_df], self.df_names())
                if n not in result_names]

    def derived_functions(self) -> dict:
        """f' (and f'') of user functions the outputs use: name -> "param -> body"."""
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

    def word_label(self) -> str:
        """``gradient with respect to x``: the comment line that says what a result is."""
        what = WORD_LABELS[self.der.kind]
        if self.der.order > 1:
            what = f"differential of order {self.der.order}, d^{self.der.order} f[{self.direction}, ...],"
        return f"{what} with respect to {self.der.var.name}"

    def latex_label(self) -> str:
        from .render.latex import latex_name, to_latex

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
        """--steps as lines of words (each output format makes them comments; made
        once per report, since every format writes the same lines)."""
        lines = self.__dict__.get("_step_lines")
        if lines is None:
            lines = self._step_lines = self._make_step_lines()
        return lines

    def step_texts(self) -> list[str]:
        """The text of each step's expression, written once for every format."""
        texts = self.__dict__.get("_step_texts")
        if texts is None:
            from .render.text import to_text

            texts = self._step_texts = [to_text(present(s.expr), names=self.defs)
                                        for s in self.der.steps]
        return texts

    def _make_step_lines(self) -> list[str]:
        der = self.der
        if not der.steps:
            return []
        lines = [f"d/d{der.var.name} of {self.input}"]
        simplified = ([f"  simplify: df = {self.text_of(self.shown_df, self.df_names())}"]
                      + [f"    where {n} = {body}" for n, body in self.df_where(self.text_of)]
                      + [f"    by {identity}" for identity in der.simplified_by])
        for s, text in zip(der.steps, self.step_texts()):
            if s.rule == "gradient":  # the first derivation ends here
                lines.extend(simplified)
                simplified = None
            lines.append(f"  {s.rule}: {s.identity}")
            lines.append(f"    = {text}")
        if not der.steps_complete:
            lines.append("  ... (further steps omitted)")
        if simplified:
            lines.extend(simplified)
        lines.append(f"  {READ_OFF[der.kind].format(d=self.direction)}")
        return lines

    def verdicts(self, render=None) -> list[str]:
        return verdict_lines(self, render)


def verdict_lines(report, render=None) -> list[str]:
    """Where a derivative report's result holds, its verdicts of --check / --expect
    and its remarks, one line each (``render``: the format's, None for text)."""
    return (report_conditions(report, render)
            + note_lines(report.notes, render) + list(report.remarks))


def report_conditions(report, render=None) -> list[str]:
    """``conditions`` of a report's differential and outputs; none looked for when their
    node types are known (``kinds``, ``nodes``: a derivative's, once its differential's
    pieces are named) and none says anything (most) or only functions, no sign (many)."""
    kinds = getattr(report, "kinds", None)
    if kinds is not None:
        said = [k for k in kinds if _CONDITION_KINDS[k]]
        if not said or (said == [Func] and not any(
                type(n) is Func and n.args[0] == "sign" for n in report.nodes)):
            return []
    return conditions([report.shown_df] + report._exprs(), render)


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


#: the text and LaTeX renderers' modules, each imported on first use (an import
#: statement per problem costs more than a look-up; a text run imports no LaTeX)
_text_module = _latex_module = None


def superscript(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def labelled(reports: list) -> list:
    """Several results for one problem: each says what it is and for which variable."""
    if len(reports) > 1:
        for i, r in enumerate(reports):
            r.labelled, r.continued = True, i > 0
    return reports

