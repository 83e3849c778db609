"""Calls: user functions, built-ins (each shape rule once, :data:`SHAPE_RULES`), norms."""
from __future__ import annotations

from ..rational import Fraction

from ..ops import ALIASES, BUILTINS, ELEMENTWISE, STRUCTURE, arity
from ..syntax import Call, Chain, Name, Number
from .desugar import NORM_SUBSCRIPTS, _integer_p
from .dims import SCALAR, Prod, dim_product
from .plans import P, ShapeArg

#: functions of the specification that matdiff does not have yet
_SPECTRAL = ("this spectral function is not in matdiff yet (lambda_max(A) and lambda_min(A) "
             "are)")
NOT_YET = {
}


class Calls:
    """Inference of calls and norms (a part of :class:`Elaborator`)."""

    def _dapply(self, node):
        n, order = node.val
        if n in BUILTINS or n in ALIASES and n not in self.scope.symbols:
            raise self.error("name", f"{n}{chr(39) * order}(...): primes mark the derivative of a "
                                     "user function only", (node.start, node.extra[0]),
                             f"write the derivative out, or define g(t) := {n}(t) and use g'(...)")
        if not self.is_derivative(node):
            name, rest = self.split_apply(node)
            chain = Chain([name, rest], [None, ("mul", rest.start, rest.start)],
                          node.start, node.end, node.depth)
            return self.infer(chain)
        return self.user_call(node, n, order)

    def _apply(self, node):
        n = node.val
        if n in self.scope.funcs:
            return self.user_call(node, node.val)
        if n in BUILTINS:
            return self.builtin(node)
        if n in ALIASES and not self.is_product(node):
            # matdiff writes sigmoid as σ: what it prints reads back
            return self.builtin(Call(node.kids, ALIASES[n], node.start, node.end,
                                     node.depth, node.extra))
        if n == "T":
            raise self.error("name", "'T' is reserved for the transpose", node, "write x^T, x' or x.T")
        if self.is_product(node):
            name, rest = self.split_apply(node)
            chain = Chain([name, rest], [None, ("mul", rest.start, rest.start)],
                          node.start, node.end, node.depth)
            return self.infer(chain)
        if n in self.scope.failed:
            raise self.error("name", f"'{n}' cannot be used: its definition on line "
                                     f"{self.scope.failed[n]} has an error", (node.start, node.extra[0]),
                             "fix that line first")
        from difflib import get_close_matches

        if n in NOT_YET:
            raise self.error("name", f"'{n}' is not supported yet", (node.start, node.extra[0]),
                             NOT_YET[n])
        close = get_close_matches(n, list(BUILTINS) + list(self.scope.funcs), n=1)
        hint = f"did you mean {close[0]}(...)? " if close else ""
        hint += (f"define it first (`{n}(t) := ...`), or for a product of {n} and (...) "
                 f"declare `{n}` or write a space: `{n} (...)`")
        raise self.error("name", f"unknown function '{n}'", (node.start, node.extra[0]), hint)

    def user_call(self, node, n: str, order: int = 0):
        """f(x), or with ``order`` primes its derivative f'(x), f''(x), ..."""
        if len(node.kids) != 1:
            raise self.error("name", f"{n} takes one argument, not {len(node.kids)}", node)
        f = self.scope.funcs[n]
        self.funcs.setdefault(n, None)
        self.events.append(("func", n))
        p = self.infer(node.kids[0])
        body = f.body
        if order:
            from ..usersym import derivative_text
            for _ in range(order):
                body = derivative_text(f.param, body)
        return P("func", [n + "'" * order, p, (f.param, body)], p.shape, node)

    def dim_arg(self, node, fname):
        if isinstance(node, Name) and not node.paren:
            self.scope.add_dim(node.val)
            return node.val
        if isinstance(node, Number) and node.val.denominator == 1 and node.val > 0:
            return int(node.val)
        if (isinstance(node, Chain) and not node.paren and all(op[0] == "mul" for op in node.val[1:])
                and all(isinstance(k, (Name, Number)) and not k.paren for k in node.kids)):
            d = 1  # a product of dimensions: ones(m*n)
            for k in node.kids:
                d = dim_product(d, self.dim_arg(k, fname))
            return d
        raise self.error("syntax", f"{fname}(...) takes dimensions: names or positive integers", node,
                         f"e.g. {fname}(n)" + (f", {fname}(n, m)" if fname != "eye" else ""))

    def builtin(self, node):
        n = node.val
        args = node.kids
        lo, hi = arity(n)
        if not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} or {hi}"
            raise self.error("syntax", f"{n} takes {want} argument{'s' if hi > 1 else ''}, "
                                       f"not {len(args)}", node)
        if n == "log":
            a = args[0]
            if isinstance(a, Call) and a.val == "det" and len(a.kids) == 1:
                p = self.infer(a.kids[0])
                self.square(p, a, "logdet")
                return P("logdet", [p], SCALAR, node)
        if n in ELEMENTWISE:
            p = self.infer(args[0])
            return P("func", [n, p], p.shape, node)
        op = STRUCTURE[n]
        return SHAPE_RULES[op.shape](self, op, args, node)

    # the shape rules that built-ins declare (their blocks in ops/), by name
    def _size_square(self, op, args, node):
        d = self.dim_arg(args[0], op.name)
        return P("id", [d], (d, d), node)

    def _sizes_commutation(self, op, args, node):
        m, k = self.dim_arg(args[0], op.name), self.dim_arg(args[1], op.name)
        d = dim_product(m, k)
        return P("comm", [m, k], (d, d), node)

    def _sizes_matrix(self, op, args, node):
        dims = [self.dim_arg(a, op.name) for a in args]
        shape = (dims[0], dims[1] if len(dims) == 2 else 1)
        return P(op.name, [shape], shape, node)

    def _kron(self, op, args, node):
        a, b = self.infer(args[0]), self.infer(args[1])
        ls, rs = a.shape, b.shape
        return P("kron", [a, b], (dim_product(ls[0], rs[0]), dim_product(ls[1], rs[1])), node)

    def _inverse(self, op, args, node):
        return self.inverse(self.infer(args[0]), node)

    def _square_scalar(self, op, args, node):
        p = self.infer(args[0])
        self.square(p, node, op.noun)
        return P(op.name, [p], SCALAR, node)

    def _square_column(self, op, args, node):
        p = self.infer(args[0])
        self.square(p, node, op.noun)
        return P(op.name, [p], (p.shape[0], 1), node)

    def _square_square(self, op, args, node):
        p = self.infer(args[0])
        self.square(p, node, op.noun)
        return P(op.name, [p], p.shape, node)

    def _transposed(self, op, args, node):
        p = self.infer(args[0])
        return P(op.name, [p], (p.shape[1], p.shape[0]), node)

    def _diag(self, op, args, node):
        p = self.infer(args[0])
        if self.u.is_one(p.shape[1]):
            return P("diagM", [p], (p.shape[0], p.shape[0]), node)
        if not self.u.unify((p.shape[0], p.shape[1])):
            raise self.error("shape", f"diag needs a vector or a square matrix, but "
                                      f"{self.text(args[0])} is {self.show(p.shape)}", node)
        return P("diagV", [p], (p.shape[0], 1), node)

    def _stack(self, op, args, node):
        p = self.infer(args[0])
        return P(op.name, [p], (dim_product(p.shape[0], p.shape[1]), 1), node)

    def _unstack(self, op, args, node):
        p = self.infer(args[0])
        n, m = self.dim_arg(args[1], op.name), self.dim_arg(args[2], op.name)
        # unvec(vec(E), n, m) reads E as n x m; otherwise n*m is kept as two factors
        if p.op == "vec" and isinstance(p.args[0], P):
            self.u.unify_shapes(p.args[0].shape, (n, m))   # all or nothing
        if not self.u.unify((p.shape[1], 1), (p.shape[0], Prod(n, m))):
            raise self.error("shape", f"unvec(v, {n}, {m}) needs a column v of {n}*{m} entries, "
                                      f"but {self.text(args[0])} is {self.show(p.shape)}", node,
                             "unvec(vec(X), n, m) is X for X of shape n x m")
        return P(op.name, [p, ShapeArg((n, m))], (n, m), node)

    def _column(self, op, args, node):
        p = self.infer(args[0])
        if not self.u.unify((p.shape[1], 1)):
            raise self.error("shape", f"{op.name} needs a column vector, but {self.text(args[0])} "
                                      f"is {self.show(p.shape)}", node)
        return P(op.name, [p], p.shape if op.shape == "column -> column" else SCALAR, node)

    def _vector_scalar(self, op, args, node):
        return self.norm2(self.infer(args[0]), args[0], node)

    def _vector_norm(self, op, args, node):
        return self.pnorm(op.name, self.infer(args[0]), args[0], node)

    def _vector_vector(self, op, args, node):
        p = self.infer(args[0])
        if self.u.is_one(p.shape[1]) or self.u.is_one(p.shape[0]):
            return P(op.name, [p], p.shape, node)
        raise self.error("shape", f"{op.noun} needs a vector, but {self.text(args[0])} is "
                                  f"{self.show(p.shape)}", node)

    def pnorm(self, name, p, arg, node, noun=None):
        if self.u.is_one(p.shape[1]) or self.u.is_one(p.shape[0]):
            return P(name, [p], SCALAR, node)
        noun = noun or STRUCTURE[name].noun
        raise self.error("shape", f"{noun} needs a vector, but {self.text(arg)} "
                                  f"is {self.show(p.shape)}", node,
                         "for a matrix, ||X||_F (norm(X)) is the Frobenius norm")

    def _matrix_scalar(self, op, args, node):
        return P(op.name, [self.infer(args[0])], SCALAR, node)

    def norm2(self, p, arg, node, spectral=True):
        if self.u.is_one(p.shape[1]) or self.u.is_one(p.shape[0]):
            return P("norm2", [p], SCALAR, node)
        if spectral:   # norm2(X), ||X||_2 of a matrix: the spectral norm
            return P("sigma_max", [p], SCALAR, node)
        t = self.text(arg)
        raise self.error("shape", f"the Euclidean norm needs a vector, but {t} is {self.show(p.shape)}",
                         node, f"for a matrix write ||{t}||_2 (sigma_max({t})) for the spectral "
                               f"norm, ||{t}||_F for the Frobenius norm or ||{t}||_* for the "
                               "nuclear norm")

    def _singular(self, op, args, node):
        """The singular vectors u1, v1 and polar(X) of any X; svdvals(X), svd_u(X),
        svd_v(X) have min(n, m) columns, written for a square X or numeric sizes only."""
        p = self.infer(args[0])
        r, c = p.shape
        kind = op.shape.split("-> ")[1]
        if kind in ("left column", "right column", "matrix"):
            shape = {"left column": (r, 1), "right column": (c, 1), "matrix": p.shape}[kind]
            return P(op.name, [p], shape, node)
        rw, cw = self.u.walk(r), self.u.walk(c)
        if isinstance(rw, int) and isinstance(cw, int):
            k = min(rw, cw)
        elif self.u.unify((r, c)):
            k = r
        else:
            t, shown = self.text(args[0]), self.show(p.shape)
            what = "entries" if kind == "singular values" else "columns"
            how = (f"declare {t} square (`{t}: n x n`) or with numbers (`{t}: 5 x 3`)"
                   if isinstance(args[0], Name) else "declare its variables so that it is square "
                   "or has numeric sizes")
            raise self.error("shape", f"{op.name}({t}) has min({shown.replace('×', ', ')}) "
                                      f"{what} for {t} of {shown}, which matdiff cannot write: "
                                      f"{op.name} needs a square matrix or numeric sizes", node,
                             f"{how}; sigma_max and the nuclear norm ||.||_* take any shape")
        shape = {"singular values": (k, 1), "left factor": (r, k), "right factor": (c, k)}[kind]
        return P(op.name, [p], shape, node)

    def _norm(self, node):
        p = self.infer(node.kids[0])
        if node.val == "F":
            return P("normF", [p], SCALAR, node)
        if node.val == "*":   # ||X||_*: the nuclear norm
            return P("norm_nuc", [p], SCALAR, node)
        if node.val in NORM_SUBSCRIPTS:
            return self.pnorm(NORM_SUBSCRIPTS[node.val], p, node.kids[0], node)
        if "." in node.val:   # ||x||_1.5: p with a decimal point (the lexer's NORM_P)
            k = Fraction(node.val)
            if not 1 <= k <= 64:
                raise self.error("syntax", f"||...||_{node.val} is not a norm: p must be at least 1"
                                 if k < 1 else f"||...||_{node.val}: p is at most 64", node,
                                 "||x||_1 is the 1-norm, ||x||_p for 1 <= p <= 64 the p-norm "
                                 "(otherwise write sum(abs(x).^p)^(1/p) out)")
            if k.denominator == 1 and k <= 2:   # ||x||_1.0, ||x||_2.0
                return (self.pnorm("norm1", p, node.kids[0], node) if k == 1
                        else self.norm2(p, node.kids[0], node, spectral=True))
        else:
            k = Fraction(int(node.val)) if _integer_p(node.val) else None
        if k is not None and k <= 64:   # ||x||_3 = sum(abs(x).^3)^(1/3), read as written out
            self.pnorm("norm1", p, node.kids[0], node, f"the {node.val}-norm")   # a vector
            powers = P("epow", [P("func", ["abs", p], p.shape, node), k], p.shape, node)
            return P("pow", [P("sum", [powers], SCALAR, node), 1 / k], SCALAR, node)
        return self.norm2(p, node.kids[0], node, spectral=node.val == "2")


#: shape rule (as a built-in declares it in its block in ops/) -> how it is inferred
SHAPE_RULES = {
    "size -> square": Calls._size_square,
    "sizes -> commutation": Calls._sizes_commutation,
    "sizes -> matrix": Calls._sizes_matrix,
    "kron": Calls._kron,
    "square -> inverse": Calls._inverse,
    "square -> scalar": Calls._square_scalar,
    "square -> column": Calls._square_column,
    "square -> square": Calls._square_square,
    "matrix -> transposed": Calls._transposed,
    "vector or square -> diag": Calls._diag,
    "matrix -> column": Calls._stack,
    "column, sizes -> matrix": Calls._unstack,
    "column -> column": Calls._column,
    "column -> scalar": Calls._column,
    "vector -> scalar": Calls._vector_scalar,
    "vector -> p-norm": Calls._vector_norm,
    "vector -> vector": Calls._vector_vector,
    "matrix -> scalar": Calls._matrix_scalar,
    "matrix -> left column": Calls._singular, "matrix -> right column": Calls._singular,
    "matrix -> matrix": Calls._singular, "matrix -> singular values": Calls._singular,
    "matrix -> left factor": Calls._singular, "matrix -> right factor": Calls._singular,
}
