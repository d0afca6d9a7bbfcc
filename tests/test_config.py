"""The config stage: pyproject, flags, environment, paths; and the type map and naming."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_files

from sqlgen.catalog import Catalog, PgType
from sqlgen.config import Overrides, load_config
from sqlgen.errors import UserError
from sqlgen.naming import field_name, unique
from sqlgen.typemap import TypeMap, UnsupportedType


def test_pyproject_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "proj/pyproject.toml": '[tool.sqlgen]\nschema = ["db/b", "db/a.sql"]\nqueries = "db"\nout = "gen"\n',
            "proj/db/a.sql": "",
            "proj/db/b/10_late.sql": "",
            "proj/db/b/9_early.sql": "",
            "proj/db/q.sql": "",
        },
    )
    config = load_config(Overrides(config=Path("proj/pyproject.toml")), cwd=tmp_path, environ={})
    root = tmp_path / "proj"
    assert config.out == root / "gen"
    assert [p.relative_to(root).as_posix() for p in config.schema_files()] == [
        "db/b/9_early.sql",
        "db/b/10_late.sql",
        "db/a.sql",
    ]
    # A folder of queries skips the schema files inside it.
    assert [p.name for p in config.query_files()] == ["q.sql"]
    assert config.database_url is None


def test_flags_override_config_and_environment_overrides_config(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[tool.sqlgen]\nqueries = "q.sql"\nout = "gen"\ndatabase_url = "postgresql://config"\n',
            "q.sql": "",
            "other.sql": "",
        },
    )
    config = load_config(Overrides(), cwd=tmp_path, environ={})
    assert config.database_url == "postgresql://config"
    config = load_config(Overrides(), cwd=tmp_path, environ={"DATABASE_URL": "postgresql://env"})
    assert config.database_url == "postgresql://env"
    config = load_config(
        Overrides(queries=("other.sql",), out="elsewhere", database_url="postgresql://flag"),
        cwd=tmp_path,
        environ={"DATABASE_URL": "postgresql://env"},
    )
    assert (config.queries, config.out, config.database_url) == (
        (tmp_path / "other.sql",),
        tmp_path / "elsewhere",
        "postgresql://flag",
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[tool.sqlgen]\nqueries = 3\nout = "gen"\n',
            "pyproject.toml:2:1: error: queries must be a path or a list of paths",
        ),
        ('[tool.sqlgen]\nqueries = "q.sql"\nout = ["gen"]\n', "pyproject.toml:3:1: error: out must be a path"),
        ('[tool.sqlgen]\nqueries = "q.sql"\n', "pyproject.toml:1:2: error: no output folder configured"),
    ],
)
def test_bad_values_are_reported(tmp_path: Path, toml: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {"pyproject.toml": toml, "q.sql": ""})
    with pytest.raises(UserError) as caught:
        load_config(Overrides(), cwd=tmp_path, environ={})
    assert caught.value.diagnostics[0].render().splitlines()[0] == message


def test_plain_toml_config_file(tmp_path: Path) -> None:
    write_files(tmp_path, {"sqlgen.toml": 'queries = "q.sql"\nout = "gen"\n', "q.sql": ""})
    config = load_config(Overrides(config=Path("sqlgen.toml")), cwd=tmp_path, environ={})
    assert config.out == tmp_path / "gen"


TYPES = {
    16: PgType(16, "pg_catalog", "bool", "b", 0, 0, False),
    114: PgType(114, "pg_catalog", "json", "b", 0, 0, False),
    199: PgType(199, "pg_catalog", "_json", "b", 114, 0, False),
    600: PgType(600, "pg_catalog", "point", "b", 0, 0, False),
    700: PgType(700, "public", "cube", "b", 0, 0, False, extension="cube"),
    9000: PgType(9000, "public", "positive_flag", "d", 0, 16, True),
}


def test_type_map() -> None:
    typemap = TypeMap(Catalog(TYPES, {}))
    assert typemap.of_type(16).annotation == "bool"
    assert typemap.of_type(9000).annotation == "bool"  # a domain is its base type
    json_array = typemap.of_type(199)
    assert json_array.annotation == "list[JsonDocument | None]"
    assert json_array.as_param() == "Sequence[JsonDocument | None]"
    assert json_array.decode == "[None if v is None else decode_json(v) for v in {}]"
    assert typemap.of_type(199, dimensions=2).decode == (
        "[[None if v is None else decode_json(v) for v in a1] for a1 in {}]"
    )
    without_null = typemap.of_type(199, nullable_elements=False)
    assert (without_null.annotation, without_null.as_param()) == ("list[JsonDocument]", "Sequence[JsonDocument]")
    assert without_null.decode == "[decode_json(v) for v in {}]"
    assert typemap.of_type(600).annotation == "asyncpg.Point"
    with pytest.raises(UnsupportedType) as caught:
        typemap.of_type(700)
    assert (caught.value.type_name, caught.value.override) == ("public.cube", "public.cube")
    with pytest.raises(UnsupportedType):
        typemap.of_type(12345)


def test_names() -> None:
    assert unique(["id", "id", "id_2", "name"]) == ["id", "id_2", "id_2_2", "name"]
    assert field_name("model_dump") == "model_dump_"
    assert field_name("json") == "json_"
    assert field_name("_private") == "private"


def test_a_missing_schema_path_is_located_at_its_key_with_what_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # paths are shown relative to the current folder
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[tool.sqlgen]\nqueries = "db/queries"\nschema = "db/schem"\nout = "gen"\n',
            "db/schema/001.sql": "",
            "db/queries/q.sql": "",
        },
    )
    with pytest.raises(UserError) as caught:
        load_config(Overrides(), cwd=tmp_path, environ={})
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.location is not None
    assert (diagnostic.location.path, diagnostic.location.line, diagnostic.location.column) == ("pyproject.toml", 3, 1)
    assert diagnostic.message == "schema path db/schem does not exist"
    assert (
        diagnostic.hint
        == "schema names schema files or folders, relative to the config file; db holds: queries/, schema/"
    )

    with pytest.raises(UserError) as flagged:
        load_config(
            Overrides(schema=("nowhere/x.sql",), queries=("db/queries/q.sql", "db/q2.sql")), cwd=tmp_path, environ={}
        )
    second, first = sorted(flagged.value.diagnostics, key=lambda d: d.message)  # every missing path, not the first
    assert first.location is None and first.message == "--schema nowhere/x.sql does not exist"
    assert first.hint is not None and first.hint.startswith("--schema paths are relative to the current folder; ")
    assert "db/" in first.hint and "pyproject.toml" in first.hint
    assert second.message == "--queries db/q2.sql does not exist"
