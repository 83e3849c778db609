"""Every built-in operation of the language, declared once, with its rules.

``base`` says what a declaration holds and keeps the live tables
(``BUILTINS``, ``RESERVED``, ``ELEMENTWISE``, ``STRUCTURE``, ``ALIASES``);
each family module declares its operations, one block each: ``linalg``
(trace, determinant, ..., inverse, and the constant matrices), ``reductions``
(the norms, softmax, log-sum-exp), ``eigen`` (eigenvalues and eigenvectors),
``singular`` (pinv, singular values and vectors, the nuclear norm, the polar
factor), ``elementwise`` (exp, log, ..., one entry each).  The layers (the differential,
values, renderers, code, SymPy, the read-off) file each declared rule in their
own tables (``filing``, ``declared``): as they load, and again when a family
loaded on first need (``LAZY_FAMILIES``, ``load_all``) arrives.
"""
from __future__ import annotations

# the families fill the tables as they are imported, in this order (that of BUILTINS);
# reductions, eigen and singular only by name, until one of theirs is used
from . import linalg  # noqa: F401
from .base import LAZY_FAMILIES, announce

for _family in LAZY_FAMILIES:
    announce(_family)
from . import elementwise  # noqa: F401,E402,I001
from .base import (  # noqa: E402
    ALIASES, BUILTINS, ELEMENTWISE, RESERVED, STRUCTURE, Builtin, Elementwise, all_loaded,
    arity, declare, declared, file_declared, filing, latex_name, load_all, withdraw,
)

__all__ = ["ALIASES", "BUILTINS", "ELEMENTWISE", "LAZY_FAMILIES", "RESERVED", "STRUCTURE",
           "Builtin", "Elementwise", "all_loaded", "arity", "declare", "declared",
           "file_declared", "filing", "latex_name", "load_all", "withdraw"]
