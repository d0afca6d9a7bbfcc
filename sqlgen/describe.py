"""The describe stage: prepare each statement on the server and read its parameter and column types.

While a statement is prepared the server also sends the query tree it analysed (see
`sqlgen.pgtree`); that tree travels with the description to the infer stage.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
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


_PIPELINE_CHUNK = 100  # queries sent before their results are read


def describe_queries(
    conn: DbConnection, queries: Sequence[QuerySource], progress: Callable[[int], None] | None = None
) -> tuple[list[Described], list[Diagnostic]]:
    """Describe every query: those PostgreSQL accepts, and a diagnostic for each it rejects.

    Queries go out in libpq pipeline mode, each followed by a sync point, so a round trip is
    shared by a whole chunk and an error aborts only its own query's steps.
    """
    described: list[Described] = []
    diagnostics: list[Diagnostic] = []
    pgconn = conn.pgconn
    chunks = [queries[first : first + _PIPELINE_CHUNK] for first in range(0, len(queries), _PIPELINE_CHUNK)]
    done = 0
    with capturing_trees(conn) as trees:
        pgconn.enter_pipeline_mode()
        try:
            if chunks:
                _send(pgconn, chunks[0])
            for index, chunk in enumerate(chunks):
                results = [_results_to_sync(pgconn) for _ in chunk]
                if index + 1 < len(chunks):
                    _send(pgconn, chunks[index + 1])  # the server works on it while this one is read
                # Each statement the server analyses sends its tree, in order. libpq may read notices
                # ahead of results, so trees are matched to statements by count, not by arrival.
                analysed = [
                    sum(r.status == pq.ExecStatus.COMMAND_OK for r in _prepares(q, rs))
                    for q, rs in zip(chunk, results, strict=True)
                ]
                if sum(analysed) > len(trees):
                    raise RuntimeError(f"expected {sum(analysed)} query trees from the server, got {len(trees)}")
                for query, steps, count in zip(chunk, results, analysed, strict=True):
                    mine = trees[:count]
                    del trees[:count]
                    try:
                        described.append(_described(query, steps, mine))
                    except UserError as err:
                        diagnostics.extend(err.diagnostics)
                done += len(chunk)
                if progress is not None:
                    progress(done)
        finally:
            pgconn.exit_pipeline_mode()
    if trees:
        raise RuntimeError(f"{len(trees)} query trees from the server were not matched to a statement")
    return described, diagnostics


def _send(pgconn: pq.abc.PGconn, chunk: Sequence[QuerySource]) -> None:
    """Queue each query's steps and a sync point after them (a few hundred bytes a query: sending never blocks)."""
    for query in chunk:
        for sql in _statements(query):
            pgconn.send_prepare(b"", sql.encode())
            if sql is query.sql:
                pgconn.send_describe_prepared(b"")
        pgconn.pipeline_sync()


def _statements(query: QuerySource) -> list[str]:
    """What describing `query` prepares: its statement, and the wrapped form batched results run."""
    if query.command in (Command.BATCHONE, Command.BATCHMANY):
        return [query.sql, query.batch_sql]
    return [query.sql]


def _prepares(query: QuerySource, results: list[pq.abc.PGresult]) -> list[pq.abc.PGresult]:
    """Of one query's step results, those of its prepares (the describe is the second step)."""
    return [r for i, r in enumerate(results) if i != 1]


def _results_to_sync(pgconn: pq.abc.PGconn) -> list[pq.abc.PGresult]:
    """The results of one query's steps, up to and including its sync point's."""
    results: list[pq.abc.PGresult] = []
    while True:
        result = pgconn.get_result()
        if result is None:
            continue  # the end of one step's results
        if result.status == pq.ExecStatus.PIPELINE_SYNC:
            return results
        results.append(result)


def describe_materialized_views(conn: DbConnection, catalog: Catalog) -> dict[int, Node]:
    """The analysed query of each materialized view, so columns read from one trace to their sources."""
    views: dict[int, Node] = {}
    with capturing_trees(conn) as trees:
        for table in catalog.tables.values():
            if table.kind == "m" and table.definition:
                trees.clear()
                prepared = conn.pgconn.prepare(b"", table.definition.encode())
                ok = prepared.status == pq.ExecStatus.COMMAND_OK
                tree = _statement_tree(trees, table.definition) if ok else None
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


def _described(query: QuerySource, results: list[pq.abc.PGresult], trees: list[str]) -> Described:
    """Read one query's pipelined results (prepare, describe, then the batch form's prepare) and trees."""
    prepared, result, *batch = results
    for step in (prepared, result):
        if step.status != pq.ExecStatus.COMMAND_OK:
            raise UserError([_diagnostic(query, ServerError.from_result(step))])
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
    if batch and batch[0].status != pq.ExecStatus.COMMAND_OK:
        error = ServerError.from_result(batch[0])
        raise UserError(
            [
                query.diagnostic(
                    f"{query.command.value} runs the statement inside `WITH batch AS MATERIALIZED (…)`,"
                    f" where PostgreSQL rejects it: {error.message}",
                    hint="move a data-modifying WITH into the statement itself, or use :many per parameter set",
                )
            ]
        )
    return Described(query, params, columns, _statement_tree(trees, query.sql))  # the statement's tree comes first


def _statement_tree(messages: Iterable[str], statement: str) -> Node | None:
    """The query that sets the command tag among the trees sent for one statement (rules may add others)."""
    for message in messages:
        try:
            tree = parse_node_tree(message, statement)
        except NodeTreeError:
            return None
        for query in tree if isinstance(tree, list) else [tree]:
            if isinstance(query, Node) and query.type == "QUERY" and query["canSetTag"] is True:
                return query
    return None


_TIMED_OUT = {"55P03", "57014"}  # lock_not_available, query_canceled (statement_timeout)


def _diagnostic(query: QuerySource, error: ServerError) -> Diagnostic:
    if error.sqlstate in _TIMED_OUT:
        return query.diagnostic(
            f"describing query {query.name} took too long: {error.message}",
            None,
            detail=error.detail,
            hint="another session may hold a lock on a table the query uses; sqlgen waits describe_timeout"
            " seconds (30 unless [tool.sqlgen] says otherwise) for any one statement",
            sqlstate=error.sqlstate,
        )
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
