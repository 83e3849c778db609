"""One canonical form: named rewrite rules per node type, composed by a small strategy.

``simplify(e)`` rewrites bottom-up over the DAG (memoised, iterative over the
input), and at each node applies the first rule of its type that changes it,
then canonicalises the result again.  Every rule returns its input unchanged
when it does not apply.  The canonical form:

* sums are flat (up to FLAT_LIMIT spliced terms), without zeros, like terms
  collected, terms sorted;
* products are ``coefficient · scalar factors (sorted) · matrix chain``; a 1x1
  sub-chain (``y^T z`` inside ``x y^T z``) is a scalar factor; a 1x1 chain is
  written the way round that puts a differential last (``x^T A dx``, not
  ``dx^T A^T x``), else with fewer transposes;
* transposes are pushed through products to the leaves and vanish on
  symmetric matrices; ``A^-T`` is ``Transpose(Inverse(A))``;
* traces are linear, pull scalars out, vanish on 1x1 products (``tr(x y^T)``
  is ``y^T x``) and are rotated so that a differential comes last, else to one
  fixed rotation;
* declared properties are used: ``Q^T Q = I`` for orthogonal Q, ``A^T = A``
  for symmetric A;
* neighbours in a chain merge as signed powers of one base: ``A^2 A^-3 = A^-1``,
  ``X^T X^-T = I``;
* outside differentials, a factor shared by every term of a sum is written
  once: ``A x + A^T x = (A + A^T) x``.  Inside a trace, a sum holding the
  differential is distributed instead, so each term can bring dX to its end.

Products are otherwise never expanded over sums: ``2 A^T (A x - b)`` stays
factored, so that results stay as short as the input (no DAG is expanded into
a tree).
``present`` turns the canonical form into its printed form (negative powers
as divisions, a lone broadcast scalar as ``c ones(n, m)``).

The rules are filed by node type in ``RULES`` (``core.py``: the strategy, the
canonical order of terms, the helpers the rules share) by the modules of their
families: ``algebra`` (sums, powers, elementwise products), ``products`` and
``structure`` (transposes, inverses, traces, reductions, diag/vec);
``present`` is the printed form.
"""
from __future__ import annotations

from . import algebra, products, structure  # noqa: F401  (each files its rules)
from .algebra import _num_power
from .core import (
    FLAT_LIMIT, RULES, Rewrite, T, contains_diff, digest, info, lead_name, rule, rules_fired,
    simplify, sort_key, split_coef, tree_size, with_coef, zero,
)
from .present import present

__all__ = ["RULES", "FLAT_LIMIT", "Rewrite", "T", "contains_diff", "digest", "info", "lead_name",
           "present", "rule", "rules_fired", "simplify", "sort_key", "split_coef", "tree_size",
           "with_coef", "zero", "_num_power"]
