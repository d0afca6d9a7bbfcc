"""Loading rows: generated `:copyfrom` against raw asyncpg COPY and `executemany`, same run.

    python benchmarks/copyfrom.py [--rows N] [--repeats K]

Uses the embedded PostgreSQL (or DATABASE_URL) with the example schema. Each repeat loads
N authors into an emptied table three ways and times it: the generated `bulk.copy_authors`
(binary COPY, rows built as its NamedTuple), raw `copy_records_to_table` with plain tuples,
and raw `executemany` of the same INSERT. Prints min and median seconds, rows per second,
and each median as a ratio to raw COPY. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import Databases, dsn_url  # noqa: E402

from generated import bulk  # noqa: E402
from sqlgen.database import server_url  # noqa: E402

INSERT = "INSERT INTO authors (name, bio, country_code) VALUES ($1, $2, $3)"


@contextlib.contextmanager
def database() -> Iterator[str]:
    """An asyncpg DSN of a fresh database with the example schema, dropped afterwards."""
    with server_url(os.environ.get("DATABASE_URL")) as url:
        databases = Databases(url, [])
        try:
            yield dsn_url(databases.create(sorted((ROOT / "queries" / "schema").glob("*.sql"))))
        finally:
            databases.drop_all()


async def run(dsn: str, rows: int, repeats: int) -> None:
    conn = await asyncpg.connect(dsn)
    tuples = [(f"Author {i}", None if i % 3 else f"Bio {i}", "NZ") for i in range(rows)]

    async def generated_copy() -> None:
        await bulk.copy_authors(conn, (bulk.CopyAuthorsParams(n, b, c) for n, b, c in tuples))

    async def raw_copy() -> None:
        await conn.copy_records_to_table(
            "authors", columns=("name", "bio", "country_code"), records=tuples, schema_name="public"
        )

    async def raw_executemany() -> None:
        await conn.executemany(INSERT, tuples)

    ways: dict[str, Callable[[], Awaitable[None]]] = {
        "generated :copyfrom": generated_copy,
        "raw copy_records_to_table": raw_copy,
        "raw executemany": raw_executemany,
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(repeats):
        for name, way in ways.items():  # interleaved, so drift hits every way alike
            await conn.execute("TRUNCATE authors RESTART IDENTITY CASCADE")
            start = time.perf_counter()
            await way()
            times[name].append(time.perf_counter() - start)
            assert await conn.fetchval("SELECT count(*) FROM authors") == rows
    await conn.close()

    base = statistics.median(times["raw copy_records_to_table"])
    print(f"{rows} rows, {repeats} repeats")
    print("| way | min s | median s | rows/s (median) | median / raw COPY |")
    print("| --- | --- | --- | --- | --- |")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"| {name} | {min(samples):.4f} | {median:.4f} | {rows / median:,.0f} | {median / base:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with database() as dsn:
        asyncio.run(run(dsn, args.rows, args.repeats))


if __name__ == "__main__":
    main()
