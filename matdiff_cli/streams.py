"""The standard streams and the faults of the environment, for the command line.

The output cannot be written (closed, full, a broken pipe), Ctrl-C: each is
said once with its own exit status; a stream whose encoding cannot carry a
character gets matdiff's ASCII spelling of it.
"""
from __future__ import annotations

import os
import sys

# ---------------------------------------------------------------------------
# Faults of the environment: the output cannot be written, Ctrl-C
#
# Each is named once, on standard error (never a traceback, never one line per
# problem), with its own status (README "Exit status"):
#   4    the results could not be written: standard output closed, disk full,
#        an I/O error
#   141  the reader of standard output went away (a broken pipe, as in
#        ``matdiff ... | head -1``): quietly, like other Unix tools (128 + SIGPIPE)
#   130  interrupted (Ctrl-C)

EXIT_OUTPUT = 4
EXIT_BROKEN_PIPE = 141
EXIT_INTERRUPTED = 130


class Interrupted(Exception):
    """Ctrl-C while a command ran (raised past click, which would print to stderr)."""


class OutputFault(Exception):
    """Writing to a stream failed: the reader went away (``broken_pipe``) or the
    stream cannot take it (closed, full, an I/O error)."""

    def __init__(self, stream_name: str, error: BaseException | None = None):
        self.stream_name = stream_name
        self.error = error
        self.broken_pipe = isinstance(error, BrokenPipeError)
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.error is None:
            return f"cannot write the results: {self.stream_name} is closed"
        reason = getattr(self.error, "strerror", None) or str(self.error) or type(self.error).__name__
        return f"cannot write the results to {self.stream_name}: {reason}"


class GuardedStream:
    """A text stream whose write faults become :class:`OutputFault`.

    ``quiet``: faults are swallowed (standard error: a diagnostic that cannot be
    written is dropped; the exit status still says what happened).
    """

    def __init__(self, stream, name: str, quiet: bool = False):
        if isinstance(stream, GuardedStream):
            stream = stream._stream
        self._stream = stream
        self.name = name
        self.quiet = quiet

    # (write and flush make no closure and no call but the stream's: a report a line)
    def write(self, text: str):
        stream = self._stream
        if stream is None:
            return self._fault()
        try:
            return stream.write(text)
        except (OSError, ValueError) as e:  # ValueError: I/O operation on closed file
            return self._fault(e)

    def flush(self):
        stream = self._stream
        if stream is None:
            return self._fault()
        try:
            return stream.flush()
        except (OSError, ValueError) as e:
            return self._fault(e)

    def _fault(self, error: BaseException | None = None):
        """The stream is closed (no error) or failed: OutputFault, or None when quiet."""
        if self.quiet:
            return None
        raise OutputFault(self.name, error) from None

    def isatty(self) -> bool:
        try:
            return bool(self._stream is not None and self._stream.isatty())
        except (OSError, ValueError):
            return False

    @property
    def encoding(self):
        return getattr(self._stream, "encoding", None) or "utf-8"

    def __getattr__(self, attr):
        return getattr(self._stream, attr)


def _diagnose(message: str) -> None:
    """One line on standard error, if it can be written."""
    err = GuardedStream(sys.stderr, "standard error", quiet=True)
    err.write(f"matdiff: {message}\n")
    err.flush()


# What an ASCII-only (or Latin-1, ...) stream gets instead of the characters
# it cannot carry: matdiff's own ASCII spellings where there is one (they read
# back: xᵀ -> x^T, A⁻¹ -> A^-1, ‖x‖² -> ||x||^2, α -> alpha), a \\uXXXX escape
# otherwise.
ASCII_SPELLINGS = {
    "⁻ᵀ": "^-T", "ᵀ": "^T", "⊙": ".*", "⊘": "./", "⊗": " kron ", "‖": "||", "×": "x",
    "·": "*", "∇": "nabla", "𝟏": "ones", "…": "...", "→": "->", "σ": "sigmoid",
    "├": "|", "└": "`", "│": "|", "─": "-", "√": "sqrt", "∂": "d", "≈": "~=", "≠": "!=",
}
SUPERSCRIPTS = "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"


def _ascii_spellings(err: UnicodeEncodeError):
    import re

    from .render.pretty import GREEK

    letters = {v: k for k, v in GREEK.items()}
    run = err.object[err.start:err.end]
    pattern = "|".join(sorted(map(re.escape, ASCII_SPELLINGS), key=len, reverse=True))

    def one(m):
        text = m.group(0)
        if text in ASCII_SPELLINGS:
            return ASCII_SPELLINGS[text]
        if text[0] in SUPERSCRIPTS:  # an exponent: ² -> ^2, ⁻¹ -> ^-1
            return "^" + text.translate(str.maketrans(SUPERSCRIPTS, "-0123456789"))
        if text in letters:
            return letters[text]
        code = ord(text)
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    spelled = re.sub(f"(?:{pattern})|[{SUPERSCRIPTS}]+(?!ᵀ)|.", one, run, flags=re.S)
    return spelled, err.end


def _prepare_streams() -> bool:
    """Make the standard streams safe to use; False when standard output is closed.

    A closed descriptor 0, 1 or 2 is reopened on the null device (so that no file
    matdiff opens lands there); a closed standard error drops diagnostics; a
    stream whose encoding cannot carry a character gets an ASCII spelling.
    """
    import codecs

    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if 1 in closed:  # the results would go to the null device: a fault, not a success
        sys.stdout = None
    if sys.stderr is None or 2 in closed:
        sys.stderr = open(os.devnull, "w")
    try:
        codecs.lookup_error("matdiff-ascii")
    except LookupError:
        codecs.register_error("matdiff-ascii", _ascii_spellings)
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if stream is not None and encoding not in ("utf8", "utf16", "utf32"):
            try:
                stream.reconfigure(errors="matdiff-ascii")
            except (AttributeError, ValueError, OSError):
                pass
    return sys.stdout is not None


def _silence_stdout() -> None:
    """After a fault, what is left in the buffer goes nowhere (no second message)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    except OSError:
        pass


def _exit_now(status: int) -> None:
    """os._exit(status) after flushing the standard streams; returns (and lets
    the interpreter exit as usual) when a flush fails."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except BaseException:
        return
    os._exit(status)
