"""The built-ins that are not elementwise: one declaration each.

Each names its shape rule (inferred in ``shapes.SHAPE_RULES``) and the node
types of ``expr/`` it builds (trace, determinant, ...), whose rules are
filed per node type; tests/test_ops.py checks that every node type has a
differential rule, a value and a form in every renderer, and that every
declared shape rule exists.
"""
from __future__ import annotations

from .base import Builtin, declare_builtin

OPERATOR = r"\operatorname{%s}"

for _op in (
        Builtin("lambda_max", "the largest eigenvalue", ("LambdaMax",), "square -> scalar",
                noun="the largest eigenvalue", call=True, latex=r"\lambda_{\max}",
                pretty="λ_max"),
        Builtin("lambda_min", "the smallest eigenvalue", ("LambdaMin",), "square -> scalar",
                noun="the smallest eigenvalue", call=True, latex=r"\lambda_{\min}",
                pretty="λ_min"),
        Builtin("eigvec_max", "the unit eigenvector of the largest eigenvalue", ("EigVecMax",),
                "square -> column", noun="the eigenvector", call=True,
                latex=OPERATOR % "eigvec_{max}"),
        Builtin("eigvec_min", "the unit eigenvector of the smallest eigenvalue", ("EigVecMin",),
                "square -> column", noun="the eigenvector", call=True,
                latex=OPERATOR % "eigvec_{min}"),
        Builtin("leftvec_max", "the unit left eigenvector of the largest eigenvalue",
                ("LeftVecMax",), "square -> column", noun="the left eigenvector", call=True,
                latex=OPERATOR % "leftvec_{max}"),
        Builtin("leftvec_min", "the unit left eigenvector of the smallest eigenvalue",
                ("LeftVecMin",), "square -> column", noun="the left eigenvector", call=True,
                latex=OPERATOR % "leftvec_{min}"),
        Builtin("eigvals", "the eigenvalues", ("EigVals",), "square -> column",
                noun="the eigenvalues", call=True, latex=OPERATOR % "eigvals"),
        Builtin("eigvecs", "the unit eigenvectors", ("EigVecs",), "square -> square",
                noun="the eigenvectors", call=True, latex=OPERATOR % "eigvecs"),
        Builtin("pinv", "the pseudo-inverse", ("Pinv",), "matrix -> transposed", call=True,
                latex=OPERATOR % "pinv"),
        Builtin("sigma_max", "the largest singular value", ("SigmaMax",), "matrix -> scalar",
                noun="the largest singular value", call=True, latex=r"\sigma_{\max}",
                pretty="σ_max"),
        Builtin("svec_left_max", "the unit left singular vector of the largest singular value",
                ("SVecLeftMax",), "matrix -> left column", noun="the left singular vector",
                call=True, latex=OPERATOR % "svec_{left,max}"),
        Builtin("svec_right_max", "the unit right singular vector of the largest singular value",
                ("SVecRightMax",), "matrix -> right column", noun="the right singular vector",
                call=True, latex=OPERATOR % "svec_{right,max}"),
        Builtin("svdvals", "the singular values, descending", ("SvdVals",),
                "matrix -> singular values", noun="svdvals", call=True,
                latex=OPERATOR % "svdvals"),
        Builtin("svd_u", "U of the thin SVD", ("SvdU",), "matrix -> left factor", noun="svd_u",
                call=True, latex=OPERATOR % "svd_U"),
        Builtin("svd_v", "V of the thin SVD", ("SvdV",), "matrix -> right factor", noun="svd_v",
                call=True, latex=OPERATOR % "svd_V"),
        Builtin("norm_nuc", "the nuclear norm", ("NormNuc",), "matrix -> scalar",
                noun="the nuclear norm", call=True, latex=r"\left\|{a}\right\|_*"),
        Builtin("polar", "the polar factor U V^T of the thin SVD", ("Polar",),
                "matrix -> matrix", noun="the polar factor", call=True,
                latex=OPERATOR % "polar")):
    declare_builtin(_op)
