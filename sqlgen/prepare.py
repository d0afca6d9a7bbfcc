"""The prepare stage: prepare each statement on the server and read its parameter and column types.

While a statement is prepared the server also sends the query tree it analysed (see
`sqlgen.pgtree`); that tree travels with the description to the infer stage.
"""

from __future__ import annotations

import collections
import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import pq

from sqlgen.catalog import Catalog
from sqlgen.database import DbConnection, ReadOnlySession, ServerError, read_only
from sqlgen.errors import Diagnostic, ToolError, UserError
from sqlgen.pgtree import Node, NodeTreeError, parse_node_tree
from sqlgen.source import Command, QuerySource
from sqlgen.wire import Group, pipelined, run_statements


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


# Settings that make the server send each statement's rewritten query tree, as it analyses
# it, as a LOG message to this client; all are transaction-local (set_config(…, true)).
_TREE_SETTINGS = (
    ("debug_pretty_print", "off"),
    ("debug_print_rewritten", "on"),
    ("client_min_messages", "log"),
)
_TREE_TITLE = "rewritten parse tree:"


_PARAMETER_IN_MESSAGE = re.compile(r"parameter \$(\d+)")


def describe_queries(
    conn: DbConnection, queries: Sequence[QuerySource], progress: Callable[[int], None] | None = None
) -> tuple[list[Described], list[Diagnostic]]:
    """Describe every query: those PostgreSQL accepts, and a diagnostic for each it rejects.

    All of it happens in one read-only transaction that is rolled back (`sqlgen.database.read_only`):
    preparing a statement can run code of the database's (a domain's CHECK while a constant is
    coerced), and that code must not change a live database.
    """
    described: list[Described] = []
    diagnostics: list[Diagnostic] = []

    def read(index: int, results: list[pq.abc.PGresult], trees: list[str]) -> None:
        query = queries[index]
        try:
            described.append(_described(query, results, trees))
        except UserError as err:
            diagnostics.extend(err.diagnostics)
        if progress is not None and ((index + 1) % _PROGRESS_EVERY == 0 or index + 1 == len(queries)):
            progress(index + 1)

    with read_only(conn) as session:
        _prepare_each(session, [(_statements(q), True) for q in queries], read)
    return described, diagnostics


_PROGRESS_EVERY = 100  # queries described between two progress reports


def _statements(query: QuerySource) -> list[str]:
    """What describing `query` prepares: its statement, and the wrapped form batched results run."""
    if query.command in (Command.BATCHONE, Command.BATCHMANY):
        return [query.sql, query.batch_sql]
    return [query.sql]


def describe_materialized_views(conn: DbConnection, catalog: Catalog) -> dict[int, Node]:
    """The analysed query of each materialized view, so columns read from one trace to their sources."""
    views = [(t.oid, t.definition) for t in catalog.tables.values() if t.kind == "m" and t.definition]
    trees = analysed_trees(conn, [definition for _, definition in views])
    return {oid: tree for (oid, _), tree in zip(views, trees, strict=True) if tree is not None}


def analysed_trees(conn: DbConnection, statements: Sequence[str]) -> list[Node | None]:
    """PostgreSQL's analysed query of each statement, prepared (never run) in the read-only
    transaction; None for a statement it rejects."""
    trees: list[Node | None] = [None] * len(statements)

    def read(index: int, results: list[pq.abc.PGresult], messages: list[str]) -> None:
        if results[0].status == pq.ExecStatus.COMMAND_OK:
            trees[index] = _statement_tree(messages, statements[index])

    with read_only(conn) as session:
        _prepare_each(session, [([statement], False) for statement in statements], read)
    return trees


Reader = Callable[[int, list[pq.abc.PGresult], list[str]], None]


def _prepare_each(session: ReadOnlySession, groups: Sequence[tuple[Sequence[str], bool]], read: Reader) -> None:
    """Prepare each group's statements (describing the first when its flag says so) in one
    pipeline, and call `read(index, results, trees)` with each group's step results and the
    query trees the server sent for it, in order.

    Each group runs in the savepoint the last one left: an error aborts only its own group,
    and whatever a group changed in the session (a setting a function made) is undone before
    the next. Before its statements each group prepares a marker (`SELECT 1 AS <name>_<n>`,
    never run, named after the group with the session's unguessable name), whose tree
    divides the stream of trees: libpq may read a later group's trees before an earlier
    group's results are returned, and a statement may send none (an error) or several (rules,
    statements inside functions: those carry a context and are left out)."""
    if not groups:
        return
    conn, pgconn, name = session.conn, session.conn.pgconn, session.name
    # A group's marker names itself in its one column; sqlgen's own savepoint statements name the
    # savepoint (PostgreSQL 16+) or print as an unreadable utility statement (`:utilityStmt ?`, before 16).
    ours = re.compile(
        rf":resname\s+{name}_(\d+)\s|:savepoint_name\s+{name}\s|:commandType\s+6\s.*?:utilityStmt\s+\?", re.S
    )
    trees: collections.deque[str] = collections.deque()

    def keep_tree(diagnostic: psycopg.errors.Diagnostic) -> None:
        if diagnostic.message_primary == _TREE_TITLE and diagnostic.message_detail and not diagnostic.context:
            trees.append(diagnostic.message_detail)

    def group(index: int, statements: Sequence[str], describe: bool) -> Group:
        def send(conn: pq.abc.PGconn) -> None:
            conn.send_query_params(f"ROLLBACK TO SAVEPOINT {name}".encode(), None)
            conn.send_prepare(b"", f"SELECT 1 AS {name}_{index}".encode())
            for number, sql in enumerate(statements):
                conn.send_prepare(b"", sql.encode())
                if describe and number == 0:
                    conn.send_describe_prepared(b"")

        return send

    def group_trees(index: int) -> list[str]:
        """The trees between group `index`'s marker and the next statement of sqlgen's."""
        while trees:  # everything before the marker belongs to earlier groups or to sqlgen
            found = ours.search(trees.popleft()[:_MARKER_WITHIN])
            if found and found[1] == str(index):
                break
        mine = []
        while trees and not ours.search(trees[0][:_MARKER_WITHIN]):
            mine.append(trees.popleft())
        return mine

    def on_sync(index: int, results: list[pq.abc.PGresult]) -> None:
        rolled_back, _marker, *steps = results
        if rolled_back.status != pq.ExecStatus.COMMAND_OK:
            raise ToolError(f"describing failed: {ServerError.from_result(rolled_back).message}")
        read(index, steps, group_trees(index))

    settings = ", ".join(f"set_config('{setting}', '{value}', true)" for setting, value in _TREE_SETTINGS)
    conn.add_notice_handler(keep_tree)
    try:
        _expect_ok(run_statements(pgconn, [f"SELECT {settings}", f"SAVEPOINT {name}"], session.idle_seconds))
        trees.clear()
        pipelined(pgconn, [group(i, s, d) for i, (s, d) in enumerate(groups)], session.idle_seconds, on_sync)
        # The last group may have failed: leave the transaction as it was before the first.
        _expect_ok(
            run_statements(pgconn, [f"ROLLBACK TO SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}"], session.idle_seconds)
        )
    finally:
        conn.remove_notice_handler(keep_tree)


_MARKER_WITHIN = 4000  # characters: a marker's tree names it in its first target entry


def _expect_ok(results: list[pq.abc.PGresult]) -> None:
    for result in results:
        if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
            raise ToolError(f"describing failed: {ServerError.from_result(result).message}")


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
_READ_ONLY = "25006"  # read_only_sql_transaction


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
    if error.sqlstate == _READ_ONLY:
        error = dataclasses.replace(
            error,
            hint="sqlgen prepares statements in a read-only transaction, so that describing changes nothing;"
            " preparing this one runs a function that writes (a domain's CHECK while a constant is coerced,"
            " or a type's input function): keep such functions free of writes, or avoid the constant here",
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
