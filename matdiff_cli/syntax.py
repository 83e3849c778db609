"""Syntax nodes, and the grammar's reductions that build them from tokens.

The result of parsing one statement is a :class:`Node` tree, one class per
form (:class:`Sum`, :class:`Chain`, :class:`Call`, ...; ``kids``, ``val``,
character span).  Chains are flat and built in place (``a + b - c`` is one
:class:`Sum`, ``2 A X / 3 B`` one :class:`Chain` with its operators), so parsing is linear in the length of the input, and no node is
nested deeper than ``MAX_DEPTH`` (parentheses count): deeper input is an error,
never a ``RecursionError`` later.
"""
from __future__ import annotations

from .rational import Fraction

from .literals import NumberError, read_number

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Optional

#: The deepest nesting the parser accepts (a level per operator, call or
#: parenthesis).  Real expressions stay far below; the rest of matdiff walks
#: expressions recursively in places, so this also keeps it safe.
MAX_DEPTH = 200


# ---------------------------------------------------------------------------
# Syntax nodes


class Node:
    """A syntax node.  Each form of the language is a subclass (below), so code
    that reads the tree dispatches on the class; ``kind`` is the form's short
    name (shown by ``repr``).  ``kids`` are child nodes; ``val`` holds the
    form's data; ``start:end`` is its span in the source; ``depth`` its
    nesting; ``paren`` is set when the node was written in parentheses;
    ``extra`` holds what a form needs besides (see each class)."""

    __slots__ = ("kids", "val", "start", "end", "depth", "paren", "extra")
    kind = "node"

    def __init__(self, kids, val, start, end, depth=1, extra=None):
        self.kids = kids
        self.val = val
        self.start = start
        self.end = end
        self.depth = depth
        self.paren = False
        self.extra = extra

    def __repr__(self):  # for debugging and test failures
        inner = ", ".join(repr(k) for k in self.kids)
        return f"{self.kind}({self.val!r}{', ' if inner else ''}{inner})"


class Statement(Node):
    """A statement of a document (``document.py`` reads each class: ``STATEMENTS``)."""
    __slots__ = ()


class Expression(Node):
    """A form of an expression (``shapes/elaborate.py`` has a rule for each)."""
    __slots__ = ()


# statements


class Problem(Statement):
    """A bare expression to solve: ``kids[0]``."""
    __slots__ = ()
    kind = "problem"


class Declaration(Statement):
    """``A, B: n x n symmetric``: ``val`` is (the name tokens, the shape's
    dimension tokens, the property tokens); ``extra`` the colon token."""
    __slots__ = ()
    kind = "decl"


class Definition(Statement):
    """``h = expr``: ``val`` is the name token, ``kids[0]`` the body; ``extra`` the ``=`` token."""
    __slots__ = ()
    kind = "def"


class FunctionDefinition(Statement):
    """``f(t) := body``: ``kids`` are the left side (a :class:`Call`) and the
    body; ``extra`` the ``:=`` token."""
    __slots__ = ()
    kind = "fundef"


# expressions


class Sum(Expression):
    """``a + b - c``, flat: ``kids`` the terms, ``val`` a (sign, start, end) per
    term (the first term's sign is +1, with an empty span)."""
    __slots__ = ()
    kind = "add"


class Chain(Expression):
    """``2 A X / 3 B``, flat: ``kids`` the operands, ``val`` an (operation,
    start, end) before each operand after the first (``val[0]`` is None); the
    operations are ``mul`` (``*`` or juxtaposition, with an empty span),
    ``div``, ``had`` (``.*``), ``ediv`` (``./``) and ``kron``."""
    __slots__ = ()
    kind = "chain"


class Negation(Expression):
    """``-e``: ``kids[0]``."""
    __slots__ = ()
    kind = "neg"


class Postfix(Expression):
    """A postfix operator on ``kids[0]``; ``val`` is ``("T",)``, ``("invT",)``,
    ``("pow", k)`` or ``("epow", k)`` (k a Fraction)."""
    __slots__ = ()
    kind = "post"


class Name(Expression):
    """A name: ``val``."""
    __slots__ = ()
    kind = "name"


class Number(Expression):
    """A number: ``val``, an exact Fraction."""
    __slots__ = ()
    kind = "num"


class Call(Expression):
    """``name(args)``, a call or (``A(x)``) a product: ``val`` the name, ``kids``
    the arguments; ``extra`` is (the end of the name, whether ``(`` follows it
    without a space)."""
    __slots__ = ()
    kind = "apply"


class PrimedCall(Expression):
    """``f'(x)``: ``val`` is (the name, the number of primes), ``kids`` the
    arguments; ``extra`` is (the end of the primes, True)."""
    __slots__ = ()
    kind = "dapply"


class Norm(Expression):
    """``||e||`` (``kids[0]``) with its subscript: ``val`` is ``""`` (none) or the
    grammar's ``"2"``, ``"F"``, ``"*"``; or one that ``shapes/desugar.py``
    joins to the norm (``"1"``, ``"inf"``, an integer p)."""
    __slots__ = ()
    kind = "norm"


class Span(Node):
    """A stretch of source that is no one node (a part of a chain), for messages."""
    __slots__ = ()
    kind = "span"


class Token:
    __slots__ = ("type", "value", "start", "end")

    def __init__(self, type, value, start, end):
        self.type = type
        self.value = value
        self.start = start
        self.end = end

    def __repr__(self):
        return f"Token({self.type}, {self.value!r})"


class _TooDeep(Exception):
    def __init__(self, start, end):
        self.start, self.end = start, end


#: chain operators: token type -> operation
_CHAIN_OPS = {"STAR": "mul", "SLASH": "div", "HADAMARD": "had", "EDIV": "ediv", "KRON": "kron"}
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _number(tok: Token, src, span, text: Optional[str] = None) -> Fraction:
    if text is None:
        text = tok.value
    if len(text) <= 15 and text.isascii() and text.isdigit():
        return Fraction(int(text))   # most literals: a small whole number, always in range
    try:
        return read_number(text)
    except NumberError as e:
        raise src.error("syntax", e.message, tok.start, tok.end, e.hint, span=span) from None


class _Builder:
    """The reductions of the grammar: tokens and child nodes -> a node."""

    def __init__(self, src, span):   # src: parser.Source
        self.src = src
        self.span = span

    # helpers
    @staticmethod
    def _deeper(kids, start, end):
        d = 0
        for k in kids:
            if k.depth > d:
                d = k.depth
        d += 1
        if d > MAX_DEPTH:
            raise _TooDeep(start, end)
        return d

    def _node(self, cls, kids, val, start, end, extra=None):
        d = 0   # (_deeper, written out: a node of each reduction)
        for k in kids:
            if k.depth > d:
                d = k.depth
        if d >= MAX_DEPTH:
            raise _TooDeep(start, end)
        return cls(kids, val, start, end, d + 1, extra)

    # statements
    def start(self, c):
        return c[0]

    def problem(self, c):
        e = c[0]
        return Problem([e], None, e.start, e.end, e.depth)

    def names(self, c):
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[2])
        return c[0]

    def dim(self, c):
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[2])
        return c[0]

    def shape(self, c):
        return [c[0]] if len(c) == 1 else [c[0], c[2]]

    def declaration(self, c):
        names, colon, shape = c
        end = shape[-1][-1].end
        return Declaration([], (names, shape, []), names[0].start, end, extra=colon)

    def declaration_property(self, c):
        decl, prop = c
        decl.val[2].append(prop)
        decl.end = prop.end
        return decl

    def definition(self, c):
        name, eq, e = c
        return Definition([e], name, name.start, e.end, e.depth, extra=eq)

    def fundef(self, c):
        lhs, op, rhs = c
        return FunctionDefinition([lhs, rhs], None, lhs.start, rhs.end, max(lhs.depth, rhs.depth), extra=op)

    # expressions
    def add(self, c):
        left, op, right = c
        sign = 1 if op.type == "PLUS" else -1
        if isinstance(left, Sum) and not left.paren:
            left.kids.append(right)
            left.val.append((sign, op.start, op.end))
            left.end = right.end
            if right.depth >= left.depth:
                left.depth = self._deeper([right], left.start, right.end)
            return left
        return self._node(Sum, [left, right], [(1, left.start, left.start), (sign, op.start, op.end)],
                          left.start, right.end)

    def chain(self, c):
        if len(c) == 2:  # juxtaposition
            left, right = c
            op = ("mul", right.start, right.start)
        else:
            left, tok, right = c
            op = (_CHAIN_OPS[tok.type], tok.start, tok.end)
        if isinstance(left, Chain) and not left.paren:
            left.kids.append(right)
            left.val.append(op)
            left.end = right.end
            if right.depth >= left.depth:
                left.depth = self._deeper([right], left.start, right.end)
            return left
        return self._node(Chain, [left, right], [None, op], left.start, right.end)

    def neg(self, c):
        tok, e = c
        return self._node(Negation, [e], None, tok.start, e.end)

    def _post(self, base, val, end):
        return self._node(Postfix, [base], val, base.start, end)

    def transpose(self, c):
        return self._post(c[0], ("T",), c[1].end)

    def inverse_transpose(self, c):
        return self._post(c[0], ("invT",), c[1].end)

    def superscript(self, c):
        base, tok = c
        text = tok.value.translate(_SUPERSCRIPT_DIGITS)
        p = _number(tok, self.src, self.span, text.lstrip("-"))
        if text.startswith("-"):
            p = -p
        return self._post(base, ("pow", p), tok.end)

    def power(self, c):
        base, caret, exp = c
        return self._post(base, exp[0], exp[1])

    def epow(self, c):
        base, op, exp = c
        return self._post(base, ("epow", exp[0][1]), exp[1])

    def exponent(self, c):
        """``T``, ``-T``, ``{-T}``, ``k``, ``-k``, ``(p/q)``, ``{-p/q}``: (value, end)."""
        end = c[-1].end
        types = [t.type for t in c]
        if "TKEY" in types:
            return (("invT",) if "MINUS" in types else ("T",)), end
        nums = [t for t in c if t.type == "NUMBER"]
        value = _number(nums[0], self.src, self.span)
        if len(nums) == 2:
            den = _number(nums[1], self.src, self.span)
            if den == 0:
                raise self.src.error("syntax", "division by zero in an exponent", nums[1].start,
                                     nums[1].end, span=self.span)
            value /= den
        if "MINUS" in types:
            value = -value
        return ("pow", value), end

    number_exponent = exponent

    def name(self, c):
        t = c[0]
        return Name([], t.value, t.start, t.end)

    def number(self, c):
        t = c[0]
        return Number([], _number(t, self.src, self.span), t.start, t.end)

    def arguments(self, c):
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[2])
        return c[0]

    def apply(self, c):
        name, lpar, args, rpar = c
        # extra: the name's span and whether '(' follows it without a space
        return self._node(Call, args, name.value, name.start, rpar.end,
                          extra=(name.end, lpar.start == name.end))

    def primes(self, c):
        base, tok = c
        for _ in tok.value:
            base = self._post(base, ("T",), tok.end)
        return base

    def derivative(self, c):
        name, primes, lpar, args, rpar = c
        return self._node(PrimedCall, args, (name.value, len(primes.value)), name.start, rpar.end,
                          extra=(primes.end, True))

    def paren(self, c):
        lpar, e, rpar = c
        e.start, e.end = lpar.start, rpar.end
        e.depth = self._deeper([e], lpar.start, rpar.end)
        e.paren = True
        return e

    def norm(self, c):
        e = c[1]
        sub = c[3].value[1:] if len(c) == 4 else ""
        return self._node(Norm, [e], sub, c[0].start, c[-1].end)


# ---------------------------------------------------------------------------
# Plain declarations, without the driver (parser.parse_statement tries these first)

#: the characters of a plain statement (``parser._plain_tokens``, :func:`_plain_declaration`)
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_ ,:()+-/^=")


def plain_words(stmt: str):
    """The words of a plain declaration (``A_1, B_1: n x n symmetric``: ASCII names,
    a colon, one dimension or two around ``x``, each a name or digits, then
    property names; spaces only): (names, dimensions, properties), lists of
    strings, the ``x`` left out; None for any other statement."""
    head, colon, tail = stmt.partition(":")
    if not colon or not _PLAIN.issuperset(stmt):
        return None
    words = tail.split()
    if len(words) >= 3 and words[1] == "x":
        dims, props = [words[0], words[2]], words[3:]
    else:
        dims, props = words[:1], words[1:]
    if not dims:
        return None
    for word in dims:
        if not (word.isdigit() or word.isidentifier()):
            return None
    for word in props:
        if not word.isidentifier():
            return None
    names = head.split(",")
    for i, piece in enumerate(names):
        name = names[i] = piece.strip(" ")
        if not name.isidentifier():
            return None
    return names, dims, props


def _plain_declaration(text: str, start: int, end: int, keywords: dict):
    """The node of a plain declaration (:func:`plain_words`) read from its words,
    without the lexer: the node :func:`_declaration` makes of the lexer's tokens.
    None for any other statement (a property that is a keyword, as in ``A: n x``,
    is left to the lexer and the driver)."""
    words = plain_words(text[start:end])
    if words is None:
        return None
    names, dims, props = words
    for word in props:
        if word in keywords:
            return None
    pos = start
    for i, name in enumerate(names):
        pos = text.find(name, pos)
        names[i] = Token("NAME", name, pos, pos + len(name))
        pos += len(name)
    colon = text.find(":", pos)
    colon = Token("COLON", ":", colon, colon + 1)
    pos = colon.end
    shape = []
    for i, word in enumerate(dims):
        if i == 1:   # after the x of `n x m`
            pos = text.find("x", pos) + 1
        pos = text.find(word, pos)
        shape.append([Token("NUMBER" if word.isdigit() else "NAME", word, pos, pos + len(word))])
        pos += len(word)
    for i, word in enumerate(props):
        pos = text.find(word, pos)
        props[i] = Token("NAME", word, pos, pos + len(word))
        pos += len(word)
    last = props[-1] if props else shape[-1][0]
    return Declaration([], (names, shape, props), names[0].start, last.end, extra=colon)


def _declaration(toks: list, keywords: dict):
    """The node the driver builds for a plain declaration (``A, B: n x n symmetric``:
    names, a colon, one or two dimensions of names, numbers and ``*``, then property
    names), without running it; None for any other statement (the driver parses
    it, and words every error).  A keyword (``x``, ``T``, ``_2``, ``_F``) is a name
    where a name or a dimension starts: the driver makes ``x`` the TIMES of a shape
    only right after a dimension, and no other keyword's terminal follows there;
    a property that is a keyword is left to the driver."""
    n = len(toks)
    if n < 3 or toks[1].type not in ("COLON", "COMMA"):
        return None
    names = []
    i = 0
    while True:   # NAME (, NAME)* :
        tok = toks[i]
        if tok.type != "NAME":
            return None
        names.append(tok)
        i += 1
        if i >= n:
            return None
        kind = toks[i].type
        i += 1
        if kind == "COLON":
            break
        if kind != "COMMA" or i >= n:
            return None
    colon = toks[i - 1]
    shape: list = []
    while True:   # a dimension: an atom (* atom)*; then x or × and another
        dim = []
        while True:
            if i >= n:
                return None
            tok = toks[i]
            if tok.type != "NUMBER" and tok.type != "NAME":
                return None
            dim.append(tok)
            i += 1
            if i < n and toks[i].type == "STAR":
                i += 1
                continue
            break
        shape.append(dim)
        if len(shape) == 2 or i >= n:
            break
        tok = toks[i]
        if tok.type == "CROSS" or (tok.type == "NAME" and tok.value == "x"):  # x: a keyword here
            i += 1
            continue
        break
    props = toks[i:]
    for tok in props:
        if tok.type != "NAME" or tok.value in keywords:
            return None
    last = props[-1] if props else shape[-1][-1]
    return Declaration([], (names, shape, props), names[0].start, last.end, extra=colon)
