"""The context the rules render in: dimensions as Python expressions read off
the variables (``X.shape[0]``), the output's names, and the target library."""
from __future__ import annotations

from ...expr import Diff, Sym
from .. import Context, leaf
from .base import ATOM, NoNumpyCode
from .targets import Target


# --------------------------------------------------------------------------- context

#: the library of a context given none (it holds no state that NumPy's code changes)
NUMPY = Target()


class NumpyContext(Context):
    """Renders with a table of dimension -> Python expression (``X.shape[0]``),
    the names of the output (:class:`matdiff_cli.names.Names`) and a target."""

    def __init__(self, names, dims: dict, naming=None, target: Target | None = None):
        self.names = names or {}   # (Context.__init__'s, without a second call: one per result)
        self.docs: dict = {}
        self.dims = dims
        self.naming = naming if naming is not None else naming_for([], names)
        self.py = self.naming.python   # a name's Python name (``lambda_``)
        self.lib = target if target is not None else NUMPY
        self.ordered = False  # products planned (render/plan.py): multi_dot, solve, broadcasting
        # factorisations the code binds (base.factorisation): {(fn, node, options): name}
        self.factored: dict = {}

    def direction(self, sym) -> str:
        return self.naming.python(self.naming.direction(sym))

    def name_doc(self, node, name):
        return leaf(ATOM, self.py(name))

    def dim(self, d) -> str:
        """A Python expression for dimension d; ValueError if no variable has it."""
        if isinstance(d, int):
            return str(d)
        if d in self.dims:
            return self.dims[d]
        if "*" in d:
            return "(" + " * ".join(self.dim(p.strip()) for p in d.split("*")) + ")"
        raise NoNumpyCode(
            "unsupported", f"the NumPy code needs the size of the dimension {d}, which no "
            "variable of the problem carries",
            hint=f"declare a variable with the dimension {d}, or write the size as a number")

    def shape(self, shape) -> str:
        return f"({self.dim(shape[0])}, {self.dim(shape[1])})"


def naming_for(nodes, names=None, bound=()):
    """The names of an output made of nodes (and the extra symbols bound), when
    the caller has no problem-wide :class:`Names`."""
    from ...names import Names, dimension_names

    syms, user = [], set((names or {}).values())
    for n in list(nodes) + list(bound):
        s = n.sym if isinstance(n, Diff) else n
        if isinstance(s, Sym) and s.name not in user:
            syms.append(s)
            user.add(s.name)
            user |= dimension_names(s.shape)
    return Names(user, syms)


def dimension_table(nodes, bound=(), naming=None) -> dict:
    """dimension -> ``var.shape[i]`` from the variables and directions among
    nodes (first first), then from the extra symbols ``bound``."""
    if naming is None:
        naming = naming_for(nodes, None, bound)
    table: dict = {}
    directions = [n.sym for n in nodes if isinstance(n, Diff)]  # prefer dX to the X of dX
    sources = [n for n in nodes if isinstance(n, Diff) or (isinstance(n, Sym) and n not in directions)]
    sources += directions + list(bound)
    for s in sources:
        if isinstance(s, Sym):
            var = naming.python(s.name)
        elif isinstance(s.sym, Sym):
            var = naming.python(naming.direction(s.sym))
        else:
            continue
        for i, d in enumerate(s.shape):
            if isinstance(d, str) and d not in table:
                table[d] = f"{var}.shape[{i}]"
    return table


class LazyDimensions:
    """``dimension_table(*args)``, made when a rule first asks for a dimension:
    most code names none (``np.eye(X.shape[0])`` is rare), so most problems
    never pay for the table."""

    __slots__ = ("args", "table")

    def __init__(self, *args):
        self.args = args
        self.table = None

    def _made(self) -> dict:
        if self.table is None:
            self.table = dimension_table(*self.args)
        return self.table

    def __contains__(self, d) -> bool:
        return d in self._made()

    def __getitem__(self, d) -> str:
        return self._made()[d]


def numpy_or_none(fn, *args, **kwargs):
    """(code, None), or (None, the reason) when no NumPy code can be written."""
    try:
        return fn(*args, **kwargs), None
    except NoNumpyCode as e:
        return None, e.message
