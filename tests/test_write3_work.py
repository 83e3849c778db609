"""Writing with less work (batch throughput), the output unchanged.

Counted, never timed:

* ``present`` passes a sum that needs no change by without splitting its terms
  into numbers and cores (``split_coef`` made a product per term), and still
  opens a sum with a term that is not negative;
* LaTeX works out a function's spelling and template once per name;
* a product's text and LaTeX are those of the helpers it now writes inline;
* a guarded stream still turns a closed or failing stream into one fault.
"""
from __future__ import annotations

import io

import pytest

from matdiff_cli.expr import Add, Func, Mul, Num, Sym, Transpose
from matdiff_cli.render import latex as latex_mod
from matdiff_cli.render.latex import to_latex
from matdiff_cli.render.text import to_text
from matdiff_cli.simplify import present as present_fn
from matdiff_cli.streams import GuardedStream, OutputFault

import importlib


class Counting:
    """fn, counting its calls."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


present_mod = importlib.import_module("matdiff_cli.simplify.present")

A = Sym("A", ("n", "n"))
B = Sym("B", ("n", "n"))
x = Sym("x", ("n", 1))


def test_a_sum_as_it_is_is_not_split(monkeypatch):
    split = Counting(present_mod.split_coef)
    monkeypatch.setattr(present_mod, "split_coef", split)
    s = Add(A, Mul(Num(2), B), Transpose(B))
    assert present_fn(s) is s
    assert split.calls == 0


def test_a_sum_opens_with_a_term_that_is_not_negative():
    s = Add(Mul(Num(-1), A), B)
    out = present_fn(s)
    assert to_text(out) in ("B - A",)


def test_latex_spells_a_function_once_per_name(monkeypatch):
    latex_mod._FUNCS.clear()
    latex_mod._TEMPLATES.clear()
    template = Counting(latex_mod._template)
    monkeypatch.setattr(latex_mod, "_template", template)
    e = Add(Func("exp", A), Func("sqrt", B), Func("exp", B), Func("sqrt", A))
    first = to_latex(e, names={})
    assert r"\exp" in first and r"\sqrt{" in first
    assert template.calls == 2   # exp and sqrt, each once
    assert to_latex(e) == first


@pytest.mark.parametrize("e, text, latex", [
    (Mul(A, B, x), "A B x", "A B x"),
    (Mul(Num(2), A, x), "2 A x", "2 A x"),
    (Mul(Num(-1), A, x), "-A x", "-A x"),
    (Mul(A, Num(3)), "A 3", r"A \cdot 3"),
    (Mul(A, Add(A, B)), "A (A + B)", r"A \left(A + B\right)"),
])
def test_a_product_is_written_as_before(e, text, latex):
    assert to_text(e) == text
    assert to_latex(e) == latex


class _Broken(io.StringIO):
    def write(self, text):
        raise OSError(28, "No space left on device")


def test_a_guarded_stream_still_faults_once():
    with pytest.raises(OutputFault) as info:
        GuardedStream(_Broken(), "standard output").write("x")
    assert "No space left" in str(info.value)
    with pytest.raises(OutputFault):
        GuardedStream(None, "standard output").flush()
    assert GuardedStream(None, "standard error", quiet=True).write("x") is None
    closed = io.StringIO()
    closed.close()
    with pytest.raises(OutputFault):
        GuardedStream(closed, "standard output").write("x")
    out = io.StringIO()
    g = GuardedStream(out, "standard output")
    g.write("ab")
    g.flush()
    assert out.getvalue() == "ab"
