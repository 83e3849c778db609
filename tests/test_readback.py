"""What matdiff prints as text, matdiff reads back, to the same numbers; and what
the user writes is what matdiff reads (issue: "What the user wrote is what
matdiff reads").

The property test derives random problems (every command), prints each result
as text, reads the text back as a document -- with the declarations the text
carries, and the problem's own declarations ahead of it -- and evaluates both at
random data.  The other tests generate members of each class of misreading:
undeclared names called like functions, operators before ``-A (C)``,
permutations of product dimensions, subscripted norms, user function bodies.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from matdiff_cli.commands import Options
from matdiff_cli.derivative_report import DerivativeReport
from matdiff_cli.derivatives import derive
from matdiff_cli.document import parse, parse_expr, read_document
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import SCALAR, Diff, Func, Sym, symbols, walk
from matdiff_cli.numeric import evaluate, sample_values
from matdiff_cli.render.text import to_text
from matdiff_cli.shapes import decl_text
from budget import examples
from strategies import USER, expressions

# ---------------------------------------------------------------------------
# Text output reads back


def _document(expr, infer: bool = False) -> tuple[str, list]:
    """A document for expr: its variables declared (or, with ``infer``, only those
    with properties: the others are inferred), its user function defined."""
    decls = []
    for s in symbols(expr):
        if infer and not s.props:
            continue
        decls.append(f"{s.name}: {decl_text(s.shape)}" + "".join(" " + p for p in sorted(s.props)))
    funcs = {n.name.rstrip("'") for n in walk(expr) if isinstance(n, Func) and len(n.args) == 3}
    lines = [f"{USER[0]}({USER[1][0]}) := {USER[1][1]}"] if funcs else []
    return "\n".join(lines + [to_text(expr)]), decls


def _close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | np.isclose(a, b, rtol=1e-6, atol=1e-8)))


def _values(problem, var, rng, results=()):
    """A point where the problem and its results are defined (the sampler reads
    their inverses, logdets and divisions), with a direction for var."""
    values, sizes = sample_values([problem.expr, *results], rng,
                                  sizes={"n": 3, "m": 4, "k": 2, "p": 5})
    dims = [sizes.get(d, d) if isinstance(d, str) else d for d in var.shape]
    values[("d", var.name)] = rng.standard_normal(dims) if var.shape != SCALAR else float(rng.standard_normal())
    return values, sizes


def _read_back(text: str, decls: list) -> list:
    items = read_document(text, decls)
    errors = [i for i in items if isinstance(i, MatdiffError)]
    assert not errors, f"{text!r} does not read back: {errors[0].format()}"
    return items


@settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions(depth=3, diffs=False), st.data())
def test_every_text_result_reads_back_to_the_same_numbers(expr, data):
    text, decls = _document(expr, infer=data.draw(st.booleans(), label="infer shapes"))
    try:
        problem = parse(text, decls)
    except MatdiffError:
        return
    syms = list(problem.symbols.values())
    if not syms:
        return
    var = data.draw(st.sampled_from(syms), label="variable")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    commands = ["diff", "jac"] + (["grad", "hess"] if problem.expr.shape == SCALAR else [])
    for command in commands:
        try:
            report = DerivativeReport(derive(problem, var, command, Options(vec=True)))
            out = report.to_text()
        except MatdiffError:
            continue
        der = report.der
        shown = [report.shown] + ([report.shown_vec] if report.shown_vec is not None else [])
        try:
            values, sizes = _values(problem, var, rng, shown)
        except ValueError:  # no point where every piece is defined: nothing to compare
            continue
        items = _read_back(out, decls)
        assert len(items) == len(shown), out
        for item, original in zip(items, shown):
            want = evaluate(original, values, sizes)
            back_values = dict(values)
            back_values["d" + var.name] = values[("d", var.name)]
            got = evaluate(item.expr, back_values, sizes)
            assert _close(want, got), f"{command} --wrt {var.name}: {out!r}\n{want}\n!=\n{got}"


# the known failures of the issue, each read back and evaluated
READBACK = [
    ("jac", "x", "x"),
    ("grad", "tr(X)", "X"),
    ("hess", "x^T x", "x"),
    ("grad", "sum(X)", "X"),
    ("jac", "X^T", "X"),
    ("jac", "X^T z", "X"),
    ("jac", "z^T X", "X"),
    ("hess", "f(t) := t^3 + abs(t); sum(f(x))", "x"),
    ("jac", "f(t) := t^2^3; f(x)", "x"),
    ("jac", "vec(X) - 0.1 (kron(u, y) + kron(y, u))", "X"),
    ("jac", "vec(x y^T)", "x"),
    ("jac", "A'(x + y)", "x"),
]


@pytest.mark.parametrize("command,text,wrt", READBACK)
def test_known_results_read_back(command, text, wrt):
    problem = parse(text)
    var = problem.symbols[wrt]
    report = DerivativeReport(derive(problem, var, command, Options(vec=True)))
    out = report.to_text()
    shown = [report.shown] + ([report.shown_vec] if report.shown_vec is not None else [])
    items = _read_back(out, [])
    rng = np.random.default_rng(1)
    values, sizes = _values(problem, var, rng)
    for item, original in zip(items, shown):
        back = dict(values)
        back["d" + wrt] = values[("d", wrt)]
        assert _close(evaluate(original, values, sizes), evaluate(item.expr, back, sizes)), out


BODIES = ["abs(t)", "relu(t) - t", "step(t) t^2", "sign(t) t^3", "σ(t)", "t^2^3 / 64",
          "softplus(t) + sqrt(1 + t^2)", "t (1 + t)", "tanh(t)^(-2)"]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("src,wrt", [("sum(f(W x))", "x"), ("f(x)^T A f(x)", "x"),
                                     ("tr(f(X)^T X)", "X")])
def test_user_function_results_read_back(body, src, wrt):
    problem = parse(f"f(t) := {body}; {src}")
    var = problem.symbols[wrt]
    rng = np.random.default_rng(7)
    for command in ("grad", "hess", "diff"):
        try:
            report = DerivativeReport(derive(problem, var, command, Options()))
        except MatdiffError:
            continue
        out = report.to_text()
        assert "DiracDelta" not in out and "Heaviside" not in out
        items = _read_back(out, [])
        values, sizes = _values(problem, var, rng)
        back = dict(values)
        back["d" + wrt] = values[("d", wrt)]
        want, got = evaluate(report.shown, values, sizes), evaluate(items[0].expr, back, sizes)
        assert _close(want, got), out
        report.to_json()  # and NumPy meets no Dirac delta


def test_bare_identity_states_its_size_only_when_the_text_does_not():
    assert to_text(parse_expr("2 I + A", ["A: n x n"])) in ("A + 2 I", "2 I + A")
    out = DerivativeReport(derive(parse("x: n; x^T x"), Sym("x", ("n", 1)), "hess", Options()))
    assert out.to_text().splitlines()[-1] == "2 eye(n)"


def test_identically_zero_divisor_is_refused():
    for text in ("α / (β - β)", "sum(x ./ (y - y))", "α (β - β)^-1"):
        problem = parse(text)
        var = next(iter(problem.symbols.values()))
        with pytest.raises(MatdiffError) as e:
            derive(problem, var, "grad", Options())
        assert "divides by zero" in e.value.message and e.value.exit_code == 2


# ---------------------------------------------------------------------------
# Names called like functions

UNKNOWN = ["phi", "lambda_x", "trace", "g", "softmin", "φ", "ψ_1", "alpha", "mu2", "f_2"]


@pytest.mark.parametrize("name", UNKNOWN)
@pytest.mark.parametrize("where", ["{}(x)", "sum({}(x))", "a^T {}(W x - b)", "1 + {}(x)^T x"])
def test_an_unknown_name_against_a_parenthesis_is_an_unknown_function(name, where):
    items = read_document(where.format(name))
    assert isinstance(items[0], MatdiffError), items
    assert f"unknown function '{name}'" in items[0].message
    assert "write a space" in items[0].hint


_HEAD = "abcdefghijklmnopqrstuvwxyzαβγδεζηθικλμνξοπρτυφχψω_"
_TAIL = _HEAD + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@given(st.text(_HEAD, min_size=1, max_size=1), st.text(_TAIL, max_size=8),
       st.sampled_from(["{}(x)", "sum({}(W x))", "x^T {}(x) + 1", "2 {}(X)^T"]))
@settings(max_examples=examples(60), deadline=None)
def test_random_undeclared_names_against_a_parenthesis_are_never_products(head, tail, where):
    from matdiff_cli.ops import ALIASES
    from matdiff_cli.shapes import BUILTINS, NOT_YET, RESERVED

    name = head + tail
    if name in BUILTINS or name in RESERVED or name in ALIASES or name in ("x", "X", "W"):
        return
    item = read_document(where.format(name))[0]
    assert isinstance(item, MatdiffError), (name, item)
    assert (f"unknown function '{name}'" in item.message
            or (name in NOT_YET and "not supported yet" in item.message)), item.message


@pytest.mark.parametrize("name", UNKNOWN)
def test_a_variable_or_a_space_makes_it_a_product(name):
    declared = parse_expr(f"{name}: scalar; {name}(x + y)")
    spaced = parse_expr(f"{name} ({'x + y'})", [f"{name}: scalar"])
    assert declared is spaced
    # a matrix name is always a product (SPEC: A(x + y))
    assert parse_expr("A(x + y)") is parse_expr("A (x + y)")


@pytest.mark.parametrize("name", ["σ", "sigma"])
def test_sigma_against_a_parenthesis_is_sigmoid_as_matdiff_prints_it(name):
    assert parse_expr(f"sum({name}(W x - b))") is parse_expr("sum(sigmoid(W x - b))")
    # a declared σ is a variable; σ without a parenthesis too
    assert parse_expr(f"{name}: scalar; {name}(x)") is parse_expr(f"{name} x", [f"{name}: scalar"])
    assert parse_expr(f"{name}^2").shape == SCALAR


def test_spectral_functions_are_not_products():
    from matdiff_cli.expr import EigVals, LambdaMax, LambdaMin, NormNuc, Pinv, SigmaMax, SvdVals
    for text, cls in (("lambda_max(A)", LambdaMax), ("lambda_min(A) + 1", LambdaMin),
                      ("sigma_max(X)", SigmaMax), ("svdvals(A) + 1", SvdVals),
                      ("norm_nuc(X)", NormNuc), ("eigvals(A)", EigVals),
                      ("c^T eigvals(A)", EigVals), ("pinv(A) x", Pinv)):
        assert any(isinstance(n, cls) for n in walk(parse_expr(text))), text


# ---------------------------------------------------------------------------
# A minus before NAME (...) in a chain

OPS = [".*", "./", "*", "/", "", "⊙"]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("minus", ["-", "--", "- -"])
def test_minus_name_paren_follows_the_precedence_of_minus_name_name(op, minus):
    decl = ["B: n x n", "A: n x n", "C: n x n", "s: scalar"]
    left = "s" if op == "/" else "B"
    a = parse_expr(f"{left} {op} {minus}A (C)", decl) if op != "/" else None
    if op == "/":  # the divisor must be a scalar: s / -s (s) is (s / -s) s
        a = parse_expr(f"s {op} {minus}s (s)", decl)
        b = parse_expr(f"s {op} {minus}s s", decl)
    else:
        b = parse_expr(f"{left} {op} {minus}A C", decl)
    assert a is b


def test_minus_a_paren_gradient_is_right():
    # sum((B .* -A) C): the gradient is -B .* (ones C^T), not -B C^T
    problem = parse("sum(B .* -A (C))")
    A = problem.symbols["A"]
    g = derive(problem, A, "grad", Options()).result
    rng = np.random.default_rng(3)
    values, sizes = sample_values(list(problem.symbols.values()), rng, sizes={"n": 3, "m": 4, "k": 2})
    B, C = values["B"], values["C"]
    assert np.allclose(evaluate(g, values, sizes), -B * (np.ones((B.shape[0], C.shape[1])) @ C.T))


# ---------------------------------------------------------------------------
# Products of dimensions


@pytest.mark.parametrize("order", ["kron(u, y) + kron(y, u)", "kron(y, u) + kron(u, y)"])
def test_permuted_product_dimensions_do_not_force_equality(order):
    shapes = {s.name: s.shape for s in parse(f"vec(X) - 0.1 ({order})").symbols.values()}
    assert shapes["u"][0] != shapes["y"][0], shapes
    assert set(shapes["X"]) == {shapes["u"][0], shapes["y"][0]}


@given(st.permutations(["a", "b", "c"]), st.permutations(["a", "b", "c"]))
@settings(max_examples=examples(20), deadline=None)
def test_three_factor_products_unify_in_any_order(p, q):
    vs = {"a": "u", "b": "v", "c": "w"}
    left = f"kron(kron({vs[p[0]]}, {vs[p[1]]}), {vs[p[2]]})"
    right = f"kron({vs[q[0]]}, kron({vs[q[1]]}, {vs[q[2]]}))"
    shapes = {s.name: s.shape[0] for s in parse(f"{left} + {right}").symbols.values()}
    assert len(set(shapes.values())) == 3, shapes  # n, m, k: nothing forced equal
    declared = parse(f"{left} + {right}", ["u: n", "v: m", "w: k"])
    assert declared.expr.shape[0] == "k*m*n"


def test_a_product_against_a_declared_product():
    assert parse_expr("z: n; X: n x m; kron(z^T, I) vec(X)").shape == ("m", 1)
    assert parse_expr("X: n x m; ones(n*m) + vec(X)").shape[0] == "m*n"
    e = read_document("u: n; y: m; kron(u, y) + kron(u, u)")[0]
    assert isinstance(e, MatdiffError)


# ---------------------------------------------------------------------------
# Norm subscripts


@pytest.mark.parametrize("sub", ["_infinity", "_p", "_0", "_nuc", "_65", "_1x", "_*2"])
def test_an_unknown_norm_subscript_is_an_error_not_a_product(sub):
    e = read_document(f"||x||{sub}")[0]
    assert isinstance(e, MatdiffError), e
    assert ("not supported yet" in e.message or "ambiguous" in e.message) and "_" not in [s.name for s in []]


@pytest.mark.parametrize("sub", ["_1", "_1^2", "_1 ||y||", "_1'", "_inf", "_inf^2 + 1"])
def test_the_1_and_max_norm_subscripts_are_norms_never_products(sub):
    from matdiff_cli.expr import Norm1, NormInf
    e = read_document(f"||x||{sub}", ["x, y: n"])[0]
    assert not isinstance(e, MatdiffError), e.message
    assert any(isinstance(n, (Norm1, NormInf)) for n in walk(e.expr))
    assert not any(name.startswith("_") for name in e.symbols)


# ---------------------------------------------------------------------------
# User function bodies


@pytest.mark.parametrize("param", ["t", "True", "lambda", "not", "None", "print", "u_", "σ"])
def test_a_body_follows_matdiffs_grammar_whatever_its_parameter(param):
    p = param
    problem = parse(f"f({p}) := {p}^2^3 + {p} (1 + {p}); sum(f(x))")
    x = np.array([[0.5], [-1.5]])
    got = evaluate(problem.expr, {"x": x})
    want = float(np.sum(x ** 6 + x * (1 + x)))
    assert np.isclose(got, want)
    der = derive(problem, problem.symbols["x"], "grad", Options())
    g = evaluate(der.result, {"x": x})
    assert np.allclose(g, 6 * x ** 5 + 1 + 2 * x)


def test_derivatives_are_in_matdiff_syntax_and_free_of_sympy_names():
    from matdiff_cli.usersym import derivative_text

    for body in ("relu(t) + abs(t)", "step(t) + sign(t) t", "sigmoid(t)", "t^2^3", "sqrt(t) / 3",
                 "softplus(t) - tanh(t)"):
        d1 = derivative_text("t", body)
        d2 = derivative_text("t", d1)
        for text in (d1, d2):
            assert "DiracDelta" not in text and "Heaviside" not in text and "**" not in text
            parse_expr(f"f(t) := {text}; f(x)")  # reads back


def test_hessian_through_abs_has_numpy_code():
    problem = parse("f(t) := t^3 + abs(t); sum(f(x))")
    out = DerivativeReport(derive(problem, problem.symbols["x"], "hess", Options())).to_json()
    assert out["result"]["numpy"] and "DiracDelta" not in out["result"]["numpy"]


def test_a_user_derivative_reads_back():
    assert parse_expr("f(t) := t^3; f''(x)") is not None
    x = np.array([[2.0], [3.0]])
    assert np.allclose(evaluate(parse_expr("f(t) := t^3; f''(x)"), {"x": x}), 6 * x)
    # a transpose is still a transpose: A'(x + y) is A^T (x + y)
    assert parse_expr("A'(x + y)") is parse_expr("A^T (x + y)")


# ---------------------------------------------------------------------------
# The Python API


def test_api_takes_a_declaration_string_and_refuses_several_problems():
    import matdiff_cli as m

    assert m.gradient("x^T A x", "x", declare="A: n x n symmetric").text == "2 A x"
    with pytest.raises(MatdiffError, match="one expression"):
        m.gradient("x^T x; tr(X)", "x")


def test_the_unifier_defers_ambiguous_products_and_decides_them_later():
    from matdiff_cli.shapes import Prod, Unifier, Var

    u = Unifier()
    a, b, c, d = (u.new() for _ in range(4))
    assert u.unify((Prod(a, b), Prod(c, d)))
    assert len(u.pending) == 1 and isinstance(u.walk(a), Var) and u.walk(a) is not u.walk(c)
    assert u.unify((a, "n"), (c, "n"))  # now n*b = n*d: b = d
    assert not u.pending and u.walk(b) is u.walk(d)
    # commutative, rigid: n*m = m*n holds, n*m = n*k fails and changes nothing
    assert u.unify((Prod("n", "m"), Prod("m", "n")))
    assert not u.unify((Prod("n", "m"), Prod("n", "k")))
    e, f = u.new(), u.new()
    assert u.unify((Prod(e, f), "k*m*n"))  # ambiguous: waits
    assert not u.unify((e, "p"))  # p is no factor of k*m*n: refused, atomically
    assert isinstance(u.walk(e), Var) and len(u.pending) == 1
    u.settle()  # paired in order
    assert not u.pending and {u.walk(e), u.walk(f)} <= {"k", "m*n", "k*m", "n", "m", "k*n"}
    assert u._cancel(Prod(u.walk(e), u.walk(f)), "k*m*n") == ([], [])


def test_settling_numbers_and_names_terminates_with_an_answer_or_a_refusal():
    from matdiff_cli.shapes import Prod, Unifier

    for rhs, ok in ((6, True), (7, True), ("n", True), ("m*n", True), (1, False)):
        u = Unifier()
        a, b = u.new(), u.new(True)
        assert u.unify((Prod(2, Prod(a, b)), Prod(3, u.new())))  # 2 a b = 3 c: waits
        u.unify((Prod(a, b), rhs))
        u.settle()
        assert not u.pending
    u = Unifier()
    a, b = u.new(True), u.new(True)
    assert u.unify((Prod(a, b), 6))
    u.settle()  # 6 = a b with neither 1: no pairing decides it, and settle still ends
    assert not u.pending


@pytest.mark.parametrize("name", ["tanh", "exp", "sigmoid", "σ", "tr"])
def test_primes_on_a_built_in_function_are_an_error(name):
    e = read_document(f"{name}'(x)")[0]
    assert isinstance(e, MatdiffError) and "user function only" in e.message
