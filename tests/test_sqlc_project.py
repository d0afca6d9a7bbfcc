"""A sqlc repository as it is (tests/sqlc_project/): `sqlgen generate` with no flags reads its sqlc.yaml.

The fixture is laid out like a real multi-package sqlc project: sqlc.yaml version 2 with two
PostgreSQL blocks and a MySQL one, goose migrations (one with a `LOCK TABLE`, which needs the
migration's transaction), globs, two files called `queries.sql` in different folders, a schema
file that also holds annotated queries, mixed `$n` and named parameters, block-comment
annotations, pgcrypto (`digest`, `crypt`, `gen_random_uuid`), overrides (a Go one, a column one
with `py_type`), `rename`, and a Python plugin block with `emit_exact_table_names`.

The generated functions run on the embedded server, where pgcrypto is sqlgen's stand-in (its
functions raise), and on PostgreSQL 15 with the real extension.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from older_postgres import running_postgres

from sqlgen.cli import main
from sqlgen.config import Overrides, load_configs
from sqlgen.database import apply_schema, connect
from sqlgen.migrations import read_schema
from tests.conftest import Databases, Project, dsn_url, write_files
from tests.test_typecheck import mypy

FIXTURE = Path(__file__).parent / "sqlc_project"

PROGRAM = """
import uuid

import asyncpg

from billing_py import alerting, dags, models as billing_models, schema
from generated.appdb import models, orders_queries, users_queries


async def run(app_dsn: str, billing_dsn: str, real_pgcrypto: bool) -> None:
    conn = await asyncpg.connect(app_dsn)
    try:
        account = await users_queries.create_account(conn, email="ada@example.com", settings={"theme": "dark"})
        assert isinstance(account, models.Account)  # rename: user_account → Account
        assert account.settings == {"theme": "dark"} and account.password_hash is None
        fetched = await users_queries.get_account(conn, id=account.id)
        assert fetched == account
        await users_queries.set_metadata(conn, key="version", value=None)
        meta: models.Metadata | None = await users_queries.get_metadata(conn, key="version")
        assert meta is not None and meta.value is None
        order_id = await orders_queries.create_order(conn, account_id=account.id, note=None)
        assert order_id is not None
        await orders_queries.add_item(conn, order_id=order_id, sku="b", quantity=2)
        await orders_queries.add_item(conn, order_id=order_id, sku="a", quantity=1)
        items: list[models.OrderItem] = await orders_queries.list_items(conn, order_id=order_id)
        assert [(i.sku, i.quantity) for i in items] == [("a", 1), ("b", 2)]

        nobody: bool | None = await users_queries.check_password(conn, password="x", email="nobody@example.com")
        assert nobody is None
        if real_pgcrypto:
            await users_queries.set_password(conn, id=account.id, password="s3cret")
            assert await users_queries.check_password(conn, password="s3cret", email="ada@example.com") is True
            assert await users_queries.check_password(conn, password="wrong", email="ada@example.com") is False
            key_id: uuid.UUID = await users_queries.add_api_key(conn, account_id=account.id, key="k1")
            assert isinstance(key_id, uuid.UUID)  # gen_random_uuid()
            assert await users_queries.find_api_key(conn, key="k1") == account.id
            assert await users_queries.find_api_key(conn, key="k2") is None
        else:  # the embedded server's stand-ins have pgcrypto's signatures, not its code
            try:
                await users_queries.set_password(conn, id=account.id, password="s3cret")
            except asyncpg.RaiseError as error:
                assert "is a stand-in made by sqlgen" in str(error)  # gen_salt() or crypt()
            else:
                raise AssertionError("crypt() ran on the stand-in")
    finally:
        await conn.close()
    conn = await asyncpg.connect(billing_dsn)
    try:
        tenant = uuid.uuid4()
        setting = await alerting.upsert_setting(conn, tenant_id=tenant, threshold=3)
        assert isinstance(setting, billing_models.TenantAlertingSettings) and setting.threshold == 3
        added = await dags.add_dag_data(conn, tenant_id=tenant, payload=7)
        assert isinstance(added, billing_models.V1DagData)
        rows = await dags.list_dag_data(conn, tenant_id=tenant)
        assert rows == [added] and rows[0].payload == 7
        assert await schema.count_dag_data(conn, tenant_id=tenant, min_payload=5) == 1
        assert await schema.count_dag_data(conn, tenant_id=tenant, min_payload=7) == 0
        assert await conn.fetchval("SELECT count(*) FROM tenant_alerting_settings") == 1  # SeedSetting not applied
        await schema.seed_setting(conn)
        assert await conn.fetchval("SELECT count(*) FROM tenant_alerting_settings") == 2
    finally:
        await conn.close()
"""


def _generate(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(FIXTURE, root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BILLING_DATABASE_URL", raising=False)
    assert main(["generate"]) == 0
    (root / "program.py").write_text(PROGRAM)


def _run(root: Path, databases: Databases, *, real_pgcrypto: bool) -> None:
    urls = []
    for config in load_configs(Overrides(), cwd=root, environ={}):
        url = databases.create()
        with connect(url) as conn:
            apply_schema(conn, [read_schema(p) for p in config.schema_files()])
        urls.append(dsn_url(url))
    # In a process of its own: this repository's example package is also called `generated`.
    run = "import asyncio, sys, program; asyncio.run(program.run(sys.argv[1], sys.argv[2], sys.argv[3] == 'real'))"
    real = "real" if real_pgcrypto else "stand-in"
    ran = subprocess.run([sys.executable, "-c", run, *urls, real], cwd=root, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr


def test_a_sqlc_project_generates_with_no_flags_typechecks_and_runs(
    tmp_path: Path, databases: Databases, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "project"
    _generate(root, monkeypatch)
    out, err = capsys.readouterr()
    assert "wrote generated/appdb/ (4 files, 11 queries)" in out
    assert "wrote billing_py/ (5 files, 5 queries)" in out
    assert "sqlc.yaml:38:5: note: sql[2] is skipped: its engine is 'mysql'" in err
    assert "sqlc.yaml:12:9: note: Go options ignored by sqlgen: emit_json_tags, sql_package" in err
    assert "error" not in err
    written = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    assert written == [
        "billing_py/__init__.py",
        "billing_py/alerting.py",
        "billing_py/dags.py",
        "billing_py/models.py",
        "billing_py/schema.py",  # billing/schema.sql is listed as schema and as queries
        "generated/appdb/__init__.py",
        "generated/appdb/models.py",
        "generated/appdb/orders_queries.py",
        "generated/appdb/users_queries.py",
        "program.py",
    ]
    models = (root / "generated/appdb/models.py").read_text()
    assert "class Account(BaseModel):" in models  # rename: user_account → Account
    assert "class Metadata(BaseModel):" in models  # sqlc's singular of metadata
    assert "class OrderItem(BaseModel):" in models
    assert "class ApiKey(BaseModel):" in models  # made in a goose migration that takes a LOCK
    assert "    settings: dict[str, str]\n" in models  # the column override's py_type
    users = (root / "generated/appdb/users_queries.py").read_text()
    # $1 keeps its number and its inferred name; the named parameter comes after it
    assert "async def add_api_key(conn: Executor, /, *, account_id: int, key: str) -> uuid.UUID:" in users
    assert "async def find_api_key(conn: Executor, /, *, key: str) -> int | None:" in users  # digest() is bytea
    billing = (root / "billing_py/models.py").read_text()
    assert "class TenantAlertingSettings(BaseModel):" in billing  # emit_exact_table_names
    assert "class V1DagData(BaseModel):" in billing

    assert main(["check"]) == 0
    result = mypy("program.py", cwd=root)  # and every generated module it imports
    assert result.returncode == 0, result.stdout + result.stderr
    _run(root, databases, real_pgcrypto=False)


def test_the_sqlc_projects_functions_run_on_postgresql_15_with_the_real_pgcrypto(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "project"
    _generate(root, monkeypatch)  # on the embedded server, with the stand-ins: the types are pgcrypto's own
    with running_postgres(15) as url:
        databases = Databases(url, [])
        _run(root, databases, real_pgcrypto=True)


PACKAGES = """\
[[tool.sqlgen.packages]]
name = "shop"
schema = "shop/schema.sql"
queries = "shop/queries"
out = "gen/shop"

[[tool.sqlgen.packages]]
name = "audit"
schema = "audit/schema.sql"
queries = "audit/queries.sql"
out = "gen/audit"
"""


def test_several_packages_share_one_server_and_fail_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    write_files(
        tmp_path,
        {
            "pyproject.toml": PACKAGES,
            "shop/schema.sql": "CREATE TABLE items (id int PRIMARY KEY);\n",
            "shop/queries/items.sql": "-- name: CountItems :one\nSELECT count(*) FROM items;\n",
            "shop/queries/admin/items.sql": "-- name: ItemIds :many\nSELECT id FROM items;\n",
            "audit/schema.sql": "CREATE TABLE events (id int PRIMARY KEY);\n",  # no items table here
            "audit/queries.sql": "-- name: CountEvents :one\nSELECT count(*) FROM events;\n",
        },
    )
    assert main(["-v", "generate"]) == 0
    out, err = capsys.readouterr()
    assert "wrote gen/shop/ (4 files, 2 queries)" in out and "wrote gen/audit/ (3 files, 1 query)" in out
    assert err.count("database start") == 1  # one embedded server for both packages
    assert (tmp_path / "gen/shop/admin_items.py").is_file()  # a subfolder of the queries folder
    assert sorted(p.name for p in (tmp_path / ".sqlgen").iterdir()) == [
        ".gitignore",
        "cache-audit.json",
        "cache-audit.run.json",
        "cache-shop.json",
        "cache-shop.run.json",
    ]
    assert main(["generate"]) == 0
    assert "gen/audit/ is up to date" in capsys.readouterr().out
    assert main(["-q", "explain", "CountEvents", "ItemIds"]) == 0  # each from the package that holds it
    explained = capsys.readouterr().out
    assert "CountEvents :one  (audit/queries.sql:1)" in explained
    assert "ItemIds :many  (shop/queries/admin/items.sql:1)" in explained

    write_files(tmp_path, {"audit/queries.sql": "-- name: CountItems :one\nSELECT count(*) FROM items;\n"})
    write_files(tmp_path, {"shop/queries/items.sql": "-- name: CountItems :one\nSELECT count(*) FROM itemz;\n"})
    before = {p: p.read_text() for p in (tmp_path / "gen").rglob("*.py")}
    assert main(["generate"]) == 1
    err = capsys.readouterr().err
    assert 'audit/queries.sql:2:22: error: relation "items" does not exist' in err  # each package has its schema
    assert 'shop/queries/items.sql:2:22: error: relation "itemz" does not exist' in err
    assert {p: p.read_text() for p in (tmp_path / "gen").rglob("*.py")} == before  # neither package was written


def test_an_override_may_name_a_type_as_sqlc_db_type_does(project: Project) -> None:
    project.write("schema.sql", "CREATE TABLE t (a integer NOT NULL, b timestamptz);\n")
    project.write("queries.sql", "-- name: GetT :many\nSELECT a, b FROM t;\n")
    project.write(
        "pyproject.toml",
        '[tool.sqlgen.overrides]\n"integer" = "decimal.Decimal"\n"timestamp with time zone" = "str"\n',
    )
    models = project.generate(config=Path("pyproject.toml"))["models.py"]
    assert "    a: decimal.Decimal\n" in models or "    a: Decimal\n" in models
    assert "    b: str | None\n" in models
