"""Unicode mathematics for the terminal: ``Aᵀ``, ``A⁻¹``, ``A⁻ᵀ``, ``‖x‖²``, ``⊙``, ``⊗``.

The rules are the text renderer's (same precedence, same brackets); only the
spelling differs, through :class:`PrettyNotation`.  ``to_rich_text`` returns a
``rich.text.Text`` with light styling: symbols bold, function names dim,
differentials ``dX`` highlighted.  Rich is imported only by ``to_rich_text``.
"""
from __future__ import annotations

from ..rational import Fraction

from ..expr import EDiv, Expr, Hadamard, Div
from ..ops import ELEMENTWISE, STRUCTURE
from . import Doc, flatten, render_dag, segments
from .text import ATOM, Notation, TextContext, number_text, rule

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ",
    "upsilon": "υ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}


def pretty_name(name: str) -> str:
    """``alpha`` -> ``α``, ``phi_3`` -> ``φ_3``; other names unchanged."""
    head, sep, tail = name.partition("_")
    return GREEK.get(head, head) + sep + tail


class PrettyNotation(Notation):
    minus = "-"
    ops = {Hadamard: " ⊙ ", EDiv: " ⊘ ", Div: " / "}
    kron_op = " ⊗ "
    exact = False
    transpose_mark, inverse_mark, inverse_transpose_mark = "ᵀ", "⁻¹", "⁻ᵀ"

    def __init__(self, styles: bool = False):
        if styles:
            self.sym_style, self.func_style, self.diff_style = "bold", "dim", "bold magenta"

    def sym(self, name):
        return self.styled(pretty_name(name), self.sym_style)

    def func(self, key):
        op = STRUCTURE.get(key) or ELEMENTWISE.get(key)
        if op is not None and op.pretty:  # as declared: sigmoid is σ, logdet is log det
            return self.styled(op.pretty, self.func_style)
        return super().func(key)

    def diff(self, sym):
        return self.styled("d" + pretty_name(sym.name), self.diff_style)

    def zeros(self, shape):
        return Doc(ATOM, ("0",))

    def ones(self, shape):
        return Doc(ATOM, ("𝟏",))

    def commutation(self, m, n):
        return Doc(ATOM, (self.sym("K"), f"({m},{n})"))

    def norm2(self, a):
        return Doc(ATOM, ("‖", a, "‖"))

    def normF(self, a):
        return Doc(ATOM, ("‖", a, "‖_F"))

    def exponent(self, p: Fraction) -> str:
        if p.denominator == 1:
            return str(p.numerator).translate(SUPERSCRIPT)
        level, text = number_text(abs(p))
        sign = "-" if p < 0 else ""
        return f"^({sign}{text})" if sign or level != ATOM else f"^{text}"

    def epow(self, p: Fraction) -> str:
        return ".^" + self.power_text(p)


PRETTY = PrettyNotation()


def to_pretty(expr: Expr, names: dict | None = None) -> str:
    """expr in Unicode mathematics (a plain string)."""
    return flatten(render_dag(expr, rule, TextContext(names, PRETTY)))


def to_rich_text(expr: Expr, names: dict | None = None):
    """expr as a ``rich.text.Text``: symbols bold, functions dim, ``dX`` highlighted."""
    from rich.text import Text

    doc = render_dag(expr, rule, TextContext(names, PrettyNotation(styles=True)))
    out = Text()
    for text, style in segments(doc):
        out.append(text, style=style)
    return out


def hanging(head, body, head_style: str | None = None, body_style: str | None = None):
    """A line ``head body`` whose wrapped lines stay under the body's first
    character, so that at any width the indent is kept.  When the head would
    take more than half the width, the body goes on the next lines instead,
    indented under the head's own indent."""
    from rich.text import Text

    if not isinstance(head, Text):
        head = Text(head, style=head_style or "")
    if not isinstance(body, Text):
        body = Text(body, style=body_style or "")
    return _Hanging(head, body)


class _Hanging:
    def __init__(self, head, body):
        self.head, self.body = head, body

    def __rich_console__(self, console, options):
        from rich.text import Text

        width = options.max_width
        head_width = self.head.cell_len
        if head_width <= width // 2:
            yield from _wrapped(console, self.body, width, self.head, head_width)
            return
        indent = len(self.head.plain) - len(self.head.plain.lstrip(" "))
        yield from _wrapped(console, self.head, width, Text(""), 0)
        pad = min(indent + 4, width // 2)
        yield from _wrapped(console, self.body, width, Text(" " * pad), pad)


def _wrapped(console, text, width: int, lead, indent: int):
    """text wrapped to width, lead before its first line and ``indent`` spaces
    before the others; by hand, not in a table or padding, which fill every
    line to the width: piped output would end its lines in spaces."""
    from rich.text import Text

    for i, line in enumerate(text.wrap(console, max(1, width - indent), overflow="fold")):
        line.rstrip()
        yield Text.assemble(lead if i == 0 else " " * indent, line, no_wrap=True,
                            overflow="fold")


__all__ = ["to_pretty", "to_rich_text", "pretty_name", "PrettyNotation", "hanging"]
