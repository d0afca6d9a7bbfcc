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
from corpus import LabelledQuery, format_types, load, schemas, text_argument
from psycopg import pq

from sqlgen.database import DbConnection, apply_schema, connect
from sqlgen.source import read_source

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
        apply_schema(conn, [read_source(schema_dir / "schema.sql"), read_source(schema_dir / "data.sql")])
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
    pgconn = conn.pgconn
    name = b"corpus_query"
    pgconn.exec_(b"DEALLOCATE ALL")
    prepared = pgconn.prepare(name, query.source.sql.encode())
    assert prepared.status == pq.ExecStatus.COMMAND_OK, prepared.error_message.decode()
    described = pgconn.describe_prepared(name)
    column_types = format_types(conn, [described.ftype(i) for i in range(described.nfields)])
    param_types = format_types(conn, [described.param_type(i) for i in range(described.nparams)])
    names = [(described.fname(i) or b"").decode() for i in range(described.nfields)]
    assert [(c.name, c.type) for c in query.columns] == list(zip(names, column_types, strict=False)), "column labels"
    assert [p.type for p in query.params] == param_types, "parameter labels"
    runs = query.args or (((),) if not query.params else ())
    assert runs, "a query with parameters needs `args:` lines"
    seen_null: set[int] = set()
    for args in runs:
        assert len(args) == len(query.params), f"args {args} do not match the parameters"
        pgconn.exec_(b"BEGIN")
        try:
            result = pgconn.exec_prepared(name, [text_argument(a) for a in args])
            assert result.status in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK), (
                f"args {args}: {result.error_message.decode()}"
            )
            for row in range(result.ntuples):
                for column in range(result.nfields):
                    if result.get_value(row, column) is None:
                        seen_null.add(column)
        finally:
            pgconn.exec_(b"ROLLBACK")
    wrong = [c.name for i, c in enumerate(query.columns) if not c.nullable and i in seen_null]
    assert not wrong, f"labelled not null, came back NULL: {wrong}"
    unwitnessed = [
        c.name for i, c in enumerate(query.columns) if c.nullable and not c.unwitnessed and i not in seen_null
    ]
    assert not unwitnessed, f"labelled null, never NULL in any run (make data.sql show it): {unwitnessed}"


def test_every_schema_has_its_files() -> None:
    for schema_dir in schemas():
        assert (schema_dir / "schema.sql").is_file() and (schema_dir / "data.sql").is_file(), schema_dir
