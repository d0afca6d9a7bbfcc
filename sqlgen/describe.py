"""The describe stage: prepare each statement on the server and read its parameter and column types."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import pq

from sqlgen.database import DbConnection, ServerError
from sqlgen.errors import Diagnostic, UserError
from sqlgen.source import QuerySource


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


_PARAMETER_IN_MESSAGE = re.compile(r"parameter \$(\d+)")


def describe_queries(conn: DbConnection, queries: Sequence[QuerySource]) -> tuple[list[Described], list[Diagnostic]]:
    """Describe every query: those PostgreSQL accepts, and a diagnostic for each it rejects."""
    described: list[Described] = []
    diagnostics: list[Diagnostic] = []
    for query in queries:
        try:
            described.append(describe_query(conn, query))
        except UserError as err:
            diagnostics.extend(err.diagnostics)
    return described, diagnostics


def describe_query(conn: DbConnection, query: QuerySource) -> Described:
    pgconn = conn.pgconn
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
    return Described(query, params, columns)


def _diagnostic(query: QuerySource, error: ServerError) -> Diagnostic:
    position = error.position
    hint = error.hint
    if position is None:
        mentioned = _PARAMETER_IN_MESSAGE.search(error.message)
        param = next((p for p in query.params if mentioned and p.number == int(mentioned.group(1))), None)
        if param is not None:
            diagnostic = query.file.diagnostic(
                error.message,
                param.offsets[0],
                detail=error.detail,
                hint=hint or "add a cast that names the type, e.g. `@name::text` or `$1::int`",
                sqlstate=error.sqlstate,
            )
            return diagnostic
        position = 0
    return query.diagnostic(error.message, position, **error.extras())
