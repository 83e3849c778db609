"""A document's text: its statements, and where an offset is.

A document is split into statements first (newlines and ``;``, ``\\`` joins
lines, ``#`` starts a comment), so a statement with an error loses nothing
else.  :class:`Source` turns offsets into lines and columns and makes the
errors that point at them (a caret under the span); a NUL or a lone surrogate
(a byte that was not UTF-8) makes a statement unreadable, and is never shown
raw.  Regular expressions are used only for the rare texts that need one
(continued lines, comments, bad characters): ``re`` is not imported otherwise.
"""
from __future__ import annotations

from .errors import MatdiffError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Optional


class Source:
    """A text and what errors need of it: lines, columns and statement text."""

    def __init__(self, text: str):
        # every line ending is a line break: \r\n (Windows) and a lone \r (old Mac)
        self.text = text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
        self._starts: Optional[list] = None
        self._clean: Optional[bool] = None

    def bad_char(self, start: int, end: int) -> int:
        """The offset of the first NUL or lone surrogate in ``text[start:end]``, or -1.
        The whole text is looked at once (an ASCII one needs no pattern): most
        have no such character, and then no statement needs a search."""
        if self._clean is None:
            text = self.text
            self._clean = _readable(text)
        if self._clean:
            return -1
        m = _pattern(_BAD_CHAR).search(self.text, start, end)
        return -1 if m is None else m.start()

    def _line_starts(self) -> list:
        if self._starts is None:
            text, starts = self.text, [0]
            at = text.find("\n")
            while at >= 0:
                starts.append(at + 1)
                at = text.find("\n", at + 1)
            self._starts = starts
        return self._starts

    def locate(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        starts = self._starts if self._starts is not None else self._line_starts()
        if len(starts) == 1:  # one line (a command line's EXPR): no bisect to import
            return 1, offset + 1
        global bisect_right
        if bisect_right is None:   # imported once, when first needed
            from bisect import bisect_right
        i = bisect_right(starts, offset) - 1
        return i + 1, offset - starts[i] + 1

    def line_text(self, line: int) -> str:
        starts = self._line_starts()
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def statement(self, start: int, end: int) -> str:
        """A statement's own text: continuation lines joined, outer blanks dropped."""
        text = self.text[start:end]
        return (_pattern(_CONTINUATION).sub(" ", text) if "\\" in text else text).strip()

    def error(self, kind: str, message: str, start: int, end: int, hint: Optional[str] = None,
              span: Optional[tuple] = None) -> MatdiffError:
        """A MatdiffError for the characters ``start:end`` (of the statement ``span``)."""
        line, col = self.locate(start)
        text = self.line_text(line)
        if end <= start:
            end = start + 1
        end_col = min(col + (end - start), len(text) + 2)
        stmt = self.statement(*span) if span else None
        if not _readable(text) or (stmt and not _readable(stmt)):  # shown, never raw
            text = _pattern(_BAD_CHAR).sub("\ufffd", text)
            stmt = _pattern(_BAD_CHAR).sub("\ufffd", stmt) if stmt else stmt
        return MatdiffError(kind, message, line=line, column=col, end_column=end_col,
                            source_line=text, hint=hint, statement=stmt)


#: characters that make a statement unreadable: NUL, and the lone surrogates that
#: stand for bytes that are not UTF-8 (text decoded with errors="surrogateescape")
_BAD_CHAR = "[\x00\ud800-\udfff]"


def _readable(text: str) -> bool:
    """Has text no character of ``_BAD_CHAR``?  Without a pattern: the lone
    surrogates are exactly what UTF-8 cannot encode (and an ASCII text has none)."""
    if "\0" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _pattern(pattern: str):
    """pattern compiled, by ``re`` (and its own cache): imported only for the rare
    texts that need one (bad characters, continued lines, comments), as ``re``
    costs a fifth of a start."""
    import re

    return re.compile(pattern)


def _bad_char_error(src: "Source", at: int, span) -> MatdiffError:
    c = src.text[at]
    if c == "\0":
        return src.error("syntax", "the input contains a NUL byte", at, at + 1,
                         "is this a binary file? matdiff reads text", span=span)
    o = ord(c)
    what = f"byte 0x{o - 0xDC00:02x}" if 0xDC80 <= o <= 0xDCFF else f"the lone surrogate U+{o:04X}"
    return src.error("syntax", f"{what} is not valid UTF-8", at, at + 1,
                     "save the input as UTF-8", span=span)


_CONTINUATION = r"[ \t]*\\[ \t]*\r?\n[ \t]*"
_SPLIT = r"[\n;#\\]"
_BLANKS = " \t\r\f\u00a0"   # around a statement
_CONT_AT = r"\\[ \t]*\r?\n"


def split_statements(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every non-blank statement: split at newlines and ``;``,
    lines ending in ``\\`` joined, ``#`` comments dropped."""
    if "\\" not in text and "#" not in text:   # most documents: the lines, cut at ;
        out = []
        start = 0
        for line in text.replace(";", "\n").split("\n"):   # (offsets unchanged)
            end = start + len(line)
            body = line.lstrip(_BLANKS)
            if body:
                s = end - len(body)
                out.append((s, s + len(body.rstrip(_BLANKS))))
            start = end + 1
        return out
    split, continuation = _pattern(_SPLIT), _pattern(_CONTINUATION)
    out = []
    start = 0
    pos = 0
    n = len(text)
    while True:
        m = split.search(text, pos)
        if m is None:
            out.append((start, n))
            break
        c = m.group()
        if c == "\\":
            cont = _pattern(_CONT_AT).match(text, m.start())
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
        while s < e and text[s] in _BLANKS:
            s += 1
        while e > s and text[e - 1] in _BLANKS:
            e -= 1
        if s < e and not continuation.fullmatch(text, s, e):
            result.append((s, e))
    return result


bisect_right = None   # Source.locate imports it on first use
