"""The built-ins that are not elementwise: their names and what they are.

Each has its own node type in ``expr.py`` (trace, determinant, ...); the
completeness test (tests/test_ops.py) checks that every node type has a
shape, a differential rule, a value and a form in every renderer.
"""
from __future__ import annotations

from .base import declare_builtin

for _name, _what in (
        ("tr", "the trace function"), ("det", "the determinant function"),
        ("logdet", "the log-determinant"), ("sum", "the sum of entries"),
        ("diag", "the diag function"), ("vec", "the vec function"),
        ("kron", "the Kronecker product"), ("inv", "the inverse"),
        ("norm", "the Frobenius norm"), ("norm2", "the Euclidean norm"),
        ("softmax", "the softmax function"), ("logsumexp", "the logsumexp function"),
        ("eye", "the identity matrix"), ("ones", "the matrix of ones"),
        ("zeros", "the zero matrix"), ("commutation", "the commutation matrix")):
    declare_builtin(_name, _what)
