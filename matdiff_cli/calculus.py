"""d(expr): one differential rule per node type.

Each rule receives the node and the differentials of its children (already
computed, or placeholders ``Diff(child)`` when tracing steps) and returns the
node's differential; it is filed with its name and its identity, as data
(``--steps`` writes them: ``identity_of``).  The engine owns the walk and the
memo, so the cost is linear in the size of the expression DAG: a subexpression
shared by several parents (a definition) is differentiated once and its
differential is shared.
"""
from __future__ import annotations

from . import build as b
from .dispatch import registrar
from .errors import MatdiffError
from .expr import (
    SCALAR, Add, Broadcast, Commutation, Det, Diff, Div, EDiv, EPow, Expr, Func, Hadamard,
    Identity, Inverse, Kron, LogDet, LogSumExp, Mul, Norm2, NormF, Num, Ones, Power, Softmax,
    Sum, Sym, Trace, Transpose, Unvec, Vec, DiagM, DiagV, Zeros, is_zero, walk,
    EigVecMax, EigVecMin, LambdaMax, LambdaMin, LeftVecMax, LeftVecMin, Norm1,
    NormInf, OneHotMax,
    NormNuc, Polar, SigmaMax, SVecLeftMax, SVecRightMax, SvdU, SvdV, SvdVals,
)
from .expr import EigVals, EigVecs, Pinv
from .ops import ELEMENTWISE

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Callable

Rule = "Callable[[Expr, tuple], Expr]"
RULES: dict[type, Rule] = {}
RULE_NAMES: dict[type, str] = {}
RULE_IDENTITIES: dict[type, object] = {}   # type -> its identity, or (cases, case of a node)
_file = registrar(RULES)


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


def identity_of(node) -> str | None:
    """The identity of the differential rule of node's type, for this node."""
    identity = RULE_IDENTITIES.get(type(node))
    if isinstance(identity, tuple):
        cases, case = identity
        return cases[case(node)]
    return identity


def _matrix_or_number(node) -> str:
    return "number" if node.a.shape == SCALAR else "matrix"


def _power_case(node) -> str:
    if isinstance(node.base, (Norm2, NormF)) and node.p == 2:
        return "squared norm"
    return "matrix" if node.base.shape != SCALAR else "scalar"


# ---------------------------------------------------------------- constants

@rule(Num, Identity, Zeros, Ones, Commutation, Diff, name="constant",
      identity="d(c) = 0 for a constant (and d(dX) = 0: a direction is constant)")
def d_constant(e, d):
    return b.zero(e.shape)


# ---------------------------------------------------------------- linear maps

@rule(Add, name="sum rule", identity="d(a + b) = da + db")
def d_add(e, d):
    return b.add(*d)


@rule(Transpose, name="transpose", identity="d(A^T) = (dA)^T")
def d_transpose(e, d):
    return b.transpose(d[0])


@rule(Trace, name="trace", identity="d tr(A) = tr(dA)")
def d_trace(e, d):
    return b.trace(d[0])


@rule(Sum, name="sum of entries", identity="d sum(A) = sum(dA)")
def d_sum(e, d):
    return b.zero(SCALAR) if is_zero(d[0]) else Sum(d[0])


@rule(DiagM, DiagV, Vec, name="linear structure",
      identity={DiagM: "d diag(x) = diag(dx)", DiagV: "d diag(X) = diag(dX)",
                Vec: "d vec(X) = vec(dX)"})
def d_linear_unary(e, d):
    return b.zero(e.shape) if is_zero(d[0]) else type(e)(d[0])


@rule(Unvec, name="linear structure", identity="d unvec(v) = unvec(dv)")
def d_unvec(e, d):
    return b.zero(e.shape) if is_zero(d[0]) else Unvec(d[0], e.shape)


@rule(Broadcast, name="broadcast",
      identity="d(s 1) = ds 1: a broadcast scalar varies as the scalar")
def d_broadcast(e, d):
    return b.broadcast(d[0], e.shape)


# ---------------------------------------------------------------- products

@rule(Mul, name="product rule", identity="d(A B) = dA B + A dB, for every factor of the chain")
def d_mul(e, d):
    f = e.factors
    if len(f) >= MIN_GROUPED:
        grouped = _grouped_differential(e, d)
        if grouped is not None:
            return grouped
        f, d = _runs_as_powers(f, d)
        if len(f) > LONG_CHAIN and sum(not is_zero(di) for di in d) > 1:
            shared = _shared_product_rule(f, d)
            if shared is not None:
                return shared
    return b.add(*[b.mul(*f[:i], di, *f[i + 1:]) for i, di in enumerate(d) if not is_zero(di)]
                 or [b.zero(e.shape)])


# A chain this long that repeats one block (A A ... A, x^T x x^T x ...) is
# differentiated as a power of the block: the product rule would write k terms
# of k factors each (quadratic in the input), the power rule k terms of three.
MIN_GROUPED = 6


def repeated_block(factors) -> tuple | None:
    """(block, k) with factors = block repeated k >= 2 times and the block's product
    square (so the chain is the k-th power of that product); None otherwise.
    Linear: the shortest period by the prefix function (Knuth-Morris-Pratt)."""
    n = len(factors)
    fail = [0] * n
    j = 0
    for i in range(1, n):
        while j and factors[i] is not factors[j]:
            j = fail[j - 1]
        if factors[i] is factors[j]:
            j += 1
        fail[i] = j
    period = n - fail[-1]
    if period == n or n % period:
        return None
    block = factors[:period]
    try:
        base = block[0] if period == 1 else Mul(*block)
    except ValueError:
        return None
    if base.shape[0] != base.shape[1]:
        return None
    return base, n // period


# A longer chain with several factors that vary: each term of the product rule
# is written prefix · dF_i · suffix, the prefixes f1 (f2 ...) and suffixes nested
# and shared, so that the terms share them instead of repeating k factors each.
LONG_CHAIN = 16


def _shared_product_rule(f, d):
    """sum_i P_{i-1} df_i S_{i+1} with P_i = (P_{i-1} f_i), S_i = (f_i S_{i+1}) shared;
    None when a nested grouping does not fit the shapes (a 1x1 step that scales)."""
    n = len(f)
    shape = Mul(*f).shape
    try:
        pre = [None] * (n + 1)
        for i in range(n):
            pre[i + 1] = f[0] if i == 0 else Mul(pre[i], f[i])
        suf = [None] * (n + 1)
        for i in range(n - 1, -1, -1):
            suf[i] = f[i] if i == n - 1 else Mul(f[i], suf[i + 1])
        terms = []
        for i, di in enumerate(d):
            if is_zero(di):
                continue
            parts = ([pre[i]] if i else []) + [di] + ([suf[i + 1]] if i + 1 < n else [])
            term = parts[0] if len(parts) == 1 else Mul(*parts)
            if term.shape != shape:
                return None
            terms.append(term)
    except ValueError:
        return None
    return b.add(*terms)


def _runs_as_powers(f, d):
    """(factors, differentials) with each run A A ... A (k >= 2 equal square factors)
    as one factor A^k, its differential d(A^k) written with k terms of three factors:
    the product rule then writes (number of runs) terms, not one per factor."""
    out_f, out_d = [], []
    i, n = 0, len(f)
    while i < n:
        j = i + 1
        while j < n and f[j] is f[i] and d[j] is d[i]:
            j += 1
        k = j - i
        if k >= 2 and f[i].shape[0] == f[i].shape[1] and f[i].shape != SCALAR:
            out_f.append(Power(f[i], k))
            out_d.append(b.zero(f[i].shape) if is_zero(d[i])
                         else power_differential(f[i], d[i], k))
        else:
            out_f.extend(f[i:j])
            out_d.extend(d[i:j])
        i = j
    return tuple(out_f), tuple(out_d)


def _grouped_differential(e, d):
    """d(B^k) for a chain that is a block B repeated k times; None when it is not."""
    found = repeated_block(e.factors)
    if found is None:
        return None
    base, k = found
    period = len(e.factors) // k
    if any(d[i] is not d[i % period] for i in range(len(d))):
        return None     # a step placeholder per factor: keep the plain product rule
    db = d[0] if period == 1 else d_mul(base, d[:period])
    if is_zero(db):
        return b.zero(e.shape)
    return power_differential(base, db, k)


@rule(Hadamard, name="Hadamard product rule", identity="d(A ⊙ B) = dA ⊙ B + A ⊙ dB")
def d_hadamard(e, d):
    f = e.factors
    return b.add(*[b.had(*f[:i], di, *f[i + 1:]) for i, di in enumerate(d) if not is_zero(di)]
                 or [b.zero(e.shape)])


@rule(Kron, name="Kronecker product rule", identity="d(A ⊗ B) = dA ⊗ B + A ⊗ dB")
def d_kron(e, d):
    a, c = e.args
    return b.add(b.kron(d[0], c), b.kron(a, d[1]))


@rule(Div, name="quotient rule", identity="d(A / c) = dA / c - (dc / c^2) A")
def d_div(e, d):
    a, c = e.args
    return b.sub(b.div(d[0], c), b.mul(b.div(d[1], Power(c, 2)), a))


@rule(EDiv, name="elementwise quotient rule", identity="d(A ./ B) = dA ./ B - A ⊙ dB ./ B.^2")
def d_ediv(e, d):
    a, c = e.args
    first = b.zero(e.shape) if is_zero(d[0]) else EDiv(d[0], c)
    second = b.zero(e.shape) if is_zero(d[1]) else EDiv(b.had(a, d[1]), EPow(c, 2))
    return b.sub(first, second)


# ---------------------------------------------------------------- powers and inverses

@rule(Inverse, name="inverse", identity="d(A^-1) = -A^-1 dA A^-1")
def d_inverse(e, d):
    return b.neg(b.mul(e, d[0], e))


@rule(Power, name="power rule",
      identity={"scalar": "d(a^p) = p a^(p-1) da for a scalar",
                "matrix": "d(A^k) = sum_i A^i dA A^(k-1-i)",
                "squared norm": "d(||x||^2) = 2 x^T dx and d(||X||_F^2) = 2 tr(X^T dX) "
                                "(no square root)"},
      case=_power_case)
def d_power(e, d):
    base, p = e.args
    db = d[0]
    if base.shape != SCALAR:
        k = int(p)
        if k > MAX_POWER_TERMS:
            raise MatdiffError(
                "unsupported",
                f"the differential of a matrix power A^{k} is a sum of {k} terms "
                f"(d(A^k) = sum over i of A^i dA A^(k-1-i)); matdiff writes at most "
                f"{MAX_POWER_TERMS}",
                hint="inside a trace it is short: d tr(A^k) = k tr(A^(k-1) dA), "
                     "so tr(A^k) and its gradient k (A^(k-1))^T are written for any k")
        return power_differential(base, db, k)
    if p == 2 and isinstance(base, (Norm2, NormF)):
        if isinstance(db, Div) and db.args[1] is base:
            return b.scale(2, db.args[0])    # 2 ||x|| (x^T dx / ||x||) = 2 x^T dx
        if isinstance(db, Diff) and db.sym is base:  # a derivation step: d||u||^2 = 2 <u, du>
            return b.scale(2, _inner(base.a, Diff(base.a)))
    return b.scale(p, b.mul(_spow(base, p - 1), db)) if p != 1 else db


# d(A^k) of a literal power is written out only up to this many terms: A^100000 is
# a short input whose differential is not (a trace of it is, see d_trace_power).
MAX_POWER_TERMS = 256


def power_differential(base, db, k: int):
    """d(B^k) = sum_{i<k} B^i dB B^(k-1-i) (k terms, each of three factors); for a
    scalar B, k B^(k-1) dB."""
    if base.shape == SCALAR:
        return b.scale(k, b.mul(_spow(base, k - 1), db))
    return b.add(*[b.mul(_mpow(base, i), db, _mpow(base, k - 1 - i)) for i in range(k)]
                 or [b.zero(base.shape)])


def power_of(a: Expr) -> tuple | None:
    """(B, k) when a is a matrix power B^k or a chain of one repeated block; else None."""
    if isinstance(a, Power) and a.shape != SCALAR:
        return a.base, int(a.p)
    if isinstance(a, Mul) and len(a.factors) >= MIN_GROUPED:
        return repeated_block(a.factors)
    return None


def d_trace_power(e, dbase):
    """d tr(A^k) = k tr(A^(k-1) dA): the k terms of d(A^k) are one term under the
    cyclic trace.  e is tr(A^k) or the trace of a chain repeating one block A (see
    power_of); dbase is dA."""
    base, k = power_of(e.a)
    if k == 0 or is_zero(dbase):
        return b.zero(SCALAR)
    return b.scale(k, b.trace(b.mul(_mpow(base, k - 1), dbase)))


def _spow(base, p):
    return base if p == 1 else Power(base, p)


def _mpow(base, i):
    if i == 0:
        return Identity(base.shape[0])
    return base if i == 1 else Power(base, i)


def _inner(u, du):
    if u.shape[1] == 1:
        return b.mul(b.transpose(u), du)
    if u.shape[0] == 1:
        return b.mul(u, b.transpose(du))
    return b.trace(b.mul(b.transpose(u), du))


@rule(EPow, name="elementwise power rule", identity="d(A.^p) = p A.^(p-1) ⊙ dA")
def d_epow(e, d):
    base, p = e.args
    if p == 1:
        return d[0]
    coef = EPow(base, p - 1) if p != 2 else base
    return b.scale(p, b.had(coef, d[0]))


# ---------------------------------------------------------------- reductions

@rule(Det, name="determinant", identity="d det(A) = det(A) tr(A^-1 dA)")
def d_det(e, d):
    return b.mul(e, b.trace(b.mul(Inverse(e.a), d[0])))


@rule(LogDet, name="log-determinant", identity="d logdet(A) = tr(A^-1 dA)")
def d_logdet(e, d):
    return b.trace(b.mul(Inverse(e.a), d[0]))


@rule(Norm2, name="Euclidean norm", identity="d ||x|| = x^T dx / ||x||")
def d_norm2(e, d):
    return b.div(_inner(e.a, d[0]), e)


@rule(Norm1, name="1-norm", identity="d ||x||_1 = sign(x)^T dx (where no entry of x is 0)")
def d_norm1(e, d):
    return _inner(Func("sign", e.a), d[0])


@rule(NormInf, name="max-norm",
      identity="d ||x||_inf = sign(x_k) dx_k, k the entry of largest magnitude (unique, not 0): "
               "(sign(x) ⊙ onehot_max(abs(x)))^T dx")
def d_norm_inf(e, d):
    return _inner(b.had(Func("sign", e.a), OneHotMax(Func("abs", e.a))), d[0])


@rule(OneHotMax, name="indicator of the largest entry",
      identity="d onehot_max(x) = 0 where the largest entry is unique (it is piecewise constant)")
def d_onehot_max(e, d):
    return b.zero(e.shape)


@rule(NormF, name="Frobenius norm", identity="d ||X||_F = tr(X^T dX) / ||X||_F")
def d_normf(e, d):
    return b.div(_inner(e.a, d[0]), e)


@rule(Softmax, name="softmax",
      identity="d softmax(x) = s ⊙ dx - s (s^T dx), with s = softmax(x): (diag(s) - s s^T) dx")
def d_softmax(e, d):
    return b.sub(b.had(e, d[0]), b.mul(e, b.transpose(e), d[0]))


@rule(LogSumExp, name="log-sum-exp", identity="d logsumexp(x) = softmax(x)^T dx")
def d_logsumexp(e, d):
    return b.mul(b.transpose(Softmax(e.a)), d[0])


# ---------------------------------------------------------------- the spectrum

def _eigen_rule(e, d, right, left):
    """dλ = vᵀ dA v for a symmetric A (v the unit eigenvector), else
    uᵀ dA v / (uᵀ v) with u, v the left and right eigenvectors; λ simple."""
    if e.a.shape == SCALAR:   # the eigenvalue of a number is the number
        return d[0]
    v = right(e.a)
    if b.symmetric(e.a):
        return b.mul(b.transpose(v), d[0], v)
    u = left(e.a)
    return b.div(b.mul(b.transpose(u), d[0], v), b.mul(b.transpose(u), v))


@rule(LambdaMax, name="eigenvalue",
      identity="dλ = uᵀ dA v / (uᵀ v), u = leftvec_max(A), v = eigvec_max(A); vᵀ dA v when A "
               "is symmetric (λ_max(A) real and simple)")
def d_lambda_max(e, d):
    return _eigen_rule(e, d, EigVecMax, LeftVecMax)


@rule(LambdaMin, name="eigenvalue",
      identity="dλ = uᵀ dA v / (uᵀ v), u = leftvec_min(A), v = eigvec_min(A); vᵀ dA v when A "
               "is symmetric (λ_min(A) real and simple)")
def d_lambda_min(e, d):
    return _eigen_rule(e, d, EigVecMin, LeftVecMin)


@rule(EigVecMax, EigVecMin, LeftVecMax, LeftVecMin, name="eigenvector",
      identity="dv = (λI - A)⁺ dA v (A symmetric, λ simple, v its unit eigenvector, also its "
               "left one)")
def d_eigvec(e, d):
    # the eigenvector of a general A is not differentiated
    if is_zero(d[0]):
        return b.zero(e.shape)
    largest = isinstance(e, (EigVecMax, LeftVecMax))
    if e.a.shape == SCALAR:   # the eigenvector of a number is 1
        return b.zero(e.shape)
    if b.symmetric(e.a):
        lam = (LambdaMax if largest else LambdaMin)(e.a)
        gap = b.sub(b.mul(lam, Identity(e.a.shape[0])), e.a)
        return b.mul(Pinv(gap), d[0], e)
    what = "the largest" if largest else "the smallest"
    raise MatdiffError(
        "unsupported",
        f"the derivative of the eigenvector of {what} eigenvalue of a matrix not known to be "
        "symmetric is not in matdiff yet, so neither is a second derivative of lambda_max / "
        "lambda_min of a general matrix",
        hint="ask for the gradient (grad) instead, or declare the matrix symmetric "
             "(`A: n x n symmetric`) if it is")


@rule(EigVals, name="eigenvalues",
      identity="dλ = diag(Vᵀ dA V), V = eigvecs(A) (A symmetric, its eigenvalues distinct)")
def d_eigvals(e, d):
    if e.a.shape == SCALAR:   # the eigenvalue of a number is the number
        return d[0]
    if not b.symmetric(e.a):
        from .render.text import to_text
        raise MatdiffError(
            "unsupported",
            f"eigvals({to_text(e.a)}) is differentiated for a symmetric matrix only (the "
            "eigenvalues of a general matrix may be complex); the extreme eigenvalues "
            "lambda_max and lambda_min of a general matrix are",
            hint="declare the matrix symmetric or spd (`A: n x n symmetric`), or write a "
                 "symmetric form such as X^T X or (A + A^T)/2")
    v = EigVecs(e.a)
    return DiagV(b.mul(b.transpose(v), d[0], v))


@rule(EigVecs, name="eigenvectors",
      identity="dV = V (F ⊙ (Vᵀ dA V)), F = 1 ./ (1 λᵀ - λ 1ᵀ + I) - I, λ = eigvals(A) (A "
               "symmetric, its eigenvalues distinct: dv_i = Σ_{j≠i} v_j v_jᵀ dA v_i / (λ_i - λ_j))")
def d_eigvecs(e, d):
    if is_zero(d[0]) or e.a.shape == SCALAR:
        return b.zero(e.shape)
    if not b.symmetric(e.a):
        from .render.text import to_text
        raise MatdiffError(
            "unsupported",
            f"eigvecs({to_text(e.a)}) is differentiated for a symmetric matrix only",
            hint="declare the matrix symmetric or spd (`A: n x n symmetric`), or write a "
                 "symmetric form such as X^T X or (A + A^T)/2")
    n = e.a.shape[0]
    lam, one, eye = EigVals(e.a), Ones((n, 1)), Identity(n)
    gaps = b.add(b.mul(one, b.transpose(lam)), b.neg(b.mul(lam, b.transpose(one))), eye)
    f = b.sub(EDiv(Ones((n, n)), gaps), eye)
    return b.mul(e, b.had(f, b.mul(b.transpose(e), d[0], e)))


@rule(Pinv, name="pseudo-inverse",
      identity="dM⁺ = -M⁺ dM M⁺ + M⁺ M⁺ᵀ dMᵀ (I - M M⁺) + (I - M⁺ M) dMᵀ M⁺ᵀ M⁺ (the rank "
               "of M constant)")
def d_pinv(e, d):
    m, dm = e.a, d[0]
    if m.shape == SCALAR:
        return b.neg(b.mul(e, dm, e))
    pt, dmt = b.transpose(e), b.transpose(dm)
    left = b.sub(Identity(m.shape[0]), b.mul(m, e))
    right = b.sub(Identity(m.shape[1]), b.mul(e, m))
    return b.add(b.neg(b.mul(e, dm, e)), b.mul(e, pt, dmt, left), b.mul(right, dmt, pt, e))


# ---------------------------------------------------------------- singular values

@rule(SigmaMax, name="largest singular value",
      identity={"matrix": "dσ = u1ᵀ dX v1, u1 = svec_left_max(X), v1 = svec_right_max(X) "
                          "(σ_max(X) simple)", "number": "d|x| = sign(x) dx"},
      case=_matrix_or_number)
def d_sigma_max(e, d):
    """dσ = u1ᵀ dX v1, u1 = svec_left_max(X), v1 = svec_right_max(X) (σ_max(X) simple).
    Of a number x, d|x| = sign(x) dx."""
    if e.a.shape == SCALAR:
        return b.mul(Func("sign", e.a), d[0])
    return b.mul(b.transpose(SVecLeftMax(e.a)), d[0], SVecRightMax(e.a))


@rule(SvdVals, name="singular values",
      identity={"matrix": "dσ_i = u_iᵀ dX v_i: dσ = diag(Uᵀ dX V), U = svd_u(X), V = svd_v(X) "
                          "(the singular values distinct and not 0)", "number": "d|x| = sign(x) dx"},
      case=_matrix_or_number)
def d_svdvals(e, d):
    """dσ_i = u_iᵀ dX v_i: dσ = diag(Uᵀ dX V), U = svd_u(X), V = svd_v(X) (the singular
    values distinct and not 0).  Of a number x, d|x| = sign(x) dx."""
    if e.a.shape == SCALAR:
        return b.mul(Func("sign", e.a), d[0])
    return DiagV(b.mul(b.transpose(SvdU(e.a)), d[0], SvdV(e.a)))


@rule(NormNuc, name="nuclear norm",
      identity={"matrix": "d||X||_* = tr(polar(X)ᵀ dX), polar(X) = U Vᵀ of the thin SVD "
                          "(X of full rank)", "number": "d|x| = sign(x) dx"},
      case=_matrix_or_number)
def d_norm_nuc(e, d):
    """d||X||_* = tr(polar(X)ᵀ dX), polar(X) = U Vᵀ of the thin SVD (X of full rank).
    Of a number x, d|x| = sign(x) dx."""
    if e.a.shape == SCALAR:
        return b.mul(Func("sign", e.a), d[0])
    return _inner(Polar(e.a), d[0])


@rule(SVecLeftMax, SVecRightMax, name="singular vector",
      identity={SVecLeftMax: "du1 = M⁺ (σ dX v1 + X dXᵀ u1), M = σ²I − X Xᵀ, σ = sigma_max(X)",
                SVecRightMax: "dv1 = N⁺ (σ dXᵀ u1 + Xᵀ dX v1), N = σ²I − Xᵀ X, "
                              "σ = sigma_max(X)"})
def d_singular_vector(e, d):
    """du1 = M⁺ (σ dX v1 + X dXᵀ u1), M = σ²I − X Xᵀ; dv1 = N⁺ (σ dXᵀ u1 + Xᵀ dX v1),
    N = σ²I − Xᵀ X; σ = sigma_max(X) simple, M⁺ = (M + u1 u1ᵀ)⁻¹ − u1 u1ᵀ (M is
    symmetric with null space u1: the eigenvector derivative of u1 for X Xᵀ)."""
    x, dx = e.a, d[0]
    if is_zero(dx) or e.shape == SCALAR:   # ±1: constant where σ is simple
        return b.zero(e.shape)
    u, v, s = SVecLeftMax(x), SVecRightMax(x), SigmaMax(x)
    left = isinstance(e, SVecLeftMax)
    w, gram = (u, b.mul(x, b.transpose(x))) if left else (v, b.mul(b.transpose(x), x))
    ww = b.mul(w, b.transpose(w))
    m = b.add(b.mul(Power(s, 2), Identity(e.shape[0])), b.neg(gram), ww)
    pinv = b.sub(b.inverse(m), ww)
    if left:
        rhs = b.add(b.mul(s, dx, v), b.mul(x, b.transpose(dx), u))
    else:
        rhs = b.add(b.mul(s, b.transpose(dx), u), b.mul(b.transpose(x), dx, v))
    return b.mul(pinv, rhs)


@rule(Polar, name="polar factor",
      identity="d polar(X) = U ((M − Mᵀ) ./ (σ 1ᵀ + 1 σᵀ)) Vᵀ + (I − U Uᵀ) dX V Σ⁻¹ Vᵀ "
               "+ U Σ⁻¹ Uᵀ dX (I − V Vᵀ), M = Uᵀ dX V")
def d_polar(e, d):
    """d polar(X) = U ((M − Mᵀ) ./ (σ 1ᵀ + 1 σᵀ)) Vᵀ + (I − U Uᵀ) dX V Σ⁻¹ Vᵀ
    + U Σ⁻¹ Uᵀ dX (I − V Vᵀ), M = Uᵀ dX V, U = svd_u(X), V = svd_v(X), σ = svdvals(X),
    Σ = diag(σ) (X of full rank; the last two terms vanish for a square X)."""
    x, dx = e.a, d[0]
    if is_zero(dx) or e.shape == SCALAR:   # sign(x): constant away from 0
        return b.zero(e.shape)
    n, m = x.shape
    if n != m and not (isinstance(n, int) and isinstance(m, int)):
        raise MatdiffError(
            "unsupported",
            "the derivative of polar(X) for a non-square X of symbolic sizes needs svd_u(X), "
            "of min(n, m) columns, which matdiff cannot write; so neither is the second "
            "derivative of the nuclear norm of such a matrix",
            hint="declare the matrix square or with numeric sizes (`X: 5 x 3`), or ask for "
                 "the gradient (grad) instead")
    u, v, sv = SvdU(x), SvdV(x), SvdVals(x)
    k = sv.shape[0]
    one = Ones((k, 1))
    mm = b.mul(b.transpose(u), dx, v)
    out = b.mul(u, EDiv(b.sub(mm, b.transpose(mm)),
                        b.add(b.mul(sv, b.transpose(one)), b.mul(one, b.transpose(sv)))),
                b.transpose(v))
    inv_s = DiagM(EDiv(one, sv))
    if n != m and n > m:   # tall: the part of dX outside the range of U
        out = b.add(out, b.mul(b.sub(Identity(n), b.mul(u, b.transpose(u))), dx, v, inv_s,
                               b.transpose(v)))
    elif n != m:           # wide
        out = b.add(out, b.mul(u, inv_s, b.transpose(u), dx,
                               b.sub(Identity(m), b.mul(v, b.transpose(v)))))
    return out


@rule(SvdU, SvdV, name="singular vectors",
      identity={SvdU: "dU = U (F ⊙ (M Σ + Σ Mᵀ)) + (I − U Uᵀ) dX V Σ⁻¹, M = Uᵀ dX V, "
                      "F_ij = 1 / (σ_j² − σ_i²)",
                SvdV: "dV = V (F ⊙ (Mᵀ Σ + Σ M)) + (I − V Vᵀ) dXᵀ U Σ⁻¹, M = Uᵀ dX V, "
                      "F_ij = 1 / (σ_j² − σ_i²)"})
def d_singular_vectors(e, d):
    """dU = U (F ⊙ (M Σ + Σ Mᵀ)) + (I − U Uᵀ) dX V Σ⁻¹, dV = V (F ⊙ (Mᵀ Σ + Σ M)) + (I −
    V Vᵀ) dXᵀ U Σ⁻¹, M = Uᵀ dX V, Σ = diag(σ), F_ij = 1 / (σ_j² − σ_i²) off the
    diagonal, 0 on it (σ = svdvals(X) distinct and not 0; the second terms only for a
    tall X (dU) or a wide X (dV))."""
    x, dx = e.a, d[0]
    if is_zero(dx) or x.shape == SCALAR:   # sign(x), 1: constant away from 0
        return b.zero(e.shape)
    n, m = x.shape
    u, v, sv = SvdU(x), SvdV(x), SvdVals(x)
    k = sv.shape[0]
    one, eye = Ones((k, 1)), Identity(k)
    mm, sig = b.mul(b.transpose(u), dx, v), DiagM(sv)
    sq = EPow(sv, 2)
    f = EDiv(b.sub(Ones((k, k)), eye),
             b.add(b.mul(one, b.transpose(sq)), b.neg(b.mul(sq, b.transpose(one))), eye))
    inv_s = DiagM(EDiv(one, sv))
    if isinstance(e, SvdU):
        out = b.mul(u, b.had(f, b.add(b.mul(mm, sig), b.mul(sig, b.transpose(mm)))))
        if n != m and n > m:
            out = b.add(out, b.mul(b.sub(Identity(n), b.mul(u, b.transpose(u))), dx, v, inv_s))
        return out
    out = b.mul(v, b.had(f, b.add(b.mul(b.transpose(mm), sig), b.mul(sig, mm))))
    if n != m and m > n:
        out = b.add(out, b.mul(b.sub(Identity(m), b.mul(v, b.transpose(v))), b.transpose(dx),
                               u, inv_s))
    return out


# ---------------------------------------------------------------- elementwise functions

# f'(u) of each built-in f is declared with f (ops/elementwise.py)


@rule(Func, name="chain rule (elementwise)",
      identity="d f(U) = f'(U) ⊙ dU for an elementwise f")
def d_func(e, d):
    if len(e.args) == 3:
        deriv = user_derivative(e)
    else:
        deriv = ELEMENTWISE[e.name].derivative(e)
    return b.had(deriv, d[0])


def user_derivative(e: Func) -> Expr:
    """f'(u) for a user function f(t) := body, found with SymPy (imported only here)."""
    from .usersym import derivative_text
    name, arg, (param, body) = e.args
    return Func(name + "'", arg, (param, derivative_text(param, body)))


# ---------------------------------------------------------------- the engine

def depends_on(expr: Expr, target: Expr) -> dict:
    """For every node of expr, children first: does it contain target (a variable,
    or its dX)?"""
    dep: dict = {}
    for node in walk(expr):
        dep[node] = node is target or any(dep[c] for c in node.children)
    return dep


def differential(expr: Expr, var: Sym) -> Expr:
    """The differential of expr with respect to var, in terms of Diff(var).

    Only the nodes that contain var are visited (found upwards from var through a
    map of parents, built once per expression): differentiating a sum of n
    variables' terms with respect to each in turn costs n, not n^2."""
    order, parents = _graph(expr)
    if var not in order:
        return b.zero(expr.shape)
    up = {var}              # the nodes that contain var
    stack = [var]
    while stack:
        for p in parents.get(stack.pop(), ()):
            if p not in up:
                up.add(p)
                stack.append(p)
    memo: dict = {}
    for node in sorted(up, key=order.__getitem__):   # children first
        if node is var:
            memo[node] = Diff(var)
        elif isinstance(node, Trace) and power_of(node.a) is not None:
            # tr(A^k): from dA directly, never through the k terms of d(A^k)
            memo[node] = d_trace_power(node, _base_differential(node.a, memo))
        elif power_of(node) is not None:
            memo[node] = _Lazy()   # written only if a parent other than a trace needs it
        elif type(node) is Add:
            memo[node] = b.add(*[_get(memo, c) for c in node.children if c in up])
        else:
            memo[node] = apply_rule(node, tuple(_get(memo, c) for c in node.children))
    return _get(memo, expr)


_graph_of: list = [None, None, None]


def _graph(expr: Expr) -> tuple:
    """(post-order index, parents) of expr's nodes; kept for the last expression
    (a problem is differentiated with respect to each of its variables in turn)."""
    if _graph_of[0] is not expr:
        order: dict = {}
        parents: dict = {}
        for i, node in enumerate(walk(expr)):
            order[node] = i
            for c in set(node.children):
                parents.setdefault(c, []).append(node)
        _graph_of[:] = [expr, order, parents]
    return _graph_of[1], _graph_of[2]


class _Lazy:
    """A power's differential not written yet (see differential)."""
    __slots__ = ()


def _get(memo, c):
    out = memo.get(c)
    if out is None:          # a child without the variable
        return b.zero(c.shape)
    if type(out) is _Lazy:   # a power used outside a trace: write its terms now
        out = memo[c] = apply_rule(c, tuple(_get(memo, g) for g in c.children))
    return out


def _base_differential(a, memo):
    """dB for tr(B^k), from the memo: B is A of A^k, or the block of a repeated chain."""
    if isinstance(a, Power):
        return _get(memo, a.base)
    base, k = power_of(a)
    period = len(a.factors) // k
    kids = tuple(_get(memo, f) for f in a.factors[:period])
    return kids[0] if period == 1 else apply_rule(base, kids)


def apply_rule(node: Expr, dchildren: tuple) -> Expr:
    rule_fn = RULES.get(type(node))
    if rule_fn is None:
        raise MatdiffError("unsupported", f"no differential rule for {type(node).__name__}")
    out = rule_fn(node, dchildren)
    assert out.shape == node.shape, (type(node).__name__, out.shape, node.shape)
    return out
