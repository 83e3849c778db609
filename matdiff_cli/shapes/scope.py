"""What a statement sees: declared and inferred symbols, definitions, functions.

Inference rules for undeclared names (:func:`name_class`): an upper-case
initial is a matrix, a lower-case Latin initial a column vector, a Greek name
(``λ``, or spelled out: ``lambda``, ``beta_1``) a scalar.  A statement that
fails leaves the :class:`Scope` as it found it.
"""
from __future__ import annotations

from ..ops import RESERVED
from ..records import dataclass
from .dims import Unifier
from .layers import Layer, LayerSet

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Optional

    from .plans import P

_MISSING = object()

# ---------------------------------------------------------------------------
# Names

GREEK_NAMES = frozenset("""alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta
iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi varphi chi psi omega""".split())


_LATIN_LOWER = "abcdefghijklmnopqrstuvwxyz"


def name_class(name: str) -> str:
    """How an undeclared name is inferred: ``matrix``, ``vector`` or ``scalar``."""
    c = name[0]
    if "\u0370" <= c <= "\u03ff" or "\u1f00" <= c <= "\u1fff":
        return "matrix" if c.isupper() else "scalar"
    if c.isupper():
        return "matrix"
    rest = name.lstrip(_LATIN_LOWER)   # a spelled-out Greek letter, then an index or nothing
    if name[:len(name) - len(rest)] in GREEK_NAMES and (not rest or rest[0] in "_0123456789"):
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

    def __init__(self, name, shape, props, declared, line=None):
        # (written into the instance's dict: the record's own __init__ sets each field
        # through object.__setattr__, a slow call, and a document makes one per name)
        fields = self.__dict__
        fields["name"], fields["shape"], fields["props"] = name, shape, props
        fields["declared"], fields["line"] = declared, line


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

    __slots__ = ("symbols", "defs", "funcs", "failed", "dims", "unifier", "_journal", "_shared")

    def __init__(self):
        self.symbols: dict = {}
        self.defs: dict = {}
        self.funcs: dict = {}
        self.failed: dict = {}   # name -> line of a declaration/definition that failed
        self.dims: set = set()   # dimension names in use
        self.unifier = Unifier()

        self._journal: Optional[list] = None
        self._shared = False   # symbols and dims are another scope's own (see copy)

    def copy(self, hideable: bool = False) -> "Scope":
        """A scope over this one, for a problem: layers, so that its changes (symbols,
        dimensions, unifications) never reach the document.  A problem never changes
        the definitions, functions and failures: it reads the document's own, unless
        ``hideable`` (layers there too, so that a name can be hidden: ``hide``).
        The symbols and dimension names are this scope's own tables until the problem
        adds one (:meth:`_own`): most problems add none, and read them as plain dicts."""
        s = Scope.__new__(Scope)
        if hideable:
            s.symbols = Layer(self.symbols)
            s.defs = Layer(self.defs)
            s.funcs = Layer(self.funcs)
            s.failed = Layer(self.failed)
            s.dims = LayerSet(self.dims)
        else:
            s.symbols = self.symbols
            s.defs = self.defs
            s.funcs = self.funcs
            s.failed = self.failed
            s.dims = self.dims
        s._shared = not hideable
        s.unifier = self.unifier.copy()
        s._journal = None
        return s

    def _own(self) -> None:
        """Layers over the tables shared with the scope copied, before the first change."""
        self.symbols = Layer(self.symbols)
        self.dims = LayerSet(self.dims)
        self._shared = False

    def fix_names(self, names: dict) -> None:
        """The unknown dimensions named (a problem's, once read): fixed from now on."""
        if self._shared:
            self._own()
        self.unifier.fix(names)
        self.dims.update(names.values())

    # A statement that fails leaves the scope as it found it: changes to the
    # symbols, the dimension names and the unifier are journaled and undone.

    def set_symbol(self, name: str, info: SymInfo) -> None:
        if self._shared:
            self._own()
        if self._journal is not None:
            self._journal.append((self.symbols, name, self.symbols.get(name, _MISSING)))
        self.symbols[name] = info

    def add_dim(self, name: str) -> None:
        if name not in self.dims:
            if self._shared:
                self._own()
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

