"""Array element nullability: inferred on the server's tree, each claim checked against PostgreSQL's data."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from typing import Any

import asyncpg
import psycopg
import pytest
from conftest import Databases, Project, Typer, schema_typer
from hypothesis import given
from hypothesis import strategies as st

from sqlgen.elements import forced_elements

SCHEMA = """
CREATE DOMAIN clean_ints AS int[] CHECK (array_position(VALUE, NULL) IS NULL);
CREATE TABLE people (
    id int PRIMARY KEY,
    name text NOT NULL,
    nick text,
    tags text[],
    clean text[] CHECK (array_position(clean, NULL) IS NULL),
    also text[] CHECK (also = array_remove(also, NULL)),
    loose text[] CHECK (NOT (NULL = ANY (loose))),
    "odd[!]" text[]
);
CREATE TABLE scores (id int PRIMARY KEY, person_id int NOT NULL, points int NOT NULL, list clean_ints);
INSERT INTO people VALUES
    (1, 'a,b', NULL, '{x,NULL}', '{p}', '{q}', '{NULL}', '{NULL}'),
    (2, 'c', 'n', NULL, NULL, NULL, NULL, NULL);
CREATE FUNCTION int_to_nothing(int) RETURNS text LANGUAGE sql AS 'SELECT NULL::text';
CREATE CAST (int AS text) WITH FUNCTION int_to_nothing(int);
CREATE TABLE parent (v text[] CHECK (array_position(v, NULL) IS NULL) NO INHERIT);
CREATE TABLE child () INHERITS (parent);
INSERT INTO child VALUES ('{NULL}');
INSERT INTO scores VALUES (1, 1, 10, '{1,2}'), (2, 1, 20, NULL);
"""

NULL_FREE = [
    "SELECT ARRAY[id, 2] AS v FROM people",
    "SELECT (SELECT array_agg(name) FROM people) AS v",
    "SELECT array_agg(name) AS v FROM people GROUP BY id",
    "SELECT array_agg(nick) AS v FROM people WHERE nick IS NOT NULL",
    "SELECT array_remove(tags, NULL) AS v FROM people",
    "SELECT ARRAY(SELECT name FROM people) AS v",
    "SELECT clean AS v FROM people",
    "SELECT also AS v FROM people",
    "SELECT list AS v FROM scores",
    "SELECT '{a,b}'::text[] AS v",
    "SELECT '{}'::text[] AS v",
    "SELECT string_to_array(name, ',') AS v FROM people",
    "SELECT regexp_split_to_array(name, ',') AS v FROM people",
    "SELECT array_append(clean, name) AS v FROM people",
    "SELECT clean || name AS v FROM people",
    "SELECT clean || also AS v FROM people",
    "SELECT coalesce(clean, '{}') AS v FROM people",
    "SELECT CASE WHEN id > 1 THEN clean END AS v FROM people",
    "SELECT c AS v FROM (SELECT clean AS c FROM people) s",
    "WITH x AS (SELECT clean FROM people) SELECT clean AS v FROM x",
    "SELECT p.clean AS v FROM scores s LEFT JOIN people p ON p.id = s.person_id",
    "SELECT clean AS v FROM people UNION ALL SELECT also FROM people",
    "SELECT v FROM (VALUES (ARRAY[1]), (ARRAY[2, 3])) t (v)",
    'SELECT tags AS "v[!]" FROM people WHERE false',  # said in the query (no row to contradict it)
]

MAY_HOLD_NULL = [
    "SELECT ARRAY[nick] AS v FROM people",
    "SELECT array_agg(nick) AS v FROM people",
    "SELECT tags AS v FROM people",
    "SELECT loose AS v FROM people",  # a CHECK that is NULL, not false, for a NULL element passes
    "SELECT array_agg(s.points) AS v FROM people p LEFT JOIN scores s ON s.person_id = p.id",
    "SELECT array_remove(tags, 'y') AS v FROM people",
    "SELECT '{a,NULL}'::text[] AS v",
    "SELECT string_to_array(name, ',', 'a') AS v FROM people",
    "SELECT array_append(clean, nick) AS v FROM people",
    "SELECT ARRAY(SELECT nick FROM people) AS v",
    "SELECT clean AS v FROM people UNION ALL SELECT tags FROM people",
    'SELECT "odd[!]" AS v FROM people',
    "SELECT v FROM parent",  # its CHECK is NO INHERIT: rows of child come without it
    "SELECT list::text[] AS v FROM scores",  # each element cast through a user's function, which gives NULL
    'SELECT clean AS "v[?]" FROM people UNION ALL SELECT loose FROM people',
]


@pytest.fixture(scope="module")
def server(databases: Databases) -> Iterator[tuple[Typer, str]]:
    with schema_typer(databases, SCHEMA, ":many") as typed:
        yield typed


def elements(url: str, sql: str) -> list[Any]:
    with psycopg.connect(url) as conn:
        return [e for (value,) in conn.execute(sql).fetchall() if value is not None for e in _flat(value)]


def _flat(value: Any) -> Iterator[Any]:
    for item in value:
        if isinstance(item, list):
            yield from _flat(item)
        else:
            yield item


@pytest.mark.parametrize("sql", NULL_FREE)
def test_arrays_without_null_elements(server, sql: str) -> None:  # type: ignore[no-untyped-def]
    infer, url = server
    [column] = infer(sql).columns
    assert column.name == "v"
    assert not column.elements_nullable, column.elements_reason
    assert column.elements_reason.startswith("not null: ")
    assert None not in elements(url, sql)


@pytest.mark.parametrize("sql", MAY_HOLD_NULL)
def test_arrays_that_may_hold_null_elements(server, sql: str) -> None:  # type: ignore[no-untyped-def]
    infer, url = server
    [column] = infer(sql).columns
    assert column.elements_nullable, column.elements_reason
    assert column.elements_reason.startswith("nullable: ")
    if "[?]" not in sql:
        assert None in elements(url, sql)  # PostgreSQL shows it is right to allow for NULL


def test_a_table_column_named_with_the_suffix_is_not_an_override(server) -> None:  # type: ignore[no-untyped-def]
    infer, _ = server
    [column] = infer('SELECT "odd[!]" FROM people').columns
    assert (column.name, column.elements_nullable) == ("odd[!]", True)
    [column] = infer('SELECT tags AS "tags![!]" FROM people').columns
    assert (column.name, column.nullable, column.elements_nullable) == ("tags", False, False)
    [column] = infer('SELECT clean AS "clean?[?]" FROM people').columns
    assert (column.name, column.nullable, column.elements_nullable) == ("clean", True, True)
    [column] = infer('SELECT name AS "name[!]" FROM people').columns  # not an array: the suffix stays
    assert column.name == "name[!]"


SUFFIX_FREE = st.text(min_size=1).filter(lambda n: not n.endswith(("[!]", "[?]")))


@given(SUFFIX_FREE, st.sampled_from(["[!]", "[?]"]))
def test_element_suffixes_are_read_off_any_name(name: str, suffix: str) -> None:
    stripped, verdict = forced_elements(name + suffix)
    assert stripped == name
    assert verdict is not None and verdict.nullable == (suffix == "[?]")
    assert forced_elements(name) == (name, None)


@pytest.mark.parametrize(
    ("sql", "elements_nullable"),
    [
        ("SELECT id FROM people WHERE id = ANY(@ids)", False),
        ("SELECT id FROM people WHERE id <> ALL(@ids::int[])", False),
        ("SELECT id FROM people WHERE id = ANY(@ids) OR cardinality(@ids) = 0", True),
        ("UPDATE people SET tags = @tags WHERE id = 1", True),
        ("UPDATE people SET clean = @tags WHERE id = 1", True),  # the column's CHECK says it (typemap)
    ],
)
def test_array_parameters_take_null_elements_only_where_they_mean_something(
    server,  # type: ignore[no-untyped-def]
    sql: str,
    elements_nullable: bool,
) -> None:
    infer, _ = server
    [param] = infer(sql).params
    assert param.elements_nullable == elements_nullable


ELEMENTS_QUERIES = """
-- name: PeopleNames :one
SELECT array_agg(name ORDER BY id) AS names, array_agg(nick ORDER BY id) AS nicks FROM people;

-- name: CleanOf :many
SELECT clean FROM people WHERE id = ANY(@ids) ORDER BY id;

-- name: SetClean :exec
UPDATE people SET clean = @clean WHERE id = @id;
"""


def test_generated_code_types_elements_and_reads_them(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", ELEMENTS_QUERIES)
    _, url = project.package("gen_elements")
    source = (project.root / "gen_elements" / "queries.py").read_text()
    assert "names: list[str] | None" in source
    assert "nicks: list[str | None] | None" in source
    assert "ids: Sequence[int]," in source or "ids: Sequence[int])" in source
    assert "clean: Sequence[str] | None" in source
    assert "-> list[list[str] | None]:" in source
    models = (project.root / "gen_elements" / "models.py").read_text()
    assert "clean: list[str] | None" in models and "tags: list[str | None] | None" in models
    queries = importlib.import_module("gen_elements.queries")

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            row = await queries.people_names(conn)
            assert (row.names, row.nicks) == (["a,b", "c"], [None, "n"])
            await queries.set_clean(conn, clean=["z"], id=2)
            assert await queries.clean_of(conn, ids=[1, 2]) == [["p"], ["z"]]
            with pytest.raises(asyncpg.CheckViolationError):
                await queries.set_clean(conn, clean=["z", None], id=2)  # type: ignore[list-item]
        finally:
            await conn.close()

    asyncio.run(run())
