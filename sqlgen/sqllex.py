"""A PostgreSQL lexer that knows just enough to find statements, comments and parameters.

It never re-prints SQL: every token carries its offsets into the original text, so callers
can rewrite parameters in the user's own text and map positions back.

>>> [t.kind.name for t in tokenize("SELECT $1, @name -- hi")]
['IDENT', 'SPACE', 'POSITIONAL', 'PUNCT', 'SPACE', 'NAMED', 'SPACE', 'LINE_COMMENT']
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Kind(enum.Enum):
    SPACE = enum.auto()
    LINE_COMMENT = enum.auto()
    BLOCK_COMMENT = enum.auto()
    STRING = enum.auto()  # '...', E'...', B'...', X'...', U&'...', $tag$...$tag$
    IDENT = enum.auto()  # keywords and bare identifiers
    QUOTED_IDENT = enum.auto()  # "..." and U&"..."
    NUMBER = enum.auto()
    POSITIONAL = enum.auto()  # $1
    NAMED = enum.auto()  # @name
    OPERATOR = enum.auto()
    PUNCT = enum.auto()  # ( ) , ; [ ] . :
    CAST = enum.auto()  # ::


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    start: int
    end: int
    text: str

    @property
    def significant(self) -> bool:
        return self.kind not in (Kind.SPACE, Kind.LINE_COMMENT, Kind.BLOCK_COMMENT)


class LexError(Exception):
    """Unterminated string, identifier or comment; `offset` is where it starts."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


_OPERATOR_CHARS = frozenset("+-*/<>=~!@#%^&|`?")
# Letters, `_` and every non-ASCII character start an identifier; digits and `$` may follow.
# (Written as "not these ASCII characters": a class spelling out U+0080-U+10FFFF takes 20 ms to compile.)
_IDENT_START = re.compile(r"[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f]")
_IDENT = re.compile(r"[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f][^\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]*")
# ASCII digits only: PostgreSQL reads `٣` or `²` as identifier characters, never as numbers.
_NUMBER = re.compile(r"(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?|0[xXoObB][0-9a-fA-F_]+", re.ASCII)
_POSITIONAL = re.compile(r"\$(\d+)", re.ASCII)
_DIGITS = frozenset("0123456789")
_DOLLAR_TAG = re.compile(r"\$(?:[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f][^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]*)?\$")
# PostgreSQL's whitespace; any other character (a no-break space) is part of a token, as there.
_WHITESPACE = frozenset(" \t\n\r\f\v")
_SPACE = re.compile(r"[ \t\n\r\f\v]+")
_PUNCT = frozenset("(),;[].:")
_NO_PARAM_AFTER = frozenset({"<@", "@@"})


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens covering it completely; raises LexError on unterminated input."""
    tokens: list[Token] = []
    pos = 0
    n = len(text)
    while pos < n:
        start = pos
        ch = text[pos]
        nxt = text[pos + 1] if pos + 1 < n else ""
        if ch in _WHITESPACE:
            m = _SPACE.match(text, pos)
            assert m is not None
            pos = m.end()
            kind = Kind.SPACE
        elif ch == "-" and nxt == "-":
            newline = text.find("\n", pos)
            pos = n if newline < 0 else newline
            kind = Kind.LINE_COMMENT
        elif ch == "/" and nxt == "*":
            pos = _block_comment_end(text, pos)
            kind = Kind.BLOCK_COMMENT
        elif ch == "'":
            pos = _quoted_end(text, pos, "'", backslash=False)
            kind = Kind.STRING
        elif ch in "eE" and nxt == "'":
            pos = _quoted_end(text, pos + 1, "'", backslash=True)
            kind = Kind.STRING
        elif ch in "bBxXnN" and nxt == "'":
            pos = _quoted_end(text, pos + 1, "'", backslash=False)
            kind = Kind.STRING
        elif ch in "uU" and nxt == "&" and text[pos + 2 : pos + 3] in ("'", '"'):
            quote = text[pos + 2]
            pos = _quoted_end(text, pos + 2, quote, backslash=False)
            kind = Kind.STRING if quote == "'" else Kind.QUOTED_IDENT
        elif ch == '"':
            pos = _quoted_end(text, pos, '"', backslash=False)
            kind = Kind.QUOTED_IDENT
        elif ch == "$":
            m = _POSITIONAL.match(text, pos)
            if m:
                pos = m.end()
                kind = Kind.POSITIONAL
            else:
                tag = _DOLLAR_TAG.match(text, pos)
                if tag is None:
                    pos += 1
                    kind = Kind.OPERATOR
                else:
                    close = text.find(tag.group(), tag.end())
                    if close < 0:
                        raise LexError(f"unterminated dollar-quoted string {tag.group()}", start)
                    pos = close + len(tag.group())
                    kind = Kind.STRING
        elif _IDENT_START.match(ch):
            m = _IDENT.match(text, pos)
            assert m is not None
            pos = m.end()
            kind = Kind.IDENT
        elif ch in _DIGITS or (ch == "." and nxt in _DIGITS):
            m = _NUMBER.match(text, pos)
            assert m is not None
            pos = m.end()
            kind = Kind.NUMBER
        elif ch == ":" and nxt == ":":
            pos += 2
            kind = Kind.CAST
        elif ch in _PUNCT:
            pos += 1
            kind = Kind.PUNCT
        elif ch in _OPERATOR_CHARS:
            pos = _operator_end(text, pos)
            operator = text[start:pos]
            if operator.endswith("@") and operator not in _NO_PARAM_AFTER and pos < n and _IDENT_START.match(text[pos]):
                if len(operator) > 1:
                    tokens.append(Token(Kind.OPERATOR, start, pos - 1, operator[:-1]))
                m = _IDENT.match(text, pos)
                assert m is not None
                start, pos = pos - 1, m.end()
                kind = Kind.NAMED
            else:
                kind = Kind.OPERATOR
        else:
            pos += 1
            kind = Kind.OPERATOR
        tokens.append(Token(kind, start, pos, text[start:pos]))
    return tokens


_COMMENT_MARK = re.compile(r"/\*|\*/")
_QUOTE_OR_BACKSLASH = {"'": re.compile(r"['\\]"), '"': re.compile(r'["\\]')}


def _block_comment_end(text: str, pos: int) -> int:
    depth = 0
    mark = _COMMENT_MARK.search(text, pos)
    while mark is not None:
        depth += 1 if mark.group() == "/*" else -1
        if depth == 0:
            return mark.end()
        mark = _COMMENT_MARK.search(text, mark.end())
    raise LexError("unterminated /* comment", pos)


def _quoted_end(text: str, pos: int, quote: str, *, backslash: bool) -> int:
    """`pos` is at the opening quote; returns the offset just past the closing one."""
    i = pos + 1
    while True:
        if backslash:
            found = _QUOTE_OR_BACKSLASH[quote].search(text, i)
            j = found.start() if found is not None else -1
        else:
            j = text.find(quote, i)
        if j < 0:
            break
        if text[j] == "\\":
            i = j + 2
        elif text[j + 1 : j + 2] == quote:
            i = j + 2
        else:
            return j + 1
    what = "quoted identifier" if quote == '"' else "string literal"
    raise LexError(f"unterminated {what}", pos)


def _operator_end(text: str, pos: int) -> int:
    i = pos
    while i < len(text) and text[i] in _OPERATOR_CHARS:
        if text[i : i + 2] in ("--", "/*") and i > pos:
            break
        i += 1
    return i


def split_statements(tokens: list[Token]) -> list[list[Token]]:
    """Group tokens into statements at top-level semicolons (not inside parentheses or
    `BEGIN ATOMIC … END` bodies); each statement keeps its significant tokens' span only.
    """
    statements: list[list[Token]] = []
    current: list[Token] = []
    depth = 0
    atomic = 0
    previous = ""
    for token in tokens:
        if not token.significant:
            if current:
                current.append(token)
            continue
        word = token.text.upper() if token.kind is Kind.IDENT else ""
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth = max(0, depth - 1)
        elif word == "ATOMIC" and previous == "BEGIN":
            atomic += 1
        elif atomic and word == "CASE":
            atomic += 1
        elif atomic and word == "END":
            atomic -= 1
        if token.kind is Kind.PUNCT and token.text == ";" and depth == 0 and atomic == 0:
            if current:
                statements.append(_trim(current))
            current = []
        else:
            current.append(token)
        previous = word
    if current:
        statements.append(_trim(current))
    return statements


def _trim(tokens: list[Token]) -> list[Token]:
    while tokens and not tokens[-1].significant:
        tokens.pop()
    return tokens
