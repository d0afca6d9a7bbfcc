"""The committed `generated/` package is exactly what sqlgen makes of `queries/`.

Run `SQLGEN_UPDATE_GOLDEN=1 pytest tests/test_golden.py` (or `sqlgen generate`) to refresh it.
"""

from __future__ import annotations

import os

from conftest import ROOT, Databases, generate_fresh

from sqlgen.config import Overrides, load_config
from sqlgen.output import read_output, write_output

CONFIG = load_config(Overrides(config=ROOT / "pyproject.toml"), cwd=ROOT, environ={})


def test_generated_package_matches_queries(databases: Databases) -> None:
    expected, _ = generate_fresh(databases, CONFIG)
    if os.environ.get("SQLGEN_UPDATE_GOLDEN"):
        write_output(CONFIG.out, expected)
    committed = read_output(ROOT / "generated")
    assert sorted(committed) == sorted(expected)
    for name, text in expected.items():
        assert committed[name] == text, f"generated/{name} is stale: run `sqlgen generate`"


def test_generation_is_deterministic(databases: Databases) -> None:
    first, _ = generate_fresh(databases, CONFIG)
    second, _ = generate_fresh(databases, CONFIG)
    assert first == second
