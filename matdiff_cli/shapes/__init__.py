"""Shape inference: syntax nodes -> checked, hash-consed expressions.

A newcomer reads the package in this order:

``layers.py``
    a dict or a set over a base one, so that a problem starts in O(1);
``dims.py``
    dimensions (ints, names, unknowns :class:`Var`, products :class:`Prod`)
    and their :class:`Unifier`;
``scope.py``
    what a statement sees: symbols (declared or inferred by their names),
    definitions and user functions (:class:`Scope`);
``plans.py``
    checked nodes waiting for their dimensions (:class:`P`), and the second
    pass that builds them;
``desugar.py``
    forms that read as something else: ``A(x)`` as a product, ``log det``,
    norms with subscripts;
``calls.py``
    user functions, built-ins and their shape rules (:data:`SHAPE_RULES`), norms;
``elaborate.py``
    the :class:`Elaborator`, which infers every syntax node (one rule per node
    class) and builds the result.

The names below are the package's face: the rest of matdiff imports them from here.
"""
from __future__ import annotations

from ..ops import BUILTINS, RESERVED
from .calls import NOT_YET, SHAPE_RULES
from .dims import SCALAR, Prod, Unifier, Var, decl_text, dim_product
from .elaborate import Elaborator
from .plans import P
from .scope import DefInfo, FuncInfo, Scope, SymInfo, name_class, reserved_message

__all__ = [
    "BUILTINS", "NOT_YET", "RESERVED", "SCALAR", "SHAPE_RULES", "DefInfo", "Elaborator",
    "FuncInfo", "P", "Prod", "Scope", "SymInfo", "Unifier", "Var", "decl_text", "dim_product",
    "name_class", "reserved_message",
]
