r"""LaTeX: ``A^{\top}``, ``\operatorname{tr}``, ``\odot``, ``\frac{a}{c}``, ``\mathrm{d}X``.

The rules are the text renderer's (same precedence, same brackets, written
``\left( \right)``); :class:`LatexNotation` spells them.  Division is a
``\frac`` (which binds like a postfix term: bare as a factor, bracketed under
an exponent).  Names: Greek words and letters become ``\alpha``, a letter with
digits or an ``_`` suffix gets a subscript (``W1`` -> ``W_{1}``, ``x_0`` ->
``x_{0}``), other multi-letter names are ``\mathrm{...}``.
"""
from __future__ import annotations

from ..rational import Fraction

from ..expr import EDiv, Expr, Hadamard
from ..ops import ELEMENTWISE, STRUCTURE
from ..ops import latex_name as builtin_latex
from ..ops.base import template_parts
from . import Doc, first_char, flatten, leaf, render_dag
from .pretty import GREEK
from .text import ATOM, POST, PROD, Notation, TextContext, number_text, rule

GREEK_TEX = {word: "\\" + word for word in GREEK}
GREEK_TEX.update({letter: "\\" + word for word, letter in GREEK.items()})
GREEK_TEX.update({"ϵ": r"\epsilon", "ϕ": r"\phi", "ϑ": r"\vartheta"})

def _word(w: str) -> str:
    """One piece of a name: Greek -> \\alpha, one character as is, else \\mathrm."""
    if w in GREEK_TEX:
        return GREEK_TEX[w]
    if len(w) == 1 or w.isdigit():
        return w
    return r"\mathrm{" + w.replace("_", r"\_") + "}"


_NAMES: dict = {}


def latex_name(name: str) -> str:
    """A name in LaTeX (``_latex_name``), worked out once per name."""
    out = _NAMES.get(name)
    if out is None:
        if len(_NAMES) >= 65536:
            _NAMES.clear()
        out = _NAMES[name] = _latex_name(name)
    return out


def _latex_name(name: str) -> str:
    """``W1`` -> ``W_{1}``, ``x_0`` -> ``x_{0}``, ``beta`` -> ``\\beta``, ``foo`` -> ``\\mathrm{foo}``."""
    head, sep, tail = name.partition("_")
    if not sep:
        cut = len(name)   # letters, then decimal digits (W1, x12)
        while cut and name[cut - 1].isdecimal():
            cut -= 1
        head, tail = name[:cut], name[cut:]
        if not (head.isalpha() or all(c.isalnum() and not c.isdecimal() for c in head)):
            return _word(name)   # (letters are never decimal digits: most heads need one call)
    if not head or not tail:
        return _word(name)
    return _word(head) + "_{" + _word(tail) + "}"


class LatexNotation(Notation):
    lp, rp = r"\left(", r"\right)"
    ops = {Hadamard: r" \odot ", EDiv: r" \oslash "}
    kron_op = r" \otimes "
    exact = False
    transpose_mark, inverse_mark, inverse_transpose_mark = r"^{\top}", "^{-1}", r"^{-\top}"
    space = None   # a factor that starts with a digit or a minus: \cdot before it (juxt)

    def sym(self, name):
        return latex_name(name)

    d_mark = r"\mathrm{d}"

    def diff(self, sym):
        return r"\mathrm{d}" + latex_name(sym.name)

    def number(self, v: Fraction) -> Doc:
        level, text = number_text(v)
        if level == ATOM:
            mantissa, e, exp = text.partition("e")
            if e:  # 1e308 as 10^{308}, 2.5e-300 as 2.5 \cdot 10^{-300}
                power = rf"10^{{{exp}}}"
                return leaf(ATOM if mantissa == "1" else PROD,
                            power if mantissa == "1" else rf"{mantissa} \cdot {power}")
            return leaf(ATOM, text)
        return leaf(POST, rf"\frac{{{v.numerator}}}{{{v.denominator}}}")

    def zeros(self, shape):
        return leaf(ATOM, r"\mathbf{0}")

    def ones(self, shape):
        return leaf(ATOM, r"\mathbf{1}")

    def commutation(self, m, n):
        return leaf(ATOM, f"K_{{{m},{n}}}")

    def func(self, key):
        op = STRUCTURE.get(key) or ELEMENTWISE.get(key)
        out = _FUNCS.get((key, op))   # (with its declaration: the tables change as
        if out is None:               # families load, and tests declare and withdraw)
            if len(_FUNCS) >= 65536:
                _FUNCS.clear()
            out = _FUNCS[key, op] = self._func(key)
        return out

    def _func(self, key):
        declared = builtin_latex(key)  # as declared in ops/
        if declared is not None:
            return declared
        if key.endswith("'"):  # a derivative f' of a user function f
            return self.func(key[:-1]) + "'"
        return latex_name(key) if len(key) == 1 else rf"\operatorname{{{key}}}"

    def call(self, key, *args):
        op = ELEMENTWISE.get(key) or STRUCTURE.get(key)
        if op is not None and op.latex:
            template = _TEMPLATES.get(op)
            if template is None:
                template = _TEMPLATES[op] = _template(op.latex)
            if template:   # \sqrt{a}, \left|a\right|, \|X\|_*
                return Doc(ATOM, tuple(args[0] if p is None else p for p in template))
        return super().call(key, *args)

    def norm2(self, a):
        return Doc(ATOM, (r"\|", a, r"\|_2"))

    def normF(self, a):
        return Doc(ATOM, (r"\|", a, r"\|_F"))

    def power_text(self, p: Fraction) -> str:
        level, text = number_text(abs(p))
        return ("-" if p < 0 else "") + text

    def exponent(self, p: Fraction) -> str:
        return "^{" + self.power_text(p) + "}"

    def epow(self, p: Fraction) -> str:
        return r"^{\circ " + self.power_text(p) + "}"

    def juxt(self, left, right) -> str:
        c = right.text   # (most: a short text, joined)
        c = c[:1] if c is not None else first_char(right)
        return r" \cdot " if c.isdigit() or c == "-" else " "

    def div(self, node, a, c):
        return Doc(POST, (r"\frac{", a, "}{", c, "}"), node)


def _template(latex: str) -> tuple:
    """The parts of a built-in's declared LaTeX template with its argument slot as
    None (``\\sqrt{a}``: ``("\\sqrt{", None, "}")``); () for a spelling with no slot."""
    if "{a}" not in latex:
        return ()
    return tuple(None if p[:2] == "{a" else p for p in template_parts(latex))


#: (function name, its declaration) -> its LaTeX spelling, worked out once (bounded:
#: user functions add names); a declaration -> its template (``_template``)
_FUNCS: dict = {}
_TEMPLATES: dict = {}

LATEX = LatexNotation()


def to_latex(expr: Expr, names: dict | None = None, memo: dict | None = None) -> str:
    """expr as LaTeX (math mode, no delimiters; ``memo``: see ``TextContext.of``)."""
    return flatten(render_dag(expr, rule, TextContext.of(names, LATEX, memo)))


__all__ = ["to_latex", "latex_name", "LatexNotation"]


def comment_lines(lines, mark: str = "%") -> list[str]:
    """Human lines (steps, verdicts, labels) as comments of the target language:
    ``% ...`` in LaTeX, ``# ...`` in Python; a line break inside one stays a comment."""
    out = []
    for line in lines:
        out.extend(f"{mark} {part}".rstrip() for part in str(line).split("\n"))
    return out
