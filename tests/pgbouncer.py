"""Run a throw-away PgBouncer in front of the test server.

PgBouncer (Debian's `pgbouncer` package; `.ci/run` installs it) listens on a free loopback
TCP port and forwards every database name to the server behind `server_url` (a libpq
conninfo or URL, as `conftest.server_url` yields). Clients log in without a password
(`auth_type = trust`); PgBouncer logs in to the server as the server URL's user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

SEARCH_PATH = "/usr/sbin:/usr/local/sbin:/usr/local/bin"  # besides PATH
INSTALL_HINT = (
    "PgBouncer is not installed: `apt-get install -y pgbouncer` (Debian/Ubuntu; .ci/run does this) "
    "or put a `pgbouncer` executable on PATH"
)


class PgBouncerError(RuntimeError):
    """PgBouncer is missing or did not start."""


@dataclass
class PgBouncer:
    """A running PgBouncer."""

    port: int
    user: str
    pool_mode: str
    pool_size: int
    log_path: Path
    process: subprocess.Popen[bytes]

    def dsn(self, dbname: str) -> str:
        """An asyncpg DSN for database `dbname` through PgBouncer."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


def find_executable() -> str:
    """The pgbouncer executable; Debian installs it in /usr/sbin, which a normal user's PATH may lack."""
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path=SEARCH_PATH)
    if found is None:
        raise PgBouncerError(INSTALL_HINT)
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _quote(value: str) -> str:
    """A value for a libpq-style `key=value` string in pgbouncer.ini."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _run_as(host: str) -> str | None:
    """The user to run PgBouncer as: PgBouncer refuses to run as root ("PgBouncer should not run as root").

    As root, switch (`-u`) to the owner of the server's socket directory (the embedded server's
    directory is mode 0700, owned by the user that runs PostgreSQL), else to `nobody`.
    """
    if os.geteuid() != 0:
        return None
    if host.startswith("/"):
        owner = os.stat(host).st_uid
        if owner != 0:
            return pwd.getpwuid(owner).pw_name
    return "nobody"


@contextlib.contextmanager
def running_pgbouncer(
    server_url: str,
    *,
    pool_mode: str = "transaction",
    pool_size: int = 2,
    max_client_conn: int = 1000,
    settings: dict[str, str] | None = None,
) -> Iterator[PgBouncer]:
    """Start PgBouncer in front of `server_url`; stop it and delete its files afterwards.

    `settings` adds (or overrides) lines of the `[pgbouncer]` section.
    """
    executable = find_executable()
    params = conninfo_to_dict(server_url)
    host = str(params.get("host") or "/tmp")
    server_port = str(params.get("port") or "5432")
    user = str(params.get("user") or "postgres")
    target = f"host={_quote(host)} port={server_port} user={_quote(user)}"
    if params.get("password"):
        target += f" password={_quote(str(params['password']))}"

    workdir = Path(tempfile.mkdtemp(prefix="sqlgen-pgbouncer-"))
    port = _free_port()
    log_path = workdir / "pgbouncer.log"
    auth_file = workdir / "users.txt"
    auth_file.write_text(f'"{user}" ""\n', encoding="utf-8")
    config = workdir / "pgbouncer.ini"
    config.write_text(
        "\n".join(
            [
                "[databases]",
                f"* = {target}",
                "",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {auth_file}",
                f"pool_mode = {pool_mode}",
                f"default_pool_size = {pool_size}",
                "min_pool_size = 0",
                "reserve_pool_size = 0",
                f"max_client_conn = {max_client_conn}",
                f"logfile = {log_path}",
                f"pidfile = {workdir / 'pgbouncer.pid'}",
                "log_connections = 0",
                "log_disconnections = 0",
                *(f"{key} = {value}" for key, value in (settings or {}).items()),
                "",
            ]
        ),
        encoding="utf-8",
    )
    command = [executable]
    run_as = _run_as(host)
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        for path in (workdir, auth_file, config):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        command += ["-u", run_as]
    command.append(str(config))

    output = (workdir / "output.txt").open("wb")  # what PgBouncer prints before its log file is open
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
    output.close()
    bouncer = PgBouncer(port, user, pool_mode, pool_size, log_path, process)
    try:
        _wait_until_listening(bouncer)
        yield bouncer
    finally:
        if process.poll() is None:
            process.terminate()  # SIGTERM: immediate shutdown
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_until_listening(bouncer: PgBouncer, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if bouncer.process.poll() is not None:
            output = (bouncer.log_path.parent / "output.txt").read_text(encoding="utf-8", errors="replace")
            status = bouncer.process.returncode
            raise PgBouncerError(f"pgbouncer exited with status {status} before listening:\n{output}\n{bouncer.log()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", bouncer.port), timeout=1):
            return
        if time.monotonic() > deadline:
            raise PgBouncerError(f"pgbouncer did not listen on port {bouncer.port} within {timeout}s:\n{bouncer.log()}")
        time.sleep(0.05)
