"""User scalar functions ``f(t) := body``: derivatives and values through SymPy.

SymPy is imported here only, and only when a problem uses a user function.
The body is read by matdiff's own parser (so ``t^2^3`` is ``(t^2)^3`` and
``t (1 + t)`` a product, as at top level), turned into SymPy, and the
derivatives are printed back in matdiff's syntax (``f'(t) = 6 t^5``), so that
``f'(x)`` in a result reads back.  A Dirac delta (the derivative of ``step``
or ``sign``) is 0 wherever the derivative exists, and is written so.
"""
from __future__ import annotations

from .rational import Fraction
from functools import lru_cache

from .ops import ALIASES, ELEMENTWISE
from .render.numbers import ATOM, NEG, POST, PROD, SUM, number_text


def _namespace():
    """The functions a body may call: matdiff's elementwise ones, in SymPy."""
    import sympy as sp

    return {name: (lambda u, f=f: f.sympy(sp, u)) for name, f in ELEMENTWISE.items()}


def _symbol(param: str):
    """The symbol of the parameter (any name: ``lambda``, ``True`` or ``not`` too;
    only SymPy sees it, never Python's parser: see :func:`numeric_function`)."""
    import sympy as sp

    return sp.Symbol(param, real=True)


def body_node(body: str):
    """The syntax node of a body (matdiff's parser)."""
    from .parser import Source, parse_statement, split_statements

    src = Source(body)
    spans = split_statements(body)
    if len(spans) != 1:
        raise ValueError(f"not one expression: {body!r}")
    node = parse_statement(src, *spans[0])
    if node.kind != "problem":
        raise ValueError(f"not an expression: {body!r}")
    return node.kids[0]


def node_to_sympy(node, param: str, t):
    """A body's syntax node as SymPy in the symbol t (iterative on the nesting the
    parser bounds, so plain recursion is safe)."""
    import sympy as sp

    ns = _namespace()
    k = node.kind
    if k == "num":
        v = node.val
        return sp.Rational(v.numerator, v.denominator)
    if k == "name":
        if node.val != param:
            raise ValueError(f"unknown name {node.val!r} in a function body")
        return t
    if k == "neg":
        return -node_to_sympy(node.kids[0], param, t)
    if k == "add":
        out = sp.Integer(0)
        for (sign, _, _), kid in zip(node.val, node.kids):
            v = node_to_sympy(kid, param, t)
            out = out + v if sign > 0 else out - v
        return out
    if k == "chain":
        out = None
        for op, kid in zip(node.val, node.kids):
            v = node_to_sympy(kid, param, t)
            if op is None:
                out = v
            elif op[0] in ("mul", "had"):
                out = out * v
            elif op[0] in ("div", "ediv"):
                out = out / v
            else:
                raise ValueError("a Kronecker product in a function body")
        return out
    if k == "post":
        base = node.kids[0]
        inner = base
        while inner.kind == "post" and not inner.paren:
            inner = inner.kids[0]
        if (inner.kind == "apply" and inner.val == param and not base.paren
                and len(inner.kids) == 1):
            # t(1 + t)^2 is t (1 + t)^2: a product, the power on the parenthesis
            from .syntax import Postfix

            arg = inner.kids[0]
            rest = arg
            chain = []
            k2 = node
            while k2 is not inner:
                chain.append(k2)
                k2 = k2.kids[0]
            for post in reversed(chain):
                rest = Postfix([rest], post.val, arg.start, post.end, post.depth)
            return t * node_to_sympy(rest, param, t)
        op = node.val[0]
        v = node_to_sympy(base, param, t)
        if op in ("pow", "epow"):
            p = node.val[1]
            return v ** sp.Rational(p.numerator, p.denominator)
        if op == "T":
            return v
        if op in ("inv", "invT"):
            return 1 / v
        raise ValueError(f"{op} in a function body")
    if k == "apply":
        n = node.val
        if n == param and len(node.kids) == 1:  # t (1 + t): a product
            return t * node_to_sympy(node.kids[0], param, t)
        n = ALIASES.get(n, n)  # σ(t) is sigmoid(t)
        if n in ns and len(node.kids) == 1:
            return ns[n](node_to_sympy(node.kids[0], param, t))
        raise ValueError(f"the function {n!r} in a function body")
    raise ValueError(f"{k} in a function body")


@lru_cache(maxsize=None)
def to_sympy(param: str, body: str):
    """(symbol, SymPy expression) of a body in matdiff syntax."""
    t = _symbol(param)
    return t, node_to_sympy(body_node(body), param, t)


def _no_delta(expr):
    import sympy as sp

    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))


@lru_cache(maxsize=None)
def derivative_text(param: str, body: str) -> str:
    """The derivative of body with respect to param, in matdiff syntax."""
    import sympy as sp

    t, expr = to_sympy(param, body)
    deriv = _no_delta(sp.diff(expr, t))
    return matdiff_text(deriv, t, param)


@lru_cache(maxsize=None)
def numeric_function(param: str, body: str):
    """A NumPy-vectorised function of the body."""
    import sympy as sp

    t, expr = to_sympy(param, body)
    return sp.lambdify(t, _no_delta(expr), modules=["numpy"], dummify=True)


# ---------------------------------------------------------------------------
# SymPy -> matdiff syntax

_SUM, _PROD, _NEG, _POST, _ATOM = SUM, PROD, NEG, POST, ATOM   # the renderers' levels


def matdiff_text(expr, t, param: str) -> str:
    """A scalar SymPy expression in the symbol t as matdiff text, with t named param."""
    return _text(expr, t, param)[1]


def _number(v) -> tuple[int, str]:
    f = Fraction(int(v.p), int(v.q))
    level, text = number_text(abs(f))
    if f < 0:
        return _NEG, "-" + (text if level == _ATOM else f"({text})")
    return level, text


def _wrap(pair, level) -> str:
    lv, text = pair
    return text if lv >= level else f"({text})"


def _text(e, t, param) -> tuple[int, str]:
    import sympy as sp

    if e == t:
        return _ATOM, param
    if e.is_Rational:
        return _number(e)
    if e.is_Number:  # a float or an irrational constant: its value
        return _ATOM if e >= 0 else _NEG, repr(float(e))
    if isinstance(e, sp.Add):
        terms = e.as_ordered_terms()
        out = _text(terms[0], t, param)[1]
        for term in terms[1:]:
            c, rest = term.as_coeff_Mul()
            if c < 0:
                out += " - " + _wrap(_text(-term, t, param), _PROD)
            else:
                out += " + " + _wrap(_text(term, t, param), _PROD)
        return _SUM, out
    if isinstance(e, sp.Mul):
        c, rest = e.as_coeff_Mul()
        if c < 0:
            return _NEG, "-" + _wrap(_text(-e, t, param), _PROD)
        num, den = [], []
        for f in sp.Mul.make_args(e):
            b, x = f.as_base_exp()
            if x.is_Rational and x < 0:
                den.append(b ** -x)
            elif f.is_Rational and f.q != 1:
                if f.p != 1:
                    num.append(sp.Integer(f.p))
                den.append(sp.Integer(f.q))
            else:
                num.append(f)
        parts = [_wrap(_text(f, t, param), _PROD + 0.5) for f in num] or ["1"]
        out = " ".join(parts)
        if den:
            d = den[0] if len(den) == 1 else sp.Mul(*den, evaluate=False)
            out += " / " + _wrap(_text(d, t, param), _POST)
        return _PROD, out
    if isinstance(e, sp.Pow):
        b, x = e.args
        if x == sp.Rational(1, 2):
            return _ATOM, f"sqrt({_text(b, t, param)[1]})"
        if x == -1:
            return _PROD, "1 / " + _wrap(_text(b, t, param), _ATOM)
        if b == sp.E:
            return _ATOM, f"exp({_text(x, t, param)[1]})"
        if not x.is_Rational:
            return _ATOM, f"exp({_text(x * sp.log(b), t, param)[1]})"
        p = Fraction(int(x.p), int(x.q))
        ex = str(p) if p.denominator == 1 and p >= 0 else f"({p})"
        return _POST, _wrap(_text(b, t, param), _ATOM) + "^" + ex
    if isinstance(e, sp.Max) and len(e.args) == 2 and 0 in e.args:
        other = e.args[0] if e.args[1] == 0 else e.args[1]
        return _ATOM, f"relu({_text(other, t, param)[1]})"
    if isinstance(e, (sp.Max, sp.Min)):
        a, rest = e.args[0], e.func(*e.args[1:])
        if isinstance(e, sp.Max):  # max(a, b) = b + relu(a - b)
            return _text(rest + sp.Max(a - rest, 0, evaluate=False), t, param)
        return _text(a - sp.Max(a - rest, 0, evaluate=False), t, param)
    if isinstance(e, sp.Heaviside):
        return _ATOM, f"step({_text(e.args[0], t, param)[1]})"
    name = type(e).__name__
    funcs = {f.sympy_class: f.name for f in ELEMENTWISE.values() if f.sympy_class}
    if name in funcs and len(e.args) == 1:
        return _ATOM, f"{funcs[name]}({_text(e.args[0], t, param)[1]})"
    raise ValueError(f"matdiff cannot write {e} in its syntax")
