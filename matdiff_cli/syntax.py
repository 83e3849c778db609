"""Syntax nodes, and the grammar's reductions that build them from tokens.

The result of parsing one statement is a :class:`Node` tree (``kind``,
``kids``, ``val``, character span).  Chains are flat and built in place
(``a + b - c`` is one ``add`` node, ``2 A X / 3 B`` one ``chain`` node with its
operators), so parsing is linear in the length of the input, and no node is
nested deeper than ``MAX_DEPTH`` (parentheses count): deeper input is an error,
never a ``RecursionError`` later.
"""
from __future__ import annotations

from fractions import Fraction

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
    """A syntax node.  ``kind`` names the form; ``kids`` are child nodes;
    ``val`` holds the form's data; ``start:end`` is its span in the source;
    ``paren`` is set when the node was written in parentheses."""

    __slots__ = ("kind", "kids", "val", "start", "end", "depth", "paren", "extra")

    def __init__(self, kind, kids, val, start, end, depth=1, extra=None):
        self.kind = kind
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
    try:
        return read_number(tok.value if text is None else text)
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
        d = 1 + max((k.depth for k in kids), default=0)
        if d > MAX_DEPTH:
            raise _TooDeep(start, end)
        return d

    def _node(self, kind, kids, val, start, end, extra=None):
        return Node(kind, kids, val, start, end, self._deeper(kids, start, end), extra)

    # statements
    def start(self, c):
        return c[0]

    def problem(self, c):
        e = c[0]
        return Node("problem", [e], None, e.start, e.end, e.depth)

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
        return Node("decl", [], (names, shape, []), names[0].start, end, extra=colon)

    def declaration_property(self, c):
        decl, prop = c
        decl.val[2].append(prop)
        decl.end = prop.end
        return decl

    def definition(self, c):
        name, eq, e = c
        return Node("def", [e], name, name.start, e.end, e.depth, extra=eq)

    def fundef(self, c):
        lhs, op, rhs = c
        return Node("fundef", [lhs, rhs], None, lhs.start, rhs.end, max(lhs.depth, rhs.depth), extra=op)

    # expressions
    def add(self, c):
        left, op, right = c
        sign = 1 if op.type == "PLUS" else -1
        if left.kind == "add" and not left.paren:
            left.kids.append(right)
            left.val.append((sign, op.start, op.end))
            left.end = right.end
            if right.depth >= left.depth:
                left.depth = self._deeper([right], left.start, right.end)
            return left
        return self._node("add", [left, right], [(1, left.start, left.start), (sign, op.start, op.end)],
                          left.start, right.end)

    def chain(self, c):
        if len(c) == 2:  # juxtaposition
            left, right = c
            op = ("mul", right.start, right.start)
        else:
            left, tok, right = c
            op = (_CHAIN_OPS[tok.type], tok.start, tok.end)
        if left.kind == "chain" and not left.paren:
            left.kids.append(right)
            left.val.append(op)
            left.end = right.end
            if right.depth >= left.depth:
                left.depth = self._deeper([right], left.start, right.end)
            return left
        return self._node("chain", [left, right], [None, op], left.start, right.end)

    def neg(self, c):
        tok, e = c
        return self._node("neg", [e], None, tok.start, e.end)

    def _post(self, base, val, end):
        return self._node("post", [base], val, base.start, end)

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
        return Node("name", [], t.value, t.start, t.end)

    def number(self, c):
        t = c[0]
        return Node("num", [], _number(t, self.src, self.span), t.start, t.end)

    def arguments(self, c):
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[2])
        return c[0]

    def apply(self, c):
        name, lpar, args, rpar = c
        # extra: the name's span and whether '(' follows it without a space
        return self._node("apply", args, name.value, name.start, rpar.end,
                          extra=(name.end, lpar.start == name.end))

    def primes(self, c):
        base, tok = c
        for _ in tok.value:
            base = self._post(base, ("T",), tok.end)
        return base

    def derivative(self, c):
        name, primes, lpar, args, rpar = c
        return self._node("dapply", args, (name.value, len(primes.value)), name.start, rpar.end,
                          extra=(primes.end, True))

    def paren(self, c):
        lpar, e, rpar = c
        e.start, e.end = lpar.start, rpar.end
        e.depth = self._deeper([e], lpar.start, rpar.end)
        e.paren = True
        return e

    def norm(self, c):
        e = c[1]
        sub = c[3].value[1] if len(c) == 4 else ""
        return self._node("norm", [e], sub, c[0].start, c[-1].end)
