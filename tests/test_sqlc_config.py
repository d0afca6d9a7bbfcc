"""Reading sqlc's configuration and `[tool.sqlgen]` packages: paths, globs, options, notes, positions (no database)."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlgen.config import Overrides, load_config, load_configs, toml_positions
from sqlgen.errors import SourceText, UserError
from sqlgen.table_names import TableNaming, singular
from tests.conftest import write_files

SCHEMA = {"db/schema.sql": "CREATE TABLE t (a int);\n"}


def configs(root: Path, **overrides: object) -> list:  # type: ignore[type-arg]
    return list(load_configs(Overrides(**overrides), cwd=root, environ={}))  # type: ignore[arg-type]


def modules(config: object) -> list[tuple[str, str]]:
    root = config.root  # type: ignore[attr-defined]
    return [(p.relative_to(root).as_posix(), m) for p, m in config.query_modules()]  # type: ignore[attr-defined]


def test_globs_are_expanded_as_sqlc_expands_them(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            **SCHEMA,
            "sqlc.yaml": 'version: "2"\nsql:\n  - engine: postgresql\n    schema: db/schema.sql\n'
            '    queries: ["*/queries.sql", "more/**", "deep/x/queries/*.sql", "folder"]\n'
            "    gen: {go: {package: app, out: internal/app}}\n",
            "users/queries.sql": "",
            "orders/queries.sql": "",
            "orders/nested/queries.sql": "",  # `*` stays within one folder
            "more/a.sql": "",
            "more/sub/b.sql": "",  # `**` acts as `*`, and matches the folder more/sub
            "deep/x/queries/c.sql": "",
            "deep/x/queries/c.down.sql": "",
            "folder/d.sql": "",
            "folder/.hidden.sql": "",
            "folder/notes.txt": "",
            "folder/sub/e.sql": "",  # a folder means its own .sql files, as in sqlc
        },
    )
    (config,) = configs(tmp_path)
    assert modules(config) == [
        ("orders/queries.sql", "orders_queries"),
        ("users/queries.sql", "users_queries"),
        ("more/a.sql", "a"),
        ("more/sub/b.sql", "sub_b"),  # `more/**` matched the folder more/sub: its files are read
        ("deep/x/queries/c.sql", "c"),
        ("folder/d.sql", "d"),
    ]
    assert config.out == tmp_path / "generated" / "app"
    assert config.name == "app"


def test_a_queries_folder_is_read_with_its_subfolders(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[tool.sqlgen]\nschema = "queries/schema"\nqueries = "queries"\nout = "gen"\n',
            "queries/schema/001.sql": "CREATE TABLE t (a int);\n",
            "queries/authors.sql": "",
            "queries/admin/users.sql": "",
            "queries/admin/2_b.sql": "",
            "queries/admin/10_a.sql": "",
            "queries/.drafts/x.sql": "",
        },
    )
    config = load_config(Overrides(), cwd=tmp_path, environ={})
    assert modules(config) == [  # in natural order of their paths; the schema folder is not read
        ("queries/admin/2_b.sql", "admin_2_b"),
        ("queries/admin/10_a.sql", "admin_10_a"),
        ("queries/admin/users.sql", "admin_users"),
        ("queries/authors.sql", "authors"),
    ]


def test_version_one_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    document = {
        "version": "1",
        "packages": [
            {"name": "db", "path": "internal/db", "engine": "postgresql", "schema": "db", "queries": "q.sql"},
            {"name": "lite", "path": "lite", "engine": "sqlite", "schema": "x", "queries": "y"},
        ],
        "rename": {"t": "Thing"},
        "overrides": [{"db_type": "uuid", "go_type": "github.com/google/uuid.UUID"}],
    }
    text = json.dumps(document, indent="\t")  # sqlc.json files are often indented with tabs
    write_files(tmp_path, {**SCHEMA, "sqlc.json": text, "q.sql": ""})
    (config,) = configs(tmp_path)
    assert config.name == "db" and config.out == tmp_path / "generated" / "db"
    assert config.naming.model_name("public", "t") == "Thing"
    assert [(n.severity, str(n.location), n.message) for n in config.notes] == [
        (
            "note",
            "sqlc.json:23:3",
            "1 Go type override ignored: sqlgen's Python types come from PostgreSQL's"
            " (add `py_type` for a Python type of your own)",
        ),
        ("note", "sqlc.json:11:3", "packages[1] is skipped: its engine is 'sqlite', and sqlgen reads PostgreSQL's"),
    ]


def test_overrides_rename_exact_names_and_database_uri(tmp_path: Path) -> None:
    yaml = """\
version: "2"
overrides:
  go:
    rename:
      t: Global
sql:
  - engine: postgresql
    schema: db/schema.sql
    queries: q.sql
    database:
      uri: postgresql://u@localhost/${DB_NAME}
    gen:
      go:
        package: app
        out: app
        emit_exact_table_names: true
        overrides:
          - db_type: pg_catalog.int4
            py_type: {import: decimal, type: Decimal}
          - column: "t.a"
            py_type: int
          - column: "*.created_at"
            py_type: int
          - db_type: "timestamptz"
            nullable: true
            go_type: time.Time
"""
    write_files(tmp_path, {**SCHEMA, "sqlc.yaml": yaml, "q.sql": ""})
    (config,) = load_configs(Overrides(), cwd=tmp_path, environ={"DB_NAME": "shop"})
    assert config.database_url == "postgresql://u@localhost/shop"
    assert [(o.target, o.python_type) for o in config.overrides] == [
        ("pg_catalog.int4", "decimal.Decimal"),
        ("public.t.a", "int"),
    ]
    assert config.overrides[1].location is not None and config.overrides[1].location.line == 20
    assert config.naming.exact and config.naming.model_name("public", "t") == "Global"
    messages = [n.message for n in config.notes]
    assert "column override '*.created_at' ignored: sqlgen overrides name one column, without patterns" in messages
    assert any(m.startswith("1 Go type override ignored") for m in messages)
    (unset,) = load_configs(Overrides(), cwd=tmp_path, environ={})
    assert unset.database_url is None  # ${DB_NAME} unset: the embedded server, with a note


def test_explicit_config_flag_reads_yaml(tmp_path: Path) -> None:
    yaml = 'version: "2"\nsql:\n  - engine: postgresql\n    schema: db/schema.sql\n    queries: q.sql\n'
    write_files(tmp_path, {**SCHEMA, "conf/sqlc.yaml": yaml.replace("db/", "../db/").replace("q.sql", "../q.sql")})
    write_files(tmp_path, {"q.sql": "", "pyproject.toml": '[tool.sqlgen]\nqueries = "q.sql"\nout = "own"\n'})
    (config,) = configs(tmp_path, config=Path("conf/sqlc.yaml"))
    assert config.out == tmp_path / "conf" / "generated" / "package_1"  # relative to the file
    (own,) = configs(tmp_path)  # [tool.sqlgen] wins over a sqlc file when both are there
    assert own.out == tmp_path / "own"


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        (
            "version: '2'\nsql: [\n",
            "sqlc.yaml:3:1: error: invalid YAML: expected the node content, but found '<stream end>'",
        ),
        ("sql: []\n", "sqlc.yaml:1:1: error: the sqlc configuration has no version"),
        (
            "version: '2'\nsql:\n  - engine: postgresql\n    schema: nowhere.sql\n    queries: q.sql\n",
            "sqlc.yaml:4:13: error: nowhere.sql does not exist",
        ),
        ("version: '2'\nsql:\n  - engine: mysql\n", "error: sqlc.yaml has no PostgreSQL package"),
    ],
)
def test_sqlc_config_errors_are_located(
    tmp_path: Path, yaml: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {"sqlc.yaml": yaml, "q.sql": ""})
    with pytest.raises(UserError) as caught:
        configs(tmp_path)
    assert caught.value.diagnostics[0].render().splitlines()[0] == message


PACKAGES = """\
[tool.other]
querys = 1

[tool.sqlgen]
validate = true

[[tool.sqlgen.packages]]
name = "app"
schema = "db/schema.sql"
queries = "q.sql"
out = "gen/app"

[[tool.sqlgen.packages]]
name = "admin"
schema = "db/schema.sql"
queries = "q.sql"
out = "gen/admin"
exact_table_names = true

[tool.sqlgen.packages.overrides]
"public.t.a" = "decimal.Decimal"
"""


def test_several_packages_in_pyproject(tmp_path: Path) -> None:
    write_files(tmp_path, {**SCHEMA, "pyproject.toml": PACKAGES, "q.sql": ""})
    app, admin = configs(tmp_path)
    assert (app.name, app.out, app.models.validate, app.overrides) == ("app", tmp_path / "gen/app", True, ())
    assert (admin.name, admin.naming.exact, admin.cache) == ("admin", True, tmp_path / ".sqlgen/cache-admin.json")
    assert admin.overrides[0].location is not None and admin.overrides[0].location.line == 21
    with pytest.raises(UserError, match="configures 2 packages"):
        load_config(Overrides(), cwd=tmp_path, environ={})
    (flagged_app, flagged_admin) = configs(tmp_path, out="elsewhere")
    assert flagged_admin.out == tmp_path / "elsewhere" / "admin"


def test_a_shared_key_mistake_is_reported_once(tmp_path: Path) -> None:
    write_files(
        tmp_path, {**SCHEMA, "pyproject.toml": PACKAGES.replace("validate = true", "validat = true"), "q.sql": ""}
    )
    with pytest.raises(UserError) as caught:
        configs(tmp_path)
    assert [(d.message, d.location and d.location.line, d.hint) for d in caught.value.diagnostics] == [
        ("unknown key 'validat' in [tool.sqlgen]", 5, "did you mean 'validate'?")
    ]


def test_a_misspelt_key_is_located_at_itself_and_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = PACKAGES.replace('name = "admin"\n', 'name = "admin"\nquerys = "q.sql"\n')
    write_files(tmp_path, {**SCHEMA, "pyproject.toml": text, "q.sql": ""})
    with pytest.raises(UserError) as caught:
        configs(tmp_path)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.render().splitlines() == [
        "pyproject.toml:15:1: error: unknown key 'querys' in [[tool.sqlgen.packages]]",  # not [tool.other]'s line 2
        '    querys = "q.sql"',
        "    ^",
        "  hint: did you mean 'queries'?",
    ]


_BARE = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=8)
_QUOTED = st.text(
    st.characters(codec="utf-8", exclude_characters='"\\\n\r\x7f', exclude_categories=["Cc", "Cs"]), max_size=8
)


@settings(max_examples=60, deadline=None)
@given(
    tables=st.lists(
        st.tuples(_BARE, st.lists(st.tuples(st.booleans(), _BARE, _QUOTED), min_size=1, max_size=4)),
        min_size=1,
        max_size=4,
        unique_by=lambda t: t[0],
    )
)
def test_toml_positions_point_at_each_key(tables: list[tuple[str, list[tuple[bool, str, str]]]]) -> None:
    lines: list[str] = []
    expected: dict[tuple[str | int, ...], tuple[int, str]] = {}
    for table, keys in tables:
        lines.append(f"[{table}]")
        seen = set()
        for quoted, bare, text in keys:
            key = text if quoted else bare
            if key in seen:
                continue
            seen.add(key)
            written = json.dumps(key, ensure_ascii=False) if quoted else bare
            lines.append(
                f'{written} = """multi\n[not.a.table]\nx = 1"""' if len(seen) % 2 else f"{written} = [\n  1,\n]"
            )
            expected[(table, key)] = (len("\n".join(lines[:-1]).split("\n")) + 1 if len(lines) > 1 else 1, written)
    text = "\n".join(lines) + "\n"
    positions = toml_positions(SourceText("f.toml", text))
    source = SourceText("f.toml", text)
    for key, (line, written) in expected.items():
        assert positions[key].line == line
        assert source.line_text(line)[positions[key].column - 1 :].startswith(written)
    assert not any(k[-1] == "x" and k[0] == "not" for k in positions)  # inside a multi-line string


def test_sqlc_singular_names() -> None:
    cases = {"campus": "campus", "meta": "meta", "metadata": "metadata", "calories": "calorie", "waves": "wave"}
    cases |= {"data": "datum", "people": "person", "order_items": "order_item", "statuses": "status"}
    assert {word: singular(word) for word in cases} == cases
    assert singular("Settings", ("settings",)) == "Settings"
    assert TableNaming().model_name("billing", "v1_dag_data") == "BillingV1DagDatum"
    assert TableNaming(exact=True).model_name("public", "v1_dag_data") == "V1DagData"


def test_listed_files_with_one_name_take_their_folders(tmp_path: Path) -> None:
    yaml = (
        'version: "2"\nsql:\n  - engine: postgresql\n    schema: db/schema.sql\n'
        "    queries: [alert/queries.sql, user/queries.sql, user/x/queries.sql, a.sql]\n"
    )
    write_files(
        tmp_path,
        {**SCHEMA, "sqlc.yaml": yaml, "alert/queries.sql": "", "user/queries.sql": "", "user/x/queries.sql": ""},
    )
    write_files(tmp_path, {"a.sql": ""})
    (config,) = configs(tmp_path)
    assert [m for _, m in config.query_modules()] == ["alert_queries", "user_queries", "x_queries", "a"]


_SEGMENT = st.sampled_from(["a", "b", "a_b", "A", "queries", "q-1", "é", "1x"])


@settings(max_examples=60, deadline=None)
@given(files=st.lists(st.lists(_SEGMENT, min_size=1, max_size=3), min_size=1, max_size=6))
def test_module_names_are_identifiers_and_unique_or_reported(
    tmp_path_factory: pytest.TempPathFactory, files: list[list[str]]
) -> None:
    from sqlgen.pipeline import read_project

    root = tmp_path_factory.mktemp("tree")
    paths = {"/".join(parts) + ".sql" for parts in files}
    write_files(root, {**SCHEMA, **{f"queries/{p}": "" for p in paths}})
    write_files(root, {"pyproject.toml": '[tool.sqlgen]\nschema = "db"\nqueries = "queries"\nout = "gen"\n'})
    config = load_config(Overrides(), cwd=root, environ={})
    modules = [m for _, m in config.query_modules()]
    assert modules == [m for _, m in config.query_modules()]  # the same every time
    assert all(m.isidentifier() and m.isascii() for m in modules)
    project = read_project(config)
    generated = [module for module, _, _ in project.files]
    assert len(set(generated)) == len(generated)
    duplicates = [d for d in project.diagnostics if "would both generate" in d.message]
    assert len(generated) + len(duplicates) + sum("cannot be named" in d.message for d in project.diagnostics) == len(
        paths
    )
