"""Sizes: the size of each dimension (from the data, a literal or a draw), and
whether the numbers of an evaluation fit in memory (``guard_memory`` refuses
sizes that would not, before anything is allocated).
"""
from __future__ import annotations

import numpy as np

from ..errors import MatdiffError
from ..expr import SCALAR, Commutation, Identity, Sym, walk


# =========================================================================== dimensions

class UnknownSize(ValueError):
    """A dimension whose size neither the data nor a literal fixes (``.dim``)."""

    def __init__(self, dim):
        super().__init__(f"the size of dimension {dim!r} is not known")
        self.dim = dim


def dim_size(d, sizes: dict) -> int:
    """The integer value of a dimension: an int, a name, or a product ``n*m``."""
    if isinstance(d, int):
        return d
    if d in sizes:
        return sizes[d]
    if "*" in d:
        out = 1
        for part in d.split("*"):
            out *= dim_size(part.strip(), sizes)
        return out
    raise UnknownSize(d)


def base_dims(roots) -> list:
    """The symbolic dimension names the expressions use (composites split), in order."""
    out: dict = {}
    for root in roots:
        for node in walk(root):
            dims = list(node.shape)
            if isinstance(node, (Identity, Commutation)):
                dims += list(node.args)
            for d in dims:
                if isinstance(d, str):
                    for part in d.split("*"):
                        out.setdefault(part.strip(), None)
    return list(out)


def sizes_from_values(roots, values: dict, sizes: dict | None = None) -> dict:
    """Dimension sizes read off the values of the variables (checked for consistency)."""
    sizes = dict(sizes or {})
    for root in roots:
        for node in walk(root):
            if isinstance(node, Sym) and node.name in values:
                _bind(node, np.shape(values[node.name]), sizes)
    return sizes


def _bind(sym: Sym, shape, sizes: dict) -> None:
    if sym.shape == SCALAR:
        return
    if len(shape) == 1:
        shape = (shape[0], 1)
    if len(shape) != 2:
        raise ValueError(f"{sym.name}: expected a 2-D value, got shape {shape}")
    for d, k in zip(sym.shape, shape):
        if isinstance(d, str) and "*" not in d:
            if sizes.setdefault(d, k) != k:
                raise ValueError(f"{sym.name}: dimension {d} is {sizes[d]} elsewhere, {k} here")
        elif isinstance(d, int) and d != k:
            raise ValueError(f"{sym.name}: expected {d} for a dimension, got {k}")


#: The most memory (bytes) the numbers of one evaluation may take: every
#: distinct node's value is held at once.  Larger sizes are refused up front.
MEMORY_LIMIT = 2 * 2**30


def footprint(roots, sizes: dict) -> tuple[int, object, tuple]:
    """(bytes, largest node, its shape) of evaluating roots at sizes: 8 bytes per
    entry of every distinct node.  Raises UnknownSize for a dimension not in sizes."""
    total, big, big_shape, big_k = 0, None, (), -1
    for node in walk(*roots):   # one memory for all the roots: a shared node once
        r, c = (dim_size(d, sizes) for d in node.shape)
        total += r * c
        if r * c > big_k:
            big, big_shape, big_k = node, (r, c), r * c
    return 8 * total, big, big_shape


class TooLarge(MatdiffError):
    """Sizes whose numbers would not fit (exit 3, like other things matdiff cannot do)."""


def guard_memory(roots, sizes: dict, limit: int | None = None) -> None:
    """Refuse (before anything is allocated) sizes whose numbers would not fit."""
    limit = MEMORY_LIMIT if limit is None else limit
    need, big, (r, c) = footprint(roots, sizes)
    if need <= limit:
        return
    from ..render.text import to_text

    what = big.name if isinstance(big, Sym) else to_text(big)
    what = what if len(what) <= 40 else what[:37] + "..."
    raise TooLarge(
        "unsupported", f"the numbers would need about {_bytes(need)} of memory ({what} alone "
        f"is {r} x {c}); matdiff evaluates at most {_bytes(limit)}",
        hint="use smaller sizes: declare symbolic dimensions (X: n x m) and let the check "
             "draw small ones, or bind smaller data")


def _bytes(k: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if k >= size:
            return f"{k / size:.1f} {unit}"
    return f"{k} bytes"
