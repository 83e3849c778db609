"""Text -> syntax nodes: statements, a table-driven LALR(1) parser, errors with carets.

The language is ``grammar/matdiff.lark``; its tables are built once by Lark
and cached (``lalr.py``), and a small driver below runs them, so the command
line starts in a few milliseconds; a cold cache costs one Lark build (under a
tenth of a second).  The reductions that build the syntax nodes are in
``syntax.py``, number literals in ``literals.py``.  Plain declarations are read
from their words (``syntax.py``), most expressions and definitions by a
recursive descent over the tokens (``descent.py``), which builds the same
nodes with the same reductions; the driver reads the rest and words every error.

A document is split into statements first (``source.py``), so a statement
with an error loses nothing else.  Every ``||`` / ``‖`` is made a NORM_OPEN or
NORM_CLOSE: it closes the innermost norm opened at the same parenthesis depth,
otherwise it opens one.
"""
from __future__ import annotations

from .descent import descend
from .errors import MatdiffError
from .lalr import _Tables, tables
from .literals import NumberError, read_number
from .source import Source, _bad_char_error, split_statements
from .syntax import (
    _PLAIN, MAX_DEPTH, Node, Token, _Builder, _declaration, _plain_declaration, _TooDeep,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Optional

__all__ = ["MAX_DEPTH", "MAX_STATEMENT", "Node", "NumberError", "Source", "parse_statement",
           "read_number", "split_statements", "tables"]

#: The longest statement matdiff reads (parsing is linear, about 2 µs a character).
MAX_STATEMENT = 100_000


# ---------------------------------------------------------------------------
# Lexing and the LALR driver


def _lex(tb: _Tables, text: str, start: int, end: int) -> list:
    """Tokens of ``text[start:end]``; bars resolved; a bad character is an ERROR token."""
    plain = _plain_tokens(text, start, end)
    if plain is not None:
        return plain
    out = []
    append = out.append
    depth = 0
    norms: list = []
    for m in tb.master.finditer(text, start, end):
        kind = m.lastgroup
        if kind == "NAME" or kind == "NUMBER":
            s, e = m.span(kind)   # the token is the match without its leading blanks
            append(Token(kind, text[s:e], s, e))
            continue
        if kind == "LPAR" or kind == "LBRACE":
            depth += 1
        elif kind == "RPAR" or kind == "RBRACE":
            depth -= 1
        elif kind == "BARS":
            kind = _bars(norms, (m.group(kind), depth))
        append(Token(kind, m.group(m.lastgroup), m.start(m.lastgroup), m.end()))
    return out


def _bars(norms: list, bar: tuple) -> str:
    """The token of bars (``(text, bracket depth)``): they close the innermost open
    norm when it opened with the same bars at the same depth, else they open one.
    ``norms``: the bars of the norms open, innermost last (both lexers keep one)."""
    if norms and norms[-1] == bar:
        norms.pop()
        return "NORM_CLOSE"
    norms.append(bar)
    return "NORM_OPEN"


#: the tokens of the operators of a plain statement (:func:`_plain_tokens`)
_PLAIN_OPS = {":": "COLON", ",": "COMMA", "(": "LPAR", ")": "RPAR", "+": "PLUS",
              "-": "MINUS", "/": "SLASH", "^": "CARET", "^T": "TRANSPOSE", "=": "EQUALS",
              ".*": "HADAMARD", ".^": "EPOW"}
#: the characters of a plain expression: a plain declaration's, the elementwise
#: operators .* and .^ and the bars of norms
_PLAIN_EXPR = _PLAIN | frozenset(".*|")
#: each one-character operator, and the piece it is made (spaced round)
_SPACED = tuple((op, f" {op} ") for op in ":,()+-/^=")


def _plain_tokens(text: str, start: int, end: int) -> Optional[list]:
    """The tokens of a plain statement, without the lexer's pattern; None for any other.

    Plain: ASCII names and digit strings, spaces, the operators of
    ``_PLAIN_OPS`` and the bars ``||``, as most declarations and many
    expressions are (``A, B: n x 3 symmetric``, ``tr(A^T (X - B))``,
    ``||A x - b||^2``).  Over these characters the pattern's tokens are exactly
    the pieces between the spaces once each operator is a piece of its own
    (``^T`` one piece, the transpose; ``:=``, a ``.`` or ``*`` of any other
    operator, a lone ``|`` and ``.^T`` are left to the pattern): a piece that
    starts with a letter or ``_`` is a NAME (``_1`` after a norm too), one of
    digits a NUMBER (one with a digit and a letter, ``2e3`` or ``3n``, is left
    to the pattern), and each piece starts where it is next found."""
    stmt = text[start:end]
    if not _PLAIN_EXPR.issuperset(stmt) or ":=" in stmt:
        return None
    dots = "." in stmt
    if dots or "*" in stmt:   # only as .* and .^
        if (stmt.count(".") != stmt.count(".*") + stmt.count(".^")
                or stmt.count("*") != stmt.count(".*") or ".^T" in stmt):
            return None
        stmt = stmt.replace(".*", " .* ")
    bars = "|" in stmt
    if bars:
        if "|" in stmt.replace("||", ""):
            return None
        stmt = stmt.replace("||", " || ")
    for op, spaced in _SPACED:
        if op in stmt:
            stmt = stmt.replace(op, spaced)
    if "^" in stmt:
        stmt = stmt.replace("^ T", "^T ")   # only a ^T of the text reads "^ T" now
        if dots:
            stmt = stmt.replace(". ^ ", " .^ ")   # (.^T is left to the pattern)
    out = []
    pos = start
    depth = 0
    norms: list = []   # the bars of each norm open, with their bracket depth (as _lex)
    new = object.__new__
    for piece in stmt.split():
        kind = _PLAIN_OPS.get(piece)
        if kind is None:
            if piece == "||":
                kind = _bars(norms, ("||", depth))
            elif piece.isidentifier():   # (over these characters: not led by a digit)
                kind = "NAME"
            elif piece.isdigit():
                kind = "NUMBER"
            else:
                return None
        elif bars and (kind == "LPAR" or kind == "RPAR"):
            depth += 1 if kind == "LPAR" else -1
        s = text.find(piece, pos)
        pos = s + len(piece)
        tok = new(Token)   # (its fields set here: a call of Token, through __init__, costs more)
        tok.type = kind
        tok.value = piece
        tok.start = s
        tok.end = pos
        out.append(tok)
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
    bad = src.bad_char(start, end)
    if bad >= 0:
        raise _bad_char_error(src, bad, span)
    keywords = tb.keywords
    colon = src.text.find(":", start, end) >= 0   # (every declaration has one, few expressions)
    if colon:
        decl = _plain_declaration(src.text, start, end, keywords)
        if decl is not None:   # most statements of a document (two of three in a batch)
            return decl
    toks = _lex(tb, src.text, start, end)
    if colon:
        decl = _declaration(toks, keywords)
        if decl is not None:   # a declaration with n*m, ×, a Greek name, a tab, ...
            return decl
    builder = _Builder(src, span)
    toks.append(_END)
    node = descend(toks, builder)
    if node is not None:   # most expressions and definitions
        return node
    toks[-1] = Token("$END", "", end, end)   # (where the driver's errors point)
    reductions = tb.reductions  # (origin, size, _Builder method or None)
    passes = tb.passes
    states_table = tb.states
    end_state = tb.end
    state = tb.start
    stack = [state]   # the states; ``state`` is its top
    values: list = []
    push, push_value = stack.append, values.append
    try:
        for i, tok in enumerate(toks):
            ttype = tok.type
            if ttype == "NAME" and tok.value in keywords and keywords[tok.value] in states_table[state]:
                ttype = tok.type = keywords[tok.value]
            while True:
                act = states_table[state].get(ttype)
                if act is None:
                    raise _syntax_error(src, span, toks, i, tok, stack, states_table)
                if act >= 0:  # shift
                    push(act)
                    state = act
                    push_value(tok)
                    break
                origin, size, reduce = reductions[~act]
                if reduce is None:  # a ?rule with one child: the child itself, as the
                    key = (stack[-2], origin, ttype)   # ?rules above it (atom -> ... -> sum)
                    state = passes.get(key)
                    if state is None:
                        state = passes[key] = _passed(tb, *key)
                    stack[-1] = state
                    continue
                kids = values[-size:]
                del values[-size:]
                del stack[-size:]
                push_value(reduce(builder, kids))
                state = states_table[stack[-1]][origin]
                push(state)
                if state == end_state and ttype == "$END":
                    return values[-1]
        raise AssertionError("the parser did not finish")  # pragma: no cover
    except _TooDeep as e:
        raise src.error(
            "syntax", f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
            e.start, e.end, "split it with definitions (h = ...) on separate lines", span=span,
        ) from None


#: the end of every statement, for the descent (which points at no token)
_END = Token("$END", "", -1, -1)


def _passed(tb: _Tables, below: int, origin: str, ttype: str) -> int:
    """The state on top of ``below`` once the child of a ?rule with one child is
    reduced to ``origin``, and every such rule that follows with the lookahead
    ``ttype`` too (a chain of them replaces only the top of the stack)."""
    states = tb.states
    while True:
        state = states[below][origin]
        act = states[state].get(ttype)
        if act is None or act >= 0:
            return state
        origin, _, reduce = tb.reductions[~act]
        if reduce is not None:
            return state

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


def _syntax_error(src, span, toks, i, tok, stack, states) -> MatdiffError:
    """An error in words for the token ``tok`` that the parser cannot take."""
    opened = []  # the brackets open before it (the driver shifted every earlier token)
    for t in toks[:i]:
        if t.type in _OPENERS:
            opened.append(t)
        elif t.type in _CLOSERS and opened:
            opened.pop()
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

