"""How often sqlgen's inferred types, names and nullability match the labelled corpus.

    python benchmarks/inference_accuracy.py [-v]

Uses the embedded PostgreSQL (or DATABASE_URL), creates one database per corpus schema
(tests/corpus/*), and compares sqlgen's describe + infer stages with the labels, which
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
from corpus import Judgement, judge, schemas  # noqa: E402

from sqlgen.database import connect, server_url  # noqa: E402


def measure(url: str, schema_dir: Path) -> list[Judgement]:
    databases = Databases(url, [])
    try:
        with connect(databases.create([schema_dir / "schema.sql", schema_dir / "data.sql"])) as conn:
            return judge(conn, schema_dir)
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
    args = parser.parse_args()
    everything: list[Judgement] = []
    lines = [
        "| schema | columns right | params right | wrong non-null | needlessly nullable columns"
        " | needlessly nullable params | name misses | type misses | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    with server_url(os.environ.get("DATABASE_URL")) as url:
        for schema_dir in schemas():
            started = time.perf_counter()
            judgements = measure(url, schema_dir)
            lines.append(row(schema_dir.name, judgements, time.perf_counter() - started))
            everything.extend(judgements)
    queries = len({j.query for j in everything})
    lines.append(row(f"all ({queries} queries)", everything))
    print("\n".join(lines))
    if args.verbose:
        for j in everything:
            if not j.right:
                print(
                    f"{j.query} {j.what}: labelled {j.label.name} {j.label.type}"
                    f" {'null' if j.label.nullable else 'not null'}; sqlgen {j.name} {j.type} — {j.reason}"
                )
    return 1 if any(j.wrongly_non_null for j in everything) else 0


if __name__ == "__main__":
    raise SystemExit(main())
