"""Typed LISTEN/NOTIFY: payloads sent by a trigger and by the generated sender, as validated models."""

from __future__ import annotations

import asyncio
import decimal
from collections.abc import AsyncIterator

import asyncpg
import pydantic
import pytest
from conftest import ROOT, Databases, Project, dsn_url

from generated import books, bulk, channels, models

SCHEMA_FILES = sorted((ROOT / "queries" / "schema").glob("*.sql"))
Change = models.BookPriceChange


@pytest.fixture
async def pool(databases: Databases) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(dsn_url(databases.create(SCHEMA_FILES)), min_size=2, max_size=4) as pool:
        yield pool


async def listening(conn: asyncpg.Connection) -> list[str]:
    return [r[0] for r in await conn.fetch("SELECT pg_listening_channels()")]


async def add_book(pool: asyncpg.Pool, title: str, price: str) -> int:
    book_id: int = await pool.fetchval(
        "INSERT INTO books (isbn, title, price) VALUES (md5($1)::char(13), $1, $2::numeric) RETURNING id", title, price
    )
    return book_id


async def test_a_trigger_and_the_generated_sender_reach_a_typed_listener(pool: asyncpg.Pool) -> None:
    book_id = await add_book(pool, "Dune", "9.99")
    async with pool.acquire() as conn:
        async with channels.listen_book_price_changes(conn) as events:
            assert await listening(conn) == ["book_price_changes"]
            await books.update_book_price(pool, id=book_id, price=decimal.Decimal("12.50"))  # fires the trigger
            sent = Change(book_id=7, title="Sent", old_price=None, new_price=decimal.Decimal("1.10"))
            await channels.notify_book_price_changes(pool, sent)
            received = [await asyncio.wait_for(events.get(), 5), await asyncio.wait_for(events.get(), 5)]
            assert received == [
                Change(
                    book_id=book_id, title="Dune", old_price=decimal.Decimal("9.99"), new_price=decimal.Decimal("12.5")
                ),
                sent,
            ]
            assert all(isinstance(r, Change) for r in received)
        assert await listening(conn) == []  # UNLISTEN on leaving


async def test_notifications_arrive_on_commit_only(pool: asyncpg.Pool) -> None:
    book_id = await add_book(pool, "Emma", "5.00")
    async with pool.acquire() as conn, channels.listen_book_price_changes(conn) as events:
        async with pool.acquire() as writer:
            with pytest.raises(RuntimeError):
                async with writer.transaction():
                    await bulk.set_book_prices(writer, [bulk.SetBookPricesParams(decimal.Decimal("6"), book_id)])
                    raise RuntimeError("roll back")
            async with writer.transaction():
                await bulk.set_book_prices(writer, [bulk.SetBookPricesParams(decimal.Decimal("7"), book_id)])
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(events.get(), 0.3)  # not before the commit
        event = await asyncio.wait_for(events.get(), 5)
        assert (event.old_price, event.new_price) == (decimal.Decimal("5.00"), decimal.Decimal("7.00"))


async def test_async_for_without_a_context_listens_for_the_loop(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        seen: list[Change] = []

        async def consume() -> None:
            async for event in channels.listen_book_price_changes(conn):
                seen.append(event)

        task = asyncio.create_task(consume())
        async with asyncio.timeout(5):
            while not seen:  # sent until the loop has started listening and received one
                await channels.notify_book_price_changes(
                    pool, Change(book_id=1, title=None, old_price=None, new_price=None)
                )
                await asyncio.sleep(0.02)
        task.cancel()  # cancelling the consumer stops listening
        with pytest.raises(asyncio.CancelledError):
            await task
        assert seen[0] == Change(book_id=1, title=None, old_price=None, new_price=None)
        assert await listening(conn) == []


async def test_a_bad_payload_raises_and_listening_goes_on(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, channels.listen_book_price_changes(conn) as events:
        await pool.execute("SELECT pg_notify('book_price_changes', 'not json')")
        payload = '{"book_id": 3, "title": null, "old_price": 1.5, "new_price": null}'
        await pool.execute("SELECT pg_notify('book_price_changes', $1)", payload)
        with pytest.raises(pydantic.ValidationError):
            await asyncio.wait_for(events.get(), 5)
        assert await asyncio.wait_for(events.get(), 5) == Change(
            book_id=3, title=None, old_price=decimal.Decimal("1.5"), new_price=None
        )


async def test_a_closed_connection_ends_the_wait_with_an_error(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as listener_conn:
        events = channels.listen_book_price_changes(listener_conn)
        await events.start()
        pid = listener_conn.get_server_pid()
        waiting = asyncio.create_task(events.get())
        await pool.execute("SELECT pg_terminate_backend($1)", pid)
        with pytest.raises(asyncpg.ConnectionDoesNotExistError, match="listening on book_price_changes"):
            await asyncio.wait_for(waiting, 5)
        await events.stop()  # nothing left to UNLISTEN on a closed connection: no error


def test_a_python_model_or_a_table_as_payload_and_unknown_payloads(project: Project) -> None:
    project.write("schema.sql", "CREATE TABLE t (id int);")
    project.write("queries.sql", "-- name: One :one\nSELECT 1;\n")
    project.write("events.py", "import pydantic\n\nclass Ping(pydantic.BaseModel):\n    n: int\n")
    project.write("pyproject.toml", '[tool.sqlgen.channels]\npings = "events.Ping"\nt-rows = "public.t"\n')
    output = project.generate()
    assert "async def notify_pings(conn: Executor, /, payload: Ping) -> None:" in output["channels.py"]
    assert "from events import Ping" in output["channels.py"]
    assert "def listen_t_rows(conn: AnyConnection, /) -> Listener[models.T]:" in output["channels.py"]
    assert 'T_ROWS_CHANNEL = "t-rows"' in output["channels.py"]
    project.write("pyproject.toml", '[tool.sqlgen.channels]\npings = "events.Ping"\nnope = "missing_table"\n')
    assert project.errors() == [
        "pyproject.toml:3:1: error: the payload of channel 'nope', 'missing_table', is not a table, view or"
        " composite type of the schema\n"
        "  hint: name one (schema.name for other schemas than public), or a pydantic model as module.Class"
    ]
