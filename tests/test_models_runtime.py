"""Generated rows are genuine pydantic models, built without validation unless asked for."""

from __future__ import annotations

import copy
import importlib
import pickle
import re
from typing import Any

import asyncpg
import pydantic
import pytest
from conftest import Project
from pydantic_core import PydanticSerializationError
from test_types_runtime import SCALARS


def _first_plain(values: list[Any]) -> Any:
    """A value of the type without NaN (never equal to itself, and refused by pydantic's decimal validation)."""
    return next((v for v in values if "nan" not in repr(v).lower()), None)


WIDE_SCHEMA = "\n".join(
    [
        "CREATE TYPE mood AS ENUM ('sad', 'happy');",
        "CREATE TYPE pair AS (label text, mood mood);",
        "CREATE TABLE wide (",
        "    id int PRIMARY KEY,",
        "    mood mood,",
        "    pair pair,",
        *(f"    c{i} {pg_type}," for i, (pg_type, _, _) in enumerate(SCALARS)),
        "    done bool NOT NULL DEFAULT true",
        ");",
    ]
)
WIDE_QUERIES = f"""
-- name: AddWide :exec
INSERT INTO wide (id, mood, pair, {", ".join(f"c{i}" for i in range(len(SCALARS)))})
VALUES (@id, @mood, @pair, {", ".join(f"@c{i}" for i in range(len(SCALARS)))});
-- name: ListWide :many
SELECT * FROM wide ORDER BY id;
-- name: ListWideValidated :many
-- @validate
SELECT * FROM wide ORDER BY id;
-- name: WideLabels :many
SELECT id, (pair).label, c0 FROM wide ORDER BY id;
"""


def _json(row: pydantic.BaseModel) -> str:
    try:
        return row.model_dump_json()
    except PydanticSerializationError as error:  # bytes that are not UTF-8, say
        return f"error: {error}"


def _same_as_validated(row: pydantic.BaseModel) -> None:
    """`row` is exactly what pydantic's validation makes of the same values."""
    validated = type(row).model_validate(dict(row.__dict__))
    assert validated == row
    for name in type(row).model_fields:
        assert type(getattr(validated, name)) is type(getattr(row, name)), name
    assert validated.model_dump() == row.model_dump()
    assert _json(validated) == _json(row)
    assert repr(validated) == repr(row)
    assert row.model_fields_set == set(type(row).model_fields)


async def test_rows_are_the_models_validation_would_build(project: Project) -> None:
    project.write("schema.sql", WIDE_SCHEMA)
    project.write("queries.sql", WIDE_QUERIES)
    _, url = project.package("wide_pkg")
    models = importlib.import_module("wide_pkg.models")
    queries = importlib.import_module("wide_pkg.queries")
    source = (project.root / "wide_pkg" / "queries.py").read_text()
    assert re.search(r"_trusted\(\s*models\.Wide,\s*id=r\[0\],", source)
    assert re.search(r"return \[\s*models\.Wide\(\s*id=r\[0\],", source)  # ListWideValidated
    values = {f"c{i}": _first_plain(v) for i, (_, v, _) in enumerate(SCALARS)}
    conn = await asyncpg.connect(url)
    try:
        await queries.add_wide(conn, id=1, mood=models.Mood.HAPPY, pair=models.Pair(label="x", mood=None), **values)
        await queries.add_wide(conn, id=2, mood=None, pair=None, **{name: None for name in values})
        full, empty = await queries.list_wide(conn)
        trusted_labels = await queries.wide_labels(conn)
        validated_rows = await queries.list_wide_validated(conn)
    finally:
        await conn.close()

    for row in (full, empty, full.pair, *trusted_labels):
        _same_as_validated(row)
    assert isinstance(full, models.Wide) and isinstance(full, pydantic.BaseModel)
    assert type(full.mood) is models.Mood and type(full.pair.label) is str
    assert [full, empty] == validated_rows
    # Trusted rows share their (complete) fields-set; validated rows each have their own.
    assert full.model_fields_set is empty.model_fields_set
    assert validated_rows[0].model_fields_set is not validated_rows[1].model_fields_set

    # (asyncpg's geometric types cannot be deep-copied or pickled, so those use rows without them)
    for original, clone in [
        (full, copy.copy(full)),
        *((row, copy.deepcopy(row)) for row in (empty, full.pair, trusted_labels[0])),
        *((row, pickle.loads(pickle.dumps(row))) for row in (empty, full.pair, trusted_labels[0])),
    ]:
        assert clone == original and clone is not original
        assert clone.model_fields_set == original.model_fields_set
    changed = full.model_copy(update={"id": 7})
    assert changed.id == 7 and full.id == 1 and full.model_fields_set == set(models.Wide.model_fields)
    full.id = 8  # models are mutable unless frozen; assignment leaves the shared fields-set alone
    assert full.id == 8 and empty.model_fields_set == set(models.Wide.model_fields)
    assert models.Wide.model_validate_json(empty.model_dump_json()) == empty


async def test_trusted_rows_take_values_pydantic_validation_refuses(project: Project) -> None:
    """PostgreSQL's numeric NaN and infinities are valid values; pydantic's Decimal validation refuses them."""
    project.write("schema.sql", "CREATE TABLE amounts (id int PRIMARY KEY, amount numeric NOT NULL);")
    project.write(
        "queries.sql",
        """
        -- name: ListAmounts :many
        SELECT * FROM amounts ORDER BY id;
        -- name: ListAmountsValidated :many
        -- @validate
        SELECT * FROM amounts ORDER BY id;
        """,
    )
    _, url = project.package("amounts_pkg")
    queries = importlib.import_module("amounts_pkg.queries")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO amounts VALUES (1, 'NaN'), (2, 'Infinity'), (3, 1.5)")
        assert [str(row.amount) for row in await queries.list_amounts(conn)] == ["NaN", "Infinity", "1.5"]
        with pytest.raises(pydantic.ValidationError, match="finite"):
            await queries.list_amounts_validated(conn)
    finally:
        await conn.close()


FROZEN_SCHEMA = """
CREATE TYPE pair AS (label text, score int);
CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL, pair pair);
"""
FROZEN_QUERIES = """
-- name: AddNote :exec
INSERT INTO notes VALUES (@id, @body, @pair);
-- name: ListNotes :many
SELECT * FROM notes ORDER BY id;
-- name: Bodies :many
SELECT id, body FROM notes ORDER BY id;
"""


@pytest.mark.parametrize("validate", [False, True], ids=["trusted", "validated"])
async def test_frozen_models_are_immutable_and_hashable(project: Project, validate: bool) -> None:
    project.write(
        "pyproject.toml",
        f"""
        [tool.sqlgen]
        schema = "schema.sql"
        queries = "queries.sql"
        out = "gen"
        frozen = true
        validate = {str(validate).lower()}
        """,
    )
    project.write("schema.sql", FROZEN_SCHEMA)
    project.write("queries.sql", FROZEN_QUERIES)
    name = f"frozen_{'validated' if validate else 'trusted'}_pkg"
    _, url = project.package(name, schema=None, queries=None)
    models = importlib.import_module(f"{name}.models")
    queries = importlib.import_module(f"{name}.queries")
    source = (project.root / name / "queries.py").read_text()
    assert ("_trusted(" in source) is not validate
    conn = await asyncpg.connect(url)
    try:
        await queries.add_note(conn, id=1, body="a", pair=models.Pair(label="l", score=1))
        await queries.add_note(conn, id=2, body="a", pair=None)
        first, second = await queries.list_notes(conn)
        bodies = await queries.bodies(conn)
    finally:
        await conn.close()
    assert first.pair == models.Pair(label="l", score=1)
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        first.body = "b"
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        bodies[0].body = "b"
    assert len({first, second, models.Note(id=1, body="a", pair=models.Pair(label="l", score=1))}) == 2
    assert hash(first.pair) == hash(models.Pair(label="l", score=1))
    assert (first.model_fields_set is second.model_fields_set) is not validate


def test_an_unknown_query_flag_is_an_error(project: Project) -> None:
    project.write("schema.sql", "CREATE TABLE t (id int);")
    project.write(
        "queries.sql",
        """
        -- name: A :many
        -- @sqlc-vet-disable
        -- @valdiate
        SELECT id FROM t;
        """,
    )
    assert project.errors() == [
        "queries.sql:3:4: error: unknown query flag `@valdiate`\n"
        "    -- @valdiate\n"
        "       ^\n"
        "  hint: did you mean '@validate'?"
    ]
