"""A small bookshop API on the generated query package.

Run it from the repository root (the folder holding `generated/`):

    DATABASE_URL=postgresql://localhost/bookshop uvicorn examples.fastapi_app.app:app

The pool lives in the lifespan, handlers get it through a dependency and call generated
functions with it; placing an order writes several rows in one transaction; a background
task listens for price changes (LISTEN/NOTIFY) for as long as the app runs.
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import logging
import os
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypedDict, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, Field, ValidationError

import generated
from generated import authors, books, channels, models, orders

if TYPE_CHECKING:
    from typing import TypeAlias

    DbPool: TypeAlias = asyncpg.Pool[asyncpg.Record]
else:
    DbPool = asyncpg.Pool  # not subscriptable at run time, and FastAPI reads annotations at run time

logger = logging.getLogger(__name__)
T = TypeVar("T")


# --- Settings and lifespan ---------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    database_url: str
    pool_min_size: int = 1
    pool_max_size: int = 10
    application_name: str = "bookshop-api"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(database_url=os.environ["DATABASE_URL"])


PriceChanges = deque[models.BookPriceChange]
"""The latest price changes the listener received, oldest first."""

PRICE_CHANGES_KEPT = 100


class State(TypedDict):
    """Lifespan state: Starlette copies it into every request's `request.state`."""

    pool: DbPool
    price_changes: PriceChanges


BackgroundJob = Callable[[State], Coroutine[Any, Any, None]]
"""A coroutine function run for the app's whole life, given the lifespan state; cancelled on shutdown."""


def create_app(settings: Settings | None = None, *, background: Sequence[BackgroundJob] = ()) -> FastAPI:
    """The app; settings come from the environment at startup unless given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        config = settings or Settings.from_env()
        async with generated.create_pool(
            config.database_url,
            min_size=config.pool_min_size,
            max_size=config.pool_max_size,
            server_settings={"application_name": config.application_name},
        ) as pool:
            state: State = {"pool": pool, "price_changes": deque(maxlen=PRICE_CHANGES_KEPT)}
            tasks = [asyncio.create_task(job(state), name=getattr(job, "__name__", None)) for job in background]
            for task in tasks:
                task.add_done_callback(_log_crash)
            try:
                yield state
            finally:
                # Background tasks stop before the pool closes under them.
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    app = FastAPI(title="Bookshop", lifespan=lifespan)
    app.include_router(router)
    return app


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("background task %s crashed", task.get_name(), exc_info=error)


def get_pool(request: Request) -> DbPool:
    pool: DbPool = request.state.pool
    return pool


PoolDep = Annotated[DbPool, Depends(get_pool)]


def get_price_changes(request: Request) -> PriceChanges:
    changes: PriceChanges = request.state.price_changes
    return changes


PriceChangesDep = Annotated[PriceChanges, Depends(get_price_changes)]

router = APIRouter()


# --- Authors and books: one generated call per handler, the pool as executor ---------------


class NewAuthor(BaseModel):
    name: str = Field(min_length=1)
    bio: str | None = None
    birth_date: datetime.date | None = None
    country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    website: str | None = None


@router.get("/authors/{author_id}")
async def get_author(author_id: int, pool: PoolDep) -> models.Author:
    author = await authors.get_author(pool, id=author_id)
    if author is None:
        raise HTTPException(404, f"no author {author_id}")
    return author


@router.post("/authors", status_code=201)
async def create_author(body: NewAuthor, pool: PoolDep) -> models.Author:
    author = await authors.create_author(
        pool,
        name=body.name,
        bio=body.bio,
        birth_date=body.birth_date,
        country_code=body.country_code,
        website=body.website,
    )
    return author


@router.get("/books")
async def list_books(
    pool: PoolDep,
    genre: str | None = None,
    max_price: decimal.Decimal | None = None,
    in_print: bool | None = None,
) -> list[books.FilterBooksRow]:
    return await books.filter_books(pool, genre=genre, max_price=max_price, in_print=in_print)


@router.get("/books/search")
async def search_books(
    pool: PoolDep,
    genre: str | None = None,
    max_price: decimal.Decimal | None = None,
    published_after: datetime.date | None = None,
    title: str | None = None,
    order: books.SearchBooksOrder = "title",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[books.SearchBooksRow]:
    # Each filter left out is left out of the SQL too: every combination is its own statement,
    # which PostgreSQL plans with the indexes it can use. `order` is one of the declared keys
    # (FastAPI answers 422 for any other); its text never reaches the SQL.
    return await books.search_books(
        pool,
        genre=genre,
        max_price=max_price,
        published_after=published_after,
        title=title,
        order=order,
        max_results=limit,
    )


class NewPrice(BaseModel):
    price: decimal.Decimal = Field(ge=0, max_digits=10, decimal_places=2)


@router.put("/books/{book_id}/price")
async def set_book_price(book_id: int, body: NewPrice, pool: PoolDep) -> books.UpdateBookPriceRow:
    # A trigger announces the change on book_price_changes; watch_price_changes records it.
    updated = await books.update_book_price(pool, id=book_id, price=body.price)
    if updated is None:
        raise HTTPException(404, f"no book {book_id}")
    return updated


@router.get("/price-changes")
async def list_price_changes(changes: PriceChangesDep) -> list[models.BookPriceChange]:
    return list(changes)


# --- Customers and orders: several writes in one transaction ------------------------------


class NewCustomer(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    display_name: str = Field(min_length=1)
    phone: str | None = None
    marketing_opt_in: bool = False


class OrderLine(BaseModel):
    book_id: int
    quantity: int = Field(gt=0, le=100)


class NewOrder(BaseModel):
    items: list[OrderLine] = Field(min_length=1)
    notes: str | None = None


class OrderDetail(BaseModel):
    order: models.Order
    items: list[orders.GetOrderItemsRow]


class OrderRejected(Exception):
    """A business rule refused the order."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


@router.post("/customers", status_code=201)
async def create_customer(body: NewCustomer, pool: PoolDep) -> models.Customer:
    try:
        customer = await orders.create_customer(
            pool,
            email=body.email,
            display_name=body.display_name,
            phone=body.phone,
            marketing_opt_in=body.marketing_opt_in,
            preferences=None,
        )
    except asyncpg.UniqueViolationError:
        raise HTTPException(409, f"{body.email} is already registered") from None
    return customer


@router.post("/customers/{public_id}/orders", status_code=201)
async def place_order(public_id: uuid.UUID, body: NewOrder, pool: PoolDep) -> OrderDetail:
    try:
        async with pool.acquire() as conn, conn.transaction():
            customer = await orders.get_customer_by_public_id(conn, public_id=public_id)
            if customer is None:
                raise HTTPException(404, f"no customer {public_id}")
            order = await orders.create_order(
                conn, customer_id=customer.id, shipping_address=None, discount_codes=None, notes=body.notes
            )
            for line in body.items:
                book = await books.get_book(conn, id=line.book_id)
                if book is None:
                    raise OrderRejected(422, f"no book {line.book_id}")
                if not book.in_print:
                    raise OrderRejected(409, f"{book.title!r} is out of print")
                await orders.add_order_item(
                    conn, order_id=order.id, book_id=book.id, quantity=line.quantity, unit_price=book.price
                )
            await orders.recalculate_order_total(conn, order_id=order.id)
            detail = await _order_detail(conn, order.id)
    except OrderRejected as rejected:
        # The exception left the transaction block, so the order and its items are rolled back.
        raise HTTPException(rejected.status_code, rejected.detail) from None
    return _returned(detail)


@router.get("/orders/{order_id}")
async def get_order(order_id: int, pool: PoolDep) -> OrderDetail:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        detail = await _order_detail(conn, order_id)
    if detail is None:
        raise HTTPException(404, f"no order {order_id}")
    return detail


@router.get("/customers/{public_id}/orders")
async def list_customer_orders(
    public_id: uuid.UUID,
    pool: PoolDep,
    limit: Annotated[int, Query(gt=0, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[orders.ListOrdersForCustomerRow]:
    customer = await orders.get_customer_by_public_id(pool, public_id=public_id)
    if customer is None:
        raise HTTPException(404, f"no customer {public_id}")
    return await orders.list_orders_for_customer(pool, customer_id=customer.id, limit=limit, offset=offset)


async def _order_detail(conn: generated.Executor, order_id: int) -> OrderDetail | None:
    order = await orders.get_order(conn, id=order_id)
    if order is None:
        return None
    return OrderDetail(order=order, items=await orders.get_order_items(conn, order_id=order_id))


def _returned(value: T | None) -> T:
    """The order just written, read back in the same transaction: it is there, though `get_order` allows for none."""
    if value is None:
        raise RuntimeError("the statement returned no row")
    return value


# --- Background tasks: a LISTEN/NOTIFY listener ------------------------------------------
#
# Each job is given the lifespan state when the app starts and is cancelled (before the pool
# closes) when it stops. The listener holds one pooled connection for the app's life: size
# the pool for it. A payload that does not validate is logged and skipped; a lost connection
# is logged and replaced after RECONNECT_DELAY seconds (changes sent meanwhile are missed).

RECONNECT_DELAY = 1.0
# Connecting failed (refused, timed out, server starting up), or the connection closed under us.
LOST_CONNECTION = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError)


async def watch_price_changes(state: State) -> None:
    """Record each price change announced on book_price_changes in `state["price_changes"]`."""
    while True:
        try:
            async with state["pool"].acquire() as conn, channels.listen_book_price_changes(conn) as events:
                while True:  # a bad payload ends one `async for`; still listening, loop again
                    try:
                        async for change in events:
                            state["price_changes"].append(change)
                    except ValidationError as error:
                        logger.warning("skipped a bad payload on %s: %s", events.channel, error)
        except LOST_CONNECTION as error:
            logger.warning("price change listener lost its connection (%s); reconnecting", error)
            await asyncio.sleep(RECONNECT_DELAY)


BACKGROUND: tuple[BackgroundJob, ...] = (watch_price_changes,)

app = create_app(background=BACKGROUND)
