"""The asyncpg-msgspec target: generated_msgspec/ runs the same runtime tests as generated/, and its models are
`msgspec.Struct`s. Then what the target means for configuration and generation.

The runtime tests of tests/test_runtime.py, test_bulk.py and test_channels.py are imported here and run with
their modules' `generated` names (authors, books, models, …) pointed at generated_msgspec's: every command
(:one :many :exec :execrows :execresult :iter :copyfrom :copyto :batch*), embeds, enums, composites, JSON,
arrays, ranges, nullable columns and channels, on the database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import importlib
import types
import typing
from collections.abc import Iterator

import asyncpg
import msgspec
import pytest
import test_bulk
import test_channels
import test_runtime
from conftest import Project
from test_bulk import (  # noqa: F401  (run here on generated_msgspec)
    test_batchexec_is_one_atomic_run_over_all_parameter_sets,
    test_batchone_and_batchmany_give_one_result_per_parameter_set_in_order,
    test_copyfrom_loads_rows_with_binary_copy_and_converts_values,
    test_copyto_writes_csv_to_a_file_object_a_path_or_a_callback,
    test_create_pool_passes_command_timeout_and_server_settings_through,
    test_errors_keep_asyncpg_classes_and_name_the_query,
    test_iter_single_column_over_a_pooled_connection,
    test_iter_streams_rows_inside_a_transaction_and_says_so_outside,
)
from test_channels import (  # noqa: F401
    test_a_bad_payload_raises_and_listening_goes_on,
    test_a_closed_connection_ends_the_wait_with_an_error,
    test_a_trigger_and_the_generated_sender_reach_a_typed_listener,
    test_async_for_without_a_context_listens_for_the_loop,
    test_notifications_arrive_on_commit_only,
)
from test_runtime import (  # noqa: F401
    seed,
    test_enum_columns_and_parameters,
    test_exec_execrows_execresult,
    test_json_array_interval_numeric_round_trip,
    test_left_join_gives_none_for_the_missing_side,
    test_many_single_column_and_row_models,
    test_nullable_narg_filters,
    test_one_returns_the_table_model_or_none,
    test_orders_uuid_json_aggregates,
    test_pool_pooled_connection_and_transaction_rollback,
    test_promotions_domain_composite_range_and_model_override,
    test_reviews_and_summary,
    test_slices_are_one_array_parameter_and_may_be_empty,
)

import generated_msgspec
from bookshop.structs import PromotionRules
from generated_msgspec import authors, books, bulk, channels, models, promotions

conn = test_runtime.conn  # the fixtures the imported tests use
pool = test_bulk.pool

MODULES = ("authors", "books", "bulk", "channels", "models", "orders", "promotions", "reviews")


@pytest.fixture(autouse=True)
def msgspec_package(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The imported tests' modules see generated_msgspec where they say `generated`."""
    for module in (test_runtime, test_bulk, test_channels):
        for name in MODULES:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, importlib.import_module(f"generated_msgspec.{name}"))
        if hasattr(module, "generated"):
            monkeypatch.setattr(module, "generated", generated_msgspec)
    monkeypatch.setattr(test_runtime, "PromotionRules", PromotionRules)
    monkeypatch.setattr(test_bulk, "BookFormat", models.BookFormat)
    monkeypatch.setattr(test_channels, "Change", models.BookPriceChange)
    # a payload that does not decode raises msgspec's error, where the pydantic output raises pydantic's
    monkeypatch.setattr(test_channels, "pydantic", types.SimpleNamespace(ValidationError=msgspec.DecodeError))
    yield


async def test_rows_are_structs_built_without_pydantic(conn: asyncpg.Connection) -> None:
    author_id, publisher_id, book_id = await seed(conn)
    author = await authors.get_author(conn, id=author_id)
    assert isinstance(author, msgspec.Struct) and type(author) is models.Author
    assert not hasattr(author, "model_dump")
    assert msgspec.structs.asdict(author)["name"] == "Ursula K. Le Guin"
    encoded = msgspec.json.decode(msgspec.json.encode(author))
    assert encoded["id"] == author_id and encoded["birth_date"] == "1929-10-21"
    assert msgspec.convert(encoded, models.Author) == author  # the Struct's schema agrees with what was built
    book = await books.get_book(conn, id=book_id)
    assert book is not None and book.metadata == {"language": "en", "awards": ["Hugo", "Nebula"], "rating": 4.5}
    rows = await books.list_books_with_publisher(conn)
    assert [(type(r.book), type(r.publisher)) for r in rows] == [(models.Book, models.Publisher)]
    hints = typing.get_type_hints(books.ListBooksWithPublisherRow)
    assert hints["publisher"] == models.Publisher | None and hints["book"] is models.Book
    assert rows[0].publisher is not None and rows[0].publisher.id == publisher_id
    author.name = "changed"  # not frozen unless `frozen = true`
    assert author.name == "changed"


async def test_json_override_decodes_into_the_users_struct(conn: asyncpg.Connection) -> None:
    _, _, book_id = await seed(conn)
    period = asyncpg.Range(
        datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC), datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    )
    rules = PromotionRules(min_items=3)
    created = await promotions.create_promotion(
        conn, code="X", percent_off=decimal.Decimal("5"), active_during=period, book_ids=[book_id], rules=rules
    )
    assert created is not None and type(created.rules) is PromotionRules and created.rules.min_items == 3
    stored = await conn.fetchval("SELECT rules FROM promotions WHERE code = 'X'")
    assert msgspec.json.decode(stored) == {"min_items": 3, "first_order_only": False, "genres": []}
    await conn.execute("UPDATE promotions SET rules = '{\"min_items\": \"many\"}' WHERE code = 'X'")
    with pytest.raises(msgspec.ValidationError, match="Expected `int`, got `str`"):
        await promotions.active_promotions(conn, at=datetime.datetime(2026, 11, 5, tzinfo=datetime.UTC))


async def test_payloads_cross_json_with_msgspec(conn: asyncpg.Connection) -> None:
    change = models.BookPriceChange(book_id=1, title="T", old_price=decimal.Decimal("1.50"), new_price=None)
    async with channels.listen_book_price_changes(conn) as events:
        await channels.notify_book_price_changes(conn, change)
        assert await asyncio.wait_for(events.get(), 5) == change
    assert bulk.CopyBooksParams._fields[0] == "isbn"  # batched parameter sets stay NamedTuples


SCHEMA = """
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TYPE pair AS (a int, b text);
CREATE TABLE t (id int PRIMARY KEY, m mood, p pair, doc jsonb, tags text[] NOT NULL DEFAULT '{}');
"""
QUERIES = """
-- name: GetT :one
SELECT * FROM t WHERE id = @id;

-- name: Pairs :many
SELECT id, p FROM t ORDER BY id;
"""


def test_frozen_structs_and_the_target_per_package(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", QUERIES)
    project.write(
        "pyproject.toml",
        """
        [tool.sqlgen]
        schema = "schema.sql"
        queries = "queries.sql"
        frozen = true
        target = "asyncpg-msgspec"
        """,
    )
    package, url = project.package("gen_frozen")
    models_module = importlib.import_module("gen_frozen.models")
    source = (project.root / "gen_frozen" / "models.py").read_text()
    assert "class T(msgspec.Struct, frozen=True):" in source and "class Pair(msgspec.Struct, frozen=True):" in source
    assert "pydantic" not in "".join((project.root / "gen_frozen").joinpath(n).read_text() for n in ("models.py",))
    queries = importlib.import_module("gen_frozen.queries")

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("INSERT INTO t VALUES (1, 'sad', ROW(2, 'x'), 'null', '{a}')")
            row = await queries.get_t(conn, id=1)
            assert row is not None and row.m is models_module.Mood.SAD and row.p == models_module.Pair(a=2, b="x")
            assert row.doc is package.JSON_NULL and row.tags == ["a"]
            assert hash(row.p) == hash(models_module.Pair(a=2, b="x"))
            with pytest.raises(AttributeError):
                row.p.a = 3  # type: ignore[misc]
            [pair] = await queries.pairs(conn)
            assert (pair.id, pair.p) == (1, row.p)
        finally:
            await conn.close()

    asyncio.run(run())


def test_target_in_packages_entries(project: Project) -> None:
    from sqlgen.config import Overrides, load_configs

    project.write(
        "pyproject.toml",
        """
        [tool.sqlgen]
        schema = "schema.sql"
        queries = "queries.sql"

        [[tool.sqlgen.packages]]
        name = "a"
        out = "a"

        [[tool.sqlgen.packages]]
        name = "b"
        out = "b"
        target = "asyncpg-msgspec"
        """,
    )
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", QUERIES)
    a, b = load_configs(Overrides(), cwd=project.root, environ={})
    assert (a.models.target, b.models.target) == ("asyncpg-pydantic", "asyncpg-msgspec")
    assert dataclasses.replace(b.models, target="asyncpg-pydantic") == a.models


def test_an_unknown_target_or_validation_with_msgspec_is_a_located_error(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", QUERIES)
    project.write("pyproject.toml", '[tool.sqlgen]\ntarget = "asyncpg-msgpec"\n')
    assert project.errors() == [
        "pyproject.toml:2:1: error: unknown target 'asyncpg-msgpec'\n"
        '    target = "asyncpg-msgpec"\n'
        "    ^\n"
        "  hint: did you mean 'asyncpg-msgspec'?"
    ]
    project.write("pyproject.toml", '[tool.sqlgen]\ntarget = "asyncpg-msgspec"\nvalidate = true\n')
    assert project.errors() == [
        "pyproject.toml:3:1: error: validate = true is not available with the asyncpg-msgspec target\n"
        "    validate = true\n"
        "    ^\n"
        "  hint: remove validate (rows are built from values asyncpg has typed), or use asyncpg-pydantic"
    ]
    project.write("pyproject.toml", '[tool.sqlgen]\ntarget = "asyncpg-msgspec"\n')
    project.write("queries.sql", "-- name: GetT :one\n-- @validate\nSELECT * FROM t WHERE id = @id;\n")
    [error] = project.errors()
    assert error.startswith(
        "queries.sql:1:1: error: query GetT asks for validation (-- @validate), which the asyncpg-msgspec target"
        " does not do\n    -- name: GetT :one\n    ^\n"
    )


def test_hostile_names_in_structs_type_check_and_run(project: Project) -> None:
    from test_typecheck import mypy

    project.write(
        "schema.sql",
        'CREATE TABLE "Weird Table" (id int PRIMARY KEY, msgspec text, uuid uuid, "int" int, "class" text,'
        " struct_fields text, json jsonb);",
    )
    project.write(
        "queries.sql",
        """
        -- name: Models :many
        SELECT * FROM "Weird Table" WHERE "class" = @class AND "int" = @int;
        -- name: Pick :one
        SELECT id, msgspec, uuid, "int" FROM "Weird Table" WHERE id = @id;
        """,
    )
    project.write("pyproject.toml", '[tool.sqlgen]\ntarget = "asyncpg-msgspec"\n')
    package, url = project.package("gen_hostile")
    result = mypy("gen_hostile", cwd=project.root)
    assert result.returncode == 0, result.stdout
    queries = importlib.import_module("gen_hostile.queries")

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                """INSERT INTO "Weird Table" VALUES (1, 'm', gen_random_uuid(), 7, 'c', 's', '{"a": [1]}')"""
            )
            [row] = await queries.models_(conn, class_="c", int_=7)
            assert (row.msgspec, row.int, row.struct_fields, row.json_) == ("m", 7, "s", {"a": [1]})
            picked = await queries.pick(conn, id=1)
            assert picked is not None and picked.uuid == row.uuid
            assert msgspec.json.decode(msgspec.json.encode(row))["msgspec"] == "m"
        finally:
            await conn.close()

    asyncio.run(run())


def test_a_payload_holding_json_is_refused_at_its_channel(project: Project) -> None:
    project.write(
        "schema.sql",
        "CREATE TYPE inner_doc AS (doc jsonb);\nCREATE TYPE outer_doc AS (i inner_doc, n int);\n"
        "CREATE TABLE plain (id int, note text);\nCREATE TABLE docs (id int, body json);\n",
    )
    project.write("queries.sql", "-- name: One :one\nSELECT 1;\n")
    project.write(
        "pyproject.toml",
        '[tool.sqlgen]\ntarget = "asyncpg-msgspec"\n\n[tool.sqlgen.channels]\n'
        'plain_rows = "plain"\nnested = "outer_doc"\ndoc_rows = "docs"\n',
    )
    errors = project.errors()
    assert [e.split(": error: ")[0] for e in errors] == ["pyproject.toml:6:1", "pyproject.toml:7:1"]
    assert errors[0].split("\n")[0] == (
        "pyproject.toml:6:1: error: the payload of channel 'nested', 'outer_doc', holds a json or jsonb value,"
        " which the asyncpg-msgspec target cannot decode from a notification"
    )
    project.write(
        "pyproject.toml", '[tool.sqlgen]\ntarget = "asyncpg-msgspec"\n\n[tool.sqlgen.channels]\np = "plain"\n'
    )
    assert "msgspec.json.Decoder(models.Plain).decode" in project.generate()["channels.py"]
    project.write("pyproject.toml", '[tool.sqlgen.channels]\nnested = "outer_doc"\n')  # pydantic decodes it
    assert "models.OuterDoc.model_validate_json" in project.generate()["channels.py"]


def test_an_override_of_a_plain_column_is_converted_by_msgspec(project: Project) -> None:
    from test_typecheck import mypy

    project.write("schema.sql", "CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL);")
    project.write("queries.sql", "-- name: Codes :many\nSELECT id, code FROM t ORDER BY id;\n")
    project.write(
        "pyproject.toml",
        '[tool.sqlgen]\ntarget = "asyncpg-msgspec"\n\n[tool.sqlgen.overrides]\n'
        "\"public.t.code\" = \"typing.Literal['a', 'b']\"\n",
    )
    package, url = project.package("gen_literal")
    source = (project.root / "gen_literal" / "queries.py").read_text()
    assert 'msgspec.convert(r[1], type=Literal["a", "b"])' in source and "pydantic" not in source
    assert mypy("gen_literal", cwd=project.root).returncode == 0
    queries = importlib.import_module("gen_literal.queries")

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
            assert [(r.id, r.code) for r in await queries.codes(conn)] == [(1, "a"), (2, "b")]
            await conn.execute("INSERT INTO t VALUES (3, 'z')")
            with pytest.raises(msgspec.ValidationError, match="Invalid enum value 'z'"):
                await queries.codes(conn)
        finally:
            await conn.close()

    asyncio.run(run())
