"""Every built-in operation of the language, declared once, with its rules.

``base`` says what a declaration holds and keeps the live tables
(``BUILTINS``, ``RESERVED``, ``ELEMENTWISE``, ``STRUCTURE``, ``ALIASES``);
each family module declares its operations, one block each: ``linalg``
(trace, determinant, ..., inverse), ``reductions`` (the norms, softmax,
log-sum-exp), ``eigen`` (eigenvalues and eigenvectors), ``singular`` (pinv,
singular values and vectors, the nuclear norm, the polar factor),
``constants`` (the identity, ones, zeros, the commutation matrix),
``elementwise`` (exp, log, ..., one entry each).  The layers (the differential,
values, renderers, code, SymPy, the read-off) file each declared rule in their
own tables as they load (``declared``).
"""
from __future__ import annotations

# the families fill the tables as they are imported, in this order (that of BUILTINS)
from . import linalg  # noqa: F401
from . import reductions  # noqa: F401,I001
from . import eigen  # noqa: F401,I001
from . import singular  # noqa: F401,I001
from . import constants  # noqa: F401,I001
from . import elementwise  # noqa: F401,I001
from .base import (
    ALIASES, BUILTINS, ELEMENTWISE, RESERVED, STRUCTURE, Builtin, Elementwise, arity, declare,
    declared, latex_name, withdraw,
)

__all__ = ["ALIASES", "BUILTINS", "ELEMENTWISE", "RESERVED", "STRUCTURE", "Builtin",
           "Elementwise", "arity", "declare", "declared", "latex_name", "withdraw"]
