"""Generated code behind a real PgBouncer in transaction pool mode, with many concurrent callers.

In transaction mode PgBouncer lends a client a server connection for one transaction only: the
client's next statement may run on another server connection. asyncpg's statement cache (on by
default) prepares *named* statements ("__asyncpg_stmt_N__") on one server connection and runs them
later, maybe on another: "prepared statement ... does not exist". With `statement_cache_size=0`
asyncpg uses the unnamed statement and marks it unprepared, so that it sends Parse again in the same
message batch as each Bind/Execute/Sync (asyncpg/connection.py `Connection._get_statement`:
`stmt_name = ''` when the cache is off, then `statement.mark_unprepared()`; protocol/protocol.pyx
`bind_execute`: `if not state.prepared: self._send_parse_message(...)`): every statement is parsed
on the server connection that runs it, inside one PgBouncer transaction.

PgBouncer runs with `default_pool_size = 2`: many asyncpg connections share two server connections.
Every test uses a new database, which is a new PgBouncer pool with no server connection yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import decimal
import io
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from conftest import ROOT, Databases, dsn_url
from pgbouncer import PgBouncer, PgBouncerError, running_pgbouncer
from psycopg.conninfo import conninfo_to_dict

import generated
from bookshop.documents import PromotionRules
from generated import authors, books, models, orders, promotions

SCHEMA_FILES = sorted((ROOT / "queries" / "schema").glob("*.sql"))
POOL_SIZE = 2  # PgBouncer's server connections per database
CLIENTS = 20  # asyncpg connections in the application's pool
TASKS = 200  # concurrent callers
UTC = datetime.UTC
NO_AUTHOR: dict[str, Any] = {"bio": None, "birth_date": None, "country_code": None, "website": None}


def start_pgbouncer(server_url: str, **options: Any) -> Iterator[PgBouncer]:
    """A fixture body: PgBouncer in front of `server_url`, or a failed test saying how to install it."""
    with contextlib.ExitStack() as stack:
        try:
            bouncer = stack.enter_context(running_pgbouncer(server_url, **options))
        except PgBouncerError as err:
            raise pytest.fail.Exception(str(err), pytrace=False) from None
        yield bouncer


@pytest.fixture(scope="module")
def bouncer(server_url: str) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode, two server connections per database, for every database on the server."""
    yield from start_pgbouncer(server_url, pool_mode="transaction", pool_size=POOL_SIZE)


@dataclass
class Target:
    """A new database with the example schema."""

    direct: str  # direct, for asyncpg
    via_bouncer: str  # through PgBouncer, for asyncpg


def new_target(bouncer: PgBouncer, databases: Databases) -> Target:
    url = databases.create(SCHEMA_FILES)
    return Target(dsn_url(url), bouncer.dsn(str(conninfo_to_dict(url)["dbname"])))


@pytest.fixture
def target(bouncer: PgBouncer, databases: Databases) -> Target:
    return new_target(bouncer, databases)


async def backend_pid(conn: Any) -> int:
    pid: int = await conn.fetchval("SELECT pg_backend_pid()")
    return pid


# --- why the setting is needed -------------------------------------------------------------------


async def test_default_statement_cache_fails_when_pgbouncer_switches_server_connection(target: Target) -> None:
    """Step by step: a cached (named) statement runs on a server connection that never prepared it."""
    async with generated.create_pool(target.via_bouncer, min_size=2, max_size=2) as pool:
        async with pool.acquire() as first, pool.acquire() as second:
            # Prepares "__asyncpg_stmt_N__" on the only server connection, A, and runs it there.
            assert await authors.count_authors(first) == 0
            async with second.transaction():  # `second` now holds A until its transaction ends
                server_a = await backend_pid(second)
                # PgBouncer gives `first` a new server connection, B, which has no such statement.
                with pytest.raises(asyncpg.InvalidSQLStatementNameError) as caught:
                    await authors.count_authors(first)
                server_b = await backend_pid(first)
    assert server_a != server_b
    assert "__asyncpg_stmt_" in str(caught.value) and "does not exist" in str(caught.value)
    hint = caught.value.hint or ""
    assert "pgbouncer" in hint and "statement_cache_size to 0" in hint  # asyncpg's own advice


async def test_the_same_steps_work_with_statement_cache_size_0(target: Target) -> None:
    async with generated.create_pool(target.via_bouncer, statement_cache_size=0, min_size=2, max_size=2) as pool:
        async with pool.acquire() as first, pool.acquire() as second:
            assert await authors.count_authors(first) == 0
            async with second.transaction():
                server_a = await backend_pid(second)
                await authors.create_author(second, name="Uncommitted", **NO_AUTHOR)
                assert await authors.count_authors(first) == 0  # on server B, outside `second`'s transaction
                server_b = await backend_pid(first)
            assert await authors.count_authors(first) == 1
    assert server_a != server_b


async def exercise_authors(pool: asyncpg.Pool, i: int) -> None:
    author = await authors.create_author(pool, name=f"Author {i}", **NO_AUTHOR)
    assert author is not None
    assert await authors.get_author(pool, id=author.id) == author
    assert await authors.count_authors(pool) is not None


async def test_default_statement_cache_fails_with_many_concurrent_callers(target: Target) -> None:
    """What an application sees: concurrent callers fail with asyncpg's pgbouncer error."""
    async with generated.create_pool(target.via_bouncer, min_size=CLIENTS, max_size=CLIENTS) as pool:
        results = await asyncio.gather(*(exercise_authors(pool, i) for i in range(TASKS)), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures, "expected prepared-statement errors through PgBouncer with asyncpg's statement cache on"
    unexpected = [f for f in failures if not isinstance(f, asyncpg.InvalidSQLStatementNameError)]
    assert unexpected == []
    assert all("pgbouncer" in (f.hint or "") for f in failures if isinstance(f, asyncpg.PostgresError))


# --- the generated functions with statement_cache_size=0 -------------------------------------------


@dataclass
class Seen:
    """Which server connections (backend pids) the asyncpg connections ran on."""

    backends: set[int]
    switched: int = 0  # times one acquired connection ran on two server connections


async def one_caller(pool: asyncpg.Pool, i: int, seen: Seen) -> None:
    """One concurrent caller: writes, reads, enum/composite/domain/range/jsonb values, transactions."""
    author = await authors.create_author(pool, name=f"Author {i}", **NO_AUTHOR)
    assert author is not None and author.name == f"Author {i}"
    assert await authors.get_author(pool, id=author.id) == author

    publisher = await books.upsert_publisher(pool, name=f"Publisher {i}", country_code="GB", founded_year=1900 + i)
    assert publisher is not None and publisher.founded_year == 1900 + i
    book_id = await books.create_book(
        pool,
        isbn=f"978{i:010d}",
        title=f"Book {i}",
        subtitle=None,
        publisher_id=publisher.id,
        genre="sf",
        tags=["t", str(i)],
        price=decimal.Decimal(i) / 100,
        page_count=i + 1,
        published_on=None,
        reading_time=datetime.timedelta(minutes=i),
        metadata={"i": i},
    )
    assert book_id is not None
    await books.link_book_author(pool, book_id=book_id, author_id=author.id, author_position=1)
    main_format = models.BookFormat.HARDCOVER if i % 2 else models.BookFormat.EBOOK
    others = [models.BookFormat.AUDIOBOOK, None] if i % 3 else []
    assert await books.set_book_formats(pool, format=main_format, others=others, id=book_id) == 1

    async with pool.acquire() as conn:  # one connection for several statements: PgBouncer may switch under it
        before = await backend_pid(conn)
        book = await books.get_book(conn, id=book_id)
        assert book is not None
        assert (book.title, book.tags, book.price, book.metadata) == (
            f"Book {i}",
            ["t", str(i)],
            decimal.Decimal(i) / 100,
            {"i": i},
        )
        assert (book.format, book.also_available_as) == (main_format, others)
        assert await books.list_book_titles_by_author(conn, author_id=author.id) == [f"Book {i}"]
        after = await backend_pid(conn)
        seen.backends |= {before, after}
        seen.switched += before != after

    period = asyncpg.Range(datetime.datetime(2026, 1, 1, tzinfo=UTC), datetime.datetime(2026, 2, 1, tzinfo=UTC))
    rules = PromotionRules(min_items=i % 4 + 1, genres=["sf"])
    percent = decimal.Decimal(i % 100 + 1) / 2
    promotion = await promotions.create_promotion(
        pool, code=f"P{i}", percent_off=percent, active_during=period, book_ids=[book_id], rules=rules
    )
    assert promotion is not None and promotion.active_during == period and promotion.rules == rules
    [row] = await promotions.promotions_for_book(pool, book_id=book_id)
    assert (row.code, row.percent_off, row.rules) == (f"P{i}", percent, rules)
    with pytest.raises(asyncpg.CheckViolationError):  # the percentage domain's CHECK
        await promotions.create_promotion(
            pool, code=f"BAD{i}", percent_off=decimal.Decimal(0), active_during=period, book_ids=[], rules=rules
        )

    customer = await orders.create_customer(
        pool, email=f"c{i}@example.com", display_name=f"C{i}", phone=None, marketing_opt_in=False, preferences=None
    )
    assert customer is not None
    order = await orders.create_order(
        pool, customer_id=customer.id, shipping_address=None, discount_codes=None, notes=None
    )
    assert order is not None
    address = models.PostalAddress(line1=f"{i} Main St", line2=None, city=f"City {i}", postcode="1", country_code="FR")
    assert await promotions.set_delivery_address(pool, delivery_address=address, id=order.id) == 1
    assert await promotions.get_delivery_address(pool, id=order.id) == address

    # A transaction rolled back: its statements all run on the one server connection it holds.
    async with pool.acquire() as conn:
        with pytest.raises(LookupError):
            async with conn.transaction():
                pid = await backend_pid(conn)
                ghost = await authors.create_author(conn, name=f"Ghost {i}", **NO_AUTHOR)
                assert ghost is not None and await authors.get_author(conn, id=ghost.id) == ghost
                assert await authors.update_author_bio(conn, bio="boo", id=ghost.id) == 1
                assert await backend_pid(conn) == pid
                raise LookupError("roll back")
        assert await authors.get_author(conn, id=ghost.id) is None
        # A committed one.
        async with conn.transaction():
            assert await authors.update_author_bio(conn, bio=f"Bio {i}", id=author.id) == 1
    fetched = await authors.get_author(pool, id=author.id)
    assert fetched is not None and fetched.bio == f"Bio {i}"


async def test_generated_functions_with_statement_cache_size_0_and_many_concurrent_callers(target: Target) -> None:
    seen = Seen(set())
    async with generated.create_pool(
        target.via_bouncer, statement_cache_size=0, min_size=CLIENTS, max_size=CLIENTS
    ) as pool:
        results = await asyncio.gather(*(one_caller(pool, i, seen) for i in range(TASKS)), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert failures == []
        assert await authors.count_authors(pool) == TASKS  # no ghost survived its rollback
        hardcover = await books.list_books_by_format(pool, format=models.BookFormat.HARDCOVER)
        assert len(hardcover) == TASKS // 2
        audiobook = await books.list_books_by_format(pool, format=models.BookFormat.AUDIOBOOK)
        assert len(audiobook) == len([i for i in range(TASKS) if i % 3])
        assert len(await promotions.orders_shipped_to(pool, country_code="FR")) == TASKS
    # The point of the test: CLIENTS asyncpg connections really shared POOL_SIZE server connections.
    assert 1 <= len(seen.backends) <= POOL_SIZE
    assert seen.switched > 0


# --- raw asyncpg features through PgBouncer with statement_cache_size=0 ----------------------------


async def feature_caller(pool: asyncpg.Pool, i: int) -> None:
    async with pool.acquire() as conn:
        # A server-side cursor: the transaction keeps one server connection for the portal.
        async with conn.transaction():
            rows = [
                r async for r in conn.cursor("SELECT g, pg_backend_pid() FROM generate_series(1, 300) g", prefetch=7)
            ]
        assert [r[0] for r in rows] == list(range(1, 301))
        assert len({r[1] for r in rows}) == 1
        async with conn.transaction():
            cursor = await conn.cursor("SELECT g FROM generate_series(1, 100) g")
            assert [r[0] for r in await cursor.fetch(10)] == list(range(1, 11))
            assert await cursor.forward(5) == 5
            row = await cursor.fetchrow()
            assert row is not None and row[0] == 16

        # Binary COPY of rows with an enum, a composite type and an array (types asyncpg introspects).
        base = i * 1000
        records = [
            (base + k, "ebook" if k % 2 else "audiobook", (f"{k} Road", None, "Oslo", "0150", "NO"), [str(k)])
            for k in range(50)
        ]
        assert await conn.copy_records_to_table("copy_target", records=records) == "COPY 50"
        out = io.BytesIO()
        status = await conn.copy_from_query(
            "SELECT id, format FROM copy_target WHERE id >= $1 AND id < $2 ORDER BY id", base, base + 3, output=out
        )
        assert status == "COPY 3"
        assert out.getvalue() == f"{base}\taudiobook\n{base + 1}\tebook\n{base + 2}\taudiobook\n".encode()

        # executemany: one batch, one Sync, so one PgBouncer transaction; a failure inserts nothing.
        await conn.executemany(
            "INSERT INTO copy_target (id, format) VALUES ($1, $2)", [(base + 100 + k, "hardcover") for k in range(20)]
        )
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.executemany(
                "INSERT INTO copy_target (id, format) VALUES ($1, $2)", [(base + 200, "ebook"), (base, "ebook")]
            )
        count = await conn.fetchval("SELECT count(*) FROM copy_target WHERE id >= $1 AND id < $2", base, base + 1000)
        assert count == 70

        # A PreparedStatement from conn.prepare() is unnamed too, and is parsed again at each use.
        statement = await conn.prepare("SELECT $1::int * 2, $2::book_format")
        for k in range(5):
            assert tuple(await statement.fetchrow(k, "ebook")) == (k * 2, "ebook")


async def test_raw_asyncpg_cursor_copy_executemany_prepare_with_statement_cache_size_0(target: Target) -> None:
    direct = await asyncpg.connect(target.direct)
    try:
        await direct.execute(
            "CREATE TABLE copy_target (id int PRIMARY KEY, format book_format NOT NULL,"
            " address postal_address, tags text[])"
        )
    finally:
        await direct.close()
    async with asyncpg.create_pool(target.via_bouncer, statement_cache_size=0, min_size=10, max_size=10) as pool:
        results = await asyncio.gather(*(feature_caller(pool, i) for i in range(50)), return_exceptions=True)
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert await pool.fetchval("SELECT count(*) FROM copy_target") == 50 * 70
        address = await pool.fetchval("SELECT address FROM copy_target WHERE id = 1001")
        assert tuple(address) == ("1 Road", None, "Oslo", "0150", "NO")


async def test_prepared_statement_from_prepare_survives_a_server_switch(target: Target) -> None:
    async with asyncpg.create_pool(target.via_bouncer, statement_cache_size=0, min_size=2, max_size=2) as pool:
        async with pool.acquire() as conn, pool.acquire() as other:
            statement = await conn.prepare("SELECT $1::int + 1, pg_backend_pid()")
            first, server_a = await statement.fetchrow(1)
            async with other.transaction():  # holds server connection A
                assert await backend_pid(other) == server_a
                second, server_b = await statement.fetchrow(2)
    assert (first, second) == (2, 3)
    assert server_a != server_b


# --- what cannot work in transaction mode ----------------------------------------------------------


async def notifications_received(listen_dsn: str, notify_dsn: str) -> list[str]:
    """LISTEN on one connection, NOTIFY three times from another; what the listener's callback got."""
    received: list[str] = []
    listener = await asyncpg.connect(listen_dsn, statement_cache_size=0)
    notifier = await asyncpg.connect(notify_dsn, statement_cache_size=0)
    try:
        await listener.add_listener("news", lambda _conn, _pid, _channel, payload: received.append(payload))
        for k in range(3):
            await notifier.execute(f"NOTIFY news, 'n{k}'")
        await listener.fetchval("SELECT 1")  # a round trip: notifications for the listener arrive before its reply
        await asyncio.sleep(0.3)
    finally:
        await listener.close()
        await notifier.close()
    return received


async def test_listen_notify_loses_notifications_silently_behind_transaction_pooling(target: Target) -> None:
    # Directly, the listener gets every notification.
    assert await notifications_received(target.direct, target.direct) == ["n0", "n1", "n2"]
    # Through PgBouncer, LISTEN succeeds but registers the *server* connection, which PgBouncer lends to
    # whoever comes next: notifications go to that client (asyncpg drops them: it has no listener) or
    # arrive while the server connection is idle (PgBouncer logs "got packet 'A' from server when not
    # linked"). No error is raised anywhere.
    assert await notifications_received(target.via_bouncer, target.via_bouncer) == []


CURSOR_IN_A_NEW_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    import asyncpg

    async def main(dsn):
        conn = await asyncpg.connect(dsn, statement_cache_size=0)
        try:
            async with conn.transaction():
                rows = [r async for r in conn.cursor("SELECT g FROM generate_series(1, 10) g", prefetch=3)]
            print("rows", len(rows))
        except asyncpg.PostgresError as err:
            print(type(err).__name__, str(err).splitlines()[0])
        finally:
            await conn.close()

    asyncio.run(main(sys.argv[1]))
    """
)


def cursor_in_a_new_process(dsn: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", CURSOR_IN_A_NEW_PROCESS, dsn], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def resetting_bouncer(server_url: str) -> Iterator[PgBouncer]:
    """PgBouncer that runs `DEALLOCATE ALL` on a server connection after every transaction."""
    yield from start_pgbouncer(
        server_url,
        pool_mode="transaction",
        pool_size=POOL_SIZE,
        settings={"server_reset_query": "DEALLOCATE ALL", "server_reset_query_always": "1"},
    )


def test_cursors_leave_named_statements_that_another_process_collides_with(
    target: Target, resetting_bouncer: PgBouncer, databases: Databases
) -> None:
    """`conn.cursor()` always prepares a *named* statement (asyncpg/cursor.py: `named=True`), even with
    statement_cache_size=0. It outlives the cursor's transaction on the server connection, and another
    process, whose asyncpg numbers its statements from 1 as well, then fails to prepare the same name."""
    assert cursor_in_a_new_process(target.via_bouncer) == "rows 10"
    assert cursor_in_a_new_process(target.via_bouncer) == (
        'DuplicatePreparedStatementError prepared statement "__asyncpg_stmt_1__" already exists'
    )
    # PgBouncer's fix: reset every server connection after each transaction.
    fresh = new_target(resetting_bouncer, databases)
    assert [cursor_in_a_new_process(fresh.via_bouncer) for _ in range(2)] == ["rows 10", "rows 10"]


# --- the fixture itself ----------------------------------------------------------------------------


def test_a_missing_pgbouncer_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, server_url: str) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("pgbouncer.SEARCH_PATH", "/nonexistent")
    with pytest.raises(PgBouncerError, match="apt-get install -y pgbouncer"):
        with running_pgbouncer(server_url):
            pass
