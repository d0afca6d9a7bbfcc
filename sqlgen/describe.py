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
