"""A misspelt command, flag, config key or override target gets the close match as its hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlgen.config import Overrides, load_config
from sqlgen.errors import SourceText, UserError
from sqlgen.source import parse_queries
from tests.conftest import Project, write_files


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("-- name: GetA :onee\nSELECT 1;\n", "did you mean ':one'?"),
        ("-- name: GetA :execrow\nSELECT 1;\n", "did you mean ':execrows'?"),
        ("-- name: GetA :one\n-- @validat\nSELECT 1;\n", "did you mean '@validate'?"),
    ],
)
def test_commands_and_flags(text: str, hint: str) -> None:
    _, problems = parse_queries(SourceText("q.sql", text))
    assert [p.hint for p in problems] == [hint]


def test_config_keys(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": '[tool.sqlgen]\nquerys = "q.sql"\nout = "gen"\n', "q.sql": ""})
    with pytest.raises(UserError) as caught:
        load_config(Overrides(), cwd=tmp_path, environ={})
    assert [d.hint for d in caught.value.diagnostics] == ["did you mean 'queries'?"]


def test_override_targets(project: Project) -> None:
    project.write("schema.sql", "CREATE TABLE orders (id int PRIMARY KEY, payload jsonb);\n")
    project.write("queries.sql", "-- name: GetOrder :one\nSELECT * FROM orders WHERE id = @id;\n")
    hints = {}
    for target in ("public.orders.paylod", "public.ordrs.payload", "pg_catalog.jsonbb", "jsnb"):
        project.write("pyproject.toml", f'[tool.sqlgen.overrides]\n"{target}" = "dict[str, int]"\n')
        errors = project.errors(config=Path("pyproject.toml"))
        hints[target] = errors[0].splitlines()[-1]
    assert hints == {
        "public.orders.paylod": "  hint: did you mean 'public.orders.payload'?",
        "public.ordrs.payload": "  hint: did you mean 'public.orders.payload'?",
        "pg_catalog.jsonbb": "  hint: did you mean 'pg_catalog.jsonb'?",
        "jsnb": "  hint: did you mean 'jsonb'?",
    }
