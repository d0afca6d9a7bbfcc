"""How often sqlgen's inferred types, names and nullability match the labelled corpus.

    python benchmarks/inference_accuracy.py [-v] [--also 15]

Uses the embedded PostgreSQL (or DATABASE_URL) and, with `--also N`, a throw-away
PostgreSQL N from Debian's binaries (tests/older_postgres.py; `apt-get install
postgresql-N`), creates one database per corpus schema (tests/corpus/*) on each, and
compares sqlgen's describe + infer stages with the labels, which
tests/test_corpus.py checks against the server with adversarial data. Prints columns and
parameters right, wrong non-null claims (must be 0: the exit status is 1 otherwise), and
columns sqlgen calls nullable that never are. `-v` lists every miss with sqlgen's reason.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import Databases  # noqa: E402
from corpus import Judgement, apply_corpus_schema, judge, schemas, server_major  # noqa: E402
from older_postgres import running_postgres  # noqa: E402

from sqlgen.database import connect, server_url  # noqa: E402


def measure(url: str, schema_dir: Path) -> tuple[int, list[Judgement]]:
    databases = Databases(url, [])
    try:
        with connect(databases.create()) as conn:
            apply_corpus_schema(conn, schema_dir)
            return server_major(conn), judge(conn, schema_dir)
    finally:
        databases.drop_all()


def row(label: str, judgements: list[Judgement], seconds: float | None = None) -> str:
    columns = [j for j in judgements if j.what.startswith("column")]
    params = [j for j in judgements if j.what.startswith("param")]
    cells = [
        label,
        f"{sum(j.right for j in columns)}/{len(columns)}",
        f"{sum(j.right for j in params)}/{len(params)}",
        str(sum(j.wrongly_non_null for j in judgements)),
        str(sum(j.needlessly_nullable for j in columns)),
        str(sum(j.needlessly_nullable for j in params)),
        str(sum(j.name != j.label.name for j in judgements)),
        str(sum(j.type != j.label.type for j in judgements)),
        "" if seconds is None else f"{seconds:.2f}",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss with sqlgen's reason")
    parser.add_argument(
        "--also", type=int, action="append", default=[], metavar="N", help="also measure on PostgreSQL N (Debian's)"
    )
    args = parser.parse_args()
    lines = [
        "| server | schema | columns right | params right | wrong non-null | needlessly nullable columns"
        " | needlessly nullable params | name misses | type misses | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    misses: list[str] = []
    unsound = False
    servers = [server_url(os.environ.get("DATABASE_URL")), *(running_postgres(major) for major in args.also)]
    for server in servers:
        everything: list[Judgement] = []
        with server as url:
            for schema_dir in schemas():
                started = time.perf_counter()
                major, judgements = measure(url, schema_dir)
                lines.append(row(f"{major} | {schema_dir.name}", judgements, time.perf_counter() - started))
                everything.extend(judgements)
        queries = len({j.query for j in everything})
        lines.append(row(f"{major} | all ({queries} queries)", everything))
        unsound = unsound or any(j.wrongly_non_null for j in everything)
        misses.extend(
            f"PostgreSQL {major}: {j.query} {j.what}: labelled {j.label.name} {j.label.type}"
            f" {'null' if j.label.nullable else 'not null'}; sqlgen {j.name} {j.type} — {j.reason}"
            for j in everything
            if not j.right
        )
    print("\n".join(lines))
    if args.verbose:
        print("\n".join(misses))
    return 1 if unsound else 0


if __name__ == "__main__":
    raise SystemExit(main())
