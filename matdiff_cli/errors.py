"""Errors with spans, and the exit statuses they lead to.

Every error matdiff reports about its input is a :class:`MatdiffError`: a
``kind``, a message in words, where it is (1-based line and columns, the text
of the line) and a hint.  ``format()`` draws it the way a compiler does::

    line 1, column 6: expected an operand after '+'
      A x +
          ^
    hint: complete the sum, e.g. `A x + b`

Exit statuses (SPEC §3): 0 solved, 1 a check or expectation failed, 2 bad
input, 3 a derivative matdiff cannot express.  In a document the worst status
wins, and "worst" is the highest number: 3 > 2 > 1 > 0 (a problem matdiff
cannot solve outranks bad input elsewhere in the document, which outranks a
failed check).  :func:`worst` is that rule.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Iterable, Optional

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNSUPPORTED = 3

#: The kinds of error and their exit statuses; any other kind (e.g. the CLI's
#: "input") is bad input.
KINDS = {
    "syntax": EXIT_BAD_INPUT,      # the text does not follow the grammar
    "shape": EXIT_BAD_INPUT,       # shapes that do not fit, or a bad declaration
    "name": EXIT_BAD_INPUT,        # a reserved, unknown or doubly used name
    "usage": EXIT_BAD_INPUT,       # a request that makes no sense for the input
    "unsupported": EXIT_UNSUPPORTED,  # a derivative matdiff cannot write
    "check": EXIT_FAILED,          # a numeric check or expectation failed
}


_WIDTH = 100  # the longest source line an error shows whole


def worst(codes: Iterable[int]) -> int:
    """The exit status of several results: the highest (0 when there are none)."""
    return max(codes, default=EXIT_OK)


class MatdiffError(Exception):
    """An error in the input (or a result matdiff cannot give), pointing at the text.

    ``MatdiffError(kind, message, line=..., column=..., end_column=...,
    source_line=..., hint=..., statement=...)``; lines and columns are 1-based,
    ``end_column`` is one past the last character of the span.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        line: Optional[int] = None,
        column: Optional[int] = None,
        end_column: Optional[int] = None,
        source_line: Optional[str] = None,
        hint: Optional[str] = None,
        statement: Optional[str] = None,
    ):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
        self.end_column = end_column
        self.source_line = source_line
        self.hint = hint
        self.statement = statement

    def __reduce__(self):  # picklable, e.g. across processes
        fields = {k: getattr(self, k) for k in
                  ("line", "column", "end_column", "source_line", "hint", "statement")}
        return (_rebuild, (self.kind, self.message, fields))

    @property
    def exit_code(self) -> int:
        return KINDS.get(self.kind, EXIT_BAD_INPUT)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"MatdiffError({self.kind!r}, {self.message!r}, line={self.line}, column={self.column})"

    def format(self) -> str:
        """``line L, column C: message``, the line, a caret under the span, the hint."""
        where = ""
        if self.line is not None:
            where = f"line {self.line}" + (f", column {self.column}" if self.column else "") + ": "
        out = [where + self.message]
        if self.source_line is not None and self.column:
            text = self.source_line.rstrip("\n")
            start = self.column - 1
            end = self.end_column - 1 if self.end_column else start + 1
            end = max(start + 1, min(end, max(len(text), start + 1)))
            if len(text) > _WIDTH:  # a window around the span
                lo = max(0, start - _WIDTH // 3)
                hi = min(len(text), lo + _WIDTH)
                text = ("..." if lo else "") + text[lo:hi] + ("..." if hi < len(text) else "")
                shift = lo - (3 if lo else 0)
                start, end = start - shift, min(end - shift, len(text))
            text = "".join(c if c.isprintable() or c == "\t" else "\ufffd" for c in text)
            out.append("  " + text)
            pad = "".join(c if c == "\t" else " " for c in text[:start])
            out.append("  " + pad + "^" * max(1, end - start))
        if self.hint:
            out.append("hint: " + self.hint)
        return "\n".join(out)

    def to_json(self) -> dict:
        """The ``error`` object of SPEC §3.1."""
        return {"type": self.kind, "message": self.message, "line": self.line,
                "column": self.column, "hint": self.hint}


def _rebuild(kind, message, fields):
    return MatdiffError(kind, message, **fields)
