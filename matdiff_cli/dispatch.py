"""Rules as data: one table per operation, filled by a decorator per node type."""
from __future__ import annotations


def registrar(table: dict, *, many: bool = False):
    """A decorator factory: ``@rule(Add, Mul)`` files the function under those node
    types in ``table`` (appended to a list of rules per type when ``many``)."""
    def rule(*types):
        def register(fn):
            for t in types:
                if many:
                    table.setdefault(t, []).append(fn)
                else:
                    table[t] = fn
            return fn
        return register
    return rule
