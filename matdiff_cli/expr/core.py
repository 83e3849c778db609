"""Immutable, hash-consed expression nodes; every node knows its shape.

Nodes are interned: building the same node twice returns the same object, so
structural equality is identity, hashing is O(1) and a subexpression used in
several places is one object (a DAG, never expanded into a tree).  Rules that
walk expressions memoise on the node itself.  A node is never changed once made
(it is shared); nothing guards its fields (a __setattr__ guard made writing the
four fields of every new node four calls, 5 % of the work of deriving).

Shapes are ``(rows, cols)`` pairs of dimensions; a dimension is a positive
``int`` or a symbolic name (``str``).  A scalar is ``(1, 1)``, a column vector
``(n, 1)``.

``Mul`` follows the language's reading of a product chain: it is evaluated
left to right, and each step is a scalar multiplication when either side is
1x1, else a matrix product.  Constructors check shapes; an error there is a
bug in matdiff (user input is checked with spans before nodes are built).
"""
from __future__ import annotations

from ..rational import Fraction


TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Iterator, Union

Dim = "Union[int, str]"
Shape = tuple  # (Dim, Dim)
SCALAR: Shape = (1, 1)

PROPERTIES = ("symmetric", "spd", "diagonal", "orthogonal")


class ShapeMismatch(ValueError):
    """Raised by a node constructor given operands of incompatible shapes."""


_new = object.__new__

#: how a node writes itself in a repr: ``render/text.py`` files its ``to_text``
#: here as it loads (this, the lowest layer, imports no renderer)
REPR_TEXT: list = []


class Expr:
    """Base of all nodes.  ``args`` holds the defining fields (children and data)."""

    __slots__ = ("args", "shape", "children", "_first")
    arity_names: tuple = ()
    _nodes: dict = {}   # the nodes made of a class, by their args (each class its own)
    _operands_only: bool = False   # every arg a node (no data field): the args are the children

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._nodes = {}   # (keyed on args alone: no (class, args) pair to make per call)

    def __new__(cls, *args):
        node = cls._nodes.get(args)
        if node is None:
            node = _new(cls)
            node.args = args
            shape = cls._shape(*args)   # every 1x1 shape is SCALAR itself: tests read `is`
            node.shape = SCALAR if shape is not SCALAR and shape == SCALAR else shape
            node._first = args[0] if args else None   # what .a, .name, ... read
            # the child nodes, made once (every walk reads them): most kinds' are their args
            children = args
            if not cls._operands_only:
                for a in args:
                    if not isinstance(a, Expr):
                        children = tuple([a for a in args if isinstance(a, Expr)])
                        break
            node.children = children
            cls._nodes[args] = node
        return node

    def __reduce__(self):
        return (type(self), self.args)

    @staticmethod
    def _shape(*args) -> Shape:  # pragma: no cover - every node overrides
        raise NotImplementedError

    def rebuild(self, children) -> "Expr":
        """The same node over new children (data fields kept)."""
        it = iter(children)
        return type(self)(*[next(it) if isinstance(a, Expr) else a for a in self.args])

    @property
    def is_scalar(self) -> bool:
        return self.shape is SCALAR

    def size(self) -> int:
        """Number of distinct nodes in this DAG."""
        return sum(1 for _ in walk(self))

    def __repr__(self):
        try:
            return f"<{type(self).__name__} {REPR_TEXT[0](self)}>"
        except Exception:  # repr must never fail (nor print before render.text is loaded)
            return f"<{type(self).__name__} {self.args!r}>"


def walk(*roots: Expr) -> Iterator[Expr]:
    """Every distinct node of the DAG (of several DAGs: one memory for all, so a
    shared piece is visited once) once, children before parents (iterative).
    The nodes are listed first (filling a list costs less than resuming a
    generator per node)."""
    out: list = []
    seen: set = set()
    for root in roots:
        _postorder_into(root, seen, out)
    return iter(out)


def nodes(root: Expr) -> list:
    """The nodes of ``walk(root)``, in its order, as a list.  The list of the last
    root is kept (a problem's expression is read by the division check, then by
    the differential): read it, never change it."""
    if _last_nodes[0] is root:
        return _last_nodes[1]
    out: list = []
    _postorder_into(root, set(), out)
    _last_nodes[:] = [root, out]
    return out


def _postorder_into(root: Expr, seen: set, out: list) -> None:
    """Append root's nodes not in seen to out, children first, and mark them seen."""
    if root in seen:
        return
    append, add = out.append, seen.add
    stack = [root]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node is None:   # the mark pushed above a node whose children are listed now
            append(pop())
            continue
        if node in seen:
            continue
        add(node)
        children = node.children
        if not children:   # a leaf: no second visit (half the nodes)
            append(node)
            continue
        push(node)
        push(None)   # (a mark, not a pair per node: no tuple to make and unpack)
        for c in reversed(children):
            if c not in seen:
                push(c)


_last_nodes: list = [None, None]


#: the descriptor of the args slot: an n-ary node's terms or factors are its args,
#: read through it as fast as ``args`` (a property would be a call per read)
_ARGS = Expr.__dict__["args"]
#: ... and of the first arg (a unary node's operand, a symbol's name, a number's value)
_FIRST = Expr.__dict__["_first"]


# --------------------------------------------------------------------------
# Leaves

class Sym(Expr):
    """A named variable or constant: ``Sym(name, shape, properties)``."""
    __slots__ = ()

    def __new__(cls, name: str, shape: Shape, props: frozenset = frozenset()):
        return Expr.__new__(cls, name, tuple(shape), frozenset(props))

    @staticmethod
    def _shape(name, shape, props):
        return shape

    name = _FIRST
    props = property(lambda self: self.args[2])

    def has(self, *props) -> bool:
        return not self.args[2].isdisjoint(props)


#: the most bits of a numerator or denominator in a Num (about 1,000 digits);
#: the reader's literals and the folded powers stay far below
NUM_BITS = 3400


def _bounded(value: Fraction) -> Fraction:
    """``value``, unless its numerator or denominator exceeds NUM_BITS: numbers
    folded together grow (2,000 factors 1.0001, powers of powers), and one
    matdiff cannot print or evaluate is a result it cannot express."""
    if value.numerator.bit_length() > NUM_BITS or value.denominator.bit_length() > NUM_BITS:
        from ..errors import MatdiffError

        raise MatdiffError(
            "unsupported", f"a number in the result would need more than {NUM_BITS * 3 // 10:,} "
                           "digits", hint="rescale the problem, or name the constant factors "
                                          "(declare `c: scalar`)")
    return value


class Num(Expr):
    """A scalar number, kept exact as a Fraction."""
    __slots__ = ()

    def __new__(cls, value):
        if type(value) is Fraction or type(value) is int:   # interned? (2 equals Fraction(2))
            node = cls._nodes.get((value,))
            if node is not None:
                return node
        if not isinstance(value, Fraction):
            if isinstance(value, float):  # exact numbers only: a float here is a bug
                raise TypeError(f"Num needs an exact number, got the float {value!r}")
            value = Fraction(value)
        return Expr.__new__(cls, _bounded(value))

    @staticmethod
    def _shape(value):
        return SCALAR

    value = _FIRST


class Identity(Expr):
    """The identity matrix ``I`` (or ``eye(n)``) of size n."""
    __slots__ = ()

    @staticmethod
    def _shape(n):
        return (n, n)

    n = _FIRST


class Zeros(Expr):
    """The zero matrix of a shape (``zeros(n, m)``)."""
    __slots__ = ()

    def __new__(cls, shape):
        return Expr.__new__(cls, tuple(shape))

    @staticmethod
    def _shape(shape):
        return shape


class Ones(Expr):
    """The all-ones matrix of a shape (``ones(n)``, ``ones(n, m)``)."""
    __slots__ = ()

    def __new__(cls, shape):
        return Expr.__new__(cls, tuple(shape))

    @staticmethod
    def _shape(shape):
        return shape


class Diff(Expr):
    """The differential ``dX`` of a variable; also the direction of an operator."""
    __slots__ = ()

    @staticmethod
    def _shape(sym):
        return sym.shape

    sym = _FIRST


class Commutation(Expr):
    """The commutation matrix K(m,n): K vec(A) = vec(A^T) for A of shape m x n."""
    __slots__ = ()

    @staticmethod
    def _shape(m, n):
        return (_dim_mul(m, n), _dim_mul(m, n))


# --------------------------------------------------------------------------
# n-ary operators

def _same_shapes(op, items):
    first = items[0].shape
    for it in items[1:]:
        if it.shape != first:
            raise ShapeMismatch(f"{op}: {first} vs {it.shape}")
    return first


class Add(Expr):
    """A sum of two or more terms of one shape."""
    __slots__ = ()

    @staticmethod
    def _shape(*terms):
        if len(terms) < 2:
            raise ShapeMismatch("Add needs two or more terms")
        return _same_shapes("+", terms)

    terms = _ARGS   # the args themselves (read without a call)


def product_shape(left: Shape, right: Shape) -> Shape:
    """Shape of one step of a product chain: scalar multiplication or matmul."""
    if left == SCALAR:
        return right
    if right == SCALAR:
        return left
    if left[1] != right[0]:
        raise ShapeMismatch(f"product: {left} times {right}")
    return (left[0], right[1])


class Mul(Expr):
    """A product chain ``f1 f2 ... fk`` read left to right (see module doc)."""
    __slots__ = ()

    @staticmethod
    def _shape(*factors):
        if len(factors) < 2:
            raise ShapeMismatch("Mul needs two or more factors")
        shape = None   # product_shape, step by step (a call per factor costs), with one
        for f in factors:   # tuple comparison per factor: None while the chain is 1x1
            right = f.shape
            if right is not SCALAR:
                if shape is None:
                    shape = right
                elif shape[1] == right[0]:
                    shape = (shape[0], right[1])
                else:   # a 1x1 chain scaling right (x^T y A), or the mismatch
                    shape = product_shape(shape, right)
        return factors[0].shape if shape is None else shape

    factors = _ARGS


class Hadamard(Expr):
    """The elementwise product ``a .* b .* ...``."""
    __slots__ = ()

    @staticmethod
    def _shape(*factors):
        if len(factors) < 2:
            raise ShapeMismatch("Hadamard needs two or more factors")
        return _same_shapes(".*", factors)

    factors = _ARGS


# --------------------------------------------------------------------------
# binary operators

class Div(Expr):
    """``a / c``: division by a scalar c."""
    __slots__ = ()

    @staticmethod
    def _shape(a, c):
        if c.shape is not SCALAR:
            raise ShapeMismatch(f"division by a non-scalar {c.shape}")
        return a.shape


class EDiv(Expr):
    """``a ./ b``: elementwise division."""
    __slots__ = ()

    @staticmethod
    def _shape(a, b):
        return _same_shapes("./", (a, b))


class Kron(Expr):
    """``a ⊗ b``: the Kronecker product."""
    __slots__ = ()

    @staticmethod
    def _shape(a, b):
        return (_dim_mul(a.shape[0], b.shape[0]), _dim_mul(a.shape[1], b.shape[1]))


def _dim_mul(p: Dim, q: Dim) -> Dim:
    """Product of two dimensions; a symbolic product is written ``m*n`` with its
    factors sorted (so that n*m and m*n are one dimension) and numbers first."""
    k, names = 1, []
    for d in (p, q):
        for part in (d.split("*") if isinstance(d, str) else (d,)):
            if isinstance(part, int) or part.isdigit():
                k *= int(part)
            else:
                names.append(part)
    if not names:
        return k
    return "*".join(([str(k)] if k != 1 else []) + sorted(names))


class Broadcast(Expr):
    """A scalar repeated over a shape: the ``1`` in ``1 + exp(z)``."""
    __slots__ = ()

    def __new__(cls, scalar, shape):
        return Expr.__new__(cls, scalar, tuple(shape))

    @staticmethod
    def _shape(scalar, shape):
        if scalar.shape is not SCALAR:
            raise ShapeMismatch("only a scalar is broadcast")
        return shape


def _square(op, a):
    if a.shape[0] != a.shape[1]:
        raise ShapeMismatch(f"{op} needs a square matrix, got {a.shape}")


class Power(Expr):
    """``a^p``: a scalar power, or an integer power of a square matrix."""
    __slots__ = ()

    def __new__(cls, base, p):
        if type(p) is Fraction or type(p) is int:   # interned? (2 equals Fraction(2))
            node = cls._nodes.get((base, p))
            if node is not None:
                return node
        return Expr.__new__(cls, base, _bounded(Fraction(p)))

    @staticmethod
    def _shape(base, p):
        if base.shape is not SCALAR:
            if p.denominator != 1 or p < 0:
                raise ShapeMismatch("a matrix power needs a non-negative integer exponent")
            _square("^", base)
        return base.shape

    base = _FIRST
    p = property(lambda self: self.args[1])


class EPow(Expr):
    """``a.^p``: the elementwise power."""
    __slots__ = ()

    def __new__(cls, base, p):
        if type(p) is Fraction or type(p) is int:   # interned? (2 equals Fraction(2))
            node = cls._nodes.get((base, p))
            if node is not None:
                return node
        return Expr.__new__(cls, base, _bounded(Fraction(p)))

    @staticmethod
    def _shape(base, p):
        return base.shape

    base = _FIRST
    p = property(lambda self: self.args[1])


class Func(Expr):
    """An elementwise scalar function: ``Func(name, arg)``; ``Func(name, arg, body)``
    for a user function ``name(t) := body`` (body in matdiff's syntax, variable t)."""
    __slots__ = ()

    @staticmethod
    def _shape(name, arg, *body):
        return arg.shape

    name = _FIRST
    arg = property(lambda self: self.args[1])


for _kind in (Diff, Add, Mul, Hadamard, Div, EDiv, Kron):   # (and Unary: unary.py)
    _kind._operands_only = True

# --------------------------------------------------------------------------
# small helpers used across the engine

ZERO = Num(0)
ONE = Num(1)


def zeros_like(e: Expr) -> Expr:
    return ZERO if e.shape is SCALAR else Zeros(e.shape)


def is_zero(e: Expr) -> bool:
    return e is ZERO or type(e) is Zeros   # numbers are interned: Num(0) is ZERO


def preorder(root: Expr) -> Iterator[Expr]:
    """Every distinct node once, parents first, read left to right (iterative)."""
    seen: set = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        yield node
        stack.extend(reversed(node.children))


def postorder_missing(root: Expr, done) -> list:
    """The nodes of root not in ``done``, children first, each once (iterative);
    the walk does not enter a node in ``done``.  (The last child is listed first:
    rules_fired's order of steps follows it.)"""
    out, stack, seen = [], [root], set()
    append, add, pop, push = out.append, seen.add, stack.pop, stack.append
    while stack:
        node = pop()
        if node is None:   # the mark above a node whose children are listed now
            append(pop())   # (done does not change during the walk)
            continue
        if node in seen or node in done:
            continue
        add(node)
        children = node.children
        if not children:   # a leaf: listed now, no second visit
            append(node)
            continue
        push(node)
        push(None)   # (a mark, not a pair per node, as in _postorder_into)
        for c in children:
            if c not in done:
                push(c)
    return out


def symbols(e: Expr) -> list:
    """The Sym leaves of e, in order of first appearance (left to right)."""
    out, seen = [], set()
    for node in preorder(e):
        if isinstance(node, Sym) and node.name not in seen:
            seen.add(node.name)
            out.append(node)
    return out


def node_types() -> tuple:
    """Every concrete node type (a class that states its own shape), in order of
    definition: the completeness test walks these."""
    out, stack = [], list(reversed(Expr.__subclasses__()))
    while stack:
        cls = stack.pop()
        if "_shape" in vars(cls):
            out.append(cls)
        stack.extend(reversed(cls.__subclasses__()))
    return tuple(out)
