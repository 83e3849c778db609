"""The LALR(1) tables of ``grammar/matdiff.lark``: built once by Lark, cached, verified.

Lark computes the tables once; they are cached (``marshal``, keyed by the
grammar's text, behind a header with the format, matdiff's version and the
SHA-1 of the tables) in the user's cache directory, with the lexer's pattern
compiled to the regular-expression engine's code (used only by the same
engine and Python; compiling it is about 1 ms of each start).  A cache file that
does not verify is rebuilt, so a damaged cache heals on the next run; the
command line does not import Lark at all once the cache is warm.  The driver
that runs the tables is in ``parser.py``.
"""
from __future__ import annotations

import os
import sys

from .syntax import _Builder

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Optional

_FORMAT = 5  # of the cached tables and their file; bump when the driver's expectations change


# ---------------------------------------------------------------------------
# Locating the grammar and its tables


def _grammar_path():
    """``matdiff_cli/grammar/matdiff.lark`` when installed, else ``<repo>/grammar/``.

    The package's own directory is tried first (what ``importlib.resources``
    finds for an ordinary install, without the 25 ms its import costs);
    ``importlib.resources`` serves other loaders (zip files and the like).
    """
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, "grammar", "matdiff.lark"),
                 os.path.join(os.path.dirname(here), "grammar", "matdiff.lark")):
        if os.path.isfile(path):
            return path
    from importlib.resources import files

    return files("matdiff_cli").joinpath("grammar").joinpath("matdiff.lark")


def _grammar_text() -> str:
    path = _grammar_path()
    if isinstance(path, str):
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8")


def _cache_dirs() -> list:
    """Where the tables are cached: $MATDIFF_CACHE_DIR, else the user's cache
    directory, then a private directory under the system's temporary one."""
    d = os.environ.get("MATDIFF_CACHE_DIR")
    if d:
        return [d]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    tmp = os.environ.get("TMPDIR") or os.environ.get("TEMP") or os.environ.get("TMP") or (
        "/tmp" if os.name == "posix" else os.getcwd())
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return [os.path.join(base, "matdiff"), os.path.join(tmp, f"matdiff-{uid}")]


def _owned(directory: str) -> bool:
    """Is the directory ours (not planted by someone else in a shared place)?"""
    if not hasattr(os, "getuid"):
        return True
    try:
        return os.stat(directory).st_uid == os.getuid()
    except OSError:
        return False


def _build_tables(grammar: str) -> dict:
    """LALR(1) tables for the grammar, computed by Lark, as plain data."""
    import re

    from lark import Lark

    class _KeepBars:  # a post-lexer stand-in: keeps the BARS terminal in the tables
        always_accept = ("BARS",)

        def process(self, stream):  # pragma: no cover - never run
            return stream

    lark = Lark(grammar, parser="lalr", lexer="contextual", postlex=_KeepBars())
    table = lark.parser.parser.parser.parse_table
    if not all(isinstance(s, int) for s in table.states):
        from lark.parsers.lalr_analysis import IntParseTable

        table = IntParseTable.from_ParseTable(table)

    rules, index = [], {}
    for r in lark.rules:
        index[r] = len(rules)
        name = str(r.alias or r.origin.name)
        passthrough = not r.alias and r.options.expand1 and len(r.expansion) == 1
        rules.append((str(r.origin.name), len(r.expansion), None if passthrough else name))
    states = {}
    for state, acts in table.states.items():
        row = {}
        for sym, (action, arg) in acts.items():
            row[str(sym)] = ~index[arg] if action.name == "Reduce" else int(arg)
        states[state] = row
    nstates = max(states) + 1

    terms = {t.name: t for t in lark.terminals}
    name_re = re.compile(terms["NAME"].pattern.to_regexp())
    keywords = {}
    lexed = []
    for t in terms.values():
        if t.pattern.type == "str" and name_re.fullmatch(t.pattern.value) and t.name != "NAME":
            keywords[t.pattern.value] = t.name
        elif t.name not in ("NORM_OPEN", "NORM_CLOSE"):
            lexed.append(t)
    lexed.sort(key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
    data = {
        "format": _FORMAT,
        "grammar": grammar,
        "states": [states.get(i, {}) for i in range(nstates)],
        "start": int(table.start_states["start"]),
        "end": int(table.end_states["start"]),
        "rules": rules,
        "terminals": [(str(t.name), str(t.pattern.to_regexp())) for t in lexed],
        "ignore": [str(t) for t in lark.ignore_tokens],
        "keywords": {str(k): str(v) for k, v in keywords.items()},
    }
    data["lexer"] = _lexer_code(_lexer_pattern(data))
    return data


def _lexer_pattern(data: dict) -> str:
    """The lexer's master pattern: blanks and continuations (the grammar's
    %ignore; comments never reach the lexer), then one token or one bad character."""
    ignore = set(data["ignore"])
    parts = [f"(?P<{name}>{rx})" for name, rx in data["terminals"] if name not in ignore]
    parts.append(r"(?P<ERROR>.)")
    return f"{_SKIP}(?:{'|'.join(parts)})"


def _lexer_code(pattern: str):
    """The master pattern compiled to the regular-expression engine's code, kept
    with the tables: compiling it is about 1 ms of every start, loading the code
    some 20 µs.  The code is the interpreter's own (``re``'s internals): it is
    kept with the engine's MAGIC number and the Python version, and used only by
    the same ones (:func:`_compile_lexer`); None where it cannot be had."""
    try:
        import _sre
        import re
        try:
            from re import _compiler, _parser
        except ImportError:  # Python 3.10
            import sre_compile as _compiler
            import sre_parse as _parser
        p = _parser.parse(pattern, re.DOTALL)
        code = _compiler._code(p, re.DOTALL)
        groupindex = dict(p.state.groupdict)
        indexgroup = [None] * p.state.groups
        for k, i in groupindex.items():
            indexgroup[i] = k
        return (_sre.MAGIC, tuple(sys.version_info[:2]), pattern, int(re.DOTALL | p.state.flags),
                [int(c) for c in code], p.state.groups - 1, groupindex, tuple(indexgroup))
    except Exception:  # another implementation of re: the pattern is compiled at each start
        return None


def _compile_lexer(pattern: str, cached) -> re.Pattern:
    """The compiled master pattern: from the cached code when it was made for
    this pattern by this engine and Python (the engine checks the code), else
    compiled here (``re`` is imported only then: it costs a fifth of a start;
    a pattern it refuses is a ValueError)."""
    if isinstance(cached, tuple) and len(cached) == 8:
        try:
            import _sre

            magic, version, text, flags, code, groups, groupindex, indexgroup = cached
            if (magic == _sre.MAGIC and version == tuple(sys.version_info[:2])
                    and text == pattern and type(code) is list):
                return _sre.compile(pattern, flags, code, groups, groupindex, indexgroup)
        except Exception:  # code the engine refuses: compile the pattern instead
            pass
    import re

    try:
        return re.compile(pattern, re.DOTALL)
    except re.error as e:
        raise ValueError(f"the lexer's pattern: {e}") from e


def _load_tables(trust_cache: bool = True) -> dict:
    """The cached tables for the current grammar (built and saved on a miss).

    A cache file that does not verify (see :func:`_decode_cache`) is never
    trusted: the tables are built again and the file replaced atomically.  A
    path that is not a regular file (a directory, a FIFO, a device) is never
    read, and the tables are kept in memory when it cannot be replaced.
    """
    import marshal

    grammar = _grammar_text()
    name = f"matdiff-lalr-{_FORMAT}-{_digest(grammar.encode('utf-8'))[:8]}.marshal"
    dirs = _cache_dirs()
    for d in dirs if trust_cache else ():
        if not _owned(d):
            continue
        blob = _read_cache(os.path.join(d, name))
        data = _decode_cache(blob, grammar) if blob is not None else None
        if data is not None:
            return data
    data = _build_tables(grammar)
    payload = marshal.dumps(data)
    blob = _cache_header(payload) + payload
    for d in dirs:
        try:
            os.makedirs(d, mode=0o700, exist_ok=True)
            if not _owned(d):
                continue
            path = os.path.join(d, name)
            tmp = f"{path}.{os.getpid()}.tmp"
            try:
                if os.path.lexists(tmp):
                    os.remove(tmp)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(blob)
                os.replace(tmp, path)  # atomic; fails on a directory (kept in memory)
            finally:
                if os.path.lexists(tmp):
                    os.remove(tmp)
        except (OSError, ValueError):  # read-only: try the next place, or keep them in memory
            continue
        for old in os.listdir(d):  # tables of earlier grammars
            if old.startswith("matdiff-lalr-") and old != name and not old.endswith(".tmp"):
                try:
                    os.remove(os.path.join(d, old))
                except OSError:
                    pass
        break
    return data


_MAGIC = b"matdiff-lalr"
#: the largest cache file read (the tables are about 20 KB)
_MAX_CACHE_BYTES = 4 << 20


def _cache_header(payload: bytes) -> bytes:
    """``matdiff-lalr <format> <version> <length> <sha1>`` and a newline.

    The SHA-1 of the payload (:func:`_digest`): a damaged file is caught unless
    the damage keeps the SHA-1, and then the structure is still checked."""
    from . import __version__

    return b"%s %d %s %d %s\n" % (_MAGIC, _FORMAT, __version__.encode("ascii"), len(payload),
                                  _digest(payload).encode("ascii"))


def _digest(data: bytes) -> str:
    """The SHA-1 of ``data`` in hex, by the interpreter's own ``_sha1`` (which
    the simplifier's digest loads anyway): neither ``hashlib``, which loads
    OpenSSL, nor ``zlib`` is imported on the start-up path for it."""
    try:
        from _sha1 import sha1
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import sha1
    return sha1(data).hexdigest()


def _read_cache(path: str) -> Optional[bytes]:
    """The bytes of the cache file at ``path`` when it is a regular file of a
    sane size; None for anything else (missing, a directory, a FIFO, a device).

    The file is opened without blocking (a FIFO would block ``open``) and
    checked with ``fstat`` on the opened descriptor before anything is read.
    """
    import stat

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_CACHE_BYTES:
            return None
        fd = os.open(path, flags)
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)  # what was opened, not what was looked at
        if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_CACHE_BYTES:
            return None
        chunks, size = [], 0
        while size <= _MAX_CACHE_BYTES:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        return None
    except OSError:
        return None
    finally:
        os.close(fd)


def _decode_cache(blob: bytes, grammar: str) -> Optional[dict]:
    """The tables in a cache file's bytes, or None unless every check passes:
    the header (format, matdiff's version, length, checksums of the payload),
    then the payload's structure and the grammar it was built from."""
    import marshal

    nl = blob.find(b"\n", 0, 200)
    if nl < 0:
        return None
    payload = blob[nl + 1:]
    if blob[:nl + 1] != _cache_header(payload):
        return None
    try:
        data = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    return data if _valid_tables(data, grammar) else None


def _valid_tables(data, grammar: str) -> bool:
    """Has ``data`` the structure ``_Tables`` and the driver rely on?"""
    if not (isinstance(data, dict) and data.get("format") == _FORMAT and data.get("grammar") == grammar):
        return False
    states, rules = data.get("states"), data.get("rules")
    terminals, ignore, keywords = data.get("terminals"), data.get("ignore"), data.get("keywords")
    start, end = data.get("start"), data.get("end")
    if not (isinstance(states, list) and isinstance(rules, list) and isinstance(terminals, list)
            and isinstance(ignore, list) and isinstance(keywords, dict) and states and rules):
        return False
    n, m = len(states), len(rules)
    if not (type(start) is int and type(end) is int and 0 <= start < n and 0 <= end < n):
        return False
    for r in rules:
        if not (type(r) is tuple and len(r) == 3 and type(r[0]) is str and type(r[1]) is int
                and r[1] >= 0 and (r[2] is None or (type(r[2]) is str and hasattr(_Builder, r[2])))):
            return False
    for row in states:
        if type(row) is not dict:
            return False
        for sym, act in row.items():
            if type(sym) is not str or type(act) is not int or not -m <= act < n:
                return False
    for t in terminals:
        if not (type(t) is tuple and len(t) == 2 and type(t[0]) is str and type(t[1]) is str
                and t[0].isidentifier()):
            return False
    return (all(type(s) is str for s in ignore)
            and all(type(k) is str and type(v) is str for k, v in keywords.items()))


class _Tables:
    """The loaded tables, the lexer's master pattern and the bound reductions."""

    def __init__(self, data: dict):
        self.states = data["states"]
        self.start = data["start"]
        self.end = data["end"]
        self.rules = data["rules"]
        self.keywords = data["keywords"]
        self.master = _compile_lexer(_lexer_pattern(data), data.get("lexer"))
        # each rule as the driver reduces it: (origin, size, the _Builder method or None),
        # the method looked up once (a statement passes it its builder)
        self.reductions = [(origin, size, None if cb is None else getattr(_Builder, cb))
                           for (origin, size, cb) in self.rules]
        # (state below, ?rule's origin, lookahead) -> the state after every ?rule with one
        # child that follows (parser._passed); filled as met, at most one per table cell
        self.passes: dict = {}


_SKIP = r"(?:[ \t\f\r\u00a0]|\\[ \t]*\r?\n)*" + ("+" if sys.version_info >= (3, 11) else "")

_TABLES: Optional[_Tables] = None


def tables() -> _Tables:
    global _TABLES
    if _TABLES is None:
        try:
            _TABLES = _Tables(_load_tables())
        except (LookupError, TypeError, ValueError):  # cached tables that passed every
            _TABLES = _Tables(_load_tables(trust_cache=False))  # check but do not load: rebuilt
    return _TABLES

