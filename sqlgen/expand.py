"""Star expansion: `*` and `t.*` in what a statement returns become the columns they stood for.

Generated code reads each result column by position. If the statement said `SELECT *` and
the table gains, loses or reorders columns under a running application, the rows would no
longer match the model; with the columns listed, PostgreSQL itself reports a column that is
gone (with the query's note), and a new column is simply not read.

The server's analysed tree says which result columns a star produced: the column
references it expanded to carry the star's `location`. Each is written as `alias.column`
(one quoting rule, `quote_identifier`), and the expanded statement is described again: it
is used only when PostgreSQL reports the same parameter and result columns as for the
statement as written, so the expansion can never change what a query returns.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from sqlgen.database import DbConnection
from sqlgen.infer import TypedQuery
from sqlgen.pgtree import Node, output_entries
from sqlgen.prepare import Described, describe_queries
from sqlgen.sqllex import Kind, Token, tokenize

_RTE_JOIN = 2
_SIMPLE = re.compile(r"[a-z_][a-z0-9_$]*\Z")
# Keywords that cannot name a column or table without quotes (reserved, and type or function names).
_KEYWORDS_SQL = "SELECT word FROM pg_catalog.pg_get_keywords() WHERE catcode IN ('R', 'T')"


def expand_stars(conn: DbConnection, typed: Sequence[TypedQuery]) -> list[TypedQuery]:
    """`typed` with `sql` set to the star-expanded statement wherever the server confirms it is the same query."""
    keywords = frozenset(row[0] for row in conn.execute(_KEYWORDS_SQL).fetchall())
    candidates: list[tuple[int, TypedQuery, str]] = []
    for index, query in enumerate(typed):
        expanded = expanded_sql(query.described, keywords)
        if expanded is not None:
            candidates.append((index, query, expanded))
    if not candidates:
        return list(typed)
    rechecked, _ = describe_queries(conn, [dataclasses.replace(q.described.query, sql=s) for _, q, s in candidates])
    by_sql = {d.query.sql: d for d in rechecked}
    result = list(typed)
    for index, query, expanded in candidates:
        again = by_sql.get(expanded)
        if again is not None and _same_shape(query.described, again):
            result[index] = dataclasses.replace(query, sql=expanded)
    return result


def expanded_sql(described: Described, keywords: frozenset[str]) -> str | None:
    """The statement with each star of its result list replaced by the columns it stands for; None if it has none."""
    tree, sql = described.tree, described.query.sql
    if tree is None:
        return None
    tokens = [t for t in tokenize(sql) if t.kind not in (Kind.SPACE, Kind.LINE_COMMENT, Kind.BLOCK_COMMENT)]
    starts = {t.start: i for i, t in enumerate(tokens)}
    characters = _character_offsets(sql)
    rtable = tree.nodes("rtable")
    stars: dict[tuple[int, int], list[str]] = {}
    for entry in output_entries(tree):
        expr = entry.node("expr")
        if expr is None or expr.type != "VAR" or expr.int("varlevelsup") != 0:
            continue
        start = characters.get(expr.int("location", -1))
        span = _star_span(tokens, starts, start) if start is not None else None
        if span is None:
            continue
        column = _column_reference(expr, rtable, keywords)
        if column is None:
            return None
        stars.setdefault(span, []).append(column)
    if not stars:
        return None
    pieces, previous = [], 0
    for (start, end), columns in sorted(stars.items()):
        pieces += [sql[previous:start], ", ".join(columns)]
        previous = end
    return "".join([*pieces, sql[previous:]])


def quote_identifier(name: str, keywords: frozenset[str] = frozenset()) -> str:
    """`name` as PostgreSQL reads it back: bare when it is a plain lower-case word, else in double quotes.

    >>> quote_identifier("note"), quote_identifier("Note"), quote_identifier("a b"), quote_identifier("user", {"user"})
    ('note', '"Note"', '"a b"', '"user"')
    """
    if _SIMPLE.match(name) and name not in keywords:
        return name
    return '"' + name.replace('"', '""') + '"'


def _column_reference(var: Node, rtable: list[Node], keywords: frozenset[str]) -> str | None:
    """`alias.column` for a column reference, by the names it was written with (a join's unaliased column bare)."""
    number, attribute = var.int("varnosyn") or var.int("varno"), var.int("varattnosyn") or var.int("varattno")
    if not 0 < number <= len(rtable) or attribute <= 0:
        return None
    entry = rtable[number - 1]
    eref = entry.node("eref")
    names = eref["colnames"] if eref is not None else None
    if eref is None or not isinstance(names, list) or attribute > len(names):
        return None
    name = names[attribute - 1]
    if not isinstance(name, str):
        return None
    if len(rtable) == 1 or entry.int("rtekind") == _RTE_JOIN and entry.node("alias") is None:
        return quote_identifier(name, keywords)  # one relation: its columns need no qualifier
    column = quote_identifier(name)  # after a dot any keyword is a column name
    alias = eref["aliasname"]
    return f"{quote_identifier(alias, keywords)}.{column}" if isinstance(alias, str) else None


def _star_span(tokens: list[Token], starts: dict[int, int], start: int) -> tuple[int, int] | None:
    """The text of `*` or `name.*` (`schema.table.*`) starting at `start`, or None for any other reference."""
    index = starts.get(start)
    if index is None:
        return None
    while index < len(tokens):
        token = tokens[index]
        if token.text == "*":
            return start, token.end
        if token.kind not in (Kind.IDENT, Kind.QUOTED_IDENT) or index + 1 == len(tokens):
            return None
        if tokens[index + 1].text != ".":
            return None
        index += 2
    return None


def _character_offsets(sql: str) -> dict[int, int]:
    """PostgreSQL's locations count bytes of UTF-8: byte offset → character offset, at every character."""
    offsets, position = {}, 0
    for index, char in enumerate(sql):
        offsets[position] = index
        position += len(char.encode("utf-8", "surrogatepass"))
    return offsets


def _same_shape(first: Described, second: Described) -> bool:
    return first.param_types == second.param_types and first.columns == second.columns
