"""Documents (SPEC §1.5): statements in order, declarations and definitions
accumulating, a problem per bare expression, nothing lost to a bad statement;
the Problem object; and the parser's tables and start-up."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from budget import assert_linear
from matdiff_cli import lalr
from matdiff_cli.document import Problem, parse, parse_expr, read_document
from matdiff_cli.errors import (
    EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EXIT_UNSUPPORTED, MatdiffError, worst,
)
from matdiff_cli.expr import Func, Mul, Num, Sym, Trace, Transpose

ROOT = Path(__file__).resolve().parent.parent


def kinds(items):
    return ["P" if isinstance(i, Problem) else i.kind for i in items]


# ---------------------------------------------------------------------------
# Nothing lost


def test_a_malformed_problem_does_not_lose_the_others():
    doc = "X: n x m; A: n x n; B: m x m\ntr(X^T A X B)\ntr(X^T X)\nlogdet(X^T A X +\nX B\ntr(B)"
    items = read_document(doc)
    assert kinds(items) == ["P", "P", "syntax", "P", "P"]
    assert [i.line for i in items] == [2, 3, 4, 5, 6]
    assert items[2].statement == "logdet(X^T A X +"
    assert items[3].expr is Mul(Sym("X", ("n", "m")), Sym("B", ("m", "m")))


def test_errors_of_every_kind_keep_the_document_going():
    doc = "\n".join(["x: n", "x^T x", "tr: n", "h = A x +", "A B x", "s x", "||x||"])
    items = read_document(doc)
    assert kinds(items) == ["P", "name", "syntax", "P", "shape", "P"]


def test_a_failed_definition_is_not_taken_for_a_symbol():
    items = read_document("h = W x +\nh^T h")
    assert kinds(items) == ["syntax", "name"]
    assert "line 1 has an error" in items[1].message


def test_declarations_and_definitions_accumulate():
    items = read_document("A: n x n symmetric\nx^T A x\nx: n\nh = A x\nh^T h\nA: 3 x 3")
    assert kinds(items) == ["P", "P", "name"]
    assert items[0].symbols["A"].shape == ("n", "n")
    assert items[0].symbols["x"].shape == ("n", 1) and items[0].inferred == {"x"}
    assert "x" not in items[1].inferred and list(items[1].definitions) == ["h"]


# ---------------------------------------------------------------------------
# -d declarations


def test_declarations_ahead_of_the_text():
    p = parse("x^T A x", ["A: n x n symmetric", "x: n"])
    assert p.symbols["A"].props == {"symmetric"} and p.inferred == frozenset()


def test_a_bad_declaration_is_an_error_with_its_own_position():
    items = read_document("tr(X)", ["A: n x n", "B: n x"])
    assert kinds(items) == ["syntax", "P"]
    err = items[0]
    assert (err.line, err.column) == (1, 7) and err.source_line == "B: n x"
    assert err.statement == "B: n x"


def test_an_expression_is_not_a_declaration():
    (err, _) = read_document("tr(X)", ["A x"])
    assert "expected a declaration" in err.message


def test_several_declarations_in_one_option():
    p = parse("tr(A B)", ["A: n x n; B: n x n symmetric"])
    assert p.symbols["B"].props == {"symmetric"}


# ---------------------------------------------------------------------------
# The Problem


def test_problem_fields():
    doc = ("f(t) := t^3 + sin(t)\nW: n x m\nh = f(W x)\n"
           "loss = ||h - y||^2   # squared error\nloss + λ sum(W .* W)")
    p = parse(doc)
    assert p.source == "loss + λ sum(W .* W)" and p.line == 5
    assert list(p.symbols) == ["W", "x", "y", "λ"]
    assert p.symbols["W"] is Sym("W", ("n", "m"))
    assert list(p.definitions) == ["h", "loss"]
    assert p.definitions["h"] is Func("f", Mul(p.symbols["W"], p.symbols["x"]),
                                      ("t", "t^3 + sin(t)"))
    assert p.functions == {"f": ("t", "t^3 + sin(t)")}
    assert p.inferred == {"x", "y", "λ"}
    assert p.expr.terms[0] is p.definitions["loss"]


def test_problem_is_frozen():
    p = parse("tr(X)")
    with pytest.raises(Exception):
        p.expr = None


def test_problem_parse_uses_the_same_scope():
    p = parse("tr(X^T A X B)", ["A: n x n symmetric"])
    e = p.parse("2 A X B")
    assert e is Mul(Num(2), p.symbols["A"], p.symbols["X"], p.symbols["B"])
    assert e.shape == ("n", "m")
    # new names are inferred around the problem's dimensions
    e = p.parse("A X B + C")
    assert e.terms[1].shape == ("n", "m")


def test_problem_parse_sees_definitions():
    p = parse("h = W x\nh^T h")
    e = p.parse("2 h")
    assert e is Mul(Num(2), p.definitions["h"])


def test_problem_parse_rejects_bad_text():
    p = parse("tr(X^T A X B)")
    for text in ("2 A X +", "", "A: n x n", "A X; B"):
        with pytest.raises(MatdiffError):
            p.parse(text)
    with pytest.raises(MatdiffError) as info:
        p.parse("X + A")
    assert info.value.kind == "shape"


def test_parse_and_parse_expr():
    assert parse_expr("tr(X)") is Trace(Sym("X", ("n", "n")))
    assert isinstance(parse("tr(X)"), Problem)
    with pytest.raises(MatdiffError):
        parse("tr(X) +")


# ---------------------------------------------------------------------------
# User functions


def test_user_function_applied_elementwise():
    e = parse_expr("f(t) := t^3 + sin(t)\nf(W x)")
    assert isinstance(e, Func) and e.args[0] == "f" and e.args[2] == ("t", "t^3 + sin(t)")
    assert e.shape == ("n", 1)


def test_user_function_redefinition_and_errors():
    e = parse_expr("f(t) := t\nf(t) := 2 t\nf(x)")
    assert e.args[2] == ("t", "2 t")
    assert "takes one argument" in read_document("f(t) := t\nf(x, y)")[0].message
    assert "unknown function" in read_document("f(x)\nf(t) := t")[0].message
    assert "is a function" in read_document("f(t) := t\nf + 1")[0].message


def test_transpose_of_a_user_function_value():
    e = parse_expr("g(u) := exp(u) - 1\ng(x)^T g(x)")
    gx = Func("g", Sym("x", ("n", 1)), ("u", "exp(u) - 1"))
    assert e is Mul(Transpose(gx), gx)


# ---------------------------------------------------------------------------
# Errors and exit statuses


def test_exit_codes():
    assert MatdiffError("syntax", "m").exit_code == EXIT_BAD_INPUT == 2
    assert MatdiffError("shape", "m").exit_code == 2
    assert MatdiffError("name", "m").exit_code == 2
    assert MatdiffError("usage", "m").exit_code == 2
    assert MatdiffError("input", "m").exit_code == 2
    assert MatdiffError("unsupported", "m").exit_code == EXIT_UNSUPPORTED == 3
    assert MatdiffError("check", "m").exit_code == EXIT_FAILED == 1
    assert worst([]) == EXIT_OK == 0
    assert worst([0, 1, 0]) == 1 and worst([1, 2]) == 2 and worst([2, 3, 1]) == 3


def test_errors_pickle():
    import pickle

    (err,) = read_document("A x +")
    again = pickle.loads(pickle.dumps(err))
    assert (again.kind, again.message, again.line, again.column, again.hint) == \
        (err.kind, err.message, err.line, err.column, err.hint)
    assert again.format() == err.format()


def test_error_fields_and_format_without_position():
    e = MatdiffError("unsupported", "cannot write this", hint="try jac")
    assert e.format() == "cannot write this\nhint: try jac"
    assert e.to_json() == {"type": "unsupported", "message": "cannot write this", "line": None,
                           "column": None, "hint": "try jac"}


# ---------------------------------------------------------------------------
# The grammar, the cached tables, start-up


def test_grammar_is_found():
    path = lalr._grammar_path()
    assert os.path.isfile(str(path)) and str(path).endswith("matdiff.lark")


def test_tables_rebuilt_from_the_grammar_give_the_same_parse(tmp_path, monkeypatch):
    pytest.importorskip("lark")
    monkeypatch.setenv("MATDIFF_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(lalr, "_TABLES", None)
    e = parse_expr("tr(X^T A X B) + ||x||^2 + 1/2 log det(X^T X)")
    (cached,) = list(tmp_path.iterdir())
    assert cached.name.startswith("matdiff-lalr-")
    # a damaged cache is rebuilt, not trusted
    cached.write_bytes(b"garbage")
    monkeypatch.setattr(lalr, "_TABLES", None)
    assert parse_expr("tr(X^T A X B) + ||x||^2 + 1/2 log det(X^T X)") is e


def test_an_unwritable_cache_is_not_an_error(tmp_path, monkeypatch):
    pytest.importorskip("lark")
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("MATDIFF_CACHE_DIR", str(blocked / "sub"))
    monkeypatch.setattr(lalr, "_TABLES", None)
    assert parse_expr("x^T x").shape == (1, 1)


def test_lexer_skips_what_the_grammar_ignores():
    grammar = lalr._grammar_text()
    assert "WS: /[ \\t\\f\\r\\u00a0]+/" in grammar
    assert "CONTINUATION: /\\\\[ \\t]*\\r?\\n/" in grammar


def test_start_up_imports_neither_lark_nor_numpy_nor_sympy():
    code = ("import sys; from matdiff_cli.document import parse_expr; "
            "parse_expr('tr(X^T A X B)'); "
            "print(sorted(m for m in ('lark', 'numpy', 'sympy') if m in sys.modules))")
    env = dict(os.environ)
    # warm the cache first (it may be cold in a fresh environment)
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_reading_stays_linear_and_problems_keep_their_own_scope():
    # every problem works on a layer over the document's scope (no copy per problem)
    def document(k):
        return "\n".join(f"X{i}: n x m\ntr(X{i}^T X{i})" for i in range(k))

    assert_linear(read_document, document, 200)
    items = read_document(document(1000))
    assert len(items) == 1000
    first = items[0]
    # a name declared later in the document is not in an earlier problem's scope
    assert first.parse("X5").shape != ("n", "m")
    assert items[10].parse("X5").shape == ("n", "m")
