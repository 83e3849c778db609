"""d(expr): one differential rule per node type.

Each rule receives the node and the differentials of its children (already
computed, or placeholders ``Diff(child)`` when tracing steps) and returns the
node's differential.  The engine owns the walk and the memo, so the cost is
linear in the size of the expression DAG: a subexpression shared by several
parents (a definition) is differentiated once and its differential is shared.
"""
from __future__ import annotations

from fractions import Fraction

from . import build as b
from .dispatch import registrar
from .errors import MatdiffError
from .expr import (
    SCALAR, Add, Broadcast, Commutation, Det, Diff, Div, EDiv, EPow, Expr, Func, Hadamard,
    Identity, Inverse, Kron, LogDet, LogSumExp, Mul, Norm2, NormF, Num, Ones, Power, Softmax,
    Sum, Sym, Trace, Transpose, Vec, DiagM, DiagV, Zeros, is_zero, walk,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Callable

Rule = "Callable[[Expr, tuple], Expr]"
RULES: dict[type, Rule] = {}
RULE_NAMES: dict[type, str] = {}
_file = registrar(RULES)


def rule(*types, name: str):
    """@rule(Mul, name="product rule"): the differential rule of those node types."""
    RULE_NAMES.update((t, name) for t in types)
    return _file(*types)


# ---------------------------------------------------------------- constants

@rule(Num, Identity, Zeros, Ones, Commutation, Diff, name="constant")
def d_constant(e, d):
    """d(c) = 0 for a constant (and d(dX) = 0: a direction is constant)."""
    return b.zero(e.shape)


# ---------------------------------------------------------------- linear maps

@rule(Add, name="sum rule")
def d_add(e, d):
    """d(a + b) = da + db."""
    return b.add(*d)


@rule(Transpose, name="transpose")
def d_transpose(e, d):
    """d(A^T) = (dA)^T."""
    return b.transpose(d[0])


@rule(Trace, name="trace")
def d_trace(e, d):
    """d tr(A) = tr(dA)."""
    return b.trace(d[0])


@rule(Sum, name="sum of entries")
def d_sum(e, d):
    """d sum(A) = sum(dA)."""
    return b.zero(SCALAR) if is_zero(d[0]) else Sum(d[0])


@rule(DiagM, DiagV, Vec, name="linear structure")
def d_linear_unary(e, d):
    """d diag(x) = diag(dx); d diag(X) = diag(dX); d vec(X) = vec(dX)."""
    return b.zero(e.shape) if is_zero(d[0]) else type(e)(d[0])


@rule(Broadcast, name="broadcast")
def d_broadcast(e, d):
    """d(s 1) = ds 1: a broadcast scalar varies as the scalar."""
    return b.broadcast(d[0], e.shape)


# ---------------------------------------------------------------- products

@rule(Mul, name="product rule")
def d_mul(e, d):
    """d(A B) = dA B + A dB, for every factor of the chain."""
    f = e.factors
    return b.add(*[b.mul(*f[:i], di, *f[i + 1:]) for i, di in enumerate(d) if not is_zero(di)]
                 or [b.zero(e.shape)])


@rule(Hadamard, name="Hadamard product rule")
def d_hadamard(e, d):
    """d(A ⊙ B) = dA ⊙ B + A ⊙ dB."""
    f = e.factors
    return b.add(*[b.had(*f[:i], di, *f[i + 1:]) for i, di in enumerate(d) if not is_zero(di)]
                 or [b.zero(e.shape)])


@rule(Kron, name="Kronecker product rule")
def d_kron(e, d):
    """d(A ⊗ B) = dA ⊗ B + A ⊗ dB."""
    a, c = e.args
    return b.add(b.kron(d[0], c), b.kron(a, d[1]))


@rule(Div, name="quotient rule")
def d_div(e, d):
    """d(A / c) = dA / c - (dc / c^2) A."""
    a, c = e.args
    return b.sub(b.div(d[0], c), b.mul(b.div(d[1], Power(c, 2)), a))


@rule(EDiv, name="elementwise quotient rule")
def d_ediv(e, d):
    """d(A ./ B) = dA ./ B - A ⊙ dB ./ B.^2."""
    a, c = e.args
    first = b.zero(e.shape) if is_zero(d[0]) else EDiv(d[0], c)
    second = b.zero(e.shape) if is_zero(d[1]) else EDiv(b.had(a, d[1]), EPow(c, 2))
    return b.sub(first, second)


# ---------------------------------------------------------------- powers and inverses

@rule(Inverse, name="inverse")
def d_inverse(e, d):
    """d(A^-1) = -A^-1 dA A^-1."""
    return b.neg(b.mul(e, d[0], e))


@rule(Power, name="power rule")
def d_power(e, d):
    """d(a^p) = p a^(p-1) da for a scalar; d(A^k) = sum_i A^i dA A^(k-1-i);
    d(||x||^2) = 2 x^T dx and d(||X||_F^2) = 2 tr(X^T dX) (no square root)."""
    base, p = e.args
    db = d[0]
    if base.shape != SCALAR:
        k = int(p)
        return b.add(*[b.mul(_mpow(base, i), db, _mpow(base, k - 1 - i)) for i in range(k)]
                     or [b.zero(e.shape)])
    if p == 2 and isinstance(base, (Norm2, NormF)):
        if isinstance(db, Div) and db.args[1] is base:
            return b.scale(2, db.args[0])    # 2 ||x|| (x^T dx / ||x||) = 2 x^T dx
        if isinstance(db, Diff) and db.sym is base:  # a derivation step: d||u||^2 = 2 <u, du>
            return b.scale(2, _inner(base.a, Diff(base.a)))
    return b.scale(p, b.mul(_spow(base, p - 1), db)) if p != 1 else db


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


@rule(EPow, name="elementwise power rule")
def d_epow(e, d):
    """d(A.^p) = p A.^(p-1) ⊙ dA."""
    base, p = e.args
    if p == 1:
        return d[0]
    coef = EPow(base, p - 1) if p != 2 else base
    return b.scale(p, b.had(coef, d[0]))


# ---------------------------------------------------------------- reductions

@rule(Det, name="determinant")
def d_det(e, d):
    """d det(A) = det(A) tr(A^-1 dA)."""
    return b.mul(e, b.trace(b.mul(Inverse(e.a), d[0])))


@rule(LogDet, name="log-determinant")
def d_logdet(e, d):
    """d logdet(A) = tr(A^-1 dA)."""
    return b.trace(b.mul(Inverse(e.a), d[0]))


@rule(Norm2, name="Euclidean norm")
def d_norm2(e, d):
    """d ||x|| = x^T dx / ||x||."""
    return b.div(_inner(e.a, d[0]), e)


@rule(NormF, name="Frobenius norm")
def d_normf(e, d):
    """d ||X||_F = tr(X^T dX) / ||X||_F."""
    return b.div(_inner(e.a, d[0]), e)


@rule(Softmax, name="softmax")
def d_softmax(e, d):
    """d softmax(x) = s ⊙ dx - s (s^T dx), with s = softmax(x): (diag(s) - s s^T) dx."""
    return b.sub(b.had(e, d[0]), b.mul(e, b.transpose(e), d[0]))


@rule(LogSumExp, name="log-sum-exp")
def d_logsumexp(e, d):
    """d logsumexp(x) = softmax(x)^T dx."""
    return b.mul(b.transpose(Softmax(e.a)), d[0])


# ---------------------------------------------------------------- elementwise functions

def _one_minus(u):
    return b.sub(b.broadcast(Num(1), u.shape), u)


# f'(u) in closed form, given the node f(u) itself (so shared values stay shared)
DERIVATIVES: dict[str, Callable[[Func], Expr]] = {
    "exp": lambda f: f,                                           # exp' = exp
    "log": lambda f: EPow(f.arg, -1) if f.shape != SCALAR else Power(f.arg, -1),
    "sin": lambda f: Func("cos", f.arg),
    "cos": lambda f: b.neg(Func("sin", f.arg)),
    "tanh": lambda f: _one_minus(_square(f)),                    # tanh' = 1 - tanh^2
    "sigmoid": lambda f: b.had(f, _one_minus(f)),                 # σ' = σ ⊙ (1 - σ)
    "relu": lambda f: Func("step", f.arg),                        # relu' = step
    "softplus": lambda f: Func("sigmoid", f.arg),                 # softplus' = σ
    "sqrt": lambda f: b.scale(Fraction(1, 2), _reciprocal(f)),    # sqrt' = 1 / (2 sqrt)
    "abs": lambda f: Func("sign", f.arg),                         # abs' = sign
    "step": lambda f: b.zero(f.shape),
    "sign": lambda f: b.zero(f.shape),
}


def _square(f):
    return Power(f, 2) if f.shape == SCALAR else EPow(f, 2)


def _reciprocal(f):
    return Power(f, -1) if f.shape == SCALAR else EPow(f, -1)


@rule(Func, name="chain rule (elementwise)")
def d_func(e, d):
    """d f(U) = f'(U) ⊙ dU for an elementwise f."""
    if len(e.args) == 3:
        deriv = user_derivative(e)
    else:
        deriv = DERIVATIVES[e.name](e)
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
    """The differential of expr with respect to var, in terms of Diff(var)."""
    memo: dict = {}
    constant: set = set()   # nodes that do not depend on var (one walk finds both)
    for node in walk(expr):
        kids = node.children
        if node is var:
            memo[node] = Diff(var)
        elif all(c in constant for c in kids):
            constant.add(node)
            memo[node] = b.zero(node.shape)
        else:
            memo[node] = apply_rule(node, tuple(memo[c] for c in kids))
    return memo[expr]


def apply_rule(node: Expr, dchildren: tuple) -> Expr:
    rule_fn = RULES.get(type(node))
    if rule_fn is None:
        raise MatdiffError("unsupported", f"no differential rule for {type(node).__name__}")
    out = rule_fn(node, dchildren)
    assert out.shape == node.shape, (type(node).__name__, out.shape, node.shape)
    return out
