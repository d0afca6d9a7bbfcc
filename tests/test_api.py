"""sqlgen's Python API (`sqlgen.generate`, `sqlgen.check`): what build scripts call, on a real server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Project

import sqlgen
from sqlgen.errors import UserError
from sqlgen.output import read_output

SCHEMA = "CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL, tag text);\n"
QUERIES = """
-- name: GetNote :one
SELECT * FROM notes WHERE id = @id;

-- name: ListNotes :many
SELECT id, tag FROM notes ORDER BY id;

-- name: TagNote :execrows
UPDATE notes SET tag = @tag WHERE id = @id;
"""
CONFIG = '[tool.sqlgen]\nschema = "schema.sql"\nqueries = "queries.sql"\nout = "gen"\n'


@pytest.fixture
def api_project(project: Project) -> Project:
    project.write("pyproject.toml", CONFIG)
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", QUERIES)
    return project


def test_generate_writes_the_package_and_its_cache_as_the_command_does(api_project: Project) -> None:
    root = api_project.root
    [package] = sqlgen.generate(root)
    assert (package.name, package.out, package.queries, package.cached, package.changed) == (
        None,
        root / "gen",
        3,
        0,
        True,
    )
    assert read_output(root / "gen") == package.files
    assert "async def tag_note(" in package.files["queries.py"]
    assert json.loads((root / ".sqlgen/cache.json").read_text())["format"] == 2
    [again] = sqlgen.generate(root)
    assert (again.changed, again.cached, again.files) == (False, 3, package.files)


def test_check_writes_nothing_and_names_the_stale_files(api_project: Project) -> None:
    root = api_project.root
    [missing] = sqlgen.check(root)
    assert missing.changed and missing.stale == ("__init__.py", "models.py", "queries.py")
    assert sorted(p.name for p in root.iterdir()) == ["pyproject.toml", "queries.sql", "schema.sql"]
    sqlgen.generate(root)
    [fresh] = sqlgen.check(root)
    assert (fresh.changed, fresh.stale) == (False, ())
    api_project.write("queries.sql", QUERIES.replace("ORDER BY id", "ORDER BY id DESC"))
    cache = (root / ".sqlgen/cache.json").read_bytes()
    [stale] = sqlgen.check(root)
    assert stale.stale == ("queries.py",)
    assert (root / ".sqlgen/cache.json").read_bytes() == cache  # check learns nothing into the cache


def test_a_rejected_query_raises_a_located_user_error_and_writes_no_package(api_project: Project) -> None:
    root = api_project.root
    api_project.write("queries.sql", QUERIES + "\n-- name: Broken :many\nSELECT nobody FROM notes;\n")
    with pytest.raises(UserError) as rejected:
        sqlgen.generate(root)
    [error] = rejected.value.diagnostics
    assert (str(error.location), error.message) == ("queries.sql:11:8", 'column "nobody" does not exist')
    assert not (root / "gen").exists()
    assert len(json.loads((root / ".sqlgen/cache.json").read_text())["queries"]) == 3  # what checked is kept


def test_keep_going_returns_the_errors_with_the_package_of_what_checks(api_project: Project) -> None:
    root = api_project.root
    api_project.write("queries.sql", QUERIES + "\n-- name: Broken :many\nSELECT nobody FROM notes;\n")
    [package] = sqlgen.generate(root, keep_going=True)
    assert package.queries == 3 and [e.message for e in package.errors] == ['column "nobody" does not exist']
    assert "async def broken(" not in read_output(root / "gen")["queries.py"]


def test_offline_uses_the_cache_alone(api_project: Project) -> None:
    root = api_project.root
    with pytest.raises(UserError, match="--offline needs the describe cache"):
        sqlgen.generate(root, offline=True)
    [first] = sqlgen.generate(root)
    [offline] = sqlgen.check(root, offline=True)
    assert not offline.changed and offline.files == first.files


def test_importing_sqlgen_loads_neither_the_pipeline_nor_the_database_driver() -> None:
    probe = "import sys, sqlgen; print(sorted(m for m in ('psycopg', 'jinja2', 'sqlgen.api') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
    typed = "import sqlgen; print(sqlgen.generate.__module__, sqlgen.Package.__name__)"
    named = subprocess.run([sys.executable, "-c", typed], capture_output=True, text=True, check=True).stdout
    assert named.split() == ["sqlgen.api", "Package"]
    with pytest.raises(AttributeError):
        sqlgen.nothing_here  # noqa: B018


def test_the_api_is_clean_under_mypy_strict(tmp_path: Path) -> None:
    script = tmp_path / "build.py"
    script.write_text(
        "import sqlgen\n\n"
        "def build(folder: str) -> list[str]:\n"
        "    return [str(p.out) for p in sqlgen.generate(folder, keep_going=True) if not p.errors]\n\n"
        "def stale(folder: str) -> tuple[str, ...]:\n"
        "    return sqlgen.check(folder, offline=True)[0].stale\n"
    )
    typed = subprocess.run([sys.executable, "-m", "mypy", "--strict", str(script)], capture_output=True, text=True)
    assert typed.returncode == 0, typed.stdout


def test_every_failure_is_a_sqlgen_error_with_its_exit_code(api_project: Project) -> None:
    root = api_project.root
    api_project.write("pyproject.toml", CONFIG + "schemas = 1\n")
    with pytest.raises(sqlgen.SqlgenError) as config_error:
        sqlgen.generate(root)
    assert isinstance(config_error.value, sqlgen.UserError) and config_error.value.exit_code == 1
    [misspelt] = config_error.value.errors
    assert str(misspelt.location) == "pyproject.toml:5:1" and "schemas" in misspelt.message
    api_project.write("pyproject.toml", CONFIG)
    with pytest.raises(sqlgen.SqlgenError) as unreachable:
        sqlgen.generate(root, database_url="postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")
    assert isinstance(unreachable.value, sqlgen.ToolError) and unreachable.value.exit_code == 2
    assert [d.severity for d in unreachable.value.diagnostics] == ["error"]


def test_keep_going_leaves_out_a_query_whose_command_does_not_fit(api_project: Project) -> None:
    root = api_project.root
    api_project.write("queries.sql", QUERIES + "\n-- name: Nothing :batchexec\nDELETE FROM notes;\n")
    [package] = sqlgen.generate(root, keep_going=True)
    assert [e.message for e in package.errors] == ["query Nothing is :batchexec but has no parameters to run it over"]
    assert package.queries == 3 and "async def nothing(" not in read_output(root / "gen")["queries.py"]
