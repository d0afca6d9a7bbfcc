"""The documentation's examples stay true: code compiles, config parses, generated code is quoted exactly."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT

from sqlgen.config import python_annotation
from sqlgen.errors import Diagnostic, Location
from sqlgen.report import as_json

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
