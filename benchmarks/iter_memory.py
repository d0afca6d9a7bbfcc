"""Streaming a large result: generated `:iter` against fetching it whole, peak memory and time.

    python benchmarks/iter_memory.py [--rows N] [--prefetch P]

Starts the embedded PostgreSQL (or uses DATABASE_URL), loads N rows (default 1,000,000)
into the 10-column table of `benchmarks/project/`, and generates that project's package.
Then each way reads every row in a fresh Python process of its own, so that each peak is
its own: the generated `iter_items` (a server-side cursor, P rows per round trip, one
model at a time), the raw asyncpg cursor, and raw asyncpg `fetch` (every record at once).
Each process reports its resident memory (RSS) before reading, its peak (the kernel's
high-water mark), its RSS every N/5 rows, and the wall time. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from runtime import FILL, database, generated_package

WAYS = ("generated :iter", "raw asyncpg cursor", "raw asyncpg fetch (all rows)")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def read(way: str, dsn: str, rows: int, prefetch: int, package: str) -> dict[str, Any]:
    """One way, in this process: the figures the parent prints."""
    sys.path.insert(0, package)
    from bench_gen import items

    conn = await asyncpg.connect(dsn)
    every = max(rows // 5, 1)
    samples: list[float] = []
    before = rss_mb()
    start = time.perf_counter()
    count = 0
    if way == "raw asyncpg fetch (all rows)":
        records = await conn.fetch(items.ITER_ITEMS)
        count = len(records)
        samples.append(rss_mb())
        del records
    else:
        async with conn.transaction():
            stream = (
                items.iter_items(conn, prefetch=prefetch)
                if way == "generated :iter"
                else conn.cursor(items.ITER_ITEMS, prefetch=prefetch)
            )
            async for _ in stream:
                count += 1
                if count % every == 0:
                    samples.append(rss_mb())
    seconds = time.perf_counter() - start
    await conn.close()
    return {"rows": count, "before": before, "peak": peak_rss_mb(), "samples": samples, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--prefetch", type=int, default=1000)
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--package", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(read(args.child, args.dsn, args.rows, args.prefetch, args.package))))
        return

    with database() as (libpq_url, dsn), tempfile.TemporaryDirectory() as folder:
        generated_package(libpq_url, Path(folder))

        async def fill() -> None:
            conn = await asyncpg.connect(dsn)
            await conn.execute(FILL, args.rows)
            await conn.close()

        asyncio.run(fill())
        print(f"{args.rows:,} rows of 10 columns; prefetch {args.prefetch}; each way in its own process\n")
        print("| way | RSS before MB | RSS while reading MB | peak RSS MB | seconds |")
        print("| --- | ---: | --- | ---: | ---: |")
        for way in WAYS:
            command = [sys.executable, __file__, "--child", way, "--dsn", dsn, "--package", folder]
            command += ["--rows", str(args.rows), "--prefetch", str(args.prefetch)]
            result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            assert result["rows"] == args.rows, result
            during = ", ".join(f"{s:.0f}" for s in result["samples"])
            print(
                f"| {way} | {result['before']:.0f} | {during} | {result['peak']:.0f} | {result['seconds']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
