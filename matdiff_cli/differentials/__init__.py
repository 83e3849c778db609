"""d(expr): one differential rule per node type, filed by family (the package is
named in the plural: ``matdiff_cli.differential`` is the public API's function).

Each rule receives the node and the differentials of its children (already
computed, or placeholders ``Diff(child)`` when tracing steps) and returns the
node's differential; it is filed with its name and its identity, as data
(``--steps`` writes them: ``identity_of``).  The engine owns the walk and the
memo, so the cost is linear in the size of the expression DAG: a subexpression
shared by several parents (a definition) is differentiated once and its
differential is shared.

Where each rule is:

- ``algebra.py``: constants, linear maps, products, quotients, powers, inverses;
- ``reductions.py``: det, logdet, the norms, softmax, logsumexp;
- ``eigen.py``: lambda_max / lambda_min, eigenvectors, eigvals, eigvecs;
- ``singular.py``: pinv, sigma_max, svdvals, the nuclear norm, singular vectors, polar;
- ``elementwise.py``: the chain rule of an elementwise function;
- ``registry.py``: the table (``rule``, ``RULES``, ``identity_of``, ``apply_rule``);
- ``engine.py``: the walk (``differential``, ``depends_on``).

Importing the package loads ``algebra.py``; the other families are imported
when a node of theirs is first differentiated (``registry.rule_of``, by the
module of the node's class: start-up loads only what a problem needs).  Reading
``RULES``, ``RULE_NAMES`` or ``RULE_IDENTITIES`` from the package loads every
family first, so the tables read there are complete.
"""
from __future__ import annotations

from . import algebra  # noqa: F401  (files its rules)
from .algebra import LONG_CHAIN, MIN_GROUPED, d_trace_power, power_of  # noqa: F401
from .engine import depends_on, differential  # noqa: F401
from .registry import apply_rule, identity_of, load_families, rule, rule_of  # noqa: F401

_TABLES = ("RULES", "RULE_NAMES", "RULE_IDENTITIES")


def __getattr__(name: str):
    if name in _TABLES:  # the complete tables: every family loaded first
        from . import registry

        load_families()
        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
