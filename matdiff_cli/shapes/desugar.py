"""Desugaring: forms that read as something else before they are inferred.

``A(x)`` written like a call is a product when ``A`` is a variable (or an
upper-case name, or written with a space); ``A'(x)`` is ``A^T (x)`` unless
``A`` is a user function; ``log det(X)`` is ``logdet(X)``; ``||x||_1`` (the
lexer reads ``_1`` as a name) is the 1-norm.
"""
from __future__ import annotations

from ..ops import BUILTINS
from ..syntax import Call, Name, Norm, Postfix, PrimedCall
from .scope import name_class

#: a norm's subscript written as a name after it (``||x||_1``) -> the built-in
NORM_SUBSCRIPTS = {"1": "norm1", "inf": "norm_inf", "∞": "norm_inf"}


def _integer_p(sub) -> bool:
    """``||x||_3``: an integer p >= 3 (p = 2 is the Euclidean norm's own token)."""
    return isinstance(sub, str) and sub.isdigit() and 3 <= int(sub) <= 64


class Desugaring:
    """Rewrites of syntax nodes (a part of :class:`Elaborator`)."""

    def check_norm_subscripts(self, items):
        """``||x||_1`` is the 1-norm (the lexer reads ``_1`` as a name: it is
        joined to the norm before it, with any power after it); ``||x||_inf``,
        ``||X||_*``: a subscript matdiff does not know is an error, never a
        product with a variable named ``_1``."""
        out = [items[0]] if items else []
        for (op, k) in items[1:]:
            prev = out[-1][1]
            atom, posts = k, []
            while isinstance(atom, Postfix) and not atom.paren:
                posts.append(atom)
                atom = atom.kids[0]
            if (isinstance(atom, Name) and atom.val.startswith("_") and not atom.paren
                    and isinstance(prev, Norm) and prev.end == atom.start):
                sub = atom.val[1:] or "*"
                if (sub in NORM_SUBSCRIPTS or _integer_p(sub)) and not prev.val and not prev.paren:
                    joined = Norm(prev.kids, sub, prev.start, atom.end, prev.depth)
                    for post in reversed(posts):
                        joined = Postfix([joined] + post.kids[1:], post.val, prev.start,
                                         post.end, post.depth, post.extra)
                    out[-1] = (out[-1][0], joined)
                    continue
                if sub == "*":   # ||X||_*2: the nuclear norm's subscript, then a number
                    raise self.error("syntax", "a number right after ||...||_* is ambiguous",
                                     (prev.start, atom.end),
                                     "write 2 ||X||_* for twice the nuclear norm")
                raise self.error(
                    "syntax", f"the norm ||...||_{sub} is not supported yet",
                    (prev.start, atom.end),
                    "matdiff has ||x|| (or ||x||_2, norm2(x)) for the Euclidean norm of a "
                    "vector, ||x||_1 (norm1(x)), ||x||_inf (norm_inf(x)) and ||x||_p for a "
                    "number 1 <= p <= 64 (||x||_3, ||x||_1.5), and ||X||_F "
                    "(norm(X)) for the Frobenius norm"
                    ", ||X||_2 (sigma_max(X)) and ||X||_* (norm_nuc(X)) of a matrix")
            out.append((op, k))
        return out

    def merge_log_det(self, items):
        """``log det(X)`` -> ``logdet(X)``."""
        out = []
        i = 0
        while i < len(items):
            op, k = items[i]
            if (isinstance(k, Name) and k.val == "log" and not k.paren and i + 1 < len(items)
                    and items[i + 1][0][0] == "mul" and items[i + 1][0][1] == items[i + 1][0][2]):
                nxt = items[i + 1][1]
                if isinstance(nxt, Call) and nxt.val == "det" and not nxt.paren:
                    merged = Call(nxt.kids, "logdet", k.start, nxt.end, nxt.depth, nxt.extra)
                    out.append((op, merged))
                    i += 2
                    continue
            out.append((op, k))
            i += 1
        return out

    def split_apply(self, node):
        """For ``A(x)`` (a product written like a call), possibly under postfix
        operators: (the name, the rest with the postfixes moved onto ``x``).
        Parentheses around ``node`` itself do not matter; inner ones do."""
        posts = []
        k = node
        while isinstance(k, Postfix) and (k is node or not k.paren):
            posts.append(k)
            k = k.kids[0]
        if isinstance(k, PrimedCall) and not (k.paren and k is not node) and not self.is_derivative(k):
            fname, order = k.val  # A'(x + y): A^T times (x + y)
        elif not isinstance(k, Call) or (k.paren and k is not node) or not self.is_product(k):
            return None
        else:
            fname, order = k.val, 0
        if len(k.kids) != 1:
            raise self.error("name", f"'{fname}' is not a function, so {fname}(...) cannot take "
                                     f"{len(k.kids)} arguments", k)
        arg = k.kids[0]
        arg.paren = True
        rest = arg
        for post in reversed(posts):
            rest = Postfix([rest], post.val, arg.start, post.end, post.depth)
        name = Name([], fname, k.start, k.start + len(fname))
        for _ in range(order):
            name = Postfix([name], ("T",), k.start, k.extra[0], name.depth + 1)
        return name, rest

    def is_derivative(self, node) -> bool:
        """Is ``f'(x)`` the derivative of a user function (else a transpose times (x))?"""
        return node.val[0] in self.scope.funcs

    def is_product(self, node) -> bool:
        """Is ``name(...)`` a product?  Yes when the name is a variable (declared,
        defined or already used), a matrix name (upper case: ``A(x + y)``), or
        written with a space before its parenthesis (``s (1 + s)``).  An unknown
        lower-case or Greek name against its parenthesis is a call: of sigmoid
        for ``σ(...)`` / ``sigma(...)``, else of an unknown function (an error)."""
        n = node.val
        s = self.scope
        if n in s.funcs or n in BUILTINS or n == "T":
            return False
        if n in s.defs or n in s.symbols or n == "I":
            return True
        return name_class(n) == "matrix" or not node.extra[1]
