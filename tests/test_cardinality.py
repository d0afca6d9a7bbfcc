"""Cardinality: which statements certainly return exactly one row, checked by running each on PostgreSQL."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from typing import Any

import asyncpg
import psycopg
import pytest
from conftest import Databases, Project, Typer, schema_typer

SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, x int NOT NULL);
CREATE FUNCTION skip_row() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TABLE skipped (id int PRIMARY KEY);
CREATE TRIGGER skip BEFORE INSERT ON skipped FOR EACH ROW EXECUTE FUNCTION skip_row();
CREATE TABLE parted (id int) PARTITION BY RANGE (id);
CREATE TABLE parted_low PARTITION OF parted FOR VALUES FROM (0) TO (100);
CREATE TRIGGER skip BEFORE INSERT ON parted_low FOR EACH ROW EXECUTE FUNCTION skip_row();
CREATE TABLE plain_parted (id int) PARTITION BY LIST (id);
CREATE TABLE plain_parted_all PARTITION OF plain_parted DEFAULT;
CREATE TABLE ruled (id int);
CREATE TABLE elsewhere (id int);
CREATE RULE redirect AS ON INSERT TO ruled DO INSTEAD
    INSERT INTO elsewhere SELECT new.id WHERE new.id > 0 RETURNING *;
CREATE VIEW t_view AS SELECT id FROM t;
CREATE TRIGGER skip INSTEAD OF INSERT ON t_view FOR EACH ROW EXECUTE FUNCTION skip_row();
CREATE TABLE audited (id int PRIMARY KEY);
CREATE FUNCTION note_row() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TRIGGER noted AFTER INSERT ON audited FOR EACH ROW EXECUTE FUNCTION note_row();
"""


@pytest.fixture(scope="module")
def server(databases: Databases) -> Iterator[tuple[Typer, str]]:
    with schema_typer(databases, SCHEMA, ":one") as typed:
        yield typed


def rows_of(url: str, setup: str, sql: str, params: tuple[Any, ...], runs: int = 1) -> list[int]:
    """How many rows `sql` returns on each of `runs` runs after `setup`, in a transaction rolled back."""
    with psycopg.connect(url) as conn:
        try:
            if setup:
                conn.execute(setup)
            return [len(conn.execute(sql, params).fetchall()) for _ in range(runs)]
        finally:
            conn.rollback()


FILLED = "INSERT INTO t VALUES (1, 10), (2, 20)"

# (statement, parameters, setups it must give exactly one row after)
CERTAIN = [
    ("SELECT count(*) FROM t", (), ["", FILLED]),
    ("SELECT count(*) FROM t WHERE x > %s", (15,), ["", FILLED]),  # WHERE filters what is counted
    ("SELECT count(*), max(x) FROM t WHERE false", (), ["", FILLED]),
    ("SELECT count(*) FROM t LIMIT 1", (), ["", FILLED]),
    ("SELECT sum(x) FROM t OFFSET 0", (), ["", FILLED]),
    ("WITH c AS (SELECT x FROM t) SELECT count(*) FROM c", (), ["", FILLED]),
    ("SELECT n + 1 FROM (SELECT count(*) AS n FROM t) s", (), ["", FILLED]),
    ("SELECT 1 AS one", (), [""]),
    ("SELECT now() AS at, %s::int AS n", (5,), [""]),
    ("SELECT a FROM (VALUES (1)) v (a)", (), [""]),
    ("INSERT INTO t VALUES (%s, 1) RETURNING id", (7,), ["", FILLED]),
    ("INSERT INTO t VALUES (%s, 1) ON CONFLICT (id) DO UPDATE SET x = t.x + 1 RETURNING x", (1,), ["", FILLED]),
    ("INSERT INTO plain_parted VALUES (%s) RETURNING id", (5,), [""]),
    ("INSERT INTO audited VALUES (%s) RETURNING id", (1,), [""]),  # an AFTER trigger cannot skip the row
]

# (statement, parameters, setup, runs): its last run returns no row, or more than one
UNCERTAIN = [
    ("SELECT count(*) FROM t GROUP BY x", (), "", 1),
    ("SELECT count(*) FROM t HAVING count(*) > 0", (), "", 1),
    ("SELECT count(*) FROM t LIMIT %s", (0,), "", 1),
    ("SELECT count(*) FROM t OFFSET 1", (), "", 1),
    ("SELECT 1 WHERE false", (), "", 1),
    ("SELECT generate_series(1, %s)", (0,), "", 1),
    ("SELECT count(*) FROM t EXCEPT SELECT 0", (), "", 1),
    ("SELECT x FROM t WHERE id = %s", (1,), "", 1),
    ("SELECT a FROM (VALUES (1), (2)) v (a)", (), "", 1),
    ("SELECT n FROM (SELECT count(*) AS n FROM t GROUP BY x) s", (), "", 1),
    ("INSERT INTO t SELECT %s, 1 WHERE false RETURNING id", (1,), "", 1),
    ("INSERT INTO t VALUES (%s, 1), (%s, 2) RETURNING id", (1, 2), "", 1),
    ("INSERT INTO t VALUES (%s, 1) ON CONFLICT DO NOTHING RETURNING id", (1,), "", 2),
    ("INSERT INTO t VALUES (%s, 1) ON CONFLICT (id) DO UPDATE SET x = 2 WHERE false RETURNING id", (1,), "", 2),
    ("INSERT INTO skipped VALUES (%s) RETURNING id", (1,), "", 1),
    ("INSERT INTO parted VALUES (%s) RETURNING id", (5,), "", 1),
    ("INSERT INTO ruled VALUES (%s) RETURNING id", (0,), "", 1),
    ("INSERT INTO t_view VALUES (%s) RETURNING id", (1,), "", 1),
    ("UPDATE t SET x = 1 WHERE id = %s RETURNING x", (1,), "", 1),
    ("DELETE FROM t WHERE id = %s RETURNING x", (1,), "", 1),
]


def _sqlgen_text(sql: str) -> str:
    count = iter(range(1, 10))
    while "%s" in sql:
        sql = sql.replace("%s", f"${next(count)}", 1)
    return sql


@pytest.mark.parametrize(("sql", "params", "setups"), CERTAIN, ids=[c[0] for c in CERTAIN])
def test_statements_that_always_return_one_row_are_certain(server, sql, params, setups) -> None:  # type: ignore[no-untyped-def]
    infer, url = server
    rows = infer(_sqlgen_text(sql)).rows
    assert rows.exactly_one, rows.reason
    assert rows.reason.startswith("exactly one row: ")
    for setup in setups:
        assert rows_of(url, setup, sql, params) == [1]


@pytest.mark.parametrize(("sql", "params", "setup", "runs"), UNCERTAIN, ids=[c[0] for c in UNCERTAIN])
def test_look_alikes_that_may_return_no_row_are_not(server, sql, params, setup, runs) -> None:  # type: ignore[no-untyped-def]
    infer, url = server
    rows = infer(_sqlgen_text(sql)).rows
    assert not rows.exactly_one
    assert rows.reason.startswith("zero or more rows: ")
    assert rows_of(url, setup, sql, params, runs)[-1] != 1  # PostgreSQL shows it is not one row every time


def test_the_reasons_name_what_can_drop_the_row(server) -> None:  # type: ignore[no-untyped-def]
    infer, _ = server

    def reason(sql: str) -> str:
        return str(infer(sql).rows.reason)

    assert "trigger on parted (or a foreign partition)" in reason("INSERT INTO parted VALUES (1) RETURNING id")
    assert "BEFORE … FOR EACH ROW trigger on skipped" in reason("INSERT INTO skipped VALUES (1) RETURNING id")
    assert "rule" in reason("INSERT INTO ruled VALUES (1) RETURNING id")
    assert "not a table" in reason("INSERT INTO t_view VALUES (1) RETURNING id")
    assert "ON CONFLICT DO NOTHING" in reason("INSERT INTO t VALUES (1, 1) ON CONFLICT DO NOTHING RETURNING id")
    assert "HAVING" in reason("SELECT count(*) FROM t HAVING count(*) > 1")


CARDINALITY_SCHEMA = """
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, note text);
CREATE FUNCTION skip_row() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
"""

CARDINALITY_QUERIES = """
-- name: CountItems :one
SELECT count(*) FROM items WHERE name = @name;

-- name: AddItem :one
INSERT INTO items (id, name) VALUES (@id, @name) RETURNING *;

-- name: AddItemNote :one
INSERT INTO items (id, name, note) VALUES (@id, @name, sqlc.narg(note)) RETURNING note;

-- name: AddItems :batchone
INSERT INTO items (id, name) VALUES (@id, @name) RETURNING id, name;

-- name: FindItem :one
SELECT * FROM items WHERE id = @id;
"""


def test_generated_functions_return_the_bare_type_and_raise_when_the_row_does_not_come(project: Project) -> None:
    project.write("schema.sql", CARDINALITY_SCHEMA)
    project.write("queries.sql", CARDINALITY_QUERIES)
    _, url = project.package("gen_cardinality")
    queries = importlib.import_module("gen_cardinality.queries")
    source = (project.root / "gen_cardinality" / "queries.py").read_text()
    assert "async def count_items(conn: Executor, /, *, name: str) -> int:" in source
    assert ") -> models.Item:" in source
    assert ") -> str | None:" in source  # one row certain, its value nullable
    assert ") -> list[AddItemsRow]:" in source
    assert ") -> models.Item | None:" in source  # FindItem may find nothing

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            assert await queries.count_items(conn, name="a") == 0
            item = await queries.add_item(conn, id=1, name="a")
            assert (item.id, item.name) == (1, "a")
            assert await queries.add_item_note(conn, id=2, name="b", note=None) is None  # NULL, not a missing row
            params = queries.AddItemsParams
            added = await queries.add_items(conn, [params(id=3, name="c"), params(id=4, name="d")])
            assert [(r.id, r.name) for r in added] == [(3, "c"), (4, "d")]
            assert await queries.find_item(conn, id=99) is None
            # The schema changes after generation: a BEFORE trigger now skips every row.
            await conn.execute("CREATE TRIGGER skip BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION skip_row()")
            with pytest.raises(RuntimeError, match=r"query AddItem \(queries.sql:\d+\) returned no row"):
                await queries.add_item(conn, id=5, name="e")
            with pytest.raises(RuntimeError, match=r"query AddItemNote \(queries.sql:\d+\) returned no row"):
                await queries.add_item_note(conn, id=5, name="e", note="n")
            with pytest.raises(RuntimeError, match=r"query AddItems \(queries.sql:\d+\) returned no row"):
                await queries.add_items(conn, [params(id=6, name="f")])
        finally:
            await conn.close()

    asyncio.run(run())
