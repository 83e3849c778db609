"""How numbers are written, and the precedence levels of written pieces.

Below every renderer (and ``usersym``, which writes SymPy results back in
matdiff's syntax), so that none of them imports another for a number.
"""
from __future__ import annotations

from ..rational import Fraction

#: precedence levels of a written piece, loosest first
SUM, PROD, NEG, POST, ATOM = 1, 2, 3, 4, 5


def decimal(v: Fraction, max_digits: int = 20) -> str | None:
    """v >= 0 as a terminating decimal (``0.5``, ``0.001``), or None if it has none.
    A long one is written in scientific notation (``1e308``, ``2.5e-300``), which
    reads back as the same number."""
    den, k2, k5 = v.denominator, 0, 0
    while den % 2 == 0:
        den, k2 = den // 2, k2 + 1
    while den % 5 == 0:
        den, k5 = den // 5, k5 + 1
    if den != 1:
        return None
    k = max(k2, k5)
    whole = str(v.numerator * 10**k // v.denominator)
    digits = whole.rjust(k + 1, "0")
    if k == 0:
        plain = digits
    elif len(digits) <= max_digits:
        plain = (digits[:-k] + "." + digits[-k:]).rstrip("0").rstrip(".")
    else:
        plain = None
    if plain is not None and len(plain) <= 15:
        return plain
    significant = whole.rstrip("0")   # v = significant * 10^(exp - len + 1)
    exp = len(whole) - 1 - k
    mantissa = significant[0] + ("." + significant[1:] if len(significant) > 1 else "")
    scientific = f"{mantissa}e{exp}"
    return scientific if plain is None or len(scientific) < len(plain) else plain


def number_text(v: Fraction) -> tuple[int, str]:
    """(level, text) of a number v >= 0: ``2``, ``0.5`` are atoms, ``1/3`` a product."""
    d = decimal(v)
    if d is not None:
        return ATOM, d
    return PROD, f"{v.numerator}/{v.denominator}"
