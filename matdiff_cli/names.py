"""Names in matdiff's output: the user's are kept, matdiff's own never clash.

Next to the user's names matdiff writes names of its own: the direction
``dX`` of a variable X, shared subexpressions ``t1``, ``t2``, and in Python
the module (``np``, ``jnp``, ``torch``), the outputs ``value``, ``grad_X``,
``jvp_X`` and locals such as ``dtype``.  Each of matdiff's names is chosen
fresh: different from every name of the problem (variables, definitions,
functions, dimensions), from Python's keywords, builtins and module aliases,
and from every other name matdiff chose.  So:

* the direction of X is ``dX``, or ``d_X`` when ``dX`` is taken (then
  ``d_X_2``, ``d_X_3``, ...); shared subexpressions are the first free ``t1``,
  ``t2``, ...; a Python output is ``value`` / ``grad_X``, else ``value_2``...
* in Python a user's name is kept when it is an identifier that Python reads
  as itself (unchanged by NFKC normalization) and neither a keyword nor a
  module alias; any other gets trailing underscores until it is unique
  (``lambda`` -> ``lambda_``, ``np`` -> ``np_``; with ``lambda_`` also a
  variable, ``lambda`` -> ``lambda__``).  The mapping is injective.
"""
from __future__ import annotations

import builtins
import keyword
from operator import attrgetter

MODULES = frozenset({"np", "jnp", "jax", "torch"})
HARD = frozenset(keyword.kwlist)       # never usable as a Python name
AVOID = HARD | MODULES | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


def _nfkc(name: str) -> str:
    """The NFKC form of name (how Python reads an identifier); an ASCII name is
    its own, and ``unicodedata`` is imported only for the others."""
    if name.isascii():
        return name
    import unicodedata

    return unicodedata.normalize("NFKC", name)


def python_safe(name: str) -> bool:
    """Whether a user's name can be its own Python name (not a keyword, a module
    alias or a ``__special__`` name, and read by Python as itself)."""
    return (name.isidentifier() and (name.isascii() or _nfkc(name) == name)
            and name not in HARD and name not in MODULES
            and not (name.startswith("__") and name.endswith("__")))


def _identifier(name: str) -> str:
    """An identifier close to name: NFKC-normal, other characters as ``_``."""
    base = _nfkc(name)
    if base.startswith("__") and base.endswith("__"):
        base = base.strip("_") + "_"
    base = "".join(c if ("_" + c).isidentifier() else "_" for c in base) or "_"
    if not base.isidentifier():
        base = "_" + base
    return base


def problem_names(problem) -> set:
    """Every name the user gave in a problem: variables, definitions, functions,
    dimensions."""
    out = set(problem.symbols)
    out.update(problem.definitions, problem.functions)
    for s in problem.symbols.values():
        for d in s.shape:   # (_add_dimensions inline: a call per symbol cost)
            if isinstance(d, str):
                if "*" in d:
                    out.update(p.strip() for p in d.split("*"))
                else:
                    out.add(d.strip())
    return out


def dimension_names(shape) -> set:
    out: set = set()
    _add_dimensions(out, shape)
    return out


def _add_dimensions(out: set, shape) -> None:
    """Add the names of shape's dimensions to out (``n*m`` names n and m)."""
    for d in shape:
        if isinstance(d, str):
            if "*" in d:
                out.update(p.strip() for p in d.split("*"))
            else:   # (most: a plain name, no generator made)
                out.add(d.strip())


class Names:
    """The names of one output: the user's, and fresh ones of matdiff's."""

    def __init__(self, user=(), variables=()):
        self.user = set(user)
        self.user.update(map(_name, variables))
        # the names in use, but Python's own (AVOID, asked apart: a copy of two
        # hundred builtins per output cost more than the rest of the table)
        self.taken = set(self.user)
        self._py: dict = {}
        safe = _SAFE
        for name in self.user:       # the user's own names keep themselves
            ok = safe.get(name)
            if ok is None:
                if len(safe) >= 65536:
                    safe.clear()
                ok = safe[name] = python_safe(name)
            if ok:
                self._py[name] = name
        if len(self._py) < len(self.user):   # (most problems: every name is safe)
            for name in sorted(self.user):
                if name not in self._py:
                    self.python(name)
            self.taken |= set(self._py.values())
        self._directions: dict = {}
        self._counts: dict = {}   # the last number given, per prefix (u1, v1, t1, ...)
        self._tex: set | None = None     # the LaTeX forms taken (t1 and t_1 are both t_{1})
        # directions: dX where that is free, then d_X, d_X_2, ... for the rest
        # (``_used`` and ``_take`` inline: no LaTeX forms are kept yet)
        later = []
        directions, taken = self._directions, self.taken
        for v in variables:
            name = v.name
            if name in directions:
                continue
            d = "d" + name
            if d not in taken and d not in AVOID:
                taken.add(d)
                directions[name] = d
            else:
                later.append(name)
        for name in later:
            if name not in self._directions:
                self._directions[name] = self.fresh("d_" + name)

    @classmethod
    def of(cls, problem) -> "Names":
        """The names of a problem's outputs (the same every time for one problem).
        The first output gets a table of its own; from the second on, a table is
        built once more, kept unused and copied for each: a problem with n
        variables has n outputs, and building it each time cost n^2."""
        last, base = _LAST
        if last is not problem:   # a problem's first output (most have one): its own table
            _LAST[:] = [problem, None]
            return cls(problem_names(problem), problem.symbols.values())
        if base is None:   # its second: a table kept unused, copied for each output
            base = _LAST[1] = cls(problem_names(problem), problem.symbols.values())
        return base._copy()

    def _copy(self) -> "Names":
        new = object.__new__(Names)
        new.__dict__.update(self.__dict__)
        new.taken, new._py, new._directions = set(self.taken), dict(self._py), dict(self._directions)
        new._counts = dict(self._counts)
        new._tex = None if self._tex is None else set(self._tex)
        return new

    def _take(self, name: str) -> str:
        self.taken.add(name)
        if self._tex is not None:
            self._tex.add(_latex(name))
        return name

    def _used(self, name: str) -> bool:
        return name in self.taken or name in AVOID

    def _free(self, name: str) -> bool:
        """Neither the name nor its LaTeX form is in use."""
        if self._used(name):
            return False
        if self._tex is None:
            self._tex = {_latex(n) for n in self.taken if n not in AVOID}
        return _latex(name) not in self._tex

    def fresh(self, base: str) -> str:
        """base, or base_2, base_3, ...: the first name nobody uses."""
        name, k = base, 1
        while not self._free(name):
            k += 1
            name = f"{base}_{k}"
        return self._take(name)

    def numbered(self, prefix: str = "t") -> str:
        """The next free t1, t2, ... (u1, v1: each prefix counts on its own)."""
        k = self._counts.get(prefix, 0)
        while True:
            k += 1
            name = f"{prefix}{k}"
            if self._free(name):
                self._counts[prefix] = k
                return self._take(name)

    def direction(self, sym) -> str:
        """The name of the direction of the variable sym (``dX`` when free)."""
        name = self._directions.get(sym.name)
        if name is None:
            cand = "d" + sym.name
            name = self._take(cand) if not self._used(cand) else self.fresh("d_" + sym.name)
            self._directions[sym.name] = name
        return name

    def python(self, name: str) -> str:
        """The Python name of a name of the output (user's or matdiff's)."""
        out = self._py.get(name)
        if out is not None:
            return out
        if python_safe(name):
            out = name
        else:
            out = _identifier(name)
            while (self._used(out) or out in self.user or out in self._py.values()
                   or not python_safe(out)):
                out += "_"
        self._py[name] = out
        self.taken.add(out)
        return out


_name = attrgetter("name")
_LAST: list = [None, None]   # the last problem and its names (Names.of)
_SAFE: dict = {}   # name -> python_safe(name), for the names problems use again (bounded)


def definitions_by_node(problem) -> dict:
    """Each definition's canonical body -> its name, so results print in its terms."""
    out: dict = {}
    if problem.definitions:   # (most problems have none: no import statement run)
        from .simplify import present, simplify   # (names is below the engine)

        for name, body in problem.definitions.items():
            out.setdefault(present(simplify(body)), name)
            out.setdefault(body, name)
    return out


def renamed(naming: "Names", syms) -> dict:
    """name -> Python name of the variables that Python cannot use as they are
    (the JSON ``python_names``)."""
    out = {}
    for s in syms:
        py = naming.python(s.name)
        if py != s.name:
            out[s.name] = py
    return out


def _latex(name: str) -> str:
    global latex_name
    if latex_name is None:   # imported once: render.latex is not on a text path's start
        from .render.latex import latex_name
    return latex_name(name)


latex_name = None


def py_name(name: str) -> str:
    """The Python name of a lone name: ``lambda`` -> ``lambda_``, ``np`` -> ``np_``."""
    return Names([name]).python(name)


__all__ = ["Names", "MODULES", "AVOID", "python_safe", "problem_names", "py_name", "renamed",
           "definitions_by_node"]
