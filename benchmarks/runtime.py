"""Generated code against raw asyncpg and its peers, side by side in one run.

    python benchmarks/runtime.py [--repeats K]

Starts the embedded PostgreSQL (or uses DATABASE_URL), creates a 10-column table of mixed
types holding 10,000 rows, generates a sqlgen package for `benchmarks/project/` into a
temporary folder and imports it. Then, per workload, every way runs in turn (interleaved,
so drift hits all alike), `K` times, after a `gc.collect()` outside the timing:

- `pk lookup`: one row by primary key (each sample times 200 lookups of varied ids);
- `100 rows`, `10,000 rows`: a `LIMIT n` scan returned as a list of rows;
- `copy 10,000 rows`: loading the same tuples into an emptied table.

The ways: raw asyncpg (Records), generated (trusted models; and with `-- @validate`),
generated for the asyncpg-msgspec target (`msgspec.Struct` rows; the same queries without the
`-- @validate` ones, which that target refuses), asyncpg rows given to pydantic
`model_validate`, psycopg 3 with pydantic `class_row`, SQLAlchemy 2's async ORM (asyncpg
driver), asyncpg rows as msgspec Structs. The peers come
from the `bench` extra (`pip install -e '.[bench]'`); a missing one is left out and said so.
Prints min / median / max per sample, and the median and min ratios to raw asyncpg.
Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
PROJECT = Path(__file__).resolve().parent / "project"
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]

from conftest import Databases, dsn_url  # noqa: E402

from sqlgen.config import Overrides, load_config  # noqa: E402
from sqlgen.database import server_url  # noqa: E402
from sqlgen.output import write_output  # noqa: E402
from sqlgen.pipeline import generate  # noqa: E402

ROWS = 10_000
LOOKUPS = 200  # primary-key lookups per sample
COLUMNS = ("id", "name", "email", "score", "amount", "created_at", "born", "active", "ref", "note")
SELECT_ONE = "SELECT * FROM items WHERE id = $1"
SELECT_MANY = "SELECT * FROM items ORDER BY id LIMIT $1"
FILL = """
INSERT INTO items
SELECT i, 'name ' || i, 'user' || i || '@example.com', i * 1.5, i * 3.25,
       now() - i * interval '1 minute', date '2000-01-01' + i % 5000, i % 2 = 0,
       gen_random_uuid(), CASE WHEN i % 3 = 0 THEN NULL ELSE 'note ' || i END
FROM generate_series(1, $1) i
"""

Way = Callable[[], Awaitable[object]]


@contextlib.contextmanager
def database() -> Iterator[tuple[str, str]]:
    """(libpq URL, asyncpg DSN) of a fresh database with the benchmark schema, dropped afterwards."""
    with server_url(os.environ.get("DATABASE_URL")) as url:
        databases = Databases(url, [])
        try:
            created = databases.create([PROJECT / "schema.sql"])
            yield created, dsn_url(created)
        finally:
            databases.drop_all()


def generated_package(url: str, folder: Path) -> ModuleType:
    """Generate `benchmarks/project/` against the database at `url` and import it as `bench_gen`."""
    config = load_config(Overrides(out=str(folder / "bench_gen"), database_url=url), cwd=PROJECT, environ={})
    write_output(config.out, generate(config).files)
    sys.path.insert(0, str(folder))
    importlib.import_module("bench_gen")
    return importlib.import_module("bench_gen.items")


def msgspec_package(url: str, folder: Path) -> ModuleType | None:
    """The same project for the asyncpg-msgspec target, as `bench_msgspec` (None without msgspec installed)."""
    try:
        import msgspec  # noqa: F401
    except ImportError:
        print("the asyncpg-msgspec target left out: no msgspec (pip install -e '.[msgspec]')\n")
        return None
    project = folder / "msgspec_project"
    project.mkdir()
    (project / "schema.sql").write_text((PROJECT / "schema.sql").read_text())
    blocks = (PROJECT / "items.sql").read_text().split("-- name: ")
    kept = [b for b in blocks[1:] if "-- @validate" not in b]  # that target builds rows without validation
    (project / "items.sql").write_text("".join(f"-- name: {b}" for b in kept))
    (project / "pyproject.toml").write_text(
        '[tool.sqlgen]\nschema = "schema.sql"\nqueries = "items.sql"\ntarget = "asyncpg-msgspec"\ncache = false\n'
    )
    config = load_config(Overrides(out=str(folder / "bench_msgspec"), database_url=url), cwd=project, environ={})
    write_output(config.out, generate(config).files)
    importlib.import_module("bench_msgspec")
    return importlib.import_module("bench_msgspec.items")


def peers(dsn: str) -> dict[str, Any]:
    """What each peer needs, when the `bench` extra is installed."""
    try:
        import peers
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    except ImportError as error:
        print(f"peers left out: {error} (pip install -e '.[bench]')\n")
        return {}
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1)
    return {"msgspec": peers.ItemStruct, "sqlalchemy": (engine, async_sessionmaker(engine), peers.Item)}


async def workloads(
    items: ModuleType, msgspec_items: ModuleType | None, libpq_url: str, dsn: str
) -> dict[str, dict[str, Way]]:
    import psycopg
    from psycopg.rows import class_row

    conn = await asyncpg.connect(dsn)
    await conn.execute(FILL, ROWS)
    await conn.execute("ANALYZE items")
    model = items.models.Item
    psy = await psycopg.AsyncConnection.connect(libpq_url, prepare_threshold=0, autocommit=True)
    found = peers(dsn)
    ids = [random.Random(i).randint(1, ROWS) for i in range(LOOKUPS)]

    def lookups(one: Callable[[int], Awaitable[object]]) -> Way:
        async def run() -> None:
            for i in ids:
                if await one(i) is None:
                    raise AssertionError(f"no row {i}")

        return run

    async def psycopg_one(i: int) -> object:
        async with psy.cursor(row_factory=class_row(model)) as cur:
            await cur.execute(SELECT_ONE.replace("$1", "%s"), (i,), prepare=True)
            return await cur.fetchone()

    async def psycopg_many(n: int) -> list[Any]:
        async with psy.cursor(row_factory=class_row(model)) as cur:
            await cur.execute(SELECT_MANY.replace("$1", "%s"), (n,), prepare=True)
            return await cur.fetchall()

    one: dict[str, Way] = {
        "raw asyncpg fetchrow": lookups(lambda i: conn.fetchrow(SELECT_ONE, i)),
        "generated :one": lookups(lambda i: items.get_item(conn, id=i)),
        "generated :one, @validate": lookups(lambda i: items.get_item_validated(conn, id=i)),
        "psycopg 3 + class_row(pydantic)": lookups(psycopg_one),
    }

    def many(n: int) -> dict[str, Way]:
        async def validated() -> object:
            return [model.model_validate(dict(r)) for r in await conn.fetch(SELECT_MANY, n)]

        ways: dict[str, Way] = {
            "raw asyncpg fetch": lambda: conn.fetch(SELECT_MANY, n),
            "generated :many": lambda: items.list_items(conn, limit=n),
            "generated :many, @validate": lambda: items.list_items_validated(conn, limit=n),
            "asyncpg + model_validate(dict(r))": validated,
            "psycopg 3 + class_row(pydantic)": lambda: psycopg_many(n),
        }
        return ways

    small, large = many(100), many(ROWS)
    if msgspec_items is not None:
        target = msgspec_items
        one["generated :one, msgspec target"] = lookups(lambda i: target.get_item(conn, id=i))
        small["generated :many, msgspec target"] = lambda: target.list_items(conn, limit=100)
        large["generated :many, msgspec target"] = lambda: target.list_items(conn, limit=ROWS)
    if "msgspec" in found:
        struct = found["msgspec"]

        async def structs_one(i: int) -> object:
            row = await conn.fetchrow(SELECT_ONE, i)
            return None if row is None else struct(*row)

        def structs(n: int) -> Way:
            async def run() -> object:
                return [struct(*r) for r in await conn.fetch(SELECT_MANY, n)]

            return run

        one["asyncpg + msgspec Struct"] = lookups(structs_one)
        small["asyncpg + msgspec Struct"] = structs(100)
        large["asyncpg + msgspec Struct"] = structs(ROWS)
    if "sqlalchemy" in found:
        from sqlalchemy import select

        _, sessions, orm_item = found["sqlalchemy"]

        async def orm_one(i: int) -> object:
            async with sessions() as session:
                return await session.get(orm_item, i)

        def orm_many(n: int) -> Way:
            async def run() -> object:
                async with sessions() as session:
                    return (await session.scalars(select(orm_item).order_by(orm_item.id).limit(n))).all()

            return run

        one["SQLAlchemy 2 async ORM"] = lookups(orm_one)
        small["SQLAlchemy 2 async ORM"] = orm_many(100)
        large["SQLAlchemy 2 async ORM"] = orm_many(ROWS)

    records = [tuple(r) for r in await conn.fetch("SELECT * FROM items ORDER BY id")]

    def loading(load: Callable[[], Awaitable[object]]) -> Way:
        async def run() -> None:
            await conn.execute("TRUNCATE items")
            await load()

        return run

    insert = f"INSERT INTO items VALUES ({', '.join(f'${i + 1}' for i in range(len(COLUMNS)))})"
    copy: dict[str, Way] = {
        "raw copy_records_to_table": loading(
            lambda: conn.copy_records_to_table("items", records=records, columns=COLUMNS, schema_name="public")
        ),
        "generated :copyfrom": loading(lambda: items.copy_items(conn, records)),
        "raw executemany": loading(lambda: conn.executemany(insert, records)),
    }
    return {
        f"pk lookup (x{LOOKUPS})": one,
        "100 rows": small,
        f"{ROWS:,} rows": large,
        f"copy {ROWS:,} rows": copy,
    }


async def measure(ways: dict[str, Way], repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in ways}
    for way in ways.values():  # warm up: statement caches, prepared statements, imports
        await way()
    for _ in range(repeats):
        for name, way in ways.items():
            gc.collect()
            start = time.perf_counter()
            await way()
            times[name].append(time.perf_counter() - start)
    return times


def table(title: str, times: dict[str, list[float]]) -> str:
    base_name = next(iter(times))
    base_median, base_min = statistics.median(times[base_name]), min(times[base_name])
    lines = [
        f"### {title}",
        "",
        f"| way | min ms | median ms | max ms | median / {base_name} | min / {base_name} |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, samples in times.items():
        median, low, high = statistics.median(samples), min(samples), max(samples)
        lines.append(
            f"| {name} | {low * 1e3:.2f} | {median * 1e3:.2f} | {high * 1e3:.2f} "
            f"| ×{median / base_median:.2f} | ×{low / base_min:.2f} |"
        )
    return "\n".join(lines)


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("asyncpg", "pydantic", "pydantic-core", "psycopg", "sqlalchemy", "msgspec"):
        with contextlib.suppress(PackageNotFoundError):
            found.append(f"{name} {version(name)}")
    return f"Python {platform.python_version()}, " + ", ".join(found)


async def main(repeats: int) -> None:
    with database() as (libpq_url, dsn), tempfile.TemporaryDirectory() as folder:
        items = generated_package(libpq_url, Path(folder))
        msgspec_items = msgspec_package(libpq_url, Path(folder))
        conn = await asyncpg.connect(dsn)
        server = await conn.fetchval("SHOW server_version")
        await conn.close()
        print(f"{versions()}; PostgreSQL {server}; {os.cpu_count()} CPUs; {repeats} samples per way\n")
        for title, ways in (await workloads(items, msgspec_items, libpq_url, dsn)).items():
            print(table(title, await measure(ways, repeats)), end="\n\n", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="samples per way and workload (default 30)")
    args = parser.parse_args()
    asyncio.run(main(args.repeats))
