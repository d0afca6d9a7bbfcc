"""JSON's null and SQL NULL stay apart: JSON_NULL and None, in results, parameters, arrays and models."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import asyncpg
from conftest import Project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCHEMA = """
CREATE TABLE docs (id int PRIMARY KEY, body jsonb, plain json, required jsonb NOT NULL DEFAULT '{}', many jsonb[]);
"""

QUERIES = """
-- name: PutDoc :exec
INSERT INTO docs (id, body, plain) VALUES (@id, sqlc.narg(body), sqlc.narg(plain));

-- name: GetDoc :one
SELECT * FROM docs WHERE id = @id;

-- name: PutMany :exec
UPDATE docs SET many = @many WHERE id = @id;

-- name: PutRequired :exec
UPDATE docs SET required = @required WHERE id = @id;

-- name: Kinds :one
SELECT body IS NULL AS sql_null, jsonb_typeof(body) AS json_type, plain IS NULL AS plain_sql_null,
       many[1] IS NULL AS first_sql_null, jsonb_typeof(many[2]) AS second_type
FROM docs WHERE id = @id;

-- name: Echo :one
SELECT sqlc.narg(doc)::jsonb AS doc;
"""

TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)  # jsonb refuses \u0000
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def test_json_null_and_sql_null_are_different_values(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", QUERIES)
    package, url = project.package("gen_json")
    queries = importlib.import_module("gen_json.queries")
    models = importlib.import_module("gen_json.models")
    json_null = package.JSON_NULL
    source = (project.root / "gen_json" / "models.py").read_text()
    assert "body: JsonDocument | None" in source and "required: JsonDocument\n" in source
    assert "many: list[JsonDocument | None] | None" in source

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await queries.put_doc(conn, id=1, body=None, plain=None)
            await queries.put_doc(conn, id=2, body=json_null, plain=json_null)
            kinds = await queries.kinds(conn, id=1)
            assert (kinds.sql_null, kinds.json_type, kinds.plain_sql_null) == (True, None, True)
            kinds = await queries.kinds(conn, id=2)
            assert (kinds.sql_null, kinds.json_type, kinds.plain_sql_null) == (False, "null", False)
            first, second = await queries.get_doc(conn, id=1), await queries.get_doc(conn, id=2)
            assert (first.body, first.plain) == (None, None)
            assert second.body is json_null and second.plain is json_null
            await queries.put_required(conn, required=json_null, id=1)
            assert (await queries.get_doc(conn, id=1)).required is json_null  # a non-null column holding JSON null
            await queries.put_many(conn, many=[None, json_null, {"a": None}], id=2)
            kinds = await queries.kinds(conn, id=2)
            assert (kinds.first_sql_null, kinds.second_type) == (True, "null")
            assert (await queries.get_doc(conn, id=2)).many == [None, json_null, {"a": None}]
            # A model holding JSON_NULL serialises it as JSON's null, and validates it back.
            doc = await queries.get_doc(conn, id=2)
            assert '"body":null' in doc.model_dump_json()
            assert models.Doc.model_validate(doc.model_dump()).body is json_null
        finally:
            await conn.close()

    asyncio.run(run())

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(JSON)
    def round_trip(value: Any) -> None:
        async def echo() -> Any:
            conn = await asyncpg.connect(url)
            try:
                return await queries.echo(conn, doc=json_null if value is None else value)
            finally:
                await conn.close()

        back = asyncio.run(echo())
        assert back == (json_null if value is None else value)

    round_trip()
