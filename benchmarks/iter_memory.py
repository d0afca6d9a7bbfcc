"""Streaming a large result: generated `:iter` against fetching it whole, memory and time, same run.

    python benchmarks/iter_memory.py [--rows N] [--prefetch P]

Uses the embedded PostgreSQL (or DATABASE_URL) with the example schema. Loads N books, then
reads them all three ways, each measured with tracemalloc (peak bytes Python allocated while
reading) and wall time: the generated `bulk.iter_books` (a server-side cursor, P rows per
round trip, one model at a time), raw asyncpg `fetch` (every record in memory at once),
and raw asyncpg `cursor` iteration. Prints peak MB, seconds, and time as a ratio to the
raw cursor; tracemalloc slows allocation-heavy code most, so the times only compare runs
of this script. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import decimal
import gc
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from copyfrom import database  # noqa: E402

from generated import bulk  # noqa: E402
from generated.models import BookFormat  # noqa: E402


async def run(dsn: str, rows: int, prefetch: int) -> None:
    conn = await asyncpg.connect(dsn)
    await bulk.copy_books(
        conn,
        (
            bulk.CopyBooksParams(f"{i:013d}", f"Book {i}", decimal.Decimal("9.99"), [], {}, BookFormat.EBOOK)
            for i in range(rows)
        ),
    )

    async def generated_iter() -> int:
        count = 0
        async with conn.transaction():
            async for _ in bulk.iter_books(conn, min_price=decimal.Decimal(0), prefetch=prefetch):
                count += 1
        return count

    async def raw_fetch() -> int:
        return len(await conn.fetch(bulk.ITER_BOOKS, decimal.Decimal(0)))

    async def raw_cursor() -> int:
        count = 0
        async with conn.transaction():
            async for _ in conn.cursor(bulk.ITER_BOOKS, decimal.Decimal(0), prefetch=prefetch):
                count += 1
        return count

    ways: dict[str, Callable[[], Awaitable[int]]] = {
        f"generated :iter (prefetch={prefetch})": generated_iter,
        "raw fetch (all rows at once)": raw_fetch,
        f"raw cursor (prefetch={prefetch})": raw_cursor,
    }
    results: dict[str, tuple[float, float]] = {}
    for name, way in ways.items():
        gc.collect()
        tracemalloc.start()
        start = time.perf_counter()
        assert await way() == rows
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results[name] = (peak / 2**20, seconds)
    await conn.close()

    base = results[f"raw cursor (prefetch={prefetch})"][1]
    print(f"{rows} rows")
    print("| way | peak MB allocated | seconds (under tracemalloc) | time / raw cursor |")
    print("| --- | --- | --- | --- |")
    for name, (megabytes, seconds) in results.items():
        print(f"| {name} | {megabytes:.1f} | {seconds:.2f} | {seconds / base:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--prefetch", type=int, default=1000)
    args = parser.parse_args()
    with database() as dsn:
        asyncio.run(run(dsn, args.rows, args.prefetch))


if __name__ == "__main__":
    main()
