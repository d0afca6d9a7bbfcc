"""Generated functions run on asyncpg against the example schema and return typed values."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from conftest import ROOT, Databases, dsn_url

from bookshop.documents import PromotionRules
from generated import authors, books, models, orders, promotions, reviews

SCHEMA_FILES = sorted((ROOT / "queries" / "schema").glob("*.sql"))


@pytest.fixture
async def conn(databases: Databases) -> AsyncIterator[asyncpg.Connection]:
    url = databases.create(SCHEMA_FILES)
    connection = await asyncpg.connect(dsn_url(url))
    yield connection
    await connection.close()


async def seed(conn: asyncpg.Connection) -> tuple[int, int, int]:
    author = await authors.create_author(
        conn,
        name="Ursula K. Le Guin",
        bio=None,
        birth_date=datetime.date(1929, 10, 21),
        country_code="US",
        website=None,
    )
    assert author is not None
    publisher = await books.upsert_publisher(conn, name="Ace", country_code="US", founded_year=1952)
    assert publisher is not None
    book_id = await books.create_book(
        conn,
        isbn="9780441478125",
        title="The Left Hand of Darkness",
        subtitle=None,
        publisher_id=publisher.id,
        genre="sf",
        tags=["classic", "hainish"],
        price=decimal.Decimal("9.99"),
        page_count=304,
        published_on=datetime.date(1969, 3, 1),
        reading_time=datetime.timedelta(hours=9, minutes=30),
        metadata={"language": "en", "awards": ["Hugo", "Nebula"], "rating": 4.5},
    )
    assert book_id is not None
    await books.link_book_author(conn, book_id=book_id, author_id=author.id, author_position=1)
    return author.id, publisher.id, book_id


async def test_one_returns_the_table_model_or_none(conn: asyncpg.Connection) -> None:
    author_id, _, _ = await seed(conn)
    author = await authors.get_author(conn, id=author_id)
    assert isinstance(author, models.Author)
    assert author.name == "Ursula K. Le Guin"
    assert author.bio is None
    assert author.birth_date == datetime.date(1929, 10, 21)
    assert isinstance(author.created_at, datetime.datetime) and author.created_at.tzinfo is not None
    assert await authors.get_author(conn, id=author_id + 1000) is None


async def test_json_array_interval_numeric_round_trip(conn: asyncpg.Connection) -> None:
    _, _, book_id = await seed(conn)
    book = await books.get_book(conn, id=book_id)
    assert book is not None
    assert book.metadata == {"language": "en", "awards": ["Hugo", "Nebula"], "rating": 4.5}
    assert book.tags == ["classic", "hainish"]
    assert book.price == decimal.Decimal("9.99")
    assert book.reading_time == datetime.timedelta(hours=9, minutes=30)
    found = await books.find_books_by_metadata(conn, metadata_filter={"language": "en"})
    assert [(row.id, row.language, row.metadata["awards"]) for row in found] == [(book_id, "en", ["Hugo", "Nebula"])]
    await books.merge_book_metadata(conn, patch={"language": "fr"}, id=book_id)
    assert await books.find_books_by_metadata(conn, metadata_filter={"language": "en"}) == []


async def test_many_single_column_and_row_models(conn: asyncpg.Connection) -> None:
    author_id, publisher_id, book_id = await seed(conn)
    assert await books.list_book_titles_by_author(conn, author_id=author_id) == ["The Left Hand of Darkness"]
    assert await authors.list_author_names(conn) == ["Ursula K. Le Guin"]
    assert await authors.count_authors(conn) == 1
    page = await books.list_books_by_publisher(conn, publisher_id=publisher_id, limit=10, offset=0)
    assert [(row.id, row.isbn, row.published_on) for row in page] == [
        (book_id, "9780441478125", datetime.date(1969, 3, 1))
    ]
    assert await books.list_books_by_publisher(conn, publisher_id=publisher_id, limit=10, offset=1) == []
    by_ids = await authors.get_authors_by_ids(conn, ids=[author_id, author_id + 99])
    assert [a.id for a in by_ids] == [author_id]


async def test_nullable_narg_filters(conn: asyncpg.Connection) -> None:
    _, _, book_id = await seed(conn)
    everything = await books.filter_books(conn, genre=None, max_price=None, in_print=None)
    assert [b.id for b in everything] == [book_id]
    assert await books.filter_books(conn, genre="romance", max_price=None, in_print=None) == []
    cheap = await books.filter_books(conn, genre="sf", max_price=decimal.Decimal("10"), in_print=True)
    assert [b.title for b in cheap] == ["The Left Hand of Darkness"]


async def test_left_join_gives_none_for_the_missing_side(conn: asyncpg.Connection) -> None:
    _, _, book_id = await seed(conn)
    orphan = await books.create_book(
        conn,
        isbn="9780000000001",
        title="No Publisher",
        subtitle=None,
        publisher_id=None,
        genre=None,
        tags=[],
        price=decimal.Decimal("1"),
        page_count=None,
        published_on=None,
        reading_time=None,
        metadata={},
    )
    assert orphan is not None
    row = await books.get_book_with_publisher(conn, id=orphan)
    assert row is not None and row.publisher_name is None and row.publisher_country is None
    row = await books.get_book_with_publisher(conn, id=book_id)
    assert row is not None and row.publisher_name == "Ace"


async def test_exec_execrows_execresult(conn: asyncpg.Connection) -> None:
    author_id, _, book_id = await seed(conn)
    assert await authors.update_author_bio(conn, bio="Writer.", id=author_id) == 1
    assert await authors.update_author_bio(conn, bio="Writer.", id=author_id + 1) == 0
    assert await books.add_book_tag(conn, tag="new", id=book_id) == 1
    assert await books.add_book_tag(conn, tag="new", id=book_id) == 0
    assert await books.set_book_cover(conn, cover_image=b"\x89PNG\x00", id=book_id) == "UPDATE 1"
    book = await books.get_book(conn, id=book_id)
    assert book is not None and book.cover_image == b"\x89PNG\x00"
    assert await authors.delete_author(conn, id=author_id) is None
    assert await authors.get_author(conn, id=author_id) is None


async def test_orders_uuid_json_aggregates(conn: asyncpg.Connection) -> None:
    _, _, book_id = await seed(conn)
    customer = await orders.create_customer(
        conn, email="a@example.com", display_name="A", phone=None, marketing_opt_in=False, preferences={"theme": "dark"}
    )
    assert customer is not None and isinstance(customer.public_id, uuid.UUID)
    assert customer.preferences == {"theme": "dark"}
    same = await orders.get_customer_by_public_id(conn, public_id=customer.public_id)
    assert same == customer
    order = await orders.create_order(
        conn, customer_id=customer.id, shipping_address={"city": "Portland"}, discount_codes=["WELCOME"], notes=None
    )
    assert order is not None and order.status == "pending"
    await orders.add_order_item(
        conn, order_id=order.id, book_id=book_id, quantity=3, unit_price=decimal.Decimal("9.99")
    )
    assert await orders.recalculate_order_total(conn, order_id=order.id) == decimal.Decimal("29.97")
    assert await orders.list_order_ids_with_discount_code(conn, code="WELCOME") == [order.id]
    top = await orders.top_customers_by_spend(conn, limit=5)
    assert [(t.id, t.total_spent) for t in top] == [(customer.id, decimal.Decimal("29.97"))]


async def test_reviews_and_summary(conn: asyncpg.Connection) -> None:
    _, _, book_id = await seed(conn)
    review = await reviews.create_review(
        conn, book_id=book_id, customer_id=None, rating=5, title="Wow", body=None, sentiment_score=0.9
    )
    assert review is not None and review.rating == 5 and review.customer_id is None
    summary = await reviews.get_book_rating_summary(conn, book_id=book_id)
    assert summary is not None
    with pytest.raises(asyncpg.CheckViolationError):
        await reviews.create_review(
            conn, book_id=book_id, customer_id=None, rating=9, title=None, body=None, sentiment_score=None
        )


async def test_pool_pooled_connection_and_transaction_rollback(databases: Databases) -> None:
    url = dsn_url(databases.create(SCHEMA_FILES))
    new_author = {"bio": None, "birth_date": None, "country_code": None, "website": None}
    async with asyncpg.create_pool(url, min_size=1, max_size=2) as pool:
        author = await authors.create_author(pool, name="Pool", **new_author)
        assert author is not None
        async with pool.acquire() as pooled:
            assert await authors.get_author(pooled, id=author.id) == author
            async with pooled.transaction():
                await authors.delete_author(pooled, id=author.id)
                assert await authors.count_authors(pooled) == 0
                with pytest.raises(RuntimeError):
                    async with pooled.transaction():  # a savepoint
                        await authors.create_author(pooled, name="Inner", **new_author)
                        assert await authors.count_authors(pooled) == 1
                        raise RuntimeError("roll back the savepoint")
                assert await authors.count_authors(pooled) == 0
        # The outer transaction committed its delete; the savepoint's insert is gone.
        assert await authors.get_author(pool, id=author.id) is None
        async with pool.acquire() as pooled:
            with pytest.raises(RuntimeError):
                async with pooled.transaction():
                    await authors.create_author(pooled, name="Gone", **new_author)
                    raise RuntimeError("roll back")
        assert await authors.count_authors(pool) == 0


async def test_enum_columns_and_parameters(conn: asyncpg.Connection) -> None:
    _, _, book_id = await seed(conn)
    book = await books.get_book(conn, id=book_id)
    assert book is not None and book.format is models.BookFormat.PAPERBACK and book.also_available_as == []
    formats = [models.BookFormat.EBOOK, models.BookFormat.AUDIOBOOK]
    assert await books.set_book_formats(conn, format=models.BookFormat.HARDCOVER, others=formats, id=book_id) == 1
    [row] = await books.list_books_by_format(conn, format=models.BookFormat.AUDIOBOOK)
    assert (row.id, row.format, row.also_available_as) == (book_id, models.BookFormat.HARDCOVER, formats)
    assert await books.list_books_by_format(conn, format=models.BookFormat.PAPERBACK) == []


async def test_promotions_domain_composite_range_and_model_override(conn: asyncpg.Connection) -> None:
    _, _, book_id = await seed(conn)
    utc = datetime.UTC
    period = asyncpg.Range(datetime.datetime(2026, 11, 1, tzinfo=utc), datetime.datetime(2026, 12, 1, tzinfo=utc))
    rules = PromotionRules(min_items=2, genres=["sf"])
    created = await promotions.create_promotion(
        conn, code="NOV", percent_off=decimal.Decimal("12.5"), active_during=period, book_ids=[book_id], rules=rules
    )
    assert created is not None and created.rules == rules and created.active_during == period
    assert created.percent_off == decimal.Decimal("12.50")  # numeric(5, 2) through the percentage domain
    with pytest.raises(asyncpg.CheckViolationError):
        await promotions.create_promotion(
            conn, code="BAD", percent_off=decimal.Decimal("0"), active_during=period, book_ids=[], rules=rules
        )
    during = datetime.datetime(2026, 11, 22, tzinfo=utc)
    assert [p.code for p in await promotions.active_promotions(conn, at=during)] == ["NOV"]
    assert await promotions.active_promotions(conn, at=datetime.datetime(2027, 1, 1, tzinfo=utc)) == []
    [row] = await promotions.promotions_for_book(conn, book_id=book_id)
    assert (row.code, row.percent_off, row.rules) == ("NOV", decimal.Decimal("12.50"), rules)

    customer = await orders.create_customer(
        conn, email="b@example.com", display_name="B", phone=None, marketing_opt_in=False, preferences=None
    )
    assert customer is not None
    order = await orders.create_order(
        conn, customer_id=customer.id, shipping_address=None, discount_codes=None, notes=None
    )
    assert order is not None
    address = models.PostalAddress(line1="1 Rue X", line2=None, city="Lyon", postcode="69001", country_code="FR")
    assert await promotions.set_delivery_address(conn, delivery_address=address, id=order.id) == 1
    assert await promotions.get_delivery_address(conn, id=order.id) == address
    [shipped] = await promotions.orders_shipped_to(conn, country_code="FR")
    assert (shipped.id, shipped.city) == (order.id, "Lyon")


async def test_slices_are_one_array_parameter_and_may_be_empty(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        "INSERT INTO books (isbn, title, price, genre) VALUES"
        " ('9780000000101', 'One', 1, 'poetry'), ('9780000000102', 'Two', 2, NULL) RETURNING id"
    )
    first, second = (r["id"] for r in rows)
    found = await books.get_books_by_ids(conn, ids=(second, first, -1))
    assert [(b.id, b.title) for b in found] == [(first, "One"), (second, "Two")]
    assert await books.get_books_by_ids(conn, ids=[]) == []
    # NOT IN (sqlc.slice(...)) is `<> ALL($1)`: an empty list excludes nothing.
    assert await books.count_books_outside(conn, genres=[]) == 2
    assert await books.count_books_outside(conn, genres=["poetry"]) == 0  # NULL <> 'poetry' is not true


async def test_embedded_tables_are_nested_models_and_none_when_the_join_finds_no_row(
    conn: asyncpg.Connection,
) -> None:
    author_id, publisher_id, book_id = await seed(conn)
    orphan = await conn.fetchval(
        "INSERT INTO books (isbn, title, price, metadata)"
        " VALUES ('9780000000201', 'Orphan', 3, '{\"a\": 1}') RETURNING id"
    )
    rows = await books.list_books_with_publisher(conn)
    assert [(r.book.id, r.publisher) for r in rows][1] == (orphan, None)
    first = rows[0]
    assert isinstance(first.book, models.Book) and isinstance(first.publisher, models.Publisher)
    assert (first.book.id, first.book.metadata["awards"], first.publisher.id) == (
        book_id,
        ["Hugo", "Nebula"],
        publisher_id,
    )
    assert rows[1].book.metadata == {"a": 1}
    assert books.ListBooksWithPublisherRow.model_fields["publisher"].annotation == models.Publisher | None
    assert books.ListBooksWithPublisherRow.model_fields["book"].annotation is models.Book

    link = await books.get_book_author_link(conn, book_id=book_id, author_id=author_id)
    assert link is not None
    assert (link.author_position, link.author.name, link.book.title) == (
        1,
        "Ursula K. Le Guin",
        "The Left Hand of Darkness",
    )
    assert await books.get_book_author_link(conn, book_id=orphan, author_id=author_id) is None
