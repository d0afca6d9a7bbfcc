"""Inputs that must not crash or hang a run: numbers in the config, and files that are not files.

Every one is a located error (exit 1) and nothing is read from what is not a regular file.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_sqlgen, write_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlgen.config import MAX_DESCRIBE_TIMEOUT, Overrides, load_config
from sqlgen.errors import UserError
from sqlgen.source import MAX_INPUT_BYTES, read_input

QUERIES = "-- name: One :one\nSELECT 1 AS one;\n"


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


BAD_NUMBERS = (
    st.sampled_from([math.nan, math.inf, -math.inf, 0, 0.0, -1, -0.5, 1e300, 10**30, MAX_DESCRIBE_TIMEOUT + 1])
    | st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not 0 < x <= MAX_DESCRIBE_TIMEOUT)
    | st.integers(max_value=0)
    | st.integers(min_value=int(MAX_DESCRIBE_TIMEOUT) + 1, max_value=2**63 - 1)
    | st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=10)
    | st.booleans()
    | st.lists(st.integers(1, 5), max_size=2)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=BAD_NUMBERS)
def test_describe_timeout_outside_its_range_is_a_located_error(
    tmp_path_factory: pytest.TempPathFactory, value: object
) -> None:
    root = tmp_path_factory.mktemp("timeout")
    config = f'[tool.sqlgen]\nqueries = "q.sql"\nout = "gen"\ndescribe_timeout = {toml_value(value)}\n'
    write_files(root, {"pyproject.toml": config, "q.sql": QUERIES})
    with pytest.raises(UserError) as caught:
        load_config(Overrides(), cwd=root, environ={})
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.location is not None and str(diagnostic.location).endswith("pyproject.toml:4:1")
    assert diagnostic.message.startswith(
        f"describe_timeout must be a number of seconds above 0, at most {MAX_DESCRIBE_TIMEOUT:g}"
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.floats(min_value=0, max_value=MAX_DESCRIBE_TIMEOUT, exclude_min=True) | st.integers(1, 3600))
def test_describe_timeout_in_range_is_taken(tmp_path_factory: pytest.TempPathFactory, value: float) -> None:
    root = tmp_path_factory.mktemp("timeout")
    config = f'[tool.sqlgen]\nqueries = "q.sql"\nout = "gen"\ndescribe_timeout = {value!r}\n'
    write_files(root, {"pyproject.toml": config, "q.sql": QUERIES})
    assert load_config(Overrides(), cwd=root, environ={}).describe_timeout == float(value)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))


def _big(path: Path) -> None:
    with path.open("wb") as handle:  # sparse: costs no disk
        handle.truncate(MAX_INPUT_BYTES + 1)


def _zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


NOT_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "/dev/zero": (_zero, "it is a device, not a regular file"),
    "a FIFO": (_fifo, "it is a FIFO"),
    "a socket": (_socket, "it is a socket"),
    "a folder": (lambda p: p.mkdir(), "it is a folder"),
    "a file over the limit": (_big, f"it is larger than {MAX_INPUT_BYTES // 2**20} MB"),
}


@pytest.mark.parametrize("what", NOT_FILES, ids=list(NOT_FILES))
def test_read_input_refuses_what_is_not_a_regular_file_at_once(tmp_path: Path, what: str) -> None:
    make, problem = NOT_FILES[what]
    make(tmp_path / "x.sql")
    started = time.monotonic()
    with pytest.raises(UserError) as caught:
        read_input(tmp_path / "x.sql")
    assert time.monotonic() - started < 5  # no waiting on a FIFO, no reading /dev/zero
    [diagnostic] = caught.value.diagnostics
    assert problem in diagnostic.message and diagnostic.location is not None and diagnostic.location.line == 1


ROLES = ["--schema", "--queries", "--config", "folder of queries"]
# A folder is a fine --schema or --queries, and one named `x.sql` inside a queries folder is a subfolder.
CASES = [(what, role) for what in NOT_FILES for role in ROLES if what != "a folder" or role == "--config"]


@pytest.mark.parametrize(("what", "role"), CASES, ids=[f"{what} as {role}" for what, role in CASES])
def test_sqlgen_refuses_schema_queries_and_config_that_are_not_regular_files(
    tmp_path: Path, what: str, role: str
) -> None:  # a folder is a fine --schema or --queries
    make, problem = NOT_FILES[what]
    write_files(tmp_path, {"q.sql": QUERIES, "s.sql": "CREATE TABLE t (id int);\n", "queries/ok.sql": QUERIES})
    odd = tmp_path / ("queries/odd.sql" if role == "folder of queries" else "odd.sql")
    make(odd)
    flags = {
        "--schema": ["--schema", "odd.sql", "--queries", "q.sql"],
        "--queries": ["--schema", "s.sql", "--queries", "odd.sql"],
        "--config": ["--config", "odd.sql", "--schema", "s.sql", "--queries", "q.sql"],
        "folder of queries": ["--schema", "s.sql", "--queries", "queries"],
    }[role]
    started = time.monotonic()
    result = run_sqlgen("generate", *flags, "--out", "gen", cwd=tmp_path)
    assert time.monotonic() - started < 60
    assert result.returncode == 1, result.stderr
    shown = "queries/odd.sql" if role == "folder of queries" else "odd.sql"
    assert f"{shown}:1:1: error: cannot read " in result.stderr and f"{shown}: {problem}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "gen").exists()
