"""Text -> syntax nodes: statements, a table-driven LALR(1) parser, errors with carets.

The language is ``grammar/matdiff.lark``.  Lark computes its LALR(1) tables
once; they are cached (``marshal``, keyed by the grammar's text, behind a
header with the format, matdiff's version and checksums of the tables) in the
user's cache directory, and a small driver below runs them.  A cache file that
does not verify is rebuilt, so a damaged cache heals on the next run.  So the command line does
not import Lark at all once the cache is warm, and starts in a few
milliseconds; a cold cache costs one Lark build (under a tenth of a second).

A document is split into statements first (newlines and ``;``, ``\\`` joins
lines, ``#`` starts a comment), so a statement with an error loses nothing
else.  Every ``||`` / ``‖`` is made a NORM_OPEN or NORM_CLOSE: it closes the
innermost norm opened at the same parenthesis depth, otherwise it opens one.

The result of parsing one statement is a :class:`Node` tree (``kind``,
``kids``, ``val``, character span).  Chains are flat and built in place
(``a + b - c`` is one ``add`` node, ``2 A X / 3 B`` one ``chain`` node with its
operators), so parsing is linear in the length of the input, and no node is
nested deeper than ``MAX_DEPTH`` (parentheses count): deeper input is an error,
never a ``RecursionError`` later.
"""
from __future__ import annotations

import os
import re
import sys
from fractions import Fraction

from .errors import MatdiffError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Optional

#: The deepest nesting the parser accepts (a level per operator, call or
#: parenthesis).  Real expressions stay far below; the rest of matdiff walks
#: expressions recursively in places, so this also keeps it safe.
MAX_DEPTH = 200

#: The longest statement matdiff reads (parsing is linear, about 2 µs a character).
MAX_STATEMENT = 100_000

_FORMAT = 4  # of the cached tables and their file; bump when the driver's expectations change


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
    return {
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


def _load_tables(trust_cache: bool = True) -> dict:
    """The cached tables for the current grammar (built and saved on a miss).

    A cache file that does not verify (see :func:`_decode_cache`) is never
    trusted: the tables are built again and the file replaced atomically.  A
    path that is not a regular file (a directory, a FIFO, a device) is never
    read, and the tables are kept in memory when it cannot be replaced.
    """
    import marshal
    import zlib

    grammar = _grammar_text()
    name = f"matdiff-lalr-{_FORMAT}-{zlib.crc32(grammar.encode('utf-8')):08x}.marshal"
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
    """``matdiff-lalr <format> <version> <length> <crc32>-<adler32>`` and a newline.

    Two 32-bit checksums of the payload (zlib's, already imported: hashlib
    would cost the start-up several milliseconds): every flip of one to three
    bits and every burst of up to 32 is caught for sure, other damage with a
    chance of 1 in 2^64 of passing, and then the structure is still checked."""
    import zlib

    from . import __version__

    return b"%s %d %s %d %08x-%08x\n" % (_MAGIC, _FORMAT, __version__.encode("ascii"), len(payload),
                                         zlib.crc32(payload), zlib.adler32(payload))


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
        ignore = set(data["ignore"])
        parts = [f"(?P<{name}>{rx})" for name, rx in data["terminals"] if name not in ignore]
        parts.append(r"(?P<ERROR>.)")
        # blanks and continuations (the grammar's %ignore; comments never reach
        # the lexer), then one token or one bad character
        self.master = re.compile(f"{_SKIP}(?:{'|'.join(parts)})", re.DOTALL)
        # the reduction of each rule, looked up once (a statement binds them to its builder)
        self.reductions = [None if cb is None else getattr(_Builder, cb) for (_, _, cb) in self.rules]


_SKIP = r"(?:[ \t\f\r\u00a0]|\\[ \t]*\r?\n)*" + ("+" if sys.version_info >= (3, 11) else "")

_TABLES: Optional[_Tables] = None


def tables() -> _Tables:
    global _TABLES
    if _TABLES is None:
        try:
            _TABLES = _Tables(_load_tables())
        except (re.error, LookupError, TypeError, ValueError):  # cached tables that passed every
            _TABLES = _Tables(_load_tables(trust_cache=False))  # check but do not load: rebuilt
    return _TABLES


# ---------------------------------------------------------------------------
# Source text: offsets -> line and column, errors with spans


class Source:
    """A text and what errors need of it: lines, columns and statement text."""

    def __init__(self, text: str):
        # every line ending is a line break: \r\n (Windows) and a lone \r (old Mac)
        self.text = text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
        self._starts: Optional[list] = None

    def _line_starts(self) -> list:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        return self._starts

    def locate(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        from bisect import bisect_right

        starts = self._line_starts()
        i = bisect_right(starts, offset) - 1
        return i + 1, offset - starts[i] + 1

    def line_text(self, line: int) -> str:
        starts = self._line_starts()
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def statement(self, start: int, end: int) -> str:
        """A statement's own text: continuation lines joined, outer blanks dropped."""
        return _CONTINUATION.sub(" ", self.text[start:end]).strip()

    def error(self, kind: str, message: str, start: int, end: int, hint: Optional[str] = None,
              span: Optional[tuple] = None) -> MatdiffError:
        """A MatdiffError for the characters ``start:end`` (of the statement ``span``)."""
        line, col = self.locate(start)
        text = self.line_text(line)
        if end <= start:
            end = start + 1
        end_col = min(col + (end - start), len(text) + 2)
        stmt = self.statement(*span) if span else None
        if _BAD_CHAR.search(text) or (stmt and _BAD_CHAR.search(stmt)):  # shown, never written raw
            text = _BAD_CHAR.sub("\ufffd", text)
            stmt = _BAD_CHAR.sub("\ufffd", stmt) if stmt else stmt
        return MatdiffError(kind, message, line=line, column=col, end_column=end_col,
                            source_line=text, hint=hint, statement=stmt)


#: characters that make a statement unreadable: NUL, and the lone surrogates that
#: stand for bytes that are not UTF-8 (text decoded with errors="surrogateescape")
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def _bad_char_error(src: "Source", at: int, span) -> MatdiffError:
    c = src.text[at]
    if c == "\0":
        return src.error("syntax", "the input contains a NUL byte", at, at + 1,
                         "is this a binary file? matdiff reads text", span=span)
    o = ord(c)
    what = f"byte 0x{o - 0xDC00:02x}" if 0xDC80 <= o <= 0xDCFF else f"the lone surrogate U+{o:04X}"
    return src.error("syntax", f"{what} is not valid UTF-8", at, at + 1,
                     "save the input as UTF-8", span=span)


_CONTINUATION = re.compile(r"[ \t]*\\[ \t]*\r?\n[ \t]*")
_SPLIT = re.compile(r"[\n;#\\]")
_CONT_AT = re.compile(r"\\[ \t]*\r?\n")


def split_statements(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every non-blank statement: split at newlines and ``;``,
    lines ending in ``\\`` joined, ``#`` comments dropped."""
    out = []
    start = 0
    pos = 0
    n = len(text)
    while True:
        m = _SPLIT.search(text, pos)
        if m is None:
            out.append((start, n))
            break
        c = m.group()
        if c == "\\":
            cont = _CONT_AT.match(text, m.start())
            pos = cont.end() if cont else m.end()
            continue
        out.append((start, m.start()))
        if c == "#":
            nl = text.find("\n", m.end())
            if nl < 0:
                break
            start = pos = nl + 1
        else:
            start = pos = m.end()
    result = []
    for s, e in out:
        while s < e and text[s] in " \t\r\f\u00a0":
            s += 1
        while e > s and text[e - 1] in " \t\r\f\u00a0":
            e -= 1
        if s < e and not _CONTINUATION.fullmatch(text, s, e):
            result.append((s, e))
    return result


# ---------------------------------------------------------------------------
# Syntax nodes


class Node:
    """A syntax node.  ``kind`` names the form; ``kids`` are child nodes;
    ``val`` holds the form's data; ``start:end`` is its span in the source;
    ``paren`` is set when the node was written in parentheses."""

    __slots__ = ("kind", "kids", "val", "start", "end", "depth", "paren", "extra")

    def __init__(self, kind, kids, val, start, end, depth=1, extra=None):
        self.kind = kind
        self.kids = kids
        self.val = val
        self.start = start
        self.end = end
        self.depth = depth
        self.paren = False
        self.extra = extra

    def __repr__(self):  # for debugging and test failures
        inner = ", ".join(repr(k) for k in self.kids)
        return f"{self.kind}({self.val!r}{', ' if inner else ''}{inner})"


class Token:
    __slots__ = ("type", "value", "start", "end")

    def __init__(self, type, value, start, end):
        self.type = type
        self.value = value
        self.start = start
        self.end = end

    def __repr__(self):
        return f"Token({self.type}, {self.value!r})"


class _TooDeep(Exception):
    def __init__(self, start, end):
        self.start, self.end = start, end


#: chain operators: token type -> operation
_CHAIN_OPS = {"STAR": "mul", "SLASH": "div", "HADAMARD": "had", "EDIV": "ediv", "KRON": "kron"}
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


# ---------------------------------------------------------------------------
# Numbers

#: The range of numbers matdiff reads: what an IEEE double holds (answers are
#: evaluated in doubles), from the smallest subnormal to the largest finite
#: value, with at most MAX_DIGITS significant digits (a double keeps 17).
#: A literal outside it is refused; reading one costs time linear in its
#: length, whatever its exponent (``1e999999999`` is never computed).
MAX_NUMBER = Fraction(sys.float_info.max)
MIN_NUMBER = Fraction(5e-324)
MAX_DIGITS = 100

_NUMBER_PARTS = re.compile(r"([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?)([0-9]+))?")


class NumberError(ValueError):
    """A number matdiff does not read: ``message`` and ``hint`` in words."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


def read_number(text: str) -> Fraction:
    """The exact value of a number literal (``2``, ``.5``, ``1e-3``, ``2.50E+2``).

    Raises :class:`NumberError` for a literal beyond the range of a double or
    with more than ``MAX_DIGITS`` significant digits; the work is linear in
    ``len(text)`` (no power of ten beyond the range is ever formed)."""
    m = _NUMBER_PARTS.fullmatch(text)
    if m is None or not (m.group(1) or m.group(2)):
        raise NumberError(f"'{_clip(text)}' is not a number", "write a number as 2, 0.5, .5 or 1e-3")
    whole, frac, sign, exp = m.group(1), m.group(2) or "", m.group(3), m.group(4) or "0"
    digits = (whole + frac).lstrip("0")
    if not digits:
        return Fraction(0)
    sig = digits.rstrip("0")
    exp = exp.lstrip("0") or "0"
    if len(exp) > 20:  # far beyond any input's length: out of range either way
        big = 10 ** 20
        e10 = -big if sign == "-" else big
    else:
        e10 = -int(exp) if sign == "-" else int(exp)
    scale = e10 - len(frac) + (len(digits) - len(sig))  # value = int(sig) * 10**scale
    lead = scale + len(sig) - 1  # the decimal exponent of the leading digit
    shown = _clip(text)
    if lead > 308:
        raise _too_large(shown)
    if lead < -324:
        raise _too_small(shown)
    if len(sig) > MAX_DIGITS:
        raise NumberError(f"{shown} has {len(sig):,} significant digits; matdiff reads at most "
                          f"{MAX_DIGITS}", "a double keeps about 17 significant digits: round the number")
    value = Fraction(int(sig) * 10 ** scale) if scale >= 0 else Fraction(int(sig), 10 ** -scale)
    if value > MAX_NUMBER:
        raise _too_large(shown)
    if value < MIN_NUMBER:
        raise _too_small(shown)
    return value


def _clip(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[:width - 4] + "..." + text[-3:]


def _too_large(shown: str) -> NumberError:
    return NumberError(f"{shown} is too large: it is beyond the largest double "
                       "(about 1.797e308)", "rescale the problem, e.g. write 1e300 s for a "
                                               "scalar s")


def _too_small(shown: str) -> NumberError:
    return NumberError(f"{shown} is too small: it is below the smallest positive double "
                       "(about 4.9e-324)", "write 0 for zero, or rescale the problem")


def _number(tok: Token, src: Source, span, text: Optional[str] = None) -> Fraction:
    try:
        return read_number(tok.value if text is None else text)
    except NumberError as e:
        raise src.error("syntax", e.message, tok.start, tok.end, e.hint, span=span) from None


class _Builder:
    """The reductions of the grammar: tokens and child nodes -> a node."""

    def __init__(self, src: Source, span):
        self.src = src
        self.span = span

    # helpers
    @staticmethod
    def _deeper(kids, start, end):
        d = 1 + max((k.depth for k in kids), default=0)
        if d > MAX_DEPTH:
            raise _TooDeep(start, end)
        return d

    def _node(self, kind, kids, val, start, end, extra=None):
        return Node(kind, kids, val, start, end, self._deeper(kids, start, end), extra)

    # statements
    def start(self, c):
        return c[0]

    def problem(self, c):
        e = c[0]
        return Node("problem", [e], None, e.start, e.end, e.depth)

    def names(self, c):
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[2])
        return c[0]

    def dim(self, c):
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[2])
        return c[0]

    def shape(self, c):
        return [c[0]] if len(c) == 1 else [c[0], c[2]]

    def declaration(self, c):
        names, colon, shape = c
        end = shape[-1][-1].end
        return Node("decl", [], (names, shape, []), names[0].start, end, extra=colon)

    def declaration_property(self, c):
        decl, prop = c
        decl.val[2].append(prop)
        decl.end = prop.end
        return decl

    def definition(self, c):
        name, eq, e = c
        return Node("def", [e], name, name.start, e.end, e.depth, extra=eq)

    def fundef(self, c):
        lhs, op, rhs = c
        return Node("fundef", [lhs, rhs], None, lhs.start, rhs.end, max(lhs.depth, rhs.depth), extra=op)

    # expressions
    def add(self, c):
        left, op, right = c
        sign = 1 if op.type == "PLUS" else -1
        if left.kind == "add" and not left.paren:
            left.kids.append(right)
            left.val.append((sign, op.start, op.end))
            left.end = right.end
            if right.depth >= left.depth:
                left.depth = self._deeper([right], left.start, right.end)
            return left
        return self._node("add", [left, right], [(1, left.start, left.start), (sign, op.start, op.end)],
                          left.start, right.end)

    def chain(self, c):
        if len(c) == 2:  # juxtaposition
            left, right = c
            op = ("mul", right.start, right.start)
        else:
            left, tok, right = c
            op = (_CHAIN_OPS[tok.type], tok.start, tok.end)
        if left.kind == "chain" and not left.paren:
            left.kids.append(right)
            left.val.append(op)
            left.end = right.end
            if right.depth >= left.depth:
                left.depth = self._deeper([right], left.start, right.end)
            return left
        return self._node("chain", [left, right], [None, op], left.start, right.end)

    def neg(self, c):
        tok, e = c
        return self._node("neg", [e], None, tok.start, e.end)

    def _post(self, base, val, end):
        return self._node("post", [base], val, base.start, end)

    def transpose(self, c):
        return self._post(c[0], ("T",), c[1].end)

    def inverse_transpose(self, c):
        return self._post(c[0], ("invT",), c[1].end)

    def superscript(self, c):
        base, tok = c
        text = tok.value.translate(_SUPERSCRIPT_DIGITS)
        p = _number(tok, self.src, self.span, text.lstrip("-"))
        if text.startswith("-"):
            p = -p
        return self._post(base, ("pow", p), tok.end)

    def power(self, c):
        base, caret, exp = c
        return self._post(base, exp[0], exp[1])

    def epow(self, c):
        base, op, exp = c
        return self._post(base, ("epow", exp[0][1]), exp[1])

    def exponent(self, c):
        """``T``, ``-T``, ``{-T}``, ``k``, ``-k``, ``(p/q)``, ``{-p/q}``: (value, end)."""
        end = c[-1].end
        types = [t.type for t in c]
        if "TKEY" in types:
            return (("invT",) if "MINUS" in types else ("T",)), end
        nums = [t for t in c if t.type == "NUMBER"]
        value = _number(nums[0], self.src, self.span)
        if len(nums) == 2:
            den = _number(nums[1], self.src, self.span)
            if den == 0:
                raise self.src.error("syntax", "division by zero in an exponent", nums[1].start,
                                     nums[1].end, span=self.span)
            value /= den
        if "MINUS" in types:
            value = -value
        return ("pow", value), end

    number_exponent = exponent

    def name(self, c):
        t = c[0]
        return Node("name", [], t.value, t.start, t.end)

    def number(self, c):
        t = c[0]
        return Node("num", [], _number(t, self.src, self.span), t.start, t.end)

    def arguments(self, c):
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[2])
        return c[0]

    def apply(self, c):
        name, lpar, args, rpar = c
        # extra: the name's span and whether '(' follows it without a space
        return self._node("apply", args, name.value, name.start, rpar.end,
                          extra=(name.end, lpar.start == name.end))

    def primes(self, c):
        base, tok = c
        for _ in tok.value:
            base = self._post(base, ("T",), tok.end)
        return base

    def derivative(self, c):
        name, primes, lpar, args, rpar = c
        return self._node("dapply", args, (name.value, len(primes.value)), name.start, rpar.end,
                          extra=(primes.end, True))

    def paren(self, c):
        lpar, e, rpar = c
        e.start, e.end = lpar.start, rpar.end
        e.depth = self._deeper([e], lpar.start, rpar.end)
        e.paren = True
        return e

    def norm(self, c):
        e = c[1]
        sub = c[3].value[1:] if len(c) == 4 else ""
        return self._node("norm", [e], sub, c[0].start, c[-1].end)


# ---------------------------------------------------------------------------
# Lexing and the LALR driver


def _lex(tb: _Tables, text: str, start: int, end: int) -> list:
    """Tokens of ``text[start:end]``; bars resolved; a bad character is an ERROR token."""
    out = []
    append = out.append
    depth = 0
    norms: list = []
    for m in tb.master.finditer(text, start, end):
        kind = m.lastgroup
        if kind == "NAME" or kind == "NUMBER":
            append(Token(kind, m.group(kind), m.start(kind), m.end()))
            continue
        if kind == "LPAR" or kind == "LBRACE":
            depth += 1
        elif kind == "RPAR" or kind == "RBRACE":
            depth -= 1
        elif kind == "BARS":
            bar = (m.group(kind), depth)
            if norms and norms[-1] == bar:
                norms.pop()
                kind = "NORM_CLOSE"
            else:
                norms.append(bar)
                kind = "NORM_OPEN"
        append(Token(kind, m.group(m.lastgroup), m.start(m.lastgroup), m.end()))
    return out


def parse_statement(src: Source, start: int, end: int) -> Node:
    """The statement ``src.text[start:end]`` as a node: ``decl``, ``def``,
    ``fundef`` or ``problem``.  Raises a syntax MatdiffError."""
    span = (start, end)
    if end - start > MAX_STATEMENT:
        raise src.error(
            "syntax", f"the statement is too long: {end - start:,} characters "
                      f"(matdiff reads at most {MAX_STATEMENT:,} in one statement)",
            start, start + 1, "split it with definitions (h = ...) on separate lines", span=span)
    tb = tables()
    bad = _BAD_CHAR.search(src.text, start, end)
    if bad is not None:
        raise _bad_char_error(src, bad.start(), span)
    toks = _lex(tb, src.text, start, end)
    builder = _Builder(src, span)
    reductions = tb.reductions
    rules = tb.rules  # (origin, size, callback name or None)
    states_table = tb.states
    keywords = tb.keywords
    end_state = tb.end
    stack = [tb.start]
    values: list = []
    opened: list = []  # open brackets, for error messages
    toks.append(Token("$END", "", end, end))
    try:
        for i, tok in enumerate(toks):
            ttype = tok.type
            if ttype == "NAME" and tok.value in keywords and keywords[tok.value] in states_table[stack[-1]]:
                ttype = tok.type = keywords[tok.value]
            while True:
                act = states_table[stack[-1]].get(ttype)
                if act is None:
                    raise _syntax_error(src, span, toks, i, tok, stack, states_table, opened)
                if act >= 0:  # shift
                    stack.append(act)
                    values.append(tok)
                    if ttype in _OPENERS:
                        opened.append(tok)
                    elif ttype in _CLOSERS and opened:
                        opened.pop()
                    break
                origin, size, cb = rules[~act]  # reduce
                if cb is None:  # a ?rule with one child: the child itself
                    stack[-1] = states_table[stack[-2]][origin]
                    continue
                kids = values[-size:]
                del values[-size:]
                del stack[-size:]
                values.append(reductions[~act](builder, kids))
                stack.append(states_table[stack[-1]][origin])
                if stack[-1] == end_state and ttype == "$END":
                    return values[-1]
        raise AssertionError("the parser did not finish")  # pragma: no cover
    except _TooDeep as e:
        raise src.error(
            "syntax", f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
            e.start, e.end, "split it with definitions (h = ...) on separate lines", span=span,
        ) from None


_OPENERS = {"LPAR": ")", "LBRACE": "}", "NORM_OPEN": "||"}
_CLOSERS = {"RPAR", "RBRACE", "NORM_CLOSE"}


# ---------------------------------------------------------------------------
# Syntax errors in words

_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'",
    "SLASH": "'/'", "HADAMARD": "'.*'", "EDIV": "'./'", "KRON": "'⊗'", "TRANSPOSE": "'^T'",
    "INV_T": "'⁻ᵀ'", "PRIMES": "'", "SUPERSCRIPT": "a superscript", "CARET": "'^'", "EPOW": "'.^'",
    "TKEY": "'T'", "LPAR": "'('", "RPAR": "')'", "LBRACE": "'{'", "RBRACE": "'}'",
    "COMMA": "','", "COLON": "':'", "DEFINE": "':='", "EQUALS": "'='", "TIMES": "'x'",
    "CROSS": "'×'", "NORM_2": "'_2'", "NORM_F": "'_F'", "NORM_NUC": "'_*'", "NORM_OPEN": "'||'",
    "NORM_CLOSE": "'||'", "$END": "the end of the statement",
    "NORM_INF": "'_∞'", "NORM_P": "a p-norm's subscript",
}
#: tokens after which an operand must follow
_NEEDS_OPERAND = {"PLUS", "MINUS", "STAR", "SLASH", "HADAMARD", "EDIV", "KRON", "LPAR",
                  "COMMA", "EQUALS", "DEFINE", "NORM_OPEN"}
_OPERAND_START = {"NAME", "NUMBER", "LPAR", "NORM_OPEN"}


def _found(tok: Token) -> str:
    return "the end of the statement" if tok.type == "$END" else f"'{tok.value}'"


def _expected_words(expected: set) -> str:
    """A few words for what the parser could take: "an operand, ')' or the end ..."."""
    words = ["an operand"] if _OPERAND_START & expected else []
    for t in ("RPAR", "RBRACE", "NORM_CLOSE", "COMMA", "$END"):
        if t in expected:
            words.append(_WORDS[t])
    if not words:
        words = sorted(_WORDS.get(t, t) for t in expected)[:4]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _syntax_error(src, span, toks, i, tok, stack, states, opened) -> MatdiffError:
    """An error in words for the token ``tok`` that the parser cannot take."""
    expected = {s for s in states[stack[-1]] if s.isupper() or s == "$END"}
    prev = toks[i - 1] if i > 0 else None
    p = prev.type if prev else None
    found = _found(tok)
    start, end = tok.start, tok.end
    hint = None

    def err(message, hint=None, at=None):
        s, e = at if at else (start, end)
        return src.error("syntax", message, s, e, hint, span=span)

    if tok.type == "ERROR":
        c = tok.value
        hints = {
            "|": "a norm is written ||x|| (or ‖x‖); an absolute value is abs(x)",
            "[": "square brackets are not part of the language; group with parentheses",
            "]": "square brackets are not part of the language; group with parentheses",
            "\\": "a '\\' continues a statement only at the very end of a line",
            "!": "there is no factorial; write the expression out",
            "`": "write the expression without backquotes",
            '"': "write the expression without quotes",
            ".": "'.' starts the operators .* ./ .^ and .T",
        }
        if c.isalpha():
            h = "names use Latin or Greek letters, digits and _"
        else:
            h = hints.get(c, "see `matdiff --help` for the operators of the language")
        shown = c if c.isprintable() else f"U+{ord(c):04X}"
        return err(f"unexpected character '{shown}'", h)

    if p == "COMMA" and expected <= {"NAME"}:
        return err(f"expected a name after ',', found {found}", "declare several names as `A, B: n x n`")
    if p == "COLON":
        return err(f"expected a shape after ':' (such as `n x m`, `n`, `1 x n` or `scalar`), found {found}",
                   "declare shapes as `X: n x m`, `x: n` or `s: scalar`")
    if p in ("TIMES", "CROSS"):
        return err(f"expected a dimension after '{prev.value}', found {found}",
                   "a dimension is a name or a positive integer: `X: n x m`, `Y: 3 x 4`")
    if any(t.type == "COLON" for t in toks[:i]):
        return err(f"unexpected {found} in a declaration",
                   "a declaration is names, ':', a shape and properties: `A, B: n x n symmetric`; "
                   "separate declarations with ';' or a new line")
    k = i - 1  # inside an exponent?
    while k >= 0 and toks[k].type in ("MINUS", "LPAR", "LBRACE", "NUMBER", "SLASH", "TKEY"):
        k -= 1
    if "NAME" not in expected and (k >= 0 and toks[k].type in ("CARET", "EPOW")):
        if toks[k].type == "EPOW":
            return err(f"expected a number after '.^', found {found}",
                       "an elementwise power is x.^2, x.^(-1) or x.^(1/2)")
        return err(f"expected an exponent after '^', found {found}",
                   "exponents are T, -T, -1, a number, or (p/q): x^T, X^-1, x^2, x^(1/2); "
                   "symbolic exponents are not supported (use exp(...))")
    if p in _NEEDS_OPERAND and (_OPERAND_START & expected):
        what = {"LPAR": "an expression after '('", "NORM_OPEN": "an expression inside '||'",
                "EQUALS": "an expression after '='", "DEFINE": "the function's body after ':='",
                "COMMA": "an argument after ','"}.get(p, f"an operand after '{prev.value}'")
        if p == "NORM_OPEN" and tok.type == "NORM_CLOSE":
            hint = "an empty norm; bars do not nest: write norm2(...) inside a norm"
        elif tok.type == "$END" and p not in ("LPAR", "NORM_OPEN"):
            hint = f"complete the expression after '{prev.value}', or remove the '{prev.value}'"
        elif tok.type in ("RPAR", "RBRACE") and p == "LPAR":
            hint = "empty parentheses: write an expression inside them"
        return err(f"expected {what}, found {found}", hint)

    closer = {"LPAR": ("RPAR", "')'"), "LBRACE": ("RBRACE", "'}'"), "NORM_OPEN": ("NORM_CLOSE", "'||'")}
    if opened:
        last = opened[-1]
        want, shown = closer[last.type]
        if want in expected and (tok.type in ("$END", "RPAR", "RBRACE", "NORM_CLOSE", "COMMA")
                                 or tok.type == "NORM_OPEN"):
            line, col = src.locate(last.start)
            opener = "'||'" if last.type == "NORM_OPEN" else f"'{last.value}'"
            h = f"the {opener} at column {col} is not closed"
            if last.type == "NORM_OPEN":
                h += "; inside a norm the next '||' closes it: nest norms with norm2(...)"
            return err(f"expected a closing {shown}, found {found}", h)

    if tok.type in ("RPAR", "RBRACE") and not opened:
        return err(f"unmatched '{tok.value}'", "remove it, or add the '(' it closes")
    if tok.type == "EQUALS":
        return err("'=' defines a name; only a single name may stand on its left",
                   "write a definition as `h = W x + b`, a function as `f(t) := t^2`")
    if tok.type in ("LBRACE", "RBRACE"):
        return err(f"unexpected {found}", "braces only hold an exponent, as in x^{-1}; "
                                          "group with parentheses")
    if tok.type == "COLON":
        return err("':' declares names; only names may stand on its left",
                   "declare shapes as `A, B: n x n`")
    if tok.type == "DEFINE":
        return err("':=' defines a function; write it as `f(t) := t^3 + sin(t)`")
    if tok.type == "TKEY":
        return err("'T' is reserved for the transpose", "write x^T, x' or x.T")
    if tok.type == "NORM_OPEN" and "NORM_OPEN" not in expected and p is not None:
        return err(f"unexpected '||' after '{prev.value}'")
    if tok.type == "$END":
        return err(f"the statement ends too early: expected {_expected_words(expected)}")
    return err(f"unexpected {found}: expected {_expected_words(expected)}",
               "a product of two factors needs no operator (`2 A x`); "
               "check for a missing operand or parenthesis" if tok.type in ("STAR", "SLASH", "PLUS")
               else None)

