"""What describing does to a database, and that it never hangs.

`sqlgen generate --database-url` runs against a "live" database with data (a database on the
suite's server): everything it runs happens in one read-only transaction that is rolled back,
so rows, sequences, settings, prepared statements and locks are as they were; statements whose
preparation runs code that writes get a located diagnostic. Describing interleaves sending and
reading, so wide statements and many statements finish in seconds.
"""

from __future__ import annotations

import contextlib
import os
import socket
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import Databases, Project, run_sqlgen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pgbouncer import PgBouncerError, running_pgbouncer
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from sqlgen.database import connect, read_only
from sqlgen.errors import SourceText
from sqlgen.prepare import describe_queries
from sqlgen.source import parse_queries

AUDITED = """
    CREATE TABLE audit (what text);
    CREATE SEQUENCE s START 1000;
    CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL);
    INSERT INTO accounts (name) VALUES ('ann'), ('bob');
    INSERT INTO audit VALUES ('before');
    CREATE FUNCTION audit_check(x int) RETURNS boolean LANGUAGE plpgsql VOLATILE AS
      $$ BEGIN INSERT INTO audit(what) VALUES ('ran ' || x); PERFORM nextval('s'); RETURN true; END $$;
    CREATE DOMAIN checked_int AS int CHECK (audit_check(VALUE));
    CREATE TYPE wrapped AS (n checked_int);
    -- Tries to make the transaction writable, and to silence what describing reads.
    CREATE FUNCTION sneaky(x int) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$ BEGIN
      PERFORM set_config('debug_print_rewritten', 'off', false);
      PERFORM set_config('client_min_messages', 'error', false);
      PERFORM set_config('lock_timeout', '0', false);
      RETURN true; END $$;
    CREATE DOMAIN sneaky_int AS int CHECK (sneaky(VALUE));
    CREATE FUNCTION writer(x int) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$ BEGIN
      SET LOCAL transaction_read_only = off; INSERT INTO audit(what) VALUES ('writer'); RETURN true; END $$;
    CREATE DOMAIN writer_int AS int CHECK (writer(VALUE));
    CREATE MATERIALIZED VIEW account_names AS SELECT id, name FROM accounts;
"""

AUDITED_QUERIES = """
    -- name: Checked :one
    SELECT '{7}'::checked_int[] AS a;

    -- name: Wrapped :one
    SELECT ('(8)'::wrapped).n AS n;

    -- name: Sneaky :one
    SELECT '{9}'::sneaky_int[] AS s;

    -- name: AccountName :one
    SELECT name FROM accounts WHERE id = @id;

    -- name: Writer :one
    SELECT '{10}'::writer_int[] AS w;

    -- name: ViewName :one
    SELECT name FROM account_names WHERE id = @id;
"""


def write_project(root: Path, schema: str, queries: str) -> None:
    (root / "schema.sql").write_text(textwrap.dedent(schema).lstrip(), encoding="utf-8")
    (root / "queries.sql").write_text(textwrap.dedent(queries).lstrip(), encoding="utf-8")


def live_database(databases: Databases, schema: str) -> str:
    url = databases.create()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(textwrap.dedent(schema).encode())
    return url


def url_argument(url: str) -> str:
    """A URL form of a conninfo, for --database-url."""
    params = conninfo_to_dict(url)
    port, user = params.get("port", 5432), params.get("user", "postgres")
    return f"postgresql:///{params['dbname']}?host={params['host']}&port={port}&user={user}"


def database_state(url: str) -> dict[str, Any]:
    """What a describing run must leave as it was, as a new session sees it."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            "audit": conn.execute("SELECT what FROM audit ORDER BY what").fetchall(),
            "accounts": conn.execute("SELECT id, name FROM accounts ORDER BY id").fetchall(),
            "s": conn.execute("SELECT last_value, is_called FROM s").fetchone(),
            "accounts_id_seq": conn.execute("SELECT last_value, is_called FROM accounts_id_seq").fetchone(),
            "role settings": conn.execute("SELECT * FROM pg_db_role_setting ORDER BY 1, 2").fetchall(),
            "settings": conn.execute("SELECT name, setting FROM pg_settings ORDER BY name").fetchall(),
            "locks": conn.execute(
                "SELECT locktype, relation, mode FROM pg_locks WHERE pid <> pg_backend_pid()"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchall(),
            "other sessions": conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone(),
        }


def test_describing_leaves_a_live_database_as_it_was(tmp_path: Path, databases: Databases) -> None:
    url = live_database(databases, AUDITED)
    write_project(tmp_path, AUDITED, AUDITED_QUERIES)
    before = database_state(url)
    result = run_sqlgen(
        "generate", "--database-url", url_argument(url), "--queries", "queries.sql", "--out", "gen", cwd=tmp_path
    )
    assert database_state(url) == before
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    read_only_errors = [line for line in result.stderr.splitlines() if ": error: " in line and "read-only" in line]
    assert [line.split(": error: ")[0] for line in read_only_errors] == [
        "queries.sql:2:8",
        "queries.sql:5:9",
        "queries.sql:14:8",
    ], result.stderr
    assert result.stderr.count("hint: sqlgen prepares statements in a read-only transaction") == 2, result.stderr
    assert "queries.sql:14:8: error: cannot set transaction read-write mode" in result.stderr


def test_describing_what_a_function_changes_is_undone_for_the_next_statement(project: Project) -> None:
    """A function run while one statement is prepared turns the query trees off: the next statements
    still get theirs (a NOT NULL column is not Optional) and their own, not a neighbour's."""
    project.write("schema.sql", AUDITED)
    project.write(
        "queries.sql",
        """
        -- name: Sneaky :one
        SELECT '{9}'::sneaky_int[] AS s;

        -- name: AccountNames :many
        SELECT name FROM accounts WHERE id > @id;

        -- name: AccountId :one
        SELECT id, name FROM accounts WHERE name = @name;

        -- name: ViewNames :many
        SELECT name AS view_name FROM account_names WHERE id > @id;
        """,
    )
    module = project.generate()["queries.py"]
    assert "async def account_names(conn: Executor, /, *, id: int) -> list[str]:" in module
    assert "async def account_id(conn: Executor, /, *, name: str) -> models.Account | None:" in module
    assert "async def view_names(conn: Executor, /, *, id: int) -> list[str]:" in module


def test_an_immutable_plpgsql_check_on_the_embedded_server(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        """
        CREATE FUNCTION positive(x int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN x > 0; END $$;
        CREATE DOMAIN pos AS int CHECK (positive(VALUE));
        CREATE TYPE wrapped AS (n pos);
        CREATE TABLE t (id int PRIMARY KEY, label text NOT NULL);
        """,
        """
        -- name: Positives :one
        SELECT '{7}'::pos[] AS a;

        -- name: Wrapped :one
        SELECT ('(8)'::wrapped).n AS n;

        -- name: Labels :many
        SELECT label FROM t WHERE id > @id;
        """,
    )
    result = run_sqlgen("generate", "--schema", "schema.sql", "--queries", "queries.sql", "--out", "gen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    module = (tmp_path / "gen" / "queries.py").read_text(encoding="utf-8")
    assert "async def labels(conn: Executor, /, *, id: int) -> list[str]:" in module


def wide_project(columns: int, queries: int) -> tuple[str, str]:
    names = [f"col_{i:03d}" for i in range(columns)]
    schema = "CREATE TABLE wide (id int PRIMARY KEY, " + ", ".join(f"{c} text" for c in names) + ");\n"
    select = ", ".join(f"w.{c}" for c in names)
    text = "".join(
        f"-- name: Report{k} :many\nSELECT w.id, {select}\nFROM wide w\n"
        "WHERE w.id > @after_id\nORDER BY w.id\nLIMIT 100;\n\n"
        for k in range(queries)
    )
    return schema, text


@pytest.mark.parametrize(("columns", "queries"), [(120, 100), (400, 60)])
def test_wide_queries_are_described_in_seconds(tmp_path: Path, columns: int, queries: int) -> None:
    write_project(tmp_path, *wide_project(columns, queries))
    result = run_sqlgen("generate", "--schema", "schema.sql", "--queries", "queries.sql", "--out", "gen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "gen" / "queries.py").read_text(encoding="utf-8").count("async def report") == queries


def test_many_small_and_some_failing_statements_in_one_pipeline(databases: Databases) -> None:
    """3,000 statements, every tenth one rejected: each gets its own result and tree, none a neighbour's."""
    url = databases.create()
    with connect(url) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, label text NOT NULL, note text)")
        text = "".join(
            f"-- name: Q{k} :one\nSELECT {'nope' if k % 10 == 3 else 'label' if k % 2 else 'note'} AS c{k}"
            " FROM t WHERE id = $1;\n"
            for k in range(3000)
        )
        queries, problems = parse_queries(SourceText(Path("many.sql"), text))
        assert not problems
        described, diagnostics = describe_queries(conn, queries)
        assert conn.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert len(diagnostics) == 300 and all('column "nope" does not exist' in d.message for d in diagnostics)
    assert len(described) == 2700
    for item in described:
        assert item.columns[0].name == f"c{item.query.name[1:]}"
        assert item.tree is not None
        target = item.tree["targetList"][0]
        assert target["resname"] == item.columns[0].name


def test_describing_runs_in_a_read_only_transaction_rolled_back(databases: Databases) -> None:
    url = databases.create()
    with connect(url) as conn:
        conn.execute("SET statement_timeout = '7s'")
        with read_only(conn, 2.0) as session:
            assert conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
            assert conn.execute("SHOW lock_timeout").fetchone() == ("2s",)
            assert conn.execute("SHOW statement_timeout").fetchone() == ("4s",)
            with read_only(conn) as inner:
                assert inner is session
            assert session.log_silenced  # the suite's role is a superuser
        assert conn.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SHOW statement_timeout").fetchone() == ("7s",)
        assert conn.execute("SHOW lock_timeout").fetchone() == ("0",)
        assert conn.execute("SHOW log_min_messages").fetchone() == ("warning",)
        for endless in (float("inf"), float("nan")):  # as long as PostgreSQL allows
            with read_only(conn, endless):
                assert conn.execute("SHOW statement_timeout").fetchone() == ("2147483646ms",)


# The libpq environment a user may have for their own databases: the embedded server ignores it.
FOREIGN_ENVIRONMENTS = [
    {"PGOPTIONS": "-c default_transaction_read_only=on -c search_path=nowhere"},
    {"PGSERVICE": "no_such_service", "PGSERVICEFILE": "/nonexistent/pg_service.conf"},
    {
        "PGHOST": "/nonexistent",
        "PGPORT": "1",
        "PGUSER": "nobody",
        "PGDATABASE": "nothing",
        "PGPASSWORD": "wrong",
        "PGSSLMODE": "require",
        "PGTARGETSESSIONATTRS": "read-only",
        "PGTZ": "Asia/Tokyo",
        "PGDATA": "/nonexistent",
    },
]


@pytest.mark.parametrize("environment", FOREIGN_ENVIRONMENTS, ids=["PGOPTIONS", "PGSERVICE", "PGHOST-and-others"])
def test_the_embedded_server_ignores_the_libpq_environment(tmp_path: Path, environment: dict[str, str]) -> None:
    write_project(
        tmp_path,
        "CREATE TABLE t (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());\n",
        "-- name: Add :one\nINSERT INTO t (id) VALUES (@id) RETURNING id, at;\n",
    )
    result = run_sqlgen(
        "generate", "--schema", "schema.sql", "--queries", "queries.sql", "--out", "gen", cwd=tmp_path, env=environment
    )
    assert result.returncode == 0, result.stderr


def test_a_live_url_is_completed_from_the_libpq_environment(tmp_path: Path, databases: Databases) -> None:
    url = live_database(databases, "CREATE TABLE only_here (id int PRIMARY KEY);")
    params = conninfo_to_dict(url)
    write_project(tmp_path, "", "-- name: One :one\nSELECT id FROM only_here WHERE id = @id;\n")
    result = run_sqlgen(
        "generate",
        "--database-url",
        f"postgresql://?host={params['host']}&port={params.get('port', 5432)}",
        "--queries",
        "queries.sql",
        "--out",
        "gen",
        cwd=tmp_path,
        env={"PGDATABASE": str(params["dbname"]), "PGUSER": str(params.get("user", "postgres"))},
    )
    assert result.returncode == 0, result.stderr


def server_log(admin: psycopg.Connection[Any]) -> tuple[str, int]:
    """The server log's path (relative to its data folder) and size: the embedded server's is `log`."""
    path = admin.execute("SELECT coalesce(pg_current_logfile(), 'log')").fetchone()
    assert path is not None
    size = admin.execute("SELECT (pg_stat_file(%s)).size", [path[0]]).fetchone()
    assert size is not None
    return str(path[0]), int(size[0])


def log_since(admin: psycopg.Connection[Any], path: str, offset: int) -> str:
    text = admin.execute("SELECT pg_read_file(%s, %s, 100000000)", [path, offset]).fetchone()
    assert text is not None
    return str(text[0])


def test_a_role_that_may_not_silence_the_log(tmp_path: Path, databases: Databases) -> None:
    """A non-superuser: nothing is attempted that the role may not do; its trees reach the server
    log, as the docs say, unless it is granted SET on log_min_messages (PostgreSQL 15+)."""
    url = live_database(databases, "CREATE TABLE things (id int PRIMARY KEY, name text NOT NULL);")
    role = f"sqlgen_plain_{os.getpid()}"
    write_project(tmp_path, "", "-- name: Thing :one\nSELECT name FROM things WHERE id = @id;\n")
    with psycopg.connect(databases.server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        try:
            with psycopg.connect(url, autocommit=True) as owner:
                owner.execute(sql.SQL("GRANT SELECT ON things TO {}").format(sql.Identifier(role)))
            as_role = make_conninfo(url, user=role)

            def logged_by_a_run() -> str:
                """What the server logs while the role runs `sqlgen generate` against it."""
                path, start = server_log(admin)
                args = ("--database-url", url_argument(as_role), "--queries", "queries.sql", "--out", "gen")
                result = run_sqlgen("generate", *args, cwd=tmp_path)
                assert result.returncode == 0, result.stderr
                return log_since(admin, path, start)

            logged = logged_by_a_run()
            assert "permission denied" not in logged
            assert "rewritten parse tree" in logged  # what docs/cli.md says a plain role leaves there
            if admin.info.server_version >= 150000:
                admin.execute(sql.SQL("GRANT SET ON PARAMETER log_min_messages TO {}").format(sql.Identifier(role)))
                assert "rewritten parse tree" not in logged_by_a_run()
        finally:
            with psycopg.connect(url, autocommit=True) as owner:
                owner.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


SESSION_SETTINGS = (
    "statement_timeout",
    "lock_timeout",
    "debug_print_rewritten",
    "debug_pretty_print",
    "client_min_messages",
    "log_min_messages",
    "transaction_read_only",
    "search_path",
)


def pooled_session(dsn: str) -> dict[str, Any]:
    """What the next client of a one-connection PgBouncer pool finds on its server connection."""
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        return {
            "backend": conn.execute("SELECT pg_backend_pid()").fetchone(),
            "settings": [conn.execute(f"SHOW {name}").fetchone() for name in SESSION_SETTINGS],
            # Calling a PL/pgSQL function loads plpgsql, whose settings then show with their defaults.
            "all settings": conn.execute(
                "SELECT name, setting, source FROM pg_settings"
                " WHERE NOT (name LIKE 'plpgsql.%' AND source = 'default') ORDER BY name"
            ).fetchall(),
            "prepared": conn.execute("SELECT name, statement FROM pg_prepared_statements").fetchall(),
        }


def test_nothing_outlives_a_run_through_pgbouncer(tmp_path: Path, databases: Databases, server_url: str) -> None:
    """PgBouncer in transaction mode with one server connection: the next client gets it as it was
    before the run, although the run's statements failed, described a batch and a materialized view."""
    url = live_database(databases, AUDITED)
    write_project(
        tmp_path,
        AUDITED,
        AUDITED_QUERIES
        + "\n-- name: AddAccounts :batchone\nINSERT INTO accounts (name) VALUES (@name) RETURNING id;\n",
    )
    try:
        bouncer_context = running_pgbouncer(server_url, pool_mode="transaction", pool_size=1)
        bouncer = bouncer_context.__enter__()
    except PgBouncerError as err:
        pytest.fail(str(err), pytrace=False)
    try:
        dsn = bouncer.dsn(str(conninfo_to_dict(url)["dbname"]))
        before, state = pooled_session(dsn), database_state(url)
        result = run_sqlgen("generate", "--database-url", dsn, "--queries", "queries.sql", "--out", "gen", cwd=tmp_path)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.count("in a read-only transaction\n") == 2, result.stderr
        after = pooled_session(dsn)
        assert after == before
        assert database_state(url) == {**state, "other sessions": (1,)}  # PgBouncer's server connection
    finally:
        bouncer_context.__exit__(None, None, None)


class FreezingProxy:
    """A TCP proxy in front of the suite's server that stops passing the server's answers on once
    the client has sent `after` bytes: a server, pooler or network that goes silent mid-run."""

    def __init__(self, server: str, after: int) -> None:
        params = conninfo_to_dict(server)
        host, port = str(params.get("host") or "localhost"), int(params.get("port") or 5432)
        self.backend: tuple[int, Any] = (
            (socket.AF_UNIX, f"{host}/.s.PGSQL.{port}") if host.startswith("/") else (socket.AF_INET, (host, port))
        )
        self.after = after
        self.sent = 0
        self.frozen = threading.Event()
        self.stopped = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while not self.stopped.is_set():
                client, _ = self.listener.accept()
                server = socket.socket(self.backend[0])
                server.connect(self.backend[1])
                self.sockets += [client, server]
                threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
                threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if from_client:
                    self.sent += len(data)
                    if self.sent > self.after:
                        self.frozen.set()
                elif self.frozen.is_set():
                    self.stopped.wait()
                    return
                target.sendall(data)

    def close(self) -> None:
        self.stopped.set()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()


def test_a_server_that_stops_answering_ends_the_run(tmp_path: Path, databases: Databases) -> None:
    url = databases.create()
    schema, queries = wide_project(120, 100)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema.encode())
    write_project(tmp_path, "", queries)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.sqlgen]\nqueries = ["queries.sql"]\nout = "gen"\ndescribe_timeout = 0.3\n', encoding="utf-8"
    )
    proxy = FreezingProxy(url, after=60_000)
    try:
        user, dbname = conninfo_to_dict(url).get("user", "postgres"), conninfo_to_dict(url)["dbname"]
        start = time.monotonic()
        result = run_sqlgen(
            "generate", "--database-url", f"postgresql://{user}@127.0.0.1:{proxy.port}/{dbname}", cwd=tmp_path
        )
        elapsed = time.monotonic() - start
    finally:
        proxy.close()
    assert proxy.frozen.is_set()
    assert result.returncode == 2, result.stderr
    assert "the database sent nothing for 1.9 seconds" in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 15


KINDS = ("plain", "rejected", "checked", "batch")
STATEMENTS = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 300)), min_size=1, max_size=150)


@pytest.fixture(scope="module")
def mixed_database(databases: Databases) -> str:
    url = databases.create()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE t (id int PRIMARY KEY, label text NOT NULL, note text);"
            "CREATE FUNCTION positive(x int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE"
            " AS $$ BEGIN RETURN x > 0; END $$;"
            "CREATE DOMAIN pos AS int CHECK (positive(VALUE));"
        )
    return url


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(statements=STATEMENTS)
def test_every_statement_gets_its_own_result_and_tree(mixed_database: str, statements: list[tuple[str, int]]) -> None:
    """Any mix of wide and narrow statements, rejected ones, ones whose constants run a PL/pgSQL
    CHECK (whose own statements send trees too) and batches: each query is described with its own
    columns and its own tree, and each rejected one is a diagnostic."""
    text = ""
    for k, (kind, width) in enumerate(statements):
        extra = "".join(f", note AS n{k}_{j}" for j in range(width))
        command, select = ":one", f"SELECT label AS c{k}{extra} FROM t WHERE id = $1"
        if kind == "rejected":
            select = f"SELECT nope AS c{k}{extra} FROM t"
        elif kind == "checked":
            select = f"SELECT '{{{k + 1}}}'::pos[] AS c{k}{extra} FROM t"
        elif kind == "batch":
            command = ":batchone"
        text += f"-- name: Q{k} {command}\n{select};\n"
    queries, problems = parse_queries(SourceText(Path("mixed.sql"), text))
    assert not problems
    with connect(mixed_database) as conn:
        described, diagnostics = describe_queries(conn, queries)
    rejected = [k for k, (kind, _) in enumerate(statements) if kind == "rejected"]
    assert [d.location.line for d in diagnostics] == [2 * k + 2 for k in rejected]
    assert [int(d.query.name[1:]) for d in described] == [k for k in range(len(statements)) if k not in rejected]
    for item in described:
        k = int(item.query.name[1:])
        assert len(item.columns) == statements[k][1] + 1
        assert item.columns[0].name == f"c{k}"
        assert item.tree is not None
        assert [t["resname"] for t in item.tree["targetList"]] == [c.name for c in item.columns]
