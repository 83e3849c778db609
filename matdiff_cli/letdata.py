"""Data from --let: numbers bound to a problem's variables, checked against the
declared shapes and properties, and the dimensions they fix."""
from __future__ import annotations

import numpy as np

from .errors import MatdiffError
from .expr import SCALAR
from .numeric import check_let_value, property_violation


def bind_values(problem, bindings: dict, needed) -> tuple[dict, dict]:
    """(values, sizes) from --let data, checked against the declared shapes."""
    values = {}
    syms = {s.name: s for s in needed}
    missing = [n for n in syms if n not in bindings]
    if missing:
        raise MatdiffError(
            "usage", "no value for " + ", ".join(missing),
            hint="bind every variable, e.g. " + " ".join(f'--let "{n}=[[1,2],[3,4]]"' for n in missing[:2]),
            statement=problem.source, line=problem.line)
    for name, sym in syms.items():
        try:
            check_let_value(bindings[name])
        except ValueError as e:
            raise MatdiffError("usage", f"the value of {name} cannot be used: {e}",
                               statement=problem.source, line=problem.line) from None
        a = np.asarray(bindings[name], dtype=float)
        if a.ndim == 0:
            if sym.shape != SCALAR:
                raise MatdiffError("shape", f"{name} is {sym.shape[0]} x {sym.shape[1]} but its "
                                   "value is a number", statement=problem.source, line=problem.line)
            values[name] = float(a)
            continue
        if a.ndim == 1:
            a = a.reshape(-1, 1) if sym.shape[1] == 1 or sym.shape[0] != 1 else a.reshape(1, -1)
        if a.ndim != 2:
            raise MatdiffError("shape", f"the value of {name} is not a matrix",
                               statement=problem.source, line=problem.line)
        broken = property_violation(sym, a)
        if broken:   # the declared structure is what the derivatives assume: refuse
            raise MatdiffError("shape", f"the data breaks a declaration: {broken}",
                               statement=problem.source, line=problem.line,
                               hint="give data with the declared structure, or drop the "
                                    "property from the declaration")
        values[name] = a
    return values, _sizes_of(problem, syms, values)


def _sizes_of(problem, syms: dict, values: dict) -> dict:
    """The dimensions the data fixes, each checked against every use of it."""
    sizes: dict = {}
    source: dict = {}   # dimension -> where it was fixed, for the message
    for name, sym in syms.items():
        if sym.shape == SCALAR:
            continue
        got = np.shape(values[name])
        for axis, (d, k) in enumerate(zip(sym.shape, got)):
            where = f"{name}'s {'rows' if axis == 0 else 'columns'}"
            if isinstance(d, int) or "*" in str(d):
                expected = d if isinstance(d, int) else None
                if expected is not None and expected != k:
                    raise _misfit(problem, f"{name} is {_show(sym.shape)}, its value "
                                  f"{got[0]} x {got[1]}: {where} should be {d}")
                continue
            if d in sizes and sizes[d] != k:
                raise _misfit(problem, f"the dimension {d} is {sizes[d]} from {source[d]} but "
                              f"{k} from {where} (the value of {name} is {got[0]} x {got[1]})")
            sizes.setdefault(d, k)
            source.setdefault(d, where)
    return sizes


def _show(shape) -> str:
    return f"{shape[0]} x {shape[1]}"


def _misfit(problem, message: str) -> MatdiffError:
    return MatdiffError("shape", "the data does not fit the shapes: " + message,
                        statement=problem.source, line=problem.line,
                        hint="--let values are JSON lists: a flat list is a column vector, "
                             "a list of rows a matrix")
