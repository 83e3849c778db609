"""Every operation declared once (matdiff_cli/ops/), and nothing left out.

* One entry adds an elementwise function: a throwaway one, declared here,
  parses, differentiates (checked by finite differences), evaluates and
  renders in every format, then is withdrawn.
* The completeness tests walk every node type and every declared operation
  and fail naming the missing piece (a differential rule, a value, a
  renderer, an adjoint, a SymPy form, a property-test generator, a line in
  the design notes): each built-in's block in ops/ declares every rule it
  needs, no layer writes a rule of its own for a built-in's node, and the
  families loaded on first need are listed for the parser.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from matdiff_cli import api
from matdiff_cli.differentials import RULES
from matdiff_cli.cli import cli
from matdiff_cli.document import parse_expr
from matdiff_cli.errors import MatdiffError
from matdiff_cli.expr import Func, Sym, node_types
from matdiff_cli.readoff import ADJOINTS, VEC_RULES
from matdiff_cli.numeric import evaluate, relative_error, value
from matdiff_cli.ops import (
    ALIASES, BUILTINS, ELEMENTWISE, RESERVED, STRUCTURE, Elementwise, declare, withdraw,
)
from matdiff_cli.render import text as text_render
from matdiff_cli.render.latex import to_latex
from matdiff_cli.render.numpy import to_numpy
from matdiff_cli.render.numpy.base import rule as numpy_rule
from matdiff_cli.render.numpy.targets import TARGETS
from matdiff_cli.render.pretty import to_pretty
from matdiff_cli.render.text import to_text
from matdiff_cli.sympy_bridge import _convert
from strategies import NODE_TYPES, elementwise

ROOT = Path(__file__).resolve().parent.parent

x = Sym("x", ("n", 1))
s = Sym("s", (1, 1))


# --------------------------------------------------------------------------- one entry

@pytest.fixture
def expm1():
    """expm1(u) = exp(u) - 1, declared in one entry for the length of a test."""
    op = declare(Elementwise(
        "expm1", lambda f: Func("exp", f.arg), "expm1' = exp",
        value=lambda np_, u: np_.expm1(u), sympy=lambda sp, u: sp.exp(u) - 1))
    try:
        yield op
    finally:
        withdraw("expm1")


def test_one_entry_adds_an_elementwise_function(expm1):
    decl = ["A: n x n", "x: n", "s: scalar"]
    src = "sum(expm1(A x)) expm1(s)"
    e = parse_expr(src, decl)
    assert any(isinstance(n, Func) and n.name == "expm1" for n in _walk(e))

    # differentiates: the gradient as declared, and right by finite differences
    g = api.gradient(src, "x", decl)
    assert g.text == "expm1(s) A^T exp(A x)"
    assert api.check(src, "x", decl, seed=3)["passed"]
    assert api.check(src, "s", decl, seed=4)["passed"]
    _finite_difference(e, g.expr, "x")

    # renders in every format, and the text reads back
    f = Func("expm1", x)
    assert to_text(f) == "expm1(x)"
    assert to_pretty(f) == "expm1(x)"
    assert to_latex(f) == r"\operatorname{expm1}\left(x\right)"
    assert parse_expr(to_text(f), ["x: n"]) is f
    for name, target in TARGETS.items():
        code = to_numpy(f, bound=[x], target=target())
        assert code == {"numpy": "np.expm1(x)", "jax": "jnp.expm1(x)",
                        "torch": "torch.expm1(x)"}[name]
    v = np.array([[0.5], [-1.0], [2.0]])
    assert np.allclose(eval(to_numpy(f, bound=[x]), {"np": np, "x": v}), np.expm1(v))
    import sympy as sp
    t = sp.Symbol("s", real=True)
    assert sp.simplify(api.gradient("expm1(s)^2", "s", ["s: scalar"]).to_sympy()
                       - 2 * (sp.exp(t) - 1) * sp.exp(t)) == 0

    # every format of the command line, and generated code in every language
    decls = sum((["--declare", d] for d in decl), [])
    runs = [("grad", "--format", fmt) for fmt in ("text", "pretty", "latex", "json", "numpy")]
    runs += [("code", "--lang", lang) for lang in TARGETS]
    for command, option, choice in runs:
        out = CliRunner().invoke(cli, [command, src, "--wrt", "x", option, choice, *decls],
                                 catch_exceptions=False)
        assert out.exit_code == 0, (choice, out.output)
        assert re.search(r"expm1|\\operatorname\{expm1\}", out.stdout), (choice, out.stdout)
        if choice == "json":
            assert json.loads(out.stdout)["ok"]
    # a user function's body may call it (SymPy sees the declared form)
    assert api.gradient("g(t) := expm1(t)\nsum(g(x))", "x", ["x: n"]).text == "g'(x)"


def test_withdrawing_a_declaration_removes_every_trace(expm1):
    withdraw("expm1")
    try:
        assert "expm1" not in BUILTINS and "expm1" not in RESERVED
        with pytest.raises(MatdiffError):
            parse_expr("expm1(x)", ["x: n"])
    finally:
        declare(expm1)


def test_a_name_is_declared_once():
    with pytest.raises(ValueError, match="already declared"):
        declare(ELEMENTWISE["exp"])


def _walk(e):
    from matdiff_cli.expr import walk
    return list(walk(e))


def _finite_difference(f, grad, name, seed=0):
    """<G, D> against the central difference of f along a random D."""
    from matdiff_cli.expr import symbols
    from matdiff_cli.numeric import directional_derivative, sample_values

    rng = np.random.default_rng(seed)
    values, sizes = sample_values([f, grad], rng)
    d = rng.standard_normal(np.shape(values[name]))
    fd = directional_derivative(f, values, name, d, sizes=sizes)
    exact = np.sum(evaluate(grad, values, sizes) * d)
    assert relative_error(fd, exact) < 1e-6, (fd, exact)
    assert {s.name for s in symbols(f)} >= {name}


# --------------------------------------------------------------------------- completeness

#: nodes that never hold the direction dX linearly, so need no adjoint (the
#: differential is linear in dX: only linear maps of it are read off)
NOT_LINEAR = {"Sym", "Num", "Identity", "Zeros", "Ones", "Diff", "Commutation", "Div", "EDiv",
              "Kron", "Power", "EPow", "Func", "Inverse", "Det", "LogDet", "Norm2", "NormF",
              "Softmax", "LogSumExp", "LambdaMax", "LambdaMin", "EigVecMax", "EigVecMin", "Norm1",
              "LeftVecMax", "LeftVecMin", "NormInf", "OneHotMax", "EigVals", "EigVecs", "Pinv",
              "SigmaMax", "SVecLeftMax", "SVecRightMax", "SvdVals", "SvdU", "SvdV", "NormNuc", "Polar"}
#: of those that have an adjoint, the ones read off in vec form another way
NO_VEC_RULE = {"DiagM", "DiagV"}
#: nodes SymPy's matrix expressions cannot write (to_sympy says so in words)
NO_SYMPY = {"Commutation", "EDiv", "EPow", "DiagM", "DiagV", "Vec", "Unvec", "Softmax", "LogSumExp",
            "LambdaMax", "LambdaMin", "EigVecMax", "EigVecMin", "Norm1", "LeftVecMax",
            "LeftVecMin", "NormInf", "OneHotMax", "EigVals", "EigVecs", "Pinv",
            "SigmaMax", "SVecLeftMax", "SVecRightMax", "SvdVals", "SvdU", "SvdV", "NormNuc", "Polar"}
#: the variable's own differential is the engine's seed, not a rule
NO_DIFFERENTIAL_RULE = {"Sym"}


def _missing(table: dict, exempt=()) -> list:
    return [t.__name__ for t in node_types() if t not in table and t.__name__ not in exempt]


@pytest.mark.parametrize("piece, table, exempt", [
    ("a differential rule (differentials/)", RULES, NO_DIFFERENTIAL_RULE),
    ("a NumPy value (numeric/evaluator.py)", value.registry, ()),
    ("a text / pretty / LaTeX rule (render/text.py)", text_render.rule.registry, ()),
    ("a NumPy / JAX / PyTorch rule (render/numpy/)", numpy_rule.registry, ()),
    ("an adjoint (readoff/adjoint.py)", ADJOINTS, NOT_LINEAR),
    ("a vec rule (readoff/vec.py)", VEC_RULES, NOT_LINEAR | NO_VEC_RULE),
    ("a SymPy form (sympy_bridge.py)", _convert.registry, NO_SYMPY),
], ids=lambda v: v if isinstance(v, str) else "")
def test_every_node_type_has(piece, table, exempt):
    missing = _missing(table, exempt)
    assert not missing, f"{', '.join(missing)} lack {piece}"


def test_exemptions_name_real_node_types():
    names = {t.__name__ for t in node_types()}
    for exempt in (NOT_LINEAR, NO_VEC_RULE, NO_SYMPY, NO_DIFFERENTIAL_RULE):
        assert exempt <= names, exempt - names


def test_the_generators_cover_every_node_type():
    assert set(NODE_TYPES) == set(node_types())


def test_the_design_notes_name_every_node_type():
    design = (ROOT / "docs" / "design.md").read_text()
    missing = [t.__name__ for t in node_types()
               if not re.search(rf"\b{t.__name__}\b", design)]
    assert not missing, f"docs/design.md does not name {missing}"


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_every_declared_function_is_complete(name):
    f = ELEMENTWISE[name]
    assert f.name == name and f.identity, f"{name}: no identity"
    assert name in BUILTINS and name in RESERVED, f"{name}: not filed for the parser"
    assert f.domain in (None, "positive"), f"{name}: unknown domain {f.domain!r}"
    assert name in elementwise(f.domain), f"{name}: the property tests never draw it"
    assert all(ALIASES[a] == name for a in f.aliases)

    # it parses, and its text reads back
    node = Func(name, x)
    assert parse_expr(f"{name}(x)", ["x: n"]) is node
    assert parse_expr(to_text(node), ["x: n"]) is node
    # every renderer writes it
    assert to_pretty(node) and to_latex(node)
    for target in TARGETS.values():
        assert to_numpy(node, bound=[x], target=target())
    # its derivative has its shape and agrees with finite differences away from 0
    u = np.array([[0.4], [0.9], [1.7]])
    vals, sizes = {"x": u}, {"n": 3}
    deriv = f.derivative(node)
    assert deriv.shape == node.shape, f"{name}: derivative of shape {deriv.shape}"
    h = 1e-6
    fd = (f.value(np, u + h) - f.value(np, u - h)) / (2 * h)
    assert relative_error(evaluate(deriv, vals, sizes), fd) < 1e-6, f"{name}: f' is not {f.identity}"
    # NumPy's value is the generated code's value
    code = to_numpy(node, bound=[x])
    assert np.allclose(eval(code, {"np": np, "x": u}), evaluate(node, vals, sizes))
    # its SymPy form has the same value
    import sympy as sp
    t = sp.Symbol("t", real=True)
    assert abs(float(f.sympy(sp, t).subs(t, 0.9)) - float(f.value(np, np.array(0.9)))) < 1e-12


def test_every_builtin_parses():
    """Each declared built-in name is a call the elaborator knows (no internal error)."""
    calls = {"tr": "tr(A)", "det": "det(A)", "logdet": "logdet(A)", "sum": "sum(A)",
             "diag": "diag(x)", "vec": "vec(A)", "kron": "kron(A, A)", "inv": "inv(A)",
             "norm": "norm(A)", "norm2": "norm2(x)", "softmax": "softmax(x)",
             "logsumexp": "logsumexp(x)", "eye": "eye(n) A", "ones": "ones(n)^T x",
             "zeros": "zeros(n, n) + A", "unvec": "unvec(vec(A), n, n) + A", "commutation": "commutation(n, n) vec(A)",
             "lambda_max": "lambda_max(A)", "lambda_min": "lambda_min(A)",
             "eigvec_max": "eigvec_max(A)", "eigvec_min": "eigvec_min(A)", "norm1": "norm1(x)",
             "leftvec_max": "leftvec_max(A)", "leftvec_min": "leftvec_min(A)",
             "norm_inf": "norm_inf(x)", "onehot_max": "onehot_max(x)",
             "eigvals": "eigvals(A)", "eigvecs": "eigvecs(A)", "pinv": "pinv(A)",
             "sigma_max": "sigma_max(A)", "svec_left_max": "svec_left_max(A)",
             "svec_right_max": "svec_right_max(A)", "svdvals": "svdvals(A)", "svd_u": "svd_u(A)",
             "svd_v": "svd_v(A)", "norm_nuc": "norm_nuc(A)", "polar": "polar(A)"}
    for name in BUILTINS:
        text = f"{name}(x)" if name in ELEMENTWISE else calls.get(name)
        assert text is not None, f"the built-in {name} has no example here"
        parse_expr(text, ["A: n x n", "x: n"])


#: node types the syntax builds (operators, leaves, elementwise calls), not a built-in's name
SYNTAX_NODES = {"Sym", "Num", "Diff", "Add", "Mul", "Hadamard", "Div", "EDiv", "Broadcast",
                "Power", "EPow", "Transpose", "Func"}


def test_every_node_type_is_built_by_the_syntax_or_a_declaration():
    names = {t.__name__ for t in node_types()}
    declared = {n for op in STRUCTURE.values() for n in op.nodes}
    assert declared <= names, f"declared nodes that do not exist: {declared - names}"
    missing = names - declared - SYNTAX_NODES
    assert not missing, f"no built-in declares the node types {sorted(missing)}"


@pytest.mark.parametrize("name", [n for n, op in STRUCTURE.items() if op.call])
def test_a_builtin_written_as_a_call_reads_back(name):
    import matdiff_cli.expr as E
    for node_name in STRUCTURE[name].nodes:
        cls = getattr(E, node_name)
        arg = (Sym("A", ("n", "n")) if node_name not in ("DiagM", "Softmax", "LogSumExp", "Norm1",
                                                                   "NormInf", "OneHotMax")
               else x)
        node = cls(arg)
        assert to_text(node).startswith(name + "("), to_text(node)
        assert parse_expr(to_text(node), ["A: n x n", "x: n"]) is node


def test_every_declared_shape_rule_exists():
    from matdiff_cli.shapes import SHAPE_RULES
    missing = {op.name: op.shape for op in STRUCTURE.values() if op.shape not in SHAPE_RULES}
    assert not missing, f"shape rules not in shapes.SHAPE_RULES: {missing}"


def test_the_how_to_add_section_names_real_places():
    """docs/design.md's "How to add ..." lists files and tables: each must exist."""
    design = (ROOT / "docs" / "design.md").read_text()
    section = design.split("## How to add", 1)[1].split("\n## ", 1)[0]
    files = set(re.findall(r"`((?:[\w/]+/)?\w+\.py)`", section))
    assert files, "no file named in the section"
    for f in files:
        found = [p for p in (ROOT / "matdiff_cli" / f, ROOT / f) if p.exists()]
        assert found, f"docs/design.md names {f}, which does not exist"
    import matdiff_cli.commands as commands
    import matdiff_cli.report as report
    import matdiff_cli.shapes as shapes
    for module, name in ((shapes, "SHAPE_RULES"), (report, "FORMATS"), (commands, "COMMANDS")):
        assert name in section and hasattr(module, name), name


def _tables():
    """(layer, its table: node type -> rule) of every layer that files rules by node type."""
    from matdiff_cli.simplify.core import RULES as SIMPLIFY_RULES
    return [("differentials", RULES), ("numeric", value.registry),
            ("render/text", text_render.rule.registry), ("render/numpy", numpy_rule.registry),
            ("readoff/adjoint", ADJOINTS), ("readoff/vec", VEC_RULES),
            ("sympy_bridge", _convert.registry), ("simplify", SIMPLIFY_RULES)]


def _declared_nodes() -> dict:
    """node type -> the built-in that declares it."""
    import matdiff_cli.expr as E
    return {getattr(E, n): op for op in STRUCTURE.values() for n in op.nodes}


def test_a_builtins_rules_are_in_its_block_only():
    """Each rule a layer holds for a built-in's node is the one declared in its
    block in ops/ (the layer files it from there): none is written in a layer.
    (Simplification rules live by family in simplify/, as the how-to says.)"""
    nodes = _declared_nodes()
    for layer, table in _tables()[:-1]:
        for cls, fn in dict(table).items():
            op = nodes.get(cls)
            if op is not None:
                declared = (fn.__module__.startswith("matdiff_cli.ops.")   # (differentials)
                            or hasattr(fn, "declared")                 # handed its tools
                            or fn.__qualname__.startswith("_call."))   # written as a call
                assert declared, (
                    f"{layer} writes its own rule for {cls.__name__} ({fn.__module__}."
                    f"{fn.__qualname__}): it belongs in the block of {op.name} in ops/")


def test_the_how_to_add_section_names_every_module_that_holds_rules():
    """A node's rules live where docs/design.md's "Another built-in" says: each
    family module of ops/ that declares a built-in's rules, and each module of
    simplify/ that holds a built-in's simplification rules, is named there, so a
    newcomer following the list finds every place."""
    design = (ROOT / "docs" / "design.md").read_text()
    section = design.split("## How to add", 1)[1].split("\n## ", 1)[0]
    nodes = _declared_nodes()
    modules = {fn.__module__ for op in STRUCTURE.values() for fn in _rules(op).values()}
    modules |= {op.derivative.__module__ for op in ELEMENTWISE.values()}
    for cls, entry in dict(_tables()[-1][1]).items():
        if cls in nodes:
            modules.update(getattr(fn, "fn", fn).__module__ for fn in entry)
    assert len(modules) > 2, modules
    files = {m.removeprefix("matdiff_cli.").replace(".", "/") + ".py" for m in modules}
    unnamed = sorted(f for f in files if f"`{f}`" not in section)
    assert not unnamed, f"docs/design.md's how-to-add section does not name {unnamed}"


#: the rules a built-in may declare (``ops.base.Builtin``), each read by one layer
RULE_FIELDS = ("differential", "value", "acceptable", "text", "code", "sympy", "adjoint", "vec")


def _rules(op) -> dict:
    """field -> callable, the rules op declares."""
    return {f: getattr(op, f) for f in RULE_FIELDS if getattr(op, f) is not None}


@pytest.mark.parametrize("name", list(STRUCTURE))
def test_every_declared_builtin_is_complete(name):
    """Each built-in's block declares every rule it needs; the message names the
    built-in, the missing rule and where it goes."""
    op = STRUCTURE[name]
    rules = _rules(op)
    where = f"in the block of {name} in {op.differential.__module__.replace('.', '/')}.py"
    needed = {"differential": "a differential", "value": "a NumPy value",
              "code": "NumPy / JAX / PyTorch code"}
    if not op.call:
        needed["text"] = "a text / pretty / LaTeX form (or call=True)"
    if not set(op.nodes) <= NO_SYMPY:
        needed["sympy"] = "a SymPy form"
    if not set(op.nodes) <= NOT_LINEAR:
        needed["adjoint"] = "an adjoint (the gradient's read-off)"
        if not set(op.nodes) <= NO_VEC_RULE | NOT_LINEAR:
            needed["vec"] = "a vec rule (the Jacobian's read-off)"
    missing = [words for field, words in needed.items() if field not in rules]
    assert not missing, f"{name} lacks {', '.join(missing)}: {where}"
    assert op.rule_name and op.identity, f"{name}: its differential has no name or identity"
    identities = op.identity if isinstance(op.identity, dict) else {None: op.identity}
    assert all(identities.values()), f"{name}: an empty identity"


def test_the_families_loaded_on_first_need_list_what_they_declare():
    """ops.base.LAZY_FAMILIES tells the parser the names of the families it does not
    load at start: each lists exactly the built-ins its module declares, in order."""
    from matdiff_cli.ops.base import LAZY_FAMILIES

    def family(op):
        return op.differential.__module__.rsplit(".", 1)[1]

    ops = list(STRUCTURE.values())   # every family loaded
    for name, listed in LAZY_FAMILIES.items():
        declared = [op.name for op in ops if family(op) == name]
        assert declared == list(listed), \
            f"ops/{name}.py declares {declared}; LAZY_FAMILIES lists {list(listed)}"
    loose = [op.name for op in ops if family(op) != "linalg" and family(op) not in LAZY_FAMILIES]
    assert not loose, f"{loose}: declared in a family neither loaded at start nor listed in LAZY_FAMILIES"


def test_every_command_has_a_function_and_its_help():
    """One registry: each command's entry holds its help, its options (each one the
    command line knows) and its code, which imports."""
    from importlib import import_module

    from matdiff_cli.cli import _option
    from matdiff_cli.commands import COMMANDS
    for name, command in COMMANDS.items():
        assert command.name == name and command.summary and name in command.example
        for option in command.options:
            _option(option)          # raises ValueError for an option the CLI lacks
        if command.run is None:
            module = import_module(command.module, "matdiff_cli")
            assert callable(getattr(module, command.attr)), name


def test_a_redeclared_function_is_written_in_latex_by_its_new_declaration():
    """The LaTeX writer keeps each function's spelling and template with its
    declaration: a name withdrawn and declared again is written by the new one
    (on another argument each time: a node's Doc is kept with the node)."""
    for spelling, arg, expected in ((r"\operatorname{twice}\left({a}\right)", x,
                                     r"\operatorname{twice}\left(x\right)"),
                                    (r"2 \cdot {a}", s, r"2 \cdot s")):
        declare(Elementwise("twice", lambda f: 2, "twice' = 2", latex=spelling,
                            value=lambda np_, u: 2 * u, sympy=lambda sp, u: 2 * u))
        try:
            assert to_latex(Func("twice", arg)) == expected
        finally:
            withdraw("twice")
    y = Sym("y", ("n", 1))
    assert to_latex(Func("twice", y)) == r"\operatorname{twice}\left(y\right)"   # undeclared
