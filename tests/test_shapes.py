"""Shapes: the unifier, the naming of undeclared names, inference from use,
broadcasting, declared properties, and errors that suggest a declaration."""
from __future__ import annotations

import pytest

from matdiff_cli.document import parse, parse_expr, read_document
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import Add, Broadcast, Func, Mul, Num, Sym, Transpose, _dim_mul
from matdiff_cli.shapes import Prod, Unifier, decl_text, dim_product, name_class


def shapes(text, declare=()):
    """{name: shape} of the one problem of text."""
    return {k: v.shape for k, v in parse(text, declare).symbols.items()}


def error(text, declare=()):
    items = read_document(text, declare)
    errors = [i for i in items if isinstance(i, MatdiffError)]
    assert errors, items
    return errors[0]


# ---------------------------------------------------------------------------
# The unifier


def test_rigid_dimensions_unify_only_with_themselves():
    u = Unifier()
    assert u.unify(("n", "n"), (3, 3), (1, 1))
    assert not u.unify(("n", "m"))
    assert not u.unify((2, 3))
    assert not u.unify(("n", 1))


def test_variables_unify_and_bind():
    u = Unifier()
    a, b, c = u.new(), u.new(), u.new()
    assert u.unify((a, b))
    assert u.unify((b, "n"))
    assert u.walk(a) == "n"
    assert not u.unify((a, "m"))
    assert u.unify((c, 1)) and u.is_one(c)


def test_inferred_dimensions_refuse_one():
    u = Unifier()
    v, w = u.new(nonunit=True), u.new()
    assert not u.unify((v, 1))
    assert u.unify((w, v))  # the flag follows the merged class
    assert not u.unify((w, 1))
    assert u.unify((w, 5)) and u.walk(v) == 5


def test_unify_is_all_or_nothing():
    u = Unifier()
    a, b = u.new(), u.new()
    assert not u.unify((a, "n"), (b, "m"), ("n", "m"))
    assert u.walk(a) is a and u.walk(b) is b
    assert u.unify((a, "n"))


def test_product_dimensions():
    u = Unifier()
    a = u.new()
    p = dim_product(a, "m")
    assert isinstance(p, Prod)
    assert u.unify((a, "n"))
    assert u.walk(p) == _dim_mul("n", "m")
    assert dim_product(2, 3) == 6 and dim_product(1, "n") == "n"
    b = u.new()
    assert not u.unify((b, dim_product(b, "k")))  # occurs check


def test_copies_are_independent():
    u = Unifier()
    a = u.new()
    v = u.copy()
    assert v.unify((a, "n"))
    assert u.walk(a) is a


def test_naming_order_and_skipping():
    u = Unifier()
    a, b, c = u.new(), u.new(), u.new()
    u.unify((c, a))
    names = u.name_vars([b, a, c], taken={"n", "k"})
    assert names[u.find(b)] == "m" and names[u.find(a)] == "p"
    assert u.show((a, b), names) == "p×m"


def test_declaration_text():
    assert decl_text((1, 1)) == "scalar"
    assert decl_text(("n", 1)) == "n"
    assert decl_text((1, "n")) == "1 x n"
    assert decl_text(("n", "m")) == "n x m"


@pytest.mark.parametrize("name,cls", [
    ("X", "matrix"), ("W1", "matrix"), ("Σ", "matrix"), ("Sigma", "matrix"),
    ("x", "vector"), ("x_0", "vector"), ("betas", "vector"), ("_h", "vector"),
    ("α", "scalar"), ("λ", "scalar"), ("beta", "scalar"), ("lambda_1", "scalar"),
    ("mu2", "scalar"),
])
def test_name_classes(name, cls):
    assert name_class(name) == cls


# ---------------------------------------------------------------------------
# Inference


def test_undeclared_names_get_n_m_in_order_of_appearance():
    assert shapes("tr(X^T A X B)") == {"X": ("n", "m"), "A": ("n", "n"), "B": ("m", "m")}


def test_declared_dimension_names_are_skipped():
    got = shapes("tr(X^T A X B)", ["C: n x n", "y: m"])
    assert got == {"X": ("k", "p"), "A": ("k", "k"), "B": ("p", "p")}


def test_symbol_names_are_not_used_for_dimensions():
    assert shapes("n^T x") == {"n": ("m", 1), "x": ("m", 1)}


def test_inference_from_declared_shapes():
    assert shapes("x^T A x", ["A: 3 x 3"]) == {"x": (3, 1), "A": (3, 3)}
    assert shapes("||A x - b||^2", ["A: m x n"]) == {"A": ("m", "n"), "x": ("n", 1), "b": ("m", 1)}
    assert shapes("a^T X b") == {"a": ("n", 1), "X": ("n", "m"), "b": ("m", 1)}


def test_vectors_scalars_and_rows():
    assert shapes("u v^T") == {"u": ("n", 1), "v": ("m", 1)}
    assert shapes("λ ||w||^2") == {"λ": (1, 1), "w": ("n", 1)}
    assert shapes("r x", ["r: 1 x n"]) == {"r": (1, "n"), "x": ("n", 1)}


def test_identity_size_is_inferred():
    e = parse_expr("A + c I", ["A: n x n", "c: scalar"])
    assert e.args[1].args[1].shape == ("n", "n")
    e = parse_expr("tr(I)")
    assert e.args[0].shape == ("n", "n")


def test_product_dimensions_from_vec_and_kron():
    assert shapes("vec(X)^T y", ["X: n x m"]) == {"X": ("n", "m"), "y": (_dim_mul("n", "m"), 1)}
    assert shapes("vec(X)^T y", ["X: n x m", "y: n*m"])["y"] == (_dim_mul("n", "m"), 1)
    assert parse_expr("kron(A, B)", ["A: n x m", "B: 2 x 3"]).shape == (_dim_mul("n", 2), _dim_mul("m", 3))
    assert parse_expr("vec(X)^T vec(Y)", ["X: n x m", "Y: n x m"]).shape == (1, 1)
    # m*n = Y1*Y2 does not say which factor is which: Y takes one answer, valid
    y = shapes("vec(X)^T vec(Y)", ["X: n x m"])["Y"]
    assert _dim_mul(*y) == _dim_mul("n", "m")


def test_scalarness_is_bottom_up():
    # a 1x1 operand makes * a scalar product and + a broadcast
    e = parse_expr("x^T y z")
    assert e.shape == ("m", 1)
    e = parse_expr("1 + exp(z)")
    assert e is Add(Broadcast(Num(1), ("n", 1)), Func("exp", Sym("z", ("n", 1))))
    e = parse_expr("x^T x + A", ["A: n x m"])
    assert isinstance(e.terms[0], Broadcast) and e.shape == ("n", "m")


def test_broadcast_in_elementwise_operations():
    e = parse_expr("x .* 2")
    assert e.args[1] is Broadcast(Num(2), ("n", 1))


def test_declared_properties():
    p = parse("tr(A S D Q)", ["A: n x n symmetric", "S: n x n spd", "D: n x n diagonal",
                              "Q: n x n orthogonal"])
    assert {k: v.props for k, v in p.symbols.items()} == {
        "A": {"symmetric"}, "S": {"spd"}, "D": {"diagonal"}, "Q": {"orthogonal"}}


def test_several_names_and_properties():
    p = parse("tr(A B)", ["A, B: n × n symmetric spd"])
    assert p.symbols["A"] is Sym("A", ("n", "n"), frozenset({"symmetric", "spd"}))
    assert p.inferred == frozenset()


def test_redeclaring_with_the_same_shape_adds_properties():
    p = parse("A: n x n\nA: n x n symmetric\ntr(A)")
    assert p.symbols["A"].props == {"symmetric"}


# ---------------------------------------------------------------------------
# Contradictions: the symbols, both shapes, the operation, a declaration


def test_sum_of_different_shapes():
    err = error("A: n x m; B: m x m; A + B")
    assert err.message == "cannot add A (n×m) and B (m×m)"
    assert "declare `B: n x m`" in err.hint
    assert err.kind == "shape" and err.exit_code == 2


def test_product_with_mismatched_inner_dimensions():
    err = error("A: n x m; B: k x k; A B")
    assert "cannot multiply A (n×m) by B (k×k)" in err.message
    assert "declare `B: m x k`" in err.hint


def test_a_vector_used_as_a_scalar_suggests_declaring_it():
    err = error("s x")
    assert "cannot multiply s (n×1) by x (m×1)" in err.message
    assert "declare `s: scalar`" in err.hint


def test_inferred_shapes_in_contradiction():
    err = error("tr(x)")
    assert "needs a square matrix" in err.message and "x is n×1" in err.message
    err = error("A x + A", ["A: n x n"])
    assert "cannot add" in err.message


def test_division_by_a_vector():
    err = error("x / y")
    assert "the divisor must be a scalar" in err.message and "./" in err.hint


def test_power_of_a_vector():
    err = error("x^2")
    assert "not defined for a vector" in err.message and "x.^2" in err.hint
    assert "declare `x: scalar`" in err.hint   # x was taken for a vector: it may be a number
    assert "declare" not in error("x^2", ["x: n"]).hint   # declared a vector: no such offer


def test_norm_of_a_matrix_offers_frobenius():
    # ||X||_2 and norm2(X) of a matrix are its spectral norm, sigma_max(X); a bare ||X|| is not
    for text in ("||X||", "‖X‖"):
        err = error(text)
        assert "needs a vector" in err.message and "||X||_F" in err.hint, text
        assert "||X||_2 (sigma_max(X))" in err.hint and "||X||_*" in err.hint, text


def test_matrix_power_needs_integer_and_square():
    assert "integer exponent" in error("A^0.5").message
    assert "square" in error("A^2", ["A: n x m"]).message


def test_softmax_needs_a_column_vector():
    assert "column vector" in error("softmax(X)").message


def test_declaration_conflicting_with_an_earlier_definition():
    err = error("h = W x\nW: n x m\nx: k\nh")
    assert "does not fit an earlier definition" in err.message


# ---------------------------------------------------------------------------
# Documents: definitions and independence of problems


def test_each_problem_infers_on_its_own():
    items = read_document("ones(3)^T x\nx^T x")
    assert items[0].symbols["x"].shape == (3, 1)
    assert items[1].symbols["x"].shape == ("n", 1)


def test_symbols_first_seen_in_a_definition_belong_to_the_document():
    items = read_document("h = W x\nh + z\ny^T W")
    assert items[0].symbols["z"].shape == ("n", 1)
    assert items[0].symbols["W"].shape == ("n", "m")
    assert items[1].symbols["y"].shape == ("n", 1)
    assert items[0].inferred == {"W", "x", "z"}


def test_a_definition_is_one_node_within_a_problem():
    p = parse("h = sigmoid(W x + b)\nh^T h + sum(h)")
    h = p.definitions["h"]
    (quad, total) = p.expr.terms
    assert quad.factors[0] is Transpose(h) and quad.factors[1] is h
    assert total.args[0] is h


def test_definitions_listed_in_definition_order_only_when_reached():
    p = parse("a1 = W x\nunused = V y\na2 = exp(a1)\nf = sum(a2) + sum(a1)\nf")
    assert list(p.definitions) == ["a1", "a2", "f"]
    assert list(p.symbols) == ["W", "x"]


def test_later_declarations_apply_to_earlier_definitions():
    items = read_document("h = W x\nh\nW: n x n symmetric\nh")
    assert items[0].symbols["W"].props == frozenset() and "W" in items[0].inferred
    assert items[1].symbols["W"].props == {"symmetric"} and "W" not in items[1].inferred


def test_redefinition_sees_the_earlier_definition():
    e = parse_expr("h = x\nh = 2 h\nh")
    assert e is Mul(Num(2), Sym("x", ("n", 1)))


def test_every_expression_node_class_has_an_inference_rule():
    """The elaborator dispatches on the syntax node's class: a form of
    expression without a rule would be an internal error at run time."""
    from matdiff_cli import syntax
    from matdiff_cli.shapes.elaborate import INFER

    forms = set(syntax.Expression.__subclasses__())
    assert forms and forms == set(INFER), forms ^ set(INFER)
    kinds = [c.kind for c in syntax.Statement.__subclasses__() + list(forms) + [syntax.Span]]
    assert len(kinds) == len(set(kinds)), kinds   # each form's short name once


def test_every_statement_class_has_a_reader():
    """The document reader dispatches on the statement's class: a bare
    expression is a problem, every other statement has its entry in
    ``STATEMENTS`` (one left out would be an internal error at run time)."""
    from matdiff_cli import syntax
    from matdiff_cli.document import STATEMENTS

    statements = set(syntax.Statement.__subclasses__())
    assert syntax.Problem in statements and set(STATEMENTS) == statements - {syntax.Problem}
    assert all(callable(read) for read in STATEMENTS.values())
