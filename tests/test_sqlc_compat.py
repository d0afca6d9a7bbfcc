"""What sqlc accepts, sqlgen accepts (issue 16 §2, §4, §5): each behaviour on a minimal project, on PostgreSQL."""

from __future__ import annotations

import builtins
import importlib
import inspect
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from conftest import Project, run_sqlgen, write_files
from hypothesis import given
from hypothesis import strategies as st

from sqlgen.naming import GENERATED_NAMES, pascal_case
from sqlgen.render import _function_name
from sqlgen.typemap import or_none

SCHEMA = """
CREATE TABLE authors (
    id int PRIMARY KEY,
    tenant_id int NOT NULL,
    name text NOT NULL,
    bio text,
    tags jsonb[]
);
"""


async def test_mixed_positional_and_named_parameters(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write(
        "queries.sql",
        """
        -- name: ListByTenant :many
        SELECT id FROM authors WHERE tenant_id = $1 AND name = sqlc.arg(name) ORDER BY id LIMIT $2;
        """,
    )
    _, url = project.package("gen_mixed")
    queries = importlib.import_module("gen_mixed.queries")
    text = (project.root / "gen_mixed/queries.py").read_text()
    # $1 and $2 keep their numbers, and their inferred names; the named parameter is $3
    assert "    *,\n    tenant_id: int,\n    limit: int,\n    name: str,\n) -> list[int]:" in text
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO authors VALUES (1, 7, 'a', NULL, NULL), (2, 7, 'a', NULL, NULL)")
        assert await queries.list_by_tenant(conn, tenant_id=7, name="a", limit=1) == [1]
    finally:
        await conn.close()


async def test_one_file_as_schema_and_queries_with_block_comment_annotations(project: Project) -> None:
    project.write(
        "both.sql",
        """
        CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);

        /* name: AddAuthor :exec */
        INSERT INTO authors (id, name) VALUES (1, 'inserted while applying the schema?');

        -- name: CountAuthors :one
        -- How many there are.
        -- @alias: documentation written the way e2b writes it
        SELECT count(*) FROM authors;

        CREATE INDEX authors_name ON authors (name);
        """,
    )
    _, url = project.package("gen_both", schema=("both.sql",), queries=("both.sql",))
    both = importlib.import_module("gen_both.both")
    text = (project.root / "gen_both/both.py").read_text()
    assert '    """How many there are.\n    @alias: documentation written the way e2b writes it\n    """' in text
    conn = await asyncpg.connect(url)
    try:
        assert await both.count_authors(conn) == 0  # the annotated INSERT was not applied as schema
        await both.add_author(conn)
        assert await both.count_authors(conn) == 1
    finally:
        await conn.close()


async def test_void_results(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write(
        "queries.sql",
        """
        -- name: LockOne :one
        SELECT pg_advisory_xact_lock(@key);
        -- name: LockExec :exec
        SELECT pg_advisory_xact_lock(@key);
        """,
    )
    _, url = project.package("gen_void")
    queries = importlib.import_module("gen_void.queries")
    text = (project.root / "gen_void/queries.py").read_text()
    assert "async def lock_one(conn: Executor, /, *, key: int) -> None:" in text
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            assert await queries.lock_one(conn, key=42) is None
            await queries.lock_exec(conn, key=43)
            locks = await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            assert locks == 2
    finally:
        await conn.close()


def test_a_union_of_a_tables_rows_reuses_its_model(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write(
        "queries.sql",
        """
        -- name: Either :many
        SELECT * FROM authors WHERE id = $1 UNION SELECT * FROM authors WHERE name = $2;
        -- name: ViaCte :many
        WITH picked AS (SELECT * FROM authors WHERE tenant_id = $1) SELECT * FROM picked;
        """,
    )
    output = project.generate()
    assert "class " not in output["queries.py"]
    assert "async def either(conn: Executor, /, id: int, name: str) -> list[models.Author]:" in output[
        "queries.py"
    ].replace("/, *,", "/,")
    assert "-> list[models.Author]:" in output["queries.py"].split("async def via_cte")[1]


BUILTIN_NAMED = ["List", "Int", "Type", "Hash", "Id", "Print", "Json", "Datetime", "Models"]


async def test_queries_named_like_builtins_do_not_shadow_them(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    count = "SELECT count(*) FROM authors;\n"
    project.write("queries.sql", "".join(f"-- name: {name} :one\n{count}" for name in BUILTIN_NAMED))
    _, url = project.package("gen_builtins")
    module = importlib.import_module("gen_builtins.queries")
    for name in BUILTIN_NAMED:
        assert not inspect.iscoroutinefunction(vars(module).get(name.lower()))
        assert inspect.iscoroutinefunction(getattr(module, f"{name.lower()}_"))
    conn = await asyncpg.connect(url)
    try:
        assert await module.int_(conn) == 0
    finally:
        await conn.close()


@given(st.sampled_from(sorted({*dir(builtins), *GENERATED_NAMES})))
def test_no_function_name_shadows_a_builtin_or_a_module_name(name: str) -> None:
    function = _function_name(pascal_case(name) if name.isidentifier() else name)
    assert not hasattr(builtins, function) and function not in GENERATED_NAMES


@given(st.from_regex(r"(int|str|JsonValue|list\[int \| None\]|dict\[str, int \| None\])( \| None)?", fullmatch=True))
def test_none_is_written_once(annotation: str) -> None:
    once = or_none(annotation)
    assert once.endswith(" | None") and or_none(once) == once
    assert once.count(" | None") == annotation.count(" | None") + (not annotation.endswith(" | None"))


def test_json_array_columns_write_none_once(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", "-- name: Tags :many\nSELECT tags FROM authors;\n")
    assert "-> list[list[JsonDocument | None] | None]:" in project.generate()["queries.py"]


def test_keep_going_writes_the_queries_that_check(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "schema.sql": SCHEMA,
            "good.sql": "-- name: Count :one\nSELECT count(*) FROM authors;\n",
            "bad.sql": "-- name: Broken :one\nSELECT nosuch FROM authors;\n-- name: Fine :one\nSELECT 1 AS one;\n",
        },
    )
    args = ("generate", "--schema", "schema.sql", "--queries", "good.sql", "--queries", "bad.sql", "--out", "gen")
    default = run_sqlgen(*args, cwd=tmp_path)
    assert default.returncode == 1 and not (tmp_path / "gen").exists()
    result = run_sqlgen(*args, "--keep-going", cwd=tmp_path)
    assert result.returncode == 1
    assert 'bad.sql:2:8: error: column "nosuch" does not exist' in result.stderr
    assert "1 error; the package holds every other query (--keep-going)" in result.stderr
    assert "async def count(" in (tmp_path / "gen/good.py").read_text()
    bad = (tmp_path / "gen/bad.py").read_text()
    assert "async def fine(" in bad and "broken" not in bad
    again = run_sqlgen(*args, "--keep-going", cwd=tmp_path)  # a partial package is never "up to date"
    assert again.returncode == 1 and "nosuch" in again.stderr


def test_schema_statements_in_a_query_file_are_a_note(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "schema.sql": SCHEMA,
            "q.sql": "CREATE TABLE extra (id int);\n-- name: Count :one\nSELECT count(*) FROM authors;\n",
        },
    )
    result = run_sqlgen("generate", "--schema", "schema.sql", "--queries", "q.sql", "--out", "gen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "q.sql:1:1: note: a statement without a query annotation (CREATE TABLE) skipped" in result.stderr


async def test_copyfrom_into_columns_with_a_length_or_precision(project: Project) -> None:
    project.write(
        "schema.sql",
        "CREATE TABLE labels (id int NOT NULL, tags varchar(3)[] NOT NULL, code varchar(5), price numeric(6,2),"
        " notes text[]);\n",
    )
    project.write(
        "queries.sql",
        "-- name: Load :copyfrom\nINSERT INTO labels (id, tags, code, price, notes) VALUES ($1, $2, $3, $4, $5);\n",
    )
    _, url = project.package("gen_copy_typmod")
    queries = importlib.import_module("gen_copy_typmod.queries")
    conn = await asyncpg.connect(url)
    try:
        row = queries.LoadParams(id=1, tags=["abc", None], code="x", price=Decimal("1.5"), notes=["n"])
        assert await queries.load(conn, [row]) == 1
        assert await conn.fetchrow("SELECT tags, price FROM labels") == (["abc", None], Decimal("1.50"))
        with pytest.raises(asyncpg.StringDataRightTruncationError):  # COPY checks each element's length too
            await queries.load(conn, [row._replace(tags=["abcd"])])
    finally:
        await conn.close()


async def test_rows_of_no_columns(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write(
        "queries.sql",
        """
        -- name: AnyAuthor :one
        SELECT FROM authors WHERE tenant_id = @tenant_id LIMIT 1;
        -- name: EachAuthor :many
        SELECT FROM authors WHERE tenant_id = @tenant_id;
        -- name: Touch :exec
        SELECT FROM authors;
        -- name: Stream :iter
        SELECT FROM authors;
        -- name: EachTenant :batchmany
        SELECT FROM authors WHERE tenant_id = @tenant_id;
        """,
    )
    _, url = project.package("gen_no_columns")
    queries = importlib.import_module("gen_no_columns.queries")
    text = (project.root / "gen_no_columns/queries.py").read_text()
    assert (
        'class AnyAuthorRow(BaseModel):\n    """A row returned by any_author."""\n\n\n' in text
    )  # sqlc's empty struct
    assert "async def any_author(conn: Executor, /, *, tenant_id: int) -> AnyAuthorRow | None:" in text
    assert "async def each_author(conn: Executor, /, *, tenant_id: int) -> list[EachAuthorRow]:" in text
    assert "async def touch(conn: Executor, /) -> None:" in text
    conn = await asyncpg.connect(url)
    try:
        assert await queries.any_author(conn, tenant_id=7) is None
        assert await queries.each_author(conn, tenant_id=7) == []
        await conn.execute("INSERT INTO authors VALUES (1, 7, 'a', NULL, NULL), (2, 7, 'b', NULL, NULL)")
        assert isinstance(await queries.any_author(conn, tenant_id=7), queries.AnyAuthorRow)
        assert len(await queries.each_author(conn, tenant_id=7)) == 2
        await queries.touch(conn)
        async with conn.transaction():
            assert len([row async for row in queries.stream(conn)]) == 2
        tenants = [queries.EachTenantParams(tenant_id=t) for t in (8, 7)]
        assert [len(rows) for rows in await queries.each_tenant(conn, tenants)] == [0, 2]
    finally:
        await conn.close()
