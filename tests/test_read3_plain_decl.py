"""Plain declarations are declared from their words (``Document._plain_decl``),
without tokens or a node: every document reads as it does with that path off,
errors included (a declaration that would fail is read as usual)."""
from __future__ import annotations

import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from cookbook import GRADIENTS  # noqa: E402

from matdiff_cli import document  # noqa: E402
from matdiff_cli.document import read_document  # noqa: E402
from reading import assert_reads_as_without  # noqa: E402


def _same(text: str, monkeypatch, declare=()) -> None:
    assert_reads_as_without("_plain_decl", text, monkeypatch, declare)


DOCUMENTS = [
    "\n".join(line for _, decls, src, _, _ in GRADIENTS for line in [*decls, src]),
    # numbers, scalar, properties, repeats with more properties
    "A: 3 x 3 symmetric\nz: 007\nw: 12\ns: scalar\ntr(A) + s + z^T w\n",
    "A: n x n\nA: n x n symmetric\nA: n x n spd diagonal\nB, C: n x n\ntr(A B C)",
    "s: scalar symmetric\nt: 1 x 1\nu: 1\ns t u",
    "  A_1 ,B_1 :  n  x  m  \nA_1: n x m\nx: m\nA_1 x + B_1 x",
    "A, A: n x n\nA, A: n x n orthogonal\ntr(A)",
    # failures: worded by the full reader
    "A: n x m symmetric\nA: n x n symmetrik\nz: 0\nz: 00 x 3\ns: n x scalar\nt: scalar x n\nA",
    "A: n x n\nA: n x m\nA: m x m\ntr(A)",
    "I: n x n\nT: n\nx: 9999999999999999999\nx: 1234567890123456\ntr(I)",
    "f(t) := t^2\nf: n\nh = 2\nh: n\nsum(f(x)) + h",
    "x: n\nh = x^T x\nx: n\nx: m\nh",
    "c = b\nb: m\nb: m\nb: n\nc",
    "A: n x\nA: n x m x k\nA: x x n\nB: n T\nA, : n\n: n\nA: \ntr(A)",
    "A: n x n\nA: n x n\nA: n x m; tr(A)\nA: n x n\ntr(A)",
    "n: n x n\nn: n\nm, k: m x k\ntr(n m)",
]


def test_documents_read_as_with_the_path_off(monkeypatch):
    for text in DOCUMENTS:
        _same(text, monkeypatch)
    _same("A: n x n\ntr(A)\nB: m x m", monkeypatch, declare=["A: n x n", "B: m x m symmetric"])
    _same("tr(A)", monkeypatch, declare=["A: n x m symmetric"])


def test_plain_declarations_are_not_parsed(monkeypatch):
    calls = []
    read = document.parse_statement
    monkeypatch.setattr(document, "parse_statement", lambda src, s, e: calls.append(s) or read(src, s, e))
    read_document("V: n x n\ntr(V)\nA_1, B_1: n x n\ndet(A_1 V B_1)\nV: n x n symmetric\nV: n x n"
                  "\nB: n x m symmetric\nB")
    # the two expressions, and the declaration that fails (its error worded by the reader)
    assert len(calls) == 4


def test_random_declarations_read_as_with_the_path_off(monkeypatch):
    import random

    rng = random.Random(3)
    names = ["A", "B", "x", "I", "T", "f", "h", "s", "A_1", "n", "sum"]
    dims = ["n", "m", "3", "1", "0", "01", "scalar", "x", "T", "k2"]
    props = ["symmetric", "spd", "diagonal", "orthogonal", "symetric", "x", "T"]
    for _ in range(300):
        lines = ["f(t) := t^2", "h = 2"]
        for _ in range(rng.randint(1, 8)):
            head = ", ".join(rng.sample(names, rng.randint(1, 3)))
            shape = " x ".join(rng.choice(dims) for _ in range(rng.randint(1, 2)))
            tail = " ".join(rng.choice(props) for _ in range(rng.choice([0, 0, 1, 2])))
            lines.append(f"{head}: {shape} {tail}".rstrip())
            if rng.random() < 0.3:
                lines.append(rng.choice(["tr(A B)", "x^T A x", "s", "sum(x)", "h + s"]))
        lines.append("A")
        _same("\n".join(lines), monkeypatch)
