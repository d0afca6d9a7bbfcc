"""A broken environment: Ctrl-C at any moment, a server that cannot start, a database that refuses us.

Each ends with one clear message (exit 2, or 130 when interrupted), no server process left,
no partial output and no scratch files.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from conftest import run_sqlgen, write_files
from psycopg.conninfo import conninfo_to_dict

from sqlgen.database import embedded_server
from sqlgen.output import read_output

SCHEMA = "CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL, tags text[]);\n"
QUERIES = "".join(f"-- name: Get{i} :one\nSELECT id, body FROM notes WHERE id = @id + {i};\n" for i in range(300))


def leftover_servers(scratch: Path) -> list[str]:
    """PostgreSQL processes whose data directory is under `scratch`."""
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "postgres" in line and str(scratch) in line]


@pytest.mark.parametrize("group", [True, False], ids=["terminal Ctrl-C (process group)", "SIGINT to sqlgen alone"])
def test_an_interrupted_generate_leaves_nothing_behind(tmp_path: Path, group: bool) -> None:
    project = tmp_path / "project"
    # A short path: the server's Unix socket lives under it, and socket paths are limited to ~100 bytes.
    scratch = Path(tempfile.mkdtemp(prefix="sqlgen-int-"))
    write_files(project, {"s.sql": SCHEMA, "q.sql": QUERIES})
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # Its own temp folder: the first run builds the server template there, so that being
    # interrupted while building it is tried too, and every server's files can be found.
    environment["TMPDIR"] = str(scratch)
    command = [sys.executable, "-m", "sqlgen", "generate", "--schema", "s.sql", "--queries", "q.sql", "--out", "gen"]
    complete = None
    outcomes: set[bool] = set()
    for delay in (0.3, 0.6, 0.9, 1.2, 1.6, 2.0):
        (project / ".sqlgen" / "cache.json").unlink(missing_ok=True)  # every run starts a server
        process = subprocess.Popen(
            command,
            cwd=project,
            env=environment,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        if group:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        # 130: sqlgen caught the interrupt; -SIGINT: it came again while the interpreter was exiting.
        assert process.returncode in (0, 130, -signal.SIGINT), stderr
        assert "Traceback" not in stderr
        outcomes.add(process.returncode != 0)
        deadline = time.monotonic() + 5  # an immediate shutdown takes a moment to finish
        while leftover_servers(scratch) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftover_servers(scratch) == []
        assert sorted(p.name for p in scratch.iterdir() if p.name.startswith("sqlgen-pg-")) == []
        assert not [p for p in scratch.rglob("building-*")], (delay, stderr)  # no half-built template
        output = read_output(project / "gen")
        if process.returncode == 0:
            complete = complete or output
        assert output in ({}, complete) or complete is None and len(output) == 3  # all of it, or none
    assert True in outcomes  # some runs were really interrupted
    shutil.rmtree(scratch)


def test_a_server_that_cannot_start_is_one_clear_error(tmp_path: Path) -> None:
    """A temp folder so deep that no Unix socket path fits under it: exit 2 and a message, not a traceback."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    write_files(tmp_path, {"s.sql": SCHEMA, "q.sql": QUERIES})
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment["TMPDIR"] = str(deep)
    command = [sys.executable, "-m", "sqlgen", "generate", "--schema", "s.sql", "--queries", "q.sql", "--out", "gen"]
    result = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("sqlgen: error: the embedded PostgreSQL server did not start:")
    assert "hint: pass --database-url to use a running server instead" in result.stderr
    assert not (tmp_path / "gen").exists() and leftover_servers(deep) == []


def test_a_missing_database_and_a_wrong_password_are_one_clear_error_each(tmp_path: Path) -> None:
    """On a server of its own whose pg_hba.conf asks for passwords (the shared test server trusts everyone)."""
    write_files(tmp_path, {"q.sql": QUERIES})
    with embedded_server() as url:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("CREATE ROLE alice LOGIN PASSWORD 'right'")
            hba = Path(admin.execute("SHOW hba_file").fetchone()[0])  # type: ignore[index]
            hba.write_text("local all postgres trust\nlocal all all scram-sha-256\n")
            admin.execute("SELECT pg_reload_conf()")
        params = conninfo_to_dict(url)
        socket = params["host"]
        for target, expected in [
            (f"postgresql://postgres@/no_such_database?host={socket}", 'database "no_such_database" does not exist'),
            (f"postgresql://alice:wrong@/postgres?host={socket}", 'password authentication failed for user "alice"'),
        ]:
            result = run_sqlgen(
                "generate", "--queries", "q.sql", "--out", "gen", "--database-url", target, cwd=tmp_path
            )
            assert result.returncode == 2, result.stderr
            assert result.stderr.startswith("sqlgen: error: could not connect to the database:")
            assert expected in result.stderr and "Traceback" not in result.stderr
            assert not (tmp_path / "gen").exists()
        right = run_sqlgen(
            "generate",
            "--queries",
            "q.sql",
            "--out",
            "gen",
            "--database-url",
            f"postgresql://alice:right@/postgres?host={socket}",
            cwd=tmp_path,
        )
        assert right.returncode == 1  # it connects; the queries name a table this database lacks
        assert 'relation "notes" does not exist' in right.stderr
