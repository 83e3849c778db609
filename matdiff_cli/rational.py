"""Exact rational numbers: what matdiff's coefficients and exponents need.

Python's ``fractions`` imports ``decimal`` and ``numbers``: about a tenth of the
instructions of a command's start-up (``benchmarks/startup.py``), for numbers
that only ever need the field operations, comparisons, hashing and conversion.
This ``Fraction`` does those, and agrees with ``fractions.Fraction`` on every
one of them (``tests/test_rational.py`` checks it against the standard one,
operation by operation): the same values, the same ``repr`` (the sort order of
terms digests it), the same hash, and it compares equal to an ``int``, a
``float`` or a ``fractions.Fraction`` of the same value.  Anything with integer
``numerator`` and ``denominator`` (NumPy's integers, the standard ``Fraction``)
is read as the rational it is.
"""
from __future__ import annotations

import sys
from math import gcd, isfinite
from operator import add as _add, ge as _ge, gt as _gt, index, le as _le, lt as _lt
from operator import mul as _mul, sub as _sub, truediv as _truediv

_MODULUS = sys.hash_info.modulus
_HASH_INF = sys.hash_info.inf


def _rational(x):
    """(numerator, denominator) of an exact rational other than an int (NumPy's
    integers, the standard Fraction), or None."""
    try:
        return index(x), 1
    except TypeError:
        pass
    try:
        n, d = index(x.numerator), index(x.denominator)
    except (AttributeError, TypeError):
        return None
    return (n, d) if d > 0 else None


class Fraction:
    """An exact rational ``numerator / denominator`` in lowest terms, denominator > 0."""

    __slots__ = ("numerator", "denominator")

    def __new__(cls, numerator=0, denominator=None):
        if denominator is None:
            if type(numerator) is int:
                return _new(numerator, 1)
            if type(numerator) is Fraction:
                return numerator
            if isinstance(numerator, float):
                if not isfinite(numerator):
                    raise (OverflowError if numerator == numerator else ValueError)(
                        f"cannot convert {numerator!r} to Fraction")
                return _new(*numerator.as_integer_ratio())
            if isinstance(numerator, str):
                return _from_text(numerator)
            exact = _exact(numerator)
            if exact is None:
                raise TypeError("argument should be a string or a rational number")
            return exact
        if type(numerator) is int and type(denominator) is int:
            return _normal(numerator, denominator)
        n, d = _exact(numerator), _exact(denominator)
        if n is None or d is None:
            raise TypeError("both arguments should be rational numbers")
        return _normal(n.numerator * d.denominator, n.denominator * d.numerator)

    # -- conversions
    def __repr__(self):
        return f"Fraction({self.numerator}, {self.denominator})"

    def __str__(self):
        if self.denominator == 1:
            return str(self.numerator)
        return f"{self.numerator}/{self.denominator}"

    def __reduce__(self):
        return (Fraction, (self.numerator, self.denominator))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __float__(self):
        return self.numerator / self.denominator   # correctly rounded, even for huge ints

    def __int__(self):
        n, d = self.numerator, self.denominator
        return -(-n // d) if n < 0 else n // d

    __trunc__ = __int__

    def __floor__(self):
        return self.numerator // self.denominator

    def __ceil__(self):
        return -(-self.numerator // self.denominator)

    def __round__(self, ndigits=None):
        if ndigits is None:
            q, r = divmod(self.numerator, self.denominator)
            twice = 2 * r
            if twice < self.denominator or (twice == self.denominator and q % 2 == 0):
                return q
            return q + 1
        shift = 10 ** abs(ndigits)
        if ndigits > 0:
            return Fraction(round(self * shift), shift)
        return Fraction(round(self / shift) * shift)

    def __bool__(self):
        return self.numerator != 0

    def as_integer_ratio(self):
        return (self.numerator, self.denominator)

    def is_integer(self):
        return self.denominator == 1

    def __hash__(self):
        # CPython's hash of a rational: equal to hash(int) and hash(float) of equal values
        try:
            inverse = pow(self.denominator, -1, _MODULUS)
        except ValueError:
            value = _HASH_INF
        else:
            value = hash(hash(abs(self.numerator)) * inverse)
        value = value if self.numerator >= 0 else -value
        return -2 if value == -1 else value

    # -- comparisons
    def __eq__(a, b):
        if type(b) is Fraction:
            return a.numerator == b.numerator and a.denominator == b.denominator
        if type(b) is int:   # c == 0, c == 1: the commonest test, no Fraction made for it
            return a.numerator == b and a.denominator == 1
        if isinstance(b, float):
            return isfinite(b) and a == Fraction(b)
        exact = _exact(b)
        if exact is None:
            return NotImplemented
        return a.numerator == exact.numerator and a.denominator == exact.denominator

    def _compare(a, b, op):
        if type(b) is Fraction:
            return op(a.numerator * b.denominator, b.numerator * a.denominator)
        if isinstance(b, int):
            return op(a.numerator, b * a.denominator)
        if isinstance(b, float):
            return op(a, Fraction(b)) if isfinite(b) else op(0.0, b)
        pair = _rational(b)
        if pair is None:
            return NotImplemented
        return op(a.numerator * pair[1], pair[0] * a.denominator)

    def __lt__(a, b):
        return a._compare(b, _lt)

    def __le__(a, b):
        return a._compare(b, _le)

    def __gt__(a, b):
        return a._compare(b, _gt)

    def __ge__(a, b):
        return a._compare(b, _ge)

    # -- arithmetic
    def __add__(a, b):
        if type(b) is Fraction:
            return _normal(a.numerator * b.denominator + b.numerator * a.denominator,
                           a.denominator * b.denominator)
        if isinstance(b, int):  # n/d + b = (n + b d)/d, already in lowest terms
            return _new(a.numerator + int(b) * a.denominator, a.denominator)
        return _mixed(a, b, _add)

    __radd__ = __add__

    def __sub__(a, b):
        if type(b) is Fraction:
            return _normal(a.numerator * b.denominator - b.numerator * a.denominator,
                           a.denominator * b.denominator)
        if isinstance(b, int):
            return _new(a.numerator - int(b) * a.denominator, a.denominator)
        return _mixed(a, b, _sub)

    def __rsub__(a, b):
        return (-a).__add__(b)

    def __mul__(a, b):
        if type(b) is Fraction:
            return _normal(a.numerator * b.numerator, a.denominator * b.denominator)
        if isinstance(b, int):
            return _normal(a.numerator * int(b), a.denominator)
        return _mixed(a, b, _mul)

    __rmul__ = __mul__

    def __truediv__(a, b):
        if type(b) is Fraction:
            return _normal(a.numerator * b.denominator, a.denominator * b.numerator)
        if isinstance(b, int):
            return _normal(a.numerator, a.denominator * int(b))
        return _mixed(a, b, _truediv)

    def __rtruediv__(a, b):
        pair = _exact(b)
        if pair is None:
            return b / float(a) if isinstance(b, float) else NotImplemented
        return _normal(pair.numerator * a.denominator, pair.denominator * a.numerator)

    def __floordiv__(a, b):
        exact = _exact(b)
        if exact is not None:
            return (a.numerator * exact.denominator) // (a.denominator * exact.numerator)
        return float(a) // b if isinstance(b, float) else NotImplemented

    def __rfloordiv__(a, b):
        exact = _exact(b)
        if exact is not None:
            return exact // a
        return b // float(a) if isinstance(b, float) else NotImplemented

    def __mod__(a, b):
        exact = _exact(b)
        if exact is not None:
            return _normal((a.numerator * exact.denominator) % (exact.numerator * a.denominator),
                           a.denominator * exact.denominator)
        return float(a) % b if isinstance(b, float) else NotImplemented

    def __rmod__(a, b):
        exact = _exact(b)
        if exact is not None:
            return exact % a
        return b % float(a) if isinstance(b, float) else NotImplemented

    def __pow__(a, b):
        if type(b) is Fraction and b.denominator == 1:
            b = b.numerator
        if isinstance(b, int):
            b = int(b)
            if b >= 0:
                return _new(a.numerator ** b, a.denominator ** b)
            if a.numerator == 0:
                raise ZeroDivisionError("Fraction(%s, 0)" % (a.denominator ** -b))
            n, d = a.denominator ** -b, a.numerator ** -b
            return _new(-n, -d) if d < 0 else _new(n, d)
        if isinstance(b, (float, complex)):
            return float(a) ** b
        if _rational(b) is not None:
            return float(a) ** (b.numerator / b.denominator)
        return NotImplemented

    def __rpow__(b, a):
        if b.denominator == 1 and b.numerator >= 0 and isinstance(a, int):
            return a ** b.numerator
        if isinstance(a, int) or _rational(a) is not None:
            return Fraction(a) ** b
        if isinstance(a, (float, complex)):
            return a ** float(b)
        return NotImplemented

    def __neg__(a):
        return _new(-a.numerator, a.denominator)

    def __pos__(a):
        return a

    def __abs__(a):
        return a if a.numerator >= 0 else _new(-a.numerator, a.denominator)


def _new(n: int, d: int) -> Fraction:
    """A Fraction from a numerator and denominator already in lowest terms, d > 0."""
    f = object.__new__(Fraction)
    f.numerator, f.denominator = n, d
    return f


def _normal(n: int, d: int) -> Fraction:
    if d == 0:
        raise ZeroDivisionError(f"Fraction({n}, 0)")
    g = gcd(n, d)
    if d < 0:
        g = -g
    return _new(n // g, d // g) if g != 1 else _new(n, d)


def _exact(x):
    """x as a Fraction when it is an exact rational (int, Fraction-like), else None."""
    if type(x) is Fraction:
        return x
    if isinstance(x, int):
        return _new(int(x), 1)
    pair = _rational(x)
    return None if pair is None else _new(*pair)


def _mixed(a: Fraction, b, op):
    """a op b for b neither an int nor a Fraction: exact with a rational, float with a
    float (as ``fractions.Fraction`` does)."""
    exact = _exact(b)
    if exact is not None:
        return op(a, exact)
    if isinstance(b, (float, complex)):
        return op(float(a), b)
    return NotImplemented


def _from_text(text: str) -> Fraction:
    """'3', '-1/2', '0.25', '1e-3', '1.5E+2' (what ``fractions.Fraction`` reads)."""
    s = text.strip().replace("_", "")
    sign = -1 if s[:1] == "-" else 1
    s = s[1:] if s[:1] in "+-" else s
    num, slash, den = s.partition("/")
    mantissa, e, exponent = num.lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    exp_digits = exponent[1:] if exponent[:1] in "+-" else exponent
    ok = (whole + frac).isdigit() and (not e or exp_digits.isdigit())
    if slash:
        ok = num.isdigit() and den.strip().isdigit()
    if not ok:
        raise ValueError(f"Invalid literal for Fraction: {text!r}")
    if slash:
        return Fraction(sign * int(num), int(den))
    scale = int(exponent or 0) - len(frac)
    n = sign * int(whole + frac)
    return Fraction(n * 10 ** scale) if scale >= 0 else Fraction(n, 10 ** -scale)
