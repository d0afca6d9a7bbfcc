"""`sqlgen db`: the persistent dev database, end to end, as a user runs it (real subprocesses)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

APP = """\
import asyncio, os, sys
import asyncpg

async def main() -> None:
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    if sys.argv[1] == "insert":
        await conn.execute("INSERT INTO authors (name) VALUES ('Ursula')")
    print(await conn.fetchval("SELECT count(*) FROM authors"))
    await conn.close()

asyncio.run(main())
"""


def sqlgen(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "sqlgen", *args], cwd=project, capture_output=True, text=True, env=environment
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def app(project: Path, url: str, action: str) -> int:
    result = subprocess.run(
        [sys.executable, "app.py", action],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def server_processes(pgdata: Path) -> list[psutil.Process]:
    """The dev server's live processes: every one working in its data folder (zombies are gone)."""
    found = []
    for process in psutil.process_iter(["cwd", "status"]):
        if process.info["cwd"] == str(pgdata) and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    sqlgen(tmp_path, "init")
    (tmp_path / "app.py").write_text(APP)
    yield tmp_path
    sqlgen(tmp_path, "db", "stop", check=False)
    for process in server_processes((tmp_path / ".sqlgen" / "postgres").resolve()):
        process.kill()


def test_start_connect_stop_start_reset(project: Path) -> None:
    pgdata = (project / ".sqlgen" / "postgres").resolve()
    started = sqlgen(project, "db", "start")
    url = started.stdout.strip()
    assert url.startswith("postgresql://") and "host=/" in url  # a Unix socket: no TCP port is opened
    assert "made the database" in started.stderr
    assert (project / ".sqlgen" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert app(project, url, "insert") == 1

    again = sqlgen(project, "db", "start")  # a no-op that prints the URL
    assert again.stdout.strip() == url and "already running" in again.stderr
    assert sqlgen(project, "db", "url").stdout.strip() == url
    status = sqlgen(project, "db", "status")
    assert status.stdout.startswith("running") and "schema up to date (1 files applied)" in status.stdout

    assert "stopped" in sqlgen(project, "db", "stop").stderr
    assert server_processes(pgdata) == []
    stopped = sqlgen(project, "db", "status", check=False)
    assert stopped.returncode == 3 and stopped.stdout.startswith("stopped")
    assert "run `sqlgen db start`" in sqlgen(project, "db", "url", check=False).stderr

    assert sqlgen(project, "db", "start").stdout.strip() == url
    assert app(project, url, "count") == 1  # the data survived the stop
    assert sqlgen(project, "db", "reset").stdout.strip() == url
    assert app(project, url, "count") == 0


def test_a_killed_server_is_reported_and_restarted(project: Path) -> None:
    pgdata = (project / ".sqlgen" / "postgres").resolve()
    url = sqlgen(project, "db", "start").stdout.strip()
    assert app(project, url, "insert") == 1
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while psutil.pid_exists(postmaster) and psutil.Process(postmaster).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline
        time.sleep(0.02)

    status = sqlgen(project, "db", "status", check=False)
    assert status.returncode == 3
    assert "killed or crashed" in status.stdout
    restarted = sqlgen(project, "db", "start")
    assert "had been killed; restarted it" in restarted.stderr
    assert app(project, restarted.stdout.strip(), "count") == 1  # committed data is recovered


def test_schema_changes_new_files_are_applied_changed_ones_need_reset(project: Path) -> None:
    url = sqlgen(project, "db", "start").stdout.strip()
    assert app(project, url, "insert") == 1
    schema = project / "db" / "schema"
    (schema / "002_books.sql").write_text("CREATE TABLE books (id int PRIMARY KEY);\n")
    assert "new schema files, applied by the next `sqlgen db start`: db/schema/002_books.sql" in (
        sqlgen(project, "db", "status").stdout
    )
    assert "applied the new schema file db/schema/002_books.sql" in sqlgen(project, "db", "start").stderr
    assert app(project, url, "count") == 1  # applying a new file keeps the data

    with (schema / "001_init.sql").open("a") as file:
        file.write("ALTER TABLE authors ADD COLUMN email text;\n")
    status = sqlgen(project, "db", "status").stdout
    assert "schema changed since the database was made: db/schema/001_init.sql" in status
    assert "`sqlgen db reset`" in status
    assert "run `sqlgen db reset`" in sqlgen(project, "db", "start").stderr
    sqlgen(project, "db", "reset")
    assert "schema up to date (2 files applied)" in sqlgen(project, "db", "status").stdout
    assert app(project, url, "count") == 0


def test_a_schema_error_is_located_and_leaves_no_database(project: Path) -> None:
    (project / "db" / "schema" / "002_bad.sql").write_text(
        textwrap.dedent("""\
        CREATE TABLE books (
            title txt NOT NULL
        );
        """)
    )
    failed = sqlgen(project, "db", "start", check=False)
    assert failed.returncode == 1
    assert 'db/schema/002_bad.sql:2:11: error: type "txt" does not exist' in failed.stderr
    assert "Traceback" not in failed.stderr
    (project / "db" / "schema" / "002_bad.sql").write_text("CREATE TABLE books (title text NOT NULL);\n")
    assert "made the database" in sqlgen(project, "db", "start").stderr  # the next start makes it


def test_database_url_is_never_used(project: Path, server_url: str) -> None:
    """`sqlgen db` ignores DATABASE_URL: it makes no database there, and its URL is its own server's."""
    environment = {**os.environ, "DATABASE_URL": server_url}
    result = subprocess.run(
        [sys.executable, "-m", "sqlgen", "db", "start"], cwd=project, capture_output=True, text=True, env=environment
    )
    assert result.returncode == 0, result.stderr
    with psycopg.connect(server_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = 'dev'").fetchone() == (0,)
    live = conninfo_to_dict(server_url)
    dev = conninfo_to_dict(result.stdout.strip())
    assert (dev.get("host"), dev.get("port")) != (live.get("host"), live.get("port"))
    sqlgen(project, "db", "stop")


def test_the_users_libpq_environment_does_not_reach_the_dev_server(project: Path) -> None:
    """As for the throw-away server (issue 15 §7): PGOPTIONS, PGSERVICE, PGHOST and PGPORT are the user's
    settings for their own databases; the dev server and sqlgen's connections to it ignore them."""
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "PGOPTIONS": "-c default_transaction_read_only=on",
        "PGSERVICE": "no-such-service",
        "PGHOST": "127.0.0.9",
        "PGPORT": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "sqlgen", "db", "start"], cwd=project, capture_output=True, text=True, env=environment
    )
    assert result.returncode == 0, result.stderr
    try:
        with psycopg.connect(result.stdout.strip()) as conn:
            assert conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'books'").fetchone()
    finally:
        sqlgen(project, "db", "stop")
