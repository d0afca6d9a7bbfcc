"""When a schema file uses a table, type or schema that a later file creates, say which file.

Schema files apply in the order listed, a folder's in natural name order; a migration numbered
out of order (or a sqlc config listing a file before the one it needs) fails with
PostgreSQL's `relation "books" does not exist`, which does not say that the table is right there,
two files further on. `created_later` adds that to the diagnostic, reading the later files with
sqlgen's lexer (so a name in a comment or a string does not count).

>>> from sqlgen.errors import SourceText
>>> later = [SourceText("db/3_books.sql", "-- books\\nCREATE TABLE IF NOT EXISTS public.Books (id int);\\n")]
>>> missing = Diagnostic('relation "books" does not exist', sqlstate="42P01")
>>> print(created_later(missing, later).hint)  # doctest: +ELLIPSIS
"books" is created later, by db/3_books.sql:2: schema files apply in the order listed, a folder's in natural ...
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from sqlgen.errors import Diagnostic, SourceText
from sqlgen.sqllex import Kind, LexError, Token, tokenize

_MISSING = re.compile(r'(relation|type|schema) "((?:[^"]|"")+)" does not exist')
_CREATES: dict[str, set[tuple[str, ...]]] = {  # what PostgreSQL calls missing → the CREATE statements that make one
    "relation": {("TABLE",), ("VIEW",), ("MATERIALIZED", "VIEW"), ("SEQUENCE",), ("FOREIGN", "TABLE")},
    "type": {("TYPE",), ("DOMAIN",), ("TABLE",), ("VIEW",)},  # a table's row type is a type too
    "schema": {("SCHEMA",)},
}
_MODIFIERS = {"OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "RECURSIVE"}


def created_later(diagnostic: Diagnostic, later: Sequence[SourceText]) -> Diagnostic:
    """`diagnostic`, with a hint naming the first of the `later` files that creates what it says is missing."""
    found = _MISSING.fullmatch(diagnostic.message)
    if found is None:
        return diagnostic
    kind, name = found[1], found[2].replace('""', '"').rsplit(".", 1)[-1]
    for file in later:
        offset = _creation(file.text, _CREATES[kind], name)
        if offset is not None:
            where = file.location(offset)
            hint = (
                f'"{name}" is created later, by {where.path}:{where.line}: schema files apply in the order listed, '
                "a folder's in natural name order; list or rename them so that it comes first"
            )
            return replace(diagnostic, hint=f"{diagnostic.hint}\n  {hint}" if diagnostic.hint else hint)
    return diagnostic


def _creation(text: str, statements: set[tuple[str, ...]], name: str) -> int | None:
    """The offset of the first `CREATE … <statement> [IF NOT EXISTS] [schema.]name` in `text`."""
    try:
        tokens = [t for t in tokenize(text) if t.kind not in (Kind.SPACE, Kind.LINE_COMMENT, Kind.BLOCK_COMMENT)]
    except LexError:
        return None
    for start, token in enumerate(tokens):
        if not _is_word(token, "CREATE"):
            continue
        i = start + 1
        while i < len(tokens) and tokens[i].kind is Kind.IDENT and tokens[i].text.upper() in _MODIFIERS:
            i += 1
        for statement in statements:
            words = tokens[i : i + len(statement)]
            if len(words) == len(statement) and all(_is_word(t, w) for t, w in zip(words, statement, strict=True)):
                j = i + len(statement)
                if [t.text.upper() for t in tokens[j : j + 3]] == ["IF", "NOT", "EXISTS"]:
                    j += 3
                while j + 2 < len(tokens) and tokens[j + 1].text == ".":
                    j += 2  # schema-qualified: the last part is the name
                if j < len(tokens) and _names(tokens[j], name):
                    return token.start
    return None


def _is_word(token: Token, word: str) -> bool:
    return token.kind is Kind.IDENT and token.text.upper() == word


def _names(token: Token, name: str) -> bool:
    """Whether `token` is an identifier PostgreSQL would resolve to `name` (as it prints it)."""
    if token.kind is Kind.IDENT:
        return token.text.lower() == name
    if token.kind is Kind.QUOTED_IDENT and token.text.startswith('"'):
        return token.text[1:-1].replace('""', '"') == name
    return False
