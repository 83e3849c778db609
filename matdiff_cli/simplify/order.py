"""The canonical order of terms and factors: a stable structural digest per node (the
same across runs), tree sizes, and the keys that sort terms and pick rotations."""
from __future__ import annotations

from ..expr import Diff, Expr, Mul, Num, Sym, Transpose
from ..expr import postorder_missing as _postorder_missing

try:  # the interpreter's own SHA-1: hashlib would load OpenSSL for this one digest
    from _sha1 import sha1 as _sha1
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import sha1 as _sha1

# ---------------------------------------------------------------- ordering

_info: dict = {}
_CAP = 10 ** 9


def info(e: Expr) -> tuple:
    """(digest, tree size, first symbol name, contains a differential), memoised.

    The digest is a stable structural fingerprint (the same across runs), so that
    sorting never depends on memory addresses.  One walk fills all four."""
    hit = _info.get(e)
    if hit is not None:
        return hit
    todo = [e] if all(c in _info for c in e.children) else _postorder_missing(e, _info)
    for node in todo:
        data = [type(node).__name__]
        size, lead, has_diff = 1, "", isinstance(node, Diff)
        for a in node.args:
            if isinstance(a, Expr):
                d, sz, ld, hd = _info[a]
                data.append(d)
                size += sz
                lead = lead or ld
                has_diff = has_diff or hd
            elif isinstance(a, frozenset):
                data.append(",".join(sorted(a)))
            else:
                data.append(repr(a))
        if isinstance(node, Sym):
            lead = node.name
        digest_ = _sha1("|".join(data).encode()).hexdigest()[:16]
        _info[node] = (digest_, min(size, _CAP), lead, has_diff)
    return _info[e]


def digest(e: Expr) -> str:
    return info(e)[0]


def tree_size(e: Expr) -> int:
    return info(e)[1]


def lead_name(e: Expr) -> str:
    """The first symbol name read left to right ('' for none)."""
    return info(e)[2]


def contains_diff(e: Expr) -> bool:
    return info(e)[3]


_keys: dict = {}


def sort_key(e: Expr):
    """Terms: positive before negative (x - A s), then by first symbol, size and structure."""
    key = _keys.get(e)
    if key is None:
        negative = isinstance(e, Mul) and isinstance(e.factors[0], Num) and e.factors[0].value < 0
        key = _keys[e] = (isinstance(e, Num), contains_diff(e), negative, lead_name(e),
                          tree_size(e), digest(e))
    return key

def _diff_rank(chain: list) -> int:
    if isinstance(chain[-1], Diff):
        return 0
    if not any(contains_diff(f) for f in chain):
        return 1
    return 2 if not contains_diff(chain[-1]) else 1


def _chain_key(chain: list):
    """Rotations and 1x1 products: dX last, fewer transposes, a transpose first
    (tr(X^T A X B), not tr(A X B X^T)), then by structure."""
    return (_diff_rank(chain), sum(isinstance(f, Transpose) for f in chain),
            not isinstance(chain[0], Transpose), [sort_key(f)[2:] for f in chain])
