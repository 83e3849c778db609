"""JSON Lines: one report object per line, strict JSON whatever the values.

NaN and infinities (which strict JSON cannot hold) become ``null``; NumPy
scalars and arrays become numbers and nested lists; ``Fraction`` becomes a
float.  Non-ASCII text is written as is when the stream is UTF-8, escaped
otherwise.
"""
from __future__ import annotations

import math
from ..rational import Fraction


def _clean(x):
    """A copy of ``x`` that ``json.dumps(allow_nan=False)`` accepts (iterative)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if not isinstance(x, (dict, list, tuple)):
        return _scalar(x)
    root: list = [None]
    stack = [(root, 0, x)]
    while stack:
        parent, key, value = stack.pop()
        if isinstance(value, dict):
            new: dict | list = {}
            for k, v in value.items():
                new[str(k)] = None
                stack.append((new, str(k), v))
        elif isinstance(value, (list, tuple)):
            new = [None] * len(value)
            for i, v in enumerate(value):
                stack.append((new, i, v))
        elif isinstance(value, float):
            new = value if math.isfinite(value) else None
        else:
            new = _scalar(value)
            if isinstance(new, (list, dict)):
                stack.append((parent, key, new))
                continue
        parent[key] = new
    return root[0]


def _scalar(x):
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, Fraction):
        return float(x)
    tolist = getattr(x, "tolist", None)  # NumPy scalars and arrays
    if tolist is not None:
        return tolist()
    return str(x)


def to_json_line(obj: dict, stream=None) -> str:
    """One line of strict JSON for ``obj``, valid UTF-8 whatever the strings hold."""
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
    ascii_only = encoding != "utf8"
    encode = _ENCODERS.get(ascii_only)
    if encode is None:
        encode = _ENCODERS[ascii_only] = _encoder(ascii_only)
    try:  # the common case: plain JSON values already
        line = encode(obj)
    except (TypeError, ValueError):
        line = encode(_clean(obj))
    return valid_unicode(line)


_ENCODERS: dict = {}   # ascii_only -> the encoder (it keeps no state between calls)


def _encoder(ascii_only: bool):
    """A function writing ``json.dumps(obj, ensure_ascii=ascii_only, allow_nan=False,
    check_circular=False, separators=(", ", ": "))``: the C encoder that
    ``json.JSONEncoder.encode`` itself runs, made once here, so the ``json``
    package (whose decoder imports ``re``: a fifth of a start) is not imported.
    No container is checked for a cycle: a report's object is a tree made for
    its line.  Another Python, without the C encoder, gets ``json``'s own."""
    try:
        from _json import encode_basestring, encode_basestring_ascii, make_encoder

        make = make_encoder(None, _unserialisable,
                            encode_basestring_ascii if ascii_only else encode_basestring,
                            None, ": ", ", ", False, False, False)
    except (ImportError, TypeError):  # pragma: no cover - another implementation
        import json

        return json.JSONEncoder(ensure_ascii=ascii_only, allow_nan=False, check_circular=False,
                                separators=(", ", ": ")).encode
    return lambda obj: "".join(make(obj, 0))


def _unserialisable(obj):
    raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")


def valid_unicode(text: str) -> str:
    """``text`` without lone surrogates (the bytes of a command line that were not
    UTF-8 arrive as surrogates): each becomes U+FFFD, so the output is valid UTF-8."""
    if text.isascii():   # (most lines; a flag of the string, no pass over it)
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
