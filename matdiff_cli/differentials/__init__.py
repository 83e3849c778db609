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

- ``algebra.py``: the syntax's operations: constants, sums, transposes,
  broadcasts, products, quotients, powers;
- ``elementwise.py``: the chain rule of an elementwise function;
- each built-in's (trace, det, the norms, lambda_max, ...): in its block in
  ``ops/``, filed here by ``registry.py`` as it loads;
- ``registry.py``: the table (``rule``, ``RULES``, ``identity_of``, ``apply_rule``);
- ``engine.py``: the walk (``differential``, ``depends_on``).

Importing the package loads ``algebra.py`` and the built-ins' rules;
``elementwise.py`` is imported when a node of its classes' module is first
differentiated (``registry.rule_of``: start-up loads only what a problem
needs).  Reading ``RULES``, ``RULE_NAMES`` or ``RULE_IDENTITIES`` from the
package loads every family first, so the tables read there are complete.
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
