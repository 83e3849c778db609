"""The reader under hostile input: a cache that heals, numbers out of range,
line endings, bad bytes and failed definitions (each a generated class)."""
from __future__ import annotations

import json
import marshal
import os
import random
import re
import stat
import subprocess
import sys
import tracemalloc
from fractions import Fraction
from pathlib import Path

import pytest
from budget import examples
from click.testing import CliRunner

from matdiff_cli import lalr, parser as P
from matdiff_cli.cli import cli
from matdiff_cli.document import read_document
from matdiff_cli.errors import MatdiffError

ROOT = Path(__file__).resolve().parent.parent

#: statements whose parse must never change, whatever happens to the cache
SAMPLES = [
    "tr(X^T A X B) + ||x||^2 + 1/2 log det(X^T X)",
    "A, B: n x n symmetric",
    "h = sigmoid(W x - b)",
    "f(t) := t^3 + sin(t)",
    "-x^T A x .* 2 ./ y ⊗ z^{-1} + x.^(1/2) + X⁻¹ + x'",
    "||x|| ||y||_2 - 2.5e-3 (a + b)",
]


def _reprs():
    return [repr(P.parse_statement(P.Source(t), 0, len(t))) for t in SAMPLES]


def _run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def _json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ---------------------------------------------------------------------------
# §5 A cache that heals


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache directory; the tables rebuilt from a copy (counted)."""
    pytest.importorskip("lark")
    monkeypatch.setenv("MATDIFF_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(lalr, "_TABLES", None)
    reference = _reprs()  # a cold cache: built by Lark, written
    (path,) = tmp_path.iterdir()
    good = lalr._build_tables(lalr._grammar_text())
    frozen = marshal.dumps(good)
    builds = []

    def build(grammar):
        builds.append(1)
        return marshal.loads(frozen)

    monkeypatch.setattr(lalr, "_build_tables", build)
    return path, path.read_bytes(), reference, builds, good


def _heals(path, reference, builds):
    """A later run parses right, and the file it leaves is trusted again."""
    before = len(builds)
    lalr._TABLES = None
    assert _reprs() == reference
    assert len(builds) == before + 1, "a damaged cache was trusted"
    assert stat.S_ISREG(os.lstat(path).st_mode)
    assert lalr._decode_cache(path.read_bytes(), lalr._grammar_text()) is not None
    lalr._TABLES = None
    assert _reprs() == reference
    assert len(builds) == before + 1, "the rebuilt cache was not used"


def test_the_cache_file_carries_version_and_checksum(cache):
    path, blob, _, _, _ = cache
    header = blob.split(b"\n", 1)[0].split()
    from matdiff_cli import __version__

    assert header[0] == b"matdiff-lalr" and header[2] == __version__.encode()
    assert int(header[3]) == len(blob) - len(blob.split(b"\n", 1)[0]) - 1 and len(header[4]) == 40


def test_random_corruptions_of_the_cache_always_heal(cache):
    path, good, reference, builds, _ = cache
    rng = random.Random(8)
    kinds = {"flip": 0, "truncate": 0, "garbage": 0, "splice": 0}
    n = examples(240)
    for _ in range(n):
        kind = rng.choice(list(kinds))
        if kind == "flip":
            i = rng.randrange(len(good) * 8)
            bad = bytearray(good)
            bad[i // 8] ^= 1 << (i % 8)
            bad = bytes(bad)
        elif kind == "truncate":
            bad = good[:rng.randrange(len(good))]
        elif kind == "garbage":
            bad = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 7, 100, 3000])))
        else:  # a piece of the file repeated or dropped
            i, j = sorted(rng.randrange(len(good)) for _ in range(2))
            bad = good[:i] + good[j:] if rng.random() < 0.5 else good[:j] + good[i:]
        if bad == good:
            continue
        kinds[kind] += 1
        path.write_bytes(bad)
        _heals(path, reference, builds)
    assert min(kinds.values()) > n // 8


def _mutations(data):
    """Tables of the wrong structure, each a fresh copy (the checksum is right)."""
    n = len(data["states"])
    some_state = next(i for i, row in enumerate(data["states"]) if row)
    sym = next(iter(data["states"][some_state]))

    def rule(i, value):
        return ("rules", i, value)

    edits = [
        ("format", 99), ("grammar", "start: NAME"), ("start", n), ("start", "0"), ("end", -1),
        ("states", []), ("states", "states"), ("keywords", []), ("keywords", {"x": 1}),
        ("ignore", [1]), ("terminals", [("NAME", 5)]), ("terminals", [("not a name", "x")]),
        rule(0, (1, 2)), rule(1, ("sum", -1, None)), rule(2, ("sum", 1, "no_such_reduction")),
        rule(3, ["sum", 1, None]), ("rules", []),
        ("row", some_state, "row"), ("act", some_state, "x"), ("act", some_state, 10 ** 6),
        ("act", some_state, -10 ** 6), ("act", some_state, 1.5), ("drop", "keywords"),
    ]
    for edit in edits:
        d = marshal.loads(marshal.dumps(data))
        if edit[0] == "rules" and len(edit) == 3:
            d["rules"][edit[1]] = edit[2]
        elif edit[0] == "row":
            d["states"][edit[1]] = edit[2]
        elif edit[0] == "act":
            d["states"][edit[1]][sym] = edit[2]
        elif edit[0] == "drop":
            del d[edit[1]]
        else:
            d[edit[0]] = edit[1]
        yield edit, d
    yield "a list", [1, 2, 3]
    yield "a bad pattern", dict(marshal.loads(marshal.dumps(data)), terminals=[("NAME", "(")])


def test_tables_of_the_wrong_structure_are_rebuilt(cache):
    path, good, reference, builds, data = cache
    for what, bad in _mutations(data):
        payload = marshal.dumps(bad)
        path.write_bytes(lalr._cache_header(payload) + payload)  # checksum right, content wrong
        _heals(path, reference, builds)


def test_the_cached_lexer_code_lexes_as_the_pattern_does(cache, monkeypatch):
    """The master pattern's code kept with the tables gives the same tokens as the
    pattern compiled afresh, on generated text from the grammar's own characters."""
    compiled = []
    real_compile = re.compile
    monkeypatch.setattr(re, "compile", lambda *a: compiled.append(a[0]) or real_compile(*a))
    lalr._TABLES = None
    master = lalr.tables().master
    monkeypatch.setattr(re, "compile", real_compile)
    assert master.pattern not in compiled  # from the cached code, not compiled
    data = lalr._load_tables()
    assert data["lexer"] is not None and data["lexer"][2] == master.pattern  # the code was used
    fresh = re.compile(master.pattern, re.DOTALL)
    assert master is not fresh and (master.groups, master.groupindex, master.flags) == (
        fresh.groups, fresh.groupindex, fresh.flags)
    alphabet = ("aXZ_019.eE+-*/^()[]{}|,:;=' \t\\\n\u00a0@·−×⊗⊙∘‖ᵀ⁻¹²₂_∞αωἀé\x00\ud800ab"
                "||.*./.^:=^T.T_*_2.5")
    rng = random.Random(5)
    for _ in range(examples(400)):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert ([(m.lastgroup, m.span()) for m in master.finditer(text)]
                == [(m.lastgroup, m.span()) for m in fresh.finditer(text)]), text


def test_lexer_code_that_does_not_fit_is_compiled_again(cache):
    """Code for another pattern, another engine or Python, or code the engine
    refuses (the checksum right): the pattern is compiled, the parse unchanged.
    (Code the engine accepts but that lexes otherwise is, like tables that fit
    the structure but not the grammar, caught by the file's checksum: the
    random corruptions above.)"""
    path, good, reference, builds, data = cache
    entry = list(data["lexer"])
    code = entry[4]
    for i, value in ((0, entry[0] + 1), (1, (2, 7)), (2, entry[2] + "x"), (4, code[:-1]),
                     (4, code[:len(code) // 2]), (4, [999] + code[1:]), (4, [-1] + code[1:]),
                     (4, "code"), (5, -5), (6, [1])):
        changed = list(entry)
        changed[i] = value
        payload = marshal.dumps(dict(data, lexer=tuple(changed)))
        path.write_bytes(lalr._cache_header(payload) + payload)
        lalr._TABLES = None
        assert _reprs() == reference, i
    payload = marshal.dumps(dict(data, lexer=None))
    path.write_bytes(lalr._cache_header(payload) + payload)
    lalr._TABLES = None
    assert _reprs() == reference


def test_a_directory_at_the_cache_path_is_not_an_error(cache):
    path, good, reference, builds, _ = cache
    path.unlink()
    path.mkdir()
    (path / "inside").write_text("kept")
    lalr._TABLES = None
    assert _reprs() == reference
    assert path.is_dir() and (path / "inside").read_text() == "kept"  # never removed


@pytest.mark.skipif(not hasattr(os, "symlink") or not os.path.exists("/dev/zero"),
                    reason="needs symlinks and /dev/zero")
def test_a_device_at_the_cache_path_is_never_read(cache):
    path, good, reference, builds, _ = cache
    path.unlink()
    os.symlink("/dev/zero", path)
    _heals(path, reference, builds)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_at_the_cache_path_does_not_block(tmp_path):
    pytest.importorskip("lark")
    env = dict(os.environ, MATDIFF_CACHE_DIR=str(tmp_path))
    code = "from matdiff_cli import parser as P; P.tables()"  # a warm cache to replace
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    (path,) = tmp_path.iterdir()
    path.unlink()
    os.mkfifo(path)
    code = ("from matdiff_cli.document import parse_expr; "
            "print(parse_expr('tr(X^T A X B)').shape)")
    # the timeout only keeps a broken build from hanging the suite: the
    # assertion is on what the run did (finished, parsed, replaced the FIFO)
    p = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "(1, 1)"
    assert stat.S_ISREG(os.lstat(path).st_mode)
    assert lalr._decode_cache(path.read_bytes(), lalr._grammar_text()) is not None


# ---------------------------------------------------------------------------
# §2 Numbers: one range for every number path, read in linear time

#: where a number can be written: (template, the number's offset in it)
NUMBER_PATHS = ["{}", "{} x", "x^{}", "x.^{}", "x^(1/{})", "x^({}/3)", "x^{{-{}}}",
                "2 ./ {} y", "X: {} x m"]


def _out_of_range_literals(rng):
    out = []
    for e in [309, 310, 400, 5000, 10 ** 6, 999999999, 10 ** 30, 10 ** 60]:
        out += [(f"1e{e}", "too large"), (f"{rng.randint(1, 9)}.5E+{e}", "too large"),
                (f"1e-{e + 16}", "too small"), (f".5e-{e + 16}", "too small")]
    for n in [330, 400, 5000, 20000]:
        out += [("9" * n, "too large"), ("0." + "0" * n + "1", "too small"),
                ("1" * 150 + "e-100", "significant digits")]
    out += [("2e308", "too large"), ("1.7976931348623159e308", "too large"),
            ("2e-324", "too small"), ("1" * 101, "significant digits"),
            ("." + "3" * 101, "significant digits")]
    return out


def test_numbers_out_of_range_are_refused_on_every_path():
    rng = random.Random(2)
    for literal, words in _out_of_range_literals(rng):
        for template in NUMBER_PATHS:
            text = template.format(literal) + ("; X" if template.startswith("X:") else "")
            items = read_document(text)
            err = items[0]
            assert isinstance(err, MatdiffError), (template, literal[:30])
            assert words in err.message and err.kind == "syntax", err.message
            at = template.format("\x01").index("\x01")
            assert (err.line, err.column) == (1, at + 1)
            assert err.end_column - err.column == min(len(literal), len(err.source_line) + 1 - at)


def test_numbers_at_the_edges_are_read_exactly():
    cases = {"1e308": Fraction(10) ** 308, "1.7976931348623157e308": Fraction("1.7976931348623157e308"),
             "5e-324": Fraction(5, 10 ** 324), ".5": Fraction(1, 2), "0.": 0, "2.50E+2": 250,
             "0e999999999999": 0, "000.000": 0, "1." + "0" * 20000: 1,
             "0." + "0" * 300 + "1": Fraction(1, 10 ** 301), "1" * 100: int("1" * 100),
             "12.5e-1": Fraction(5, 4)}
    for text, value in cases.items():
        assert P.read_number(text) == value, text[:30]
    (p,) = read_document("α^1e300")
    assert p.expr.p == 10 ** 300


def test_superscripts_follow_the_same_rules():
    sup = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
    for digits, ok in [("2", True), ("-1", True), ("1" * 100, True), ("4" * 101, False),
                       ("4" * 4400, False), ("0" * 5000 + "3", True)]:
        (item,) = read_document("α" + digits.translate(sup))
        assert isinstance(item, MatdiffError) != ok
        if not ok:
            assert ("significant digits" in item.message or "too large" in item.message)
            assert item.column == 2


def _peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_a_number_costs_memory_linear_in_its_length():
    """A literal's value is never formed beyond the range: the memory reading
    it takes grows with its length, not with its exponent (10**999999999 is
    a 400 MB integer; 1e999999 alone would take 400 KB)."""
    # the cheap cases first: a regression fails on them before 1e999999999 would hang
    for literal in ["1e999999", "1e-999999", "1e999999999", "9" * 5000, "1e" + "9" * 5000,
                    "0." + "0" * 5000 + "1", "1." + "0" * 5000, "7" * 5000 + "e-5000"]:
        for template in NUMBER_PATHS:
            text = template.format(literal)
            peak = _peak_bytes(lambda: read_document(text))
            assert peak < 300_000 + 40 * len(text), (template, literal[:20], peak)


def test_the_listed_number_inputs_end_with_an_error():
    for args in (["shape", "1e999999999"], ["shape", "1e9999999 x"], ["eval", "2e308"],
                 ["shape", "1e5000 x"], ["grad", "x⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴"
                                                         "⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴⁴"]):
        r = _run(*args, "--format", "json")
        (obj,) = _json_lines(r.output)
        assert r.exit_code == 2 and obj["ok"] is False and obj["error"]["type"] == "syntax"
        assert obj["error"]["hint"] and "Error" not in obj["error"]["message"]


def test_a_power_of_a_number_is_folded_only_while_small():
    from matdiff_cli.simplify import _num_power

    assert _num_power(Fraction(2), Fraction(10)) == 1024
    assert _num_power(Fraction(-1), Fraction(10 ** 30 + 1)) == -1
    assert _num_power(Fraction(1, 3), Fraction(-3)) == 27
    for p in (10 ** 5, 10 ** 9, 10 ** 300, -10 ** 9):
        assert _num_power(Fraction(2), Fraction(p)) is None  # kept as a power, never computed
    r = _run("grad", "2^100000 x^T x", "--wrt", "x", "--format", "json")
    (obj,) = _json_lines(r.output)
    assert r.exit_code == 0 and "2^100000" in obj["result"]["text"]


def test_constants_that_grow_too_large_are_refused():
    for factors in (["1.0001"] * 400, ["1e300"] * 12, ["1e-300"] * 12):
        r = _run("grad", " ".join(factors) + " a^T x", "--wrt", "x", "--format", "json")
        (obj,) = _json_lines(r.output)
        assert r.exit_code == 3 and obj["error"]["type"] == "unsupported"
        assert "digits" in obj["error"]["message"]


# ---------------------------------------------------------------------------
# §4 No problem is lost: line endings, bad bytes, bad lines

PROBLEMS = ["x^T x", "tr(A B)", "sum(exp(y))", "a^T X b", "||z||^2", "log det(S)", "u^T v + 1"]


def test_every_line_ending_ends_a_line():
    rng = random.Random(4)
    for _ in range(examples(60)):
        lines = rng.sample(PROBLEMS, rng.randint(1, 5))
        ends = [rng.choice(["\n", "\r", "\r\n"]) for _ in lines]
        text = "".join(line + end for line, end in zip(lines, ends))
        if rng.random() < 0.5:
            text = text.rstrip("\r\n")
        items = read_document(text)
        assert [i.source for i in items] == lines
        assert [i.line for i in items] == list(range(1, len(lines) + 1))


def test_cr_only_input_on_the_command_line():
    r = _run("shape", "-", "--format", "json", input=b"x^T x\rx^T A x\r")
    objs = _json_lines(r.output)
    assert [o["input"] for o in objs] == ["x^T x", "x^T A x"] and r.exit_code == 0


BAD = [b"\x00", b"\xff", b"\xc3\x28", b"\x80", b"\xed\xa0\x80", b"\xf5", b"\xe2\x82"]


def test_a_bad_byte_loses_only_its_statement():
    rng = random.Random(5)
    sup = "⁴".encode() * 4400
    for trial in range(examples(40)):
        lines = [p.encode() for p in rng.sample(PROBLEMS, rng.randint(2, 5))]
        k = rng.randrange(len(lines))
        junk = sup if trial % 8 == 0 else rng.choice(BAD)
        if junk is sup:
            lines[k] = b"x" + sup
        else:
            at = rng.randint(0, len(lines[k]))
            lines[k] = lines[k][:at] + junk + lines[k][at:]
        data = b"".join(line + rng.choice([b"\n", b"\r\n", b"\r"]) for line in lines)
        r = _run("shape", "-", "--format", "json", input=data)
        objs = _json_lines(r.output)
        assert len(objs) == len(lines) and r.exit_code == 2
        for i, (line, obj) in enumerate(zip(lines, objs)):
            if i == k:
                assert obj["ok"] is False and obj["error"]["line"] == i + 1
                assert obj["error"]["type"] == "syntax"
                assert ("UTF-8" in obj["error"]["message"] or "NUL" in obj["error"]["message"]
                        or "too large" in obj["error"]["message"])
                json.dumps(obj, ensure_ascii=False).encode("utf-8")  # no raw bad byte survives
            else:
                assert obj["ok"] is True and obj["input"] == line.decode()


def test_bad_characters_from_the_api_are_errors_of_their_statement():
    text = "x^T x\ny\udcff + 1\nsum(\ud800z)\ntr(A)"
    items = read_document(text)
    assert [type(i) for i in items] == [type(items[0]), MatdiffError, MatdiffError, type(items[0])]
    assert "0xff" in items[1].message and "\ufffd" in items[1].source_line
    assert "U+D800" in items[2].message
    for e in items[1:3]:
        e.source_line.encode("utf-8")
        e.statement.encode("utf-8")


@pytest.mark.parametrize("decl, what", [("h = A x", "a definition"), ("f(t) := t^2", "a function"),
                                        ("x^T x", "an expression"), ("A: n x", None)])
def test_a_bad_declaration_ahead_of_the_input_is_bad_input(decl, what):
    r = _run("grad", "x^T x", "-d", decl, "--format", "json")
    (obj,) = _json_lines(r.output)  # nothing else is solved
    assert r.exit_code == 2 and obj["ok"] is False
    if what:
        assert what in obj["error"]["message"] and "not a declaration" in obj["error"]["message"]


# ---------------------------------------------------------------------------
# Issue 7 §2: a failed redefinition never keeps the old meaning

FAILURES = ["x +", "(x", "x ^ ^", "x + X", ") x"]


def test_a_failed_redefinition_makes_later_uses_errors():
    for kind in ("def", "func"):
        for bad in FAILURES:
            if kind == "def":
                lines = ["X: n x n; x: n", "t1 = 2 x", "sum(t1)", f"t1 = {bad}", "sum(t1)",
                         "t1 = 3 x", "sum(t1)"]
            else:
                if bad == "x + X":
                    continue  # not a function body error of its own kind
                lines = ["X: n x n; x: n", "f(t) := t^2", "sum(f(x))",
                         f"f(t) := {bad.replace('x', 't')}", "sum(f(x))", "f(t) := 3 t", "sum(f(x))"]
            items = read_document("\n".join(lines))
            assert len(items) == 4, (kind, bad)
            first, failed, use, again = items
            assert not isinstance(first, MatdiffError) and not isinstance(again, MatdiffError)
            assert isinstance(failed, MatdiffError) and failed.line == 4
            assert isinstance(use, MatdiffError) and use.line == 5
            assert "line 4" in use.message
            assert (first.definitions, first.functions) != (again.definitions, again.functions)


def test_a_failed_redeclaration_hides_the_old_shape_from_later_statements():
    for bad in ["A: n x n symetric", "A: n x", "A: m x k", "A: n x n,", "A, B: n x n spd x"]:
        lines = ["A: n x n", "h = A x", "tr(A X)", bad, "tr(A)", "sum(h)", "A: n x n spd", "tr(A)"]
        items = read_document("\n".join(lines))
        assert len(items) == 5, bad
        before, failed, use, through_h, again = items
        assert isinstance(failed, MatdiffError) and failed.line == 4
        assert isinstance(use, MatdiffError) and "line 4" in use.message and use.line == 5
        assert not isinstance(through_h, MatdiffError)  # h keeps what it was checked with
        assert not isinstance(again, MatdiffError) and again.symbols["A"].props == {"spd"}
        before.parse("A^T")  # a later failure does not reach back to an earlier problem
