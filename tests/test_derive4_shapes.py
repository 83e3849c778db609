"""Every 1x1 node shape is the one SCALAR tuple (the simplifier tests `is SCALAR`),
and simplify's one-walk strategy agrees with a node-by-node simplify."""
from matdiff_cli.expr import SCALAR, Mul, Sym, Trace, Transpose
from matdiff_cli.simplify import simplify


def test_one_by_one_shapes_are_scalar_itself():
    x = Sym("x4_a", ["n", 1])
    A = Sym("A4_a", ("n", "n"))
    s = Sym("s4_a", [1, 1])   # a shape made elsewhere, equal to SCALAR but not it
    assert s.shape is SCALAR
    for e in (Mul(Transpose(x), x), Mul(Transpose(x), A, x), Transpose(s), Trace(A),
              Mul(s, Transpose(x), A, x)):
        assert e.shape is SCALAR and e.is_scalar
    assert Mul(A, x).shape == ("n", 1) and not Mul(A, x).is_scalar


def test_simplify_of_a_shared_dag_is_its_parts_simplified():
    x = Sym("x4_b", ("n", 1))
    A = Sym("A4_b", ("n", "n"))
    inner = Mul(Transpose(Transpose(A)), x)
    e = Mul(Transpose(inner), Transpose(Transpose(A)), inner)
    out = simplify(e)
    assert simplify(inner) == Mul(A, x)
    assert out == simplify(Mul(Transpose(Mul(A, x)), A, Mul(A, x)))
