"""The describe stage: prepare each statement on the server and read its parameter and column types.

While a statement is prepared the server also sends the query tree it analysed (see
`sqlgen.pgtree`); that tree travels with the description to the infer stage.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import pq

from sqlgen.catalog import Catalog
from sqlgen.database import DbConnection, ServerError
from sqlgen.errors import Diagnostic, UserError
from sqlgen.pgtree import Node, NodeTreeError, parse_node_tree
from sqlgen.source import Command, QuerySource


@dataclass(frozen=True)
class ResultColumn:
    name: str
    type_oid: int
    table_oid: int  # the source table when the column is a plain column reference, else 0
    column_number: int  # the source column's attnum, else 0


@dataclass(frozen=True)
class Described:
    query: QuerySource
    param_types: tuple[int, ...]  # type OIDs of $1..$n
    columns: tuple[ResultColumn, ...]
    tree: Node | None = None  # the server's analysed statement, when it sent one


# Settings that make the server send each prepared statement's rewritten query tree as a
# LOG message to this client. The last one keeps those trees out of the server's own log;
# only a superuser may set it, so it is tried and may fail harmlessly.
_TREE_SETTINGS = (
    ("debug_pretty_print", "off"),
    ("debug_print_rewritten", "on"),
    ("client_min_messages", "log"),
    ("log_min_messages", "panic"),
)
_TREE_TITLE = "rewritten parse tree:"


_PARAMETER_IN_MESSAGE = re.compile(r"parameter \$(\d+)")


def describe_queries(conn: DbConnection, queries: Sequence[QuerySource]) -> tuple[list[Described], list[Diagnostic]]:
    """Describe every query: those PostgreSQL accepts, and a diagnostic for each it rejects."""
    described: list[Described] = []
    diagnostics: list[Diagnostic] = []
    with capturing_trees(conn) as trees:
        for query in queries:
            try:
                described.append(describe_query(conn, query, trees))
            except UserError as err:
                diagnostics.extend(err.diagnostics)
    return described, diagnostics


def describe_materialized_views(conn: DbConnection, catalog: Catalog) -> dict[int, Node]:
    """The analysed query of each materialized view, so columns read from one trace to their sources."""
    views: dict[int, Node] = {}
    with capturing_trees(conn) as trees:
        for table in catalog.tables.values():
            if table.kind == "m" and table.definition:
                trees.clear()
                prepared = conn.pgconn.prepare(b"", table.definition.encode())
                tree = _statement_tree(trees) if prepared.status == pq.ExecStatus.COMMAND_OK else None
                if tree is not None:
                    views[table.oid] = tree
    return views


@contextlib.contextmanager
def capturing_trees(conn: DbConnection) -> Iterator[list[str]]:
    """While open, the query tree of each statement the server analyses is appended to the yielded list."""
    trees: list[str] = []

    def keep_tree(diagnostic: psycopg.errors.Diagnostic) -> None:
        if diagnostic.message_primary == _TREE_TITLE and diagnostic.message_detail:
            trees.append(diagnostic.message_detail)

    for name, value in _TREE_SETTINGS:
        conn.pgconn.exec_(f"SET {name} = {value}".encode())
    conn.add_notice_handler(keep_tree)
    try:
        yield trees
    finally:
        conn.remove_notice_handler(keep_tree)
        for name, _ in _TREE_SETTINGS:
            conn.pgconn.exec_(f"RESET {name}".encode())


def describe_query(conn: DbConnection, query: QuerySource, trees: list[str]) -> Described:
    """Describe one query; `trees` is the list `capturing_trees` fills."""
    pgconn = conn.pgconn
    trees.clear()
    prepared = pgconn.prepare(b"", query.sql.encode())
    if prepared.status != pq.ExecStatus.COMMAND_OK:
        raise UserError([_diagnostic(query, ServerError.from_result(prepared))])
    result = pgconn.describe_prepared(b"")
    if result.status != pq.ExecStatus.COMMAND_OK:
        raise UserError([_diagnostic(query, ServerError.from_result(result))])
    columns = tuple(
        ResultColumn(
            name=(result.fname(i) or b"").decode(),
            type_oid=result.ftype(i),
            table_oid=result.ftable(i),
            column_number=result.ftablecol(i),
        )
        for i in range(result.nfields)
    )
    params = tuple(result.param_type(i) for i in range(result.nparams))
    tree = _statement_tree(trees)
    if query.command in (Command.BATCHONE, Command.BATCHMANY):
        batch = pgconn.prepare(b"", query.batch_sql.encode())
        if batch.status != pq.ExecStatus.COMMAND_OK:
            error = ServerError.from_result(batch)
            raise UserError(
                [
                    query.diagnostic(
                        f"{query.command.value} runs the statement inside `WITH batch AS MATERIALIZED (…)`,"
                        f" where PostgreSQL rejects it: {error.message}",
                        hint="move a data-modifying WITH into the statement itself, or use :many per parameter set",
                    )
                ]
            )
    return Described(query, params, columns, tree)


def _statement_tree(messages: Iterable[str]) -> Node | None:
    """The query that sets the command tag among the trees sent for one statement (rules may add others)."""
    for message in messages:
        try:
            tree = parse_node_tree(message)
        except NodeTreeError:
            return None
        for query in tree if isinstance(tree, list) else [tree]:
            if isinstance(query, Node) and query.type == "QUERY" and query["canSetTag"] is True:
                return query
    return None


def _diagnostic(query: QuerySource, error: ServerError) -> Diagnostic:
    if error.position is not None:
        return query.diagnostic(error.message, error.position, **error.extras())
    # "could not determine data type of parameter $2" has no position: point at the parameter.
    mentioned = _PARAMETER_IN_MESSAGE.search(error.message)
    param = next((p for p in query.params if mentioned and p.number == int(mentioned[1])), None)
    if param is None:
        return query.diagnostic(error.message, 0, **error.extras())
    hint = error.hint or "add a cast that names the type, e.g. `@name::text` or `$1::int`"
    return query.file.diagnostic(
        error.message, param.offsets[0], detail=error.detail, hint=hint, sqlstate=error.sqlstate
    )
