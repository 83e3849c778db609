"""Every built-in operation of the language, declared once.

``base`` says what a declaration holds and keeps the live tables
(``BUILTINS``, ``RESERVED``, ``ELEMENTWISE``, ``ALIASES``); each family
module declares its operations: ``elementwise`` (exp, log, ..., one entry
each), ``structure`` (the other built-ins: trace, determinant, ...).
"""
from __future__ import annotations

from . import structure  # noqa: F401  (fills the tables, first: the order of BUILTINS)
from . import elementwise  # noqa: F401,I001
from .base import (
    ALIASES, BUILTINS, ELEMENTWISE, RESERVED, STRUCTURE, Builtin, Elementwise, arity, declare,
    latex_name, withdraw,
)

__all__ = ["ALIASES", "BUILTINS", "ELEMENTWISE", "RESERVED", "STRUCTURE", "Builtin",
           "Elementwise", "arity", "declare", "latex_name", "withdraw"]
