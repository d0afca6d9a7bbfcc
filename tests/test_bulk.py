"""Streams, COPY, batches and error notes: generated functions of queries/bulk.sql on asyncpg."""

from __future__ import annotations

import asyncio
import decimal
import io
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from conftest import ROOT, Databases, Project, dsn_url

import generated
from generated import authors, bulk, models
from generated.models import BookFormat

SCHEMA_FILES = sorted((ROOT / "queries" / "schema").glob("*.sql"))


@pytest.fixture
async def pool(databases: Databases) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(dsn_url(databases.create(SCHEMA_FILES)), min_size=1, max_size=3) as pool:
        yield pool


def book(number: int, *, price: str = "10.00") -> bulk.CopyBooksParams:
    return bulk.CopyBooksParams(
        isbn=f"{9780000000000 + number}",
        title=f"Book {number}",
        price=decimal.Decimal(price),
        tags=["t", "u"],
        metadata={"n": number, "nested": [1.5, None, "x"]},
        format=BookFormat.EBOOK,
    )


async def test_copyfrom_loads_rows_with_binary_copy_and_converts_values(pool: asyncpg.Pool) -> None:
    rows = (bulk.CopyAuthorsParams(name=f"Author {i}", bio=None, country_code="NZ") for i in range(2500))
    assert await bulk.copy_authors(pool, rows) == 2500
    assert await authors.count_authors(pool) == 2500
    assert await bulk.copy_authors(pool, []) == 0
    assert await bulk.copy_books(pool, [book(1), book(2, price="2.50")]) == 2
    stored = await bulk.get_books_batch(pool, [bulk.GetBooksBatchParams(id=i) for i in (2, 1)])
    assert [(b.title, b.price, b.metadata, b.format, b.tags) for b in stored if b is not None] == [
        ("Book 2", decimal.Decimal("2.50"), {"n": 2, "nested": [1.5, None, "x"]}, BookFormat.EBOOK, ["t", "u"]),
        ("Book 1", decimal.Decimal("10.00"), {"n": 1, "nested": [1.5, None, "x"]}, BookFormat.EBOOK, ["t", "u"]),
    ]
    # A bad row fails the whole COPY: nothing of it is stored, and the error names the query.
    with pytest.raises(asyncpg.NotNullViolationError) as caught:
        await bulk.copy_authors(pool, [("Fine", None, None), (None, None, None)])  # type: ignore[list-item]
    assert caught.value.__notes__ == ["query CopyAuthors (queries/bulk.sql:3)"]
    assert await authors.count_authors(pool) == 2500


async def test_iter_streams_rows_inside_a_transaction_and_says_so_outside(pool: asyncpg.Pool) -> None:
    await bulk.copy_books(pool, [book(i, price=f"{i}.00") for i in range(1, 41)])
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.NoActiveSQLTransactionError, match=r"iter_books reads from a server-side cursor"):
            async for _ in bulk.iter_books(conn, min_price=decimal.Decimal(0)):
                pass
        async with conn.transaction():
            seen = [(r.title, r.price) async for r in bulk.iter_books(conn, min_price=decimal.Decimal(30), prefetch=4)]
            assert seen == [(f"Book {i}", decimal.Decimal(f"{i}.00")) for i in range(30, 41)]
            # Leaving early closes nothing that the transaction still needs.
            async for row in bulk.iter_books(conn, min_price=decimal.Decimal(0), prefetch=2):
                assert row.title == "Book 1"
                break
            assert await authors.count_authors(conn) == 0


async def test_iter_single_column_over_a_pooled_connection(pool: asyncpg.Pool) -> None:
    await bulk.copy_authors(pool, [bulk.CopyAuthorsParams(f"A{i}", None, None) for i in range(300)])
    async with pool.acquire() as conn, conn.transaction():
        names = [name async for name in bulk.iter_author_names(conn, prefetch=7)]
    assert names == [f"A{i}" for i in range(300)]


async def test_copyto_writes_csv_to_a_file_object_a_path_or_a_callback(pool: asyncpg.Pool, tmp_path: Path) -> None:
    await bulk.copy_books(pool, [book(1), book(2)])
    await pool.execute("UPDATE books SET genre = 'sf' WHERE title = 'Book 2'")
    buffer = io.BytesIO()
    assert await bulk.export_books(pool, buffer, genre="sf") == 1
    assert buffer.getvalue().decode() == "id,isbn,title,price\n2,9780000000002,Book 2,10.00\n"
    path = tmp_path / "books.csv"
    assert await bulk.export_books(pool, path, genre="none") == 0
    assert path.read_text() == "id,isbn,title,price\n"
    chunks: list[bytes] = []

    async def collect(chunk: bytes) -> None:
        chunks.append(chunk)

    assert await bulk.export_books(pool, collect, genre="sf") == 1
    assert b"".join(chunks).endswith(b"Book 2,10.00\n")


async def test_batchexec_is_one_atomic_run_over_all_parameter_sets(pool: asyncpg.Pool) -> None:
    await bulk.copy_books(pool, [book(1), book(2), book(3)])
    await bulk.set_book_prices(pool, [bulk.SetBookPricesParams(decimal.Decimal("1.25"), id) for id in (1, 3)])
    stored = await bulk.get_books_batch(pool, [bulk.GetBooksBatchParams(i) for i in (1, 2, 3)])
    assert [b.price for b in stored if b is not None] == [decimal.Decimal(p) for p in ("1.25", "10.00", "1.25")]
    with pytest.raises(asyncpg.CheckViolationError) as caught:
        await bulk.set_book_prices(pool, [(decimal.Decimal("7"), 2), (decimal.Decimal("-1"), 3)])
    assert caught.value.__notes__ == ["query SetBookPrices (queries/bulk.sql:22)"]
    stored = await bulk.get_books_batch(pool, [bulk.GetBooksBatchParams(2)])
    assert stored[0] is not None and stored[0].price == decimal.Decimal("10.00")  # the first set was undone too


async def test_batchone_and_batchmany_give_one_result_per_parameter_set_in_order(pool: asyncpg.Pool) -> None:
    ids = await bulk.add_publishers(pool, [bulk.AddPublishersParams(n) for n in ("Ace", "Tor", "Ace", "Orbit")])
    assert ids[2] is None and None not in (ids[0], ids[1], ids[3]) and len(set(ids)) == 4
    assert await bulk.add_publishers(pool, []) == []

    await bulk.copy_books(pool, [book(i) for i in range(1, 5)])
    found = await bulk.get_books_batch(pool, [bulk.GetBooksBatchParams(i) for i in (4, 99, 1, 4)])
    assert [b.title if b else None for b in found] == ["Book 4", None, "Book 1", "Book 4"]
    assert all(isinstance(b, models.Book) for b in found if b)

    assert await bulk.copy_authors(pool, [("One", None, None), ("Two", None, None)]) == 2
    author_ids = [r["id"] for r in await pool.fetch("SELECT id FROM authors ORDER BY id")]
    await pool.executemany(
        "INSERT INTO book_authors (book_id, author_id) VALUES ($1, $2)",
        [(3, author_ids[0]), (1, author_ids[0]), (2, author_ids[1])],
    )
    lists = await bulk.list_author_books_batch(
        pool, [bulk.ListAuthorBooksBatchParams(a) for a in (author_ids[1], -1, author_ids[0])]
    )
    assert [[(b.id, b.title) for b in books] for books in lists] == [
        [(2, "Book 2")],
        [],
        [(1, "Book 1"), (3, "Book 3")],
    ]


async def test_errors_keep_asyncpg_classes_and_name_the_query(pool: asyncpg.Pool) -> None:
    author = await authors.create_author(pool, name="X", bio=None, birth_date=None, country_code=None, website=None)
    assert author is not None
    await pool.execute("ALTER TABLE authors ADD CONSTRAINT unique_name UNIQUE (name)")
    with pytest.raises(asyncpg.UniqueViolationError) as caught:
        await authors.create_author(pool, name="X", bio=None, birth_date=None, country_code=None, website=None)
    assert caught.value.constraint_name == "unique_name"
    assert caught.value.__notes__ == ["query CreateAuthor (queries/authors.sql:34)"]


async def test_create_pool_passes_command_timeout_and_server_settings_through(databases: Databases) -> None:
    dsn = dsn_url(databases.create(SCHEMA_FILES))
    async with generated.create_pool(
        dsn, min_size=1, max_size=1, command_timeout=0.5, server_settings={"application_name": "sqlgen-test"}
    ) as pool:
        assert await pool.fetchval("SELECT current_setting('application_name')") == "sqlgen-test"
        assert await authors.count_authors(pool) == 0
        with pytest.raises(asyncio.TimeoutError):
            await pool.execute("SELECT pg_sleep(5)")


def test_commands_that_need_a_shape_say_which(project: Project) -> None:
    project.write("schema.sql", "CREATE TABLE t (id int PRIMARY KEY, note text DEFAULT 'x');")
    project.write(
        "queries.sql",
        """
        -- name: Expressions :copyfrom
        INSERT INTO t (id, note) VALUES (@id, upper(@note));
        -- name: Returning :copyfrom
        INSERT INTO t (id) VALUES (@id) RETURNING id;
        -- name: Nothing :batchexec
        DELETE FROM t;
        -- name: NoRows :iter
        DELETE FROM t WHERE id = @id;
        """,
    )
    assert [e.splitlines()[0] for e in sorted(project.errors())] == [
        "queries.sql:1:1: error: :copyfrom needs `INSERT INTO table (columns) VALUES (parameters)`,"
        " each value one parameter",
        "queries.sql:3:1: error: :copyfrom needs `INSERT INTO table (columns) VALUES (parameters)`,"
        " each value one parameter",
        "queries.sql:5:1: error: query Nothing is :batchexec but has no parameters to run it over",
        "queries.sql:7:1: error: query NoRows is :iter but its statement returns no rows",
    ]
