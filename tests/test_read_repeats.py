"""A declaration repeated word for word is skipped when it would change nothing
(``Document._repeated``): every document reads as it does with the shortcut off."""
from __future__ import annotations

import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from cookbook import GRADIENTS  # noqa: E402

from matdiff_cli import document  # noqa: E402
from matdiff_cli.document import read_document  # noqa: E402
from reading import assert_reads_as_without  # noqa: E402


def _same(text: str, monkeypatch, declare=()) -> None:
    assert_reads_as_without("_repeated", text, monkeypatch, declare)


DOCUMENTS = [
    # a batch: each problem with its declarations, V: n x n again and again
    "\n".join(line for _, decls, src, _, _ in GRADIENTS for line in [*decls, src]),
    # a repeat after a failed redeclaration, a definition, a function, more properties
    "A: n x n\ntr(A)\nA: n x m\ntr(A)\nA: n x n\ntr(A)\nA: n x n symmetric\nA: n x n\ntr(A)",
    "x: n\nh = x^T x\nx: n\nh\nh: n\nx: n\nh = 2\nx: n\nx^T x",
    "f(t) := t^2\nf: n\nf: n\nsum(f(x))\nb: m\nb: m\nc = b\nb: m\nb^T b",
    "A, B: n x n\nA: n x n\nA, B: n x n\nB: m x m\nA, B: n x n\ntr(A B)",
    "s: scalar\ns: scalar\ns^2\nI: n x n\nI: n x n\nT: n\nT: n\nz: 3\nz: 3\nz: 2\nz^T z",
]


def test_documents_read_as_without_the_shortcut(monkeypatch):
    for text in DOCUMENTS:
        _same(text, monkeypatch)
    _same("A: n x n\ntr(A)\nA: n x n", monkeypatch, declare=["A: n x n", "A: n x n"])


def test_the_shortcut_skips_a_repeated_declaration_unread(monkeypatch):
    parsed, declared = [], []
    read = document.parse_statement
    monkeypatch.setattr(document, "parse_statement", lambda src, s, e: parsed.append(s) or read(src, s, e))
    plain = document.Document._plain_decl
    monkeypatch.setattr(document.Document, "_plain_decl",
                        lambda self, *a: declared.append(a) or plain(self, *a))
    read_document("V: n x n\ntr(V)\nV: n x n\ndet(V)\nV: n x n symmetric\nV: n x n")
    assert len(parsed) == 2   # the two expressions: plain declarations are read from their words
    assert len(declared) == 2   # the repeats of `V: n x n` are not read at all; the new one is
