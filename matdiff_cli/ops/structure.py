"""The built-ins that are not elementwise: one declaration each.

Each builds node types of ``expr.py`` (trace, determinant, ...), whose
rules are filed per node type; tests/test_ops.py checks that every node
type has a shape, a differential rule, a value and a form in every renderer.
"""
from __future__ import annotations

from .base import Builtin, declare_builtin

OPERATOR = r"\operatorname{%s}"

for _op in (
        Builtin("tr", "the trace function", ("Trace",), call=True, latex=OPERATOR % "tr"),
        Builtin("det", "the determinant function", ("Det",), call=True, latex=r"\det"),
        Builtin("logdet", "the log-determinant", ("LogDet",), call=True, latex=r"\log\det",
                pretty="log det"),
        Builtin("sum", "the sum of entries", ("Sum",), call=True, latex=OPERATOR % "sum"),
        Builtin("diag", "the diag function", ("DiagM", "DiagV"), call=True,
                latex=OPERATOR % "diag"),
        Builtin("vec", "the vec function", ("Vec",), call=True, latex=OPERATOR % "vec"),
        Builtin("kron", "the Kronecker product", ("Kron",), arity=(2, 2),
                latex=OPERATOR % "kron"),
        Builtin("inv", "the inverse", ("Inverse",), latex=OPERATOR % "inv"),
        Builtin("norm", "the Frobenius norm", ("NormF",)),
        Builtin("norm2", "the Euclidean norm", ("Norm2",), latex=OPERATOR % "norm2"),
        Builtin("softmax", "the softmax function", ("Softmax",), call=True,
                latex=OPERATOR % "softmax"),
        Builtin("logsumexp", "the logsumexp function", ("LogSumExp",), call=True,
                latex=OPERATOR % "logsumexp"),
        Builtin("eye", "the identity matrix", ("Identity",)),
        Builtin("ones", "the matrix of ones", ("Ones",), arity=(1, 2)),
        Builtin("zeros", "the zero matrix", ("Zeros",), arity=(1, 2)),
        Builtin("commutation", "the commutation matrix", ("Commutation",), arity=(2, 2))):
    declare_builtin(_op)
