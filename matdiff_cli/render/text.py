"""matdiff's own ASCII syntax: the ``text`` format, read back exactly by the parser.

``parse(to_text(e)) is e`` for every tree the parser builds (docs/design.md,
"Text format").  Parentheses are the fewest the precedence table needs:

====  =========================================  =========================
 1    ``a + b``, ``a - b``                        SUM
 2    products ``a b``, ``/``, ``.*``, ``./``     PROD (left to right)
 3    ``-a``, negative numbers                    NEG
 4    ``a^T``, ``a^-1``, ``a^k``, ``a.^p``        POST
 5    names, numbers, calls, norms, ``(...)``     ATOM
====  =========================================  =========================

* one syntactic chain is one node, so a ``Mul`` factor that is a ``Mul`` (and a
  first ``.*`` operand that is a ``Hadamard``, a sum term that is an ``Add``)
  is parenthesised -- else the parser would splice it into the chain;
* a later factor of level <= 3 is parenthesised; a leading one of level 2 is
  not (``A x .* y`` is ``(A x) .* y``);
* a leading coefficient prints as ``-2 x``, ``-x`` for -1, and as a later sum
  term ``a - 2 x``; ``-`` is never followed by another ``-``;
* a postfix operand that is itself postfix is parenthesised (``(A^T)^-1``),
  except ``A^-T`` for ``Transpose(Inverse(A))``.

Trees the parser never builds are printed with their value, not their form:
``Mul(-1, Mul(a, b))`` as ``-a b``, ``Broadcast(s)`` outside a sum as
``s ones(n, m)``, ``Div`` of two numbers as a division, a composite dimension
``n*m`` as is.

The rules here are shared with the pretty and LaTeX renderers: each takes
its symbols from a :class:`Notation` (``cx.nt``).
"""
from __future__ import annotations

import sys
from ..rational import Fraction

from ..dispatch import singledispatch
from ..expr import (
    walk, Add, Broadcast, Diff, Div, EDiv, EPow, Expr, Func, Hadamard, Identity, Inverse, Mul,
    Num, Power, Sym, Transpose,
)
from .. import expr as _expr
from ..ops import all_loaded, declared, file_declared, filing, load_all
from . import (Context, Doc, Styled, _postorder, as_node, first_char, flatten, has_bars, leaf,
               render_dag)
from .numbers import ATOM, NEG, POST, PROD, SUM, decimal, number_text

# --------------------------------------------------------------------------- notation

class Notation:
    """How the shared rules spell things (the ASCII input syntax here)."""

    lp, rp = "(", ")"
    minus = "-"
    ops = {Hadamard: " .* ", EDiv: " ./ ", Div: " / "}
    kron_op: str | None = None          # infix symbol, or None for kron(a, b)
    exact = True                        # guard against lexer traps (``2.^3``)
    sym_style = func_style = diff_style = None
    funcs = {"logdet": "logdet", "inv": "inv"}

    # leaves
    def sym(self, name: str):
        style = self.sym_style   # (``styled`` inline: a symbol is the commonest leaf)
        return Styled(name, style) if style else name

    def diff(self, sym: Sym):
        return self.styled("d" + sym.name, self.diff_style)

    d_mark = "d"

    def differential_of(self, a: Doc) -> Doc:
        """d(e) of a compound e, a step of a derivation not yet expanded."""
        return Doc(ATOM, (self.styled(self.d_mark, self.diff_style), self.lp, a, self.rp))

    def number(self, v: Fraction) -> Doc:
        level, text = number_text(v)
        return leaf(level, text)

    def identity(self, n) -> Doc:
        return leaf(ATOM, self.sym("I"))

    def zeros(self, shape) -> Doc:
        return self.call("zeros", *map(self.dim, shape))

    def ones(self, shape) -> Doc:
        dims = shape[:1] if shape[1] == 1 else shape
        return self.call("ones", *map(self.dim, dims))

    def commutation(self, m, n) -> Doc:
        # K(m, n) vec(A) = vec(A^T); a function of the language, so that it reads back
        return self.call("commutation", self.dim(m), self.dim(n))

    def dim(self, d) -> Doc:
        return leaf(ATOM, str(d))

    # compounds
    def styled(self, text: str, style):
        return Styled(text, style) if style else text

    def func(self, key: str):
        return self.styled(self.funcs.get(key, key), self.func_style)

    def call(self, key: str, *args: Doc) -> Doc:
        """``key(a, b)``: a new Doc (a rule makes it its node's)."""
        parts = [self.func(key), self.lp]
        for i, a in enumerate(args):
            parts += [", ", a] if i else [a]
        parts.append(self.rp)
        return Doc(ATOM, parts)

    def paren(self, d: Doc) -> Doc:
        return Doc(ATOM, (self.lp, d, self.rp))   # (``paren`` inline)

    def norm2(self, a: Doc) -> Doc:
        if has_bars(a):  # inside ||...|| the next || closes the norm
            return self.call("norm2", a)
        return Doc(ATOM, ("||", a, "||"), bars=True)

    def normF(self, a: Doc) -> Doc:
        if has_bars(a):
            return self.call("norm", a)
        return Doc(ATOM, ("||", a, "||_F"), bars=True)

    def exponent(self, p: Fraction) -> str:
        """``^2``, ``^-1``, ``^(-2)``, ``^0.5``, ``^(1/3)``."""
        if p == -1:
            return "^-1"
        return "^" + self.power_text(p)

    def power_text(self, p: Fraction) -> str:
        level, text = number_text(abs(p))
        if p < 0:
            return f"(-{text})"
        return text if level == ATOM else f"({text})"

    def epow(self, p: Fraction) -> str:
        return ".^" + self.power_text(p)

    transpose_mark, inverse_mark, inverse_transpose_mark = "^T", "^-1", "^-T"

    #: what joins the factors of a product whatever they are; None when ``juxt``
    #: looks at them (LaTeX's ``\cdot`` before a digit): a notation that
    #: overrides ``juxt`` sets it None, or ``_mul`` never asks ``juxt``
    space: str | None = " "

    def juxt(self, left: Doc, right: Doc) -> str:
        return " "

    def div(self, node, a: Doc, c: Doc) -> Doc:
        return binary(self, node, a, c)


TEXT = Notation()


class TextContext(Context):
    def __init__(self, names=None, nt: Notation = TEXT, docs: dict | None = None):
        super().__init__(names, docs)   # docs: a memo (see ``of``)
        self.nt = nt

    @classmethod
    def of(cls, names, nt: Notation, memo: dict | None = None) -> "TextContext":
        """A context for one rendering; without names, its Docs are the memo shared
        by every rendering in ``nt`` (a stateless notation) without names, so that
        a piece the result and the differential share, or that problems share, is
        rendered once in the run.  With names, ``memo`` (notation -> context, kept
        by the caller for these names alone) shares them in the same way.  A
        context with a shared memo is itself kept in it: it holds nothing else."""
        if not names:
            memo, names = _SHARED_DOCS, None   # (a context of its own empty names)
        elif memo is None:
            return cls(names, nt)
        cx = memo.get(nt)
        if cx is None:
            cx = memo[nt] = cls(names, nt, {})
        return cx

    def name_doc(self, node, name):
        return leaf(ATOM, self.nt.sym(name))


#: notation -> the context of the renderings without names, its Docs their memo
#: (``TextContext.of``)
_SHARED_DOCS: dict = {}


class SizedNotation(Notation):
    """The text syntax with the identity written with its size: ``eye(n)``."""

    def identity(self, n) -> Doc:
        return self.call("eye", self.dim(n))


SIZED = SizedNotation()


def to_text(expr: Expr, names: dict | None = None, memo: dict | None = None) -> str:
    """expr in matdiff's input syntax; nodes in ``names`` print as their names
    (``memo``: see :meth:`TextContext.of`).

    The identity prints as ``I`` where the text fixes its size (``A + I``,
    ``I - x x^T``) and as ``eye(n)`` where it does not (``2 I`` alone,
    ``tr(I)``): the text reads back to the same numbers either way."""
    cx = TextContext.of(names, TEXT, memo)
    text = flatten(render_dag(expr, rule, cx))
    # the nodes written (named pieces are leaves: walking into them made a report of
    # n definitions quadratic): render_dag filled cx.docs with them, in its order;
    # a shared memo holds more, but the identity is written "I": without one, no
    # identity was written
    if cx.shared:
        written = _postorder(expr, cx.names) if "I" in text else ()
    else:
        written = list(cx.docs)
    if written and Identity in set(map(type, written)) and not _sizes_fixed(   # (no subclass)
            expr, names, text, written):
        text = flatten(render_dag(expr, rule, TextContext.of(names, SIZED, memo)))
    return text


def _sizes_fixed(expr: Expr, names: dict | None, text: str, written=None) -> bool:
    """Does every ``I`` of ``text`` get its size from the rest of the text, read
    with the shapes of expr's variables (and of the named pieces) declared?
    ``written``: the nodes the text writes (named pieces as leaves), if known."""
    from ..errors import MatdiffError
    from ..parser import Source, parse_statement
    from ..shapes import Elaborator, FuncInfo, Scope, SymInfo, Var

    scope = Scope()

    def declare(name, shape, props=frozenset()):
        if name not in scope.symbols:
            scope.symbols[name] = SymInfo(name, tuple(shape), frozenset(props), True, 0)
        for d in shape:
            if isinstance(d, str):
                for part in d.split("*"):
                    scope.dims.add(part)

    for node in (walk(expr) if written is None else written):
        if isinstance(node, Sym):
            declare(node.name, node.shape, node.props)
        elif isinstance(node, Diff) and isinstance(node.sym, Sym) and node not in (names or {}):
            declare("d" + node.sym.name, node.sym.shape)  # else declared by its name below
        elif isinstance(node, Func) and len(node.args) == 3:
            base = node.name.rstrip("'")
            param, body = node.args[2] if isinstance(node.args[2], tuple) else ("t", str(node.args[2]))
            scope.funcs.setdefault(base, FuncInfo(base, param, body, 0))
    if written is None:
        for node, name in (names or {}).items():
            declare(name, node.shape)
    else:
        for node in written:
            if names and node in names:
                declare(names[node], node.shape)
    src = Source(text)
    try:
        tree = parse_statement(src, 0, len(text))
        if tree.kind != "problem":
            return True
        el = Elaborator(scope, src, (0, len(text)))
        el.infer(tree.kids[0])
        el.u.settle()
    except (MatdiffError, RecursionError, ValueError):
        return True  # not for this check to judge
    u = el.u
    for kind, v in el.events:
        if kind == "var" and any(isinstance(f, Var) for f in u._factors(v)):
            return False
    return True


# --------------------------------------------------------------------------- helpers

def plain(cx: Context, node: Expr, cls) -> bool:
    """node is a cls that is written out (not replaced by a name)."""
    return isinstance(node, cls) and cx.docs[node].node is node


def is_negative_number(d: Doc) -> bool:
    return isinstance(d.node, Num) and d.node.value < 0


def leading(nt: Notation, d: Doc) -> Doc:
    """The first factor of a product: a sum, or anything at the level of products
    (a chain, ``A .* B``, ``a / b``, ``A ⊗ B``: bare, ``A ⊗ B C`` would read as
    ``A ⊗ (B C)``), needs brackets; a fraction ``1/3 s`` does not."""
    if d.chain is Mul or (d.level <= PROD and not isinstance(d.node, Num)):
        return nt.paren(d)
    return d


def later(nt: Notation, d: Doc) -> Doc:
    """A later operand of a product-level operator: only POST and ATOM go bare."""
    return nt.paren(d) if d.level <= NEG else d


def first_operand(nt: Notation, d: Doc, chain=None) -> Doc:
    """Left operand of ``/ .* ./``: no sums; no chain it would join.  A negation
    needs no brackets: unary minus binds tighter than products (``-a / b`` is
    ``(-a) / b``)."""
    if d.level <= SUM or (chain is not None and d.chain is chain):
        return nt.paren(d)
    return d


def base(nt: Notation, d: Doc) -> Doc:
    """Operand of a postfix operator: an atom."""
    return d if d.level >= ATOM else nt.paren(d)


def binary(nt: Notation, node, a: Doc, c: Doc) -> Doc:
    return Doc(PROD, (first_operand(nt, a), nt.ops[type(node)], later(nt, c)), node)


def product(nt: Notation, docs: list) -> list:
    """Parts of ``d1 d2 ...`` with every factor in a later position."""
    parts = [later(nt, docs[0])]
    for prev, d in zip(docs, docs[1:]):
        parts += [nt.juxt(prev, d), later(nt, d)]
    return parts


# --------------------------------------------------------------------------- rules

@singledispatch
def rule(node: Expr, cx) -> Doc:
    if not all_loaded():   # a built-in's family not loaded yet: its rules filed, then again
        load_all()
        return rule(node, cx)
    raise TypeError(f"no text rule for {type(node).__name__}")


@rule.register
def _sym(node: Sym, cx) -> Doc:
    return leaf(ATOM, cx.nt.sym(node.name), node)


@rule.register
def _num(node: Num, cx) -> Doc:
    """``2``, ``0.5``, ``1/3``; ``-2`` is a negation of level 3."""
    v = node.value
    if v >= 0:
        d = cx.nt.number(v)
        return as_node(d, node)
    body = cx.nt.number(-v)
    return Doc(NEG, (cx.nt.minus, body), node, neg=body)


@rule.register
def _diff(node: Diff, cx) -> Doc:
    if not isinstance(node.sym, Sym):
        d = cx.nt.differential_of(cx[node.sym])
        return as_node(d, node)
    return leaf(ATOM, cx.nt.diff(node.sym), node)


@rule.register
def _add(node: Add, cx) -> Doc:
    """``a + b - c``: a later negated term is written with ``-``; a broadcast
    scalar is written bare (``1 + exp(z)``) as long as some term is not one."""
    nt, get = cx.nt, cx.docs.__getitem__
    terms = node.terms
    docs = list(map(get, terms))
    for t in terms:
        if isinstance(t, Broadcast):   # (few sums hold one)
            bare = any(not plain(cx, t, Broadcast) for t in terms)
            docs = [get(t.args[0]) if bare and plain(cx, t, Broadcast) else get(t) for t in terms]
            break
    first = docs[0]
    parts = [nt.paren(first) if first.level <= SUM else first]
    append = parts.append
    for d in docs[1:]:
        neg = d.neg
        if neg is not None:
            append(" - ")
            append(nt.paren(neg) if neg.level <= SUM else neg)
            continue
        # a term that starts with a minus it does not own: (-a) / b (``first_char``
        # read from a short text inline)
        text = d.text
        append(" + ")
        append(nt.paren(d) if d.level <= SUM or (
            text[:1] if text is not None else first_char(d)) == "-" else d)
    return Doc(SUM, parts, node, chain=Add)


@rule.register
def _mul(node: Mul, cx) -> Doc:
    """``f1 f2 ...``: the first factor may be a level-2 chain, the later ones not.
    (``leading``, ``later`` and the notation's fixed ``space`` inline: the most
    common compound, written twice per format and problem.)"""
    nt, get = cx.nt, cx.docs.__getitem__
    factors = node.factors
    prev = first = get(factors[0])
    lead = first.node
    if isinstance(lead, Num):
        if lead.value < 0:
            return negated_product(node, cx)
    elif first.chain is Mul or first.level <= PROD:
        first = nt.paren(first)
    parts = [first]
    append, space = parts.append, nt.space
    for f in factors[1:]:
        d = get(f)
        append(space if space is not None else nt.juxt(prev, d))
        append(d if d.level > NEG else nt.paren(d))
        prev = d
    return Doc(PROD, parts, node, chain=Mul)


def negated_product(node: Mul, cx) -> Doc:
    """``-2 x``, ``-x y`` (coefficient -1 dropped unless a number or product
    follows it: ``-1 2``, ``-1 (a b)``).  ``Mul(-1, Mul(a, b))`` reads ``-a b``."""
    nt = cx.nt
    c = -node.factors[0].value
    rest = list(node.factors[1:])
    if c == 1 and len(rest) == 1 and plain(cx, rest[0], Mul) \
            and not is_negative_number(cx[rest[0].factors[0]]):
        rest = list(rest[0].factors)  # not a parser tree: print its value
        if isinstance(rest[0], Num) and cx[rest[0]].node is rest[0]:
            c, rest = rest[0].value, rest[1:]
    docs = [cx[f] for f in rest]
    neg = None
    if c == 1 and not isinstance(docs[0].node, (Num, Mul)):
        parts = product(nt, docs)
        if len(docs) == 1 and docs[0].level > SUM:
            neg = docs[0]  # after a binary minus (a - 8 b / c): no brackets of its own
    else:
        lead = nt.number(c)
        parts = [lead, nt.juxt(lead, docs[0])] + product(nt, docs)
    body = Doc(PROD if len(parts) > 1 else parts[0].level, parts)
    neg = neg or body
    return Doc(NEG, (nt.minus, body), node, neg=neg, chain=Mul)


@rule.register
def _hadamard(node: Hadamard, cx) -> Doc:
    nt = cx.nt
    docs = [cx[f] for f in node.factors]
    parts = [first_operand(nt, docs[0], chain=Hadamard)]
    for d in docs[1:]:
        parts += [nt.ops[Hadamard], later(nt, d)]
    return Doc(PROD, parts, node, chain=Hadamard)


@rule.register
def _div(node: Div, cx) -> Doc:
    d = cx.nt.div(node, cx[node.args[0]], cx[node.args[1]])
    return as_node(d, node)


@rule.register
def _ediv(node: EDiv, cx) -> Doc:
    return binary(cx.nt, node, cx[node.args[0]], cx[node.args[1]])


@rule.register
def _broadcast(node: Broadcast, cx) -> Doc:
    """Outside a sum (the sum writes the scalar bare): ``s ones(n, m)``."""
    nt = cx.nt
    ones = nt.ones(node.shape)
    s = node.args[0]
    if isinstance(s, Num) and s.value == 1 and cx[s].node is s:
        return as_node(ones, node)
    d = cx[s]
    if is_negative_number(d):
        return Doc(NEG, (nt.minus, Doc(PROD, (d.neg, " ", ones))), node,
                   neg=Doc(PROD, (d.neg, " ", ones)), chain=Mul)
    return Doc(PROD, (leading(nt, d), nt.juxt(d, ones), ones), node, chain=Mul)


@rule.register
def _transpose(node: Transpose, cx) -> Doc:
    nt, memo = cx.nt, cx.docs
    a = node.a
    d = memo[a]
    if isinstance(a, Inverse) and d.node is a:  # A^-T (``plain``, ``base`` inline)
        d = memo[a.a]
        mark = nt.inverse_transpose_mark
    else:
        mark = nt.transpose_mark
    return Doc(POST, (d if d.level >= ATOM else nt.paren(d), mark), node)


@rule.register
def _power(node: Power, cx) -> Doc:
    nt = cx.nt
    return Doc(POST, (base(nt, cx[node.base]), nt.exponent(node.p)), node)


@rule.register
def _epow(node: EPow, cx) -> Doc:
    nt = cx.nt
    d = cx[node.base]
    b = nt.paren(d) if nt.exact and isinstance(d.node, Num) else base(nt, d)  # not 2.^3
    return Doc(POST, (b, nt.epow(node.p)), node)


def _call(key):
    def rule_(node, cx) -> Doc:
        d = cx.nt.call(key, *map(cx.docs.__getitem__, node.children))
        d.node = node   # (a notation's call makes a Doc of its own: no as_node copy)
        return d
    return rule_


@filing
def _file_calls() -> None:
    """The built-ins declared to be written as calls: tr(A), diag(x), softmax(x), ..."""
    for node, op, call in declared("call"):
        if call:
            rule.register(getattr(_expr, node), _call(op.name))


# the others' forms (unvec(v, n, m), A^-1, ...) as declared with them (ops/), handed
# this module's helpers
file_declared("text", rule.register, sys.modules[__name__])


@rule.register
def _func(node: Func, cx) -> Doc:
    d = cx.nt.call(node.name, cx[node.arg])
    d.node = node   # (a Doc of its own: see Notation.call)
    return d


_expr.REPR_TEXT[:] = [to_text]   # a node's repr is its text

__all__ = ["to_text", "Notation", "TextContext", "rule", "decimal", "number_text",
           "SUM", "PROD", "NEG", "POST", "ATOM"]
