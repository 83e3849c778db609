"""A NumPy expression for an expression (SPEC §3.1, the JSON ``numpy`` field).

The string evaluates with only ``np``, Python's builtins and the problem's
variables in scope: matrices are 2-D arrays, vectors (n, 1) columns, scalars
floats or size-1 arrays.  So:

* a product step is ``@`` between two non-scalar operands and ``*`` when either
  side is 1x1; ``@`` and ``*`` share one Python level and associate to the
  left, as matdiff's product chains do, so ``A @ x * s`` needs no brackets;
* dimensions are not in scope: ``np.eye(X.shape[0])``, read off a variable (or
  the direction ``dX``) that has the dimension; ValueError if none has it;
* a variable named like a Python keyword gets a trailing underscore
  (``lambda_``); ``Diff(X)`` is the variable ``dX``;
* ``names`` (definitions, shared subexpressions) are bound by lambdas,
  dependencies outermost: ``(lambda h1: A @ h1)(np.tanh(W1 @ x))``.  Beyond
  ``MAX_LAMBDAS`` names (Python limits bracket nesting to 200) they are bound
  flat with assignment expressions, ``(h1 := ..., h2 := ..., body)[-1]``;
* rules for 1x1 operands avoid calls that need a 2-D array (``tr(s)`` is
  ``s``, ``s^T`` is ``s``), so a scalar may be a float or a (1, 1) array.

Evaluate the code with one namespace, ``eval(code, {"np": np, **variables})``:
the lambdas it contains (names, operators, softmax) see globals only.

Numerically, ``logdet(a)`` is ``np.log(np.linalg.det(a))``: NaN where
``det(a) < 0`` (-inf where it is 0), outside the function's domain, rather
than the ``log|det a|`` of ``slogdet``.
User functions ``f(t) := body`` are translated through SymPy (the body is
parsed by SymPy, see :mod:`matdiff_cli.usersym`).
"""
from __future__ import annotations

import keyword
from functools import singledispatch

from ..errors import MatdiffError
from ..expr import (
    SCALAR, Add, Broadcast, Commutation, Det, DiagM, DiagV, Diff, Div, EDiv, EPow, Expr,
    Func, Hadamard, Identity, Inverse, Kron, LogDet, LogSumExp, Mul, Norm2, NormF, Num,
    Ones, Power, Softmax, Sum, Sym, Trace, Transpose, Vec, Zeros, walk,
)
from . import Context, Deferred, Doc, flatten, paren, render_dag
from .text import decimal

# Python's precedence, loosest to tightest
LAMBDA, ADD, MUL, NEG, POW, ATOM = 0, 10, 11, 12, 13, 14
MAX_LAMBDAS = 40


def py_name(name: str) -> str:
    """A variable's Python name: keywords get a trailing underscore (``lambda_``)."""
    return name + "_" if keyword.iskeyword(name) else name


def diff_name(sym: Sym) -> str:
    """The Python name of the direction ``dX`` of a variable X."""
    return py_name("d" + sym.name)


# --------------------------------------------------------------------------- context

class NumpyContext(Context):
    """Renders with a table of dimension -> Python expression (``X.shape[0]``)."""

    def __init__(self, names, dims: dict):
        super().__init__(names)
        self.dims = dims

    def name_doc(self, node, name):
        return Doc(ATOM, (py_name(name),))

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


def dimension_table(nodes, bound=()) -> dict:
    """dimension -> ``var.shape[i]`` from the variables and directions among
    nodes (first first), then from the extra symbols ``bound``."""
    table: dict = {}
    directions = [n.sym for n in nodes if isinstance(n, Diff)]  # prefer dX to the X of dX
    sources = [n for n in nodes if isinstance(n, Diff) or (isinstance(n, Sym) and n not in directions)]
    sources += directions + list(bound)
    for s in sources:
        var = py_name(s.name) if isinstance(s, Sym) else diff_name(s.sym)
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

def to_numpy(expr: Expr, names: dict | None = None, bound=None) -> str:
    """A Python/NumPy expression for expr.

    ``names``: nodes written as names, bound inside the expression; ``bound``:
    extra symbols (``Sym`` or ``Diff`` nodes) in scope where the code runs,
    searched for dimensions after those of expr.
    """
    names = dict(names or {})
    nodes = list(walk(expr))
    _name_deep_pieces(nodes, names, expr)
    dims = dimension_table(nodes, bound or ())
    used = [n for n in nodes if n in names and n is not expr] if names else []

    def write(root):
        return flatten(render_dag(root, rule, NumpyContext(names, dims)))

    body = write(expr)
    if not used:
        return body
    if len(used) > MAX_LAMBDAS:
        binds = ", ".join(f"{py_name(names[n])} := {write(n)}" for n in used)
        return f"({binds}, {body})[-1]"
    for node in reversed(used):
        body = f"(lambda {py_name(names[node])}: {body})({write(node)})"
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


def to_numpy_operator(expr: Expr, direction: Sym, names: dict | None = None, bound=None) -> str:
    """A linear operator L[dX] as ``lambda dX: ...`` (dX is ``Diff(direction)``)."""
    extra = [Diff(direction), direction] + list(bound or ())
    return f"lambda {diff_name(direction)}: {to_numpy(expr, names, extra)}"


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
    return Doc(ATOM, (py_name(node.name),), node)


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
    return call("np.eye", cx.dim(node.n), node=node)


@rule.register
def _zeros(node: Zeros, cx) -> Doc:
    return call("np.zeros", cx.shape(node.shape), node=node)


@rule.register
def _ones(node: Ones, cx) -> Doc:
    return call("np.ones", cx.shape(node.shape), node=node)


@rule.register
def _diff(node: Diff, cx) -> Doc:
    return Doc(ATOM, (diff_name(node.sym),), node)


@rule.register
def _commutation(node: Commutation, cx) -> Doc:
    """K(m,n) vec(A) = vec(A^T): row j + i n of K is row i + j m of I."""
    m, n = (cx.dim(d) for d in node.args)
    text = f"np.eye({m} * {n})[np.arange({m} * {n}).reshape({n}, {m}).T.ravel()]"
    return Doc(ATOM, (text,), node)


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


@rule.register
def _mul(node: Mul, cx) -> Doc:
    """Left to right, as matdiff reads products; ``-x @ y`` for a -1 coefficient."""
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
    return call("np.kron", cx[node.args[0]], cx[node.args[1]], node=node)


@rule.register
def _broadcast(node: Broadcast, cx) -> Doc:
    """Outside a sum: ``s * np.ones((r, c))`` (an unknown dimension raises only if used)."""
    try:
        ones = f"np.ones({cx.shape(node.shape)})"
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
    return Doc(ATOM, (at_least(d, ATOM), ".T"), node)


@rule.register
def _inverse(node: Inverse, cx) -> Doc:
    d = cx[node.a]
    if is_scalar(node):
        return Doc(MUL, ("1 / ", at_least(d, NEG)), node)
    return call("np.linalg.inv", d, node=node)


@rule.register
def _power(node: Power, cx) -> Doc:
    d = cx[node.base]
    if is_scalar(node):
        return Doc(POW, (at_least(d, ATOM), " ** ", exponent(node.p)), node)
    return call("np.linalg.matrix_power", d, str(node.p.numerator), node=node)


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
            return call(scalar, d, node=node)
        return call(fn, d, node=node)
    return rule_


rule.register(Trace, _scalar_or("np.trace"))
rule.register(Det, _scalar_or("np.linalg.det"))
rule.register(Sum, _scalar_or("np.sum"))
rule.register(Norm2, _scalar_or("np.linalg.norm", "np.abs"))
rule.register(NormF, _scalar_or("np.linalg.norm", "np.abs"))
rule.register(DiagM, _scalar_or("np.diagflat"))


@rule.register
def _logdet(node: LogDet, cx) -> Doc:
    """log(det a), NaN where det a <= 0."""
    d = cx[node.a]
    if is_scalar(node.a):
        return call("np.log", d, node=node)
    return call("np.log", call("np.linalg.det", d), node=node)


@rule.register
def _diagv(node: DiagV, cx) -> Doc:
    d = cx[node.a]
    if is_scalar(node.a):
        return call("np.reshape", d, "(1, 1)", node=node)
    return Doc(ATOM, (call("np.diag", d), ".reshape(-1, 1)"), node)


@rule.register
def _vec(node: Vec, cx) -> Doc:
    """Columns stacked: column-major reshape."""
    d = cx[node.a]
    if is_scalar(node.a):
        return call("np.reshape", d, "(1, 1)", node=node)
    return Doc(ATOM, (at_least(d, ATOM), '.reshape(-1, 1, order="F")'), node)


SOFTMAX = "(lambda u: np.exp(u - np.max(u)) / np.sum(np.exp(u - np.max(u))))"
LOGSUMEXP = "(lambda u: np.max(u) + np.log(np.sum(np.exp(u - np.max(u)))))"


@rule.register
def _softmax(node: Softmax, cx) -> Doc:
    return Doc(ATOM, (SOFTMAX, "(", cx[node.a], ")"), node)


@rule.register
def _logsumexp(node: LogSumExp, cx) -> Doc:
    return Doc(ATOM, (LOGSUMEXP, "(", cx[node.a], ")"), node)


# --------------------------------------------------------------------------- functions

def _np(fn):
    return lambda a: call(fn, a)


FUNCS = {
    "exp": _np("np.exp"), "log": _np("np.log"), "sin": _np("np.sin"), "cos": _np("np.cos"),
    "tanh": _np("np.tanh"), "sqrt": _np("np.sqrt"), "abs": _np("np.abs"),
    "sign": _np("np.sign"),
    "sigmoid": lambda a: Doc(MUL, ("1 / (1 + np.exp(-", at_least(a, POW), "))")),
    "relu": lambda a: call("np.maximum", a, "0"),
    "step": lambda a: call("np.heaviside", a, "0.0"),
    "softplus": lambda a: call("np.logaddexp", "0", a),
}


@rule.register
def _func(node: Func, cx) -> Doc:
    a = cx[node.arg]
    if len(node.args) > 2:
        param, body = user_body(node.args[2])
        fn = f"(lambda {py_name(param)}: {user_function_numpy(param, body)})"
        d = Doc(ATOM, (fn, "(", a, ")"))
    elif node.name in FUNCS:
        d = FUNCS[node.name](a)
    else:
        raise NotImplementedError(f"no NumPy form for the function {node.name!r}")
    return Doc(d.level, d.parts, node)


def user_body(spec) -> tuple[str, str]:
    """(parameter, body text) of a user function's third field."""
    if isinstance(spec, tuple):
        return spec[0], spec[1]
    return "t", str(spec)


def user_function_numpy(param: str, body: str) -> str:
    """The body of ``f(param) := body`` as NumPy code in the variable param."""
    import sympy as sp
    from sympy.printing.numpy import NumPyPrinter

    from ..usersym import to_sympy

    class Printer(NumPyPrinter):
        def _module_format(self, fqn, register=True):
            text = super()._module_format(fqn, register)
            return "np." + text[len("numpy."):] if text.startswith("numpy.") else text

        def _print_Max(self, e):
            return self._fold("np.maximum", e.args)

        def _print_Min(self, e):
            return self._fold("np.minimum", e.args)

        def _fold(self, fn, args):
            out = self._print(args[0])
            for a in args[1:]:
                out = f"{fn}({out}, {self._print(a)})"
            return out

    t, expr = to_sympy(param, body)
    if py_name(param) != param:
        expr = expr.subs(t, sp.Symbol(py_name(param), real=True))
    return Printer().doprint(expr)


__all__ = ["to_numpy", "to_numpy_operator", "py_name", "diff_name", "dimension_table"]
