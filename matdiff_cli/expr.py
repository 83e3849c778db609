"""Immutable, hash-consed expression nodes; every node knows its shape.

Nodes are interned: building the same node twice returns the same object, so
structural equality is identity, hashing is O(1) and a subexpression used in
several places is one object (a DAG, never expanded into a tree).  Rules that
walk expressions memoise on the node itself.

Shapes are ``(rows, cols)`` pairs of dimensions; a dimension is a positive
``int`` or a symbolic name (``str``).  A scalar is ``(1, 1)``, a column vector
``(n, 1)``.

``Mul`` follows the language's reading of a product chain: it is evaluated
left to right, and each step is a scalar multiplication when either side is
1x1, else a matrix product.  Constructors check shapes; an error there is a
bug in matdiff (user input is checked with spans before nodes are built).
"""
from __future__ import annotations

from fractions import Fraction

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Iterator, Union

Dim = "Union[int, str]"
Shape = tuple  # (Dim, Dim)
SCALAR: Shape = (1, 1)

PROPERTIES = ("symmetric", "spd", "diagonal", "orthogonal")


class ShapeMismatch(ValueError):
    """Raised by a node constructor given operands of incompatible shapes."""


_interned: dict = {}

#: how a node writes itself in a repr: ``render/text.py`` files its ``to_text``
#: here as it loads (this, the lowest layer, imports no renderer)
REPR_TEXT: list = []


class Expr:
    """Base of all nodes.  ``args`` holds the defining fields (children and data)."""

    __slots__ = ("args", "shape", "children")
    arity_names: tuple = ()

    def __new__(cls, *args):
        key = (cls, args)
        node = _interned.get(key)
        if node is None:
            node = object.__new__(cls)
            object.__setattr__(node, "args", args)
            object.__setattr__(node, "shape", cls._shape(*args))
            # the child nodes, computed once: every walk reads them
            object.__setattr__(node, "children", tuple(a for a in args if isinstance(a, Expr)))
            _interned[key] = node
        return node

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

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
        return self.shape == SCALAR

    def size(self) -> int:
        """Number of distinct nodes in this DAG."""
        return sum(1 for _ in walk(self))

    def __repr__(self):
        try:
            return f"<{type(self).__name__} {REPR_TEXT[0](self)}>"
        except Exception:  # repr must never fail (nor print before render.text is loaded)
            return f"<{type(self).__name__} {self.args!r}>"


def walk(root: Expr) -> Iterator[Expr]:
    """Every distinct node of the DAG once, children before parents (iterative)."""
    seen: set = set()
    add = seen.add
    stack = [(root, False)]
    pop, push = stack.pop, stack.append
    while stack:
        node, expanded = pop()
        if expanded:
            yield node
            continue
        if node in seen:
            continue
        add(node)
        children = node.children
        if not children:   # a leaf: no second visit (half the nodes)
            yield node
            continue
        push((node, True))
        for c in reversed(children):
            if c not in seen:
                push((c, False))


# --------------------------------------------------------------------------
# Leaves

class Sym(Expr):
    """A named variable or constant: ``Sym(name, shape, properties)``."""
    __slots__ = ()

    def __new__(cls, name: str, shape: Shape, props: frozenset = frozenset()):
        return super().__new__(cls, name, tuple(shape), frozenset(props))

    @staticmethod
    def _shape(name, shape, props):
        return shape

    name = property(lambda self: self.args[0])
    props = property(lambda self: self.args[2])

    def has(self, *props) -> bool:
        return any(p in self.args[2] for p in props)


#: the most bits of a numerator or denominator in a Num (about 1,000 digits);
#: the reader's literals and the folded powers stay far below
NUM_BITS = 3400


def _bounded(value: Fraction) -> Fraction:
    """``value``, unless its numerator or denominator exceeds NUM_BITS: numbers
    folded together grow (2,000 factors 1.0001, powers of powers), and one
    matdiff cannot print or evaluate is a result it cannot express."""
    if value.numerator.bit_length() > NUM_BITS or value.denominator.bit_length() > NUM_BITS:
        from .errors import MatdiffError

        raise MatdiffError(
            "unsupported", f"a number in the result would need more than {NUM_BITS * 3 // 10:,} "
                           "digits", hint="rescale the problem, or name the constant factors "
                                          "(declare `c: scalar`)")
    return value


class Num(Expr):
    """A scalar number, kept exact as a Fraction."""
    __slots__ = ()

    def __new__(cls, value):
        if not isinstance(value, Fraction):
            if isinstance(value, float):  # exact numbers only: a float here is a bug
                raise TypeError(f"Num needs an exact number, got the float {value!r}")
            value = Fraction(value)
        return super().__new__(cls, _bounded(value))

    @staticmethod
    def _shape(value):
        return SCALAR

    value = property(lambda self: self.args[0])


class Identity(Expr):
    """The identity matrix ``I`` (or ``eye(n)``) of size n."""
    __slots__ = ()

    @staticmethod
    def _shape(n):
        return (n, n)

    n = property(lambda self: self.args[0])


class Zeros(Expr):
    """The zero matrix of a shape (``zeros(n, m)``)."""
    __slots__ = ()

    def __new__(cls, shape):
        return super().__new__(cls, tuple(shape))

    @staticmethod
    def _shape(shape):
        return shape


class Ones(Expr):
    """The all-ones matrix of a shape (``ones(n)``, ``ones(n, m)``)."""
    __slots__ = ()

    def __new__(cls, shape):
        return super().__new__(cls, tuple(shape))

    @staticmethod
    def _shape(shape):
        return shape


class Diff(Expr):
    """The differential ``dX`` of a variable; also the direction of an operator."""
    __slots__ = ()

    @staticmethod
    def _shape(sym):
        return sym.shape

    sym = property(lambda self: self.args[0])


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

    terms = property(lambda self: self.args)


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
        shape = factors[0].shape
        for f in factors[1:]:
            shape = product_shape(shape, f.shape)
        return shape

    factors = property(lambda self: self.args)


class Hadamard(Expr):
    """The elementwise product ``a .* b .* ...``."""
    __slots__ = ()

    @staticmethod
    def _shape(*factors):
        if len(factors) < 2:
            raise ShapeMismatch("Hadamard needs two or more factors")
        return _same_shapes(".*", factors)

    factors = property(lambda self: self.args)


# --------------------------------------------------------------------------
# binary operators

class Div(Expr):
    """``a / c``: division by a scalar c."""
    __slots__ = ()

    @staticmethod
    def _shape(a, c):
        if c.shape != SCALAR:
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
        return super().__new__(cls, scalar, tuple(shape))

    @staticmethod
    def _shape(scalar, shape):
        if scalar.shape != SCALAR:
            raise ShapeMismatch("only a scalar is broadcast")
        return shape


class Power(Expr):
    """``a^p``: a scalar power, or an integer power of a square matrix."""
    __slots__ = ()

    def __new__(cls, base, p):
        return super().__new__(cls, base, _bounded(Fraction(p)))

    @staticmethod
    def _shape(base, p):
        if base.shape != SCALAR:
            if p.denominator != 1 or p < 0:
                raise ShapeMismatch("a matrix power needs a non-negative integer exponent")
            _square("^", base)
        return base.shape

    base = property(lambda self: self.args[0])
    p = property(lambda self: self.args[1])


class EPow(Expr):
    """``a.^p``: the elementwise power."""
    __slots__ = ()

    def __new__(cls, base, p):
        return super().__new__(cls, base, _bounded(Fraction(p)))

    @staticmethod
    def _shape(base, p):
        return base.shape

    base = property(lambda self: self.args[0])
    p = property(lambda self: self.args[1])


class Func(Expr):
    """An elementwise scalar function: ``Func(name, arg)``; ``Func(name, arg, body)``
    for a user function ``name(t) := body`` (body in matdiff's syntax, variable t)."""
    __slots__ = ()

    @staticmethod
    def _shape(name, arg, *body):
        return arg.shape

    name = property(lambda self: self.args[0])
    arg = property(lambda self: self.args[1])


# --------------------------------------------------------------------------
# unary operators

def _square(op, a):
    if a.shape[0] != a.shape[1]:
        raise ShapeMismatch(f"{op} needs a square matrix, got {a.shape}")


class Unary(Expr):
    __slots__ = ()
    a = property(lambda self: self.args[0])


class Transpose(Unary):
    """``a^T``."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[1], a.shape[0])


class Inverse(Unary):
    """``a^-1`` of a square matrix."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("inv", a)
        return a.shape


class Trace(Unary):
    """``tr(a)``."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("tr", a)
        return SCALAR


class Det(Unary):
    """``det(a)``."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("det", a)
        return SCALAR


class LogDet(Unary):
    """``logdet(a)`` = log(det(a)), where det(a) > 0."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("logdet", a)
        return SCALAR


class Sum(Unary):
    """``sum(a)``: the sum of all entries."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return SCALAR


class Norm2(Unary):
    """``||x||``: the Euclidean norm of a vector."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1 and a.shape[0] != 1:
            raise ShapeMismatch("||.||_2 needs a vector")
        return SCALAR


class Norm1(Unary):
    """``||x||_1``: the sum of the magnitudes of a vector's entries."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1 and a.shape[0] != 1:
            raise ShapeMismatch("||.||_1 needs a vector")
        return SCALAR


class NormInf(Unary):
    """``||x||_inf``: the largest magnitude of a vector's entries."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1 and a.shape[0] != 1:
            raise ShapeMismatch("||.||_inf needs a vector")
        return SCALAR


class OneHotMax(Unary):
    """``onehot_max(x)``: the vector of x's shape with 1 at x's largest entry, 0
    elsewhere (e_k, k = argmax x; piecewise constant)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1 and a.shape[0] != 1:
            raise ShapeMismatch("onehot_max needs a vector")
        return a.shape


class NormF(Unary):
    """``||X||_F``: the Frobenius norm."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return SCALAR


class DiagM(Unary):
    """``diag(x)``: the diagonal matrix of a column vector."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1:
            raise ShapeMismatch("diag(x) needs a column vector")
        return (a.shape[0], a.shape[0])


class DiagV(Unary):
    """``diag(X)``: the column vector of a square matrix's diagonal."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("diag", a)
        return (a.shape[0], 1)


class Vec(Unary):
    """``vec(X)``: the columns of X stacked (column-major)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (_dim_mul(a.shape[0], a.shape[1]), 1)


class Unvec(Expr):
    """``unvec(v, n, m)``: the n x m matrix whose vec is v (column-major), vec's inverse."""
    __slots__ = ()

    def __new__(cls, a, shape):
        return super().__new__(cls, a, tuple(shape))

    @staticmethod
    def _shape(a, shape):
        if a.shape != (_dim_mul(shape[0], shape[1]), 1):
            n, m = shape
            raise ShapeMismatch(f"unvec(v, {n}, {m}) needs a column v of {n}*{m} entries, and the "
                                f"shape of v here is not determined by that alone; declare the "
                                f"shapes of its variables (e.g. X: {n} x {m})")
        return tuple(shape)

    a = property(lambda self: self.args[0])


class Softmax(Unary):
    """``softmax(x)`` of a column vector."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1:
            raise ShapeMismatch("softmax needs a column vector")
        return a.shape


class LogSumExp(Unary):
    """``logsumexp(x)`` of a column vector."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        if a.shape[1] != 1:
            raise ShapeMismatch("logsumexp needs a column vector")
        return SCALAR



class LambdaMax(Unary):
    """``lambda_max(a)``: the largest eigenvalue of a square matrix (symmetric:
    real; differentiated where it is simple)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("lambda_max", a)
        return SCALAR


class LambdaMin(Unary):
    """``lambda_min(a)``: the smallest eigenvalue of a square matrix."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("lambda_min", a)
        return SCALAR


class EigVecMax(Unary):
    """``eigvec_max(a)``: the unit eigenvector of lambda_max(a), a column (its
    sign is NumPy's ``eigh``'s; v v^T does not depend on it)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("eigvec_max", a)
        return (a.shape[0], 1)


class EigVecMin(Unary):
    """``eigvec_min(a)``: the unit eigenvector of lambda_min(a), a column."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("eigvec_min", a)
        return (a.shape[0], 1)


class LeftVecMax(Unary):
    """``leftvec_max(a)``: the unit left eigenvector u of lambda_max(a)
    (uᵀ a = λ uᵀ), a column; for a symmetric a it is eigvec_max(a)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("leftvec_max", a)
        return (a.shape[0], 1)


class LeftVecMin(Unary):
    """``leftvec_min(a)``: the unit left eigenvector of lambda_min(a), a column."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("leftvec_min", a)
        return (a.shape[0], 1)


class EigVals(Unary):
    """``eigvals(a)``: the eigenvalues of a symmetric matrix, ascending (NumPy's
    ``eigvalsh``), a column; differentiated where they are distinct."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("eigvals", a)
        return (a.shape[0], 1)


class EigVecs(Unary):
    """``eigvecs(a)``: the unit eigenvectors of a symmetric matrix, the columns in
    the order of eigvals(a) (NumPy's ``eigh``; V diag(λ) V^T = a)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        _square("eigvecs", a)
        return a.shape


class Pinv(Unary):
    """``pinv(a)``: the Moore-Penrose pseudo-inverse (n x m for an m x n a);
    differentiated where the rank of a is constant."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[1], a.shape[0])


# singular values: X = U diag(σ) Vᵀ (thin SVD, σ descending, as NumPy's svd)

def _svd_rank(op, a):
    """min(n, m) of an n x m matrix: its number of singular values.  Dimensions
    cannot write min(n, m), so a square matrix or numbers only."""
    n, m = a.shape
    if n == m:
        return n
    if isinstance(n, int) and isinstance(m, int):
        return min(n, m)
    raise ShapeMismatch(f"{op} of a non-square matrix has min({n}, {m}) entries, which matdiff "
                        "cannot write; it needs a square matrix or numeric sizes")


class SigmaMax(Unary):
    """``sigma_max(a)``: the largest singular value (the spectral norm ||a||_2 of a
    matrix; of a vector, its Euclidean norm)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return SCALAR


class SVecLeftMax(Unary):
    """``svec_left_max(a)``: the unit left singular vector u1 of sigma_max(a), a column
    of a's rows (a v1 = σ1 u1; its sign is NumPy's svd's, u1 v1ᵀ does not depend on it)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[0], 1)


class SVecRightMax(Unary):
    """``svec_right_max(a)``: the unit right singular vector v1 of sigma_max(a), a
    column of a's columns (aᵀ u1 = σ1 v1)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[1], 1)


class SvdVals(Unary):
    """``svdvals(a)``: the singular values, descending, a column of min(n, m)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (_svd_rank("svdvals", a), 1)


class SvdU(Unary):
    """``svd_u(a)``: U of the thin SVD a = U diag(svdvals(a)) Vᵀ, n x min(n, m)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[0], _svd_rank("svd_u", a))


class SvdV(Unary):
    """``svd_v(a)``: V of the thin SVD (not Vᵀ), m x min(n, m)."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return (a.shape[1], _svd_rank("svd_v", a))


class NormNuc(Unary):
    """``norm_nuc(a)``, ``||a||_*``: the nuclear norm, the sum of the singular values."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return SCALAR


class Polar(Unary):
    """``polar(a)``: U Vᵀ of the thin SVD, the orthogonal polar factor of a (a =
    polar(a) (aᵀ a)^(1/2) for a of full rank), of a's shape."""
    __slots__ = ()

    @staticmethod
    def _shape(a):
        return a.shape

# --------------------------------------------------------------------------
# small helpers used across the engine

ZERO = Num(0)
ONE = Num(1)


def zeros_like(e: Expr) -> Expr:
    return ZERO if e.shape == SCALAR else Zeros(e.shape)


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
    the walk does not enter a node in ``done``."""
    out, stack, seen = [], [(root, False)], set()
    while stack:
        node, ready = stack.pop()
        if node in done or (not ready and node in seen):
            continue
        if ready:
            out.append(node)
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((c, False) for c in node.children if c not in done)
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
