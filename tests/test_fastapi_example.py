"""The FastAPI example (examples/fastapi_app) over HTTP, with its lifespan, against a real database."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from conftest import ROOT, Databases, dsn_url
from fastapi import FastAPI

import generated
from examples.fastapi_app import app as example
from examples.fastapi_app.app import Settings, create_app
from generated import authors, books, orders

SCHEMA_FILES = sorted((ROOT / "queries" / "schema").glob("*.sql"))
APP_NAME = "bookshop-api-test"
POOL_SIZE = 4


@pytest.fixture
def dsn(databases: Databases) -> str:
    return dsn_url(databases.create(SCHEMA_FILES))


@pytest.fixture
async def db(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the test's own, to seed data and look behind the API's back."""
    conn = await generated.connect(dsn)
    yield conn
    await conn.close()


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (startup, then shutdown on exit) and talk to it over HTTP."""
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://bookshop.test") as client,
    ):
        yield client


@pytest.fixture
async def client(dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=dsn, pool_min_size=1, pool_max_size=POOL_SIZE, application_name=APP_NAME)
    async with serve(create_app(settings, background=example.BACKGROUND)) as client:
        yield client


async def app_connections(db: asyncpg.Connection) -> int:
    """How many server sessions the app's pool has open in the test database."""
    count: int = await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
        APP_NAME,
    )
    return count


async def seed_books(db: asyncpg.Connection) -> dict[str, int]:
    publisher = await books.upsert_publisher(db, name="Ace", country_code="US", founded_year=1952)
    assert publisher is not None
    catalogue = [
        ("9780441478125", "The Left Hand of Darkness", "sf", "9.99", datetime.date(1969, 3, 1)),
        ("9780060512750", "The Dispossessed", "sf", "24.50", datetime.date(1974, 5, 1)),
        ("9780140424386", "Leaves of Grass", "poetry", "12.00", datetime.date(1855, 7, 4)),
    ]
    ids = {}
    for isbn, title, genre, price, published_on in catalogue:
        book_id = await books.create_book(
            db,
            isbn=isbn,
            title=title,
            subtitle=None,
            publisher_id=publisher.id,
            genre=genre,
            tags=[],
            price=decimal.Decimal(price),
            page_count=None,
            published_on=published_on,
            reading_time=None,
            metadata={},
        )
        assert book_id is not None
        ids[title] = book_id
    assert await books.retire_books_published_before(db, published_on=datetime.date(1900, 1, 1)) == 1
    return ids


async def register(client: httpx.AsyncClient, email: str = "reader@example.com") -> dict[str, Any]:
    response = await client.post("/customers", json={"email": email, "display_name": "Reader"})
    assert response.status_code == 201, response.text
    customer: dict[str, Any] = response.json()
    return customer


async def test_create_and_get_author_and_404(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    response = await client.post(
        "/authors", json={"name": "Ursula K. Le Guin", "birth_date": "1929-10-21", "country_code": "US"}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert isinstance(created["id"], int)
    assert {k: v for k, v in created.items() if k not in ("id", "created_at")} == {
        "name": "Ursula K. Le Guin",
        "bio": None,
        "birth_date": "1929-10-21",
        "country_code": "US",
        "website": None,
        "popularity_score": 0.0,
    }
    assert datetime.datetime.fromisoformat(created["created_at"]).tzinfo is not None

    fetched = await client.get(f"/authors/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created
    stored = await authors.get_author(db, id=created["id"])
    assert stored is not None and stored.birth_date == datetime.date(1929, 10, 21)

    missing = await client.get(f"/authors/{created['id'] + 1000}")
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"no author {created['id'] + 1000}"}
    assert (await client.get("/authors/not-a-number")).status_code == 422


async def test_invalid_author_is_refused_before_the_database(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    response = await client.post("/authors", json={"name": "X", "country_code": "USA"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "country_code"]
    assert (await client.post("/authors", json={"name": ""})).status_code == 422
    assert await authors.count_authors(db) == 0


async def test_books_are_filtered_and_decimals_serialised_as_strings(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    ids = await seed_books(db)
    response = await client.get("/books")
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": ids["Leaves of Grass"],
            "title": "Leaves of Grass",
            "genre": "poetry",
            "price": "12.00",
            "in_print": False,
        },
        {"id": ids["The Dispossessed"], "title": "The Dispossessed", "genre": "sf", "price": "24.50", "in_print": True},
        {
            "id": ids["The Left Hand of Darkness"],
            "title": "The Left Hand of Darkness",
            "genre": "sf",
            "price": "9.99",
            "in_print": True,
        },
    ]
    cheap_sf = await client.get("/books", params={"genre": "sf", "max_price": "10"})
    assert [b["title"] for b in cheap_sf.json()] == ["The Left Hand of Darkness"]
    out_of_print = await client.get("/books", params={"in_print": "false"})
    assert [b["title"] for b in out_of_print.json()] == ["Leaves of Grass"]
    assert (await client.get("/books", params={"genre": "romance"})).json() == []
    assert (await client.get("/books", params={"max_price": "cheap"})).status_code == 422


async def test_search_filters_on_what_is_given_and_sorts_by_the_chosen_key(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await seed_books(db)

    async def search(**params: str) -> list[str]:
        response = await client.get("/books/search", params=params)
        assert response.status_code == 200, response.text
        return [book["title"] for book in response.json()]

    everything = ["Leaves of Grass", "The Dispossessed", "The Left Hand of Darkness"]
    assert await search() == everything
    assert await search(order="-title") == everything[::-1]
    assert await search(order="published_on") == ["The Dispossessed", "The Left Hand of Darkness", "Leaves of Grass"]
    assert await search(order="-published_on") == ["Leaves of Grass", "The Left Hand of Darkness", "The Dispossessed"]
    assert await search(genre="sf") == ["The Dispossessed", "The Left Hand of Darkness"]
    assert await search(genre="sf", max_price="10") == ["The Left Hand of Darkness"]
    assert await search(published_after="1900-01-01", order="-title") == everything[:0:-1]
    assert await search(title="OF", max_price="20", published_after="1800-01-01") == [
        "Leaves of Grass",
        "The Left Hand of Darkness",
    ]
    assert await search(genre="sf", max_price="30", published_after="1970-01-01", title="dis") == ["The Dispossessed"]
    assert await search(limit="1") == ["Leaves of Grass"]
    for refused in ({"order": "price"}, {"order": "title; DROP TABLE books"}, {"limit": "0"}):
        assert (await client.get("/books/search", params=refused)).status_code == 422


async def test_duplicate_customer_email_is_a_conflict(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    customer = await register(client)
    assert customer["email"] == "reader@example.com" and customer["marketing_opt_in"] is False
    again = await client.post("/customers", json={"email": "reader@example.com", "display_name": "Other"})
    assert again.status_code == 409
    assert again.json() == {"detail": "reader@example.com is already registered"}
    assert await db.fetchval("SELECT count(*) FROM customers") == 1


async def test_placing_an_order_writes_order_items_and_total(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    ids = await seed_books(db)
    customer = await register(client)
    public_id = customer["public_id"]
    body = {
        "items": [
            {"book_id": ids["The Left Hand of Darkness"], "quantity": 2},
            {"book_id": ids["The Dispossessed"], "quantity": 1},
            {"book_id": ids["The Left Hand of Darkness"], "quantity": 1},  # same book again: quantity adds up
        ],
        "notes": "gift wrap",
    }
    response = await client.post(f"/customers/{public_id}/orders", json=body)
    assert response.status_code == 201, response.text
    placed = response.json()
    order = placed["order"]
    assert (order["customer_id"], order["status"], order["total_amount"], order["notes"]) == (
        customer["id"],
        "pending",
        "54.47",  # 3 * 9.99 + 24.50
        "gift wrap",
    )
    assert order["shipped_at"] is None and order["delivery_address"] is None
    assert datetime.datetime.fromisoformat(order["placed_at"]).tzinfo is not None
    assert placed["items"] == [
        {
            "book_id": ids["The Dispossessed"],
            "title": "The Dispossessed",
            "isbn": "9780060512750",
            "quantity": 1,
            "unit_price": "24.50",
            "line_total": "24.50",
        },
        {
            "book_id": ids["The Left Hand of Darkness"],
            "title": "The Left Hand of Darkness",
            "isbn": "9780441478125",
            "quantity": 3,
            "unit_price": "9.99",
            "line_total": "29.97",
        },
    ]

    assert (await client.get(f"/orders/{order['id']}")).json() == placed
    stored = await orders.get_order(db, id=order["id"])
    assert stored is not None and stored.total_amount == decimal.Decimal("54.47")

    listed = await client.get(f"/customers/{public_id}/orders")
    assert listed.status_code == 200
    assert [(o["id"], o["total_amount"]) for o in listed.json()] == [(order["id"], "54.47")]
    assert (await client.get(f"/orders/{order['id'] + 1}")).status_code == 404


async def test_a_rejected_order_is_rolled_back_entirely(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    ids = await seed_books(db)
    customer = await register(client)
    orders_url = f"/customers/{customer['public_id']}/orders"
    good = {"book_id": ids["The Dispossessed"], "quantity": 1}

    out_of_print = await client.post(
        orders_url, json={"items": [good, {"book_id": ids["Leaves of Grass"], "quantity": 1}]}
    )
    assert out_of_print.status_code == 409
    assert out_of_print.json() == {"detail": "'Leaves of Grass' is out of print"}
    unknown_book = await client.post(orders_url, json={"items": [good, {"book_id": 999_999, "quantity": 1}]})
    assert unknown_book.status_code == 422
    assert unknown_book.json() == {"detail": "no book 999999"}

    # Both requests did insert an order and its first item (sequences are not transactional)...
    assert await db.fetchval("SELECT last_value FROM orders_id_seq") == 2
    assert await db.fetchval("SELECT last_value FROM order_items_id_seq") == 2
    # ...and the rollback left nothing behind.
    assert await db.fetchval("SELECT count(*) FROM orders") == 0
    assert await db.fetchval("SELECT count(*) FROM order_items") == 0
    assert (await client.get(orders_url)).json() == []
    assert (await client.get("/orders/1")).status_code == 404

    # The connections went back to the pool usable: the next order goes through.
    accepted = await client.post(orders_url, json={"items": [good]})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["order"]["id"] == 3
    assert accepted.json()["order"]["total_amount"] == "24.50"
    assert await db.fetchval("SELECT count(*) FROM order_items") == 1


async def test_order_requests_that_never_reach_a_write(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    ids = await seed_books(db)
    customer = await register(client)
    line = {"book_id": ids["The Dispossessed"], "quantity": 1}
    stranger = "00000000-0000-4000-8000-000000000000"
    unknown = await client.post(f"/customers/{stranger}/orders", json={"items": [line]})
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": f"no customer {stranger}"}
    assert (await client.get(f"/customers/{stranger}/orders")).status_code == 404
    orders_url = f"/customers/{customer['public_id']}/orders"
    assert (await client.post(orders_url, json={"items": []})).status_code == 422
    assert (await client.post(orders_url, json={"items": [{**line, "quantity": 0}]})).status_code == 422
    assert (await client.post("/customers/not-a-uuid/orders", json={"items": [line]})).status_code == 422
    assert await db.fetchval("SELECT is_called FROM orders_id_seq") is False


async def test_concurrent_requests_share_the_pool(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    ids = await seed_books(db)
    created = await asyncio.gather(*(client.post("/authors", json={"name": f"Author {i:02}"}) for i in range(20)))
    assert [r.status_code for r in created] == [201] * 20
    author_ids = [r.json()["id"] for r in created]
    assert len(set(author_ids)) == 20
    assert await authors.count_authors(db) == 20
    fetched = await asyncio.gather(*(client.get(f"/authors/{i}") for i in author_ids))
    assert [r.json()["name"] for r in fetched] == [f"Author {i:02}" for i in range(20)]

    customer = await register(client)
    orders_url = f"/customers/{customer['public_id']}/orders"
    line = {"book_id": ids["The Left Hand of Darkness"], "quantity": 1}
    placed = await asyncio.gather(*(client.post(orders_url, json={"items": [line]}) for _ in range(20)))
    assert [r.status_code for r in placed] == [201] * 20
    assert len({r.json()["order"]["id"] for r in placed}) == 20
    listed = (await client.get(orders_url, params={"limit": 100})).json()
    assert len(listed) == 20 and {o["total_amount"] for o in listed} == {"9.99"}
    # The requests overlapped: the pool opened every connection it may, and no more.
    assert await app_connections(db) == POOL_SIZE


async def test_lifespan_runs_background_jobs_and_closes_the_pool(dsn: str, db: asyncpg.Connection) -> None:
    seen: list[object] = []
    started = asyncio.Event()

    async def job(state: example.State) -> None:
        pool = state["pool"]
        seen.append(pool)
        seen.append(await authors.count_authors(pool))
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    settings = Settings(database_url=dsn, application_name=APP_NAME)
    async with serve(create_app(settings, background=[job])) as client:
        await asyncio.wait_for(started.wait(), timeout=5)
        assert (await client.get("/authors/1")).status_code == 404
        assert await app_connections(db) >= 1
        assert "cancelled" not in seen
    pool = seen[0]
    assert isinstance(pool, asyncpg.Pool) and pool.is_closing()
    assert seen[1:] == [0, "cancelled"]
    for _ in range(50):  # the server notices closed sessions a moment later
        if await app_connections(db) == 0:
            break
        await asyncio.sleep(0.1)
    assert await app_connections(db) == 0


async def test_module_app_reads_database_url_at_startup(
    dsn: str, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", dsn)
    async with serve(example.app) as client:
        response = await client.post("/authors", json={"name": "From the environment"})
        assert response.status_code == 201
    assert await authors.list_author_names(db) == ["From the environment"]
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(KeyError):
        async with serve(example.app):
            pass


async def test_a_crashing_background_job_is_logged_and_the_app_keeps_serving(
    dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_listener(state: example.State) -> None:
        raise RuntimeError("lost the connection")

    settings = Settings(database_url=dsn, application_name=APP_NAME)
    with caplog.at_level(logging.ERROR, logger=example.__name__):
        async with serve(create_app(settings, background=[broken_listener])) as client:
            for _ in range(50):
                if caplog.records:
                    break
                await asyncio.sleep(0.01)
            assert (await client.post("/authors", json={"name": "Still here"})).status_code == 201
    [record] = caplog.records
    assert record.getMessage() == "background task broken_listener crashed"
    assert record.exc_info is not None and str(record.exc_info[1]) == "lost the connection"


async def listener_pid(db: asyncpg.Connection, other_than: int | None = None) -> int:
    """The server pid of the app's listening session, once it has LISTENed (a new one if `other_than`)."""
    async with asyncio.timeout(5):
        while True:
            pid: int | None = await db.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1"
                " AND state = 'idle' AND query LIKE 'LISTEN %' AND pid IS DISTINCT FROM $2",
                APP_NAME,
                other_than,
            )
            if pid is not None:
                return pid
            await asyncio.sleep(0.02)


# A change reaches GET /price-changes a moment after its commit, through the listener: poll.
async def price_changes(client: httpx.AsyncClient, count: int) -> list[tuple[Any, ...]]:
    """The recorded changes once there are `count` of them (or whatever there is after 5 s)."""
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        response = await client.get("/price-changes")
        assert response.status_code == 200
        changes = [
            (c["book_id"], c["title"], decimal.Decimal(c["old_price"]), decimal.Decimal(c["new_price"]))
            for c in response.json()
        ]
        if len(changes) >= count or asyncio.get_running_loop().time() > deadline:
            return changes
        await asyncio.sleep(0.02)


async def test_a_price_set_over_http_is_heard_by_the_listener(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    ids = await seed_books(db)
    await listener_pid(db)  # changes committed before the LISTEN would not be heard
    assert (await client.get("/price-changes")).json() == []

    book_id = ids["The Left Hand of Darkness"]
    response = await client.put(f"/books/{book_id}/price", json={"price": "12.50"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["id"], updated["price"]) == (book_id, "12.50")
    assert datetime.datetime.fromisoformat(updated["updated_at"]).tzinfo is not None
    assert await price_changes(client, 1) == [
        (book_id, "The Left Hand of Darkness", decimal.Decimal("9.99"), decimal.Decimal("12.50"))
    ]

    other = ids["The Dispossessed"]
    assert (await client.put(f"/books/{other}/price", json={"price": 20})).status_code == 200
    assert (await client.put(f"/books/{other}/price", json={"price": "20.00"})).status_code == 200  # no change
    assert (await price_changes(client, 2))[1:] == [
        (other, "The Dispossessed", decimal.Decimal("24.50"), decimal.Decimal("20"))
    ]  # newest last

    missing = await client.put("/books/999999/price", json={"price": "1.00"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no book 999999"}
    for bad in ({"price": "-1"}, {"price": "1.001"}, {"price": "cheap"}, {}):
        assert (await client.put(f"/books/{book_id}/price", json=bad)).status_code == 422
    await asyncio.sleep(0.2)
    assert len(await price_changes(client, 2)) == 2


async def test_a_change_made_in_the_database_is_heard(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    ids = await seed_books(db)
    await listener_pid(db)
    await db.execute("UPDATE books SET price = price * 2 WHERE genre = 'sf'")
    assert sorted(await price_changes(client, 2)) == [
        (
            ids["The Left Hand of Darkness"],
            "The Left Hand of Darkness",
            decimal.Decimal("9.99"),
            decimal.Decimal("19.98"),
        ),
        (ids["The Dispossessed"], "The Dispossessed", decimal.Decimal("24.50"), decimal.Decimal("49.00")),
    ]


async def test_a_bad_payload_is_logged_and_listening_goes_on(
    client: httpx.AsyncClient, db: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await seed_books(db)
    await listener_pid(db)
    with caplog.at_level(logging.WARNING, logger=example.__name__):
        await db.execute("SELECT pg_notify('book_price_changes', 'not json')")
        await db.execute("UPDATE books SET price = 1 WHERE id = $1", ids["Leaves of Grass"])
        assert await price_changes(client, 1) == [
            (ids["Leaves of Grass"], "Leaves of Grass", decimal.Decimal("12.00"), decimal.Decimal("1"))
        ]
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("skipped a bad payload on book_price_changes: 1 validation error")


async def test_the_listener_reconnects_when_its_connection_is_lost(
    client: httpx.AsyncClient, db: asyncpg.Connection, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(example, "RECONNECT_DELAY", 0.05)
    ids = await seed_books(db)
    first = await listener_pid(db)
    with caplog.at_level(logging.WARNING, logger=example.__name__):
        assert await db.fetchval("SELECT pg_terminate_backend($1)", first) is True
        await listener_pid(db, other_than=first)
        await db.execute("UPDATE books SET price = 30 WHERE id = $1", ids["The Dispossessed"])
        assert await price_changes(client, 1) == [
            (ids["The Dispossessed"], "The Dispossessed", decimal.Decimal("24.50"), decimal.Decimal("30"))
        ]
    assert [r.getMessage().partition(" (")[0] for r in caplog.records] == ["price change listener lost its connection"]


async def test_only_the_latest_changes_are_kept(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    await listener_pid(db)
    await db.execute(
        "SELECT pg_notify('book_price_changes', json_build_object('book_id', i, 'title', null,"
        " 'old_price', i, 'new_price', i + 1)::text) FROM generate_series(1, $1::int) AS i",
        example.PRICE_CHANGES_KEPT + 5,
    )
    deadline = asyncio.get_running_loop().time() + 5
    while (changes := await price_changes(client, 0)) and changes[-1][0] != example.PRICE_CHANGES_KEPT + 5:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    assert [c[0] for c in changes] == list(range(6, example.PRICE_CHANGES_KEPT + 6))


def test_the_docs_page_quotes_the_example_verbatim() -> None:
    page = (ROOT / "docs" / "fastapi.md").read_text(encoding="utf-8")
    sources = (ROOT / "examples" / "fastapi_app" / "app.py").read_text(encoding="utf-8") + Path(__file__).read_text(
        encoding="utf-8"
    )
    quoted = re.findall(r"^```python\n(.*?)^```", page, re.M | re.S)
    assert len(quoted) >= 5
    for code in quoted:
        assert code in sources, code
