"""matdiff's Fraction (matdiff_cli/rational.py) against the standard library's,
operation by operation, on random operands: the same value, the same kind of
result (exact, float or int), the same repr, str and hash, the same errors."""
from __future__ import annotations

import copy
import fractions
import math
import operator
import pickle
import subprocess
import sys

import pytest
from hypothesis import given, strategies as st

from matdiff_cli.rational import Fraction

ints = st.integers(-10 ** 30, 10 ** 30) | st.integers(-12, 12)
rationals = st.builds(fractions.Fraction, ints, st.integers(1, 10 ** 12) | st.integers(1, 12))
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.5, -2.0, 0.0, 1e300])
operands = rationals | ints | floats


def mine(x):
    return Fraction(x.numerator, x.denominator) if isinstance(x, fractions.Fraction) else x


def same(got, want):
    """got (from matdiff's Fraction) is want (from the standard one)."""
    if isinstance(want, fractions.Fraction):
        assert type(got) is Fraction, (got, want)
        assert (got.numerator, got.denominator) == (want.numerator, want.denominator)
        assert repr(got) == repr(want) and str(got) == str(want) and hash(got) == hash(want)
    elif isinstance(want, float) and math.isnan(want):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert type(got) is type(want) and got == want, (got, want)


def outcome(fn):
    try:
        return fn(), None
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as e:
        return None, type(e)


BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
          operator.mod, operator.eq, operator.ne, operator.lt, operator.le, operator.gt,
          operator.ge]


@given(rationals, operands)
def test_binary_operations_agree_both_ways(a, b):
    for op in BINARY:
        for left, right in ((a, b), (b, a)):
            want, want_error = outcome(lambda: op(left, right))
            got, got_error = outcome(lambda: op(mine(left), mine(right)))
            assert got_error == want_error, (op, left, right)
            if want_error is None:
                same(got, want)


@given(rationals, st.integers(-6, 6)
       | st.sampled_from([fractions.Fraction(1, 2), 0.5, fractions.Fraction(3)]))
def test_powers_agree(a, p):
    for left, right in ((a, p), (p, a)):
        if abs(right) > 6:
            continue  # the size of the number, not the code, would be under test
        want, want_error = outcome(lambda: left ** right)
        got, got_error = outcome(lambda: mine(left) ** mine(right))
        assert got_error == want_error, (left, right)
        if want_error is None and not isinstance(want, complex):
            same(got, want)


@given(rationals)
def test_unary_operations_and_conversions_agree(a):
    m = mine(a)
    for fn in (operator.neg, operator.pos, abs, int, float, math.floor, math.ceil, math.trunc,
               round, bool, lambda x: round(x, 2), lambda x: round(x, -1), hash, repr, str,
               lambda x: x.as_integer_ratio()):
        same(fn(m), fn(a))
    assert m == a and a == m and hash(m) == hash(a)
    assert {m: 1}.get(a) == 1 and {a: 1}.get(m) == 1


@given(st.floats(allow_nan=False, allow_infinity=False) | ints)
def test_construction_from_numbers_and_text(x):
    same(Fraction(x), fractions.Fraction(x))
    text = repr(x) if isinstance(x, float) else str(x)
    same(Fraction(text), fractions.Fraction(text))


@pytest.mark.parametrize("text", ["1/2", " -3/4 ", "+5", ".5", "-.25", "1e-3", "1.5E+2", "7.",
                                  "1_000"])
def test_text_forms(text):
    same(Fraction(text), fractions.Fraction(text))


@pytest.mark.parametrize("text", ["", "-", "1/", "/2", "1.2.3", "e5", "1e", "+-1", "abc", "1/-2"])
def test_bad_text_is_refused_as_the_standard_one_refuses_it(text):
    with pytest.raises(ValueError):
        fractions.Fraction(text)
    with pytest.raises(ValueError):
        Fraction(text)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "x", None, 1j])
def test_what_is_not_a_rational_is_refused(bad):
    with pytest.raises((ValueError, OverflowError, TypeError)):
        Fraction(bad)


def test_two_argument_forms_and_zero_denominator():
    same(Fraction(6, -4), fractions.Fraction(6, -4))
    same(Fraction(Fraction(1, 2), fractions.Fraction(3, 4)), fractions.Fraction(2, 3))
    with pytest.raises(ZeroDivisionError):
        Fraction(1, 0)
    with pytest.raises(ZeroDivisionError):
        Fraction(0) ** -1


def test_numpy_integers_and_pickling():
    np = pytest.importorskip("numpy")
    same(Fraction(np.int64(7)), fractions.Fraction(7))
    assert Fraction(1, 2) + np.int64(1) == Fraction(3, 2)
    assert float(np.float64(Fraction(1, 4))) == 0.25
    f = Fraction(-7, 3)
    assert pickle.loads(pickle.dumps(f)) == f and copy.deepcopy(f) is f


def test_the_command_line_does_not_load_fractions_or_decimal():
    code = ("import sys; from matdiff_cli.cli import main; import matdiff_cli.commands, "
            "matdiff_cli.document, matdiff_cli.derivatives; "
            "print(sorted({'fractions', 'decimal', 'numbers'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
