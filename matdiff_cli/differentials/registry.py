"""The table of differential rules: ``@rule(Node, name=..., identity=...)`` files a
rule with its name and its identity (data ``--steps`` writes: ``identity_of``);
``apply_rule`` applies the one of a node's type.
"""
from __future__ import annotations

from ..dispatch import registrar
from ..errors import MatdiffError
from ..expr import Expr


TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Callable

Rule = "Callable[[Expr, tuple], Expr]"
RULES: dict[type, Rule] = {}
RULE_NAMES: dict[type, str] = {}
RULE_IDENTITIES: dict[type, object] = {}   # type -> its identity, or (cases, case of a node)
_file = registrar(RULES)

#: the families loaded when a node of theirs is first differentiated, by the module
#: of the node's class (``algebra.py``, the rules of nearly every derivative, is
#: loaded with the package): a gradient of ``tr(X^T A X B)`` imports none of them
LAZY_FAMILIES = {
    "matdiff_cli.expr.core": ("elementwise",),
}
_LOADED: set = set()


def load_families(module: str | None = None) -> None:
    """Import the rule families of the node classes of ``module`` (every family,
    and every built-in's, when None); each files its rules in ``RULES`` as it is
    imported."""
    if module is None:
        from ..ops import load_all

        load_all()
    wanted = LAZY_FAMILIES.get(module, ()) if module else [
        f for families in LAZY_FAMILIES.values() for f in families]
    for family in wanted:
        if family not in _LOADED:
            __import__(f"{__package__}.{family}")
            _LOADED.add(family)


def rule_of(t: type):
    """The differential rule of node type ``t`` (its family imported on first
    need), or None."""
    fn = RULES.get(t)
    if fn is None:
        load_families(t.__module__)
        fn = RULES.get(t)
        if fn is None:  # a built-in's family not loaded yet, or a subclass: every family
            load_families()
            fn = RULES.get(t)
    return fn


def rule(*types, name: str, identity=None, case=None):
    """@rule(Mul, name="product rule", identity="d(A B) = dA B + A dB"): the differential
    rule of those node types, and the identity ``--steps`` writes for it: one string,
    one per node type ``{DiagM: ..., Vec: ...}``, or cases ``{"scalar": ...}`` with
    ``case(node)`` naming the one that applies."""
    RULE_NAMES.update((t, name) for t in types)
    for t in types:
        text = identity.get(t) if isinstance(identity, dict) and case is None else identity
        if text is not None:
            RULE_IDENTITIES[t] = (identity, case) if case is not None else text
    return _file(*types)


def _file_declared() -> None:
    """File the differentials the built-ins of the loaded families declare with them
    (``ops/``; again as a family loaded on first need arrives)."""
    from .. import expr
    from ..ops import declared

    for node, op, fn in declared("differential"):
        rule(getattr(expr, node), name=op.rule_name, identity=op.identity, case=op.case)(fn)


def _start() -> None:
    """A rule's message may name an expression in the text syntax (``REPR_TEXT``, the
    hook ``render.text`` fills as it loads): loaded here, before any rule runs."""
    from ..ops import filing
    from ..render import text  # noqa: F401

    filing(_file_declared)


_start()


def identity_of(node) -> str | None:
    """The identity of the differential rule of node's type, for this node."""
    rule_of(type(node))  # its family loaded
    identity = RULE_IDENTITIES.get(type(node))
    if isinstance(identity, tuple):
        cases, case = identity
        return cases[case(node)]
    return identity


def apply_rule(node: Expr, dchildren: tuple) -> Expr:
    rule_fn = rule_of(type(node))
    if rule_fn is None:
        raise MatdiffError("unsupported", f"no differential rule for {type(node).__name__}")
    out = rule_fn(node, dchildren)
    assert out.shape == node.shape, (type(node).__name__, out.shape, node.shape)
    return out
