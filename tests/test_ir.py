"""The IR (`sqlgen.ir`): what `sqlgen describe --json` prints, on a real server, against its own JSON Schema."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import jsonschema
import pytest
from conftest import Project, run_sqlgen
from hypothesis import given
from hypothesis import strategies as st

import sqlgen
from sqlgen import ir

SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN rating AS int4 CHECK (VALUE BETWEEN 1 AND 5);
CREATE TYPE money_amount AS (currency text, cents int8);
CREATE TABLE people (id bigint PRIMARY KEY, name text NOT NULL, mood mood, boss_id bigint REFERENCES people,
                     tags text[] NOT NULL DEFAULT '{}', score rating, price money_amount);
CREATE VIEW named AS SELECT id, name, upper(name) AS shout FROM people;
"""
QUERIES = """
-- name: GetPerson :one
-- Who someone is.
SELECT * FROM people WHERE id = @id;

-- name: ListWithBoss :many
SELECT p.name, sqlc.embed(b) FROM people p LEFT JOIN people b ON b.id = p.boss_id;

-- name: CountPeople :one
SELECT count(*) FROM people WHERE mood = sqlc.narg(mood);

-- name: LoadPeople :copyfrom
INSERT INTO people (id, name) VALUES (@id, @name);
"""
CONFIG = '[tool.sqlgen]\nschema = "schema.sql"\nqueries = "queries.sql"\nout = "gen"\n'


@pytest.fixture
def described(project: Project) -> tuple[Project, ir.Project]:
    project.write("pyproject.toml", CONFIG)
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", QUERIES)
    return project, sqlgen.describe(project.root)


def _query(package: ir.Package, name: str) -> ir.Query:
    [query] = [q for m in package.modules for q in m.queries if q.name == name]
    return query


def test_the_ir_holds_what_postgresql_said_about_each_query(described: tuple[Project, ir.Project]) -> None:
    _, project = described
    assert project.version == ir.VERSION and project.generator.startswith("sqlgen ")
    [package] = project.packages
    assert (package.name, package.out, [m.name for m in package.modules]) == (None, "gen", ["queries"])
    get = _query(package, "GetPerson")
    assert (get.key, get.command, get.doc, get.position) == (
        "queries.GetPerson",
        ":one",
        "Who someone is.",
        ir.Position("queries.sql", 1, 1),
    )
    assert "*" not in get.sql and get.sql.endswith("WHERE id = $1")
    [param] = get.parameters
    assert (param.name, param.type.logical, param.nullable, param.column) == ("id", "int64", False, None)
    columns = {c.name: c for c in get.columns}
    assert [n for n, c in columns.items() if not c.nullable] == ["id", "name", "tags"]
    assert columns["mood"].type == ir.SqlType("public", "mood", "enum")
    tags = columns["tags"].type
    assert (tags.logical, tags.element, columns["tags"].elements_nullable) == (
        "array",
        ir.SqlType("pg_catalog", "text", "text"),
        True,
    )
    assert columns["score"].type == ir.SqlType("pg_catalog", "int4", "int32")  # results carry a domain's base type
    assert columns["price"].type.logical == "composite"
    assert columns["name"].source == ir.ColumnRef("public", "people", "name")
    assert not get.exactly_one_row  # a primary key pins at most one row, not one

    count = _query(package, "CountPeople")
    assert count.exactly_one_row and count.rows_reason.startswith("exactly one row")
    assert [(c.name, c.nullable) for c in count.columns] == [("count", False)]
    assert [(p.name, p.nullable) for p in count.parameters] == [("mood", True)]

    [embed] = _query(package, "ListWithBoss").embeds
    assert (embed.name, embed.relation, embed.first, embed.count, embed.nullable) == ("b", "public.people", 1, 7, True)
    load = _query(package, "LoadPeople")
    assert load.copy_target == ir.CopyTarget("public", "people", ("id", "name"))
    assert [p.column for p in load.parameters] == [  # where each value is written
        ir.ColumnRef("public", "people", "id"),
        ir.ColumnRef("public", "people", "name"),
    ]


def test_the_ir_holds_the_schema_objects(described: tuple[Project, ir.Project]) -> None:
    [package] = described[1].packages
    assert package.enums == (ir.Enum("public", "mood", ("sad", "happy")),)
    [composite] = package.composites
    assert [(f.name, f.type.logical, f.nullable) for f in composite.fields] == [
        ("currency", "text", True),
        ("cents", "int64", True),
    ]
    relations = {r.name: r for r in package.relations}
    score = relations["people"].fields[5]
    assert (score.name, score.type) == ("score", ir.SqlType("public", "rating", "int32", domain="public.rating"))
    assert (relations["people"].kind, relations["named"].kind) == ("table", "view")
    # A view declares nothing; sqlgen's own analysis of its query says which columns hold no NULL.
    assert [(f.name, f.nullable) for f in relations["named"].fields] == [
        ("id", False),
        ("name", False),
        ("shout", False),
    ]


def test_describe_json_is_the_ir_valid_under_its_schema_and_reads_back(described: tuple[Project, ir.Project]) -> None:
    project, expected = described
    printed = run_sqlgen("describe", "--json", cwd=project.root)
    assert printed.returncode == 0, printed.stderr
    data = json.loads(printed.stdout)
    assert data == ir.to_data(expected)
    schema = run_sqlgen("describe", "--json-schema", cwd=project.root)
    jsonschema.validate(data, json.loads(schema.stdout))
    assert ir.from_data(ir.Project, data) == expected
    listing = run_sqlgen("describe", cwd=project.root).stdout
    assert "  GetPerson :one  (queries.sql:1)\n    in:  id int8\n" in listing
    assert "tags text[], score int4?, price money_amount?" in listing
    assert sorted(p.name for p in project.root.iterdir()) == ["pyproject.toml", "queries.sql", "schema.sql"]


def test_describe_reports_a_rejected_query_where_it_is(described: tuple[Project, ir.Project]) -> None:
    project, _ = described
    project.write("queries.sql", QUERIES + "\n-- name: Broken :one\nSELECT nobody FROM people;\n")
    result = run_sqlgen("describe", "--json", cwd=project.root)
    assert result.returncode == 1 and result.stdout == ""
    assert 'queries.sql:15:8: error: column "nobody" does not exist' in result.stderr


def _paths(data: Any, where: str = "$") -> list[str]:
    """Every place in IR data that holds a value (not an object or list)."""
    if isinstance(data, dict):
        return [p for key, value in data.items() for p in _paths(value, f"{where}.{key}")]
    if isinstance(data, list):
        return [p for i, value in enumerate(data) for p in _paths(value, f"{where}[{i}]")]
    return [where]


def _replace(data: Any, path: str, value: Any) -> Any:
    steps = path.replace("[", ".[").split(".")[1:]
    target = data
    for step in steps[:-1]:
        target = target[int(step[1:-1])] if step.startswith("[") else target[step]
    last = steps[-1]
    if last.startswith("["):
        target[int(last[1:-1])] = value
    else:
        target[last] = value
    return data


INT8 = ir.SqlType("pg_catalog", "int8", "int64")
INT8S = ir.SqlType("pg_catalog", "_int8", "array", INT8)
SAMPLE = ir.Project(
    (
        ir.Package(
            "shop",
            "gen",
            (
                ir.Module(
                    "items",
                    "q/items.sql",
                    (
                        ir.Query(
                            "items.Get",
                            "Get",
                            ":one",
                            "SELECT $1::int8[]",
                            "",
                            ir.Position("q/items.sql", 1, 1),
                            (
                                ir.Parameter(
                                    1,
                                    "ids",
                                    ir.SqlType(
                                        "pg_catalog", "_int8", "array", ir.SqlType("pg_catalog", "int8", "int64")
                                    ),
                                    False,
                                    "declared",
                                ),
                            ),
                            (ir.Column("int8", INT8S, True, "an expression"),),
                            True,
                            "exactly one row: no FROM",
                        ),
                    ),
                ),
            ),
            (),
            (ir.Enum("public", "mood", ("a", "b")),),
            (),
        ),
    )
)


def test_ir_data_reads_back_as_it_was_written() -> None:
    data = ir.to_data(SAMPLE)
    assert ir.from_data(ir.Project, json.loads(json.dumps(data))) == SAMPLE
    jsonschema.validate(data, ir.json_schema())
    newer = {**data, "added_in_a_later_version": True}
    assert ir.from_data(ir.Project, newer) == SAMPLE  # added fields are ignored


@given(st.data())
def test_ir_data_of_the_wrong_shape_is_refused_where_it_is_wrong(data: st.DataObject) -> None:
    good = ir.to_data(SAMPLE)
    path = data.draw(st.sampled_from(_paths(good)))
    original = eval_path(good, path)
    wrong = data.draw(st.sampled_from([w for w in ([], {}, "x", 1.5, True) if type(w) is not type(original)]))
    broken = _replace(json.loads(json.dumps(good)), path, wrong)
    nullable = original is None  # a None field may hold an object or a list of the right kind
    try:
        ir.from_data(ir.Project, broken)
    except ValueError as err:
        assert str(err).startswith(path), (path, err)
    else:
        assert nullable, path
    if not nullable:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, ir.json_schema())


def eval_path(data: Any, path: str) -> Any:
    steps = path.replace("[", ".[").split(".")[1:]
    for step in steps:
        data = data[int(step[1:-1])] if step.startswith("[") else data[step]
    return data


def test_every_ir_class_is_frozen_and_named_in_the_schema() -> None:
    classes = [c for c in vars(ir).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]
    assert all(c.__dataclass_params__.frozen for c in classes)  # type: ignore[attr-defined]
    assert sorted(ir.json_schema()["$defs"]) == sorted(c.__name__ for c in classes)
