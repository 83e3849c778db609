"""Stationary points of quadratic objectives: solve ∇f(w) = 0 in closed form.

For a quadratic f the gradient is affine, ∇f(w) = H w + g0 with a constant
Hessian H and g0 = ∇f(0), so w* = -H^-1 g0.  ``||X w - y||^2`` gives
``(X^T X)^-1 X^T y``.  The second-order test reads the sign of H:
symbolically when H is a sum of Gram matrices (M^T M, M M^T), congruences
M^T S M of an spd S and multiples of I with known signs, numerically
(eigenvalues) when data is bound.

No unique stationary point, no formula: a zero Hessian (f linear in w, or
constant) and a Hessian singular at every random point (``(a^T w)^2`` gives
``2 a a^T``) are refused with the reason (exit 3), never written as the
inverse of a singular matrix.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import MatdiffError
from .expr import (
    SCALAR, Diff, Expr, Identity, Inverse, Mul, Num, Power, Sym, Transpose, Zeros, walk,
)
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
    from .build import replace_node
    return replace_node(e, old, new)


def stationary_point(f: Expr, var: Sym) -> Solution:
    if f.shape != SCALAR:
        raise MatdiffError("usage", "solve needs a scalar objective")
    G = gradient(f, var)
    kind, H = hessian(f, var)
    if _depends(H, var):   # dX in an operator is the direction, not X
        raise MatdiffError(
            "unsupported", f"the objective is not quadratic in {var.name}: its Hessian "
            f"depends on {var.name}, so ∇f = 0 is a nonlinear equation, which matdiff does "
            "not solve in closed form",
            hint="solve works for quadratic objectives such as ||X w - y||^2 + λ ||w||^2")
    zero = Zeros(var.shape) if var.shape != SCALAR else Num(0)
    g0 = simplify(substitute(G, var, zero))
    if _is_zero(H):
        _no_stationary_point(var, g0)
    if kind == "operator":
        raise MatdiffError(
            "unsupported", f"{var.name} is a matrix: ∇f = 0 is a linear matrix equation "
            "(Sylvester-like), which matdiff does not solve in closed form",
            hint="solve for a vector variable, or write the objective in terms of vec(X)")
    rank = singular_everywhere(H, var)
    if rank is not None:
        from .render.text import to_text
        r, n = rank
        at = "it is zero at random points" if n == 1 else \
            f"of rank {r} at random points where {var.name} has {n} entries"
        raise MatdiffError(
            "unsupported", f"no unique stationary point: the Hessian {_clip(to_text(H))} is "
            f"singular ({at}), so ∇f = 0 has no solution or infinitely many", hint="add a regularizer such as λ ||w||^2, which makes the "
            "Hessian invertible")
    if var.shape == SCALAR:
        w = simplify(Mul(Num(-1), Power(H, -1), g0))
    else:
        w = simplify(Mul(Num(-1), Inverse(H), g0))
    cls, reason, assumptions = classify_symbolic(H)
    return Solution(var, G, H, w, cls, reason, assumptions)


def _depends(e: Expr, var: Sym) -> bool:
    """Does e contain var itself (not only its differential dX)?"""
    dep: dict = {}
    for node in walk(e):
        dep[node] = node is var or (not isinstance(node, Diff)
                                    and any(dep[c] for c in node.children))
    return dep[e]


def _is_zero(e: Expr) -> bool:
    e = simplify(e)
    return isinstance(e, Zeros) or (isinstance(e, Num) and e.value == 0)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _no_stationary_point(var: Sym, g0: Expr):
    """The Hessian is zero: ∇f is the constant g0.  Either every point is
    stationary (g0 = 0: f does not depend on var) or none is."""
    from .render.text import to_text
    from .simplify import present

    if _is_zero(g0):
        raise MatdiffError(
            "unsupported", f"no unique stationary point: the objective does not depend on "
            f"{var.name} (∇f = 0 everywhere), so every {var.name} is stationary",
            hint="check the objective and the --wrt variable")
    raise MatdiffError(
        "unsupported", f"no stationary point: the objective is linear in {var.name}, its "
        f"gradient {_clip(to_text(present(g0)))} does not depend on {var.name} and is not "
        "zero, so ∇f = 0 has no solution (the objective is unbounded)",
        hint="a linear objective has a minimum only with constraints, or add a quadratic "
             "term such as λ ||w||^2")


def singular_everywhere(H: Expr, var: Sym, draws: int = 3):
    """(rank, n) when the constant Hessian H is singular at every one of a few random
    points, else None.  The variable's dimensions are drawn 4 and the others larger
    (5, 6, ...), so that Gram matrices X^T X of data are generically full rank and
    a Hessian singular by its form (a a^T, a b^T + b a^T, ones) is caught."""
    import numpy as np

    from .numeric import base_dims, quiet, sample_values

    var_dims = [d for d in base_dims([var]) if isinstance(d, str)]
    others = [d for d in base_dims([H]) if d not in var_dims]
    sizes = {d: 4 for d in var_dims}
    sizes.update({d: 5 + i for i, d in enumerate(others)})
    rng = np.random.default_rng(0)   # deterministic: the same answer every run
    rank = None
    with quiet():
        for _ in range(draws):
            try:
                values, sz = sample_values([H], rng, sizes=sizes)
            except (ValueError, MatdiffError):
                return None    # no point to judge at: say nothing
            from .numeric import evaluate

            h = np.atleast_2d(np.asarray(evaluate(H, values, sz), dtype=float))
            if not np.all(np.isfinite(h)):
                return None
            s = np.linalg.svd(h, compute_uv=False)
            r = int(np.sum(s > 1e-10 * max(1.0, float(s.max()))))
            if r == len(h):
                return None
            rank = (r, len(h))
    return rank


def _sign_of_term(t: Expr):
    """(sign, definite, assumption): the sign of one term of H as a quadratic form.

    Gram matrices M^T M and M M^T are positive semidefinite (definite when M has
    full rank), and so are congruences M^T S M of an spd S (M a product, read off
    the chain as a palindrome of transposes); c I has the sign of c; a scalar
    symbol's sign is an assumption."""
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
    if len(chain) == 1 and _spd(chain[0]):
        return sign, True, assumption
    if len(chain) >= 2 and _congruence(chain):
        return sign, False, assumption
    return None


def _spd(e: Expr) -> bool:
    """An spd variable, I, or the inverse of one."""
    if isinstance(e, Inverse):
        e = e.a
    return isinstance(e, Identity) or (isinstance(e, Sym) and e.has("spd"))


def _mirror(a: Expr, b: Expr) -> bool:
    """b = a^T."""
    return ((isinstance(b, Transpose) and b.a is a) or (isinstance(a, Transpose) and a.a is b)
            or (a is b and isinstance(a, Sym) and a.has("symmetric", "spd")))


def _congruence(chain) -> bool:
    """M^T M (a chain whose halves mirror each other) or M^T S M with S spd in the
    middle: positive semidefinite."""
    k = len(chain)
    if k % 2 and not _spd(chain[k // 2]):
        return False
    return all(_mirror(chain[i], chain[k - 1 - i]) for i in range(k // 2))


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
        why = ("the Hessian is a sum of Gram matrices (M^T M, or M^T S M with S spd) and "
               "positive multiples of I")
        if not definite:
            why += " (positive definite when they have full rank)"
        return "minimum", why, assumptions
    if all(s < 0 for s, _, _ in signs):
        return "maximum", "the Hessian is minus a sum of Gram matrices and multiples of I", \
            assumptions
    return "unknown", "the Hessian has terms of both signs", assumptions


def singular_at(H_value) -> str | None:
    """Why a numeric Hessian is singular (its eigenvalues), or None when it is not."""
    import numpy as np

    H = np.atleast_2d(np.asarray(H_value, dtype=float))
    ev = np.linalg.eigvalsh((H + H.T) / 2)
    scale = max(1.0, float(np.max(np.abs(ev))))
    small = float(np.min(np.abs(ev)))
    if small > 1e-10 * scale:
        return None
    return f"eigenvalues in [{float(ev.min()):.4g}, {float(ev.max()):.4g}], the smallest " \
           f"in size {small:.3g}"


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
