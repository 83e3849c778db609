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

Importing the package loads every family, so ``RULES`` is complete.
"""
from __future__ import annotations

from . import algebra, eigen, elementwise, reductions, singular  # noqa: F401  (each files its rules)
from .algebra import LONG_CHAIN, MIN_GROUPED, d_trace_power, power_of  # noqa: F401
from .engine import depends_on, differential  # noqa: F401
from .registry import RULE_IDENTITIES, RULE_NAMES, RULES, apply_rule, identity_of, rule  # noqa: F401
