"""The corpus's labels are true: checked against the real server, with adversarial data.

Each labelled query is described (types must match the labels) and run with its argument
sets; a column labelled `not null` must never come back NULL, and a column labelled
`null` must come back NULL in some run, so the labels sqlgen is measured against are
facts about PostgreSQL, not opinions. (sqlgen's own accuracy on this corpus is measured
by benchmarks/inference_accuracy.py and asserted in test_infer_corpus.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import Databases
from corpus import LabelledQuery, apply_corpus_schema, check_labels, load, schemas

from sqlgen.database import DbConnection, connect

QUERIES = [query for schema_dir in schemas() for query in load(schema_dir)]


@pytest.fixture(scope="module")
def corpus_connections(databases: Databases) -> Iterator[dict[str, DbConnection]]:
    opened: dict[str, DbConnection] = {}
    yield opened
    for conn in opened.values():
        conn.close()


def corpus_connection(connections: dict[str, DbConnection], databases: Databases, schema: str) -> DbConnection:
    if schema not in connections:
        schema_dir = next(p for p in schemas() if p.name == schema)
        conn = connect(databases.create())
        conn.prepare_threshold = None  # psycopg's own prepared statements would not survive DEALLOCATE ALL
        apply_corpus_schema(conn, schema_dir)
        connections[schema] = conn
    return connections[schema]


def test_corpus_is_large_enough() -> None:
    assert len(QUERIES) >= 150
    assert len({q.schema for q in QUERIES}) >= 4


@pytest.mark.parametrize("query", QUERIES, ids=[q.key for q in QUERIES])
def test_labels_are_true(
    query: LabelledQuery, corpus_connections: dict[str, DbConnection], databases: Databases
) -> None:
    conn = corpus_connection(corpus_connections, databases, query.schema)
    check_labels(conn, query)


def test_every_schema_has_its_files() -> None:
    for schema_dir in schemas():
        assert (schema_dir / "schema.sql").is_file() and (schema_dir / "data.sql").is_file(), schema_dir
