"""A recursive-descent reader of the common statements, ahead of the LALR driver.

Most statements of a document that are not declarations are plain
expressions and definitions (``tr(A^T (X - B))``, ``h = W x + b``,
``||A x - b||^2``).  :func:`descend` reads such a statement from its tokens by
precedence (sum, product, unary minus, postfix, atom: the levels of
``grammar/matdiff.lark``) and builds every node with the grammar's own
reductions (``syntax._Builder``), in the order the driver calls them, so the
tree is the driver's, node for node.  Anything else (a declaration, ``:=``,
braces in an exponent, deep nesting, and every error) returns None, and the
driver reads the statement from the start: it alone words syntax errors.
tests/test_descent.py compares both readers on the cookbook and on random text.
"""
from __future__ import annotations

from .errors import MatdiffError
from .syntax import Name, Token, _TooDeep

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Optional

#: the operators of a product (level 2), besides juxtaposition
_CHAIN = frozenset(("STAR", "SLASH", "HADAMARD", "EDIV", "KRON"))
#: the tokens that start an atom, so a juxtaposed factor
_ATOM = frozenset(("NAME", "NUMBER", "LPAR", "NORM_OPEN"))
#: the postfix operators
_POSTFIX = frozenset(("TRANSPOSE", "CARET", "EPOW", "INV_T", "SUPERSCRIPT", "PRIMES"))
#: a norm's subscript, after its closing bars (``_2`` and ``_F`` are names elsewhere)
_NORM_SUB = frozenset(("NORM_INF", "NORM_P", "NORM_NUC"))
_NORM_KEYWORDS = frozenset(("_2", "_F"))
#: nesting (brackets, calls, norms, minus signs) past which the driver reads the
#: statement: it needs no recursion, and a statement this deep is rare
_MAX_LEVEL = 40


class _Fallback(Exception):
    """The statement is not one this reader takes: the driver reads it."""


def descend(toks: list, builder) -> Optional[object]:
    """The node the driver builds of ``toks`` (ending with the ``$END`` token),
    or None where the driver must read the statement."""
    try:
        return _Descent(toks, builder).statement()
    except (_Fallback, _TooDeep, MatdiffError):
        return None


class _Descent:
    __slots__ = ("toks", "i", "b", "level")

    def __init__(self, toks: list, builder):
        self.toks = toks
        self.i = 0
        self.b = builder
        self.level = 0

    def statement(self):
        toks = self.toks
        if len(toks) > 2 and toks[0].type == "NAME" and toks[1].type == "EQUALS":   # h = expr
            self.i = 2
            node = self.b.definition([toks[0], toks[1], self.sum()])
        else:
            node = self.b.problem([self.sum()])
        if toks[self.i].type != "$END":
            raise _Fallback
        return node

    def expect(self, ttype: str) -> Token:
        tok = self.toks[self.i]
        if tok.type != ttype:
            raise _Fallback
        self.i += 1
        return tok

    def sum(self):
        """``product ((+|-) product)*``"""
        toks, b = self.toks, self.b
        left = self.product()
        while True:
            tok = toks[self.i]
            if tok.type != "PLUS" and tok.type != "MINUS":
                return left
            self.i += 1
            left = b.add([left, tok, self.product()])

    def product(self):
        """``unary ((* / .* ./ ⊗) unary | postfix)*``: an operator, or a factor juxtaposed."""
        toks, b = self.toks, self.b
        left = self.unary() if toks[self.i].type == "MINUS" else self.postfix()
        while True:
            tok = toks[self.i]
            if tok.type in _CHAIN:
                self.i += 1
                left = b.chain([left, tok, self.unary()])
            elif tok.type in _ATOM:
                left = b.chain([left, self.postfix()])
            else:
                return left

    def unary(self):
        tok = self.toks[self.i]
        if tok.type != "MINUS":
            return self.postfix()
        self.i += 1
        self.enter()
        node = self.b.neg([tok, self.unary()])
        self.level -= 1
        return node

    def enter(self):
        self.level += 1
        if self.level > _MAX_LEVEL:
            raise _Fallback

    def postfix(self):
        toks, b = self.toks, self.b
        node = self.atom()
        while True:
            tok = toks[self.i]
            t = tok.type
            if t not in _POSTFIX:   # (most atoms)
                return node
            self.i += 1
            if t == "TRANSPOSE":
                node = b.transpose([node, tok])
            elif t == "CARET":
                node = b.power([node, tok, self.exponent(True)])
            elif t == "EPOW":
                node = b.epow([node, tok, self.exponent(False)])
            else:
                node = (b.inverse_transpose if t == "INV_T" else
                        b.superscript if t == "SUPERSCRIPT" else b.primes)([node, tok])

    def exponent(self, transpose: bool):
        """After ``^`` (``transpose``: ``T`` may follow) or ``.^``: ``T``, ``-T``, ``k``,
        ``-k``, ``(p/q)``, ``(-p/q)``; braces are left to the driver."""
        toks = self.toks
        c = []
        tok = toks[self.i]
        paren = tok.type == "LPAR"
        if paren:
            c.append(tok)
            self.i += 1
            tok = toks[self.i]
        if tok.type == "MINUS":
            c.append(tok)
            self.i += 1
            tok = toks[self.i]
        if tok.type == "NAME" and tok.value == "T" and transpose and not paren:
            # the keyword T: a token of its own, the driver's (which retypes it in place)
            c.append(Token("TKEY", tok.value, tok.start, tok.end))
            self.i += 1
            return self.b.exponent(c)
        c.append(self.expect("NUMBER"))
        if paren:
            if toks[self.i].type == "SLASH":
                c.append(toks[self.i])
                self.i += 1
                c.append(self.expect("NUMBER"))
            c.append(self.expect("RPAR"))
        return self.b.exponent(c)

    def atom(self):
        toks, b = self.toks, self.b
        tok = toks[self.i]
        t = tok.type
        self.i += 1
        if t == "NAME":
            after = toks[self.i].type
            if after == "LPAR":   # a call, or (A(x)) a product the elaborator splits
                lpar = toks[self.i]
                self.i += 1
                return b.apply([tok, lpar, self.arguments(), self.expect("RPAR")])
            if after == "PRIMES":   # f'(x): the lexer makes primes PRIMES only before '('
                primes = toks[self.i]
                self.i += 1
                lpar = self.expect("LPAR")
                return b.derivative([tok, primes, lpar, self.arguments(), self.expect("RPAR")])
            return Name([], tok.value, tok.start, tok.end)   # (b.name written out: most atoms)
        if t == "NUMBER":
            return b.number([tok])
        if t == "LPAR":
            self.enter()
            node = b.paren([tok, self.sum(), self.expect("RPAR")])
            self.level -= 1
            return node
        if t == "NORM_OPEN":
            self.enter()
            c = [tok, self.sum(), self.expect("NORM_CLOSE")]
            self.level -= 1
            sub = toks[self.i]
            if sub.type in _NORM_SUB or (sub.type == "NAME" and sub.value in _NORM_KEYWORDS):
                c.append(sub)
                self.i += 1
            return b.norm(c)
        raise _Fallback

    def arguments(self) -> list:
        """``expr (, expr)*``, inside a call's parentheses."""
        self.enter()
        args = [self.sum()]
        while self.toks[self.i].type == "COMMA":
            self.i += 1
            args.append(self.sum())
        self.level -= 1
        return args
