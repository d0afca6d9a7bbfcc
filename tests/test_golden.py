"""The committed `generated/` package is exactly what sqlgen makes of `queries/`, and so is
`generated_msgspec/`, the same project for the asyncpg-msgspec target (`sqlgen-msgspec.toml`).

Run `SQLGEN_UPDATE_GOLDEN=1 pytest tests/test_golden.py` (or `sqlgen generate`, and
`sqlgen generate --config sqlgen-msgspec.toml`) to refresh them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOT, Databases, generate_fresh

from sqlgen.config import Config, Overrides, load_config
from sqlgen.output import read_output, write_output

CONFIG = load_config(Overrides(config=ROOT / "pyproject.toml"), cwd=ROOT, environ={})
MSGSPEC_CONFIG = load_config(Overrides(config=ROOT / "sqlgen-msgspec.toml"), cwd=ROOT, environ={})


@pytest.mark.parametrize("config", [CONFIG, MSGSPEC_CONFIG], ids=["pydantic", "msgspec"])
def test_generated_package_matches_queries(databases: Databases, config: Config) -> None:
    expected, _ = generate_fresh(databases, config)
    if os.environ.get("SQLGEN_UPDATE_GOLDEN"):
        write_output(config.out, expected)
    folder = Path(config.out).name
    committed = read_output(ROOT / folder)
    assert sorted(committed) == sorted(expected)
    for name, text in expected.items():
        assert committed[name] == text, f"{folder}/{name} is stale: run `sqlgen generate` (see this module's docstring)"


def test_the_targets_share_everything_but_the_models() -> None:
    assert CONFIG.models.target == "asyncpg-pydantic"
    assert MSGSPEC_CONFIG.models.target == "asyncpg-msgspec"
    assert (CONFIG.schema, CONFIG.queries) == (MSGSPEC_CONFIG.schema, MSGSPEC_CONFIG.queries)
    assert [(c.name, c.payload) for c in CONFIG.channels] == [(c.name, c.payload) for c in MSGSPEC_CONFIG.channels]


def test_generation_is_deterministic(databases: Databases) -> None:
    first, _ = generate_fresh(databases, CONFIG)
    second, _ = generate_fresh(databases, CONFIG)
    assert first == second
