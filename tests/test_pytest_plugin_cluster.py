"""The pytest plugin on a DATABASE_URL server leaves the server as it found it.

A schema may hold statements that reach the whole server (roles, databases, role settings,
memberships). Two consecutive inner pytest sessions, in subprocesses, on this suite's server:
both pass, and afterwards the server's roles, databases, tablespaces, role settings and
memberships are what they were before the first.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from conftest import dsn_url, write_files
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from sqlgen.cluster_state import ClusterState

pytest_plugins = ["pytester"]

TESTS = """
def test_the_schema_is_there(sqlgen_database_url):
    import psycopg

    with psycopg.connect(sqlgen_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM notes").fetchone() == (0,)
"""


@pytest.fixture
def existing(server_url: str) -> Iterator[tuple[str, str]]:
    """Two roles that were there before the sessions, one with settings of its own."""
    names = (f"sqlgen_old_{secrets.token_hex(3)}", f"sqlgen_group_{secrets.token_hex(3)}")
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
        conn.execute(sql.SQL('ALTER ROLE {} SET search_path = x, "y z"').format(sql.Identifier(names[0])))
        conn.execute(sql.SQL("ALTER ROLE {} SET lock_timeout = '7s'").format(sql.Identifier(names[0])))
    yield names
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def cluster(server_url: str) -> ClusterState:
    with psycopg.connect(server_url, autocommit=True) as conn:
        return ClusterState.read(conn)


def test_two_sessions_with_a_schema_that_creates_and_alters_roles_both_pass_and_leave_the_server_as_it_was(
    pytester: pytest.Pytester, server_url: str, existing: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, group = existing
    new_role, new_database = f"sqlgen_app_{secrets.token_hex(3)}", f"sqlgen_extra_{secrets.token_hex(3)}"
    maintenance = conninfo_to_dict(server_url).get("dbname", "postgres")
    schema = f"""
        CREATE ROLE {new_role} NOLOGIN;
        ALTER ROLE {new_role} SET work_mem = '8MB';
        ALTER ROLE {old} SET search_path = public, other;
        ALTER ROLE {old} RESET lock_timeout;
        ALTER ROLE {old} SET statement_timeout = '5s';
        GRANT {group} TO {old};
        GRANT {group} TO {new_role};
        GRANT CONNECT ON DATABASE "{maintenance}" TO {new_role};
        CREATE DATABASE {new_database};
        CREATE TABLE notes (id int PRIMARY KEY);
        GRANT SELECT ON notes TO {new_role};
    """
    write_files(
        pytester.path,
        {
            "pyproject.toml": '[tool.pytest.ini_options]\nsqlgen_schema = "schema.sql"\n',
            "schema.sql": "\n".join(line.strip() for line in schema.splitlines()),
            "tests/test_schema.py": TESTS,
        },
    )
    before = cluster(server_url)
    monkeypatch.setenv("DATABASE_URL", dsn_url(server_url))
    for _ in range(2):  # the second used to fail: role "…" already exists
        result = pytester.runpytest_subprocess(timeout=300)
        result.assert_outcomes(passed=1)
        after = cluster(server_url)
        assert after.roles == before.roles and after.databases == before.databases
        assert after.settings == before.settings  # search_path = x, "y z" and lock_timeout are back
        assert after.memberships == before.memberships
        assert after.tablespaces == before.tablespaces
    with psycopg.connect(server_url, autocommit=True) as conn:
        [config] = conn.execute(
            "SELECT setconfig FROM pg_db_role_setting JOIN pg_roles r ON r.oid = setrole WHERE rolname = %s", [old]
        ).fetchone() or [None]
    assert sorted(config) == ["lock_timeout=7s", 'search_path=x, "y z"']


def test_what_cannot_be_undone_fails_the_session_naming_it(
    pytester: pytest.Pytester, server_url: str, existing: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, _ = existing
    write_files(
        pytester.path,
        {
            "pyproject.toml": '[tool.pytest.ini_options]\nsqlgen_schema = "schema.sql"\n',
            "schema.sql": f"ALTER ROLE {old} WITH CREATEDB;\nCREATE TABLE notes (id int);\n",
            "tests/test_schema.py": TESTS,
        },
    )
    monkeypatch.setenv("DATABASE_URL", dsn_url(server_url))
    result = pytester.runpytest_subprocess(timeout=300)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*sqlgen: the schema changed the server in ways the session could not undo:",
            f"*role {old}: its attributes changed (ALTER ROLE … WITH)",
        ]
    )
