"""Generated code is what `ruff format` makes of it at the project's line length: users' formatters leave it alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, Project

import sqlgen

SCHEMA = "CREATE TABLE documents (id bigint PRIMARY KEY, title text NOT NULL, body text, tags text[] NOT NULL);\n"
QUERIES = """
-- name: GetDocumentWithAVeryLongNameThatNeedsWrapping :one
SELECT id, title, body, tags, length(body) AS body_length_in_characters FROM documents WHERE id = @id;

-- name: InsertDocument :one
INSERT INTO documents (id, title, body, tags) VALUES (@id, @title, @body, @tags) RETURNING *;
"""


def ruff_format_check(folder: Path, line_length: int) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ruff", "format", "--isolated", "--no-cache", "--check", "--diff"]
    return subprocess.run([*command, f"--line-length={line_length}", str(folder)], capture_output=True, text=True)


def test_the_example_package_is_ruff_format_clean_at_the_projects_line_length() -> None:
    done = ruff_format_check(ROOT / "generated", 120)  # [tool.ruff] line-length in sqlgen's pyproject.toml
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(
    ("settings", "line_length"),
    [("", 88), ("[tool.ruff]\nline-length = 100\n", 100), ("[tool.ruff]\nline-length = 100\n", 60)],
    ids=["ruff's default", "tool.ruff", "line_length"],
)
def test_a_package_is_formatted_at_the_line_length_its_project_asks_for(
    project: Project, settings: str, line_length: int
) -> None:
    own = f"line_length = {line_length}\n" if line_length == 60 else ""
    config = f'[tool.sqlgen]\nschema = "schema.sql"\nqueries = "queries.sql"\nout = "gen"\n{own}\n{settings}'
    project.write("pyproject.toml", config)
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", QUERIES)
    sqlgen.generate(project.root)
    done = ruff_format_check(project.root / "gen", line_length)
    assert done.returncode == 0, done.stdout
    assert ruff_format_check(project.root / "gen", 200).returncode == 1  # it was wrapped for this length


def test_a_line_length_out_of_range_is_a_located_error(project: Project) -> None:
    project.write("pyproject.toml", '[tool.sqlgen]\nqueries = "queries.sql"\nout = "gen"\nline_length = 0\n')
    project.write("queries.sql", QUERIES)
    with pytest.raises(sqlgen.UserError) as refused:
        sqlgen.generate(project.root)
    [error] = refused.value.diagnostics
    assert str(error.location) == "pyproject.toml:4:1"
    assert error.message == "line_length must be a whole number of characters from 1 to 320 (it is 0)"
