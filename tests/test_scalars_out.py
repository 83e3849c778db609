"""tr and sum of a product take its number and scalars out front; a product with
neither (most) is not split into parts to find that out (counted work)."""
from matdiff_cli.expr import SCALAR, Mul, Num, Sum, Sym, Trace
from matdiff_cli.simplify import simplify
from matdiff_cli.simplify import structure


def _counting(monkeypatch):
    calls = []
    real = structure._parts
    monkeypatch.setattr(structure, "_parts", lambda fs: calls.append(fs) or real(fs))
    return calls


def test_a_plain_product_is_not_split(monkeypatch):
    calls = _counting(monkeypatch)
    A, B = Sym("So_A", (3, 3)), Sym("So_B", (3, 3))
    assert simplify(Trace(Mul(A, B))) == Trace(Mul(A, B))
    assert simplify(Sum(Mul(B, A))) == Sum(Mul(B, A))
    assert calls == []


def test_scalars_still_come_out(monkeypatch):
    calls = _counting(monkeypatch)
    A, s = Sym("So_C", (3, 3)), Sym("So_s", SCALAR)
    out = structure.trace_of_scaled(Trace(Mul(Num(2), s, A)))
    assert out == Mul(Num(2), s, Trace(A))
    assert len(calls) == 1
