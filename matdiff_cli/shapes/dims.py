"""Dimensions and their unification.

A dimension is a positive ``int``, a declared name (``"n"``) or, while
inferring, a :class:`Var`.  Names and integers are rigid: two different ones
never unify.  A ``Var`` unifies with anything, except that the dimensions of an
inferred vector or matrix refuse 1 (they are "non-unit").  ``vec`` and
``kron`` give product dimensions (:class:`Prod`, printed ``n*m``).  Unsolved
dimensions are named ``n, m, k, p, q, r, ...`` in order of first appearance,
skipping the names the document already uses.
"""
from __future__ import annotations

from ..expr import _dim_mul
from .layers import Layer, LayerSet, _Either

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


class Unifier:
    """Union-find over dimension variables, with rigid bindings.

    ``unify`` is atomic: when it fails, nothing has changed.
    """

    __slots__ = ("parent", "rank", "binding", "nonunit", "count", "pending", "_trail", "_shared")

    def __init__(self):
        self.parent: dict = {}
        self.rank: dict = {}
        self.binding: dict = {}
        self.nonunit: set = set()
        self.count = 0
        self.pending: list = []   # (a, b): products of dimensions not yet decidable
        self._trail: Optional[list] = None
        self._shared = False   # the tables are another unifier's own (see copy)

    def copy(self) -> "Unifier":
        """A unifier over this one: O(1), whatever its size.  It reads this one's
        tables until its first change, then layers over them (:meth:`_own`): a
        problem whose dimensions are all declared changes nothing."""
        u = Unifier.__new__(Unifier)
        u.parent = self.parent
        u.rank = self.rank
        u.binding = self.binding
        u.nonunit = self.nonunit
        u._shared = True
        u.count = self.count
        u.pending = self.pending
        u._trail = None
        return u

    def _own(self) -> None:
        self.parent = Layer(self.parent)
        self.rank = Layer(self.rank)
        self.binding = Layer(self.binding)
        self.nonunit = LayerSet(self.nonunit)
        self._shared = False

    def fix(self, names: dict) -> None:
        """Bind each named variable to its name."""
        if self._shared:
            self._own()
        for var, name in names.items():
            self.binding[var] = name

    def new(self, nonunit: bool = False) -> Var:
        self.count += 1
        v = Var(self.count)
        if nonunit:
            if self._shared:
                self._own()
            self.nonunit.add(v)
        return v

    def find(self, v: Var) -> Var:
        parent = self.parent
        while v in parent:
            v = parent[v]
        return v

    def walk(self, d):
        """The dimension ``d`` stands for: an int, a name, an unbound root Var or a Prod."""
        kind = type(d)   # (Var and Prod have no subclass)
        if kind is Var:
            parent = self.parent
            while d in parent:
                d = parent[d]
            b = self.binding.get(d)
            return d if b is None else self.walk(b)
        if kind is Prod:
            return dim_product(self.walk(d.a), self.walk(d.b))
        return d

    def is_one(self, d) -> bool:
        kind = type(d)
        if kind is str:   # a name (most dimensions) is never 1
            return False
        if kind is not int:
            d = self.walk(d)
        return isinstance(d, int) and d == 1

    def is_scalar(self, shape) -> bool:
        rows, cols = shape
        if type(rows) is str or type(cols) is str:   # a name is never 1
            return False
        if type(rows) is int and type(cols) is int:
            return rows == 1 and cols == 1
        return self.is_one(rows) and self.is_one(cols)

    def _record(self, table, key):
        if self._trail is not None:
            self._trail.append((table, key, table.get(key, _MISSING)))

    def _occurs(self, v, d) -> bool:
        d = self.walk(d)
        if d is v:
            return True
        return isinstance(d, Prod) and (self._occurs(v, d.a) or self._occurs(v, d.b))

    def _unify(self, a, b) -> bool:
        if type(a) is Var or type(a) is Prod:   # (a name or a number is itself)
            a = self.walk(a)
        if type(b) is Var or type(b) is Prod:
            b = self.walk(b)
        if a is b or (_rigid(a) and _rigid(b) and type(a) is type(b) and a == b):
            return True
        if not isinstance(a, Var) and isinstance(b, Var):
            a, b = b, a
        if isinstance(a, Var):
            if self._shared:
                self._own()
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
        if not self.pending:
            for a, b in pairs:   # known dimensions that agree (most): nothing to record
                if not (a is b or (type(a) is str or type(a) is int) and type(b) is type(a)
                        and a == b):
                    break
            else:
                return True
        outer = self._trail
        self._trail = trail = []
        try:
            ok = True
            for a, b in pairs:
                if not self._unify(a, b):
                    ok = False
                    break
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
        pool = None   # made at the first unbound variable (most problems have none)
        stack = list(reversed(dims))
        while stack:
            d = stack.pop()
            if type(d) is str or type(d) is int:
                continue   # a name or a number: nothing to name
            d = self.walk(d)
            if isinstance(d, Var):
                if d not in names:
                    if pool is None:
                        pool = _name_pool(_Either(taken, set(names.values())))
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

