"""The common command lines run without ``re`` (which imports ``enum``) and ``json``.

Together they are a fifth of a text gradient's start when the console script
does not import ``re`` itself (pip writes such scripts since version 25).  The
patterns matdiff ran on every document are read with string methods instead,
and a JSON line is written by the C encoder that ``json`` runs.  Each
replacement is checked here against the pattern or the function it replaced, on
random and adversarial text; the command lines are run in a fresh interpreter
without ``site`` (an editable install's path finder imports ``re`` itself).
"""
from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matdiff_cli.literals import number_parts
from matdiff_cli.ops.base import template_parts
from matdiff_cli.source import Source, _readable
from matdiff_cli.render.json import _clean, to_json_line
from matdiff_cli.render.latex import _latex_name, _word
from matdiff_cli.shapes.scope import GREEK_NAMES, name_class

ROOT = Path(__file__).resolve().parent.parent
NOT_AT_START = {"re", "enum", "json"}


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("doc", [
    "A: n x n\nX: n x m\ntr(X^T A X) + sum(X .* X) - 2.5e-1 ||X||_F^2\n",
    "x: n\nβ_1 x^T x + ‖x‖²\nlambda2 sum(exp(x))\n",   # Unicode, spelled-out Greek
])
def test_a_gradient_imports_neither_re_nor_json(fmt, doc, tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text(doc, encoding="utf-8")
    code = "from matdiff_cli.cli import main; main()"
    argv = [sys.executable, "-S", "-X", "importtime", "-c", code, "grad", "-f", str(path),
            "--wrt", "X" if "X" in doc else "x", "--format", fmt]
    env = {"MATDIFF_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    warm = [a for a in argv if a != "-S"]   # (building the tables needs Lark, from site)
    subprocess.run(warm, capture_output=True, cwd=ROOT, timeout=60, env=env, check=True)
    p = subprocess.run(argv, capture_output=True, cwd=ROOT, timeout=60, env=env)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in p.stderr.decode().splitlines() if line.startswith("import time:")}
    assert "matdiff_cli" in imported  # the measurement itself works
    assert not imported & NOT_AT_START, sorted(imported & NOT_AT_START)
    if fmt == "json":
        assert all(json.loads(line)["ok"] for line in p.stdout.decode().splitlines())


# ---------------------------------------------------------------- each pattern replaced

_NUMBER = r"([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?)([0-9]+))?"
_number_text = st.text(alphabet="0123456789.eE+-x٣ ", max_size=12)


@settings(max_examples=300, deadline=None)
@given(_number_text)
def test_number_parts_reads_what_the_pattern_did(text):
    m = re.fullmatch(_NUMBER, text)
    assert number_parts(text) == (None if m is None else m.groups())


@pytest.mark.parametrize("text", ["", ".", "2", ".5", "5.", "1e3", "1E+3", "2.50E-02", "1e",
                                  "1e+", "e5", "1.2.3", "1e5e5", "0x1", "١٢"])
def test_number_parts_on_the_edges(text):
    m = re.fullmatch(_NUMBER, text)
    assert number_parts(text) == (None if m is None else m.groups())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{a:}bx_1é ", max_size=16))
def test_template_parts_split_as_the_pattern_did(template):
    assert template_parts(template) == [p for p in re.split(r"(\{a(?::\w+)?\})", template) if p]


def _old_name_class(name: str) -> str:
    c = name[0]
    if "\u0370" <= c <= "\u03ff" or "\u1f00" <= c <= "\u1fff":
        return "matrix" if c.isupper() else "scalar"
    if c.isupper():
        return "matrix"
    m = re.match(r"[a-z]+", name)
    if m and m.group() in GREEK_NAMES and (m.end() == len(name) or name[m.end()] in "_0123456789"):
        return "scalar"
    return "vector"


_greekish = st.one_of(st.sampled_from(sorted(GREEK_NAMES)), st.text("abelmt", min_size=1, max_size=6))


@settings(max_examples=300, deadline=None)
@given(_greekish, st.text(alphabet="_019aZé'", max_size=4))
def test_name_class_infers_as_the_pattern_did(head, tail):
    name = head + tail
    assert name_class(name) == _old_name_class(name)


def _old_latex_name(name: str) -> str:
    head, sep, tail = name.partition("_")
    if not sep:
        m = re.fullmatch(r"([^\W\d_]+)(\d+)", name)
        if m is None:
            return _word(name)
        head, tail = m.groups()
    if not head or not tail:
        return _word(name)
    return _word(head) + "_{" + _word(tail) + "}"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="Wxβ12٣²Ⅻ_'é", min_size=1, max_size=6))
def test_latex_names_are_written_as_the_pattern_did(name):
    assert _latex_name(name) == _old_latex_name(name)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \n\0é‖") + ["\ud800", "\udcff", "\U0001f600"]),
               max_size=10))
def test_readable_is_the_bad_character_search(text):
    assert _readable(text) == (re.search("[\x00\ud800-\udfff]", text) is None)
    src = Source(text)
    assert src._line_starts() == [0] + [m.end() for m in re.finditer("\n", text)]


# ---------------------------------------------------------------- the JSON line

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                  max_size=4),
    max_leaves=12)


class _Stream:
    def __init__(self, encoding):
        self.encoding = encoding


@settings(max_examples=200, deadline=None)
@given(_json_values, st.sampled_from(["utf-8", "ascii"]))
def test_a_json_line_is_what_json_dumps_writes(obj, encoding):
    expected = json.dumps(obj, ensure_ascii=encoding != "utf-8", allow_nan=False,
                          separators=(", ", ": "))
    assert to_json_line(obj, _Stream(encoding)) == expected


def test_a_json_line_with_values_json_refuses_is_cleaned_as_before():
    obj = {"x": [math.nan, math.inf, 1.5], "f": object.__new__(type("Odd", (), {}))}
    line = to_json_line(obj)
    assert line == json.dumps(_clean(obj), allow_nan=False, separators=(", ", ": "))
    assert json.loads(line)["x"] == [None, None, 1.5]
