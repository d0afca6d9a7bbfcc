"""The documentation's examples stay true: code runs, config parses, generated code is quoted exactly.

A block fenced as ```python exec is run, not just compiled: against the example package
(`generated/`, from `queries/`) on a fresh database holding the example schema
(`queries/schema/`), in the `python -m asyncio` way (top-level `await` works). It finds:

- `pool`: an asyncpg pool from `generated.create_pool` on that database, and `dsn`, its URL;
- `pgbouncer_dsn` (only when the block names it): the same database through a real PgBouncer
  in transaction pooling mode;
- in the working directory, every file the same page shows: a block whose first line is a
  comment naming a path (`-- aiosql/authors.sql`, `# pyproject.toml`).

A ```python exec block whose first line names a test file (`# tests/test_authors.py`) is a
test module instead: it runs under pytest and the sqlgen plugin, in a project that holds the
page's files and the example's `queries/`, `generated/`, `bookshop/` and `examples/`, and all its tests
must pass.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import itertools
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import ROOT, Databases, dsn_url, write_files
from pgbouncer import PgBouncerError, running_pgbouncer
from psycopg.conninfo import conninfo_to_dict, make_conninfo

import generated
from sqlgen.config import python_annotation
from sqlgen.errors import Diagnostic, Location
from sqlgen.report import as_json

pytest_plugins = ["pytester"]

PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def blocks(language: str) -> list[tuple[Path, str]]:
    return [
        (page, match[1])
        for page in PAGES
        for match in re.finditer(rf"^```{language}\n(.*?)^```", page.read_text(encoding="utf-8"), re.M | re.S)
    ]


@pytest.mark.parametrize(("page", "code"), blocks("python"), ids=lambda v: v.name if isinstance(v, Path) else "")
def test_python_examples_compile(page: Path, code: str) -> None:
    compile(code, str(page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)


@pytest.mark.parametrize(("page", "text"), blocks("toml"), ids=lambda v: v.name if isinstance(v, Path) else "")
def test_toml_examples_are_valid_config(page: Path, text: str) -> None:
    document = tomllib.loads(text)
    sqlgen = document.get("tool", {}).get("sqlgen", {})
    for python_type in sqlgen.get("overrides", {}).values():
        python_annotation(python_type)


def test_quoted_generated_code_matches_the_example_output() -> None:
    generated = "".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "generated").glob("*.py")))
    quoted = [code for _, code in blocks("python") if code.startswith(("class ", "async def "))]
    assert len(quoted) >= 2
    for code in quoted:
        assert code in generated


def test_explain_output_in_the_cli_page_is_what_explain_prints() -> None:
    page = (ROOT / "docs" / "cli.md").read_text()
    shown = re.search(r"```text\n(GetOrderItems :many.*?)```", page, re.S)
    assert shown is not None
    result = subprocess.run(
        [sys.executable, "-m", "sqlgen", "explain", "GetOrderItems"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown[1]


def test_the_json_diagnostics_example_has_the_fields_sqlgen_writes() -> None:
    [(_, example)] = [(page, code) for page, code in blocks("json") if page.name == "cli.md"]
    [documented] = json.loads(example)["diagnostics"]
    diagnostic = Diagnostic(documented["message"], Location(documented["path"], 7, 8), documented["source_line"])
    written = as_json(replace(diagnostic, hint=documented["hint"], sqlstate=documented["sqlstate"]))
    assert written == documented
    page = (ROOT / "docs" / "cli.md").read_text()
    for field in written:
        assert f"| `{field}`" in page or f"`, `{field}`" in page, field  # each field is described


# --- ```python exec: examples that run --------------------------------------------------------------

SCHEMA_FILES = sorted((ROOT / "queries" / "schema").glob("*.sql"))
EXAMPLE_TIMEOUT = 60  # seconds; an example that waits for a notification must not hang the suite
_names = itertools.count()


@dataclass(frozen=True)
class Example:
    """A ```python exec block: its page, the line of its opening fence, its code."""

    page: Path
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.page.name}:{self.line}"

    @property
    def test_file(self) -> str | None:
        """The path its first line names, when the block is a pytest module."""
        named = re.fullmatch(r"# ((?:[\w.-]+/)*test_\w+\.py)", self.code.partition("\n")[0])
        return named[1] if named else None


def examples() -> list[Example]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"^```python exec\n(.*?)^```", text, re.M | re.S):
            found.append(Example(page, text.count("\n", 0, match.start()) + 1, match[1]))
    return found


def page_files(page: Path) -> dict[str, str]:
    """The files a page shows: blocks whose first line is a comment naming a path (`# pyproject.toml`)."""
    text = page.read_text(encoding="utf-8")
    pattern = r"^```[\w ]+\n((?:#|--) ((?:[\w.-]+/)*[\w.-]+\.\w+)\n.*?)^```"
    return {match[2]: match[1] for match in re.finditer(pattern, text, re.M | re.S)}


def is_quote(path: str) -> bool:
    """A block naming a file in a folder of this repository quotes it (`-- queries/bulk.sql`)."""
    return "/" in path and (ROOT / path).is_file()


def example_files(page: Path) -> dict[str, str]:
    """The files an example on `page` finds in its working directory: the page's own, not its quotes."""
    return {path: text for path, text in page_files(page).items() if not is_quote(path)}


def test_blocks_naming_a_file_of_the_repository_quote_it_exactly() -> None:
    """Each paragraph of a quote (the text between blank lines) is in the file, as written there."""
    quotes = [(page, path, text) for page in PAGES for path, text in page_files(page).items() if is_quote(path)]
    assert quotes
    for page, path, text in quotes:
        source = (ROOT / path).read_text(encoding="utf-8")
        for paragraph in text.partition("\n")[2].split("\n\n"):
            assert paragraph.strip("\n") in source, (page.name, path, paragraph)


RUN = [example for example in examples() if example.test_file is None]
PYTEST = [example for example in examples() if example.test_file is not None]


def test_the_pages_that_promise_runnable_examples_have_them() -> None:
    for name in ("cookbook.md", "migrating.md", "runtime.md"):
        assert any(example.page.name == name for example in RUN), name
    assert PYTEST  # the cookbook's testing recipe


@pytest.fixture(scope="module")
def example_template(databases: Databases) -> str:
    """A database holding the example schema, copied (fast) for each example."""
    return str(conninfo_to_dict(databases.create(SCHEMA_FILES))["dbname"])


@dataclass(frozen=True)
class ExampleDatabase:
    name: str
    url: str  # for asyncpg


@pytest.fixture
def example_database(databases: Databases, example_template: str) -> ExampleDatabase:
    """A fresh copy of the example schema."""
    name = f"sqlgen_docs_{os.getpid()}_{next(_names)}"
    with psycopg.connect(databases.server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{example_template}"')
    databases.created.append(name)
    return ExampleDatabase(name, dsn_url(make_conninfo(databases.server_url, dbname=name)))


@contextlib.contextmanager
def through_pgbouncer(example: Example, server_url: str, database: ExampleDatabase) -> Iterator[dict[str, str]]:
    """`pgbouncer_dsn` for an example that names it: PgBouncer, transaction mode, two server connections."""
    if "pgbouncer_dsn" not in example.code:
        yield {}
        return
    try:
        bouncer = running_pgbouncer(server_url, pool_mode="transaction", pool_size=2)
        with bouncer as running:
            yield {"pgbouncer_dsn": running.dsn(database.name)}
    except PgBouncerError as error:
        raise pytest.fail.Exception(str(error), pytrace=False) from None


@contextlib.asynccontextmanager
async def example_pool(dsn: str) -> AsyncIterator[Any]:
    pool = await generated.create_pool(dsn, min_size=1, max_size=4)
    try:
        yield pool
    except BaseException:
        pool.terminate()  # the example's own error is the one to see
        raise
    # An example that leaves a connection acquired (a listener still running) is a wrong example.
    await asyncio.wait_for(pool.close(), timeout=10)


async def run(example: Example, namespace: dict[str, Any]) -> None:
    """Run the block as `python -m asyncio` would; tracebacks point at the page's lines."""
    code = compile(
        "\n" * example.line + example.code,
        str(example.page),  # with the padding above, line numbers are the page's own
        "exec",
        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        dont_inherit=True,
    )
    result = eval(code, namespace)
    if inspect.iscoroutine(result):
        await asyncio.wait_for(result, timeout=EXAMPLE_TIMEOUT)


@pytest.mark.parametrize("example", RUN, ids=str)
async def test_python_exec_examples_run(
    example: Example,
    example_database: ExampleDatabase,
    server_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_files(tmp_path, example_files(example.page))
    monkeypatch.chdir(tmp_path)
    with through_pgbouncer(example, server_url, example_database) as extra:
        async with example_pool(example_database.url) as pool:
            namespace = {"__name__": f"docs_{example.page.stem}", "pool": pool, "dsn": example_database.url, **extra}
            await run(example, namespace)


@pytest.mark.parametrize("example", PYTEST, ids=str)
def test_python_exec_test_modules_pass_under_the_plugin(
    example: Example, pytester: pytest.Pytester, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in ("queries", "generated", "bookshop", "examples"):
        (pytester.path / folder).symlink_to(ROOT / folder, target_is_directory=True)
    files = example_files(example.page)
    assert "pyproject.toml" in files, f"{example.page.name} shows no pyproject.toml for its tests"
    write_files(pytester.path, files)
    monkeypatch.setenv("DATABASE_URL", dsn_url(server_url))  # the plugin's database goes on the suite's server
    result = pytester.runpytest_subprocess(str(example.test_file), timeout=300)
    tests = [node for node in ast.parse(example.code).body if getattr(node, "name", "").startswith("test_")]
    assert tests
    result.assert_outcomes(passed=len(tests))
