"""Schema sources in migration tools' layouts: only up migrations are applied, in the tool's order,
and errors point into the user's own files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Project, run_sqlgen, write_files

from sqlgen.config import Overrides, load_config
from sqlgen.errors import SourceText, UserError
from sqlgen.migrations import MigrationText, schema_layout, schema_statements, up_sections

# ---------------------------------------------------------------------------------------
# One file's up sections


def statements(text: str) -> list[str]:
    """The statements sqlgen would send for a schema file holding `text`."""
    file = up_sections(SourceText("m.sql", text))
    return [file.text[s[0].start : s[-1].end] for s in schema_statements(file)]


def error_lines(text: str) -> list[str]:
    with pytest.raises(UserError) as caught:
        up_sections(SourceText("m.sql", text))
    return [d.render().splitlines()[0] for d in caught.value.diagnostics]


def test_a_plain_file_is_left_as_it_is() -> None:
    file = SourceText("m.sql", "-- migrate this later\nCREATE TABLE t (a int);\n")
    assert up_sections(file) is file


def test_goose_up_section_only_with_offsets_kept() -> None:
    text = (
        "-- +goose Up\n"
        "-- +goose StatementBegin\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$\n"
        "-- +goose StatementEnd\n"
        "CREATE TABLE t (a int);\n"
        "-- +goose Down\n"
        "-- +goose StatementBegin\n"
        "DROP FUNCTION f()\n"
        "-- +goose StatementEnd\n"
        "DROP TABLE t;\n"
    )
    file = up_sections(SourceText("m.sql", text))
    assert isinstance(file, MigrationText) and file.tool == "goose"
    assert len(file.text) == len(text)
    assert [len(line) for line in file.text.split("\n")] == [len(line) for line in text.split("\n")]
    assert "DROP" not in file.text
    # StatementEnd ends the function's statement although it has no semicolon, as goose sends it.
    assert statements(text) == [
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
        "CREATE TABLE t (a int)",
    ]


def test_goose_markers_are_read_as_goose_reads_them() -> None:
    text = (
        "-- +goose NO TRANSACTION\n--   +goose   up\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
        "-- +goose DOWN\nDROP INDEX i;\n"
    )
    assert statements(text) == ["CREATE INDEX CONCURRENTLY i ON t (a)"]


def test_dbmate_sections_with_options() -> None:
    text = (
        "-- a comment first\n-- migrate:up transaction:false\nCREATE TABLE t (a int);\n\n"
        "-- migrate:down\nDROP TABLE t;\n"
    )
    assert statements(text) == ["CREATE TABLE t (a int)"]
    assert statements("-- migrate:up\nCREATE TABLE t (a int);\n") == ["CREATE TABLE t (a int)"]  # down is optional


def test_sql_migrate_sections_in_any_order() -> None:
    text = (
        "-- +migrate Down\nDROP TABLE b;\n"
        "-- +migrate Up notransaction\nCREATE TABLE a (x int);\n"
        "-- +migrate Down\nDROP TABLE a;\n"
        "-- +migrate Up\n-- +migrate StatementBegin\nCREATE TABLE b (x int)\n-- +migrate StatementEnd\n"
    )
    assert statements(text) == ["CREATE TABLE a (x int)", "CREATE TABLE b (x int)"]


def test_tern_separator() -> None:
    text = "CREATE TABLE t (a int);\nCREATE TABLE u (a int)\n---- create above / drop below ----\nDROP TABLE t, u;\n"
    assert statements(text) == ["CREATE TABLE t (a int)", "CREATE TABLE u (a int)"]


def test_a_down_section_is_never_lexed() -> None:
    # An unterminated string in a down section would be a lexing error if it were read.
    assert statements("-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 'oops;\n") == ["SELECT 1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "CREATE TABLE t (a int);\n-- +goose Down\nDROP TABLE t;\n",
            ["m.sql:2:1: error: `-- +goose Down` without `-- +goose Up`"],
        ),
        (
            "-- +migrate Down\nDROP TABLE t;\n",
            ["m.sql:1:1: error: `-- +migrate Down` without `-- +migrate Up`"],
        ),
        (
            "-- migrate:down\nDROP TABLE t;\n-- migrate:up\nCREATE TABLE t (a int);\n",
            ["m.sql:1:1: error: `-- migrate:down` before `-- migrate:up`"],
        ),
        (
            "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n-- +goose Up\nSELECT 3;\n",
            [
                "m.sql:5:1: error: `-- +goose Up` after `-- +goose Down`: goose reads everything after "
                "`-- +goose Down` as the down migration"
            ],
        ),
        ("-- +goose Up\nSELECT 1;\n-- +goose Up\n", ["m.sql:3:1: error: a second `-- +goose Up`"]),
        (
            "CREATE TABLE early (a int);\n-- migrate:up\nCREATE TABLE t (a int);\n",
            ["m.sql:1:1: error: statement before `-- migrate:up`, outside any section: dbmate would not apply it"],
        ),
        (
            "-- +goose Up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n",
            ["m.sql:3:1: error: this file mixes goose and dbmate migration markers"],
        ),
        (
            "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n",
            ["m.sql:2:1: error: `-- +goose StatementBegin` without `-- +goose StatementEnd`"],
        ),
        (
            "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose Down\n",
            ["m.sql:4:1: error: `-- +goose Down` inside a `-- +goose StatementBegin` block"],
        ),
        (
            "-- +migrate Up\nSELECT 1;\n-- +migrate StatementEnd\n",
            ["m.sql:3:1: error: `-- +migrate StatementEnd` without `-- +migrate StatementBegin`"],
        ),
        (
            "-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n",
            ["m.sql:1:1: error: a goose migration without `-- +goose Up`"],
        ),
        (
            "-- +goose ENVSUBST ON\n-- +goose Up\nCREATE ROLE ${ROLE};\n",
            ["m.sql:1:1: error: goose environment substitution (ENVSUBST ON) is not supported"],
        ),
    ],
)
def test_markers_that_make_no_sense_are_located(text: str, expected: list[str]) -> None:
    assert error_lines(text) == expected


def test_marker_errors_say_what_to_do() -> None:
    with pytest.raises(UserError) as caught:
        up_sections(SourceText("m.sql", "CREATE TABLE t (a int);\n-- +goose Down\nDROP TABLE t;\n"))
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.hint is not None and "add `-- +goose Up` above the statements" in diagnostic.hint
    assert diagnostic.source_line == "-- +goose Down"


# ---------------------------------------------------------------------------------------
# Folders


def names(paths: tuple[Path, ...], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_golang_migrate_down_files_are_skipped_and_versions_ordered(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "m/10_c.up.sql": "",
            "m/10_c.down.sql": "",
            "m/2_b.up.sql": "",
            "m/2_b.down.sql": "",
            "m/0001_a.up.sql": "",
        },
    )
    layout = schema_layout([tmp_path / "m"])
    assert names(layout.files, tmp_path) == ["m/0001_a.up.sql", "m/2_b.up.sql", "m/10_c.up.sql"]
    assert sorted(names(layout.skipped, tmp_path)) == ["m/10_c.down.sql", "m/2_b.down.sql"]


def test_a_listed_down_migration_is_an_error(tmp_path: Path) -> None:
    write_files(tmp_path, {"m/1_a.down.sql": "DROP TABLE a;"})
    with pytest.raises(UserError) as caught:
        schema_layout([tmp_path / "m/1_a.down.sql"])
    [diagnostic] = caught.value.diagnostics
    assert "1_a.down.sql is a down migration: sqlgen applies up migrations only" in diagnostic.message
    assert diagnostic.hint == "list the matching up migration, or the whole folder, instead"


def test_flyway_versions_then_repeatables_and_no_undo(tmp_path: Path) -> None:
    files = ["V1__a.sql", "V1_1__b.sql", "V1.2__c.sql", "V2__d.sql", "V10__e.sql", "U1_1__b.sql", "R__views.sql"]
    write_files(tmp_path, {f"f/{name}": "" for name in files})
    layout = schema_layout([tmp_path / "f"])
    # Name order would put V1_1__ before V1__ ("_" sorts before "__"); Flyway compares versions.
    assert names(layout.files, tmp_path) == [
        "f/V1__a.sql",
        "f/V1_1__b.sql",
        "f/V1.2__c.sql",
        "f/V2__d.sql",
        "f/V10__e.sql",
        "f/R__views.sql",
    ]
    assert names(layout.skipped, tmp_path) == ["f/U1_1__b.sql"]


def test_a_folder_with_other_files_is_plain_natural_order(tmp_path: Path) -> None:
    write_files(tmp_path, {"f/V1__a.sql": "", "f/setup.sql": "", "f/10_x.sql": "", "f/9_y.sql": ""})
    layout = schema_layout([tmp_path / "f"])
    assert names(layout.files, tmp_path) == ["f/9_y.sql", "f/10_x.sql", "f/V1__a.sql", "f/setup.sql"]


def test_one_folder_per_migration_diesel_and_prisma(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "diesel/00000000000000_diesel_initial_setup/up.sql": "",
            "diesel/00000000000000_diesel_initial_setup/down.sql": "",
            "diesel/2024-02-01-000000_b/up.sql": "",
            "diesel/2024-02-01-000000_b/down.sql": "",
            "diesel/2024-01-01-000000_a/up.sql": "",
            "diesel/2024-01-01-000000_a/down.sql": "",
            "prisma/migration_lock.toml": 'provider = "postgresql"\n',
            "prisma/20240201000000_b/migration.sql": "",
            "prisma/20240101000000_a/migration.sql": "",
        },
    )
    assert names(schema_layout([tmp_path / "diesel"]).files, tmp_path) == [
        "diesel/00000000000000_diesel_initial_setup/up.sql",
        "diesel/2024-01-01-000000_a/up.sql",
        "diesel/2024-02-01-000000_b/up.sql",
    ]
    assert names(schema_layout([tmp_path / "prisma"]).files, tmp_path) == [
        "prisma/20240101000000_a/migration.sql",
        "prisma/20240201000000_b/migration.sql",
    ]


SQITCH_PLAN = """%syntax-version=1.0.0
%project=books
# comments and pragmas are skipped

schema 2024-01-01T00:00:00Z Ann <ann@example.com> # the schema
authors [schema] 2024-01-02T00:00:00Z Ann <ann@example.com> # authors
@v1.0 2024-01-03T00:00:00Z Ann <ann@example.com> # first release
@v1.0.1 2024-01-03T00:00:00Z Ann <ann@example.com>
+add_bio [authors] 2024-02-01T00:00:00Z Ann <ann@example.com>
authors [authors@v1.0] 2024-03-01T00:00:00Z Ann <ann@example.com> # reworked
"""


def test_sqitch_plan_order_and_reworked_changes(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "db/sqitch.plan": SQITCH_PLAN,
            "db/deploy/schema.sql": "",
            "db/deploy/authors@v1.0.1.sql": "",  # `sqitch rework` keeps the earlier version under a tag's name
            "db/deploy/add_bio.sql": "",
            "db/deploy/authors.sql": "",
            "db/deploy/unplanned.sql": "",  # not in the plan: sqitch never deploys it
            "db/revert/authors.sql": "",
            "db/verify/authors.sql": "",
        },
    )
    expected = [
        "db/deploy/schema.sql",
        "db/deploy/authors@v1.0.1.sql",
        "db/deploy/add_bio.sql",
        "db/deploy/authors.sql",
    ]
    assert names(schema_layout([tmp_path / "db"]).files, tmp_path) == expected
    # The deploy folder itself reads the plan above it.
    assert names(schema_layout([tmp_path / "db/deploy"]).files, tmp_path) == expected


def test_sqitch_without_a_plan_is_name_order(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {"db/deploy/b.sql": "", "db/deploy/a.sql": "", "db/deploy/a@v1.sql": "", "db/revert/a.sql": ""},
    )
    assert names(schema_layout([tmp_path / "db"]).files, tmp_path) == ["db/deploy/a.sql", "db/deploy/b.sql"]


def test_sqitch_plan_problems_are_located_in_the_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_files(
        tmp_path,
        {
            "db/sqitch.plan": SQITCH_PLAN.replace("+add_bio", "-add_bio"),
            "db/deploy/schema.sql": "",
            "db/deploy/authors.sql": "",
        },
    )
    with pytest.raises(UserError) as caught:
        schema_layout([tmp_path / "db"])
    assert [d.render().splitlines()[0] for d in caught.value.diagnostics] == [
        "db/sqitch.plan:6:1: error: change authors is reworked later in the plan, but its earlier version "
        "db/deploy/authors@v1.0.sql does not exist",
        "db/sqitch.plan:9:1: error: sqitch plan entry '-add_bio' reverts a change, which sqlgen does not support",
    ]
    write_files(tmp_path, {"db/sqitch.plan": "schema 2024-01-01T00:00:00Z Ann <ann@example.com>\nmissing\n"})
    with pytest.raises(UserError) as caught:
        schema_layout([tmp_path / "db"])
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.render().splitlines()[0] == (
        "db/sqitch.plan:2:1: error: change missing: db/deploy/missing.sql does not exist"
    )
    assert diagnostic.hint == "add the deploy script, or remove the change from the plan"


def test_a_folder_of_queries_and_migrations_skips_down_migrations(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {"db/1_a.up.sql": "", "db/1_a.down.sql": "", "db/queries.sql": "", "db/V1__x.txt": ""},
    )
    config = load_config(
        Overrides(schema=("db/1_a.up.sql", "db"), queries=("db",), out="gen"), cwd=tmp_path, environ={}
    )
    assert [p.name for p in config.schema_files()] == ["1_a.up.sql", "queries.sql"]
    config = load_config(Overrides(schema=("db/1_a.up.sql",), queries=("db",), out="gen"), cwd=tmp_path, environ={})
    assert [p.name for p in config.query_files()] == ["1_a.down.sql", "queries.sql"]
    config = load_config(Overrides(schema=("db",), queries=("db",), out="gen"), cwd=tmp_path, environ={})
    assert config.query_files() == []


# ---------------------------------------------------------------------------------------
# End to end: `sqlgen generate` on the embedded server, one project per layout

AUTHORS = "CREATE TABLE authors (id bigint PRIMARY KEY, name text NOT NULL);"
DROP_AUTHORS = "DROP TABLE authors;"
BIO = "ALTER TABLE authors ADD COLUMN bio text;"
DROP_BIO = "ALTER TABLE authors DROP COLUMN bio;"
QUERY = "-- name: GetAuthor :one\nSELECT id, name, bio FROM authors WHERE id = @id;\n"

# Each layout builds authors, then adds bio (in a later migration whose name sorts first
# or is out of plain name order where the layout allows it); every down script drops them.
LAYOUTS: dict[str, tuple[str, dict[str, str]]] = {
    "goose": (
        "db",
        {
            "db/2_authors.sql": f"-- +goose Up\n{AUTHORS}\n\n-- +goose Down\n{DROP_AUTHORS}\n",
            "db/10_bio.sql": (
                "-- +goose Up\n-- +goose StatementBegin\n"
                "CREATE FUNCTION author_label(a authors) RETURNS text LANGUAGE sql AS $$ SELECT a.name $$\n"
                f"-- +goose StatementEnd\n{BIO}\n"
                f"-- +goose Down\n-- +goose StatementBegin\nDROP FUNCTION author_label\n-- +goose StatementEnd\n"
                f"{DROP_BIO}\n"
            ),
        },
    ),
    "dbmate": (
        "db/migrations",
        {
            "db/migrations/20240101000000_authors.sql": (
                f"-- migrate:up\n{AUTHORS}\n\n-- migrate:down\n{DROP_AUTHORS}\n"
            ),
            "db/migrations/20240201000000_bio.sql": (
                f"-- migrate:up transaction:false\n{BIO}\n\n-- migrate:down\n{DROP_BIO}\n"
            ),
        },
    ),
    "golang-migrate": (
        "db",
        {
            "db/2_authors.up.sql": AUTHORS,
            "db/2_authors.down.sql": DROP_AUTHORS,
            "db/10_bio.up.sql": BIO,
            "db/10_bio.down.sql": DROP_BIO,
        },
    ),
    "sql-migrate": (
        "db",
        {
            "db/2_authors.sql": f"-- +migrate Up\n{AUTHORS}\n\n-- +migrate Down\n{DROP_AUTHORS}\n",
            "db/10_bio.sql": f"-- +migrate Down\n{DROP_BIO}\n\n-- +migrate Up notransaction\n{BIO}\n",
        },
    ),
    "tern": (
        "db",
        {
            "db/002_authors.sql": f"{AUTHORS}\n---- create above / drop below ----\n{DROP_AUTHORS}\n",
            "db/010_bio.sql": f"{BIO}\n\n---- create above / drop below ----\n\n{DROP_BIO}\n",
        },
    ),
    "sqitch": (
        "db",
        {
            "db/sqitch.conf": "[core]\n\tengine = pg\n",
            "db/sqitch.plan": (
                "%syntax-version=1.0.0\n%project=books\n\n"
                "authors 2024-01-01T00:00:00Z Ann <ann@example.com> # authors\n"
                "add_bio [authors] 2024-02-01T00:00:00Z Ann <ann@example.com> # bio\n"
            ),
            "db/deploy/authors.sql": f"-- Deploy books:authors to pg\nBEGIN;\n{AUTHORS}\nCOMMIT;\n",
            "db/deploy/add_bio.sql": f"-- Deploy books:add_bio to pg\n-- requires: authors\nBEGIN;\n{BIO}\nCOMMIT;\n",
            "db/revert/authors.sql": DROP_AUTHORS,
            "db/revert/add_bio.sql": DROP_BIO,
            "db/verify/add_bio.sql": DROP_BIO,
        },
    ),
    "flyway": (
        "db",
        {
            "db/V1__authors.sql": AUTHORS,
            "db/V1_1__bio.sql": BIO,
            "db/U1_1__bio.sql": DROP_BIO,
            "db/R__author_names.sql": "CREATE OR REPLACE VIEW author_names AS SELECT name, bio FROM authors;",
        },
    ),
    "diesel": (
        "migrations",
        {
            "migrations/2024-01-01-000000_authors/up.sql": AUTHORS,
            "migrations/2024-01-01-000000_authors/down.sql": DROP_AUTHORS,
            "migrations/2024-02-01-000000_bio/up.sql": BIO,
            "migrations/2024-02-01-000000_bio/down.sql": DROP_BIO,
        },
    ),
    "prisma": (
        "prisma/migrations",
        {
            "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
            "prisma/migrations/20240101000000_authors/migration.sql": AUTHORS,
            "prisma/migrations/20240201000000_bio/migration.sql": BIO,
        },
    ),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_generate_applies_up_migrations_only(tmp_path: Path, layout: str) -> None:
    schema, files = LAYOUTS[layout]
    write_files(tmp_path, {**files, "q.sql": QUERY})
    result = run_sqlgen("generate", "--schema", schema, "--queries", "q.sql", "--out", "gen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    models = (tmp_path / "gen/models.py").read_text()
    # bio comes from an up migration that a down migration drops again.
    assert "class Author(BaseModel):" in models and "    bio: str | None\n" in models
    assert (
        "async def get_author(conn: Executor, /, *, id: int) -> models.Author | None:"
        in (tmp_path / "gen/q.py").read_text()
    )


def test_generate_locates_an_error_in_an_up_section(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "db/1_authors.sql": f"-- +goose Up\n{AUTHORS}\n-- +goose Down\n{DROP_AUTHORS}\n",
            "db/2_bio.sql": (
                "-- +goose Up\n"
                "-- +goose StatementBegin\n"
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$\n"
                "-- +goose StatementEnd\n"
                "ALTER TABLE authors\n"
                "    ADD COLUMN bio nosuchtype;\n"
                "-- +goose Down\n"
                f"{DROP_BIO}\n"
            ),
            "q.sql": QUERY,
        },
    )
    result = run_sqlgen("generate", "--schema", "db", "--queries", "q.sql", "--out", "gen", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:3] == [
        'db/2_bio.sql:6:20: error: type "nosuchtype" does not exist',
        "        ADD COLUMN bio nosuchtype;",
        "                       ^",
    ]
    assert "Traceback" not in result.stderr


def test_generate_reports_a_marker_mistake(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {"db/1_authors.sql": f"{AUTHORS}\n-- migrate:down\n{DROP_AUTHORS}\n", "q.sql": QUERY},
    )
    result = run_sqlgen("generate", "--schema", "db", "--queries", "q.sql", "--out", "gen", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "db/1_authors.sql:2:1: error: `-- migrate:down` without `-- migrate:up`",
        "    -- migrate:down",
        "    ^",
        "  hint: add `-- migrate:up` above the statements that build the schema: sqlgen applies only up sections",
        "sqlgen: 1 error; nothing was written",
    ]
    assert not (tmp_path / "gen").exists()


# ---------------------------------------------------------------------------------------
# Error positions in each marked format (on the session's server)


@pytest.mark.parametrize(
    ("text", "location", "line"),
    [
        (
            "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$\n"
            "-- +goose StatementEnd\nCREATE TABLE t (\n    id int,\n    b nosuchtype\n);\n"
            "-- +goose Down\nDROP TABLE t;\n",
            "m.sql:7:7",
            "    b nosuchtype",
        ),
        (
            "-- +migrate Down\nDROP TABLE t;\n\n-- +migrate Up\nCREATE TABLE t (id int, b nosuchtype);\n",
            "m.sql:5:27",
            "CREATE TABLE t (id int, b nosuchtype);",
        ),
        (
            "-- migrate:up\nCREATE TABLE t (id int);\nCREATE TABLE u (b nosuchtype);\n-- migrate:down\nDROP TABLE t;\n",
            "m.sql:3:19",
            "CREATE TABLE u (b nosuchtype);",
        ),
        (
            "CREATE TABLE t (id int);\n\tCREATE TABLE u (b nosuchtype);\n"
            "---- create above / drop below ----\nDROP TABLE t;\n",
            "m.sql:2:20",
            "\tCREATE TABLE u (b nosuchtype);",
        ),
    ],
    ids=["goose", "sql-migrate", "dbmate", "tern"],
)
def test_schema_errors_point_into_the_original_file(project: Project, text: str, location: str, line: str) -> None:
    project.write("m.sql", text)
    project.write("queries.sql", "-- name: Q :one\nSELECT 1;")
    [rendered] = project.errors(schema=("m.sql",))
    assert rendered.splitlines()[0] == f'{location}: error: type "nosuchtype" does not exist'
    assert rendered.splitlines()[1] == "    " + line.expandtabs(1)


def test_an_unterminated_up_statement_ends_at_the_down_marker(project: Project) -> None:
    project.write(
        "m.sql",
        "-- +migrate Up\nCREATE TABLE t (id int\n-- +migrate Down\nDROP TABLE t;\n"
        "-- +migrate Up\nCREATE TABLE u (id int);\n",
    )
    project.write("queries.sql", "-- name: Q :one\nSELECT 1;")
    [rendered] = project.errors(schema=("m.sql",))
    assert rendered.splitlines()[0] == "m.sql:2:23: error: syntax error at end of input"


def test_down_sections_are_not_applied(project: Project) -> None:
    # The down section would fail (and drop the table) if it ran.
    project.write(
        "m.sql",
        "-- +goose Up\nCREATE TABLE t (id int, note text);\n-- +goose Down\nDROP TABLE t;\nSELECT * FROM nowhere;\n",
    )
    project.write("queries.sql", "-- name: GetNote :one\nSELECT note FROM t WHERE id = @id;")
    output = project.generate(schema=("m.sql",))
    assert "async def get_note(conn: Executor, /, *, id: int) -> str | None:" in output["queries.py"]


# Applying migrations the way their tools do (issue 16 §3)

TABLE = "CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);\n"
LOCKED = "LOCK TABLE authors IN ACCESS EXCLUSIVE MODE;\nALTER TABLE authors ADD COLUMN bio text;\n"
CONCURRENT = "CREATE INDEX CONCURRENTLY authors_name ON authors (name);\n"
# Per tool: (a migration run in one transaction, one that opts out of it)
TRANSACTIONS = {
    "goose": (
        f"-- +goose Up\n{LOCKED}-- +goose Down\nSELECT 1;\n",
        f"-- +goose NO TRANSACTION\n-- +goose Up\n{CONCURRENT}",
    ),
    "sql-migrate": (
        f"-- +migrate Up\n{LOCKED}-- +migrate Down\nSELECT 1;\n",
        f"-- +migrate Up notransaction\n{CONCURRENT}",
    ),
    "dbmate": (
        f"-- migrate:up\n{LOCKED}\n-- migrate:down\nSELECT 1;\n",
        f"-- migrate:up transaction:false\n{CONCURRENT}",
    ),
}


@pytest.mark.parametrize("tool", sorted(TRANSACTIONS))
def test_a_migration_runs_in_one_transaction_unless_it_opts_out(project: Project, tool: str) -> None:
    """`LOCK TABLE` works only in a transaction block; `CREATE INDEX CONCURRENTLY` only outside one."""
    locked, concurrent = TRANSACTIONS[tool]
    project.write("db/1_authors.sql", TABLE)
    project.write("db/2_locked.sql", locked)
    project.write("db/3_concurrent.sql", concurrent)
    project.write("queries.sql", QUERY)
    output = project.generate(schema=("db",))
    assert "    bio: str | None\n" in output["models.py"]


def test_a_failing_migration_in_a_transaction_is_located(project: Project) -> None:
    project.write("db/1.sql", "-- +goose Up\nCREATE TABLE a (id int);\nCREATE TABLE b (id nosuchtype);\n")
    project.write("queries.sql", "-- name: A :many\nSELECT id FROM a;\n")
    [error] = project.errors(schema=("db",))
    assert error.splitlines()[0] == 'db/1.sql:3:20: error: type "nosuchtype" does not exist'


BOOKKEEPING = {
    "golang-migrate": ("db/1_audit.up.sql", "", "schema_migrations"),
    "goose": ("db/1_audit.sql", "-- +goose Up\n", "goose_db_version"),
    "sql-migrate": ("db/1_audit.sql", "-- +migrate Up\n", "gorp_migrations"),
    "dbmate": ("db/1_audit.sql", "-- migrate:up\n", "schema_migrations"),
}


@pytest.mark.parametrize("tool", sorted(BOOKKEEPING))
def test_the_tools_own_table_exists_before_the_first_migration(project: Project, tool: str) -> None:
    path, marker, table = BOOKKEEPING[tool]
    project.write(
        path,
        f"{marker}CREATE TABLE migration_log (at timestamptz NOT NULL DEFAULT now());\n"
        f"CREATE FUNCTION log_migration() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN INSERT INTO migration_log DEFAULT VALUES; RETURN NEW; END $$;\n"
        f"CREATE TRIGGER logged AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION log_migration();\n",
    )
    project.write("queries.sql", f"-- name: Applied :many\nSELECT * FROM {table};\n")
    assert "async def applied(" in project.generate(schema=("db",))["queries.py"]


def test_tables_no_migration_mentions_are_not_created(project: Project) -> None:
    project.write("db/1_authors.up.sql", TABLE)
    project.write("queries.sql", QUERY.replace("id, name, bio", "id, name"))
    assert "SchemaMigration" not in project.generate(schema=("db",))["models.py"]


PG_DUMP = """\
--
-- PostgreSQL database dump
--

\\restrict 5Ad9b0Zq3oYkMcT

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;

CREATE TABLE public.authors (
    id integer NOT NULL,
    name text NOT NULL
);

ALTER TABLE ONLY public.authors
    ADD CONSTRAINT authors_pkey PRIMARY KEY (id);

\\unrestrict 5Ad9b0Zq3oYkMcT
"""


def test_pg_dump_output_applies_and_queries_are_described_in_a_fresh_session(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {"schema.sql": PG_DUMP, "q.sql": "-- name: GetAuthor :one\nSELECT id, name FROM authors WHERE id = @id;\n"},
    )
    result = run_sqlgen("generate", "--schema", "schema.sql", "--queries", "q.sql", "--out", "gen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        "async def get_author(conn: Executor, /, *, id: int) -> models.Author | None:"
        in (tmp_path / "gen/q.py").read_text()
    )
    assert "note" not in result.stderr  # \restrict and \unrestrict change nothing sqlgen needs


PG_DUMP_OF_A_NEW_PUBLIC = """\
\\restrict 5Ad9b0Zq3oYkMcT
\\connect app
SELECT pg_catalog.set_config('search_path', '', false);

--
-- Name: public; Type: SCHEMA; Schema: -; Owner: pg_database_owner
--

CREATE SCHEMA public;
ALTER SCHEMA public OWNER TO pg_database_owner;
COMMENT ON SCHEMA public IS 'standard public schema';
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;

CREATE TABLE public.authors (
    id integer NOT NULL,
    name text NOT NULL
);

\\unrestrict 5Ad9b0Zq3oYkMcT
"""


def test_pg_dump_output_that_creates_the_public_schema_applies(tmp_path: Path) -> None:
    query = "-- name: GetAuthor :one\nSELECT id, digest(name, 'sha256') AS hash FROM authors WHERE id = @id;\n"
    write_files(tmp_path, {"schema.sql": PG_DUMP_OF_A_NEW_PUBLIC, "q.sql": query})
    result = run_sqlgen("generate", "--schema", "schema.sql", "--queries", "q.sql", "--out", "gen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # CREATE SCHEMA public: every new database has it already
    assert "async def get_author(conn: Executor, /, *, id: int) -> GetAuthorRow | None:" in (
        (tmp_path / "gen/q.py").read_text()
    )
    assert "    hash: bytes | None\n" in (tmp_path / "gen/q.py").read_text()
    assert "schema.sql:2:1: note: psql meta-command `\\connect app` skipped" in result.stderr


def test_create_schema_public_still_fails_where_postgresql_would_not_skip_it(project: Project) -> None:
    project.write("schema.sql", "CREATE SCHEMA public CREATE TABLE t (id int);\n")
    project.write("queries.sql", "-- name: One :one\nSELECT 1 AS one;\n")
    assert [e.splitlines()[0] for e in project.errors()] == ['schema.sql:1:1: error: schema "public" already exists']


def test_psql_meta_commands_that_matter_get_a_note(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "schema.sql": "\\connect app\nCREATE TABLE t (id int);\n  \\i more.sql\n",
            "q.sql": "-- name: Ids :many\nSELECT id FROM t;\n",
        },
    )
    result = run_sqlgen("generate", "--schema", "schema.sql", "--queries", "q.sql", "--out", "gen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        "schema.sql:1:1: note: psql meta-command `\\connect app` skipped: sqlgen applies every schema file to one "
        "database" in result.stderr
    )
    assert "schema.sql:3:3: note: psql meta-command `\\i more.sql` skipped: sqlgen does not read the included " in (
        result.stderr
    )


def test_a_backslash_inside_a_string_or_function_body_is_kept() -> None:
    text = "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$\n\\x\n$$;\nSELECT E'\n\\\\n';\n"
    from sqlgen.migrations import without_psql_commands

    assert without_psql_commands(SourceText("s.sql", text)).text == text


def test_annotated_queries_in_a_schema_file_are_not_applied(project: Project) -> None:
    project.write(
        "schema.sql",
        """
        CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);
        -- name: AddAuthor :exec
        INSERT INTO authors (id, name) VALUES ($1, $2);
        /* name: CountAuthors :one */
        SELECT count(*) FROM authors WHERE name = @name;
        CREATE INDEX authors_name ON authors (name);
        """,
    )
    from sqlgen.migrations import read_schema

    file = read_schema(project.root / "schema.sql")
    applied = [file.text[s[0].start : s[-1].end].split()[0:2] for s in schema_statements(file)]
    assert applied == [["CREATE", "TABLE"], ["CREATE", "INDEX"]]


STANDIN_QUERIES = """\
-- name: Hashes :one
SELECT digest(@data::text, 'sha256') AS sha, digest(@raw::bytea, 'md5') AS md5,
       crypt(@password::text, gen_salt('bf')) AS crypted,
       gen_random_uuid() AS random_id, uuid_generate_v4() AS v4;
-- name: Login :one
SELECT id FROM users WHERE email = @email AND password_hash = crypt(@password, password_hash);
"""


def test_pgcrypto_and_uuid_ossp_types_are_exact(project: Project) -> None:
    project.write(
        "schema.sql",
        """
        CREATE EXTENSION IF NOT EXISTS pgcrypto;
        CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;
        CREATE TABLE users (
            id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
            email text NOT NULL,
            password_hash text NOT NULL DEFAULT crypt('', gen_salt('md5'))
        );
        """,
    )
    project.write("queries.sql", STANDIN_QUERIES)
    module = project.generate()["queries.py"]
    for field in ("sha: bytes", "md5: bytes", "crypted: str", "random_id: uuid.UUID", "v4: uuid.UUID"):
        assert f"    {field}" in module
    assert "async def login(conn: Executor, /, *, email: str, password: str) -> uuid.UUID | None:" in module
