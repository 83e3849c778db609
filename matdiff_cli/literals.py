"""Number literals: their exact value, within a double's range, read in linear time."""
from __future__ import annotations

import sys
from .rational import Fraction

#: The range of numbers matdiff reads: what an IEEE double holds (answers are
#: evaluated in doubles), from the smallest subnormal to the largest finite
#: value, with at most MAX_DIGITS significant digits (a double keeps 17).
#: A literal outside it is refused; reading one costs time linear in its
#: length, whatever its exponent (``1e999999999`` is never computed).
MAX_NUMBER = Fraction(sys.float_info.max)
MIN_NUMBER = Fraction(5e-324)
MAX_DIGITS = 100

_DIGITS = "0123456789"


class NumberError(ValueError):
    """A number matdiff does not read: ``message`` and ``hint`` in words."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


def number_parts(text: str):
    """``(whole, fraction, exponent's sign, exponent)`` of a literal written
    ``[0-9]*(.[0-9]*)?([eE][+-]?[0-9]+)?`` (None for a part not written), or None
    for any other text.  Read with string methods, not a regular expression:
    ``re`` is not imported on the common path (it costs a fifth of a start)."""
    rest = text.lstrip(_DIGITS)
    whole, frac, sign, exp = text[:len(text) - len(rest)], None, None, None
    if rest[:1] == ".":
        tail = rest[1:]
        rest = tail.lstrip(_DIGITS)
        frac = tail[:len(tail) - len(rest)]
    if rest[:1] in ("e", "E"):
        tail = rest[1:]
        sign = tail[:1] if tail[:1] in ("+", "-") else ""
        tail = tail[len(sign):]
        rest = tail.lstrip(_DIGITS)
        exp = tail[:len(tail) - len(rest)]
        if not exp:
            return None
    return None if rest else (whole, frac, sign, exp)


def read_number(text: str) -> Fraction:
    """The exact value of a number literal (``2``, ``.5``, ``1e-3``, ``2.50E+2``).

    Raises :class:`NumberError` for a literal beyond the range of a double or
    with more than ``MAX_DIGITS`` significant digits; the work is linear in
    ``len(text)`` (no power of ten beyond the range is ever formed)."""
    parts = number_parts(text)
    if parts is None or not (parts[0] or parts[1]):
        raise NumberError(f"'{_clip(text)}' is not a number", "write a number as 2, 0.5, .5 or 1e-3")
    whole, frac, sign, exp = parts[0], parts[1] or "", parts[2], parts[3] or "0"
    digits = (whole + frac).lstrip("0")
    if not digits:
        return Fraction(0)
    sig = digits.rstrip("0")
    exp = exp.lstrip("0") or "0"
    if len(exp) > 20:  # far beyond any input's length: out of range either way
        big = 10 ** 20
        e10 = -big if sign == "-" else big
    else:
        e10 = -int(exp) if sign == "-" else int(exp)
    scale = e10 - len(frac) + (len(digits) - len(sig))  # value = int(sig) * 10**scale
    lead = scale + len(sig) - 1  # the decimal exponent of the leading digit
    shown = _clip(text)
    if lead > 308:
        raise _too_large(shown)
    if lead < -324:
        raise _too_small(shown)
    if len(sig) > MAX_DIGITS:
        raise NumberError(f"{shown} has {len(sig):,} significant digits; matdiff reads at most "
                          f"{MAX_DIGITS}", "a double keeps about 17 significant digits: round the number")
    value = Fraction(int(sig) * 10 ** scale) if scale >= 0 else Fraction(int(sig), 10 ** -scale)
    if value > MAX_NUMBER:
        raise _too_large(shown)
    if value < MIN_NUMBER:
        raise _too_small(shown)
    return value


def _clip(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[:width - 4] + "..." + text[-3:]


def _too_large(shown: str) -> NumberError:
    return NumberError(f"{shown} is too large: it is beyond the largest double "
                       "(about 1.797e308)", "rescale the problem, e.g. write 1e300 s for a "
                                               "scalar s")


def _too_small(shown: str) -> NumberError:
    return NumberError(f"{shown} is too small: it is below the smallest positive double "
                       "(about 4.9e-324)", "write 0 for zero, or rescale the problem")
