"""Generated code passes `mypy --strict` and `ruff check`, and misuse is a mypy error."""

from __future__ import annotations

import datetime
import decimal
import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import pytest
from conftest import ROOT, Project

from sqlgen.output import read_output

APP = """
from __future__ import annotations

import asyncpg

from generated import authors, books, models


async def main(pool: asyncpg.Pool[asyncpg.Record]) -> str:
    author = await authors.get_author(pool, id=1)
    if author is not None:
        name: str = author.name
        bio: str | None = author.bio
    async with pool.acquire() as conn:
        titles: list[str] = await books.list_book_titles_by_author(conn, author_id=1)
        rows: list[models.Author] = await authors.list_authors(conn, limit=10, offset=0)
        count: int = await authors.count_authors(conn)  # always one row: no `| None` to check
    return name + str(bio) + str(titles) + str(rows) + str(count + 1)
"""


def mypy(*paths: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.11", *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("package", ["generated", "generated_msgspec"])
def test_generated_package_and_a_program_using_it_pass_mypy_strict(package: str) -> None:
    program = ROOT / "tests" / f"typecheck_app_{package}.py"
    program.write_text(APP.replace("from generated import", f"from {package} import"))
    try:
        result = mypy(package, program)
    finally:
        program.unlink()
    assert result.returncode == 0, result.stdout + result.stderr


def test_msgspec_rows_are_structs_to_mypy() -> None:
    program = ROOT / "tests" / "typecheck_msgspec_rows.py"
    program.write_text(
        "import asyncpg\nimport msgspec\nfrom generated_msgspec import authors, promotions\n\n"
        "async def main(pool: asyncpg.Pool[asyncpg.Record]) -> bytes:\n"
        "    author = await authors.get_author(pool, id=1)\n"
        "    struct: msgspec.Struct | None = author\n"
        "    rows = await promotions.promotions_for_book(pool, book_id=1)\n"
        "    return msgspec.json.encode(struct) + msgspec.json.encode(rows)\n"
        "\n"
        "async def wrong(pool: asyncpg.Pool[asyncpg.Record]) -> str:\n"
        "    author = await authors.get_author(pool, id=1)\n"
        "    return author.model_dump_json()\n"
    )
    try:
        result = mypy(program)
    finally:
        program.unlink()
    errors = [line for line in result.stdout.splitlines() if "error:" in line]
    assert errors and all(":13: error:" in line for line in errors), result.stdout  # `wrong`'s return only
    assert 'Item "Author" of "Author | None" has no attribute "model_dump_json"' in result.stdout


@pytest.mark.parametrize(
    ("call", "complaint"),
    [
        (
            "authors.get_author(pool, id='1')",
            'Argument "id" to "get_author" has incompatible type "str"; expected "int"',
        ),
        ("authors.get_author(pool, author_id=1)", 'Unexpected keyword argument "author_id"'),
        ("authors.get_author(pool, 1)", "Too many positional arguments"),
        ("authors.get_author(pool)", 'Missing named argument "id"'),
        # `id = ANY(@ids)`: a NULL element could match nothing, so the parameter takes none
        ("authors.get_authors_by_ids(pool, ids=[1, None])", 'List item 1 has incompatible type "None"; expected "int"'),
        # JSON's null is JSON_NULL: None would be SQL NULL, which this parameter cannot be
        ("books.merge_book_metadata(pool, patch=None, id=1)", '"merge_book_metadata" has incompatible type "None"'),
        (
            "promotions.set_delivery_address(pool, delivery_address={'city': 'Lyon'}, id=1)",
            'Argument "delivery_address" to "set_delivery_address" has incompatible type "dict[str, str]"; '
            'expected "PostalAddress | None"',
        ),
        (
            "promotions.active_promotions(pool, at=datetime.date(2026, 1, 1))",
            'incompatible type "date"; expected "datetime"',
        ),
        (
            "promotions.create_promotion(pool, code='X', percent_off=decimal.Decimal(5), "
            "active_during=asyncpg.Range(1, 2), book_ids=[], rules=PromotionRules())",
            'Argument 1 to "Range" has incompatible type "int"; expected "datetime | None"',
        ),
        (
            "promotions.create_promotion(pool, code='X', percent_off=decimal.Decimal(5), "
            "active_during=asyncpg.Range(), book_ids=[], rules={'min_items': 2})",
            'Argument "rules" to "create_promotion" has incompatible type "dict[str, int]"; expected "PromotionRules"',
        ),
    ],
)
def test_misuse_is_a_mypy_error(call: str, complaint: str) -> None:
    program = ROOT / "tests" / "typecheck_misuse.py"
    program.write_text(
        textwrap.dedent(
            f"""
            import datetime
            import decimal

            import asyncpg
            from bookshop.documents import PromotionRules
            from generated import authors, books, promotions

            async def main(pool: asyncpg.Pool[asyncpg.Record]) -> None:
                await {call}
            """
        )
    )
    try:
        result = mypy(program)
    finally:
        program.unlink()
    assert result.returncode == 1
    assert complaint in result.stdout


def test_a_nullable_result_must_be_checked_before_use() -> None:
    program = ROOT / "tests" / "typecheck_none.py"
    program.write_text(
        "import asyncpg\nfrom generated import authors\n\n"
        "async def main(pool: asyncpg.Pool[asyncpg.Record]) -> str:\n"
        "    author = await authors.get_author(pool, id=1)\n"
        "    return author.name\n"
    )
    try:
        result = mypy(program)
    finally:
        program.unlink()
    assert 'Item "None" of "Author | None" has no attribute "name"' in result.stdout


def test_generated_code_passes_ruff() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--isolated",
            "--select",
            "E4,E7,E9,F,I,B,UP",
            "generated",
            "generated_msgspec",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_generated_code_does_not_import_sqlgen() -> None:
    for path in [*(ROOT / "generated").glob("*.py"), *(ROOT / "generated_msgspec").glob("*.py")]:
        assert "sqlgen" not in "".join(line for line in path.read_text().splitlines() if "import" in line)


def test_output_for_every_parameter_and_result_shape_typechecks(project: Project) -> None:
    project.write(
        "schema.sql",
        """
        CREATE TYPE mood AS ENUM ('sad', 'happy');
        CREATE TABLE t (
            id int PRIMARY KEY, j jsonb, js json NOT NULL, a int[] NOT NULL, ja jsonb[], u uuid, b bytea,
            n numeric, ts timestamp, tz timestamptz, d date, tm time, iv interval, f real, g double precision,
            s smallint, big bigint, ok boolean, c char(3), v varchar(9)
        );
        """,
    )
    project.write(
        "queries.sql",
        """
        -- name: Everything :one
        SELECT * FROM t WHERE id = @id;
        -- name: Insert :exec
        INSERT INTO t (id, j, js, a, ja, u, b, n, ts, tz, d, tm, iv, f, g, s, big, ok, c, v)
        VALUES (@id, @j, @js, @a, @ja, @u, @b, @n, @ts, @tz, @d, @tm, @iv, @f, @g, @s, @big, @ok, @c, @v);
        -- name: JsonOne :one
        SELECT js FROM t WHERE id = @id;
        -- name: JsonMany :many
        SELECT ja FROM t;
        -- name: ByMoods :many
        SELECT id FROM t WHERE id = ANY(@ids) AND 'happy'::mood = ANY(@moods::mood[]);
        -- name: Rows :execrows
        DELETE FROM t;
        -- name: Status :execresult
        DELETE FROM t;
        """,
    )
    project.write_package("gen")
    result = mypy("gen", cwd=project.root)
    assert result.returncode == 0, result.stdout


def test_columns_named_like_modules_do_not_hide_them(project: Project) -> None:
    project.write(
        "schema.sql",
        "CREATE TABLE t (uuid uuid NOT NULL, other uuid, datetime timestamptz, decimal numeric, json jsonb);\n"
        "CREATE TYPE c AS (ipaddress inet, asyncpg int4range, tuple tid, int int, other inet[]);\n"
        "CREATE TABLE u (c c);\n",
    )
    project.write(
        "queries.sql",
        "-- name: All :many\nSELECT * FROM t;\n-- name: Some :many\nSELECT uuid, other FROM t WHERE uuid = @uuid;\n"
        "-- name: Cs :many\nSELECT c, (c).ipaddress FROM u;\n",
    )
    project.write_package("gen")
    output = read_output(project.root / "gen")
    assert "import uuid as _uuid" in output["models.py"]
    assert "    uuid: _uuid.UUID\n    other: _uuid.UUID | None\n" in output["models.py"]
    assert "import ipaddress as _ipaddress" in output["models.py"]
    assert "    tuple: builtins.tuple[builtins.int, builtins.int] | None\n" in output["models.py"]
    assert "_ipaddress.ip_interface(" in output["models.py"]
    result = mypy("gen", cwd=project.root)
    assert result.returncode == 0, result.stdout


def test_hostile_names_give_valid_collision_free_python(project: Project) -> None:
    project.write(
        "schema.sql",
        'CREATE TABLE "Weird Table" (id int PRIMARY KEY, "class" text, model_config text, "int" int, conn int);\n',
    )
    project.write(
        "queries.sql",
        """
        -- name: Models :many
        SELECT * FROM "Weird Table" WHERE "class" = @class AND "int" = @int AND conn = @conn;
        -- name: Json :many
        SELECT id, id, 1 + 1, "class" AS "for" FROM "Weird Table";
        -- name: Import :execrows
        DELETE FROM "Weird Table" WHERE "int" = @int;
        """,
    )
    project.write_package("gen")
    output = read_output(project.root / "gen")
    module = output["queries.py"]
    assert (
        "async def models_(\n    conn: Executor,\n    /,\n    *,\n    class_: str,\n    int_: int,\n    conn_: int,\n)"
        in module
    )
    assert "async def json_(conn: Executor, /) -> list[JsonRow]:" in module
    assert "    id: int\n    id_2: int\n    column_3: int\n    for_: str | None\n" in module
    assert "async def import_(conn: Executor, /, *, int_: int) -> int:" in module
    assert "    class_: str | None\n    model_config_: str | None\n" in output["models.py"]
    assert "class WeirdTable(BaseModel):" in output["models.py"]
    result = mypy("gen", cwd=project.root)
    assert result.returncode == 0, result.stdout


def test_sqlgen_itself_passes_mypy_strict_and_ruff() -> None:
    result = mypy("sqlgen")
    assert result.returncode == 0, result.stdout
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "sqlgen", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout


CLASH_SCHEMA = """
CREATE TYPE status AS ENUM ('on', 'off');
CREATE TYPE get_row AS (a int);
CREATE TYPE abc AS (x int);
CREATE SCHEMA a;
CREATE TYPE a.b_c AS (y int);
CREATE TYPE "JsonValue" AS (z int);
CREATE DOMAIN grid AS int[][];
CREATE TABLE records (
    id int PRIMARY KEY, balance money NOT NULL, s status NOT NULL, g grid, p1 jsonb, p2 jsonb, l1 jsonb, l2 jsonb,
    at timestamptz, period tstzrange, r get_row, q abc, w a.b_c, j "JsonValue"
);
"""


async def test_generated_and_user_names_never_clash(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(project.root)
    project.write("schema.sql", CLASH_SCHEMA)
    project.write(
        "queries.sql",
        "-- name: ListRecords :many\nSELECT * FROM records ORDER BY id;\n"
        "-- name: Get :one\nSELECT r, id FROM records WHERE id = @id;\n",
    )
    for module in ("a", "b"):
        project.write(
            f"clashing/{module}.py", "from pydantic import BaseModel\n\nclass Payload(BaseModel):\n    n: int\n"
        )
    project.write("clashing/__init__.py", "")
    project.write(
        "pyproject.toml",
        """
        [tool.sqlgen.overrides]
        "public.records.p1" = "clashing.a.Payload"
        "public.records.p2" = "clashing.b.Payload"
        "public.records.l1" = "list[int | None]"
        "public.records.l2" = "list[int] | None"
        "pg_catalog.timestamptz" = "datetime.datetime"
        """,
    )
    package, url = project.package("clash_pkg")
    output = read_output(project.root / "clash_pkg")
    assert "import clashing.a\nimport clashing.b\n" in output["queries.py"]  # same name, two modules: qualified
    assert "class GetRow_2(BaseModel):" in output["queries.py"]  # the composite get_row keeps GetRow
    assert "def decode_abc(" in output["models.py"] and "def decode_abc_2(" in output["models.py"]
    result = mypy("clash_pkg", cwd=project.root)
    assert result.returncode == 0, result.stdout
    queries = importlib.import_module("clash_pkg.queries")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """INSERT INTO records VALUES (1, 12.5, 'on', '{{1,2},{3,4}}', '{"n": 1}', '{"n": 2}', '[1, null]', '[3]',
            now(), tstzrange(now(), null), ROW(7), ROW(8), ROW(9), ROW(10))"""
        )
        [record] = await queries.list_records(conn)
        assert record.balance == decimal.Decimal("12.50") and record.s == "on" and record.g == [[1, 2], [3, 4]]
        assert type(record.p1).__module__ == "clashing.a" and type(record.p2).__module__ == "clashing.b"
        assert (record.p1.n, record.p2.n, record.l1, record.l2) == (1, 2, [1, None], [3])
        assert record.period is not None and isinstance(record.period.lower, datetime.datetime)
        got = await queries.get(conn, id=1)
        assert got is not None and got.r is not None and got.r.a == 7
    finally:
        await conn.close()
    assert package.__name__ == "clash_pkg"


HOSTILE_SCHEMA = """
CREATE TABLE "match" (
    id int PRIMARY KEY,
    "type" text,
    "__class__" text,
    "Name" text,
    "name" text,
    "naïve" text,
    "日本" text,
    "Executor" text,
    "models" text,
    "PostgresError" int,
    "_" int
);
"""
HOSTILE_QUERIES = """
-- name: Case :many
SELECT * FROM "match" WHERE "type" = @type AND "__class__" = @__class__ AND "Name" = @Name;
-- name: Type :one
SELECT "name", "Name", "naïve", "日本", "_", "match".id AS "case", "Executor", "models" FROM "match" WHERE id = @id;
-- name: _Private :exec
UPDATE "match" SET "PostgresError" = @PostgresError, "models" = @models WHERE id = @Executor;
"""


async def test_soft_keywords_dunders_case_and_non_ascii_names_give_working_python(project: Project) -> None:
    project.write("schema.sql", HOSTILE_SCHEMA)
    project.write("queries.sql", HOSTILE_QUERIES)
    first = project.generate()
    assert project.generate() == first  # deterministic
    _, url = project.package("hostile_gen")
    result = mypy("hostile_gen", cwd=project.root)
    assert result.returncode == 0, result.stdout
    queries = importlib.import_module("hostile_gen.queries")
    models = importlib.import_module("hostile_gen.models")
    fields = list(models.Match.model_fields)
    assert fields == [
        "id",
        "type",
        "class_",
        "Name",
        "name",
        "naïve",
        "日本",
        "Executor",
        "models",
        "PostgresError",
        "column",
    ]
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("""INSERT INTO "match" (id, "type", "__class__", "Name", "name", "naïve", "日本")
                              VALUES (1, 't', 'c', 'N', 'n', 'ï', '日')""")
        [row] = await queries.case(conn, type="t", class_="c", Name="N")
        assert isinstance(row, queries.CaseRow) and (row.id, row.Name, row.name, row.naïve, row.日本) == (
            1,
            "N",
            "n",
            "ï",
            "日",
        )
        typed = await queries.type_(conn, id=1)  # `type` would shadow the builtin
        assert typed is not None and (typed.case, typed.name, typed.Name, typed.naïve) == (1, "n", "N", "ï")
        await queries.private(conn, PostgresError_=7, models_="m", Executor_=1)
        assert await conn.fetchval('SELECT ("PostgresError", models) FROM "match" WHERE id = 1') == (7, "m")
    finally:
        await conn.close()
