"""One canonical form: named rewrite rules per node type, composed by a small strategy.

``simplify(e)`` rewrites bottom-up over the DAG (memoised, iterative over the
input), and at each node applies the first rule of its type that changes it,
then canonicalises the result again.  Every rule returns its input unchanged
when it does not apply.  The canonical form:

* sums are flat (up to FLAT_LIMIT spliced terms), without zeros, like terms
  collected, terms sorted;
* products are ``coefficient · scalar factors (sorted) · matrix chain``; a 1x1
  sub-chain (``y^T z`` inside ``x y^T z``) is a scalar factor; a 1x1 chain is
  written the way round that puts a differential last (``x^T A dx``, not
  ``dx^T A^T x``), else with fewer transposes;
* transposes are pushed through products to the leaves and vanish on
  symmetric matrices; ``A^-T`` is ``Transpose(Inverse(A))``;
* traces are linear, pull scalars out, vanish on 1x1 products (``tr(x y^T)``
  is ``y^T x``) and are rotated so that a differential comes last, else to one
  fixed rotation;
* declared properties are used: ``Q^T Q = I`` for orthogonal Q, ``A^T = A``
  for symmetric A;
* neighbours in a chain merge as signed powers of one base: ``A^2 A^-3 = A^-1``,
  ``X^T X^-T = I``;
* outside differentials, a factor shared by every term of a sum is written
  once: ``A x + A^T x = (A + A^T) x``.  Inside a trace, a sum holding the
  differential is distributed instead, so each term can bring dX to its end.

Products are otherwise never expanded over sums: ``2 A^T (A x - b)`` stays
factored, so that results stay as short as the input (no DAG is expanded into
a tree).
``present`` turns the canonical form into its printed form (negative powers
as divisions, a lone broadcast scalar as ``c ones(n, m)``).
"""
from __future__ import annotations

from fractions import Fraction

from .dispatch import registrar
from .expr import postorder_missing as _postorder_missing
from .expr import Pinv
from .expr import (
    ONE, SCALAR, ZERO, Add, Broadcast, Det, DiagM, DiagV, Diff, Div, EDiv, EPow, Expr,
    Hadamard, Identity, Inverse, Kron, LogDet, Mul, Norm2, NormF, Num, Ones, Power, Sum, Sym,
    Trace,
    Transpose, Unvec, Vec, Zeros, is_zero,
)

try:  # the interpreter's own SHA-1: hashlib would load OpenSSL for this one digest
    from _sha1 import sha1 as _sha1
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import sha1 as _sha1

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Callable

Rule = "Callable[[Expr], Expr]"
RULES: dict[type, list] = {}
rule = registrar(RULES, many=True)   # @rule(Add): a rewrite rule node -> node, in order

_canon: dict = {}


# ---------------------------------------------------------------- strategy

def simplify(expr: Expr) -> Expr:
    """The canonical form of expr."""
    hit = _canon.get(expr)
    if hit is not None:
        return hit
    canon = _canon
    if all(c in canon for c in expr.children):  # the common case: a rule's new node
        kids = tuple(canon[c] for c in expr.children)
        rebuilt = expr if kids == expr.children else expr.rebuild(kids)
        out = canon.get(rebuilt)
        if out is None:
            out = canon[rebuilt] = _normalise(rebuilt)
        canon[expr] = out
        canon.setdefault(out, out)
        return out
    stack = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in _canon:
            continue
        pending = [c for c in node.children if c not in _canon]
        if ready or not pending:
            kids = tuple(_canon[c] for c in node.children)
            rebuilt = node if kids == node.children else node.rebuild(kids)
            out = _canon.get(rebuilt)
            if out is None:
                out = _normalise(rebuilt)
                _canon[rebuilt] = out
            _canon[node] = out
            _canon.setdefault(out, out)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in pending)
    return _canon[expr]


def _normalise(node: Expr) -> Expr:
    for fn in RULES.get(type(node), ()):
        out = fn(node)
        if out is not node:
            assert out.shape == node.shape, (fn.__name__, node, out)
            return simplify(out)
    return node


# ---------------------------------------------------------------- ordering

_info: dict = {}
_CAP = 10 ** 9


def info(e: Expr) -> tuple:
    """(digest, tree size, first symbol name, contains a differential), memoised.

    The digest is a stable structural fingerprint (the same across runs), so that
    sorting never depends on memory addresses.  One walk fills all four."""
    hit = _info.get(e)
    if hit is not None:
        return hit
    todo = [e] if all(c in _info for c in e.children) else _postorder_missing(e, _info)
    for node in todo:
        data = [type(node).__name__]
        size, lead, has_diff = 1, "", isinstance(node, Diff)
        for a in node.args:
            if isinstance(a, Expr):
                d, sz, ld, hd = _info[a]
                data.append(d)
                size += sz
                lead = lead or ld
                has_diff = has_diff or hd
            elif isinstance(a, frozenset):
                data.append(",".join(sorted(a)))
            else:
                data.append(repr(a))
        if isinstance(node, Sym):
            lead = node.name
        digest_ = _sha1("|".join(data).encode()).hexdigest()[:16]
        _info[node] = (digest_, min(size, _CAP), lead, has_diff)
    return _info[e]


def digest(e: Expr) -> str:
    return info(e)[0]


def tree_size(e: Expr) -> int:
    return info(e)[1]


def lead_name(e: Expr) -> str:
    """The first symbol name read left to right ('' for none)."""
    return info(e)[2]


def contains_diff(e: Expr) -> bool:
    return info(e)[3]


_keys: dict = {}


def sort_key(e: Expr):
    """Terms: positive before negative (x - A s), then by first symbol, size and structure."""
    key = _keys.get(e)
    if key is None:
        negative = isinstance(e, Mul) and isinstance(e.factors[0], Num) and e.factors[0].value < 0
        key = _keys[e] = (isinstance(e, Num), contains_diff(e), negative, lead_name(e),
                          tree_size(e), digest(e))
    return key


# ---------------------------------------------------------------- helpers

def zero(shape) -> Expr:
    return ZERO if tuple(shape) == SCALAR else Zeros(shape)


def split_coef(e: Expr):
    """e = c * core with c a number."""
    if isinstance(e, Num):
        return e.value, ONE
    if isinstance(e, Mul) and isinstance(e.factors[0], Num):
        rest = e.factors[1:]
        return e.factors[0].value, rest[0] if len(rest) == 1 else Mul(*rest)
    if isinstance(e, Broadcast) and isinstance(e.args[0], Num):
        return e.args[0].value, Broadcast(ONE, e.shape)
    return Fraction(1), e


def with_coef(c: Fraction, core: Expr) -> Expr:
    if c == 0:
        return zero(core.shape)
    if core is ONE:
        return Num(c)
    if isinstance(core, Broadcast) and core.args[0] is ONE:
        return Broadcast(Num(c), core.shape)
    if c == 1:
        return core
    if isinstance(core, Mul):
        return Mul(Num(c), *core.factors)
    return Mul(Num(c), core)


def is_symmetric(e: Expr) -> bool:
    if isinstance(e, Diff):
        e = e.sym
    return isinstance(e, Sym) and e.has("symmetric", "spd", "diagonal")


def is_orthogonal(e: Expr) -> bool:
    return isinstance(e, Sym) and e.has("orthogonal")


def T(e: Expr) -> Expr:
    """The canonical transpose of e."""
    return simplify(Transpose(e))


def chain_of(e: Expr) -> list:
    return list(e.factors) if isinstance(e, Mul) else [e]


def product(factors: list, shape) -> Expr:
    if not factors:
        return ONE if tuple(shape) == SCALAR else Identity(shape[0])
    return factors[0] if len(factors) == 1 else Mul(*factors)


# ---------------------------------------------------------------- sums

# A nested sum (product, Hadamard product) is spliced into its parent only when it
# has at most this many terms.  A chain of definitions h_i = h_{i-1} + ... nests
# one sum in the next: splicing every level would rewrite i terms at level i
# (quadratic work, and output that grows as k^2); with the limit every node is
# rewritten in bounded work and a long sum stays a parenthesised term.
FLAT_LIMIT = 16

@rule(Add)
def collect_like_terms(e: Add) -> Expr:
    """a + 2a + 0 + (b + c) -> 3a + b + c, terms in one fixed order.  Shrinks or sorts."""
    coefs: dict = {}
    for t in e.terms:
        for u in (t.terms if isinstance(t, Add) and len(t.terms) <= FLAT_LIMIT else (t,)):
            if is_zero(u):
                continue
            c, core = split_coef(u)
            coefs[core] = coefs.get(core, 0) + c
    terms = sorted((with_coef(c, core) for core, c in coefs.items() if c != 0), key=sort_key)
    if not terms:
        return zero(e.shape)
    if len(terms) == 1:
        return terms[0]
    out = _factor_right(terms) or _factor_left(terms) or _factor_scalar(terms) or Add(*terms)
    return e if out is e else out


def _factor_left(terms: list):
    """X c b^T + X b c^T -> X (c b^T + b c^T): a left factor shared by every term."""
    if any(contains_diff(t) for t in terms):
        return None
    first, rests = None, []
    for t in terms:
        c, core = split_coef(t)
        if not isinstance(core, Mul) or core.factors[0].shape == SCALAR:
            return None
        f = core.factors[0]
        if first is None:
            first = f
        elif f is not first:
            return None
        rest = core.factors[1:]
        if any(r.shape == SCALAR for r in rest) or not rest:
            return None
        rests.append(with_coef(c, product(list(rest), None)))
    return Mul(first, Add(*rests))


def _factor_scalar(terms: list):
    """det(M) P + det(M) Q -> det(M) (P + Q): a scalar factor shared by every term."""
    if any(contains_diff(t) for t in terms) or terms[0].shape == SCALAR:
        return None
    common = None
    for t in terms:
        c, core = split_coef(t)
        scal = [f for f in (core.factors if isinstance(core, Mul) else ()) if f.shape == SCALAR]
        common = set(scal) if common is None else common & set(scal)
        if not common:
            return None
    shared = sorted(common, key=sort_key)
    rests = []
    for t in terms:
        c, core = split_coef(t)
        left = [f for f in core.factors if f not in common]
        rests.append(with_coef(c, product(left, core.shape)))
    return Mul(*shared, Add(*rests))


def _factor_right(terms: list):
    """A x + A^T x -> (A + A^T) x: a right factor shared by every term is written once.
    Not in differentials, whose terms must stay apart for the trace read-off."""
    if any(contains_diff(t) for t in terms):
        return None
    last = None
    prefixes = []
    for t in terms:
        c, core = split_coef(t)
        if not isinstance(core, Mul) or core.factors[-1].shape == SCALAR:
            return None
        f = core.factors[-1]
        if last is None:
            last = f
        elif f is not last:
            return None
        rest = core.factors[:-1]
        if any(r.shape == SCALAR for r in rest) or not rest:
            return None
        prefixes.append(with_coef(c, product(list(rest), None)))
    return Mul(Add(*prefixes), last)


# ---------------------------------------------------------------- products

@rule(Mul)
def canonical_product(e: Mul) -> Expr:
    """coefficient · sorted scalars · chain, with 1x1 sub-chains made scalars,
    identities dropped and X X^-1, Q^T Q cancelled.  Shrinks or sorts."""
    if _already_canonical(e):
        return e
    coef, scalars, chain = 1, [], []   # an int until a number comes (Fraction is slow)

    for f in e.factors:
        if isinstance(f, Num):
            coef *= f.value
        elif is_zero(f):
            return zero(e.shape)
        elif isinstance(f, Mul) and len(f.factors) <= FLAT_LIMIT or _scaled_ones(f):
            c, s, ch = _parts(f.factors if isinstance(f, Mul) else (f,))
            coef *= c
            scalars.extend(s)
            if f.shape == SCALAR and ch:
                scalars.append(product(ch, SCALAR))
            else:
                chain.extend(ch)
        elif f.shape == SCALAR:
            scalars.append(f)
        else:
            chain.append(f)
    if coef == 0:
        return zero(e.shape)
    chain = _split_chain(chain, scalars)
    chain = _cancel(chain)
    scalars = _combine_powers(scalars)
    if any(isinstance(s, Num) for s in scalars):
        coef *= _num_product(scalars)
        scalars = [s for s in scalars if not isinstance(s, Num)]
        if coef == 0:
            return zero(e.shape)
    scalars = [_orient(s) for s in scalars]
    scalars.sort(key=sort_key)
    chain = [c for c in chain if not isinstance(c, Identity)]
    if e.shape != SCALAR and not chain:
        chain = [Identity(e.shape[0])]
    if e.shape == SCALAR:
        if len(chain) > 1:
            chain = chain_of(_orient(Mul(*chain)))
        elif not chain and scalars and isinstance(scalars[-1], Mul):
            chain = list(scalars.pop().factors)   # 2 (x^T y) prints as 2 x^T y
    factors = ([Num(coef)] if coef != 1 else []) + scalars + chain
    if not factors:
        return ONE
    out = factors[0] if len(factors) == 1 else Mul(*factors)
    if out.shape != e.shape:  # pragma: no cover - a bug guard
        raise AssertionError(f"canonical_product changed a shape: {e} -> {out}")
    return e if out is e else out


def _already_canonical(e: Mul) -> bool:
    """A plain matrix chain with nothing to do (most products): no numbers, scalars,
    nested products, identities or zeros; no 1x1 sub-chain; no neighbours that
    cancel or merge.  Exactly the cases where the full rule returns e itself."""
    if e.shape == SCALAR:
        return False
    factors = e.factors
    last = len(factors) - 1
    prev = None
    for i, f in enumerate(factors):
        shape = f.shape
        if shape == SCALAR or isinstance(f, (Num, Mul, Identity, Zeros)):
            return False
        if _scaled_ones(f):
            return False
        if (i > 0 and shape[0] == 1) or (i < last and shape[1] == 1):
            return False
        if prev is not None and _interact(prev, f):
            return False
        prev = f
    return True


def _parts(factors):
    """(coef, scalars, chain) of the factors of a canonical product."""
    coef, scalars, chain = 1, [], []
    for f in factors:
        if isinstance(f, Num):
            coef *= f.value
        elif f.shape == SCALAR:
            scalars.append(f)
        elif _scaled_ones(f):
            c = f.args[0]   # (-1 ones(n, k)) C^T is -ones(n, k) C^T
            if isinstance(c, Num):
                coef *= c.value
            else:
                scalars.append(c)
            chain.append(Broadcast(ONE, f.shape))
        else:
            chain.append(f)
    return coef, scalars, chain


def _scaled_ones(f: Expr) -> bool:
    """c ones(n, k) with c not 1: in a matrix product, c is a scalar factor."""
    return isinstance(f, Broadcast) and f.args[0] is not ONE


def _split_chain(chain: list, scalars: list) -> list:
    """Make every 1x1 sub-chain of a product a scalar factor: x y^T z -> (y^T z) x."""
    out: list = []
    i = 0
    while i < len(chain):
        f = chain[i]
        if f.shape[0] == 1 and (i > 0 or _has_col_before_end(chain, i)):
            j = _first_col(chain, i)
            if j is not None and not (i == 0 and j == len(chain) - 1):
                scalars.append(simplify(product(chain[i:j + 1], SCALAR)))
                i = j + 1
                continue
        out.append(f)
        i += 1
    return out


def _first_col(chain, i):
    for j in range(i, len(chain)):
        if chain[j].shape[1] == 1:
            return j
    return None


def _has_col_before_end(chain, i):
    j = _first_col(chain, i)
    return j is not None and j < len(chain) - 1


def _inverse_pair(a: Expr, c: Expr) -> bool:
    """a c = I: X X^-1, X^-1 X, X^-T X^T, X^T X^-T, and Q^T Q, Q Q^T for orthogonal Q."""
    if isinstance(c, Inverse) and c.a is a or isinstance(a, Inverse) and a.a is c:
        return True
    if isinstance(a, Transpose) and isinstance(c, Transpose):
        return _inverse_pair(a.a, c.a)
    if isinstance(a, Transpose) and is_orthogonal(a.a) and a.a is c:
        return True
    return isinstance(c, Transpose) and is_orthogonal(c.a) and c.a is a


def _cancel(chain: list) -> list:
    """Cancel inverse pairs, merge A A -> A^2, and diag(v) w -> v ⊙ w."""
    if len(chain) < 2:
        return chain
    out: list = []
    for f in chain:
        if isinstance(f, Identity) and (out or len(chain) > 1):
            continue
        if out and _inverse_pair(out[-1], f):
            out.pop()
            continue
        if out and _diag_times_column(out[-1], f):
            out[-1] = simplify(Hadamard(out[-1].a, f))
            continue
        if out and _same_base(out[-1], f):
            base, k = _signed_base(out.pop())      # A^2 A^-3 = A^-1, X^T X^-T = I
            merged = _signed_power(base, k + _signed_base(f)[1])
            if merged is not None:
                out.append(merged)
            continue
        out.append(f)
    return out


def _diag_times_column(a: Expr, c: Expr) -> bool:
    """diag(v) w, written v ⊙ w."""
    return c.shape[1] == 1 and isinstance(a, DiagM)


def _same_base(a: Expr, c: Expr) -> bool:
    """Neighbours that are powers of one square base (A^2 A^-3, X^T X^-T)."""
    return c.shape[0] == c.shape[1] and _signed_base(a)[0] is _signed_base(c)[0]


def _interact(a: Expr, c: Expr) -> bool:
    """Neighbours that _cancel changes."""
    return _inverse_pair(a, c) or _diag_times_column(a, c) or _same_base(a, c)


def _signed_base(f):
    """(base, k) with f = base^k, k a nonzero integer, negative for inverses:
    A^2 -> (A, 2), X^-1 -> (X, -1), (X^-T)^3 -> (X^T, -3)."""
    k = 1
    if isinstance(f, Power) and f.shape != SCALAR:
        f, k = f.base, int(f.p)
    if isinstance(f, Inverse):
        return f.a, -k
    if isinstance(f, Transpose) and isinstance(f.a, Inverse):
        return T(f.a.a), -k
    return f, k


def _signed_power(base, k: int):
    """base^k (None for k = 0), canonical."""
    if k == 0:
        return None
    b = base if k > 0 else simplify(Inverse(base))
    return b if abs(k) == 1 else simplify(Power(b, abs(k)))


def _power_base(f):
    if isinstance(f, Power):
        return f.base, f.p
    return f, Fraction(1)


def _combine_powers(scalars: list) -> list:
    """s s^2 / s -> s^2: equal scalar bases add their exponents."""
    exps: dict = {}
    for s in scalars:
        base, p = _power_base(s)
        exps[base] = exps.get(base, 0) + p
    out = []
    for base, p in exps.items():
        if p == 0:
            continue
        out.append(simplify(Power(base, p)) if p != 1 else base)
    return out


def _num_product(scalars):
    c = Fraction(1)
    for s in scalars:
        if isinstance(s, Num):
            c *= s.value
    return c


def _orient(s: Expr) -> Expr:
    """A 1x1 product equals its transpose; write it the canonical way round."""
    if not (isinstance(s, Mul) and s.shape == SCALAR):
        return s
    scalars, chain = [], []
    for f in s.factors:
        (chain if f.shape != SCALAR else scalars).append(f)
    if len(chain) < 2:
        return s
    flipped = [T(f) for f in reversed(chain)]
    best = min(chain, flipped, key=_chain_key)
    if best is chain:
        return s
    return Mul(*[f for f in s.factors if f.shape == SCALAR], *flipped)


def _diff_rank(chain: list) -> int:
    if isinstance(chain[-1], Diff):
        return 0
    if not any(contains_diff(f) for f in chain):
        return 1
    return 2 if not contains_diff(chain[-1]) else 1


def _chain_key(chain: list):
    """Rotations and 1x1 products: dX last, fewer transposes, a transpose first
    (tr(X^T A X B), not tr(A X B X^T)), then by structure."""
    return (_diff_rank(chain), sum(isinstance(f, Transpose) for f in chain),
            not isinstance(chain[0], Transpose), [sort_key(f)[2:] for f in chain])


# ---------------------------------------------------------------- transposes

@rule(Transpose)
def push_transpose(e: Transpose) -> Expr:
    """(A^T)^T = A, A^T = A for symmetric A, (A B)^T = B^T A^T, scalars and I are
    their own transposes.  Moves the transpose down one level."""
    a = e.a
    if a.shape == SCALAR or isinstance(a, (Identity, DiagM)) or is_symmetric(a):
        return a
    if isinstance(a, Transpose):
        return a.a
    if isinstance(a, Zeros):
        return Zeros((a.shape[1], a.shape[0]))
    if isinstance(a, Ones):
        return Ones((a.shape[1], a.shape[0]))
    if isinstance(a, Broadcast):
        return Broadcast(a.args[0], (a.shape[1], a.shape[0]))
    if isinstance(a, Mul):
        return Mul(*[Transpose(f) if f.shape != SCALAR else f for f in reversed(a.factors)])
    if isinstance(a, Kron):
        return Kron(Transpose(a.args[0]), Transpose(a.args[1]))
    if isinstance(a, Add):
        pushed = [T(t) for t in a.terms]
        if sum(map(_transposes, pushed)) < 1 + sum(map(_transposes, a.terms)):
            return Add(*pushed)   # (A + A^T)^T = A + A^T; (A x - b)^T stays as written
    if isinstance(a, Power) and a.shape != SCALAR:
        return Power(Transpose(a.base), a.p)
    if isinstance(a, Inverse) and T(a.a) is a.a:
        return a              # M^-T = M^-1 for symmetric M (X^T A X with A symmetric)
    if isinstance(a, Pinv) and T(a.a) is a.a:
        return a              # pinv(M)^T = pinv(M) for symmetric M (λI - A)
    return e


def _transposes(e: Expr) -> int:
    """Transposes showing at the top of a term (the term and its factors)."""
    items = e.factors if isinstance(e, Mul) else (e,)
    return sum(isinstance(f, Transpose) for f in items)


# ---------------------------------------------------------------- inverses

@rule(Inverse)
def simplify_inverse(e: Inverse) -> Expr:
    """(A^-1)^-1 = A, I^-1 = I, Q^-1 = Q^T, (A^T)^-1 = (A^-1)^T, (c A)^-1 = A^-1 / c."""
    a = e.a
    if isinstance(a, Inverse):
        return a.a
    if isinstance(a, Identity):
        return a
    if is_orthogonal(a):
        return Transpose(a)
    if isinstance(a, Transpose):
        return Transpose(Inverse(a.a))
    if isinstance(a, Power) and a.shape != SCALAR:
        return Power(Inverse(a.base), a.p)     # (A^k)^-1 = (A^-1)^k
    if isinstance(a, Mul):
        c, scalars, chain = _parts(a.factors)
        if chain and (c != 1 or scalars):
            inv_scalars = [Power(s, -1) for s in scalars]
            return Mul(Num(Fraction(1) / c), *inv_scalars, Inverse(product(chain, a.shape)))
        if len(chain) > 1 and all(f.shape == a.shape for f in chain):
            # (A B)^-1 = B^-1 A^-1 when every factor is square (so each is invertible)
            return Mul(*[Inverse(f) for f in reversed(chain)])
    if isinstance(a, Add):
        c = _common_coef(a.terms)
        if c != 1:   # (2 A + 2 λ I)^-1 = 1/2 (A + λ I)^-1
            return Mul(Num(Fraction(1) / c), Inverse(Add(*[with_coef(split_coef(t)[0] / c, split_coef(t)[1])
                                                  for t in a.terms])))
    return e


def _common_coef(terms) -> Fraction:
    """The largest number dividing every term's coefficient (with the first term's sign)."""
    from math import gcd
    coefs = [split_coef(t)[0] for t in terms]
    num = 0
    den = 1
    for c in coefs:
        num = gcd(num, abs(c.numerator))
        den = den * c.denominator // gcd(den, c.denominator)
    if num == 0:
        return Fraction(1)
    g = Fraction(num, den) if all((c / Fraction(num, den)).denominator == 1 for c in coefs) else Fraction(1)
    return -g if coefs[0] < 0 else g


# ---------------------------------------------------------------- traces

@rule(Trace)
def simplify_trace(e: Trace) -> Expr:
    """tr is linear; tr(A^T) = tr(A); tr(c A) = c tr(A); tr(x y^T) = y^T x;
    tr(A B C) = tr(B C A): rotate so a differential comes last."""
    a = e.a
    if a.shape == SCALAR:
        return a
    if isinstance(a, Add):
        return Add(*[Trace(t) for t in a.terms])
    if isinstance(a, Transpose):
        return Trace(a.a)
    if isinstance(a, Zeros):
        return ZERO
    if isinstance(a, Identity) and isinstance(a.n, int):
        return Num(a.n)
    if isinstance(a, Mul):
        out = _scalars_out(Trace, a)
        if out is not None:
            return out
        chain = list(a.factors)   # no number, no scalar: the product is its chain
        expanded = _expand_differential(chain, a.shape)
        if expanded is not None:
            return expanded
        best = _best_rotation(chain)
        if best[0].shape[0] == 1:     # a rotation that is a 1x1 product
            return Mul(*best)
        if best != chain:
            return Trace(Mul(*best))
    return e


MAX_EXPANDED_TERMS = 8


def _expand_differential(chain: list, shape):
    """tr(P (dX^T A + B dX) Q) = tr(P dX^T A Q) + tr(P B dX Q): a sum holding the
    differential is distributed inside a trace, so that each term can bring dX to
    its end.  Only small sums, so nothing is expanded into a large tree."""
    for i, f in enumerate(chain):
        if isinstance(f, Add) and contains_diff(f) and len(f.terms) <= MAX_EXPANDED_TERMS \
                and tree_size(Mul(*chain)) <= 400:
            return Add(*[Trace(Mul(*chain[:i], t, *chain[i + 1:])) for t in f.terms])
    return None


def _best_rotation(chain: list) -> list:
    """The rotation of tr(chain) (or of its transpose) to keep: a 1x1 one if there
    is one, else one that ends in dX, else the smallest by _chain_key."""
    k = len(chain)
    for i in range(k):  # a rotation that is a 1x1 product (its transpose is too)
        if chain[i].shape[0] == 1 and chain[i - 1].shape[1] == 1:
            return chain[i:] + chain[:i]
    flipped = [T(f) for f in reversed(chain)]
    candidates = [ch[i:] + ch[:i] for ch in (chain, flipped) for i in range(k)]
    if any(contains_diff(f) for f in chain):
        ending = [c for c in candidates if isinstance(c[-1], Diff)]
        candidates = ending or candidates
    return min(candidates, key=_chain_key)


# ---------------------------------------------------------------- reductions

@rule(Det)
def simplify_det(e: Det) -> Expr:
    """det(A^T) = det(A); det(A^-1) = det(A)^-1; det(I) = 1."""
    a = e.a
    if isinstance(a, Transpose):
        return Det(a.a)
    if isinstance(a, Inverse):
        return Power(Det(a.a), -1)
    if isinstance(a, Identity):
        return ONE
    return e


@rule(LogDet)
def simplify_logdet(e: LogDet) -> Expr:
    """logdet(A^T) = logdet(A); logdet(A^-1) = -logdet(A); logdet(I) = 0."""
    a = e.a
    if isinstance(a, Transpose):
        return LogDet(a.a)
    if isinstance(a, Inverse):
        return Mul(Num(-1), LogDet(a.a))
    if isinstance(a, Identity):
        return ZERO
    return e


@rule(Sum)
def simplify_sum(e: Sum) -> Expr:
    """sum(s) = s for a scalar; sum(c A) = c sum(A)."""
    a = e.a
    if a.shape == SCALAR:
        return a
    if isinstance(a, Zeros):
        return ZERO
    if isinstance(a, Transpose):
        return Sum(a.a)
    if isinstance(a, Mul):
        return _scalars_out(Sum, a) or e
    return e


def _scalars_out(op, a: Mul):
    """op(c s M) = c s op(M) for a linear op (tr, sum): the product's number and
    scalar factors in front; None when it has none."""
    c, scalars, chain = _parts(a.factors)
    if c == 1 and not scalars:
        return None
    return Mul(*([Num(c)] if c != 1 else []), *scalars, op(product(chain, a.shape)))


@rule(Norm2, NormF)
def norm_of_zero(e) -> Expr:
    """||0|| = 0."""
    return ZERO if is_zero(e.a) else e


@rule(DiagV)
def simplify_diagv(e: DiagV) -> Expr:
    """diag(diag(x)) = x; diag(A^T) = diag(A)."""
    if isinstance(e.a, DiagM):
        return e.a.a
    if isinstance(e.a, Transpose):
        return DiagV(e.a.a)
    return e


@rule(DiagM)
def simplify_diagm(e: DiagM) -> Expr:
    """diag(0) = 0; diag(1) = I; diag(s 1) = s I."""
    if isinstance(e.a, Zeros):
        return Zeros(e.shape)
    if isinstance(e.a, Ones):
        return Identity(e.shape[0])
    if isinstance(e.a, Broadcast):
        return Mul(e.a.args[0], Identity(e.shape[0]))
    return e


@rule(Vec)
def simplify_vec(e: Vec) -> Expr:
    """vec(x) = x for a column; vec(x^T) = x."""
    a = e.a
    if a.shape[1] == 1:
        return a
    if a.shape[0] == 1:
        return Transpose(a)
    if isinstance(a, Unvec):
        return a.a
    return e


@rule(Unvec)
def simplify_unvec(e: Unvec) -> Expr:
    """unvec(v, n, 1) = v; unvec(v, 1, m) = v^T; unvec(vec(X), n, m) = X."""
    a = e.a
    if e.shape[1] == 1:
        return a
    if e.shape[0] == 1:
        return Transpose(a)
    if isinstance(a, Vec) and a.a.shape == e.shape:
        return a.a
    return e


# ---------------------------------------------------------------- powers, quotients

@rule(Power)
def simplify_power(e: Power) -> Expr:
    """a^1 = a; a^0 = 1; numbers fold; (a^p)^q = a^(pq) for integer q;
    (c s)^q = c^q s^q for scalar factors and integer q."""
    base, p = e.args
    if p == 1:
        return base
    if p == 0:
        return ONE if e.shape == SCALAR else Identity(e.shape[0])
    if isinstance(base, Num):
        v = _num_power(base.value, p)
        return Num(v) if v is not None else e
    if p.denominator == 1 and isinstance(base, Power):
        return Power(base.base, base.p * p)
    if isinstance(base, Identity) or (is_zero(base) and p > 0):
        return base
    if p.denominator == 1 and isinstance(base, Mul) and e.shape == SCALAR:
        c, scalars, chain = _parts(base.factors)
        if not chain:
            v = _num_power(Fraction(c), p)
            if v is not None:
                return Mul(Num(v), *[Power(s, p) for s in scalars])
    return e


#: the most bits of a number a power is folded into (beyond, ``2^100000`` is
#: kept as a power: computing it would cost time and digits, and no double holds it)
_FOLD_BITS = 1100


def _num_power(v: Fraction, p: Fraction):
    if p.denominator == 1:
        if v == 0 and p < 0:
            return None
        k = int(p)
        if abs(v) != 1 and v != 0 and abs(k) * max(abs(v.numerator).bit_length(),
                                                    v.denominator.bit_length()) > _FOLD_BITS:
            return None
        return v ** k
    return None


@rule(Div)
def div_as_power(e: Div) -> Expr:
    """a / c = c^-1 a (the printed form puts it back as a division)."""
    a, c = e.args
    return Mul(Power(c, -1), a)


@rule(EDiv)
def ediv_as_power(e: EDiv) -> Expr:
    """a ./ b = a ⊙ b.^-1."""
    a, c = e.args
    return Hadamard(a, EPow(c, -1))


@rule(EPow)
def simplify_epow(e: EPow) -> Expr:
    """a.^1 = a; a.^0 = 1; a scalar's elementwise power is its power."""
    base, p = e.args
    if p == 1:
        return base
    if e.shape == SCALAR:
        return Power(base, p)
    if p == 0:
        return Ones(e.shape)
    if p.denominator == 1 and isinstance(base, EPow):
        return EPow(base.base, base.p * p)
    if isinstance(base, Ones):
        return base
    return e


# ---------------------------------------------------------------- elementwise products

@rule(Hadamard)
def canonical_hadamard(e: Hadamard) -> Expr:
    """Flat, sorted, ones dropped, scalars pulled out (c a) ⊙ b = c (a ⊙ b),
    a ⊙ a = a.^2.  Shrinks or sorts."""
    coef, scalars, items = Fraction(1), [], []
    for f in e.factors:
        for g in (f.factors if isinstance(f, Hadamard) and len(f.factors) <= FLAT_LIMIT
                  else (f,)):
            if is_zero(g):
                return Zeros(e.shape)
            if isinstance(g, Ones):
                continue
            if isinstance(g, Broadcast):
                scalars.append(g.args[0])
                continue
            if isinstance(g, Mul):
                c, s, chain = _parts(g.factors)
                if c != 1 or s:
                    coef *= c
                    scalars.extend(s)
                    g = product(chain, g.shape)
            items.append(g)
    exps: dict = {}
    for g in items:
        base, p = (g.base, g.p) if isinstance(g, EPow) else (g, Fraction(1))
        exps[base] = exps.get(base, 0) + p
    items = sorted((simplify(EPow(b, p)) if p != 1 else b for b, p in exps.items() if p != 0),
                   key=sort_key)
    core = Ones(e.shape) if not items else items[0] if len(items) == 1 else Hadamard(*items)
    if coef == 1 and not scalars:
        return e if core is e else core
    return Mul(*([Num(coef)] if coef != 1 else []), *scalars, core)


@rule(Kron)
def simplify_kron(e: Kron) -> Expr:
    """s ⊗ A = s A for a scalar s."""
    a, c = e.args
    if a.shape == SCALAR:
        return Mul(a, c)
    if c.shape == SCALAR:
        return Mul(c, a)
    return e


@rule(Broadcast)
def simplify_broadcast(e: Broadcast) -> Expr:
    """A broadcast 0 is the zero matrix."""
    return Zeros(e.shape) if is_zero(e.args[0]) else e


# ---------------------------------------------------------------- presentation

def present(expr: Expr) -> Expr:
    """The printed form of a canonical expression: c^-1 a -> a / c, a ⊙ b.^-1 -> a ./ b,
    a lone broadcast c -> c ones(n, m)."""
    memo = _presented  # a pure function of the node: one memo for the whole run
    for node in _postorder_missing(expr, memo):
        kids = tuple(memo[c] for c in node.children)
        n = node if kids == node.children else node.rebuild(kids)
        memo[node] = _present_node(n)
    return memo[expr]


_presented: dict = {}
MINUS_ONE = Num(-1)


def _present_node(n: Expr) -> Expr:
    if isinstance(n, Mul) and n.factors[0] is MINUS_ONE and isinstance(n.factors[1], Mul) \
            and any(f.shape != SCALAR for f in n.factors[2:]):
        # -v (s^T y), not -1 (s^T y) v: a bracketed scalar goes after the chain
        products = [f for f in n.factors[1:] if isinstance(f, Mul) and f.shape == SCALAR]
        rest = [f for f in n.factors[1:] if f not in products]
        n = Mul(MINUS_ONE, *rest, *products)
    if isinstance(n, Mul):
        num = [f for f in n.factors if not _is_reciprocal(f)]
        den = [_denominator(f) for f in n.factors if _is_reciprocal(f)]
        if den:
            if num and isinstance(num[0], Num) and num[0].value.denominator != 1:
                c = num[0].value   # -1/3 a / b -> -a / (3 b)
                num = ([Num(c.numerator)] if c.numerator != 1 else []) + num[1:]
                den = [Num(c.denominator)] + den
            top = product(num, n.shape) if num else ONE
            if top.shape != n.shape:
                return n
            return Div(top, product(den, SCALAR))
    if isinstance(n, Hadamard):
        num = [f for f in n.factors if not (isinstance(f, EPow) and f.p < 0)]
        den = [f for f in n.factors if isinstance(f, EPow) and f.p < 0]
        if den and num:
            top = num[0] if len(num) == 1 else Hadamard(*num)
            bottom = [f.base if f.p == -1 else EPow(f.base, -f.p) for f in den]
            return EDiv(top, bottom[0] if len(bottom) == 1 else Hadamard(*bottom))
    if isinstance(n, Add):  # a - 8 b / c rather than a + (-8 b) / c
        terms = [_minus_quotient(t) for t in n.terms]
        # 1 - σ(s), not -σ(s) + 1: a sum opens with a term that is not negative
        first = next((i for i, t in enumerate(terms) if split_coef(t)[0] >= 0), 0)
        terms = [terms[first], *terms[:first], *terms[first + 1:]]
        return n if all(t is u for t, u in zip(terms, n.terms)) else Add(*terms)
    if isinstance(n, Power) and n.shape == SCALAR and n.p < 0:
        return Div(ONE, n.base if n.p == -1 else Power(n.base, -n.p))
    return n


def _minus_quotient(t: Expr) -> Expr:
    """(-c a) / b as -(c a / b), which a sum writes as a subtraction."""
    if not isinstance(t, Div):
        return t
    top, bottom = t.args
    c, core = split_coef(top)
    if c >= 0:
        return t
    return Mul(Num(-1), Div(with_coef(-c, core), bottom))


def _is_reciprocal(f: Expr) -> bool:
    return (isinstance(f, Power) and f.shape == SCALAR and f.p < 0) or \
        (isinstance(f, Div) and f.args[0] is ONE)


def _denominator(f: Expr) -> Expr:
    if isinstance(f, Div):
        return f.args[1]
    return f.base if f.p == -1 else Power(f.base, -f.p)
