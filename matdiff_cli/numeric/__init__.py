"""Numbers: NumPy evaluation, property-respecting random points, finite differences.

* ``evaluator.py``: :func:`evaluate` computes an expression at a point, once per
  distinct node of the DAG, children first with an explicit stack; ``value``
  holds the NumPy rule of each node type.
* ``sampling.py``: :func:`sample_values` draws a random point at which the
  expressions are defined and well conditioned, with every declared property
  holding (``constraints``, ``acceptable``); :func:`sample_direction`.
* ``differences.py``: the finite-difference oracle of ``check``
  (:func:`directional_derivative`, :func:`second_directional_derivative`,
  :func:`relative_error`) and its Richardson estimates (first, second, mixed, k-th).
* ``sizes.py``: the size of each dimension; :func:`guard_memory` (sizes that
  would not fit, refused before allocating).
* ``guards.py``: faults at the edges, refused in words before they become
  numbers: :func:`read_let_value`, :func:`property_violation`,
  :func:`undefined_at`, :func:`quiet` (no NumPy warning reaches the streams).

This face hands on the names the rest of the package uses.
"""
from __future__ import annotations

from .differences import (  # noqa: F401
    directional_derivative, first_derivative, kth_derivative, relative_error,
    second_derivative, second_directional_derivative,
)
from .evaluator import evaluate, evaluate_all, value  # noqa: F401
from .guards import check_let_value, property_violation, quiet, read_let_value, undefined_at  # noqa: F401
from .sampling import (  # noqa: F401
    acceptable, constraints, draw_symbol, random_orthogonal, sample_direction, sample_values,
)
from .sizes import (  # noqa: F401
    MEMORY_LIMIT, TooLarge, UnknownSize, base_dims, dim_size, footprint, guard_memory,
    sizes_from_values,
)

__all__ = ["evaluate", "evaluate_all", "sample_values", "sample_direction", "draw_symbol",
           "constraints", "random_orthogonal", "directional_derivative",
           "second_directional_derivative", "relative_error", "dim_size", "sizes_from_values",
           "UnknownSize", "TooLarge", "MEMORY_LIMIT", "quiet", "footprint", "guard_memory",
           "read_let_value", "check_let_value", "property_violation", "undefined_at",
           "first_derivative", "second_derivative", "kth_derivative"]
