"""Errors PostgreSQL finds in queries, located in the user's file, all reported together."""

from __future__ import annotations

import psycopg
import pytest
from conftest import Project

from sqlgen.errors import UserError
from sqlgen.pipeline import generate_package

SCHEMA = """
CREATE TABLE authors (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    email text,
    born date
);
CREATE TABLE points (p point);
"""


def first_lines(rendered: list[str]) -> list[str]:
    return [r.splitlines()[0] for r in rendered]


def test_syntax_error_points_at_the_token(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", "-- name: Q :one\nSELECT id\nFROM authors WHERE ORDER BY id;")
    [rendered] = project.errors()
    assert rendered.splitlines() == [
        'queries.sql:3:20: error: syntax error at or near "ORDER"',
        "    FROM authors WHERE ORDER BY id;",
        "                       ^",
    ]


def test_unknown_column_is_located_after_parameter_rewriting(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write(
        "queries.sql", "-- name: Q :one\nSELECT id FROM authors WHERE id = sqlc.arg(author_id) AND emial = @email;"
    )
    [rendered] = project.errors()
    lines = rendered.splitlines()
    assert lines[0] == 'queries.sql:2:59: error: column "emial" does not exist'
    assert lines[2] == "    " + " " * 58 + "^"
    assert any(line.startswith("  hint:") for line in lines) or len(lines) == 3


def test_unknown_table(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", "-- name: Q :many\n-- doc\nSELECT * FROM author;")
    [rendered] = project.errors()
    assert rendered.splitlines()[0] == 'queries.sql:3:15: error: relation "author" does not exist'


def test_type_mismatch(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", "-- name: Q :many\nSELECT * FROM authors WHERE born = 'x' || 1 + true;")
    [rendered] = project.errors()
    assert rendered.startswith("queries.sql:2:")
    assert "operator does not exist" in rendered
    assert "hint:" in rendered


def test_undeterminable_parameter_type_points_at_the_parameter(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", "-- name: Q :one\nSELECT 1 WHERE @what IS NULL;")
    [rendered] = project.errors()
    assert rendered.splitlines()[0] == "queries.sql:2:16: error: could not determine data type of parameter $1"
    assert "hint: add a cast" in rendered


def test_one_on_a_statement_without_rows(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", "-- name: Rename :one\nUPDATE authors SET name = @name WHERE id = @id;")
    [rendered] = project.errors()
    assert rendered.splitlines()[0] == "queries.sql:1:1: error: query Rename is :one but its statement returns no rows"
    assert "RETURNING" in rendered


def test_unsupported_type_names_type_and_query(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", "-- name: GetPoints :many\nSELECT 1 AS one, pt FROM points pt;")
    [rendered] = project.errors()
    assert "column pt of query GetPoints has type public.points, a table's row type" in rendered
    assert rendered.startswith("queries.sql:2:18:")
    assert "hint: cast it in the SQL to a type sqlgen supports" in rendered
    assert "overrides" not in rendered  # asyncpg reads a row as a record: mapping it to `str` would not work


def test_duplicate_query_names(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write(
        "queries.sql",
        "-- name: GetAuthor :one\nSELECT 1;\n-- name: get_author :one\nSELECT 2;\n",
    )
    [rendered] = project.errors()
    assert rendered.splitlines()[0] == (
        "queries.sql:3:1: error: query get_author has the same function name, get_author, as GetAuthor"
    )


def test_every_error_of_a_run_is_reported_sorted(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("b.sql", "-- name: B :one\nSELECT nope FROM authors;\n")
    project.write(
        "a.sql",
        "-- name: A1 :one\nSELECT * FROM missing;\n-- name: A2 :bogus\nSELECT 1;\n-- name: A3 :one\nSELECT 1 +;\n",
    )
    rendered = project.errors(queries=("a.sql", "b.sql"))
    assert [line.split(": error")[0] for line in first_lines(rendered)] == [
        "a.sql:2:15",
        "a.sql:3:13",
        "a.sql:6:11",
        "b.sql:2:8",
    ]


def test_schema_error_with_a_position(project: Project) -> None:
    project.write("schema.sql", "CREATE TABLE a (id int);\nCREATE TABLE b (id int, x nosuchtype);\n")
    project.write("queries.sql", "-- name: Q :one\nSELECT 1;")
    [rendered] = project.errors()
    assert rendered.splitlines()[0] == 'schema.sql:2:27: error: type "nosuchtype" does not exist'


def test_schema_error_names_file_line_and_column(project: Project) -> None:
    project.write("schema/1_ok.sql", "CREATE TABLE a (id int);\n")
    project.write(
        "schema/2_bad.sql",
        "CREATE TABLE b (id int);\n\nCREATE TABLE c (\n  id int,\n  b_id int REFERENCES nowhere\n);\n"
        "CREATE TABLE d (id int);\n",
    )
    project.write("queries.sql", "-- name: Q :one\nSELECT 1;")
    [rendered] = project.errors(schema=("schema",))
    # PostgreSQL gives no position for this error: the failing statement is pointed at.
    assert rendered.splitlines()[0] == 'schema/2_bad.sql:3:1: error: relation "nowhere" does not exist'


def test_a_query_waiting_on_a_lock_gives_up_after_describe_timeout(project: Project) -> None:
    url = project.databases.create()
    with psycopg.connect(url, autocommit=True) as setup:
        setup.execute("CREATE TABLE held (id int PRIMARY KEY)")
    project.write(
        "pyproject.toml",
        '[tool.sqlgen]\nqueries = "queries.sql"\nout = "gen"\ndescribe_timeout = 0.3\n',
    )
    project.write("queries.sql", "-- name: Held :many\nSELECT id FROM held;\n")
    config = project.config(schema=None, queries=None, database_url=url)
    assert config.describe_timeout == 0.3
    with psycopg.connect(url) as locker:  # another session holds the table for the whole run
        locker.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(UserError) as caught:
            generate_package(config)
    [diagnostic] = caught.value.diagnostics
    assert str(diagnostic.location) == "queries.sql:1:1"
    assert diagnostic.message == "describing query Held took too long: canceling statement due to lock timeout"
    assert diagnostic.sqlstate == "55P03" and diagnostic.hint is not None and "describe_timeout" in diagnostic.hint
    assert generate_package(config).described == 1  # the lock released, the same run goes through


def test_describe_timeout_must_be_seconds(project: Project) -> None:
    project.write("pyproject.toml", '[tool.sqlgen]\nqueries = "queries.sql"\nout = "gen"\ndescribe_timeout = "soon"\n')
    project.write("queries.sql", "-- name: One :one\nSELECT 1;\n")
    with pytest.raises(UserError) as caught:
        project.config(schema=None, queries=None)
    assert [d.render().splitlines()[0] for d in caught.value.diagnostics] == [
        "pyproject.toml:4:1: error: describe_timeout must be a number of seconds above 0, at most 3600 (it is 'soon')"
    ]
