"""Dimensions, their unification, declared properties, and shape inference.

A dimension is a positive ``int``, a declared name (``"n"``) or, while
inferring, a :class:`Var`.  Names and integers are rigid: two different ones
never unify.  A ``Var`` unifies with anything, except that the dimensions of an
inferred vector or matrix refuse 1: an undeclared ``x`` stays a vector and an
undeclared ``X`` a matrix, and using them as scalars is an error that suggests
the declaration (``s: scalar``).  ``vec`` and ``kron`` give product
dimensions (:class:`Prod`, printed ``n*m``).

Inference rules for undeclared names: an upper-case initial is a matrix, a
lower-case Latin initial a column vector, a Greek name (``λ``, or spelled out:
``lambda``, ``beta_1``) a scalar.  Scalar-ness is decided bottom-up: an operand
whose shape is known to be 1x1 makes ``*`` a scalar product and ``+`` a
broadcast.  Unsolved dimensions are named ``n, m, k, p, q, r, ...`` in order of
first appearance, skipping the names the document already uses.

The :class:`Elaborator` turns syntax nodes (``parser.Node``) into expressions
(``expr.py``) in two passes: ``infer`` checks and unifies shapes, recording a
plan (:class:`P`) with the decisions; ``build`` makes the hash-consed nodes
once every dimension is known.  Both are bounded: ``infer`` recurses at most as
deep as the parser allows, and ``build`` is iterative.
"""
from __future__ import annotations

import re
from fractions import Fraction

from . import expr as E
from .errors import MatdiffError
from .expr import _dim_mul
from .ops import ALIASES, BUILTINS, ELEMENTWISE, RESERVED, STRUCTURE, arity
from .parser import MAX_DEPTH, Node, Source
from .records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Optional

SCALAR = (1, 1)


# ---------------------------------------------------------------------------
# Dimensions and unification


class Var:
    """An unknown dimension."""

    __slots__ = ("id",)

    def __init__(self, id: int):
        self.id = id

    def __repr__(self):
        return f"?{self.id}"


class Prod:
    """The product of two dimensions, not both known (``vec``, ``kron``)."""

    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b

    def __repr__(self):
        return f"{self.a!r}*{self.b!r}"


def _rigid(d) -> bool:
    return isinstance(d, (int, str))


def dim_product(a, b):
    """``a*b``: folded when both are known, 1 dropped."""
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if isinstance(a, int) and a == 1:
        return b
    if isinstance(b, int) and b == 1:
        return a
    if _rigid(a) and _rigid(b):
        return _dim_mul(a, b)
    return Prod(a, b)


class Layer(dict):
    """A dict over a base dict: reads fall through, writes stay in the layer.

    Every problem of a document works on a layer over the document's scope, so
    that starting a problem costs O(1), not a copy of all the document has
    declared so far (which made reading a document quadratic in its length)."""

    __slots__ = ("base", "hidden")

    def __init__(self, base):
        super().__init__()
        self.base = base
        self.hidden: set = set()   # base keys this layer does not see

    def hide(self, key) -> None:
        self.hidden.add(key)

    def _in_base(self, key) -> bool:
        return key in self.base and key not in self.hidden

    def __missing__(self, key):
        if key in self.hidden:
            raise KeyError(key)
        return self.base[key]

    def get(self, key, default=None):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self.base.get(key, default) if key not in self.hidden else default

    def __contains__(self, key):
        return dict.__contains__(self, key) or self._in_base(key)

    def __iter__(self):
        yield from dict.__iter__(self)
        for k in self.base:
            if not dict.__contains__(self, k) and k not in self.hidden:
                yield k

    def keys(self):
        return list(self)

    def items(self):
        return [(k, self[k]) for k in self]

    def values(self):
        return [self[k] for k in self]

    def __len__(self):
        return sum(1 for _ in self)


class LayerSet:
    """A set over a base set, as Layer is a dict over a base dict."""

    __slots__ = ("own", "base")

    def __init__(self, base):
        self.own: set = set()
        self.base = base

    def __contains__(self, item):
        return item in self.own or item in self.base

    def add(self, item):
        self.own.add(item)

    def update(self, items):
        self.own.update(items)

    def discard(self, item):  # only what this layer added is ever undone
        self.own.discard(item)

    def __iter__(self):
        yield from self.own
        for x in self.base:
            if x not in self.own:
                yield x

    def __len__(self):
        return sum(1 for _ in self)


class Unifier:
    """Union-find over dimension variables, with rigid bindings.

    ``unify`` is atomic: when it fails, nothing has changed.
    """

    def __init__(self):
        self.parent: dict = {}
        self.rank: dict = {}
        self.binding: dict = {}
        self.nonunit: set = set()
        self.count = 0
        self.pending: list = []   # (a, b): products of dimensions not yet decidable
        self._trail: Optional[list] = None

    def copy(self) -> "Unifier":
        u = Unifier()   # layers over this one: O(1), whatever its size
        u.parent = Layer(self.parent)
        u.rank = Layer(self.rank)
        u.binding = Layer(self.binding)
        u.nonunit = LayerSet(self.nonunit)
        u.count = self.count
        u.pending = self.pending
        return u

    def new(self, nonunit: bool = False) -> Var:
        self.count += 1
        v = Var(self.count)
        if nonunit:
            self.nonunit.add(v)
        return v

    def find(self, v: Var) -> Var:
        parent = self.parent
        while v in parent:
            v = parent[v]
        return v

    def walk(self, d):
        """The dimension ``d`` stands for: an int, a name, an unbound root Var or a Prod."""
        if isinstance(d, Var):
            root = self.find(d)
            b = self.binding.get(root)
            return root if b is None else self.walk(b)
        if isinstance(d, Prod):
            return dim_product(self.walk(d.a), self.walk(d.b))
        return d

    def is_one(self, d) -> bool:
        d = self.walk(d)
        return isinstance(d, int) and d == 1

    def is_scalar(self, shape) -> bool:
        return self.is_one(shape[0]) and self.is_one(shape[1])

    def _record(self, table, key):
        if self._trail is not None:
            self._trail.append((table, key, table.get(key, _MISSING)))

    def _occurs(self, v, d) -> bool:
        d = self.walk(d)
        if d is v:
            return True
        return isinstance(d, Prod) and (self._occurs(v, d.a) or self._occurs(v, d.b))

    def _unify(self, a, b) -> bool:
        a, b = self.walk(a), self.walk(b)
        if a is b or (_rigid(a) and _rigid(b) and type(a) is type(b) and a == b):
            return True
        if not isinstance(a, Var) and isinstance(b, Var):
            a, b = b, a
        if isinstance(a, Var):
            if isinstance(b, Var):  # union by rank: a goes under b
                ra, rb = self.rank.get(a, 0), self.rank.get(b, 0)
                if ra > rb:
                    a, b = b, a
                elif ra == rb:
                    self._record(self.rank, b)
                    self.rank[b] = rb + 1
                self._record(self.parent, a)
                self.parent[a] = b
                if a in self.nonunit and b not in self.nonunit:
                    self._trail is not None and self._trail.append((None, b, None))
                    self.nonunit.add(b)
                return True
            if isinstance(b, int) and b == 1 and a in self.nonunit:
                return False
            if self._occurs(a, b):
                return False
            self._record(self.binding, a)
            self.binding[a] = b
            return True
        if isinstance(a, Prod) or isinstance(b, Prod):
            return self._unify_product(a, b)
        return False

    # Products of dimensions are unified as products: commutative, and without
    # pairing factors that the equation does not pair.  ``n*m = m*n`` holds as
    # it stands; ``v = n*m`` binds v; ``v*w = n*m`` is ambiguous and is kept
    # (``pending``) until more is known, or paired in order by :meth:`settle`.

    def _factors(self, d) -> list:
        """The factors of ``d``: ints > 1, names and unbound Vars."""
        out, stack = [], [d]
        while stack:
            d = self.walk(stack.pop())
            if isinstance(d, Prod):
                stack.append(d.b)
                stack.append(d.a)
            elif isinstance(d, str):
                for part in d.split("*"):
                    if part.isdigit():
                        if int(part) != 1:
                            out.append(int(part))
                    else:
                        out.append(part)
            elif not (isinstance(d, int) and d == 1):
                out.append(d)
        return out

    def _cancel(self, a, b):
        la, lb = self._factors(a), self._factors(b)
        rest = []
        for f in la:
            for i, g in enumerate(lb):
                if f is g or (not isinstance(f, Var) and type(f) is type(g) and f == g):
                    del lb[i]
                    break
            else:
                rest.append(f)
        return rest, lb

    @staticmethod
    def _product_of(factors):
        d = 1
        for f in factors:
            d = dim_product(d, f)
        return d

    def _unify_product(self, a, b, force: bool = False) -> bool:
        la, lb = self._cancel(a, b)
        if not la and not lb:
            return True
        if not la or not lb:  # the rest of one side is 1
            return all(self._unify(f, 1) for f in (la or lb))
        if len(la) == 1 and isinstance(la[0], Var):
            return self._unify(la[0], self._product_of(lb))
        if len(lb) == 1 and isinstance(lb[0], Var):
            return self._unify(lb[0], self._product_of(la))
        va = [f for f in la if isinstance(f, Var)]
        vb = [f for f in lb if isinstance(f, Var)]
        # a name left on one side can only be a factor of a variable on the other
        if (not vb and any(isinstance(f, str) for f in la)) or \
                (not va and any(isinstance(f, str) for f in lb)):
            return False
        if not va and not vb:
            ia = [f for f in la if isinstance(f, int)]
            ib = [f for f in lb if isinstance(f, int)]
            if (not ia and not ib) or [f for f in la if not isinstance(f, int)] \
                    or [f for f in lb if not isinstance(f, int)]:
                return False
            return self._product_of(ia) == self._product_of(ib)
        if not force:
            self._defer(a, b)
            return True
        # paired in order, until one side has one factor left (never deferred again)
        while len(la) > 1 and len(lb) > 1:
            if not self._unify(la.pop(0), lb.pop(0)):
                return False
        return self._unify_rest(la, lb)

    def _unify_rest(self, la, lb) -> bool:
        """Forced: the two sides after pairing, one of them (at least) a single factor."""
        la, lb = self._cancel(self._product_of(la), self._product_of(lb))
        if not la or not lb:
            return all(self._unify(f, 1) for f in (la or lb))
        if len(lb) == 1:
            la, lb = lb, la
        if len(la) != 1:
            return False  # pragma: no cover - the loop above leaves a single factor
        single = la[0]
        if isinstance(single, Var):
            return self._unify(single, self._product_of(lb))
        vs = [f for f in lb if isinstance(f, Var)]
        rigid = [f for f in lb if not isinstance(f, Var)]
        if not vs:
            return False
        if isinstance(single, int):
            k = self._product_of(rigid)
            if not isinstance(k, int) or single % k:
                return False
            value = single // k
        elif rigid:
            return False
        else:
            value = single
        return self._unify(vs[0], value) and all(self._unify(v, 1) for v in vs[1:])

    def _defer(self, a, b) -> None:
        if self._trail is not None:
            self._trail.append((_PENDING, None, self.pending))
        self.pending = self.pending + [(a, b)]

    def _retry_pending(self) -> bool:
        """Decide the deferred products that are now decidable; False if one fails."""
        changed = True
        while changed and self.pending:
            changed = False
            for i, (a, b) in enumerate(self.pending):
                before = self.pending
                rest = before[:i] + before[i + 1:]
                if self._trail is not None:
                    self._trail.append((_PENDING, None, before))
                self.pending = rest
                if not self._unify_product(a, b):
                    return False
                if self.pending is rest:  # decided
                    changed = True
                    break
                self.pending = before     # still ambiguous: as it was
        return True

    def settle(self) -> None:
        """Pair the factors of the products still ambiguous (before naming dimensions)."""
        while self.pending:
            a, b = self.pending[0]
            self.pending = self.pending[1:]
            self.unify_forced(a, b)

    def unify_forced(self, a, b) -> bool:
        outer = self._trail
        self._trail = trail = []
        try:
            ok = self._unify_product(a, b, force=True) and self._retry_pending()
        finally:
            self._trail = outer
        if not ok:
            self._undo(trail)
        elif outer is not None:
            outer.extend(trail)
        return ok

    def unify(self, *pairs) -> bool:
        """Unify each ``(a, b)`` pair; all or nothing."""
        outer = self._trail
        self._trail = trail = []
        try:
            ok = all(self._unify(a, b) for a, b in pairs)
            if ok and self.pending:
                ok = self._retry_pending()
        finally:
            self._trail = outer
        if ok:
            if outer is not None:
                outer.extend(trail)
            return True
        self._undo(trail)
        return False

    def _undo(self, trail) -> None:
        for table, key, old in reversed(trail):
            if table is _PENDING:
                self.pending = old
            elif table is None:
                self.nonunit.discard(key)
            elif old is _MISSING:
                del table[key]
            else:
                table[key] = old

    def begin(self) -> None:
        """Start recording changes (see :meth:`rollback`)."""
        self._trail = []

    def commit(self) -> None:
        self._trail = None

    def rollback(self) -> None:
        """Undo every change since :meth:`begin`."""
        if self._trail is not None:
            self._undo(self._trail)
        self._trail = None

    def unify_shapes(self, s, t) -> bool:
        return self.unify((s[0], t[0]), (s[1], t[1]))

    # naming and resolving

    def name_vars(self, dims, taken, names: Optional[dict] = None) -> dict:
        """Names for the unbound variables among ``dims`` (in order): n, m, k, ..."""
        names = {} if names is None else names
        given = set(names.values())
        pool = _name_pool(_Either(taken, given))
        stack = list(reversed(dims))
        while stack:
            d = self.walk(stack.pop())
            if isinstance(d, Var):
                if d not in names:
                    names[d] = next(pool)
            elif isinstance(d, Prod):
                stack.append(d.b)
                stack.append(d.a)
        return names

    def resolve(self, d, names: dict):
        """``d`` as an int or a name (every variable must be named)."""
        d = self.walk(d)
        if isinstance(d, Var):
            return names[d]
        if isinstance(d, Prod):
            return _dim_mul(self.resolve(d.a, names), self.resolve(d.b, names))
        return d

    def show(self, shape, names: dict) -> str:
        """A shape for messages: ``n×m``."""
        return "×".join(str(self.resolve(d, names)) for d in shape)


_MISSING = object()
_PENDING = object()
_POOL = ("n", "m", "k", "p", "q", "r", "s", "t", "u", "v", "w")


class _Either:
    """Membership in any of several collections, without copying them (a document's
    symbols grow with it: copying them for every problem would be quadratic)."""

    def __init__(self, *collections):
        self.collections = collections

    def __contains__(self, item) -> bool:
        return any(item in c for c in self.collections)


def _name_pool(used):
    for name in _POOL:
        if name not in used:
            yield name
    i = 1
    while True:
        for base in ("n", "m", "k"):
            name = f"{base}{i}"
            if name not in used:
                yield name
        i += 1


def decl_text(shape) -> str:
    """A resolved shape as the right-hand side of a declaration: ``n x m``, ``n``, ``scalar``."""
    if tuple(shape) == SCALAR:
        return "scalar"
    if shape[1] == 1:
        return str(shape[0])
    return f"{shape[0]} x {shape[1]}"


# ---------------------------------------------------------------------------
# Names

GREEK_NAMES = frozenset("""alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta
iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi varphi chi psi omega""".split())

#: functions of the specification that matdiff does not have yet
_SPECTRAL = ("this spectral function is not in matdiff yet (lambda_max(A) and lambda_min(A) "
             "are)")
NOT_YET = {
}

#: a norm's subscript written as a name after it (``||x||_1``) -> the built-in
NORM_SUBSCRIPTS = {"1": "norm1", "inf": "norm_inf", "∞": "norm_inf"}


def _integer_p(sub) -> bool:
    """``||x||_3``: an integer p >= 3 (p = 2 is the Euclidean norm's own token)."""
    return isinstance(sub, str) and sub.isdigit() and 3 <= int(sub) <= 64

_LATIN_HEAD = re.compile(r"[a-z]+")


def name_class(name: str) -> str:
    """How an undeclared name is inferred: ``matrix``, ``vector`` or ``scalar``."""
    c = name[0]
    if "\u0370" <= c <= "\u03ff" or "\u1f00" <= c <= "\u1fff":
        return "matrix" if c.isupper() else "scalar"
    if c.isupper():
        return "matrix"
    m = _LATIN_HEAD.match(name)
    if m and m.group() in GREEK_NAMES and (m.end() == len(name) or name[m.end()] in "_0123456789"):
        return "scalar"
    return "vector"


def reserved_message(name: str) -> str:
    return f"'{name}' is reserved ({RESERVED[name]})"


# ---------------------------------------------------------------------------
# What a statement sees


@dataclass(frozen=True)
class SymInfo:
    name: str
    shape: tuple          # dimension terms
    props: frozenset
    declared: bool
    line: Optional[int] = None


@dataclass(eq=False)
class DefInfo:
    name: str
    ir: "P"
    line: int
    index: int
    events: list  # what the body uses, in order: ("sym", name), ("var", Var), ("def", DefInfo), ("func", name)


@dataclass(frozen=True)
class FuncInfo:
    name: str
    param: str
    body: str
    line: int


class Scope:
    """Declarations, inferred symbols, definitions and functions seen so far."""

    def __init__(self):
        self.symbols: dict = {}
        self.defs: dict = {}
        self.funcs: dict = {}
        self.failed: dict = {}   # name -> line of a declaration/definition that failed
        self.dims: set = set()   # dimension names in use
        self.unifier = Unifier()

        self._journal: Optional[list] = None

    def copy(self) -> "Scope":
        s = Scope.__new__(Scope)  # layers: a problem's changes never reach the document
        s.symbols = Layer(self.symbols)
        s.defs = Layer(self.defs)
        s.funcs = Layer(self.funcs)
        s.failed = Layer(self.failed)
        s.dims = LayerSet(self.dims)
        s.unifier = self.unifier.copy()
        s._journal = None
        return s

    # A statement that fails leaves the scope as it found it: changes to the
    # symbols, the dimension names and the unifier are journaled and undone.

    def set_symbol(self, name: str, info: SymInfo) -> None:
        if self._journal is not None:
            self._journal.append((self.symbols, name, self.symbols.get(name, _MISSING)))
        self.symbols[name] = info

    def add_dim(self, name: str) -> None:
        if name not in self.dims:
            if self._journal is not None:
                self._journal.append((self.dims, name, None))
            self.dims.add(name)

    def begin(self) -> None:
        self._journal = []
        self.unifier.begin()

    def commit(self) -> None:
        self._journal = None
        self.unifier.commit()

    def rollback(self) -> None:
        for table, key, old in reversed(self._journal or []):
            if table is self.dims:
                self.dims.discard(key)
            elif old is _MISSING:
                del table[key]
            else:
                table[key] = old
        self._journal = None
        self.unifier.rollback()


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
    """A checked node waiting for its dimensions: ``op`` names the constructor."""

    __slots__ = ("op", "args", "shape", "node", "num")

    def __init__(self, op, args, shape, node=None, num=None):
        self.op = op
        self.args = args
        self.shape = shape
        self.node = node
        self.num = num


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
_OPNAMES = {"add": "add", "had": "multiply elementwise", "ediv": "divide elementwise"}


# ---------------------------------------------------------------------------
# The elaborator


class Elaborator:
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
        if node.kind == "name":
            info = self.scope.symbols.get(node.val)
            if info is not None and not info.declared:
                return info
        return None

    # -- the first pass

    def infer(self, node: Node) -> P:
        self.level += 1
        if self.level > MAX_DEPTH + 10:
            raise self.error("syntax", f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
                             node, "split it with definitions (h = ...) on separate lines")
        try:
            return getattr(self, "_" + node.kind)(node)
        finally:
            self.level -= 1

    def _num(self, node):
        return P("num", [node.val], SCALAR, node, num=node.val)

    def _name(self, node):
        n = node.val
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
        return self.use_symbol(n, node)

    def use_symbol(self, n, node):
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
        p = self.sym_plans.get(n)
        if p is None:
            p = self.sym_plans[n] = P("sym", [n], info.shape, node)
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
        if rn.kind == "name":
            hint = f"declare `{rn.val}: {self.decl_for(ls)}`, or check the shapes; " + hint
        elif self.is_inferred_symbol(ln):
            hint = f"declare `{ln.val}: {self.decl_for(rs)}`, or check the shapes; " + hint
        return self.error("shape", message, rn, hint)

    # products and the other operators of level 2

    def _chain(self, node):
        first = node.kids[0]
        negs = 0
        while first.kind == "neg" and not first.paren:
            negs += 1
            first = first.kids[0]
        items = []
        for op, k in zip(node.val, [first] + node.kids[1:]):
            # `B .* -A (C)` is `(B .* -A) C`, as `B .* -A C` is: the minus
            # belongs to A alone, and (C) is the next factor of the chain
            inner, minus = k, []
            while inner.kind == "neg" and not inner.paren:
                minus.append(inner)
                inner = inner.kids[0]
            split = None if inner.paren else self.split_apply(inner)
            if split is not None:
                name, rest = split
                for m in reversed(minus):
                    name = Node("neg", [name], None, m.start, name.end, name.depth + 1)
                items.append((op, name))
                items.append((("mul", rest.start, rest.start), rest))
            else:
                items.append((op, k))
        items = self.check_norm_subscripts(items)
        items = self.merge_log_det(items)
        return self.fold(items, negs, node)

    def check_norm_subscripts(self, items):
        """``||x||_1`` is the 1-norm (the lexer reads ``_1`` as a name: it is
        joined to the norm before it, with any power after it); ``||x||_inf``,
        ``||X||_*``: a subscript matdiff does not know is an error, never a
        product with a variable named ``_1``."""
        out = [items[0]] if items else []
        for (op, k) in items[1:]:
            prev = out[-1][1]
            atom, posts = k, []
            while atom.kind == "post" and not atom.paren:
                posts.append(atom)
                atom = atom.kids[0]
            if (atom.kind == "name" and atom.val.startswith("_") and not atom.paren
                    and prev.kind == "norm" and prev.end == atom.start):
                sub = atom.val[1:] or "*"
                if (sub in NORM_SUBSCRIPTS or _integer_p(sub)) and not prev.val and not prev.paren:
                    joined = Node("norm", prev.kids, sub, prev.start, atom.end, prev.depth)
                    for post in reversed(posts):
                        joined = Node("post", [joined] + post.kids[1:], post.val, prev.start,
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
            if (k.kind == "name" and k.val == "log" and not k.paren and i + 1 < len(items)
                    and items[i + 1][0][0] == "mul" and items[i + 1][0][1] == items[i + 1][0][2]):
                nxt = items[i + 1][1]
                if nxt.kind == "apply" and nxt.val == "det" and not nxt.paren:
                    merged = Node("apply", nxt.kids, "logdet", k.start, nxt.end, nxt.depth, nxt.extra)
                    out.append((op, merged))
                    i += 2
                    continue
            out.append((op, k))
            i += 1
        return out

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
            p = self.infer(k)
            if op is None:
                group, gnodes, kind, shape = [p], [k], None, p.shape
                continue
            o = op[0]
            span = (gstart, k.end)
            if o == "mul":
                if kind not in (None, "mul"):
                    left = finish()
                    group, gnodes, shape = [left], [Node("span", [], None, gstart, gnodes[-1].end)], left.shape
                shape = self.product_shape(shape, p, gnodes, k, span)
                group.append(p)
                gnodes.append(k)
                kind = "mul"
            elif o == "had":
                if kind not in (None, "had"):
                    left = finish()
                    group, gnodes = [left], [Node("span", [], None, gstart, gnodes[-1].end)]
                group.append(p)
                gnodes.append(k)
                kind = "had"
            else:
                left = finish()
                lnode = Node("span", [], None, gstart, gnodes[-1].end) if len(gnodes) > 1 else gnodes[0]
                p = self.binary(o, left, lnode, p, k, span)
                group, gnodes, kind, shape = [p], [Node("span", [], None, gstart, k.end)], None, p.shape
        return finish()

    def product_shape(self, ls, p, gnodes, k, span):
        """One step of a product chain: a scalar product, or a matrix product."""
        u = self.u
        rs = p.shape
        if u.is_scalar(ls):
            return rs
        if u.is_scalar(rs):
            return ls
        if u.unify((ls[1], rs[0])):
            return (ls[0], rs[1])
        lnode = gnodes[0] if len(gnodes) == 1 else Node("span", [], None, gnodes[0].start, gnodes[-1].end)
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
        if rn.kind == "name":
            shape = (u.resolve(ls[1], names), u.resolve(rs[1], names))
            return f"declare `{rn.val}: {decl_text(shape)}`, or check the order of the factors"
        if ln.kind == "name":
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

    def split_apply(self, node):
        """For ``A(x)`` (a product written like a call), possibly under postfix
        operators: (the name, the rest with the postfixes moved onto ``x``).
        Parentheses around ``node`` itself do not matter; inner ones do."""
        posts = []
        k = node
        while k.kind == "post" and (k is node or not k.paren):
            posts.append(k)
            k = k.kids[0]
        if k.kind == "dapply" and not (k.paren and k is not node) and not self.is_derivative(k):
            fname, order = k.val  # A'(x + y): A^T times (x + y)
        elif k.kind != "apply" or (k.paren and k is not node) or not self.is_product(k):
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
            rest = Node("post", [rest], post.val, arg.start, post.end, post.depth)
        name = Node("name", [], fname, k.start, k.start + len(fname))
        for _ in range(order):
            name = Node("post", [name], ("T",), k.start, k.extra[0], name.depth + 1)
        return name, rest

    def is_derivative(self, node) -> bool:
        """Is ``f'(x)`` the derivative of a user function (else a transpose times (x))?"""
        return node.val[0] in self.scope.funcs

    def _dapply(self, node):
        n, order = node.val
        if n in BUILTINS or n in ALIASES and n not in self.scope.symbols:
            raise self.error("name", f"{n}{chr(39) * order}(...): primes mark the derivative of a "
                                     "user function only", (node.start, node.extra[0]),
                             f"write the derivative out, or define g(t) := {n}(t) and use g'(...)")
        if not self.is_derivative(node):
            name, rest = self.split_apply(node)
            chain = Node("chain", [name, rest], [None, ("mul", rest.start, rest.start)],
                         node.start, node.end, node.depth)
            return self.infer(chain)
        return self.user_call(node, n, order)

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

    def _post(self, node):
        split = self.split_apply(node)
        if split is not None:
            name, rest = split
            chain = Node("chain", [name, rest], [None, ("mul", rest.start, rest.start)],
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
            operand = node.kids[0] if node.kind in ("post", "apply") and node.kids else node
            hint = "it applies to square matrices only"
            if operand.kind == "name":
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
            t = self.text(node.kids[0])
            raise self.error("shape", f"{t}^{k} is not defined for a vector ({t} is {self.show(p.shape)})",
                             node, f"for the elementwise power write {t}.^{k}; "
                                   f"for the squared norm write {t}^T {t} or ||{t}||^2")
        if k.denominator != 1:
            raise self.error("shape", f"a matrix power needs an integer exponent, not {k}", node,
                             "for the elementwise power write .^")
        if k == -1:
            return self.inverse(p, node)
        self.square(p, node, "a matrix power")
        if k < 0:
            return P("pow", [P("inv", [p], p.shape, node), -k], p.shape, node)
        return P("pow", [p, k], p.shape, node)

    # calls

    def _apply(self, node):
        n = node.val
        if n in self.scope.funcs:
            return self.user_call(node, node.val)
        if n in BUILTINS:
            return self.builtin(node)
        if n in ALIASES and not self.is_product(node):
            # matdiff writes sigmoid as σ: what it prints reads back
            return self.builtin(Node("apply", node.kids, ALIASES[n], node.start, node.end,
                                     node.depth, node.extra))
        if n == "T":
            raise self.error("name", "'T' is reserved for the transpose", node, "write x^T, x' or x.T")
        if self.is_product(node):
            name, rest = self.split_apply(node)
            chain = Node("chain", [name, rest], [None, ("mul", rest.start, rest.start)],
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
            from .usersym import derivative_text
            for _ in range(order):
                body = derivative_text(f.param, body)
        return P("func", [n + "'" * order, p, (f.param, body)], p.shape, node)

    def dim_arg(self, node, fname):
        if node.kind == "name" and not node.paren:
            self.scope.add_dim(node.val)
            return node.val
        if node.kind == "num" and node.val.denominator == 1 and node.val > 0:
            return int(node.val)
        if (node.kind == "chain" and not node.paren and all(op[0] == "mul" for op in node.val[1:])
                and all(k.kind in ("name", "num") and not k.paren for k in node.kids)):
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
            if a.kind == "apply" and a.val == "det" and len(a.kids) == 1:
                p = self.infer(a.kids[0])
                self.square(p, a, "logdet")
                return P("logdet", [p], SCALAR, node)
        if n in ELEMENTWISE:
            p = self.infer(args[0])
            return P("func", [n, p], p.shape, node)
        op = STRUCTURE[n]
        return SHAPE_RULES[op.shape](self, op, args, node)

    # the shape rules that built-ins declare (ops/structure.py), by name
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
                   if args[0].kind == "name" else "declare its variables so that it is square "
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

    # -- the second pass

    def _definition_ids(self) -> set:
        """{id(d.ir)} of the definitions reached, kept between builds (a document builds
        every definition: rebuilding the set each time was quadratic in their number)."""
        cached = getattr(self, "_def_ids", None)
        if cached is None or cached[0] != len(self.reached):
            cached = self._def_ids = (len(self.reached), {id(d.ir) for d in self.reached})
        return cached[1]

    def build(self, root: P, names: dict, memo: Optional[dict] = None) -> E.Expr:
        """The expression of a plan, every dimension named (iterative, memoised)."""
        memo = {} if memo is None else memo
        depth = getattr(self, "_depth", None)
        if depth is None:
            depth = self._depth = {}
        u = self.u
        symbols = self.scope.symbols
        # a definition is a name: the nesting of its body counts on its own line,
        # not again in every expression that uses it (h_L = tanh(W_L h_{L-1}), ...)
        definitions = self._definition_ids()
        stack = [(root, False)]
        while stack:
            p, ready = stack.pop()
            if id(p) in memo:
                continue
            kids = [a for a in p.args if isinstance(a, P)]
            if not ready:
                stack.append((p, True))
                stack.extend((k, False) for k in kids if id(k) not in memo)
                continue
            d = 1 + max((0 if id(k) in definitions else depth[id(k)] for k in kids), default=0)
            if d > MAX_DEPTH:
                node = p.node or self._first_node(p)
                raise self.error("syntax", f"the expression is nested too deeply "
                                           f"(more than {MAX_DEPTH} levels)",
                                 node if node is not None else self.span,
                                 "split it with definitions (h = ...) on separate lines")
            args = []
            for a in p.args:
                if isinstance(a, P):
                    args.append(memo[id(a)][0])
                elif isinstance(a, DimArg):
                    args.append(u.resolve(a.d, names))
                elif isinstance(a, ShapeArg):
                    args.append(tuple(u.resolve(x, names) for x in a.s))
                elif p.op in ("ones", "zeros") and isinstance(a, tuple):
                    args.append(tuple(u.resolve(x, names) for x in a))
                elif p.op == "id":
                    args.append(u.resolve(a, names))
                else:
                    args.append(a)
            try:
                if p.op == "sym":
                    info = symbols[args[0]]
                    e = E.Sym(args[0], tuple(u.resolve(x, names) for x in info.shape), info.props)
                else:
                    e = _BUILD[p.op](*args)
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
        self.u.settle()
        names = self.u.name_vars(self.dims, self.taken())
        return self.build(root, names, memo), names


#: shape rule (as a built-in declares it in ops/structure.py) -> how it is inferred
SHAPE_RULES = {
    "size -> square": Elaborator._size_square,
    "sizes -> commutation": Elaborator._sizes_commutation,
    "sizes -> matrix": Elaborator._sizes_matrix,
    "kron": Elaborator._kron,
    "square -> inverse": Elaborator._inverse,
    "square -> scalar": Elaborator._square_scalar,
    "square -> column": Elaborator._square_column,
    "square -> square": Elaborator._square_square,
    "matrix -> transposed": Elaborator._transposed,
    "vector or square -> diag": Elaborator._diag,
    "matrix -> column": Elaborator._stack,
    "column, sizes -> matrix": Elaborator._unstack,
    "column -> column": Elaborator._column,
    "column -> scalar": Elaborator._column,
    "vector -> scalar": Elaborator._vector_scalar,
    "vector -> p-norm": Elaborator._vector_norm,
    "vector -> vector": Elaborator._vector_vector,
    "matrix -> scalar": Elaborator._matrix_scalar,
    "matrix -> left column": Elaborator._singular, "matrix -> right column": Elaborator._singular,
    "matrix -> matrix": Elaborator._singular, "matrix -> singular values": Elaborator._singular,
    "matrix -> left factor": Elaborator._singular, "matrix -> right factor": Elaborator._singular,
}
