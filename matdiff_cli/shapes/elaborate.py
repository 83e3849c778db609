"""The elaborator: syntax nodes -> checked plans -> expressions, within one scope.

:class:`Elaborator` works in two passes: ``infer`` checks and unifies shapes,
recording a plan (``plans.P``) with the decisions (the rule for each class of
syntax node is in the table :data:`INFER`, at the end); ``build`` makes the
hash-consed nodes once every dimension is known.  Both are bounded: ``infer``
recurses at most as deep as the parser allows, and ``build`` is iterative.
Scalar-ness is decided bottom-up: an operand whose shape is known to be 1x1
makes ``*`` a scalar product and ``+`` a broadcast.  Desugaring
(``desugar.py``), calls and built-ins (``calls.py``) and the second pass
(``plans.py``) are parts of the class kept in their own modules.
"""
from __future__ import annotations

from ..rational import Fraction

from ..errors import MatdiffError
from ..expr import Sym
from ..ops import BUILTINS
from ..parser import MAX_DEPTH, Source
from ..syntax import Call, Chain, Name, Negation, Node, Norm, Number, Postfix, PrimedCall, Span, Sum
from .calls import Calls
from .desugar import Desugaring
from .dims import SCALAR, Prod, decl_text, dim_product
from .layers import _Either
from .plans import Building, DimArg, P, ShapeArg
from .scope import DefInfo, Scope, SymInfo, name_class

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Optional

_APPLIES = (Call, PrimedCall, Postfix)
_OPNAMES = {"add": "add", "had": "multiply elementwise", "ediv": "divide elementwise"}
#: the deepest recursion of infer (the parser's bound, and a few levels of desugaring)
_MAX_LEVEL = MAX_DEPTH + 10


# ---------------------------------------------------------------------------
# The elaborator


class Elaborator(Desugaring, Calls, Building):
    """Syntax nodes -> checked plans -> expressions, within one scope."""

    def __init__(self, scope: Scope, src: Source, span: tuple, expand: bool = True):
        self.scope = scope
        self.expand = expand  # follow definitions to the symbols they use (problems do)
        self.src = src
        self.span = span
        self.u = scope.unifier
        self.appear: dict = {}      # symbol names in order of first appearance
        self.dims: list = []        # dimension terms in order of first appearance
        self.reached: dict = {}     # DefInfo -> None, definitions used
        self.funcs: dict = {}       # user functions used
        self.events: list = []      # what this text uses directly (see DefInfo)
        self.sym_plans: dict = {}   # one plan per symbol
        self.level = 0

    # -- errors

    def error(self, kind, message, node_or_span, hint=None) -> MatdiffError:
        if isinstance(node_or_span, tuple):
            start, end = node_or_span
        else:
            start, end = node_or_span.start, node_or_span.end
        return self.src.error(kind, message, start, end, hint, span=self.span)

    def text(self, node, limit=40) -> str:
        t = self.src.statement(node.start, node.end) if not isinstance(node, tuple) \
            else self.src.statement(*node)
        return t if len(t) <= limit else t[: limit - 3] + "..."

    def names_now(self, *shapes) -> dict:
        """Provisional names for the unknown dimensions (for messages)."""
        return self.u.name_vars(self.dims + [d for s in shapes for d in s], self.taken())

    def taken(self):
        """The names a new dimension must not take (looked up, never copied)."""
        return _Either(self.scope.dims, self.scope.symbols, self.appear)

    def show(self, shape) -> str:
        return self.u.show(shape, self.names_now(shape))

    def decl_for(self, shape) -> str:
        names = self.names_now(shape)
        return decl_text(tuple(self.u.resolve(d, names) for d in shape))

    def is_inferred_symbol(self, node) -> Optional[SymInfo]:
        if isinstance(node, Name):
            info = self.scope.symbols.get(node.val)
            if info is not None and not info.declared:
                return info
        return None

    # -- the first pass

    def infer(self, node: Node) -> P:
        self.level += 1
        if self.level > _MAX_LEVEL:
            raise self.error("syntax", f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
                             node, "split it with definitions (h = ...) on separate lines")
        try:
            return INFER[node.__class__](self, node)
        finally:
            self.level -= 1

    def _num(self, node):
        return P("num", [node.val], SCALAR, node, num=node.val)

    def _name(self, node):
        n = node.val
        p = self.sym_plans.get(n)
        if p is not None:   # a symbol used before in this text: nothing below changes
            return p
        if n == "I":
            v = self.u.new()
            self.dims.append(v)
            self.events.append(("var", v))
            return P("id", [DimArg(v)], (v, v), node)
        d = self.scope.defs.get(n)
        if d is not None:
            return self.use_def(d)
        if n == "T":
            raise self.error("name", "'T' is reserved for the transpose", node, "write x^T, x' or x.T")
        if n in self.scope.funcs:
            raise self.error("name", f"'{n}' is a function: write {n}(...)", node)
        if n in BUILTINS:
            hint = "write log(det(X)), log det(X) or logdet(X)" if n == "log" else f"write {n}(...)"
            raise self.error("name", f"'{n}' is a function ({BUILTINS[n]}), not a value", node, hint)
        # a symbol, first used here
        if n in self.scope.failed:  # also a failed redeclaration: never the old shape silently
            raise self.error("name", f"'{n}' cannot be used: its declaration or definition "
                                     f"on line {self.scope.failed[n]} has an error", node,
                             "fix that line first")
        info = self.scope.symbols.get(n)
        if info is None:
            cls = name_class(n)
            if cls == "matrix":
                shape = (self.u.new(True), self.u.new(True))
            elif cls == "vector":
                shape = (self.u.new(True), 1)
            else:
                shape = SCALAR
            info = SymInfo(n, shape, frozenset(), False)
            self.scope.set_symbol(n, info)
        p = self.sym_plans[n] = P("sym", [n], info.shape, node)
        rows, cols = info.shape
        if (type(rows) is str or type(rows) is int) and (type(cols) is str or type(cols) is int):
            # its shape known (declared): built now (see P)
            p.e = Sym(n, (rows, cols), info.props)
            p.depth = 1
        if n not in self.appear:
            self.appear[n] = None
            self.dims.extend(info.shape)
            self.events.append(("sym", n))
        return p

    def use_def(self, d: DefInfo) -> P:
        """A definition's checked body; what it uses is recorded as if written here."""
        self.events.append(("def", d))
        if d in self.reached:
            return d.ir
        self.reached[d] = None
        if not self.expand:  # a definition records what it uses directly
            return d.ir
        symbols = self.scope.symbols
        stack = [iter(d.events)]
        while stack:  # each definition once, in order of first use
            ev = next(stack[-1], None)
            if ev is None:
                stack.pop()
                continue
            kind, val = ev
            if kind == "sym":
                if val not in self.appear:
                    self.appear[val] = None
                    self.dims.extend(symbols[val].shape)
            elif kind == "var":
                self.dims.append(val)
            elif kind == "func":
                self.funcs.setdefault(val, None)
            elif val not in self.reached:
                self.reached[val] = None
                stack.append(iter(val.events))
        return d.ir

    def negate(self, p: P, node=None) -> P:
        if p.num is not None:
            return P("num", [-p.num], SCALAR, node or p.node, num=-p.num)
        return P("neg", [p], p.shape, node or p.node)

    def _neg(self, node):
        return self.negate(self.infer(node.kids[0]), node)

    # sums and elementwise operations

    def _add(self, node):
        ps = []
        for (sign, _, _), k in zip(node.val, node.kids):
            p = self.infer(k)
            ps.append(self.negate(p, k) if sign < 0 else p)
        ps, shape = self.elementwise("add", ps, node.kids)
        return P("add", ps, shape, node)

    def elementwise(self, op, ps, nodes):
        """Terms of one shape; scalars among vectors/matrices are broadcast."""
        scalar = [self.u.is_scalar(p.shape) for p in ps]
        ref = next((i for i, s in enumerate(scalar) if not s), None)
        if ref is None:
            return ps, SCALAR
        shape = ps[ref].shape
        for i, p in enumerate(ps):
            if scalar[i] or i == ref:
                continue
            if not self.u.unify_shapes(shape, p.shape):
                raise self.shape_mismatch(op, nodes[ref], shape, nodes[i], p.shape, nodes)
        return [P("bcast", [p, ShapeArg(shape)], shape, p.node) if s else p
                for p, s in zip(ps, scalar)], shape

    def shape_mismatch(self, op, ln, ls, rn, rs, nodes):
        a, b = self.text(ln), self.text(rn)
        names = self.names_now(ls, rs)
        sa, sb = self.u.show(ls, names), self.u.show(rs, names)
        if op == "add":
            message = f"cannot add {a} ({sa}) and {b} ({sb})"
        else:
            message = f"cannot {_OPNAMES[op]} {a} ({sa}) and {b} ({sb})"
        hint = "the terms must have the same shape (a scalar is broadcast)"
        if isinstance(rn, Name):
            hint = f"declare `{rn.val}: {self.decl_for(ls)}`, or check the shapes; " + hint
        elif self.is_inferred_symbol(ln):
            hint = f"declare `{ln.val}: {self.decl_for(rs)}`, or check the shapes; " + hint
        return self.error("shape", message, rn, hint)

    # products and the other operators of level 2

    def _chain(self, node):
        first = node.kids[0]
        negs = 0
        while isinstance(first, Negation) and not first.paren:
            negs += 1
            first = first.kids[0]
        items = []
        rare = False   # a norm, `log` or a call: the rewrites below look (most chains have none)
        for op, k in zip(node.val, node.kids if negs == 0 else [first] + node.kids[1:]):
            if k.__class__ is Name:   # (most operands)
                items.append((op, k))
                if k.val == "log":
                    rare = True
                continue
            rare = True
            # `B .* -A (C)` is `(B .* -A) C`, as `B .* -A C` is: the minus
            # belongs to A alone, and (C) is the next factor of the chain
            inner, minus = k, []
            while isinstance(inner, Negation) and not inner.paren:
                minus.append(inner)
                inner = inner.kids[0]
            # (only a call, under postfix operators or not, can be a product: A(x))
            split = None if inner.paren or not isinstance(inner, _APPLIES) else self.split_apply(inner)
            if split is not None:
                name, rest = split
                for m in reversed(minus):
                    name = Negation([name], None, m.start, name.end, name.depth + 1)
                items.append((op, name))
                items.append((("mul", rest.start, rest.start), rest))
            else:
                items.append((op, k))
        if rare:
            for _, k in items:   # each rewrite starts at a norm or at `log`
                if isinstance(k, Norm) or (isinstance(k, Name) and k.val == "log"):
                    items = self.check_norm_subscripts(items)
                    items = self.merge_log_det(items)
                    break
        return self.fold(items, negs, node)

    def fold(self, items, negs, node):
        """Level-2 operators, left to right; runs of products (and of .*) are one node."""
        group: list = []
        gnodes: list = []
        kind = None
        shape = None
        pending_negs = negs
        gstart = items[0][1].start

        def finish():
            # a leading minus negates the product it starts (-A B is -(A B)),
            # else its own operand (-x .* y is (-x) .* y)
            nonlocal pending_negs
            if kind != "mul":
                while pending_negs:
                    group[0] = self.negate(group[0])
                    pending_negs -= 1
            if kind == "mul":
                p = P("mul", list(group), shape, None)
            elif kind == "had":
                ps, sh = self.elementwise("had", group, gnodes)
                p = P("had", ps, sh, None)
            else:
                p = group[0]
            while pending_negs:
                p = self.negate(p)
                pending_negs -= 1
            return p

        for op, k in items:
            # a name (most operands) read without infer's dispatch, where infer would not
            # find it too deep
            p = self._name(k) if k.__class__ is Name and self.level < _MAX_LEVEL else self.infer(k)
            if op is None:
                group, gnodes, kind, shape = [p], [k], None, p.shape
                continue
            o = op[0]
            span = (gstart, k.end)
            if o == "mul":
                if kind not in (None, "mul"):
                    left = finish()
                    group, gnodes, shape = [left], [Span([], None, gstart, gnodes[-1].end)], left.shape
                shape = self.product_shape(shape, p, gnodes, k, span)
                group.append(p)
                gnodes.append(k)
                kind = "mul"
            elif o == "had":
                if kind not in (None, "had"):
                    left = finish()
                    group, gnodes = [left], [Span([], None, gstart, gnodes[-1].end)]
                group.append(p)
                gnodes.append(k)
                kind = "had"
            else:
                left = finish()
                lnode = Span([], None, gstart, gnodes[-1].end) if len(gnodes) > 1 else gnodes[0]
                p = self.binary(o, left, lnode, p, k, span)
                group, gnodes, kind, shape = [p], [Span([], None, gstart, k.end)], None, p.shape
        return finish()

    def product_shape(self, ls, p, gnodes, k, span):
        """One step of a product chain: a scalar product, or a matrix product."""
        u = self.u
        rs = p.shape
        if type(ls[1]) is str and ls[1] == rs[0] and not u.pending:
            return (ls[0], rs[1])   # n columns against n rows (most steps): nothing to unify
        if u.is_scalar(ls):
            return rs
        if u.is_scalar(rs):
            return ls
        if u.unify((ls[1], rs[0])):
            return (ls[0], rs[1])
        lnode = gnodes[0] if len(gnodes) == 1 else Span([], None, gnodes[0].start, gnodes[-1].end)
        a, b = self.text(lnode), self.text(k)
        names = self.names_now(ls, rs)
        sa, sb = u.show(ls, names), u.show(rs, names)
        cols, rows = u.resolve(ls[1], names), u.resolve(rs[0], names)
        message = (f"cannot multiply {a} ({sa}) by {b} ({sb}): "
                   f"{cols} column{'s' if cols != 1 else ''} against {rows} row{'s' if rows != 1 else ''}")
        raise self.error("shape", message, span, self.product_hint(lnode, ls, k, rs, names))

    def product_hint(self, ln, ls, rn, rs, names):
        u = self.u
        li, ri = self.is_inferred_symbol(ln), self.is_inferred_symbol(rn)
        for info in (li, ri):
            if info is not None and name_class(info.name) == "vector":
                n = info.name
                return (f"{n} is taken to be a column vector (lower-case names are); declare "
                        f"`{n}: scalar` if it is a number; an inner product is written x^T y")
        if u.is_one(ls[1]) and u.is_one(rs[1]):
            return "two column vectors: write x^T y for the inner product, x y^T for the outer product"
        if isinstance(rn, Name):
            shape = (u.resolve(ls[1], names), u.resolve(rs[1], names))
            return f"declare `{rn.val}: {decl_text(shape)}`, or check the order of the factors"
        if isinstance(ln, Name):
            shape = (u.resolve(ls[0], names), u.resolve(rs[0], names))
            return f"declare `{ln.val}: {decl_text(shape)}`, or check the order of the factors"
        if isinstance(u.walk(ls[1]), Prod) or isinstance(u.walk(rs[0]), Prod):
            return "matdiff does not split a product of dimensions: declare the shapes involved"
        return "the columns of the left factor must match the rows of the right one"

    def binary(self, o, left, lnode, p, k, span):
        u = self.u
        if o == "div":
            if left.num is not None and p.num is not None:
                if p.num == 0:
                    raise self.error("shape", "division by zero", k)
                v = left.num / p.num
                return P("num", [v], SCALAR, None, num=v)
            if not u.is_scalar(p.shape) and not u.unify((p.shape[0], 1), (p.shape[1], 1)):
                raise self.error(
                    "shape", f"cannot divide by {self.text(k)} ({self.show(p.shape)}): "
                             "the divisor must be a scalar", span,
                    "for elementwise division write ./ (e.g. x ./ y)")
            return P("div", [left, p], left.shape)
        if o == "ediv":
            ps, shape = self.elementwise("ediv", [left, p], [lnode, k])
            return P("ediv", ps, shape)
        # kron
        ls, rs = left.shape, p.shape
        return P("kron", [left, p], (dim_product(ls[0], rs[0]), dim_product(ls[1], rs[1])))

    # postfix operators

    def _post(self, node):
        # (a name under the operators, as most are, is no product: A^T, V^-1)
        split = None if node.kids[0].__class__ is Name else self.split_apply(node)
        if split is not None:
            name, rest = split
            chain = Chain([name, rest], [None, ("mul", rest.start, rest.start)],
                          node.start, node.end, node.depth)
            return self.infer(chain)
        p = self.infer(node.kids[0])
        op = node.val[0]
        if op == "T":
            return P("T", [p], (p.shape[1], p.shape[0]), node)
        if op == "inv":
            return self.inverse(p, node)
        if op == "invT":
            q = self.inverse(p, node)
            return q if self.u.is_scalar(p.shape) else P("T", [q], (q.shape[1], q.shape[0]), node)
        if op == "epow":
            return P("epow", [p, node.val[1]], p.shape, node)
        return self.power(p, node.val[1], node)

    def square(self, p, node, what):
        if not self.u.unify((p.shape[0], p.shape[1])):
            operand = node.kids[0] if isinstance(node, (Postfix, Call)) and node.kids else node
            hint = "it applies to square matrices only"
            if isinstance(operand, Name):
                names = self.names_now(p.shape)
                n = self.u.resolve(p.shape[0], names)
                hint = f"declare `{operand.val}: {n} x {n}` if it is square; " + hint
            raise self.error("shape", f"{what} needs a square matrix, but {self.text(operand)} is "
                                      f"{self.show(p.shape)}", node, hint)

    def inverse(self, p, node):
        if self.u.is_scalar(p.shape):
            return P("pow", [p, Fraction(-1)], SCALAR, node)
        self.square(p, node, "the inverse")
        return P("inv", [p], p.shape, node)

    def power(self, p, k: Fraction, node):
        u = self.u
        if u.is_scalar(p.shape):
            return P("pow", [p, k], SCALAR, node)
        if u.is_one(p.shape[0]) or u.is_one(p.shape[1]):
            kid = node.kids[0]
            t = self.text(kid)
            hint = (f"for the elementwise power write {t}.^{k}; "
                    f"for the squared norm write {t}^T {t} or ||{t}||^2")
            if self.is_inferred_symbol(kid) is not None:   # x1 was taken for a vector
                hint = f"if {t} is a number, declare `{t}: scalar`; {hint}"
            raise self.error("shape", f"{t}^{k} is not defined for a vector ({t} is {self.show(p.shape)})",
                             node, hint)
        if k.denominator != 1:
            raise self.error("shape", f"a matrix power needs an integer exponent, not {k}", node,
                             "for the elementwise power write .^")
        if k == -1:
            return self.inverse(p, node)
        self.square(p, node, "a matrix power")
        if k < 0:
            return P("pow", [P("inv", [p], p.shape, node), -k], p.shape, node)
        return P("pow", [p, k], p.shape, node)


#: the inference rule of each class of expression node (``syntax.Expression``)
INFER = {
    Number: Elaborator._num, Name: Elaborator._name, Negation: Elaborator._neg,
    Sum: Elaborator._add, Chain: Elaborator._chain, Postfix: Elaborator._post,
    Call: Elaborator._apply, PrimedCall: Elaborator._dapply, Norm: Elaborator._norm,
}
