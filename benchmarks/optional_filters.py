"""Optional filters: the `(@x IS NULL OR …)` statement under a generic plan against sqlgen's variants.

    python benchmarks/optional_filters.py [--rows N] [--repeats K]

Starts the embedded PostgreSQL (or uses DATABASE_URL), creates a table of `N` rows (1,000,000
by default, from generate_series) with an index on each filtered column, and generates a
sqlgen package for one `-- @dynamic` query with three optional filters into a temporary
folder. Then, per workload (the same filters given to every way), each way runs in turn,
`K` times; a sample times `CALLS` calls:

- `IS NULL OR, generic plan`: the statement as written, on a connection with
  `plan_cache_mode = force_generic_plan`: what a prepared statement gets once PostgreSQL
  switches it to a generic plan (after five runs whose custom plans cost no less);
- `IS NULL OR, custom plans`: the same statement with `force_custom_plan`, planned for each
  call's values (PostgreSQL folds `$1 IS NULL` away then), for reference;
- `generated variants`: the generated function, on the generic-plan connection too;
- `generated variants, auto`: the generated function with PostgreSQL's default
  `plan_cache_mode = auto` (a range filter's variant keeps custom plans there).

Every way's rows are checked to be the same. Prints min / median per call and the ratio of
the generic `IS NULL OR` statement's median to the variants'. Timings are reported, never
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import decimal
import importlib
import os
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
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import Databases, dsn_url  # noqa: E402

from sqlgen.config import Overrides, load_config  # noqa: E402
from sqlgen.database import server_url  # noqa: E402
from sqlgen.output import write_output  # noqa: E402
from sqlgen.pipeline import generate  # noqa: E402

CALLS = 20  # calls per sample
SCHEMA = """
CREATE TABLE items (
    id bigint PRIMARY KEY,
    category integer NOT NULL,
    customer integer NOT NULL,
    price numeric(10, 2) NOT NULL,
    note text
);
"""
INDEXES = """
CREATE INDEX items_category ON items (category);
CREATE INDEX items_customer ON items (customer);
CREATE INDEX items_price ON items (price);
"""
FILL = """
INSERT INTO items
SELECT i, i % 1000, (i::bigint * 7919) % 50000, (i % 100000) / 100.0,
       CASE WHEN i % 3 = 0 THEN NULL ELSE 'note ' || i END
FROM generate_series(1, $1) i
"""
QUERIES = """
-- name: FindItems :many
-- @dynamic
SELECT id, price
FROM items
WHERE (sqlc.narg(category)::int IS NULL OR category = sqlc.narg(category))
  AND (sqlc.narg(customer)::int IS NULL OR customer = sqlc.narg(customer))
  AND (sqlc.narg(max_price)::numeric IS NULL OR price <= sqlc.narg(max_price))
ORDER BY id;
"""
WORKLOADS: dict[str, dict[str, Any]] = {
    "customer (about 20 rows)": {"customer": 4242},
    "category (about 1,000 rows)": {"category": 17},
    "category and max_price (about 10 rows)": {"category": 17, "max_price": decimal.Decimal("1.00")},
    "max_price (about 100 rows)": {"max_price": decimal.Decimal("0.10")},
}

Way = Callable[[], Awaitable[list[int]]]


@contextlib.contextmanager
def database() -> Iterator[tuple[str, str]]:
    """(libpq URL, asyncpg DSN) of a fresh database, dropped afterwards."""
    with server_url(os.environ.get("DATABASE_URL")) as url:
        databases = Databases(url, [])
        try:
            created = databases.create()
            yield created, dsn_url(created)
        finally:
            databases.drop_all()


def generated_module(url: str, folder: Path) -> ModuleType:
    (folder / "schema.sql").write_text(SCHEMA)
    (folder / "queries.sql").write_text(QUERIES)
    overrides = Overrides(schema=("schema.sql",), queries=("queries.sql",), out="bench_dynamic", database_url=url)
    config = load_config(overrides, cwd=folder, environ={})
    write_output(config.out, generate(config))
    sys.path.insert(0, str(folder))
    return importlib.import_module("bench_dynamic.queries")


async def measure(ways: dict[str, Way], repeats: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in ways}
    for way in ways.values():  # warm up: prepare, and let PostgreSQL settle on its plans
        for _ in range(6):
            await way()
    for _ in range(repeats):
        for name, way in ways.items():
            start = time.perf_counter()
            for _ in range(CALLS):
                await way()
            samples[name].append((time.perf_counter() - start) / CALLS)
    return samples


async def main(rows: int, repeats: int) -> None:
    with database() as (url, dsn), tempfile.TemporaryDirectory() as folder:
        setup = await asyncpg.connect(dsn)
        await setup.execute(SCHEMA)
        await setup.execute(FILL, rows)
        await setup.execute(INDEXES)
        await setup.execute("ANALYZE items")
        server = setup.get_server_version()
        await setup.close()
        module = generated_module(url, Path(folder))
        generic = await asyncpg.connect(dsn, server_settings={"plan_cache_mode": "force_generic_plan"})
        custom = await asyncpg.connect(dsn, server_settings={"plan_cache_mode": "force_custom_plan"})
        auto = await asyncpg.connect(dsn)
        print(
            f"PostgreSQL {server.major}.{server.minor}; {rows:,} rows; {os.cpu_count()} CPUs;"
            f" {repeats} samples of {CALLS} calls per way; milliseconds per call\n"
        )
        for title, filters in WORKLOADS.items():
            values = {name: filters.get(name) for name in ("category", "customer", "max_price")}
            arguments = [values["category"], values["customer"], values["max_price"]]

            async def as_written(
                conn: asyncpg.Connection[Any] = generic, arguments: list[Any] = arguments
            ) -> list[int]:
                return [r["id"] for r in await conn.fetch(module.FIND_ITEMS, *arguments)]

            async def as_written_custom() -> list[int]:
                return await as_written(custom)

            async def variants(conn: asyncpg.Connection[Any] = generic, filters: dict[str, Any] = filters) -> list[int]:
                return [r.id for r in await module.find_items(conn, **filters)]

            async def variants_auto() -> list[int]:
                return await variants(auto)

            ways: dict[str, Way] = {
                "IS NULL OR, generic plan": as_written,
                "IS NULL OR, custom plans": as_written_custom,
                "generated variants": variants,
                "generated variants, auto": variants_auto,
            }
            results = {name: await way() for name, way in ways.items()}
            if len({tuple(r) for r in results.values()}) != 1:
                raise AssertionError(f"{title}: the ways return different rows")
            samples = await measure(ways, repeats)
            print(f"{title}: {len(results['generated variants'])} rows")
            print(f"  {'way':28} {'min':>9} {'median':>9}")
            for name, times in samples.items():
                print(f"  {name:28} {min(times) * 1000:9.3f} {statistics.median(times) * 1000:9.3f}")
            ratio = statistics.median(samples["IS NULL OR, generic plan"]) / statistics.median(
                samples["generated variants"]
            )
            best = min(samples["IS NULL OR, generic plan"]) / min(samples["generated variants"])
            print(f"  generic IS NULL OR / variants: {ratio:.1f}x (median), {best:.1f}x (min)\n", flush=True)
        await generic.close()
        await custom.close()
        await auto.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.repeats))
