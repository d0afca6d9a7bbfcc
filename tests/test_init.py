"""`sqlgen init` in existing projects: appends its table, writes first files, never overwrites."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Databases, generate_fresh, run_sqlgen, write_files

from sqlgen.config import Overrides, load_config

PYPROJECT = """# My project, with its own formatting.
[project]
name = "My-App"
version = "0.1.0"
dependencies = ["asyncpg", "pydantic"]

[tool.ruff]
line-length = 100   # keep this comment"""  # no newline at the end


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_init_in_an_existing_project_then_generate_works(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": PYPROJECT, "src/my_app/__init__.py": ""})
    result = run_sqlgen("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "pyproject.toml").read_bytes()
    assert text == PYPROJECT.encode() + (
        b'\n\n[tool.sqlgen]\nschema = "db/schema"\nqueries = "db/queries"\nout = "src/my_app/db"\n'
    )
    assert sorted(tree(tmp_path)) == [
        ".sqlgen/.gitignore",  # sqlgen's local files (the describe cache, `sqlgen db`'s data) are not for git
        "db/queries/authors.sql",
        "db/schema/001_init.sql",
        "pyproject.toml",
        "src/my_app/__init__.py",
    ]
    assert "sqlgen generate" in result.stdout and "from my_app.db import authors" in result.stdout

    generated = run_sqlgen("generate", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    use = subprocess.run(
        [sys.executable, "-c", "from my_app.db import authors, models; print(authors.create_author.__name__)"],
        cwd=tmp_path / "src",
        capture_output=True,
        text=True,
    )
    assert use.stdout.strip() == "create_author", use.stderr
    assert run_sqlgen("check", cwd=tmp_path).returncode == 0


def test_without_a_pyproject_or_a_package(tmp_path: Path, databases: Databases) -> None:
    result = run_sqlgen("init", "--schema", "sql/schema.sql", "--queries", "sql/queries", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pyproject.toml").read_text() == (
        '[tool.sqlgen]\nschema = "sql/schema.sql"\nqueries = "sql/queries"\nout = "generated"\n'
    )
    assert "CREATE TABLE authors (" in (tmp_path / "sql/schema.sql").read_text()
    output, _ = generate_fresh(databases, load_config(Overrides(), cwd=tmp_path, environ={}))
    assert "async def get_author(" in output["authors.py"]


def test_sql_already_there_is_used_as_it_is(tmp_path: Path, databases: Databases) -> None:
    schema = "CREATE TABLE books (id int PRIMARY KEY);\n"
    write_files(tmp_path, {"migrations/0001_books.sql": schema, "pyproject.toml": "[project]\nname = 'x'\n"})
    result = run_sqlgen("init", "--schema", "migrations", "--out", "app/db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "using the SQL already in migrations" in result.stdout
    assert (tmp_path / "migrations/0001_books.sql").read_text() == schema
    assert sorted(p.name for p in (tmp_path / "migrations").iterdir()) == ["0001_books.sql"]
    # The example query needs none of the project's tables.
    output, _ = generate_fresh(databases, load_config(Overrides(), cwd=tmp_path, environ={}))
    assert "async def server_version(" in output["example.py"]
    assert "class Book(BaseModel):" in output["models.py"]


def test_keeps_windows_line_endings(tmp_path: Path) -> None:
    original = b"[project]\r\nname = 'x'\r\n"
    (tmp_path / "pyproject.toml").write_bytes(original)
    assert run_sqlgen("init", cwd=tmp_path).returncode == 0
    text = (tmp_path / "pyproject.toml").read_bytes()
    assert text.startswith(original + b"\r\n[tool.sqlgen]\r\n")
    assert b"\n" not in text.replace(b"\r\n", b"")


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        (
            {"pyproject.toml": "[project]\nname = 'x'\n\n[tool.ruff]\nfix = true\n\n[tool.sqlgen.channels]\nc = 't'\n"},
            (),
            "pyproject.toml:7:1: error: pyproject.toml already has a [tool.sqlgen] table",
        ),
        ({"pyproject.toml": "[project\n"}, (), "pyproject.toml:1:9: error: invalid TOML"),
        (
            {"pyproject.toml": "[tool]\nblack = { line-length = 100 }\n  sqlgen = { out = 'gen' }\n"},
            (),
            "pyproject.toml:3:3: error: pyproject.toml already has a [tool.sqlgen] table",
        ),
        (
            {"pyproject.toml": "tool = { black = { line-length = 100 } }\n"},
            (),
            "error: cannot add a [tool.sqlgen] table to pyproject.toml as it is written",
        ),
        ({"generated/helpers.py": "X = 1\n"}, (), "error: generated already exists and holds files sqlgen did not"),
        ({}, ("--out", "db"), "error: refusing to write generated code to db"),
        ({}, ("--schema", "sql", "--queries", "sql"), "error: the schema and the queries need paths of their own"),
    ],
)
def test_refusals_write_nothing(tmp_path: Path, files: dict[str, str], args: tuple[str, ...], message: str) -> None:
    write_files(tmp_path, files)
    before = tree(tmp_path)
    result = run_sqlgen("init", *args, cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(tmp_path) == before
