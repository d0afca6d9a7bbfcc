"""`sqlgen watch`: regenerate whenever a query, schema or config file changes, on one warm database.

The embedded server starts once. A change to a schema file or to the config applies the
schema to a new, empty database on that server (and drops the previous one); a change to
query files alone checks the queries again in the database as it is. Errors are reported
and the watch goes on; Ctrl-C (or SIGTERM) stops the server and exits 0.

Files are polled: each watched path is stat()ed every 0.3 s. A project has a few dozen SQL
files, so this costs nothing measurable, needs no native dependency, and sees changes on
every filesystem alike, network mounts and containers' bind mounts included, where
inotify events may never arrive.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from sqlgen.catalog import read_string_bodies
from sqlgen.config import Config, Overrides, load_config
from sqlgen.database import DbConnection, apply_schema, connect, embedded_server, lost_connection
from sqlgen.errors import ToolError, UserError, display_path, os_failure
from sqlgen.output import write_output
from sqlgen.pipeline import generate, read_project
from sqlgen.report import Reporter, Verbosity, generated_summary
from sqlgen.timing import Timer

POLL_SECONDS = 0.3
SETTLE_SECONDS = 0.1  # an editor may save in several writes: wait until the files stop changing


class Kind(enum.Enum):
    CONFIG = "config"
    SCHEMA = "schema"
    QUERIES = "queries"


Signature = tuple[int, int, int] | None  # (mtime in ns, size, inode); None when the file is missing
Snapshot = dict[Path, tuple[Kind, Signature]]


def signature(path: Path) -> Signature:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def changes(before: Snapshot, after: Snapshot) -> dict[Path, Kind]:
    """The files edited, added or removed between two snapshots, and what kind each is."""
    return {
        path: kind
        for one, other in ((before, after), (after, before))
        for path, (kind, sig) in one.items()
        if other.get(path) != (kind, sig)
    }


class Session:
    """The state kept across cycles: the config, the embedded server, and the database with the schema."""

    def __init__(
        self,
        overrides: Overrides,
        reporter: Reporter,
        *,
        cwd: Path | None = None,
        environ: dict[str, str] | None = None,
        server_url: str | None = None,
    ) -> None:
        """`server_url` is a server to make scratch databases on; without one, an embedded server starts when needed."""
        self.overrides = overrides
        self.reporter = reporter
        self.cwd = cwd or Path.cwd()
        self.environ = environ
        self.config: Config | None = None
        self.conn: DbConnection | None = None
        self.database: str | None = None  # the scratch database holding the schema
        self._server = server_url
        self._stack = contextlib.ExitStack()
        self._names = itertools.count(1)
        self._schema_ready = False
        self._config_errors: list[str] | None = None

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        with _shielded():
            self.close()

    def close(self) -> None:
        self._disconnect()
        self._stack.close()

    def config_file(self) -> Path:
        if self.config is not None and self.config.config_file is not None:
            return self.config.config_file
        return self.cwd / (self.overrides.config or "pyproject.toml")

    def snapshot(self) -> Snapshot:
        """The watched files now: the config file, and every schema and query file the config names."""
        paths = {self.config_file(): Kind.CONFIG}
        if self.config is not None:
            paths.update((path, Kind.QUERIES) for path in self.config.query_files())
            paths.update((path, Kind.SCHEMA) for path in self.config.schema_files())
        return {path: (kind, signature(path)) for path, kind in paths.items()}

    def cycle(self, changed: set[Kind]) -> bool:
        """Regenerate after `changed`; True when the output is up to date with the files."""
        if not self.reload_config():  # every cycle: it is cheap, and it notices a configured file gone
            return False
        return self._regenerate(fresh=Kind.SCHEMA in changed or not self._schema_ready)

    def reload_config(self) -> bool:
        """Read the config again; its errors are reported unless they are the ones reported last time.

        A changed config needs the schema applied again, in a fresh database.
        """
        try:
            config = load_config(self.overrides, self.cwd, self.environ)
        except UserError as err:
            self.config = None
            rendered = [d.render() for d in err.diagnostics]
            if rendered != self._config_errors:
                self._config_errors = rendered
                self.reporter.user_error(err, "waiting for the config to be fixed")
                self.reporter.finish()
            return False
        if config != self.config:
            if self.config is None or config.database_url != self.config.database_url:
                self._disconnect()
                if config.database_url and config.schema:
                    self.reporter.note("checking against the live database; schema files are not applied")
            self._schema_ready = False
        self.config, self._config_errors = config, None
        return True

    def _regenerate(self, fresh: bool) -> bool:
        assert self.config is not None
        config = self.config
        timer = Timer(self.reporter.stage, self.reporter.progress)
        ok = False
        try:
            conn = self._database(config, fresh, timer)
            result = generate(config, conn, timer)
            with timer.stage("write"):
                written = write_output(config.out, result.files)
            self.reporter.info(generated_summary(config.out, len(result.files), result.queries, written))
            ok = True
        except UserError as err:
            self.reporter.user_error(err, "the previous output is kept")
        except ToolError as err:
            self.reporter.tool_error(err)
        except psycopg.Error as err:
            self.reporter.tool_error(lost_connection(err))
            self._disconnect()
        except OSError as err:
            self.reporter.tool_error(os_failure(err))
        self.reporter.finish()
        return ok

    def _database(self, config: Config, fresh: bool, timer: Timer) -> DbConnection:
        """A connection with the schema: the live database, or a scratch one with the schema applied when `fresh`."""
        if config.database_url:
            if self.conn is None or self.conn.closed:
                self.conn = connect(config.database_url)
            return self.conn
        if fresh or self.conn is None:
            self._disconnect()
            server = self._scratch_server(timer)
            with timer.stage("schema"):
                name = f"sqlgen_watch_{os.getpid()}_{next(self._names)}"
                with connect(server) as admin:
                    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                self.database = name
                with connect(make_conninfo(server, dbname=name)) as schema_session:  # its settings stay there
                    apply_schema(schema_session, read_project(config).schema)
                self.conn = connect(make_conninfo(server, dbname=name))
                read_string_bodies(self.conn)
            self._schema_ready = True
        return self.conn

    def _scratch_server(self, timer: Timer) -> str:
        if self._server is None:
            with timer.stage("database start"):
                self._server = self._stack.enter_context(embedded_server())
        return self._server

    def _disconnect(self) -> None:
        """Close the connection and drop the scratch database, if there is one."""
        self._schema_ready = False
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.database is not None and self._server is not None:
            with contextlib.suppress(psycopg.Error, ToolError), connect(self._server) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.database)))
        self.database = None


def watch(overrides: Overrides, reporter: Reporter, poll_seconds: float = POLL_SECONDS) -> int:
    """`sqlgen watch`: runs until interrupted, then exits 0 with its server stopped."""
    reporter.timestamps = True  # a terminal left open for hours: each line says when
    with _sigterm_interrupts():
        try:
            with Session(overrides, reporter) as session:
                _poll(session, poll_seconds)
        except KeyboardInterrupt:
            pass
    reporter.info("stopped watching")
    return 0


def _poll(session: Session, interval: float) -> None:
    """Generate, then again after each change, until interrupted."""
    session.reload_config()
    seen = session.snapshot()  # before generating: an edit made meanwhile is seen on the first tick
    session.cycle(set(Kind))
    session.reporter.info("watching for changes; Ctrl-C stops")
    while True:
        time.sleep(interval)
        if session.config is None:  # a broken config is read again each tick until it loads
            session.cycle(set())
            seen = session.snapshot()
            continue
        now = session.snapshot()
        if now == seen:
            continue
        for _ in range(20):
            time.sleep(SETTLE_SECONDS)
            again = session.snapshot()
            if again == now:
                break
            now = again
        changed = changes(seen, now)
        if session.reporter.verbosity >= Verbosity.VERBOSE:
            session.reporter.info(f"changed: {', '.join(sorted(display_path(p) for p in changed))}")
        session.cycle(set(changed.values()))
        # Files read by the cycle keep the signature they had before it: an edit made meanwhile is seen next tick.
        seen = {path: now.get(path, entry) for path, entry in session.snapshot().items()}


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM stops the watch as Ctrl-C does, so the embedded server is stopped either way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _shielded() -> Iterator[None]:
    """Hold off Ctrl-C and SIGTERM while the server stops: a second Ctrl-C must not leave it running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
