"""Documents: statements in order, declarations and definitions accumulating.

``read_document(text, declare)`` reads a document (SPEC §1.5) and returns, in
order, one :class:`Problem` per bare expression and one ``MatdiffError`` per
statement that failed; a failure loses nothing else.  ``parse`` and
``parse_expr`` read a document with exactly one expression.

Undeclared symbols are inferred per problem, on a copy of the document's
scope; symbols first seen in a definition belong to the document, so that
later problems agree with the definition.  A definition is checked once, where
it is written, and every problem that uses it shares that checked body, so
within a problem it is one node however often it is used.
"""
from __future__ import annotations

from . import syntax
from .errors import MatdiffError
from .expr import PROPERTIES, Expr, Sym
from .parser import (
    MAX_STATEMENT, Node, NumberError, Source, parse_statement, read_number, split_statements,
)
from .records import dataclass, field, replace
from .syntax import plain_words
from .shapes import (
    RESERVED, SCALAR, DefInfo, Elaborator, FuncInfo, Scope, SymInfo, dim_product,
    reserved_message,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Optional, Sequence, Union

__all__ = ["Problem", "read_document", "parse", "parse_expr"]


@dataclass(frozen=True)
class Problem:
    """One bare expression of a document, with everything it was solved with."""

    source: str                     # the statement's own text
    line: int                       # where it starts (1-based)
    expr: Expr
    symbols: dict                   # name -> Sym, every symbol used, in order of appearance
    definitions: dict               # name -> body, the definitions used, in definition order
    functions: dict                 # name -> (param, body text), the user functions used
    inferred: frozenset             # names of the symbols whose shapes were inferred
    _scope: Optional[Scope] = field(default=None, repr=False, compare=False)
    symmetric: tuple = ()           # matrices a variant takes as symmetric (assuming_symmetric)

    def __init__(self, source, line, expr, symbols, definitions, functions, inferred,
                 _scope=None, symmetric=()):
        # the fields written into the instance's dict: the record's own __init__ sets
        # each through object.__setattr__ (it is frozen), a slow call, which cost more
        # than all the rest of making a problem
        fields = self.__dict__
        fields["source"], fields["line"], fields["expr"] = source, line, expr
        fields["symbols"], fields["definitions"], fields["functions"] = symbols, definitions, functions
        fields["inferred"], fields["_scope"], fields["symmetric"] = inferred, _scope, symmetric

    @classmethod
    def of(cls, expr: Expr) -> "Problem":
        """A problem made of an expression alone, without a document: its symbols,
        the user functions it calls, no definitions; ``parse`` reads in a fresh scope."""
        from .expr import Func, symbols, walk
        from .render.text import to_text

        functions = {}
        for node in walk(expr):
            if isinstance(node, Func) and len(node.args) == 3 and not node.name.endswith("'"):
                functions.setdefault(node.name, node.args[2])
        return cls(to_text(expr), 1, expr, {s.name: s for s in symbols(expr)}, {}, functions,
                   frozenset())

    def assuming_symmetric(self, matrices) -> "Problem":
        """The same problem with these square matrices declared symmetric too (what a
        check tries: "they agree when A is symmetric"); what it parses is read so."""
        matrices = tuple(matrices)
        return replace(self, expr=_symmetrize(self.expr, matrices), definitions={},
                       symbols={n: (_symmetric(s) if s in matrices else s)
                                for n, s in self.symbols.items()},
                       symmetric=self.symmetric + matrices)

    def parse(self, text: str, directions: Sequence[str] = (), shape=None,
              known_only: bool = False) -> Expr:
        """Another expression in this problem's scope: same declarations,
        definitions and inferred shapes (e.g. ``--expect "2 A X B"``).  For each
        variable X in ``directions``, ``dX`` is in scope too, with X's shape
        (an operator claim such as ``2 A dX B``).  ``shape``: the shape the
        expression should have, where its own does not fix it (a bare ``I``);
        ``known_only``: a name the scope does not know is an error."""
        src = Source(text)
        spans = split_statements(src.text)
        if len(spans) != 1:
            raise MatdiffError("syntax", "expected one expression" if spans else
                               "the expression is empty", line=1, column=1, source_line=text,
                               statement=text, hint="write an expression such as `2 A X B`")
        span = spans[0]
        node = parse_statement(src, *span)
        if not isinstance(node, syntax.Problem):
            raise src.error("syntax", "expected an expression, not a declaration or definition",
                            node.start, node.end, span=span)
        scope = self._scope.copy(hideable=True) if self._scope is not None else Scope()
        for table in (scope.symbols, scope.defs, scope.funcs):
            # what the document declared after this problem is not in its scope
            for name in [n for n in table if (getattr(table[n], "line", None) or 0) > self.line]:
                table.hide(name)
        for name in [n for n in scope.failed if scope.failed[n] > self.line]:
            scope.failed.hide(name)  # a later failure does not reach back to this problem
        for name in directions:  # a dict gives each direction's name (else dX)
            info = scope.symbols.get(name)
            dname = directions[name] if isinstance(directions, dict) else "d" + name
            if info is not None and dname not in scope.symbols:
                scope.symbols[dname] = replace(info, name=dname, declared=True)
        el = Elaborator(scope, src, span)
        known = set(scope.symbols) if known_only else None
        root = el.infer(node.kids[0])
        for name in el.appear if known_only else ():
            if name not in known:
                where = el.sym_plans[name].node
                raise src.error("name", f"unknown name '{name}': the problem has no "
                                "variable of that name", where.start, where.end, span=span,
                                hint="use the problem's variables, or declare it with -d")
        if shape is not None:
            el.u.unify_shapes(root.shape, shape)  # all or nothing: a misfit is reported later
        expr, _ = el.finish(root)
        return _symmetrize(expr, self.symmetric)


def _symmetric(s: Sym) -> Sym:
    return Sym(s.name, s.shape, s.props | {"symmetric"})


def _symmetrize(e: Expr, matrices) -> Expr:
    """e with each of these matrices replaced by itself declared symmetric."""
    from .build import replace_node

    for s in matrices:
        e = replace_node(e, s, _symmetric(s))
    return e


Item = "Union[Problem, MatdiffError]"


class Document:
    """The reader's state: the scope, the definitions so far, the items."""

    def __init__(self):
        self.scope = Scope()
        self.items: list = []
        self.ndefs = 0
        # declarations read, by their text: (names, shape, properties); see _repeated
        self.declared: dict = {}

    # statements

    def read(self, src: Source, only_declarations: bool = False) -> None:
        text = src.text
        for span in split_statements(text):
            stmt = text[span[0]:span[1]]
            seen = self.declared.get(stmt)
            if seen is not None and self._repeated(*seen):
                continue
            if ":" in stmt and self._plain_decl(stmt, src, span):
                continue
            try:
                node = parse_statement(src, *span)
                if only_declarations and not isinstance(node, syntax.Declaration):
                    what = {syntax.Problem: "an expression", syntax.Definition: "a definition",
                            syntax.FunctionDefinition: "a function definition"}[node.__class__]
                    raise src.error("syntax", f"expected a declaration such as `A: n x n symmetric`; "
                                              f"this is {what}, not a declaration", node.start, node.end,
                                    "declarations ahead of the input (-d) give shapes only; write "
                                    "definitions and expressions in the input", span=span)
                if isinstance(node, syntax.Problem):
                    item = self._problem(node, src, span)
                else:  # a declaration or definition changes the scope, or nothing
                    self.scope.begin()
                    try:
                        item = STATEMENTS[node.__class__](self, node, src, span)
                    except BaseException:
                        self.scope.rollback()
                        raise
                    self.scope.commit()
            except MatdiffError as e:
                self._failed(src, span)
                item = e
            except RecursionError:  # pragma: no cover - the parser bounds the depth
                item = src.error("syntax", "the expression is nested too deeply", span[0], span[1],
                                 "split it with definitions (h = ...) on separate lines", span=span)
            if item is not None:
                self.items.append(item)

    def _repeated(self, names: tuple, shape: tuple, props: frozenset) -> bool:
        """Whether a declaration read before, word for word (a batch repeats
        `V: n x n` for each problem), would change nothing now: each of its names
        still declared with this shape and these properties, and neither defined,
        a function nor failed since.  Then reading it again is skipped: it would
        pass every check of _decl and leave the scope as it is."""
        scope = self.scope
        for n in names:
            info = scope.symbols.get(n)
            if (info is None or not info.declared or tuple(info.shape) != shape
                    or not props <= info.props or n in scope.defs or n in scope.funcs
                    or n in scope.failed):
                return False
        return True

    def _plain_decl(self, stmt: str, src: Source, span) -> bool:
        """Declare a plain declaration (``A_1, B_1: n x n``: :func:`syntax.plain_words`)
        that passes every check of :meth:`_decl` from its words, without tokens, a
        node and the journal (a batch declares new names for each problem).  False
        for any other: it is read as usual, and its error worded."""
        words = plain_words(stmt)
        if words is None or len(stmt) > MAX_STATEMENT:
            return False
        names, dims, props = words
        if "scalar" in dims:   # (a whole shape)
            if len(dims) > 1:
                return False
            shape = SCALAR
        else:
            for i, d in enumerate(dims):
                if d.isdigit():
                    if len(d) > 15 or int(d) == 0:
                        return False
                    dims[i] = int(d)
            shape = (dims[0], dims[1] if len(dims) == 2 else 1)
        if props and (shape[0] != shape[1] or not set(props).issubset(PROPERTIES)):
            return False
        scope = self.scope
        for n in names:
            old = scope.symbols.get(n)
            if (n in RESERVED or n in scope.funcs or n in scope.defs
                    or old is not None and not (old.declared and tuple(old.shape) == shape)):
                return False
        pset = frozenset(props)
        line = None
        for n in names:   # (as _decl declares them)
            old = scope.symbols.get(n)
            if old is not None:
                if old.props.issuperset(pset):
                    continue
                info = SymInfo(n, shape, old.props | pset, True, old.line)
            else:
                line = line or src.locate(span[0])[0]
                info = SymInfo(n, shape, pset, True, line)
            scope.set_symbol(n, info)
        for d in shape:
            if isinstance(d, str) and d not in scope.dims:
                scope.add_dim(d)
        for n in names:
            scope.failed.pop(n, None)
        self.declared[stmt] = (tuple(names), shape, pset)
        return True

    def _failed(self, src: Source, span) -> None:
        """Remember the names a failed declaration or definition meant to introduce.

        Later uses of such a name are errors that point here.  A failed
        redefinition drops the earlier definition (or function), and a failed
        redeclaration hides the earlier shape from later statements: the user
        meant to change it, so its old meaning is never used silently
        (definitions written before keep the meaning they were checked with)."""
        import re   # (an error's path: not imported for a document that reads)

        text = src.text[span[0]:span[1]]
        line = src.locate(span[0])[0]
        m = re.match(_DECL_NAMES, text)
        names, table = [], None
        if m and not m.group(0).endswith(":="):
            if m.group(2) == ":":
                names = [n.strip() for n in m.group(1).split(",")]
            elif m.group(2) == "=":
                names, table = [m.group(1).strip()], self.scope.defs
        else:
            f = re.match(_FUNC_NAME, text)
            if f:
                names, table = [f.group(1)], self.scope.funcs
        for n in names:
            if not n or (n in self.scope.symbols and table is not None):
                continue  # a definition of a variable's name fails on its own; the variable stays
            if n in self.scope.defs or n in self.scope.funcs:
                if table is None or n not in table:  # e.g. declaring a defined name: its own error
                    continue
                del table[n]
            self.scope.failed[n] = line

    # declarations

    def _decl(self, node: Node, src: Source, span):
        names, shape_toks, props = node.val
        line = None   # of the declaration, looked up for a new name only
        scope = self.scope
        dims = []
        for dim in shape_toks:
            value = None
            for tok in dim:
                if tok.type == "NUMBER":
                    try:
                        v = _positive_int(tok.value)
                    except NumberError as e:
                        raise _error(src, span, "syntax", e.message, tok, e.hint) from None
                    if v is None:
                        raise _error(src, span, "shape", "a dimension must be a positive "
                                     f"integer or a name, not {tok.value}", tok)
                else:
                    v = tok.value
                    if v == "scalar" and (len(dim) > 1 or len(shape_toks) > 1):
                        raise _error(src, span, "shape",
                                     "'scalar' is a whole shape: write `s: scalar`", tok)
                value = v if value is None else dim_product(value, v)
            dims.append(value)
        if len(dims) == 1 and dims[0] == "scalar":
            shape = SCALAR
        elif len(dims) == 1:
            shape = (dims[0], 1)
        else:
            shape = (dims[0], dims[1])
        pset = []
        for tok in props:
            if tok.value not in PROPERTIES:
                from difflib import get_close_matches

                close = get_close_matches(tok.value, PROPERTIES, n=1)
                raise _error(src, span, "shape", f"unknown property '{tok.value}'", tok,
                             (f"did you mean {close[0]}? " if close else "")
                             + "the properties are " + ", ".join(PROPERTIES))
            if shape[0] != shape[1]:
                raise _error(src, span, "shape", f"'{tok.value}' needs a square shape, but "
                             f"{', '.join(t.value for t in names)} "
                             f"{'is' if len(names) == 1 else 'are'} {shape[0]}×{shape[1]}", tok,
                             f"declare a square shape, e.g. `{names[0].value}: {shape[0]} x "
                             f"{shape[0]} {tok.value}`")
            pset.append(tok.value)
        for tok in names:
            n = tok.value
            if n in RESERVED or n in scope.funcs or n in scope.defs:   # (else it passes)
                self._check_new_name(n, tok, src, span, scope, allow_symbol=True)
            old = scope.symbols.get(n)
            if old is not None and old.declared:
                if tuple(old.shape) != shape:
                    raise _error(src, span, "name", f"{n} is already declared as "
                                 f"{old.shape[0]}×{old.shape[1]} (line {old.line})", tok,
                                 "a name has one shape in a document; use another name")
                if old.props.issuperset(pset):
                    continue   # the same declaration again (as a batch repeats `V: n x n`)
                info = SymInfo(n, shape, old.props | frozenset(pset), True, old.line)
            else:
                if old is not None and not scope.unifier.unify_shapes(old.shape, shape):
                    el = Elaborator(scope, src, span)
                    raise _error(src, span, "shape", f"{n}: {_show(shape)} does not fit an "
                                 f"earlier definition, where {n} is {el.show(old.shape)}",
                                 (shape_toks[0][0].start, shape_toks[-1][-1].end))
                if line is None:
                    line = src.locate(node.start)[0]
                info = SymInfo(n, shape, frozenset(pset), True, line)
            scope.set_symbol(n, info)
        for d in shape:
            if isinstance(d, str) and d not in scope.dims:   # (most are known: n, m)
                scope.add_dim(d)
        for tok in names:
            scope.failed.pop(tok.value, None)
        self.declared[src.text[span[0]:span[1]]] = (
            tuple([tok.value for tok in names]), shape, frozenset(pset))
        return None

    def _check_new_name(self, n, tok, src, span, scope, allow_symbol=False, allow_def=False,
                        allow_func=False):
        hint = "choose another name"
        if n in RESERVED:
            msg = reserved_message(n) + " and cannot be declared or defined"
        elif n in scope.funcs and not allow_func:
            msg = f"{n} is already a function (line {scope.funcs[n].line})"
        elif n in scope.defs and not allow_def:
            msg = f"{n} is already defined (line {scope.defs[n].line})"
            hint = "a name is either declared or defined; choose another name"
        elif not allow_symbol and n in scope.symbols:
            info = scope.symbols[n]
            where = f"declared on line {info.line}" if info.declared else "used in an earlier definition"
            msg = f"{n} is already a variable ({where})"
        else:
            return
        raise src.error("name", msg, tok.start, tok.end, hint, span=span)

    # definitions

    def _def(self, node: Node, src: Source, span):
        tok = node.val
        n = tok.value
        scope = self.scope
        # a redefinition is allowed: its body sees the earlier definition
        self._check_new_name(n, tok, src, span, scope, allow_def=True)
        el = Elaborator(scope, src, span, expand=False)
        body = node.kids[0]
        ir = el.infer(body)
        if n in el.appear and n not in self.scope.defs:
            raise src.error("name", f"{n} is used in its own definition", body.start, body.end,
                            "define it from other names", span=span)
        ir.body = True   # (its nesting counts here, not where it is used)
        info = DefInfo(n, ir, src.locate(node.start)[0], self.ndefs, el.events)
        self.ndefs += 1
        scope.defs[n] = info
        scope.failed.pop(n, None)
        return None

    def _fundef(self, node: Node, src: Source, span):
        import re

        from .fundefs import ELEMENTWISE_OP, PLAIN_BODY, body_text, check_body   # (rare: lazily)

        lhs, rhs = node.kids
        if not (isinstance(lhs, syntax.Call) and not lhs.paren and len(lhs.kids) == 1
                and isinstance(lhs.kids[0], syntax.Name) and not lhs.kids[0].paren):
            raise src.error("syntax", "a function is defined as `f(t) := body`, with one parameter",
                            lhs.start, lhs.end, "e.g. `f(t) := t^3 + sin(t)`", span=span)
        n, param = lhs.val, lhs.kids[0].val
        name_tok = _Span(lhs.start, lhs.extra[0])
        scope = self.scope
        self._check_new_name(n, name_tok, src, span, scope, allow_func=True)
        if param in RESERVED:
            p = lhs.kids[0]
            raise src.error("name", f"the parameter cannot be {param}: " + reserved_message(param),
                            p.start, p.end, "call it t", span=span)
        check_body(rhs, n, param, src, span)
        body = src.statement(rhs.start, rhs.end)
        if not re.fullmatch(PLAIN_BODY, body) or re.search(ELEMENTWISE_OP, body):
            body = body_text(rhs)  # Unicode or .* ./ .^: written out in plain operators
        scope.funcs[n] = FuncInfo(n, param, body, src.locate(node.start)[0])
        scope.failed.pop(n, None)
        return None

    # problems

    def _problem(self, node: Node, src: Source, span):
        scope = self.scope.copy()
        el = Elaborator(scope, src, span)
        plan = el.infer(node.kids[0])
        memo: dict = {}
        expr, names = el.finish(plan, memo)
        symbols = {}
        inferred = []
        for n in el.appear:
            info = scope.symbols[n]
            if not info.declared:
                inferred.append(n)
            p = el.sym_plans.get(n)   # built with the expression, unless only a definition uses n
            if p is not None:
                if p.e is not None:
                    symbols[n] = p.e
                    continue
                if id(p) in memo:
                    symbols[n] = memo[id(p)][0]
                    continue
            symbols[n] = Sym(n, tuple([scope.unifier.resolve(d, names) for d in info.shape]),
                             info.props)
        # (plain loops: most problems use no definition and no function, and a
        # comprehension costs a function of its own each time)
        definitions = {}
        for d in sorted(el.reached, key=_definition_index) if el.reached else ():
            definitions[d.name] = el.build(d.ir, names, memo)
        functions = {}
        for f in el.funcs:
            functions[f] = (scope.funcs[f].param, scope.funcs[f].body)
        if names:   # the problem's scope, for Problem.parse: the dimensions it named are now fixed
            scope.fix_names(names)
        return Problem(src.statement(*span), src.locate(span[0])[0], expr, symbols, definitions,
                       functions, frozenset(inferred), scope)


def _definition_index(d: DefInfo) -> int:
    return d.index


#: how the reader takes each class of statement that changes the scope
#: (``syntax.Statement``; a bare expression is a problem, read on a copy of it)
STATEMENTS = {
    syntax.Declaration: Document._decl, syntax.Definition: Document._def,
    syntax.FunctionDefinition: Document._fundef,
}


class _Span:
    __slots__ = ("start", "end")

    def __init__(self, start, end):
        self.start, self.end = start, end


# the patterns of this module are compiled on first use (re's own cache), not at import
_DECL_NAMES = r"\s*([^\W\d][\w]*(?:\s*,\s*[^\W\d][\w]*)*)\s*(:=|:|=)"
_FUNC_NAME = r"\s*([^\W\d]\w*)\s*\(\s*[^\W\d]\w*\s*\)\s*:="


def _error(src: Source, span, kind: str, msg: str, where, hint=None) -> MatdiffError:
    """An error of the statement ``span`` at a token or a (start, end) pair."""
    start, end = where if isinstance(where, tuple) else (where.start, where.end)
    return src.error(kind, msg, start, end, hint, span=span)


def _positive_int(text: str) -> Optional[int]:
    """The value of a dimension written as a number, None unless a positive
    integer; a number out of range raises NumberError."""
    v = read_number(text)
    return int(v) if v.denominator == 1 and v > 0 else None


def _show(shape) -> str:
    return f"{shape[0]}×{shape[1]}"


# ---------------------------------------------------------------------------
# Public functions


def read_document(text: str, declare: Sequence[str] = ()) -> list:
    """Every problem of ``text`` (and every error), in order; ``declare`` holds
    declarations read ahead of the text (the CLI's ``-d``)."""
    doc = Document()
    if isinstance(declare, str):
        declare = [declare]
    for decl in declare:
        doc.read(Source(decl), only_declarations=True)
    doc.read(Source(text))
    return doc.items


def parse(text: str, declare: Sequence[str] = ()) -> Problem:
    """The one problem of ``text``; raises the first error, or a usage error when
    the text holds no expression or several."""
    items = read_document(text, declare)
    for item in items:
        if isinstance(item, MatdiffError):
            raise item
    if len(items) != 1:
        raise MatdiffError(
            "usage", "the input has no expression to work on" if not items else
            f"expected one expression, found {len(items)} (lines "
            + ", ".join(str(p.line) for p in items) + ")",
            hint="give one expression, e.g. `tr(X^T A X)`; declarations and comments alone "
                 "set no problem")
    return items[0]


def parse_expr(text: str, declare: Sequence[str] = ()) -> Expr:
    """The expression of the one problem of ``text`` (see :func:`parse`)."""
    return parse(text, declare).expr
