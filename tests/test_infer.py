"""The infer stage: parameter names and nullability, result nullability, checked on PostgreSQL."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import asyncpg
import pytest
from conftest import Databases, Project, Typer, schema_typer

from sqlgen.infer import TypedQuery

SCHEMA = """
CREATE TABLE authors (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    bio text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE books (
    id bigserial PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES authors,
    title text NOT NULL,
    subtitle text
);
CREATE VIEW author_names AS SELECT id, name FROM authors;
CREATE TABLE loose (id int);
INSERT INTO loose VALUES (NULL);
ALTER TABLE loose ADD CONSTRAINT later NOT NULL id NOT VALID;
"""


@pytest.fixture(scope="module")
def typer(databases: Databases) -> Iterator[Typer]:
    with schema_typer(databases, SCHEMA) as (infer, _):
        yield infer


def nullability(typed: TypedQuery) -> dict[str, bool]:
    return {c.name: c.nullable for c in typed.columns}


def test_not_null_columns_of_a_plain_select(typer) -> None:  # type: ignore[no-untyped-def]
    assert nullability(typer("SELECT id, name, bio, created_at FROM authors")) == {
        "id": False,
        "name": False,
        "bio": True,
        "created_at": False,
    }


def test_outer_join_side_is_nullable(typer) -> None:  # type: ignore[no-untyped-def]
    typed = typer("SELECT a.name, b.title FROM authors a LEFT JOIN books b ON b.author_id = a.id")
    assert nullability(typed) == {"name": False, "title": True}
    typed = typer("SELECT a.name, b.title FROM authors a RIGHT JOIN books b ON b.author_id = a.id")
    assert nullability(typed) == {"name": True, "title": False}
    typed = typer("SELECT a.name, b.title FROM authors a FULL JOIN books b ON b.author_id = a.id")
    assert nullability(typed) == {"name": True, "title": True}
    typed = typer("SELECT a.name, b.title FROM authors a JOIN books b ON b.author_id = a.id")
    assert nullability(typed) == {"name": False, "title": False}


def test_outer_join_inside_a_subquery_or_cte_is_seen(typer) -> None:  # type: ignore[no-untyped-def]
    typed = typer("SELECT s.title FROM (SELECT b.title FROM authors a LEFT JOIN books b ON b.author_id = a.id) s")
    assert nullability(typed) == {"title": True}
    typed = typer("WITH t AS (SELECT title FROM books) SELECT t.title FROM authors a LEFT JOIN t ON true")
    assert nullability(typed) == {"title": True}


def test_expressions(typer) -> None:  # type: ignore[no-untyped-def]
    typed = typer(
        "SELECT count(*) AS n, max(id) AS top, 1 AS one, coalesce(bio, '') AS b, bio || 'x' AS c,"
        " EXISTS (SELECT 1 FROM books) AS e FROM authors GROUP BY bio"
    )
    # max() over a group is never NULL: every group has a row, and id is NOT NULL.
    assert nullability(typed) == {"n": False, "top": False, "one": False, "b": False, "c": True, "e": False}
    typed = typer("SELECT max(id) AS top, sum(id) FILTER (WHERE bio IS NULL) AS s FROM authors GROUP BY name")
    assert nullability(typed) == {"top": False, "s": True}
    assert nullability(typer("SELECT max(id) AS top FROM authors")) == {"top": True}


def test_set_operations_grouping_sets_views_and_invalid_constraints(typer) -> None:  # type: ignore[no-untyped-def]
    assert nullability(typer("SELECT name FROM authors UNION SELECT title FROM books")) == {"name": False}
    assert nullability(typer("SELECT name FROM authors UNION SELECT subtitle FROM books")) == {"name": True}
    assert nullability(typer("SELECT name FROM authors INTERSECT SELECT subtitle FROM books")) == {"name": False}
    assert nullability(typer("SELECT bio FROM authors EXCEPT SELECT title FROM books")) == {"bio": True}
    assert nullability(typer("SELECT name, count(*) FROM authors GROUP BY ROLLUP (name)")) == {
        "name": True,
        "count": False,
    }
    assert nullability(typer("SELECT id, name FROM author_names")) == {"id": False, "name": False}
    assert nullability(typer("SELECT id FROM loose")) == {"id": True}


def test_returning(typer) -> None:  # type: ignore[no-untyped-def]
    typed = typer("INSERT INTO authors (name, bio) VALUES ($1, $2) RETURNING *")
    assert nullability(typed) == {"id": False, "name": False, "bio": True, "created_at": False}
    typed = typer("DELETE FROM authors WHERE id = $1 RETURNING old.name, new.name AS gone")
    assert nullability(typed) == {"name": False, "gone": True}
    typed = typer("INSERT INTO authors (name) VALUES ($1) ON CONFLICT DO NOTHING RETURNING old.name, new.name AS n")
    assert nullability(typed) == {"name": True, "n": False}


def test_parameter_names_and_nullability(typer) -> None:  # type: ignore[no-untyped-def]
    typed = typer("INSERT INTO authors (name, bio) VALUES ($1, $2)")
    assert [(p.name, p.nullable) for p in typed.params] == [("name", False), ("bio", True)]
    typed = typer("UPDATE books SET subtitle = $1, title = $2 WHERE id = $3")
    assert [(p.name, p.nullable) for p in typed.params] == [("subtitle", True), ("title", False), ("id", False)]
    typed = typer("SELECT id FROM books WHERE author_id = $1 AND ($2::text IS NULL OR title = $2) LIMIT $3 OFFSET $4")
    assert [(p.name, p.nullable) for p in typed.params] == [
        ("author_id", False),
        ("title", True),
        ("limit", False),
        ("offset", False),
    ]
    typed = typer("SELECT id FROM books WHERE lower(title) = $1 AND subtitle IS NOT DISTINCT FROM $2")
    assert [(p.name, p.nullable) for p in typed.params] == [("title", False), ("subtitle", True)]
    typed = typer("SELECT id FROM books WHERE title = coalesce(sqlc.narg(title), title)")
    assert [(p.name, p.nullable) for p in typed.params] == [("title", True)]


def test_colliding_inferred_parameter_names_are_made_unique(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", "-- name: Between :many\nSELECT id FROM books WHERE id > $1 AND id < $2;\n")
    output = project.generate()
    assert "async def between(conn: Executor, /, *, id: int, id_2: int) -> list[int]:" in output["queries.py"]


def test_alias_suffixes_force_nullability_and_are_dropped(typer) -> None:  # type: ignore[no-untyped-def]
    typed = typer(
        'SELECT max(created_at) AS "latest!", min(name) AS "first_name?", id AS "n?" FROM authors GROUP BY id'
    )
    assert [(c.name, c.nullable) for c in typed.columns] == [("latest", False), ("first_name", True), ("n", True)]
    assert typed.columns[0].reason == "not null: the alias ends in `!`"


def test_joins_filters_and_generated_columns(typer) -> None:  # type: ignore[no-untyped-def]
    # WHERE on the nullable side shows the row is there; its ON condition then held too.
    typed = typer("SELECT b.title, a.bio FROM books b LEFT JOIN authors a ON a.id = b.author_id WHERE a.name LIKE 'U%'")
    assert nullability(typed) == {"title": False, "bio": True}
    typed = typer("SELECT coalesce(a.id, b.author_id) AS k FROM authors a FULL JOIN books b ON b.author_id = a.id")
    assert nullability(typed) == {"k": False}
    typed = typer("SELECT extract(year FROM created_at) AS y, extract(hour FROM created_at) AS h FROM authors")
    assert nullability(typed) == {"y": False, "h": True}
    typed = typer("SELECT name, count(*), max(id) FROM authors GROUP BY ROLLUP (name)")
    assert nullability(typed) == {"name": True, "count": False, "max": True}
    typed = typer("UPDATE books SET subtitle = 'x' WHERE id = $1 RETURNING subtitle, title")
    assert nullability(typed) == {"subtitle": False, "title": False}


def embeds(typed: TypedQuery) -> list[tuple[str, int, int, bool]]:
    return [(e.name, e.first, e.count, e.nullable) for e in typed.embeds]


def test_embedded_rows_are_missing_only_on_the_nullable_side_of_an_outer_join(typer) -> None:  # type: ignore[no-untyped-def]
    join = "FROM authors a {} JOIN books b ON b.author_id = a.id"
    typed = typer(f"SELECT sqlc.embed(a), b.title, sqlc.embed(b) {join.format('LEFT')}")
    assert embeds(typed) == [("a", 0, 4, False), ("b", 5, 4, True)]
    assert typed.embeds[1].reason == "nullable: b is on the nullable side of a LEFT JOIN"
    assert [e.nullable for e in typer(f"SELECT sqlc.embed(a), sqlc.embed(b) {join.format('RIGHT')}").embeds] == [
        True,
        False,
    ]
    assert [e.nullable for e in typer(f"SELECT sqlc.embed(a), sqlc.embed(b) {join.format('FULL')}").embeds] == [
        True,
        True,
    ]
    # A WHERE condition that fails for a missing row proves the row is there.
    typed = typer(f"SELECT sqlc.embed(a), sqlc.embed(b) {join.format('LEFT')} WHERE b.title <> ''")
    assert [e.nullable for e in typed.embeds] == [False, False]
    typed = typer("SELECT sqlc.embed(v) FROM author_names v")
    assert embeds(typed) == [("v", 0, 2, False)]


def test_embed_errors_point_at_the_embed(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write(
        "queries.sql",
        """
        -- name: InSubquery :many
        SELECT s.* FROM (SELECT sqlc.embed(a) FROM authors a) s;
        -- name: OfSubquery :many
        SELECT sqlc.embed(s) FROM (SELECT id FROM authors) s;
        -- name: Empty :many
        SELECT sqlc.embed() FROM authors;
        """,
    )
    assert sorted(project.errors()) == [
        "queries.sql:2:25: error: sqlc.embed(a) must be an item of the statement's own select list\n"
        "    SELECT s.* FROM (SELECT sqlc.embed(a) FROM authors a) s;\n"
        "                            ^\n"
        "  hint: embed a table of the outermost FROM clause, not one inside a subquery or set operation",
        "queries.sql:4:8: error: sqlc.embed(s) does not name a table or view\n"
        "    SELECT sqlc.embed(s) FROM (SELECT id FROM authors) s;\n"
        "           ^\n"
        "  hint: embed a table or view of the FROM clause; list a subquery's or function's columns instead",
        "queries.sql:6:8: error: sqlc.embed() needs a table name or alias\n"
        "    SELECT sqlc.embed() FROM authors;\n"
        "           ^\n"
        "  hint: write `sqlc.embed(authors)`",
    ]


async def test_an_embedded_row_without_not_null_columns_is_none_only_when_all_its_columns_are(
    project: Project,
) -> None:
    project.write(
        "schema.sql",
        """
        CREATE TABLE people (id int PRIMARY KEY, note_id int);
        CREATE TABLE notes (id int, body jsonb);
        """,
    )
    project.write(
        "queries.sql",
        """
        -- name: PeopleWithNotes :many
        SELECT p.id, sqlc.embed(notes) FROM people p LEFT JOIN notes ON notes.id = p.note_id ORDER BY p.id;
        """,
    )
    _, url = project.package("embedgen")
    queries, models = importlib.import_module("embedgen.queries"), importlib.import_module("embedgen.models")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO people VALUES (1, 10), (2, 20), (3, NULL);"
            "INSERT INTO notes VALUES (10, '[1]'), (NULL, NULL);"
            "UPDATE people SET note_id = NULL WHERE id = 2"
        )
        rows = await queries.people_with_notes(conn)
    finally:
        await conn.close()
    assert [(r.id, r.note) for r in rows] == [(1, models.Note(id=10, body=[1])), (2, None), (3, None)]
    code = " ".join(project.generate()["queries.py"].split())  # as ruff format wraps it, on one line
    assert "note=None if r[1] is None and r[2] is None else _trusted(" in code


def test_embedding_a_table_without_a_model_is_an_error(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", "-- name: Sys :many\nSELECT sqlc.embed(pg_namespace) FROM pg_namespace;\n")
    assert "queries.sql:2:8: error: sqlc.embed(pg_namespace) in query Sys names a table without a generated model" in [
        e.splitlines()[0] for e in project.errors()
    ]
