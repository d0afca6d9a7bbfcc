"""PostgreSQL 15: the inference corpus and generated code on a server older than the embedded one.

Before PostgreSQL 16 the server's tree does not mark which outer joins can null a column
reference (`varnullingrels`), and before 18 it does not mark grouping keys nulled by
ROLLUP/CUBE/GROUPING SETS nor have RETURNING old/new: sqlgen reads outer joins from the
join tree instead and must stay sound there (more nullable, never less). The server is
Debian's `postgresql-15` (`.ci/run` installs it), started by `older_postgres` for this
module on a unix socket in a temporary folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from conftest import ROOT, Databases, dsn_url
from corpus import apply_corpus_schema, check_labels, judge, load, runnable, schemas
from older_postgres import running_postgres
from test_infer_corpus import KNOWN_GAPS
from test_runtime import (  # run here on PostgreSQL 15 too, through this module's `conn`
    SCHEMA_FILES,
    test_embedded_tables_are_nested_models_and_none_when_the_join_finds_no_row,
    test_enum_columns_and_parameters,
    test_exec_execrows_execresult,
    test_json_array_interval_numeric_round_trip,
    test_left_join_gives_none_for_the_missing_side,
    test_one_returns_the_table_model_or_none,
    test_orders_uuid_json_aggregates,
    test_promotions_domain_composite_range_and_model_override,
    test_slices_are_one_array_parameter_and_may_be_empty,
)

from sqlgen.catalog import load_catalog
from sqlgen.config import Overrides, load_config
from sqlgen.database import DbConnection, apply_schema, connect
from sqlgen.infer import TypedQuery
from sqlgen.pipeline import read_project, type_queries

RUNTIME_TESTS = (
    test_one_returns_the_table_model_or_none,
    test_json_array_interval_numeric_round_trip,
    test_left_join_gives_none_for_the_missing_side,
    test_exec_execrows_execresult,
    test_orders_uuid_json_aggregates,
    test_enum_columns_and_parameters,
    test_promotions_domain_composite_range_and_model_override,
    test_slices_are_one_array_parameter_and_may_be_empty,
    test_embedded_tables_are_nested_models_and_none_when_the_join_finds_no_row,
)

# Misses on PostgreSQL 15 besides those of KNOWN_GAPS (less a miss that needs 18 to run at all).
KNOWN_GAPS_BEFORE_16 = {
    "analytics/ReportedVersusActualUsers column day": "COALESCE over a FULL JOIN needs varnullingrels",
    "commerce/PaymentReconciliation column order_id": "COALESCE over a FULL JOIN needs varnullingrels",
    "forum/ThreadsVersusPostsSince column user_id": "COALESCE over a FULL JOIN needs varnullingrels",
    "forum/ThreadsVersusPostsSince column either_count": "COALESCE over a FULL JOIN needs varnullingrels",
    "saas/PlannedVersusLogged column user_id": "COALESCE over a FULL JOIN needs varnullingrels",
    "saas/CompareOrgMembers column user_id": "COALESCE over a FULL JOIN needs varnullingrels",
    "forum/ThreadsWithRootAuthor column root_post_id": "a LEFT JOIN's ON condition proves the row, read on 16+",
    "saas/TasksWithLabel column added_at": "a LEFT JOIN's ON condition proves the row, read on 16+",
    "saas/TasksAssignedToMembers column assignee_name": "an inner join above a LEFT JOIN proves the row, on 16+",
    "analytics/EventNamesByDeviceSets column name": "a key of every grouping set is never nulled; marked on 18+",
}


@pytest.fixture(scope="module")
def pg15() -> Iterator[Databases]:
    with running_postgres(15) as url:
        databases = Databases(url, [])
        yield databases


@pytest.fixture
async def conn(pg15: Databases) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(dsn_url(pg15.create(SCHEMA_FILES)))
    assert connection.get_server_version().major == 15
    yield connection
    await connection.close()


def corpus_database(databases: Databases, schema_dir: Path) -> DbConnection:
    conn = connect(databases.create())
    conn.prepare_threshold = None
    apply_corpus_schema(conn, schema_dir)
    return conn


@pytest.mark.parametrize("schema_dir", schemas(), ids=lambda p: p.name)
def test_labels_hold_on_15(schema_dir: Path, pg15: Databases) -> None:
    with corpus_database(pg15, schema_dir) as conn:
        for query in runnable(load(schema_dir), conn):
            check_labels(conn, query)


@pytest.mark.parametrize("schema_dir", schemas(), ids=lambda p: p.name)
def test_inference_on_15_is_sound_and_its_misses_known(schema_dir: Path, pg15: Databases, databases: Databases) -> None:
    with corpus_database(pg15, schema_dir) as conn:
        older = judge(conn, schema_dir)
    with corpus_database(databases, schema_dir) as conn:
        newest = {(j.query, j.what): j for j in judge(conn, schema_dir)}
    wrong = [f"{j.query} {j.what}: {j.reason}" for j in older if j.wrongly_non_null]
    assert not wrong, "sqlgen claims non-null on PostgreSQL 15 where NULL happens"
    looser = [f"{j.query} {j.what}: {j.reason}" for j in older if newest[j.query, j.what].nullable and not j.nullable]
    assert not looser, "non-null on 15 but nullable on 18: the older path must be the more careful"
    misses = {f"{j.query} {j.what}" for j in older if not j.right}
    expected = {
        key
        for key in {*KNOWN_GAPS, *KNOWN_GAPS_BEFORE_16}
        if key.startswith(f"{schema_dir.name}/") and key.split(" ")[0] in {j.query for j in older}
    }
    assert misses == expected


def test_the_example_project_is_no_less_nullable_on_15(pg15: Databases, databases: Databases) -> None:
    config = load_config(Overrides(), cwd=ROOT, environ={})
    project = read_project(config)
    queries = [q for _, _, file_queries in project.files for q in file_queries]

    def typed(databases: Databases) -> list[TypedQuery]:
        with connect(databases.create()) as conn:
            apply_schema(conn, project.schema)
            result, errors = type_queries(conn, load_catalog(conn), queries)
        assert not errors
        return result

    older, newest = typed(pg15), typed(databases)
    for old, new in zip(older, newest, strict=True):
        for old_item, new_item in [
            *zip(old.columns, new.columns, strict=True),
            *zip(old.params, new.params, strict=True),
        ]:
            assert old_item.nullable or not new_item.nullable, (old.described.query.name, old_item)


for _test in RUNTIME_TESTS:  # pytest collects these again here, where `conn` is a PostgreSQL 15 database
    globals()[_test.__name__] = _test
