"""The strategy and what every rule shares: the rules by node type (``RULES``, each
a ``Rewrite``: one identity, as data, and why it terminates), the bottom-up,
memoised strategy and ``rules_fired``; the canonical order of terms (a stable
structural digest per node, tree sizes, sort keys); the helpers of the rules
(coefficients, zeros, transposes, products, declared properties)."""
from __future__ import annotations

from ..rational import Fraction

from ..expr import (
    ONE, SCALAR, ZERO, Broadcast, Diff, Expr, Identity, Mul, Num, Sym, Transpose, Zeros,
)
from ..expr import postorder_missing as _postorder_missing

try:  # the interpreter's own SHA-1: hashlib would load OpenSSL for this one digest
    from _sha1 import sha1 as _sha1
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import sha1 as _sha1

# Why each rule terminates: every rule says which of these it is, and the
# strategy applies the rules of a node until none changes it.
SHRINKS = "shrinks: the result has fewer leaves, or as many and fewer nodes"
PUSHES = ("pushes down: moves an operator (transpose, inverse, trace, a scalar) one level "
          "toward the leaves, where it stops")
NORMAL = ("normal form: its result is a fixed point of the rule (collected, sorted, merged), "
          "and it returns a node already so unchanged")
REPLACES = "replaces a node that no rule builds (a / c, a ./ b) by one that no rule undoes"
TERMINATION = (SHRINKS, PUSHES, NORMAL, REPLACES)


class Rewrite:
    """One simplification rule: an identity, as data, and the function that applies it
    to a node (returning the node itself when it does not apply)."""

    __slots__ = ("fn", "name", "identity", "terminates", "types", "operand")

    def __init__(self, fn, identity: str, terminates: str, types: tuple, operand=None):
        if terminates not in TERMINATION:
            raise ValueError(f"{fn.__name__}: say why it terminates ({terminates!r})")
        self.fn, self.name, self.identity = fn, fn.__name__, identity
        self.terminates, self.types, self.operand = terminates, types, operand

    def __call__(self, node: Expr) -> Expr:
        return self.fn(node)

    def __repr__(self) -> str:
        return f"Rewrite({self.name}: {self.identity})"


RULES: dict[type, list] = {}   # node type -> its rewrites, in the order they are tried


def rule(*types, identity: str, terminates: str, operand=None):
    """@rule(Transpose, identity="(A^T)^T = A", terminates=SHRINKS, operand=Transpose):
    a rewrite of those node types, tried after the ones filed before it.  ``operand``
    (a type or a tuple of types), when given, says the rule returns the node itself
    unless its first argument is of one of those types: it is then not tried on the
    others (most transposes and traces are of a symbol or a product, and would
    otherwise go through every rule of their type)."""
    def register(fn):
        rewrite = Rewrite(fn, identity, terminates, types, operand)
        for t in types:
            RULES.setdefault(t, []).append(rewrite)
        _TRIED.clear()
        return fn
    return register


_TRIED: dict = {}   # (node type, its first argument's type) -> the rewrites that may apply


def _tried(kind: type, operand: type) -> tuple:
    """The rewrites of a node of type kind whose first argument is of type operand."""
    out = _TRIED[kind, operand] = tuple(
        [r for r in RULES.get(kind, ()) if r.operand is None or issubclass(operand, r.operand)])
    return out


_canon: dict = {}
_fired: dict = {}   # a node a rule changed -> (the rewrite, its direct result)


# ---------------------------------------------------------------- strategy

def simplify(expr: Expr) -> Expr:
    """The canonical form of expr."""
    hit = _canon.get(expr)
    if hit is not None:
        return hit
    canon = _canon
    kids = []
    for c in expr.children:   # the common case: a rule's new node, its children canonical
        k = canon.get(c)
        if k is None:
            return _simplify_below(expr)
        kids.append(k)
    kids = tuple(kids)
    if kids == expr.children:   # expr itself is not in the memo (looked up above)
        rebuilt, out = expr, None
    else:
        rebuilt = expr.rebuild(kids)
        out = canon.get(rebuilt)
    if out is None:
        out = canon[rebuilt] = _normalise(rebuilt)
    canon[expr] = out
    canon.setdefault(out, out)
    return out


def _simplify_below(expr: Expr) -> Expr:
    """simplify(expr) for an expr with children not simplified yet: bottom-up over
    the nodes not in the memo, each made canonical as the walk leaves it (children
    before parents, in postorder_missing's order; no list of them first)."""
    canon = _canon
    get = canon.__getitem__
    stack = [expr]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node is None:   # the mark above a node whose children are in the memo now
            node = pop()
            if node in canon:   # simplified meanwhile (shared, or by a rule below it)
                continue
        elif node in canon:
            continue
        else:
            push(node)
            push(None)
            for c in node.children:
                if c not in canon:
                    push(c)
            if stack[-1] is not None:   # its children first
                continue
            pop()
            pop()
        children = node.children
        kids = tuple(map(get, children))
        rebuilt = node if kids == children else node.rebuild(kids)
        out = canon.get(rebuilt)
        if out is None:   # (a leaf of a kind without rules, as a symbol, is its own)
            out = _normalise(rebuilt) if children or type(node) in RULES else node
            canon[rebuilt] = out
        canon[node] = out
        canon.setdefault(out, out)
    return canon[expr]


def _normalise(node: Expr, made_by: Rewrite | None = None) -> Expr:
    """node rewritten by the first of its rules that changes it (but made_by, whose
    normal form node is), then made canonical; node itself when none does."""
    kind, operand = type(node), type(node._first)
    rewrites = _TRIED.get((kind, operand))
    if rewrites is None:
        rewrites = _tried(kind, operand)
    for rewrite in rewrites:
        if rewrite is made_by:
            continue
        out = rewrite.fn(node)
        if out is not node:
            assert out.shape == node.shape, (rewrite.name, node, out)
            _fired[node] = (rewrite, out)
            if type(out) is kind and rewrite.terminates is NORMAL:
                return _normal_form(out, rewrite)
            return simplify(out)
    return node


def _normal_form(out: Expr, made_by: Rewrite) -> Expr:
    """The canonical form of out, the result of a rule that makes a normal form (a
    sorted sum, a product, a rotated trace): once its children are canonical, the
    rule would leave it unchanged, so only the other rules of its type are tried
    (no second pass of the rule over its own result)."""
    canon = _canon
    for c in out.children:
        if canon.get(c) is not c:
            break
    else:   # (the common case: the children were canonical)
        hit = canon.get(out)
        if hit is None:   # (a product's one rule is made_by: no other to try)
            hit = canon[out] = _normalise(out, made_by) if len(RULES[type(out)]) > 1 else out
            canon.setdefault(hit, hit)
        return hit
    if tuple(map(simplify, out.children)) != out.children:   # the rule again, on new children
        return simplify(out)
    return _normal_form(out, made_by)


def rules_fired(expr: Expr) -> list:
    """The rewrites that took expr to its canonical form (each once, in the order of
    a walk from the leaves up): read back from what the memo recorded, so it costs
    a walk of expr and of the intermediate forms, whenever they were simplified."""
    from ..expr import postorder_missing

    simplify(expr)
    out: dict = {}
    seen: dict = {}
    todo = [expr]
    while todo:
        for node in postorder_missing(todo.pop(), seen):
            seen[node] = True
            kids = tuple(_canon.get(c, c) for c in node.children)
            rebuilt = node if kids == node.children else node.rebuild(kids)
            fired = _fired.get(rebuilt)
            if fired is not None:
                out.setdefault(fired[0], None)
                if fired[1] not in seen:
                    todo.append(fired[1])
    return list(out)

# ---------------------------------------------------------------- ordering

_info: dict = {}
_digests: dict = {}
_CAP = 10 ** 9


def info(e: Expr) -> tuple:
    """(digest, tree size, first symbol name, contains a differential), memoised.

    The digest is a stable structural fingerprint (the same across runs), so that
    sorting never depends on memory addresses."""
    return (digest(e),) + _facts(e)


def _facts(e: Expr) -> tuple:
    """(tree size, first symbol name, contains a differential), memoised: one walk
    fills all three."""
    info = _info
    hit = info.get(e)
    if hit is not None:
        return hit
    for node in _to_fill(e, info):
        children = node.children
        if not children:   # a leaf (half the nodes): a symbol leads with its name
            info[node] = (1, node.name, False) if isinstance(node, Sym) else _LEAF
            continue
        size, lead, has_diff = 1, "", isinstance(node, Diff)
        for c in children:
            sz, ld, hd = info[c]
            size += sz
            if not lead:
                lead = ld
            if hd:
                has_diff = True
        info[node] = (size if size < _CAP else _CAP, lead, has_diff)
    return info[e]


_LEAF = (1, "", False)   # the facts of a leaf that is not a symbol


def _to_fill(e: Expr, memo: dict):
    """The nodes of e (not in memo) that memo lacks, children first, as
    _postorder_missing lists them; without a walk in the common cases: e alone
    (its children are in), or one new child and e (the child's children are in)."""
    new = None
    for c in e.children:
        if c is not new and c not in memo:
            if new is not None:
                return _postorder_missing(e, memo)
            for g in c.children:
                if g not in memo:
                    return _postorder_missing(e, memo)
            new = c
    return (e,) if new is None else (new, e)


def digest(e: Expr) -> str:
    """The structural fingerprint of e, memoised (made only when asked: a sort reads
    it only between terms that tie on everything else)."""
    hit = _digests.get(e)
    if hit is not None:
        return hit
    digests = _digests
    for node in _to_fill(e, digests):
        data = [type(node).__name__]
        for a in node.args:
            if isinstance(a, Expr):
                data.append(digests[a])
            elif isinstance(a, frozenset):
                data.append(",".join(sorted(a)))
            else:
                data.append(repr(a))
        digests[node] = _sha1("|".join(data).encode()).hexdigest()[:16]
    return digests[e]


def tree_size(e: Expr) -> int:
    return (_info.get(e) or _facts(e))[0]   # (the memo read inline: most are in it)


def lead_name(e: Expr) -> str:
    """The first symbol name read left to right ('' for none)."""
    return (_info.get(e) or _facts(e))[1]


def contains_diff(e: Expr) -> bool:
    return (_info.get(e) or _facts(e))[2]


def any_diff(items) -> bool:
    """Does one of items contain a differential?"""
    for f in items:
        if (_info.get(f) or _facts(f))[2]:   # (the memo read inline: most items are in it)
            return True
    return False


class _Digest:
    """The last part of a sort key: compares as digest(node) does, and makes the
    digest only when a comparison reaches it (most keys differ before)."""

    __slots__ = ("node",)

    def __init__(self, node: Expr):
        self.node = node

    def __eq__(self, other):
        return self.node is other.node or digest(self.node) == digest(other.node)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __lt__(self, other):
        return digest(self.node) < digest(other.node)

    def __le__(self, other):
        return digest(self.node) <= digest(other.node)

    def __gt__(self, other):
        return digest(self.node) > digest(other.node)

    def __ge__(self, other):
        return digest(self.node) >= digest(other.node)

    __hash__ = None


_keys: dict = {}


def sort_key(e: Expr):
    """Terms: positive before negative (x - A s), then by first symbol, size and structure."""
    key = _keys.get(e)
    if key is None:
        negative = isinstance(e, Mul) and isinstance(e.factors[0], Num) and e.factors[0].value < 0
        size, lead, has_diff = _info.get(e) or _facts(e)
        key = _keys[e] = (isinstance(e, Num), has_diff, negative, lead, size, _Digest(e))
    return key

def _diff_rank(chain: list) -> int:
    if isinstance(chain[-1], Diff):
        return 0
    for f in chain:
        if (_info.get(f) or _facts(f))[2]:   # (contains_diff, inline: a call per factor)
            return 2 if not contains_diff(chain[-1]) else 1
    return 1


def _transposes_to_diff(f: Expr) -> bool:
    """Is the canonical transpose of f a differential?  Only dX^T's (dX) and, for a
    symmetric or 1x1 X, dX's are: without these in a chain, no rotation of its
    transpose ends in dX (and the transpose need not be made to rotate or orient it)."""
    if isinstance(f, Transpose):
        return isinstance(f.a, Diff)
    return isinstance(f, Diff) and (f.shape is SCALAR or is_symmetric(f))


def _chain_key(chain: list):
    """Rotations and 1x1 products: dX last, fewer transposes, a transpose first
    (tr(X^T A X B), not tr(A X B X^T)), then by structure."""
    return (_diff_rank(chain), [type(f) for f in chain].count(Transpose),  # (no subclass)
            not isinstance(chain[0], Transpose), _FactorKeys(chain))


class _FactorKeys:
    """The last part of a chain's key: compares as the list of its factors' sort
    keys (from the third part on) does, made only when a comparison reaches it."""

    __slots__ = ("chain", "keys")

    def __init__(self, chain: list):
        self.chain, self.keys = chain, None

    def _keys(self) -> list:
        if self.keys is None:
            self.keys = [sort_key(f)[2:] for f in self.chain]
        return self.keys

    def __eq__(self, other):
        return self._keys() == other._keys()

    def __lt__(self, other):
        return self._keys() < other._keys()

    __hash__ = None

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
    return _FRACTION_ONE, e


def coefficient(e: Expr):
    """The number of ``split_coef(e)``, without making the core (a product's rest);
    for a term without one the int 1, which compares and divides without a call
    into ``rational.py``."""
    if isinstance(e, Num):
        return e.value
    if isinstance(e, Mul) and isinstance(e.factors[0], Num):
        return e.factors[0].value
    if isinstance(e, Broadcast) and isinstance(e.args[0], Num):
        return e.args[0].value
    return 1


_FRACTION_ONE = Fraction(1)   # made once: a Fraction costs a call into fractions.py


def with_coef(c: Fraction, core: Expr) -> Expr:
    if c is _FRACTION_ONE:   # split_coef's coefficient of a term without one: core itself
        return core
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

def _parts(factors):
    """(coef, scalars, chain) of the factors of a canonical product."""
    coef, scalars, chain = 1, [], []
    for f in factors:
        if isinstance(f, Num):
            v = f.value   # a whole number keeps coef an int (Fraction arithmetic is slow)
            coef *= v.numerator if v.denominator == 1 else v
        elif f.shape is SCALAR:
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


# A nested sum (product, Hadamard product) is spliced into its parent only when it
# has at most this many terms.  A chain of definitions h_i = h_{i-1} + ... nests
# one sum in the next: splicing every level would rewrite i terms at level i
# (quadratic work, and output that grows as k^2); with the limit every node is
# rewritten in bounded work and a long sum stays a parenthesised term.
FLAT_LIMIT = 16
