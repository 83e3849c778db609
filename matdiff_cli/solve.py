"""Stationary points of quadratic objectives: solve ∇f(w) = 0 in closed form.

For a quadratic f the gradient is affine, ∇f(w) = H w + g0 with a constant
Hessian H and g0 = ∇f(0), so w* = -H^-1 g0.  ``||X w - y||^2`` gives
``(X^T X)^-1 X^T y``.  The second-order test reads the sign of H:
symbolically when H is a sum of Gram matrices (M^T M, M M^T) and multiples
of I with known signs, numerically (eigenvalues) when data is bound.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .calculus import depends_on
from .errors import MatdiffError
from .expr import SCALAR, Expr, Identity, Inverse, Mul, Num, Power, Sym, Transpose, Zeros
from .extract import gradient, hessian
from .simplify import simplify, split_coef


@dataclass
class Solution:
    var: Sym
    gradient: Expr
    hessian: Expr
    solution: Expr
    classification: str            # minimum | maximum | saddle | unknown
    reason: str
    assumptions: list = field(default_factory=list)


def substitute(e: Expr, old: Expr, new: Expr) -> Expr:
    from .steps import replace_node
    return replace_node(e, old, new)


def stationary_point(f: Expr, var: Sym) -> Solution:
    if f.shape != SCALAR:
        raise MatdiffError("usage", "solve needs a scalar objective")
    G = gradient(f, var)
    kind, H = hessian(f, var)
    if kind == "operator":
        raise MatdiffError(
            "unsupported", f"{var.name} is a matrix: ∇f = 0 is a linear matrix equation "
            "(Sylvester-like), which matdiff does not solve in closed form",
            hint="solve for a vector variable, or write the objective in terms of vec(X)")
    if depends_on(H, var)[H]:
        raise MatdiffError(
            "unsupported", f"the objective is not quadratic in {var.name}: its Hessian "
            "depends on it, so ∇f = 0 has no closed-form solution here",
            hint="solve works for quadratic objectives such as ||X w - y||^2 + λ ||w||^2")
    g0 = simplify(substitute(G, var, Zeros(var.shape) if var.shape != SCALAR else Num(0)))
    if var.shape == SCALAR:
        w = simplify(Mul(Num(-1), Power(H, -1), g0))
    else:
        w = simplify(Mul(Num(-1), Inverse(H), g0))
    cls, reason, assumptions = classify_symbolic(H)
    return Solution(var, G, H, w, cls, reason, assumptions)


def _sign_of_term(t: Expr):
    """(sign, definite, assumption): the sign of one term of H as a quadratic form.

    Gram matrices M^T M and M M^T are positive semidefinite (definite when M has
    full rank); c I has the sign of c; a scalar symbol's sign is an assumption."""
    c, core = split_coef(t)
    sign = 1 if c > 0 else -1
    assumption = None
    factors = list(core.factors) if isinstance(core, Mul) else [core]
    scalars = [f for f in factors if f.shape == SCALAR and not isinstance(f, Num)]
    chain = [f for f in factors if f.shape != SCALAR]
    for s in scalars:
        if isinstance(s, Sym):
            assumption = f"{s.name} > 0"
        else:
            return None
    if core is Num(1) or (len(chain) == 1 and isinstance(chain[0], Identity)):
        return sign, True, assumption
    if not chain and core.shape == SCALAR and not scalars:
        return sign, True, assumption
    if len(chain) == 2 and isinstance(chain[0], Transpose) and chain[0].a is chain[1]:
        return sign, False, assumption
    if len(chain) == 2 and isinstance(chain[1], Transpose) and chain[1].a is chain[0]:
        return sign, False, assumption
    if len(chain) == 1 and isinstance(chain[0], Sym) and chain[0].has("spd"):
        return sign, True, assumption
    return None


def classify_symbolic(H: Expr):
    """(classification, reason, assumptions) from the form of H alone."""
    from .expr import Add
    terms = H.terms if isinstance(H, Add) else (H,)
    signs = [_sign_of_term(t) for t in terms]
    if any(s is None for s in signs):
        return "unknown", "the sign of the Hessian does not follow from its form", []
    assumptions = sorted({a for _, _, a in signs if a})
    if all(s > 0 for s, _, _ in signs):
        definite = any(d for _, d, _ in signs)
        why = "the Hessian is a sum of Gram matrices and positive multiples of I"
        if not definite:
            why += " (positive definite when they have full rank)"
        return "minimum", why, assumptions
    if all(s < 0 for s, _, _ in signs):
        return "maximum", "the Hessian is minus a sum of Gram matrices and multiples of I", \
            assumptions
    return "unknown", "the Hessian has terms of both signs", assumptions


def classify_numeric(H_value) -> tuple[str, str]:
    """The second-order test from the eigenvalues of a numeric Hessian."""
    import numpy as np

    H = np.atleast_2d(np.asarray(H_value, dtype=float))
    ev = np.linalg.eigvalsh((H + H.T) / 2)
    scale = max(1.0, float(np.max(np.abs(ev))))
    tol = 1e-10 * scale
    lo, hi = float(ev.min()), float(ev.max())
    text = f"Hessian eigenvalues in [{lo:.4g}, {hi:.4g}]"
    if lo > tol:
        return "minimum", text + ": positive definite"
    if hi < -tol:
        return "maximum", text + ": negative definite"
    if lo < -tol and hi > tol:
        return "saddle", text + ": indefinite"
    return "unknown", text + ": singular, the test is inconclusive"
