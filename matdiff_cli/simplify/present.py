"""The printed form of a canonical expression."""
from __future__ import annotations

from math import gcd

from ..expr import ONE, SCALAR, Add, Div, EDiv, EPow, Expr, Hadamard, Mul, Num, Power
from ..expr import postorder_missing as _postorder_missing
from ..expr import walk
from .core import coefficient, product, split_coef, with_coef

# ---------------------------------------------------------------- presentation

def present(expr: Expr) -> Expr:
    """The printed form of a canonical expression: c^-1 a -> a / c, a ⊙ b.^-1 -> a ./ b,
    a lone broadcast c -> c ones(n, m)."""
    memo = _presented  # a pure function of the node: one memo for the whole run
    kinds = _PRESENTED_KINDS
    for node in _postorder_missing(expr, memo):
        n = node
        children = node.children
        if children:   # (a leaf, half the nodes, is itself)
            kids = tuple(map(memo.__getitem__, children))
            if kids != children:
                n = node.rebuild(kids)
        cls = type(n)
        if cls not in kinds or (cls is Mul and _FACTORS_PRESENTED.isdisjoint(map(type, n.factors))):
            memo[node] = n   # (most products: no sum, product, power or quotient in them)
        elif cls is Add:
            memo[node] = _present_sum(n)
        else:
            memo[node] = _present_node(n)
    return memo[expr]


_presented: dict = {}
MINUS_ONE = Num(-1)


def _present_node(n: Expr) -> Expr:
    """n, one of _PRESENTED_KINDS (present passes the others by, and writes a sum
    itself), in its printed form."""
    if type(n) is Mul:   # (one with a factor of _FACTORS_PRESENTED: present passes the rest)
        n = _negated_sums_out(n)
    n = _common_numbers_out(n)
    if isinstance(n, Mul) and n.factors[0] is MINUS_ONE and isinstance(n.factors[1], Mul) \
            and [f.shape for f in n.factors[2:]].count(SCALAR) < len(n.factors) - 2:
        # -v (s^T y), not -1 (s^T y) v: a bracketed scalar goes after the chain
        products = [f for f in n.factors[1:] if isinstance(f, Mul) and f.shape == SCALAR]
        rest = [f for f in n.factors[1:] if f not in products]
        n = Mul(MINUS_ONE, *rest, *products)
    if isinstance(n, Mul) and _has_reciprocal(n.factors):
        num = [f for f in n.factors if not _is_reciprocal(f)]
        den = [_denominator(f) for f in n.factors if _is_reciprocal(f)]
        if den:
            if num and isinstance(num[0], Num) and num[0].value.denominator != 1:
                c = num[0].value   # -1/3 a / b -> -a / (3 b)
                num = ([Num(c.numerator)] if c.numerator != 1 else []) + num[1:]
                den = [Num(c.denominator)] + den
            top = product(num, n.shape) if num else ONE
            if top.shape != n.shape:
                return n
            return Div(top, product(den, SCALAR))
    if isinstance(n, Hadamard):
        num = [f for f in n.factors if not (isinstance(f, EPow) and f.p < 0)]
        den = [f for f in n.factors if isinstance(f, EPow) and f.p < 0]
        if den and num:
            top = num[0] if len(num) == 1 else Hadamard(*num)
            bottom = [f.base if f.p == -1 else EPow(f.base, -f.p) for f in den]
            return EDiv(top, bottom[0] if len(bottom) == 1 else Hadamard(*bottom))
    if isinstance(n, Mul) and len(n.factors) == 2 and isinstance(n.factors[0], Num) \
            and isinstance(n.factors[1], Add) and n.factors[0].value.denominator != 1:
        n = _distribute_whole(n.factors[0].value, n.factors[1].terms, n)
    if isinstance(n, Add):
        return _present_sum(n)
    if isinstance(n, Power) and n.shape == SCALAR and n.p < 0:
        return Div(ONE, n.base if n.p == -1 else Power(n.base, -n.p))
    return n


def _present_sum(n: Add) -> Expr:
    """a - 8 b / c rather than a + (-8 b) / c; 1 - σ(s), not -σ(s) + 1: a sum
    opens with a term that is not negative."""
    terms = n.terms
    if Div in map(type, terms):   # (few sums hold a quotient)
        terms = [_minus_quotient(t) for t in terms]
    first = 0
    for i, t in enumerate(terms):
        if coefficient(t) >= 0:
            first = i
            break
    if first:
        terms = [terms[first], *terms[:first], *terms[first + 1:]]
    elif terms is n.terms:   # (most sums: as they are)
        return n
    return n if all(t is u for t, u in zip(terms, n.terms)) else Add(*terms)


#: the node types _present_node changes (none has a subclass)
_PRESENTED_KINDS = frozenset({Mul, Hadamard, Add, Power})
#: the factors that make _present_node change a product: without one it is as is
_FACTORS_PRESENTED = frozenset({Add, Mul, Power, Div})


def _negated_sums_out(n: Mul) -> Expr:
    """-0.5 X^-1 (A + A^T) X^-1, not 0.5 X^-1 (-A - A^T) X^-1: a bracketed sum
    whose terms are all negative gives its sign to the product."""
    flips, factors = 0, []
    for f in n.factors:
        if isinstance(f, Add) and all(coefficient(t) < 0 for t in f.terms):
            f = Add(*[with_coef(-c, core) for c, core in map(split_coef, f.terms)])
            flips += 1
        factors.append(f)
    if not flips:
        return n
    sign = -1 if flips % 2 else 1
    if isinstance(factors[0], Num):
        c = sign * factors[0].value
        factors = factors[1:] if c == 1 else [Num(c)] + factors[1:]
    elif sign < 0:
        factors = [MINUS_ONE] + factors
    return factors[0] if len(factors) == 1 else Mul(*factors)


def _common_numbers_out(n: Expr) -> Expr:
    """det(M) (M^-1 S + S M^-1), not 0.5 det(M) (2 M^-1 S + 2 S M^-1): a bracketed
    sum whose coefficients are whole numbers with a common factor gives it to the
    product's number; so does one inside an elementwise product (B .* (2 X + 2 Y)
    is 2 (B .* (X + Y))), and the number of a scaled factor joins its product's."""
    if not isinstance(n, (Mul, Hadamard)):
        return n
    c, factors = 1, []   # an int until a number comes (a Fraction is made by a call)
    for f in n.factors:
        if isinstance(f, Add):
            g = 0
            for t in f.terms:   # (the numbers alone: most sums have no common one)
                k = coefficient(t)
                g = gcd(g, k.numerator) if k.denominator == 1 else 1
            if g > 1:
                c *= g
                f = Add(*[with_coef(k / g, core) for k, core in map(split_coef, f.terms)])
        elif isinstance(n, Mul) and isinstance(f, Mul) and isinstance(f.factors[0], Num):
            c *= f.factors[0].value   # 2 (2 (B .* X)), made just above, is 4 (B .* X)
            f = product(list(f.factors[1:]), f.shape)
        factors.append(f)
    if c == 1:
        return n
    wrapper = isinstance(n, Hadamard)   # the product c (...) it becomes is one node more
    if wrapper:
        out = with_coef(c, Hadamard(*factors))
    else:
        if isinstance(factors[0], Num):
            c *= factors[0].value
            factors = factors[1:]
        out = with_coef(c, product(factors, n.shape))
    return out if _distinct(out, numbers=False) <= _distinct(n, numbers=False) + wrapper else n


def _distribute_whole(c, terms, n: Expr) -> Expr:
    """S^-1 - 0.5 (C + C^T), not 0.5 (2 S^-1 - C - C^T): the terms that c makes
    whole leave the bracket (all of them: no bracket); the rest keep c, with the
    sign taken out when all of them are negative."""
    split = [split_coef(t) for t in terms]
    whole = [with_coef(c * k, core) for k, core in split if (c * k).denominator == 1]
    if not whole:
        return n
    if len(whole) == len(terms):   # 0.5 (2 A + 2 A^T + 2 S^-1) is A + A^T + S^-1
        out = Add(*whole)
        return out if _distinct(out) <= _distinct(n) else n
    rest = [(k, core) for k, core in split if (c * k).denominator != 1]
    if all(k < 0 for k, _ in rest):
        c, rest = -c, [(-k, core) for k, core in rest]
    inner = [with_coef(k, core) for k, core in rest]
    bracket = with_coef(c, inner[0]) if len(inner) == 1 else Mul(Num(c), Add(*inner))
    out = Add(*whole, bracket)
    # not when it parts what was shared: 0.5 (2 a + (2 a - 2 b)^T - 2 b) would
    # become a - b + 0.5 (2 a - 2 b)^T, with 2 a and a both to write
    return out if _distinct(out) <= _distinct(n) else n


def _distinct(e: Expr, numbers: bool = True) -> int:
    """The distinct nodes of e (with numbers=False, those that are not a number)."""
    return sum(1 for x in walk(e) if numbers or not isinstance(x, Num))


def _minus_quotient(t: Expr) -> Expr:
    """(-c a) / b as -(c a / b), which a sum writes as a subtraction."""
    if not isinstance(t, Div):
        return t
    top, bottom = t.args
    c, core = split_coef(top)
    if c >= 0:
        return t
    return Mul(Num(-1), Div(with_coef(-c, core), bottom))


def _has_reciprocal(factors) -> bool:
    for f in factors:
        if _is_reciprocal(f):
            return True
    return False


def _is_reciprocal(f: Expr) -> bool:
    return (isinstance(f, Power) and f.shape == SCALAR and f.p < 0) or \
        (isinstance(f, Div) and f.args[0] is ONE)


def _denominator(f: Expr) -> Expr:
    if isinstance(f, Div):
        return f.args[1]
    return f.base if f.p == -1 else Power(f.base, -f.p)
