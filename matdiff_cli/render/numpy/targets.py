"""How NumPy, ``jax.numpy`` and PyTorch spell what the rules write: one
:class:`Target` per library, so ``matdiff code`` renders the same tree for each."""
from __future__ import annotations

from .. import Doc
from .base import ATOM, MUL, NEG, at_least, call, postfix


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

    def transpose(self, a: Doc, node=None) -> Doc:
        return postfix(a, ".T", node)

    def kron(self, a: Doc, c: Doc, node=None) -> Doc:
        return call(self.fn("kron"), a, c, node=node)

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

    def transpose(self, a, node=None):
        """``t()``: a matrix's transpose, and a 1-D tensor as it is (``.T``
        on a 1-D tensor is deprecated)."""
        return Doc(ATOM, (at_least(a, ATOM), ".t()"), node)

    def kron(self, a, c, node=None):
        """``torch.kron`` raises on a transposed (not contiguous) operand beside a
        contiguous one (torch 2.14): each operand is made contiguous (a no-op when it is)."""
        a, c = (Doc(ATOM, (at_least(x, ATOM), ".contiguous()")) for x in (a, c))
        return call("torch.kron", a, c, node=node)

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
