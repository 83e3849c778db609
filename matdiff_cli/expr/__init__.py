"""The expression model: immutable, hash-consed nodes; every node knows its shape.

* ``core.py``: the base class ``Expr`` (interning, ``walk``), the leaves (symbols,
  numbers, constant matrices, ``dX``), sums, products, quotients, Kronecker
  products, broadcasts, powers and elementwise functions, and the small helpers
  (``ZERO``, ``is_zero``, ``preorder``, ``symbols``, ``node_types``);
* ``unary.py``: transpose, inverse, trace, det, logdet, sum, the norms, diag,
  vec / unvec, softmax, logsumexp;
* ``spectral.py``: eigenvalues and eigenvectors, pinv, singular values and
  vectors, the nuclear norm, the polar factor.

Every node type is handed on here (``from matdiff_cli.expr import Trace``), and
importing the package defines them all, so ``node_types()`` lists every one.
"""
from __future__ import annotations

from .core import (  # noqa: F401
    Dim, Shape, SCALAR, PROPERTIES, ShapeMismatch, REPR_TEXT, Expr, walk, nodes, Sym, NUM_BITS,
    Num, Identity, Zeros, Ones, Diff, Commutation, Add, product_shape, Mul, Hadamard, Div,
    EDiv, Kron, _dim_mul, Broadcast, Power, EPow, Func, ZERO, ONE, zeros_like, is_zero,
    preorder, postorder_missing, symbols, node_types,
)
from .unary import (  # noqa: F401
    Unary, Transpose, Inverse, Trace, Det, LogDet, Sum, Norm2, Norm1, NormInf, OneHotMax,
    NormF, DiagM, DiagV, Vec, Unvec, Softmax, LogSumExp,
)
from .spectral import (  # noqa: F401
    LambdaMax, LambdaMin, EigVecMax, EigVecMin, LeftVecMax, LeftVecMin, EigVals, EigVecs,
    Pinv, SigmaMax, SVecLeftMax, SVecRightMax, SvdVals, SvdU, SvdV, NormNuc, Polar,
)
