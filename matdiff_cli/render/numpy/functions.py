"""The rules of functions: declared elementwise functions from their code
templates, and user functions ``f(t) := body`` translated through SymPy."""
from __future__ import annotations

from ...expr import Func
from ...names import AVOID, python_safe
from ...ops import ELEMENTWISE
from ...ops.base import template_parts
from .. import Doc
from .base import ADD, ATOM, MUL, POW, at_least, rule, tensor
from .targets import Target


def py_name(name: str) -> str:
    """A lone name's Python name: keywords get a trailing underscore (``lambda_``)."""
    from ...names import py_name as name_of

    return name_of(name)


# --------------------------------------------------------------------------- functions

def builtin_function(name: str, a: Doc, lib: "Target") -> Doc:
    """``f(a)`` for a declared elementwise f, from its code template."""
    f = ELEMENTWISE[name]
    level = {"atom": ATOM, "mul": MUL}[f.code_level]
    parts = []
    for p in template_parts(f.code_for(lib.name)):
        if p == "{a}":
            parts.append(a)
        elif p == "{a:pow}" and a.neg is not None and parts and isinstance(parts[-1], str) \
                and parts[-1].endswith("(0, -"):  # -(-u) is u: no two negations
            parts[-1] = parts[-1][:-1]
            parts.append(at_least(a.neg, ADD))
        elif p == "{a:pow}":
            parts.append(at_least(a, POW))
        else:
            parts.append(p.replace("{m}", lib.m))
    return Doc(level, tuple(parts))


@rule.register
def _func(node: Func, cx) -> Doc:
    a = cx[node.arg]
    a = tensor(cx, node.arg, a)
    if len(node.args) > 2:
        param, body = user_body(node.args[2])
        d = user_function(param, body, a, cx.lib)
    elif node.name in ELEMENTWISE:
        d = builtin_function(node.name, a, cx.lib)
    else:
        raise NotImplementedError(f"no NumPy form for the function {node.name!r}")
    return Doc(d.level, d.parts, node)


def user_body(spec) -> tuple[str, str]:
    """(parameter, body text) of a user function's third field."""
    if isinstance(spec, tuple):
        return spec[0], spec[1]
    return "t", str(spec)


def user_function(param: str, body: str, a: Doc, lib: Target | None = None) -> Doc:
    """``f(a)`` for ``f(param) := body``: ``(lambda t: body)(a)``; a constant
    body is broadcast to a's shape (``np.full(np.shape(a), 2)``)."""
    lib = lib if lib is not None else Target()
    name = param if python_safe(param) and param not in AVOID else "u"
    code, constant = user_function_numpy(param, body, lib, name)
    if constant:
        return lib.full(a, code)
    return Doc(ATOM, (f"(lambda {name}: {code})(", a, ")"))


def user_function_numpy(param: str, body: str, lib: Target | None = None,
                        name: str | None = None) -> tuple[str, bool]:
    """(the body of ``f(param) := body`` as code in the variable ``name``,
    whether it is a constant)."""
    import sympy as sp
    from sympy.printing.numpy import NumPyPrinter

    from ...usersym import to_sympy

    lib = lib if lib is not None else Target()
    torch = lib.name == "torch"

    class Printer(NumPyPrinter):
        def _module_format(self, fqn, register=True):
            text = super()._module_format(fqn, register)
            return lib.fn(text[len("numpy."):]) if text.startswith("numpy.") else text

        def _print_Abs(self, e):  # never a builtin: a variable may be named abs
            return f"{lib.fn('abs')}({self._print(e.args[0])})"

        def _print_Heaviside(self, e):
            u = self._print(e.args[0])
            if torch:
                return f"torch.heaviside({u}, torch.full_like({u}, 0.5))"
            return f"{lib.fn('heaviside')}({u}, 0.5)"

        def _print_Max(self, e):
            return self._fold("maximum", e.args)

        def _print_Min(self, e):
            return self._fold("minimum", e.args)

        def _fold(self, fn, args):
            out = self._print(args[0])
            for a in args[1:]:
                if torch and (a.is_number or args[0].is_number):
                    x, c = (out, self._print(a)) if a.is_number else (self._print(a), out)
                    out = f"torch.clamp({x}, {'min' if fn == 'maximum' else 'max'}={c})"
                else:
                    out = f"{lib.fn(fn)}({out}, {self._print(a)})"
            return out

    t, expr = to_sympy(param, body)
    name = name or py_name(param)
    if name != param:
        expr = expr.subs(t, sp.Symbol(name, real=True))
        t = sp.Symbol(name, real=True)
    constant = t not in expr.free_symbols
    if constant:
        if expr.is_Rational:  # a float array, whatever the number
            return repr(float(expr)), True
        return Printer().doprint(expr), True
    return Printer().doprint(expr), False
