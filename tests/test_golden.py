"""The committed `generated/` package is exactly what sqlgen makes of `queries/`.

Run `SQLGEN_UPDATE_GOLDEN=1 pytest tests/test_golden.py` (or `sqlgen generate`) to refresh it.
"""

from __future__ import annotations

import os

from conftest import ROOT, Databases

from sqlgen.config import Overrides, load_config
from sqlgen.database import apply_schema, connect
from sqlgen.output import read_output, write_output
from sqlgen.pipeline import generate, read_project


def test_generated_package_matches_queries(databases: Databases) -> None:
    config = load_config(Overrides(config=ROOT / "pyproject.toml"), cwd=ROOT, environ={})
    url = databases.create()
    with connect(url) as conn:
        apply_schema(conn, read_project(config).schema)
        expected = generate(config, conn)
    if os.environ.get("SQLGEN_UPDATE_GOLDEN"):
        write_output(config.out, expected)
    committed = read_output(ROOT / "generated")
    assert sorted(committed) == sorted(expected)
    for name, text in expected.items():
        assert committed[name] == text, f"generated/{name} is stale: run `sqlgen generate`"


def test_generation_is_deterministic(databases: Databases) -> None:
    config = load_config(Overrides(config=ROOT / "pyproject.toml"), cwd=ROOT, environ={})
    outputs = []
    for _ in range(2):
        url = databases.create()
        with connect(url) as conn:
            apply_schema(conn, read_project(config).schema)
            outputs.append(generate(config, conn))
    assert outputs[0] == outputs[1]
