"""A NumPy expression for an expression (SPEC §3.1, the JSON ``numpy`` field).

The string evaluates with only ``np``, Python's builtins and the problem's
variables in scope: matrices are 2-D arrays, vectors (n, 1) columns, scalars
floats or size-1 arrays.  So:

* a product step is ``@`` between two non-scalar operands and ``*`` when either
  side is 1x1; ``@`` and ``*`` share one Python level and associate to the
  left, as matdiff's product chains do, so ``A @ x * s`` needs no brackets;
* dimensions are not in scope: ``np.eye(X.shape[0])``, read off a variable (or
  the direction ``dX``) that has the dimension; ValueError if none has it;
* a variable whose name Python cannot use as is (a keyword, a module alias
  such as ``np``) gets trailing underscores (``lambda_``, ``np_``);
  ``Diff(X)`` is the direction ``dX`` (``d_X`` when ``dX`` is a variable), and
  names bound inside never shadow a variable (:mod:`matdiff_cli.names`);
* ``names`` (definitions, shared subexpressions) are bound by lambdas,
  dependencies outermost: ``(lambda h1: A @ h1)(np.tanh(W1 @ x))``.  Beyond
  ``MAX_LAMBDAS`` names (Python limits bracket nesting to 200) they are bound
  flat with assignment expressions, ``(h1 := ..., h2 := ..., body)[-1]``;
* rules for 1x1 operands avoid calls that need a 2-D array (``tr(s)`` is
  ``s``, ``s^T`` is ``s``), so a scalar may be a float or a (1, 1) array.

Evaluate the code with one namespace, ``eval(code, {"np": np, **variables})``
(variables under their Python names, the reports' ``python_names``): the
lambdas it contains (names, operators, softmax) see globals only, and the code
calls no builtin (a variable may be called ``abs``).

Before it is written the tree is planned (:mod:`.plan`): products ordered
by their shapes (``np.linalg.multi_dot`` where the sizes decide), scalars on
the smallest operand, sums distributed over vectors, stable forms of
softplus, sigmoid, logsumexp and softmax; the rules then write ``inv(A) B``
as ``np.linalg.solve(A, B)``, ``diag(v) X`` as ``v * X``, ``tr(P Q)`` as
``np.sum(P * Q.T)`` and ``||r||^2`` as ``np.vdot(r, r)``.

Numerically, ``logdet(a)`` is ``log(sign) + log|det a|`` from ``slogdet``
(for a declared spd variable, twice the log-sum of its Cholesky diagonal):
finite where det overflows, NaN where ``det(a) < 0`` (-inf where it is 0),
outside the function's domain.
User functions ``f(t) := body`` are translated through SymPy (the body is
parsed by SymPy, see :mod:`matdiff_cli.usersym`); a constant body is
broadcast to its argument's shape.

The rules write through a :class:`Target`, a small table of how NumPy,
``jax.numpy`` and PyTorch spell each operation, so ``matdiff code`` renders
the same tree for each library (never by editing NumPy text).
"""
from __future__ import annotations

from functools import singledispatch

from ..errors import MatdiffError
from ..expr import (
    SCALAR, Add, Broadcast, Commutation, Det, DiagM, DiagV, Diff, Div, EDiv, EPow, Expr,
    Func, Hadamard, Identity, Inverse, Kron, LogDet, LogSumExp, Mul, Norm2, NormF, Num,
    Ones, Power, Softmax, Sum, Sym, Trace, Transpose, Unvec, Vec, Zeros, walk,
    EigVecMax, EigVecMin, LambdaMax, LambdaMin, LeftVecMax, LeftVecMin, Norm1,
    NormInf, OneHotMax,
    NormNuc, Polar, SigmaMax, SVecLeftMax, SVecRightMax, SvdU, SvdV, SvdVals,
)
from ..expr import EigVals, EigVecs, Pinv
from ..build import symmetric
from . import Context, Deferred, Doc, flatten, paren, render_dag
from ..names import AVOID, python_safe
from ..ops import ELEMENTWISE
from ..ops.base import template_parts
from .text import decimal

# Python's precedence, loosest to tightest
LAMBDA, ADD, MUL, NEG, POW, ATOM = 0, 10, 11, 12, 13, 14
MAX_LAMBDAS = 40


def py_name(name: str) -> str:
    """A lone name's Python name: keywords get a trailing underscore (``lambda_``)."""
    from ..names import py_name as name_of

    return name_of(name)


# --------------------------------------------------------------------------- targets

class Target:
    """How a library spells what the rules write: NumPy here, subclasses for
    ``jax.numpy`` and PyTorch.  ``m`` is the module's name in the code."""

    name = "numpy"
    module = "np"
    prelude = "import numpy as np"

    def __init__(self):
        self.m = self.module
        self.dtype = None          # PyTorch: the local that holds the inputs' dtype
        self.uses_dtype = False

    def fn(self, name: str) -> str:
        return f"{self.m}.{name}"

    def eye(self, n: str) -> str:
        return f"{self.m}.eye({n})"

    def zeros(self, shape: str) -> str:
        return f"{self.m}.zeros({shape})"

    def ones(self, shape: str) -> str:
        return f"{self.m}.ones({shape})"

    def commutation(self, m: str, n: str) -> str:
        """K(m,n) vec(A) = vec(A^T): row j + i n of K is row i + j m of I."""
        return f"{self.eye(f'{m} * {n}')}[{self.m}.arange({m} * {n}).reshape({n}, {m}).T.ravel()]"




    def vec(self, a: Doc) -> Doc:
        return Doc(ATOM, (at_least(a, ATOM), '.reshape(-1, 1, order="F")'))

    def unvec(self, a: Doc, n: str, m: str) -> Doc:
        return Doc(ATOM, (at_least(a, ATOM), f'.reshape(({n}, {m}), order="F")'))

    def reshape11(self, a: Doc) -> Doc:
        return call(self.fn("reshape"), a, "(1, 1)")

    def full(self, a: Doc, value: str) -> Doc:
        """An array of a's shape, every entry value."""
        return call(self.fn("full"), call(self.fn("shape"), a), value)

    def number(self, a: Doc) -> Doc:
        """A plain number as an argument of a function (PyTorch wants a tensor)."""
        return a

    def softmax(self) -> str:
        """Shifted by the maximum: no overflow; u and exp(u - max) computed once."""
        m = self.m
        return f"(lambda u: (lambda e: e / {m}.sum(e))({m}.exp(u - {m}.max(u))))"

    def logsumexp(self) -> str:
        m = self.m
        return f"(lambda u: (lambda c: c + {m}.log({m}.sum({m}.exp(u - c))))({m}.max(u)))"

    def transpose(self, a: Doc) -> Doc:
        return Doc(ATOM, (at_least(a, ATOM), ".T"))

    def sumsq(self, a: Doc, name: bool) -> Doc:
        """The sum of the squares of a's entries (a written twice only if a name)."""
        if name:
            return call(self.fn("vdot"), a, a)
        return Doc(ATOM, (f"(lambda u: {self.fn('vdot')}(u, u))(", a, ")"))

    def inverse(self, a: Doc, spd: bool) -> Doc:
        """a^-1 (NumPy: LU whatever a is; without triangular solves a Cholesky
        inverse costs more, 480 against 280 ms at n = 1000)."""
        return call(self.fn("linalg.inv"), a)

    def solve(self, a: Doc, b: Doc, spd: bool) -> Doc:
        """a^-1 b without the inverse."""
        return call(self.fn("linalg.solve"), a, b)

    def logdet(self, a: Doc, spd: bool) -> Doc:
        """log(det a) from one factorisation: Cholesky for a declared spd
        matrix, else slogdet (log(sign) is NaN for det < 0, -inf for 0)."""
        m = self.m
        if spd:
            chol = call(self.fn("linalg.cholesky"), a)
            return Doc(MUL, ("2 * ", call(self.fn("sum"), call(self.fn("log"),
                                                            call(self.fn("diag"), chol)))))
        return Doc(ATOM, (f"(lambda s: {m}.log(s[0]) + s[1])(",
                          call(self.fn("linalg.slogdet"), a), ")"))


class JaxTarget(Target):
    name = "jax"
    module = "jnp"
    prelude = "import jax.numpy as jnp"

    def vec(self, a: Doc) -> Doc:
        return Doc(ATOM, (at_least(a, ATOM), ".T.reshape(-1, 1)"))

    def unvec(self, a: Doc, n: str, m: str) -> Doc:
        return Doc(ATOM, (at_least(a, ATOM), f".reshape({m}, {n}).T"))


class TorchTarget(Target):
    """PyTorch: new tensors take the inputs' dtype (the local ``self.dtype``)."""

    name = "torch"
    module = "torch"
    prelude = "import torch"

    def _dtype(self) -> str:
        self.uses_dtype = True
        return self.dtype or "torch.get_default_dtype()"

    def eye(self, n):
        return f"torch.eye({n}, dtype={self._dtype()})"

    def zeros(self, shape):
        return f"torch.zeros({shape}, dtype={self._dtype()})"

    def ones(self, shape):
        return f"torch.ones({shape}, dtype={self._dtype()})"

    def commutation(self, m, n):
        return f"{self.eye(f'{m} * {n}')}[torch.arange({m} * {n}).reshape({n}, {m}).T.reshape(-1)]"




    def vec(self, a):
        return Doc(ATOM, (at_least(a, ATOM), ".T.reshape(-1, 1)"))

    def unvec(self, a, n, m):
        return Doc(ATOM, (at_least(a, ATOM), f".reshape({m}, {n}).T"))

    def reshape11(self, a):
        return Doc(ATOM, (call("torch.as_tensor", a), ".reshape(1, 1)"))

    def full(self, a, value):
        return call("torch.full_like", call("torch.as_tensor", a), value)

    def number(self, a):
        return call("torch.as_tensor", a, f"dtype={self._dtype()}")

    def transpose(self, a):
        """``t()``: a matrix's transpose, and a 1-D tensor as it is (``.T``
        on a 1-D tensor is deprecated)."""
        return Doc(ATOM, (at_least(a, ATOM), ".t()"))

    def inverse(self, a, spd):
        """A declared spd matrix through its Cholesky factor (about twice as
        fast as ``torch.linalg.inv`` at n = 1000, one thread)."""
        if spd:
            return call("torch.cholesky_inverse", call("torch.linalg.cholesky", a))
        return call("torch.linalg.inv", a)

    def solve(self, a, b, spd):
        if spd:
            return call("torch.cholesky_solve", b, call("torch.linalg.cholesky", a))
        return call("torch.linalg.solve", a, b)

    def sumsq(self, a, name):
        if name:
            return call("torch.sum", Doc(MUL, (at_least(a, MUL), " * ", at_least(a, NEG))))
        return Doc(ATOM, ("(lambda u: torch.sum(u * u))(", a, ")"))


TARGETS = {"numpy": Target, "jax": JaxTarget, "torch": TorchTarget}


# --------------------------------------------------------------------------- context

class NumpyContext(Context):
    """Renders with a table of dimension -> Python expression (``X.shape[0]``),
    the names of the output (:class:`matdiff_cli.names.Names`) and a target."""

    def __init__(self, names, dims: dict, naming=None, target: Target | None = None):
        super().__init__(names)
        self.dims = dims
        self.naming = naming if naming is not None else naming_for([], names)
        self.lib = target if target is not None else Target()
        self.ordered = False  # products planned (render/plan.py): multi_dot, solve, broadcasting

    def py(self, name: str) -> str:
        return self.naming.python(name)

    def direction(self, sym) -> str:
        return self.naming.python(self.naming.direction(sym))

    def name_doc(self, node, name):
        return Doc(ATOM, (self.py(name),))

    def dim(self, d) -> str:
        """A Python expression for dimension d; ValueError if no variable has it."""
        if isinstance(d, int):
            return str(d)
        if d in self.dims:
            return self.dims[d]
        if "*" in d:
            return "(" + " * ".join(self.dim(p.strip()) for p in d.split("*")) + ")"
        raise NoNumpyCode(
            "unsupported", f"the NumPy code needs the size of the dimension {d}, which no "
            "variable of the problem carries",
            hint=f"declare a variable with the dimension {d}, or write the size as a number")

    def shape(self, shape) -> str:
        return f"({self.dim(shape[0])}, {self.dim(shape[1])})"


def naming_for(nodes, names=None, bound=()):
    """The names of an output made of nodes (and the extra symbols bound), when
    the caller has no problem-wide :class:`Names`."""
    from ..names import Names, dimension_names

    syms, user = [], set((names or {}).values())
    for n in list(nodes) + list(bound):
        s = n.sym if isinstance(n, Diff) else n
        if isinstance(s, Sym) and s.name not in user:
            syms.append(s)
            user.add(s.name)
            user |= dimension_names(s.shape)
    return Names(user, syms)


def dimension_table(nodes, bound=(), naming=None) -> dict:
    """dimension -> ``var.shape[i]`` from the variables and directions among
    nodes (first first), then from the extra symbols ``bound``."""
    if naming is None:
        naming = naming_for(nodes, None, bound)
    table: dict = {}
    directions = [n.sym for n in nodes if isinstance(n, Diff)]  # prefer dX to the X of dX
    sources = [n for n in nodes if isinstance(n, Diff) or (isinstance(n, Sym) and n not in directions)]
    sources += directions + list(bound)
    for s in sources:
        if isinstance(s, Sym):
            var = naming.python(s.name)
        elif isinstance(s.sym, Sym):
            var = naming.python(naming.direction(s.sym))
        else:
            continue
        for i, d in enumerate(s.shape):
            if isinstance(d, str) and d not in table:
                table[d] = f"{var}.shape[{i}]"
    return table


class NoNumpyCode(MatdiffError, ValueError):
    """An expression NumPy code cannot be written for (a dimension not in scope)."""


def numpy_or_none(fn, *args, **kwargs):
    """(code, None), or (None, the reason) when no NumPy code can be written."""
    try:
        return fn(*args, **kwargs), None
    except NoNumpyCode as e:
        return None, e.message


# --------------------------------------------------------------------------- entry points

def planned(roots, names: dict, share: bool = False, common: bool = False):
    """(roots, names) rewritten for fast, stable code (:mod:`.plan`); the names
    follow their nodes."""
    from .plan import plan

    roots, new = plan(roots, names, share, common)
    out: dict = {}
    for k, v in names.items():
        out.setdefault(new.get(k, k), v)
    return roots, out, new


def to_numpy(expr: Expr, names: dict | None = None, bound=None, naming=None,
             target: Target | None = None, free=(), plan: bool = True) -> str:
    """A Python/NumPy expression for expr.

    ``names``: nodes written as names, bound inside the expression; ``bound``:
    extra symbols (``Sym`` or ``Diff`` nodes) in scope where the code runs,
    searched for dimensions after those of expr; ``naming``: the problem's
    :class:`matdiff_cli.names.Names` (else made from the names seen here);
    ``free``: nodes of names already bound where the code runs (not bound again);
    ``plan``: rewrite the tree for speed and stability first (False: it is).
    """
    names = dict(names or {})
    if plan:
        (expr,), names, new = planned([expr], names)
        free = {new.get(n, n) for n in free}
    nodes = list(walk(expr))
    _name_deep_pieces(nodes, names, expr)
    if naming is None:
        naming = naming_for(nodes, names, bound or ())
    dims = dimension_table(nodes, bound or (), naming)
    used = [n for n in nodes if n in names and n is not expr and n not in free] if names else []
    py = naming.python

    def write(root):
        cx = NumpyContext(names, dims, naming, target)
        cx.ordered = True
        return flatten(render_dag(root, rule, cx))

    body = write(expr)
    if not used:
        return body
    if len(used) > MAX_LAMBDAS:
        binds = ", ".join(f"{py(names[n])} := {write(n)}" for n in used)
        return f"({binds}, {body})[-1]"
    for node in reversed(used):
        body = f"(lambda {py(names[node])}: {body})({write(node)})"
    return body


# Python rejects code nested more than 200 brackets deep: a piece nested deeper than
# this many brackets is bound to a name of its own (_p1, _p2, ...), so the code for
# 90 nested sigmoids is a chain of short bindings, not 270 nested brackets.
MAX_BRACKETS = 96
BRACKETS_PER_NODE = 4    # at most this many brackets per node (sigmoid writes 3)


def _name_deep_pieces(nodes: list, names: dict, root: Expr) -> None:
    """Add names for pieces whose code would nest too deep (nodes: children first)."""
    depth: dict = {}
    k = 0
    for node in nodes:
        d = BRACKETS_PER_NODE + max((0 if c in names else depth[c] for c in node.children),
                                    default=0)
        if d > MAX_BRACKETS and node is not root:
            k += 1
            names[node] = f"_p{k}"
            d = 0
        depth[node] = d


def to_numpy_operator(expr: Expr, direction: Sym, names: dict | None = None, bound=None,
                      naming=None) -> str:
    """A linear operator L[dX] as ``lambda dX: ...`` (dX is ``Diff(direction)``)."""
    extra = [Diff(direction), direction] + list(bound or ())
    if naming is None:
        naming = naming_for(list(walk(expr)), names, extra)
    dname = naming.python(naming.direction(direction))
    return f"lambda {dname}: {to_numpy(expr, names, extra, naming)}"


# --------------------------------------------------------------------------- helpers

def at_least(d: Doc, level: int) -> Doc:
    return d if d.level >= level else paren(d, ATOM)


def call(fn: str, *args, node=None) -> Doc:
    parts = [fn, "("]
    for i, a in enumerate(args):
        parts += [", ", a] if i else [a]
    parts.append(")")
    return Doc(ATOM, parts, node)


def number(v) -> Doc:
    """A non-negative number: ``2``, ``0.5``, ``1/3``."""
    if v.denominator == 1:
        return Doc(ATOM, (str(v.numerator),))
    d = decimal(v)
    if d is not None:
        return Doc(ATOM, (d,))
    return Doc(MUL, (f"{v.numerator}/{v.denominator}",))


def exponent(p) -> str:
    """A power: integers >= 0 stay integers, others are floats (no int**-1 error)."""
    if p.denominator == 1 and p >= 0:
        return str(p.numerator)
    if p.denominator == 1:
        return f"{p.numerator}.0"
    d = decimal(abs(p))
    if d is not None:
        return ("-" if p < 0 else "") + d
    return f"({p.numerator}/{p.denominator})"


def tensor(cx, node: Expr, d: Doc) -> Doc:
    """d as a function's argument: PyTorch wants a tensor where node is a
    constant (no variable or direction in it), NumPy takes the number."""
    if cx.lib.name != "torch" or any(isinstance(n, (Sym, Diff)) for n in walk(node)):
        return d
    return cx.lib.number(d)


def is_scalar(node: Expr) -> bool:
    return node.shape == SCALAR


def is_plain(cx, node, cls) -> bool:
    return isinstance(node, cls) and cx[node].node is node


# --------------------------------------------------------------------------- rules

@singledispatch
def rule(node: Expr, cx) -> Doc:
    raise NotImplementedError(f"no NumPy rule for {type(node).__name__}")


@rule.register
def _sym(node: Sym, cx) -> Doc:
    return Doc(ATOM, (cx.py(node.name),), node)


@rule.register
def _num(node: Num, cx) -> Doc:
    v = node.value
    if v >= 0:
        d = number(v)
        return Doc(d.level, d.parts, node)
    body = number(-v)
    return Doc(min(NEG, body.level), ("-", body), node, neg=body)


@rule.register
def _identity(node: Identity, cx) -> Doc:
    return Doc(ATOM, (cx.lib.eye(cx.dim(node.n)),), node)


@rule.register
def _zeros(node: Zeros, cx) -> Doc:
    return Doc(ATOM, (cx.lib.zeros(cx.shape(node.shape)),), node)


@rule.register
def _ones(node: Ones, cx) -> Doc:
    return Doc(ATOM, (cx.lib.ones(cx.shape(node.shape)),), node)


@rule.register
def _diff(node: Diff, cx) -> Doc:
    return Doc(ATOM, (cx.direction(node.sym),), node)


@rule.register
def _commutation(node: Commutation, cx) -> Doc:
    """K(m,n) vec(A) = vec(A^T): row j + i n of K is row i + j m of I."""
    m, n = (cx.dim(d) for d in node.args)
    return Doc(ATOM, (cx.lib.commutation(m, n),), node)


@rule.register
def _add(node: Add, cx) -> Doc:
    """``a + b - c``; a broadcast scalar term is left to NumPy's broadcasting."""
    get = cx.docs.__getitem__
    bare = any(not is_plain(cx, t, Broadcast) for t in node.terms)
    docs = [get(t.args[0]) if bare and is_plain(cx, t, Broadcast) else get(t) for t in node.terms]
    parts = [at_least(docs[0], ADD)]
    for d in docs[1:]:
        if d.neg is not None:
            parts += [" - ", at_least(d.neg, MUL)]
        else:
            parts += [" + ", at_least(d, MUL)]
    return Doc(ADD, parts, node)


def chain(cx, factors, start_shape=None) -> list:
    """Parts of ``f1 op f2 op ...``: ``@`` between non-scalars, else ``*``."""
    docs = [cx[f] for f in factors]
    shape = start_shape
    parts = []
    for f, d in zip(factors, docs):
        if shape is None:
            parts.append(at_least(d, MUL))
            shape = f.shape
            continue
        op = " * " if SCALAR in (shape, f.shape) else " @ "
        parts += [op, at_least(d, NEG)]
        shape = f.shape if shape == SCALAR else (shape if f.shape == SCALAR else (shape[0], f.shape[1]))
    return parts


def _ordered_product(node: Mul, cx):
    """A planned product (render/plan.py) of non-scalar factors: three or more
    are ``multi_dot`` (ordered at run time); ``diag(v) B`` is ``v * B``, ``A
    diag(v)`` is ``A * v.T``; ``inv(A) B`` is ``solve(A, B)`` and ``B inv(A)``
    is ``solve(A.T, B.T).T``.  None for any other product."""
    f = node.factors
    if not cx.ordered or any(is_scalar(x) for x in f):
        return None
    lib = cx.lib
    if len(f) >= 3:
        items = ["["]
        for i, x in enumerate(f):
            items += [", ", cx[x]] if i else [cx[x]]
        return call(lib.fn("linalg.multi_dot"), Doc(ATOM, items + ["]"]), node=node)
    a, b = f
    if is_plain(cx, a, DiagM):
        return Doc(MUL, (at_least(cx[a.a], MUL), " * ", at_least(cx[b], NEG)), node)
    if is_plain(cx, b, DiagM):
        return Doc(MUL, (at_least(cx[a], MUL), " * ", lib.transpose(cx[b.a])), node)
    if is_plain(cx, a, Inverse):
        d = lib.solve(cx[a.a], cx[b], _spd(a.a))
        return Doc(ATOM, d.parts, node)
    if is_plain(cx, b, Inverse):
        spd = _spd(b.a)  # an spd matrix is its own transpose
        solved = lib.solve(cx[b.a] if spd else lib.transpose(cx[b.a]), lib.transpose(cx[a]), spd)
        return Doc(ATOM, lib.transpose(solved).parts, node)
    if lib.name == "jax" and is_plain(cx, a, Transpose) and b.shape[1] == 1:
        # XLA on CPU copies A to transpose it for A.T @ v (14x slower at 4000 x 2000)
        row = Doc(MUL, (at_least(lib.transpose(cx[b]), MUL), " @ ", at_least(cx[a.a], NEG)))
        return Doc(ATOM, lib.transpose(row).parts, node)
    return None


@rule.register
def _mul(node: Mul, cx) -> Doc:
    """Left to right, as matdiff reads products; ``-x @ y`` for a -1 coefficient."""
    fast = _ordered_product(node, cx)
    if fast is not None:
        return fast
    first = node.factors[0]
    if not (isinstance(first, Num) and first.value < 0 and cx[first].node is first):
        return Doc(MUL, chain(cx, node.factors), node)
    c, rest = -first.value, node.factors[1:]
    if c == 1:
        head = at_least(cx[rest[0]], POW)
        tail = chain(cx, rest[1:], rest[0].shape)
        body = Doc(MUL, chain(cx, rest)) if tail else cx[rest[0]]
        return Doc(MUL if tail else NEG, ["-", head] + tail, node, neg=body)
    body = Doc(MUL, [number(c)] + chain(cx, rest, SCALAR))
    return Doc(MUL, ["-", body], node, neg=body)


@rule.register
def _hadamard(node: Hadamard, cx) -> Doc:
    docs = [cx[f] for f in node.factors]
    parts = [at_least(docs[0], MUL)]
    for d in docs[1:]:
        parts += [" * ", at_least(d, NEG)]
    return Doc(MUL, parts, node)


def _divide(node, cx) -> Doc:
    a, c = cx[node.args[0]], cx[node.args[1]]
    return Doc(MUL, (at_least(a, MUL), " / ", at_least(c, NEG)), node)


rule.register(Div, _divide)
rule.register(EDiv, _divide)


@rule.register
def _kron(node: Kron, cx) -> Doc:
    a, c = (tensor(cx, e, cx[e]) for e in node.args)
    return call(cx.lib.fn("kron"), a, c, node=node)


@rule.register
def _broadcast(node: Broadcast, cx) -> Doc:
    """Outside a sum: ``s * np.ones((r, c))`` (an unknown dimension raises only if used)."""
    try:
        ones = cx.lib.ones(cx.shape(node.shape))
    except ValueError as e:
        ones = Deferred(e)
    s = cx[node.args[0]]
    neg = None if s.neg is None else Doc(MUL, (at_least(s.neg, MUL), " * ", ones))
    return Doc(MUL, (at_least(s, MUL), " * ", ones), node, neg=neg)


@rule.register
def _transpose(node: Transpose, cx) -> Doc:
    d = cx[node.a]
    if is_scalar(node):
        return Doc(d.level, d.parts, node, neg=d.neg)
    if is_plain(cx, node.a, (SVecRightMax, SvdV)) and not is_scalar(node.a.a):   # Vh itself
        svd = call(cx.lib.fn("linalg.svd"), cx[node.a.a], "full_matrices=False")
        return Doc(ATOM, (svd, _SVD_PARTS[type(node.a)][0]), node)
    return Doc(ATOM, cx.lib.transpose(d).parts, node)


def _spd(node) -> bool:
    """A variable declared spd (Cholesky applies)."""
    return isinstance(node, Sym) and node.has("spd")


@rule.register
def _inverse(node: Inverse, cx) -> Doc:
    d = cx[node.a]
    if is_scalar(node):
        return Doc(MUL, ("1 / ", at_least(d, NEG)), node)
    return Doc(ATOM, cx.lib.inverse(d, _spd(node.a)).parts, node)


@rule.register
def _power(node: Power, cx) -> Doc:
    d = cx[node.base]
    b = node.base
    if (cx.ordered and node.p == 2 and is_plain(cx, b, (Norm2, NormF))
            and not is_scalar(b.a)):  # ||a||^2 as a dot product: no square root
        return Doc(ATOM, cx.lib.sumsq(cx[b.a], isinstance(b.a, Sym) or cx[b.a].node is None).parts,
                   node)
    if is_scalar(node):
        return Doc(POW, (at_least(d, ATOM), " ** ", exponent(node.p)), node)
    return call(cx.lib.fn("linalg.matrix_power"), d, str(node.p.numerator), node=node)


@rule.register
def _epow(node: EPow, cx) -> Doc:
    return Doc(POW, (at_least(cx[node.base], ATOM), " ** ", exponent(node.p)), node)


def _scalar_or(fn: str, scalar=None):
    """A rule ``fn(a)``; for a 1x1 operand ``scalar(a)`` (default: a itself)."""
    def rule_(node, cx) -> Doc:
        d = cx[node.a]
        if is_scalar(node.a):
            if scalar is None:
                return Doc(d.level, d.parts, node, neg=d.neg)
            d = tensor(cx, node.a, d)
            return call(cx.lib.fn(scalar), d, node=node)
        return call(cx.lib.fn(fn), d, node=node)
    return rule_


_trace_dense = _scalar_or("trace")


@rule.register
def _trace(node: Trace, cx) -> Doc:
    """tr(P Q) of a planned product is ``sum(P * Q.T)``: O(size), no product."""
    a = node.a
    if (cx.ordered and not is_scalar(a) and is_plain(cx, a, Mul) and len(a.factors) == 2
            and not any(is_scalar(f) or is_plain(cx, f, (DiagM, Inverse)) for f in a.factors)):
        p, q = a.factors
        qt = cx[q.a] if is_plain(cx, q, Transpose) else cx.lib.transpose(cx[q])
        return call(cx.lib.fn("sum"), Doc(MUL, (at_least(cx[p], MUL), " * ", at_least(qt, NEG))),
                    node=node)
    return _trace_dense(node, cx)


rule.register(Det, _scalar_or("linalg.det"))
rule.register(Sum, _scalar_or("sum"))
rule.register(Norm2, _scalar_or("linalg.norm", "abs"))
rule.register(NormF, _scalar_or("linalg.norm", "abs"))


def _of_abs(reduce: str):
    """``reduce(abs(x))``, a norm of a vector in every library (|x| of a scalar)."""
    def render(node, cx) -> Doc:
        d = cx[node.a]
        if is_scalar(node.a):
            return call(cx.lib.fn("abs"), tensor(cx, node.a, d), node=node)
        return call(cx.lib.fn(reduce), call(cx.lib.fn("abs"), d), node=node)
    return render


rule.register(NormInf, _of_abs("max"))
rule.register(Norm1, _of_abs("sum"))


@rule.register
def _onehot_max(node: OneHotMax, cx) -> Doc:
    """``(u == u.max()) * 1.0``: 1 at the largest entry (unique where it is used)."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(ATOM, ("1.0",), node)
    return Doc(ATOM, ("(lambda u: (u == u.max()) * 1.0)(", d, ")"), node)


rule.register(DiagM, _scalar_or("diagflat"))


@rule.register
def _logdet(node: LogDet, cx) -> Doc:
    """log(det a), NaN where det a < 0, -inf where it is 0; through slogdet
    (Cholesky for a declared spd variable), so it never overflows."""
    d = cx[node.a]
    log = cx.lib.fn("log")
    if is_scalar(node.a):
        return call(log, tensor(cx, node.a, d), node=node)
    spd = isinstance(node.a, Sym) and node.a.has("spd")
    fast = cx.lib.logdet(d, spd)
    return Doc(fast.level, fast.parts, node)


@rule.register
def _diagv(node: DiagV, cx) -> Doc:
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(ATOM, (cx.lib.reshape11(d),), node)
    return Doc(ATOM, (call(cx.lib.fn("diag"), d), ".reshape(-1, 1)"), node)


@rule.register
def _vec(node: Vec, cx) -> Doc:
    """Columns stacked: column-major reshape."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(ATOM, (cx.lib.reshape11(d),), node)
    return Doc(ATOM, (cx.lib.vec(d),), node)


@rule.register
def _unvec(node: Unvec, cx) -> Doc:
    """vec's inverse: column-major reshape to (n, m)."""
    d = cx[node.a]
    if node.shape == SCALAR:
        return Doc(d.level, d.parts, node)
    n, m = (cx.dim(x) for x in node.shape)
    return Doc(ATOM, (cx.lib.unvec(d, n, m),), node)


@rule.register
def _softmax(node: Softmax, cx) -> Doc:
    return Doc(ATOM, (cx.lib.softmax(), "(", cx[node.a], ")"), node)


@rule.register
def _logsumexp(node: LogSumExp, cx) -> Doc:
    return Doc(ATOM, (cx.lib.logsumexp(), "(", cx[node.a], ")"), node)


@rule.register(LambdaMax)
@rule.register(LambdaMin)
def _lambda(node, cx) -> Doc:
    """``eigvalsh(A)[-1]`` (ascending) for a symmetric A, else the largest real part."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(d.level, d.parts, node, neg=d.neg)
    largest = isinstance(node, LambdaMax)
    if symmetric(node.a):
        return Doc(ATOM, (call(cx.lib.fn("linalg.eigvalsh"), d), "[-1]" if largest else "[0]"),
                   node)
    return Doc(ATOM, (call(cx.lib.fn("linalg.eigvals"), d), ".real.max()" if largest
                      else ".real.min()"), node)


@rule.register(EigVecMax)
@rule.register(EigVecMin)
@rule.register(LeftVecMax)
@rule.register(LeftVecMin)
def _eigvec(node, cx) -> Doc:
    """``eigh(A)[1][:, -1:]``: the unit eigenvector as a column; of a general A,
    the column of ``eig(A)`` (left: of ``eig(A^T)``) of largest / smallest real part."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(ATOM, ("1.0",), node)
    largest = isinstance(node, (EigVecMax, LeftVecMax))
    if symmetric(node.a):
        cols = "[:, -1:]" if largest else "[:, :1]"
        return Doc(ATOM, (call(cx.lib.fn("linalg.eigh"), d), "[1]" + cols), node)
    if isinstance(node, (LeftVecMax, LeftVecMin)):
        d = cx.lib.transpose(d)
    pick = cx.lib.fn("argmax" if largest else "argmin")
    return Doc(ATOM, ("(lambda w: w[1][:, ", pick, "(w[0].real)].real.reshape(-1, 1))(",
                      call(cx.lib.fn("linalg.eig"), d), ")"), node)


@rule.register
def _eigvals(node: EigVals, cx) -> Doc:
    """``eigvalsh(A).reshape(-1, 1)``: the eigenvalues ascending, a column."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(d.level, d.parts, node, neg=d.neg)
    if not symmetric(node.a):
        raise NoNumpyCode("unsupported", "the eigenvalues of a matrix not known to be "
                                         "symmetric have no NumPy code in matdiff")
    return Doc(ATOM, (call(cx.lib.fn("linalg.eigvalsh"), d), ".reshape(-1, 1)"), node)


@rule.register
def _eigvecs(node: EigVecs, cx) -> Doc:
    """``eigh(A)[1]``: the unit eigenvectors, the columns in ascending order."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(ATOM, ("1.0",), node)
    if not symmetric(node.a):
        raise NoNumpyCode("unsupported", "the eigenvectors of a matrix not known to be "
                                         "symmetric have no NumPy code in matdiff")
    return Doc(ATOM, (call(cx.lib.fn("linalg.eigh"), d), "[1]"), node)


@rule.register
def _pinv(node: Pinv, cx) -> Doc:
    """``linalg.pinv(M, rcond=1e-10)``: the Moore-Penrose pseudo-inverse, singular
    values below 1e-10 of the largest counted as 0 (as numeric.py's value: the
    default 1e-15 keeps the rounding noise of λI - A's zero eigenvalue)."""
    d = cx[node.a]
    if is_scalar(node.a):
        return Doc(MUL, ("1 / ", at_least(d, NEG)), node)
    tol = "rcond=1e-10" if cx.lib.name == "numpy" else "rtol=1e-10"
    return call(cx.lib.fn("linalg.pinv"), d, tol, node=node)
#: the pieces of the thin SVD X = U diag(s) Vh: (svd's output, then what is taken of it)
_SVD_PARTS = {SvdU: ("[0]",), SvdV: ("[2]", ".T"), SVecLeftMax: ("[0][:, :1]",),
              SVecRightMax: ("[2][:1]", ".T")}


@rule.register(SigmaMax)
@rule.register(NormNuc)
@rule.register(SvdVals)
@rule.register(SvdU)
@rule.register(SvdV)
@rule.register(SVecLeftMax)
@rule.register(SVecRightMax)
@rule.register(Polar)
def _singular(node, cx) -> Doc:
    """From ``linalg.svd(X, full_matrices=False)`` (U, s, Vh; s descending, as the
    numeric value): the singular values (``compute_uv=False``; PyTorch's
    ``svdvals``), sigma_max = s[0], the nuclear norm sum(s), U, V, u1, v1, U Vh."""
    d = cx[node.a]
    lib = cx.lib
    if is_scalar(node.a):   # x = sign(x) |x| 1
        if isinstance(node, (SVecRightMax, SvdV)):
            return Doc(ATOM, ("1.0",), node)
        fn = "abs" if isinstance(node, (SigmaMax, NormNuc, SvdVals)) else "sign"
        return call(lib.fn(fn), tensor(cx, node.a, d), node=node)
    if isinstance(node, (SigmaMax, NormNuc, SvdVals)):
        s = (call(lib.fn("linalg.svdvals"), d) if lib.name == "torch"
             else call(lib.fn("linalg.svd"), d, "compute_uv=False"))
        if isinstance(node, SigmaMax):
            return Doc(ATOM, (s, "[0]"), node)
        if isinstance(node, NormNuc):
            return call(lib.fn("sum"), s, node=node)
        return Doc(ATOM, (s, ".reshape(-1, 1)"), node)
    svd = call(lib.fn("linalg.svd"), d, "full_matrices=False")
    if isinstance(node, Polar):
        return Doc(ATOM, ("(lambda s: s[0] @ s[2])(", svd, ")"), node)
    parts = _SVD_PARTS[type(node)]
    out = Doc(ATOM, (svd, parts[0]))
    if len(parts) > 1:
        out = lib.transpose(out)
    if node.shape == SCALAR:   # v1 of a column, u1 of a row: 1 x 1
        out = Doc(ATOM, (out, "[0, 0]"))
    return Doc(out.level, out.parts, node)


# --------------------------------------------------------------------------- functions

def builtin_function(name: str, a: Doc, lib: "Target") -> Doc:
    """``f(a)`` for a declared elementwise f, from its code template."""
    f = ELEMENTWISE[name]
    level = {"atom": ATOM, "mul": MUL}[f.code_level]
    parts = []
    for p in template_parts(f.code_for(lib.name)):
        if p == "{a}":
            parts.append(a)
        elif p == "{a:pow}" and a.neg is not None and parts and isinstance(parts[-1], str) \
                and parts[-1].endswith("(0, -"):  # -(-u) is u: no two negations
            parts[-1] = parts[-1][:-1]
            parts.append(at_least(a.neg, ADD))
        elif p == "{a:pow}":
            parts.append(at_least(a, POW))
        else:
            parts.append(p.replace("{m}", lib.m))
    return Doc(level, tuple(parts))


@rule.register
def _func(node: Func, cx) -> Doc:
    a = cx[node.arg]
    a = tensor(cx, node.arg, a)
    if len(node.args) > 2:
        param, body = user_body(node.args[2])
        d = user_function(param, body, a, cx.lib)
    elif node.name in ELEMENTWISE:
        d = builtin_function(node.name, a, cx.lib)
    else:
        raise NotImplementedError(f"no NumPy form for the function {node.name!r}")
    return Doc(d.level, d.parts, node)


def user_body(spec) -> tuple[str, str]:
    """(parameter, body text) of a user function's third field."""
    if isinstance(spec, tuple):
        return spec[0], spec[1]
    return "t", str(spec)


def user_function(param: str, body: str, a: Doc, lib: Target | None = None) -> Doc:
    """``f(a)`` for ``f(param) := body``: ``(lambda t: body)(a)``; a constant
    body is broadcast to a's shape (``np.full(np.shape(a), 2)``)."""
    lib = lib if lib is not None else Target()
    name = param if python_safe(param) and param not in AVOID else "u"
    code, constant = user_function_numpy(param, body, lib, name)
    if constant:
        return lib.full(a, code)
    return Doc(ATOM, (f"(lambda {name}: {code})(", a, ")"))


def user_function_numpy(param: str, body: str, lib: Target | None = None,
                        name: str | None = None) -> tuple[str, bool]:
    """(the body of ``f(param) := body`` as code in the variable ``name``,
    whether it is a constant)."""
    import sympy as sp
    from sympy.printing.numpy import NumPyPrinter

    from ..usersym import to_sympy

    lib = lib if lib is not None else Target()
    torch = lib.name == "torch"

    class Printer(NumPyPrinter):
        def _module_format(self, fqn, register=True):
            text = super()._module_format(fqn, register)
            return lib.fn(text[len("numpy."):]) if text.startswith("numpy.") else text

        def _print_Abs(self, e):  # never a builtin: a variable may be named abs
            return f"{lib.fn('abs')}({self._print(e.args[0])})"

        def _print_Heaviside(self, e):
            u = self._print(e.args[0])
            if torch:
                return f"torch.heaviside({u}, torch.full_like({u}, 0.5))"
            return f"{lib.fn('heaviside')}({u}, 0.5)"

        def _print_Max(self, e):
            return self._fold("maximum", e.args)

        def _print_Min(self, e):
            return self._fold("minimum", e.args)

        def _fold(self, fn, args):
            out = self._print(args[0])
            for a in args[1:]:
                if torch and (a.is_number or args[0].is_number):
                    x, c = (out, self._print(a)) if a.is_number else (self._print(a), out)
                    out = f"torch.clamp({x}, {'min' if fn == 'maximum' else 'max'}={c})"
                else:
                    out = f"{lib.fn(fn)}({out}, {self._print(a)})"
            return out

    t, expr = to_sympy(param, body)
    name = name or py_name(param)
    if name != param:
        expr = expr.subs(t, sp.Symbol(name, real=True))
        t = sp.Symbol(name, real=True)
    constant = t not in expr.free_symbols
    if constant:
        if expr.is_Rational:  # a float array, whatever the number
            return repr(float(expr)), True
        return Printer().doprint(expr), True
    return Printer().doprint(expr), False


__all__ = ["to_numpy", "to_numpy_operator", "py_name", "dimension_table", "Target", "TARGETS"]
