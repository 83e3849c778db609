"""The plain statements' tokens (found without the lexer's pattern) are the pattern's own."""
import random

from matdiff_cli.lalr import tables
from matdiff_cli.parser import _lex, _plain_tokens

_PIECES = ["A", "B_1", "x", "n", "m", "_2", "_", "scalar", "symmetric", "3", "12", "2e3", "3n",
           "1x", "e", ",", ":", " ", "  ", "abc_9", "T", "_F", "Z9", "(", ")", "+", "-", "/",
           "^", "^T", "^ T", "Tx", "=", ":=", "==", "x^T", "^-1", ".*", ".^", "||", "|", ".", "*",
           "_*", ".^T", ".^ T", "1.5", "_1", "_2.5", "2.", ".5", "(||", "||)", "_1.*"]


def _pattern_tokens(text):
    """What the pattern makes of the text (the plain path switched off)."""
    from matdiff_cli import parser

    saved = parser._plain_tokens
    parser._plain_tokens = lambda *a: None
    try:
        return [(t.type, t.value, t.start, t.end) for t in _lex(tables(), text, 0, len(text))]
    finally:
        parser._plain_tokens = saved


def test_plain_statements_have_the_patterns_tokens():
    rng = random.Random(7)
    plain = 0
    for _ in range(12000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 9)))
        toks = _plain_tokens(text, 0, len(text))
        if toks is not None:
            plain += 1
            assert [(t.type, t.value, t.start, t.end) for t in toks] == _pattern_tokens(text), text
    assert plain > 1000


def test_norms_and_elementwise_operators_are_plain():
    for text in ("||A x - b||^2", "||V2||_F^2", "||x||_1", "sum(a .* x .* x)",
                 "sum(eigvals(X^T X).^2)", "||(||x|| y)||", "2.*x.^-1"):
        toks = _plain_tokens(text, 0, len(text))
        assert toks is not None, text
        assert [(t.type, t.value, t.start, t.end) for t in toks] == _pattern_tokens(text), text


def test_a_plain_statement_inside_a_document_keeps_its_offsets():
    text = "y: 3\n  A_1 ,B:n x 4  symmetric ; c: scalar"
    toks = _plain_tokens(text, 7, text.index(" ;"))
    assert [(t.type, t.value, t.start) for t in toks][:4] == [
        ("NAME", "A_1", 7), ("COMMA", ",", 11), ("NAME", "B", 12), ("COLON", ":", 13)]
    assert [t.value for t in toks] == ["A_1", ",", "B", ":", "n", "x", "4", "symmetric"]


def test_other_statements_are_left_to_the_pattern():
    for text in ("tr(A*B)", "A: n × n", "x: 2e3", "f(t) := 1", "A:\tn", "α: n", "x'", "||x||_*",
                 "||x||_1.5", "x.^T", "|x|", "x.T", "1.5 x"):
        assert _plain_tokens(text, 0, len(text)) is None
