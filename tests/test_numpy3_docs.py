"""The NumPy rules' small Docs (``a @ b``, ``X.T``, ``f(x)``, brackets) are made
without Doc's constructor: each must equal the Doc the constructor makes."""
from matdiff_cli.render import MAX_JOINED, Deferred, Doc, leaf, paren
from matdiff_cli.render.numpy.base import ATOM, MUL, NEG, at_least, binary, call, postfix


def _same(a: Doc, b: Doc) -> None:
    """Equal Docs, part by part (a bracket's Doc is made anew each time)."""
    assert (a.level, a.node, a.neg, a.chain, a.bars, a.text, len(a.parts)) == \
        (b.level, b.node, b.neg, b.chain, b.bars, b.text, len(b.parts))
    for p, q in zip(a.parts, b.parts):
        if type(p) is Doc and p is not q:
            _same(p, q)
        else:
            assert p is q or p == q


def _docs():
    short = leaf(ATOM, "X")
    long_ = leaf(ATOM, "Y" * MAX_JOINED)   # joined texts past the limit are None
    loose = Doc(MUL, (short, " * ", short))   # needs brackets as an atom
    untexted = Doc(ATOM, (Deferred(ValueError("no")),))   # a part without a text
    return [short, long_, loose, untexted]


def test_binary_is_the_constructors_doc():
    for a in _docs():
        for b in _docs():
            for node in (None, "node"):
                _same(binary(MUL, a, " @ ", b, node), Doc(MUL, (a, " @ ", b), node))


def test_postfix_call_and_brackets_are_the_constructors_docs():
    for d in _docs():
        _same(postfix(d, ".T", "n"), Doc(ATOM, (at_least(d, ATOM), ".T"), "n"))
        _same(call("np.log", d, node="n"), Doc(ATOM, ("np.log", "(", d, ")"), "n"))
        _same(call("np.sum", d, d), Doc(ATOM, ("np.sum", "(", d, ", ", d, ")")))
        if d.level < NEG:
            _same(at_least(d, NEG), paren(d, ATOM))
        else:
            assert at_least(d, NEG) is d
    _same(call("np.reshape", "(1, 1)"), Doc(ATOM, ("np.reshape", "(", "(1, 1)", ")")))
