"""Plans: checked nodes waiting for their dimensions, and how they are built.

The first pass (``elaborate.py``) records a :class:`P` per checked node: the
constructor to call (``op``, a key of ``_BUILD``), its arguments and its shape
in dimension terms.  Once every dimension is known and named, the second pass
(:class:`Building`, iterative and memoised) makes the hash-consed expressions.
A plan whose dimensions are already known (every symbol under it declared) is
built as it is made, and the second pass takes it as it is.
"""
from __future__ import annotations

from .. import expr as E
from ..parser import MAX_DEPTH

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Optional

# ---------------------------------------------------------------------------
# Plans: checked, not yet built


class DimArg:
    __slots__ = ("d",)

    def __init__(self, d):
        self.d = d


class ShapeArg:
    __slots__ = ("s",)

    def __init__(self, s):
        self.s = s


class P:
    """A checked node waiting for its dimensions: ``op`` names the constructor.

    A plan whose operands are all built and whose dimensions are all known
    (names and numbers, as declarations give them) is built at once: ``e`` is
    its expression and ``depth`` its nesting (what :meth:`Building.build` would
    make of it), so that a problem whose symbols are all declared needs no
    second pass.  ``body``: the plan is a definition's body, whose nesting
    counts on its own line, not in the plans that use it."""

    __slots__ = ("op", "args", "shape", "node", "num", "e", "depth", "body")

    def __init__(self, op, args, shape, node=None, num=None):
        self.op = op
        self.args = args
        self.shape = shape
        self.node = node
        self.num = num
        self.e = None
        self.depth = 0
        self.body = False
        make = _BUILD.get(op)   # (None for a symbol: Elaborator.use_symbol builds it)
        if make is None:
            return
        vals = []
        d = 0
        for a in args:
            kind = type(a)
            if kind is P:
                e = a.e
                if e is None:
                    return
                vals.append(e)
                if a.depth > d and not a.body:
                    d = a.depth
            elif kind is DimArg:
                if not _known(a.d):
                    return
                vals.append(a.d)
            elif kind is ShapeArg or ((op == "ones" or op == "zeros") and kind is tuple):
                s = a.s if kind is ShapeArg else a
                if not (_known(s[0]) and _known(s[1])):
                    return
                vals.append(tuple(s))
            elif op == "id" and not _known(a):
                return
            else:
                vals.append(a)
        if d >= MAX_DEPTH:
            return   # too deep: the second pass says where
        try:
            self.e = make(*vals)
        except Exception:  # pragma: no cover - infer checked every shape; build raises it in its place
            return
        self.depth = d + 1


def _known(d) -> bool:
    """Whether a dimension is fixed: a name or a number, never a variable."""
    return type(d) is str or type(d) is int


def neg(e: E.Expr) -> E.Expr:
    """``-e``: a negated number, a Mul with its leading number negated, else -1 spliced in."""
    if isinstance(e, E.Num):
        return E.Num(-e.value)
    if isinstance(e, E.Mul):
        f = e.factors
        if isinstance(f[0], E.Num):
            if f[0].value == -1:  # --A is A
                return f[1] if len(f) == 2 else E.Mul(*f[1:])
            return E.Mul(E.Num(-f[0].value), *f[1:])
        return E.Mul(E.Num(-1), *f)
    return E.Mul(E.Num(-1), e)


_BUILD = {
    "num": E.Num, "id": E.Identity, "zeros": E.Zeros, "ones": E.Ones, "neg": neg,
    "add": E.Add, "bcast": E.Broadcast, "mul": E.Mul, "had": E.Hadamard, "div": E.Div,
    "ediv": E.EDiv, "kron": E.Kron, "T": E.Transpose, "inv": E.Inverse, "tr": E.Trace,
    "det": E.Det, "logdet": E.LogDet, "sum": E.Sum, "norm2": E.Norm2, "normF": E.NormF, "norm": E.NormF,
    "diagM": E.DiagM, "diagV": E.DiagV, "vec": E.Vec, "unvec": E.Unvec, "softmax": E.Softmax,
    "logsumexp": E.LogSumExp, "pow": E.Power, "epow": E.EPow, "func": E.Func,
    "comm": E.Commutation, "norm1": E.Norm1, "norm_inf": E.NormInf, "onehot_max": E.OneHotMax,
    "lambda_max": E.LambdaMax, "lambda_min": E.LambdaMin,
    "eigvals": E.EigVals, "eigvecs": E.EigVecs, "pinv": E.Pinv,
    "eigvec_max": E.EigVecMax, "eigvec_min": E.EigVecMin, "leftvec_max": E.LeftVecMax,
    "leftvec_min": E.LeftVecMin,
    "sigma_max": E.SigmaMax, "svec_left_max": E.SVecLeftMax, "svec_right_max": E.SVecRightMax,
    "svdvals": E.SvdVals, "svd_u": E.SvdU, "svd_v": E.SvdV, "norm_nuc": E.NormNuc, "polar": E.Polar,
}


class Building:
    """The elaborator's second pass: plans -> expressions (a part of :class:`Elaborator`)."""

    def _definition_ids(self) -> set:
        """{id(d.ir)} of the definitions reached, kept between builds (a document builds
        every definition: rebuilding the set each time was quadratic in their number)."""
        cached = getattr(self, "_def_ids", None)
        if cached is None or cached[0] != len(self.reached):
            cached = self._def_ids = (len(self.reached), {id(d.ir) for d in self.reached})
        return cached[1]

    def build(self, root: P, names: dict, memo: Optional[dict] = None) -> E.Expr:
        """The expression of a plan, every dimension named (iterative, memoised)."""
        if root.e is not None:
            return root.e
        memo = {} if memo is None else memo
        depth = getattr(self, "_depth", None)
        if depth is None:
            depth = self._depth = {}
        u = self.u
        symbols = self.scope.symbols
        # a definition is a name: the nesting of its body counts on its own line,
        # not again in every expression that uses it (h_L = tanh(W_L h_{L-1}), ...)
        definitions = self._definition_ids() if self.reached else ()
        stack = [root]   # a plan stays on it until its children are built
        while stack:
            p = stack[-1]
            if id(p) in memo:
                stack.pop()
                continue
            if p.e is not None:   # built as it was checked
                stack.pop()
                memo[id(p)] = (p.e, p)
                depth[id(p)] = p.depth
                continue
            op = p.op
            if op == "sym":   # a leaf, built at once (most plans are symbols)
                stack.pop()
                name = p.args[0]
                info = symbols[name]
                rows, cols = info.shape   # a name or a number is itself
                if not (type(rows) is str or type(rows) is int):
                    rows = u.resolve(rows, names)
                if not (type(cols) is str or type(cols) is int):
                    cols = u.resolve(cols, names)
                memo[id(p)] = (E.Sym(name, (rows, cols), info.props), p)
                depth[id(p)] = 1
                continue
            waiting = False
            for a in p.args:
                if type(a) is P and id(a) not in memo:
                    stack.append(a)   # built before p, the last one first
                    waiting = True
            if waiting:
                continue
            stack.pop()
            args = []
            d = 0   # the depth of the deepest child, a definition's body counting 0
            for a in p.args:
                kind = type(a)
                if kind is P:
                    k = id(a)
                    args.append(memo[k][0])
                    if depth[k] > d and k not in definitions:
                        d = depth[k]
                elif kind is DimArg:
                    args.append(u.resolve(a.d, names))
                elif kind is ShapeArg:
                    args.append(tuple([u.resolve(x, names) for x in a.s]))
                elif (op == "ones" or op == "zeros") and kind is tuple:
                    args.append(tuple([u.resolve(x, names) for x in a]))
                elif op == "id":
                    args.append(u.resolve(a, names))
                else:
                    args.append(a)
            d += 1
            if d > MAX_DEPTH:
                node = p.node or self._first_node(p)
                raise self.error("syntax", f"the expression is nested too deeply "
                                           f"(more than {MAX_DEPTH} levels)",
                                 node if node is not None else self.span,
                                 "split it with definitions (h = ...) on separate lines")
            try:
                e = _BUILD[op](*args)
            except E.ShapeMismatch as exc:  # pragma: no cover - infer checked every shape
                raise self.error("shape", str(exc), p.node if p.node is not None else self.span)
            memo[id(p)] = (e, p)  # keep p alive so that its id stays unique
            depth[id(p)] = d
        return memo[id(root)][0]

    def _first_node(self, p):
        stack = [p]
        while stack:
            q = stack.pop()
            if q.node is not None:
                return q.node
            stack.extend(a for a in q.args if isinstance(a, P))
        return None

    def finish(self, root: P, memo=None):
        """Name the unknown dimensions and build: (expression, names)."""
        u = self.u
        if u.pending:
            u.settle()
        names = {}
        for d in self.dims:
            if not (type(d) is str or type(d) is int):   # a variable: most problems have none
                names = u.name_vars(self.dims, self.taken())
                break
        return self.build(root, names, memo), names

