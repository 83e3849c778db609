"""The rules of the syntax's operations: leaves, sums, products (planned ones as
``multi_dot``, ``solve`` and broadcasting), quotients, broadcasts, transposes
and powers.  (The built-ins' code is declared with them, in ``ops/``.)"""
from __future__ import annotations

from ...expr import (
    SCALAR, Add, Broadcast, Diff, Div, EDiv, EPow, Hadamard, Inverse, Mul, Norm2, NormF, Num,
    Power, Sym, Transpose, DiagM,
)
from .. import Deferred, Doc, leaf
from .base import (ADD, ATOM, MUL, NEG, POW, at_least, binary, call, exponent, is_plain,
                   is_scalar, number, rule, spd)


@rule.register
def _sym(node: Sym, cx) -> Doc:
    return leaf(ATOM, cx.py(node.name), node)


@rule.register
def _num(node: Num, cx) -> Doc:
    v = node.value
    if v.numerator >= 0:   # (a Fraction's sign is its numerator's: no comparison call)
        return number(v, node)
    body = number(-v)
    return Doc(min(NEG, body.level), ("-", body), node, neg=body)


@rule.register
def _diff(node: Diff, cx) -> Doc:
    return leaf(ATOM, cx.direction(node.sym), node)


@rule.register
def _add(node: Add, cx) -> Doc:
    """``a + b - c``; a broadcast scalar term is left to NumPy's broadcasting."""
    get = cx.docs.__getitem__
    terms = node.terms
    docs = list(map(get, terms))
    for t in terms:
        if isinstance(t, Broadcast):
            bare = any(not is_plain(cx, t, Broadcast) for t in terms)
            docs = [get(t.args[0]) if bare and is_plain(cx, t, Broadcast) else get(t) for t in terms]
            break
    if len(docs) == 2:   # (most sums)
        d = docs[1]
        if d.neg is not None:
            return binary(ADD, at_least(docs[0], ADD), " - ", at_least(d.neg, MUL), node)
        return binary(ADD, at_least(docs[0], ADD), " + ", at_least(d, MUL), node)
    parts = [at_least(docs[0], ADD)]
    for d in docs[1:]:
        if d.neg is not None:
            parts += [" - ", at_least(d.neg, MUL)]
        else:
            parts += [" + ", at_least(d, MUL)]
    return Doc(ADD, parts, node)


def chain(cx, factors, start_shape=None) -> list:
    """Parts of ``f1 op f2 op ...``: ``@`` between non-scalars, else ``*``."""
    docs = cx.docs
    shape = start_shape
    parts = []
    for f in factors:
        d = docs[f]
        if shape is None:
            parts.append(at_least(d, MUL))
            shape = f.shape
            continue
        op = " * " if SCALAR in (shape, f.shape) else " @ "
        parts += (op, at_least(d, NEG))
        shape = f.shape if shape == SCALAR else (shape if f.shape == SCALAR else (shape[0], f.shape[1]))
    return parts


def _ordered_product(node: Mul, cx):
    """A planned product (render/plan.py) of non-scalar factors: three or more
    are ``multi_dot`` (ordered at run time); ``diag(v) B`` is ``v * B``, ``A
    diag(v)`` is ``A * v.T``; ``inv(A) B`` is ``solve(A, B)`` and ``B inv(A)``
    is ``solve(A.T, B.T).T``; any other two are ``A @ B``.  None for a product
    with a scalar factor (or not planned)."""
    f = node.factors
    if not cx.ordered:
        return None
    for x in f:
        if x.shape == SCALAR:
            return None
    lib = cx.lib
    if len(f) >= 3:
        items = ["["]
        for i, x in enumerate(f):
            items += [", ", cx[x]] if i else [cx[x]]
        return call(lib.fn("linalg.multi_dot"), Doc(ATOM, items + ["]"]), node=node)
    a, b = f
    special = (DiagM, Inverse)   # (the kinds written their own way: a look first)
    if isinstance(a, special) or isinstance(b, special) or lib.name == "jax":
        special = _special_product(node, a, b, cx, lib)
        if special is not None:
            return special
    docs = cx.docs
    return binary(MUL, at_least(docs[a], MUL), " @ ", at_least(docs[b], NEG), node)   # (as chain)


def _special_product(node: Mul, a, b, cx, lib):
    """The product of two with a diag, an inverse or (JAX) a transposed factor, else None."""
    if is_plain(cx, a, DiagM):
        return binary(MUL, at_least(cx[a.a], MUL), " * ", at_least(cx[b], NEG), node)
    if is_plain(cx, b, DiagM):
        return binary(MUL, at_least(cx[a], MUL), " * ", lib.transpose(cx[b.a]), node)
    if is_plain(cx, a, Inverse):
        d = lib.solve(cx[a.a], cx[b], spd(a.a))
        return Doc(ATOM, d.parts, node)
    if is_plain(cx, b, Inverse):
        own = spd(b.a)  # an spd matrix is its own transpose
        solved = lib.solve(cx[b.a] if own else lib.transpose(cx[b.a]), lib.transpose(cx[a]), own)
        return lib.transpose(solved, node)
    if lib.name == "jax" and is_plain(cx, a, Transpose) and b.shape[1] == 1:
        # XLA on CPU copies A to transpose it for A.T @ v (14x slower at 4000 x 2000)
        row = Doc(MUL, (at_least(lib.transpose(cx[b]), MUL), " @ ", at_least(cx[a.a], NEG)))
        return lib.transpose(row, node)
    return None


@rule.register
def _mul(node: Mul, cx) -> Doc:
    """Left to right, as matdiff reads products; ``-x @ y`` for a -1 coefficient."""
    fast = _ordered_product(node, cx)
    if fast is not None:
        return fast
    first = node.factors[0]
    if not (isinstance(first, Num) and first.value.numerator < 0 and cx[first].node is first):
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
    return binary(MUL, at_least(a, MUL), " / ", at_least(c, NEG), node)


rule.register(Div, _divide)
rule.register(EDiv, _divide)


@rule.register
def _broadcast(node: Broadcast, cx) -> Doc:
    """Outside a sum: ``s * np.ones((r, c))`` (an unknown dimension raises only if used)."""
    try:
        ones = cx.lib.ones(cx.shape(node.shape))
    except ValueError as e:
        ones = Deferred(e)
    scalar = node.args[0]
    if isinstance(scalar, Num) and abs(scalar.value) == 1:   # ones, -ones: no "1 *"
        one = Doc(ATOM, (ones,))
        return (Doc(ATOM, (ones,), node) if scalar.value == 1
                else Doc(NEG, ("-", one), node, neg=one))
    s = cx[scalar]
    neg = None if s.neg is None else Doc(MUL, (at_least(s.neg, MUL), " * ", ones))
    return Doc(MUL, (at_least(s, MUL), " * ", ones), node, neg=neg)


@rule.register
def _transpose(node: Transpose, cx) -> Doc:
    d = cx[node.a]
    if is_scalar(node):
        return Doc(d.level, d.parts, node, neg=d.neg)
    return cx.lib.transpose(d, node)


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
