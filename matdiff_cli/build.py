"""Smart constructors: build nodes while dropping zeros, ones and identities.

The derivative and read-off rules build their results with these, so that a
product rule term whose differential vanishes never appears.  Full
canonicalisation (ordering, like terms, trace rotation) is ``simplify``'s job.
"""
from __future__ import annotations

from collections import Counter
from .rational import Fraction

from .expr import EPow, Pinv, Power
from .expr import (
    ONE, SCALAR, ZERO, Add, Broadcast, DiagM, Div, Expr, Hadamard, Identity, Inverse, Kron,
    Mul, Num, Ones, Sym, Trace, Transpose, Zeros, is_zero, postorder_missing, product_shape,
    zeros_like,
)


def zero(shape) -> Expr:
    return ZERO if tuple(shape) == SCALAR else Zeros(shape)


def add(*terms: Expr) -> Expr:
    """a + b + ...; zeros dropped, nested sums flattened (short ones: see
    simplify.FLAT_LIMIT, so that a chain of sums is not rewritten at every level)."""
    flat = []
    for t in terms:
        if isinstance(t, Add) and len(t.terms) <= 16:
            flat.extend(t.terms)
        elif t is not ZERO and type(t) is not Zeros:   # (is_zero, inline: a call per term)
            flat.append(t)
    if not flat:
        return zeros_like(terms[0])
    return flat[0] if len(flat) == 1 else Add(*flat)


def mul(*factors: Expr) -> Expr:
    """f1 f2 ... read left to right; a zero factor zeroes the product.

    Identity factors and the number 1 are dropped only where the remaining
    chain keeps its meaning (I next to a non-scalar factor)."""
    kept = []
    matrix = False   # a factor that is neither 1x1 nor an identity
    identity = False
    for f in factors:
        if f is ZERO or type(f) is Zeros:   # is_zero: numbers are interned
            return zero(_shape_of(factors))
        if f is not ONE:   # Num(1) is ONE
            kept.append(f)
            if type(f) is Identity:   # (no subclass)
                identity = True
            elif not matrix and f.shape is not SCALAR:
                matrix = True
    if len(kept) == len(factors) and not (matrix and identity):   # nothing to drop
        return factors[0] if len(factors) == 1 else Mul(*factors)
    if kept and not identity:   # only 1s dropped: a 1x1 factor never sets the chain's shape
        return kept[0] if len(kept) == 1 else Mul(*kept)
    shape = _shape_of(factors)
    if matrix:
        kept = [f for f in kept if type(f) is not Identity]
    if not kept:
        return ONE if shape == SCALAR else Identity(shape[0])
    out = kept[0] if len(kept) == 1 else Mul(*kept)
    if out.shape != shape:  # dropping changed the meaning: keep the original
        out = Mul(*factors)
    return out


def _shape_of(factors) -> tuple:
    """The shape of the product chain (raises ShapeMismatch for one that is none)."""
    shape = factors[0].shape
    for f in factors[1:]:
        shape = product_shape(shape, f.shape)
    return shape


def scale(c, e: Expr) -> Expr:
    """c e for a number c."""
    c = Fraction(c)
    if c == 0:
        return zeros_like(e)
    if c == 1:
        return e
    if isinstance(e, Num):
        return Num(c * e.value)
    if isinstance(e, Mul) and isinstance(e.factors[0], Num):
        k = c * e.factors[0].value
        rest = e.factors[1:]
        return scale(k, rest[0] if len(rest) == 1 else Mul(*rest))
    return Mul(Num(c), e)


def neg(e: Expr) -> Expr:
    return scale(-1, e)


def sub(a: Expr, b: Expr) -> Expr:
    return add(a, neg(b))


def transpose(e: Expr) -> Expr:
    if e is ZERO or type(e) is Zeros:   # (is_zero, inline)
        return zero((e.shape[1], e.shape[0]))
    if e.shape is SCALAR or isinstance(e, Identity):
        return e
    if isinstance(e, Transpose):
        return e.a
    if isinstance(e, Ones):   # ones(1, n)^T is ones(n): one form for symmetry by form to pair
        return Ones((e.shape[1], e.shape[0]))
    return Transpose(e)


def had(*factors: Expr) -> Expr:
    """Elementwise product; a 1x1 product is an ordinary product."""
    if any(is_zero(f) for f in factors):
        return zeros_like(factors[0])
    kept = [f for f in factors if not isinstance(f, Ones)]
    if not kept:
        return factors[0]
    if len(kept) == 1:
        return kept[0]
    if kept[0].shape is SCALAR:
        return mul(*kept)
    return Hadamard(*kept)


def trace(e: Expr) -> Expr:
    if e is ZERO or type(e) is Zeros:   # (is_zero, inline)
        return ZERO
    if e.shape is SCALAR:
        return e
    return Trace(e)


def inner(u: Expr, du: Expr) -> Expr:
    """<u, du>: u^T du for columns, u du^T for rows, tr(u^T du) for matrices."""
    if u.shape[1] == 1:
        return mul(transpose(u), du)
    if u.shape[0] == 1:
        return mul(u, transpose(du))
    return trace(mul(transpose(u), du))


def div(a: Expr, c: Expr) -> Expr:
    if is_zero(a):
        return a
    if isinstance(c, Num) and c.value == 1:
        return a
    return Div(a, c)


def broadcast(s: Expr, shape) -> Expr:
    if tuple(shape) == SCALAR:
        return s
    if is_zero(s):
        return Zeros(shape)
    return Broadcast(s, shape)


def kron(a: Expr, b: Expr) -> Expr:
    if is_zero(a) or is_zero(b):
        return Zeros(Kron(a, b).shape)
    if a.shape is SCALAR:
        return mul(a, b)
    if b.shape is SCALAR:
        return mul(b, a)
    return Kron(a, b)


def inverse(e: Expr) -> Expr:
    if isinstance(e, Identity):
        return e
    if isinstance(e, Inverse):
        return e.a
    return Inverse(e)


# --------------------------------------------------------------------------- replacing

def replace_node(e: Expr, old: Expr, new: Expr) -> Expr:
    """e with the node old replaced by new wherever it occurs, rebuilt through the
    constructors above so that the zeros a replacement makes drop (one pass over
    the nodes above old; shared ones are rebuilt once)."""
    memo: dict = {old: new}
    for node in postorder_missing(e, memo):
        kids = tuple(memo[c] for c in node.children)
        memo[node] = node if kids == node.children else _rebuild(node, kids)
    return memo[e]


def _rebuild(node, kids):
    if isinstance(node, Add):
        return add(*kids)
    if isinstance(node, Mul):
        return mul(*kids)
    if isinstance(node, Hadamard):
        return had(*kids)
    if isinstance(node, Transpose):
        return transpose(kids[0])
    if isinstance(node, Trace):
        return trace(kids[0])
    return node.rebuild(kids)


def symmetric(e: Expr) -> bool:
    """e is symmetric by its form: a variable declared symmetric / spd /
    diagonal, X^T X, B^T S B, sums, scalar multiples, inverses of those."""
    try:
        return _symmetric(e, _SYMMETRIC)
    except RecursionError:   # nested deeper than Python's stack (definitions): not known
        return False


_SYMMETRIC: dict = {}   # node -> symmetric by form: a pure function of the node


def _symmetric(e: Expr, memo: dict) -> bool:
    """symmetric(e), memo: node -> answer (a plain recursive function, not a
    closure: a recursive closure is a reference cycle)."""
    if e.shape[0] != e.shape[1]:
        return False
    if e.shape is SCALAR or isinstance(e, (Identity, DiagM)):
        return True
    if e in memo:
        return memo[e]
    if isinstance(e, Sym):
        out = e.has("symmetric", "spd", "diagonal")
    elif isinstance(e, (Zeros, Ones)):
        out = True
    elif isinstance(e, (Add, Hadamard)):   # A + A^T, B .* B^T: the others pair up
        odd = [_scaled(a) for a in e.args if not _symmetric(a, memo)]
        out = Counter((id(c), _key(m)) for c, m in odd) == \
            Counter((id(c), _key(m, transposed=True)) for c, m in odd)
    elif isinstance(e, (Transpose, Inverse, Pinv)):
        out = _symmetric(e.a, memo)
    elif isinstance(e, (Power, EPow)):   # S^2, S.^2 of a symmetric S
        out = _symmetric(e.base, memo)
    elif isinstance(e, Broadcast):
        out = True
    elif isinstance(e, Mul):
        fs = _matrix_factors(e)   # nested products flattened (the planner's A (4 B))
        out = bool(fs)
        for i in range(len(fs) // 2):
            a, c = fs[i], fs[-1 - i]
            if not (c == transpose(a) or (a == c and _symmetric(a, memo)) or (
                    isinstance(a, Ones) and isinstance(c, Ones) and c.shape == a.shape[::-1])):
                out = False
                break
        if out and len(fs) % 2:
            out = _symmetric(fs[len(fs) // 2], memo)
    else:
        out = False
    memo[e] = out
    return out


def _scaled(e: Expr) -> tuple:
    """(c, M) with e = c M for a number c (None when e has none)."""
    if isinstance(e, Mul) and len(e.factors) == 2 and isinstance(e.factors[0], Num):
        return e.factors[0], e.factors[1]
    return None, e


def _key(e: Expr, transposed: bool = False):
    """What e (or e^T) is, up to the order of a Hadamard product's factors, with
    the transpose taken into products: (A^T B)^T = B^T A, (A .* B)^T = A^T .* B^T."""
    t = transpose if transposed else (lambda f: f)
    if isinstance(e, Hadamard):
        return tuple(sorted(id(t(f)) for f in e.factors))
    if isinstance(e, Mul) and transposed:
        return id(Mul(*[transpose(f) for f in reversed(e.factors)]))
    return id(t(e))


def _matrix_factors(m: Mul) -> list:
    """The non-scalar factors of a product, nested products flattened, in order;
    a transposed product as its factors transposed: (2 A)^T (2 A) is A^T A."""
    out, stack = [], [m]
    while stack:
        f = stack.pop()
        if isinstance(f, Transpose) and isinstance(f.a, Mul):
            f = Mul(*[transpose(g) for g in reversed(f.a.factors)])
        if isinstance(f, Mul):
            stack.extend(reversed(f.factors))
        elif f.shape is not SCALAR:
            out.append(f)
    return out
