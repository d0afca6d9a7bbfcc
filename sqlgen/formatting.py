"""The last step of rendering: every generated Python file as `ruff format` writes it.

Ruff is the formatter (a dependency of sqlgen's): the generated code is then exactly what the
user's `ruff format` (or black) would make of it at the same line length, so their formatter
leaves it alone. The line length is `line_length` in [tool.sqlgen], else the project's
[tool.ruff] `line-length`, else ruff's default, 88 (see `sqlgen.config`).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from sqlgen.errors import ToolError

TARGET_VERSION = "py311"  # the oldest Python generated code runs on


@cache
def ruff_binary() -> str:
    try:
        from ruff import find_ruff_bin  # type: ignore[import-untyped]  # ruff ships no py.typed

        binary: str = find_ruff_bin()
        return binary
    except (ImportError, FileNotFoundError) as err:
        raise ToolError(
            f"sqlgen formats the generated code with ruff, which is not installed ({err})",
            hint="reinstall sqlgen with its dependencies: pip install --force-reinstall sqlgen",
        ) from None


@cache
def ruff_version() -> str:
    """Part of what the output follows from (`sqlgen.cache`): another ruff may format differently."""
    from importlib import metadata

    try:
        return metadata.version("ruff")
    except metadata.PackageNotFoundError:
        return "none"


def format_python(files: Mapping[str, str], line_length: int) -> dict[str, str]:
    """`files` with each `.py` file as `ruff format --line-length <line_length>` writes it (every
    other setting ruff's default, whatever the project's own ruff configuration says)."""
    python = sorted(name for name in files if name.endswith(".py"))
    if not python:
        return dict(files)
    with tempfile.TemporaryDirectory(prefix="sqlgen-format-") as folder:
        paths = [Path(folder, name) for name in python]
        for path, name in zip(paths, python, strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[name], encoding="utf-8")
        command = [
            ruff_binary(),
            "format",
            "--isolated",
            "--no-cache",
            "--quiet",
            f"--line-length={line_length}",
            f"--target-version={TARGET_VERSION}",
            *(str(path) for path in paths),  # named, so that no exclude rule applies
        ]
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
        if done.returncode != 0:
            raise ToolError(
                f"ruff could not format the generated code: {done.stderr.strip() or done.stdout.strip()}",
                hint="this is a bug in sqlgen: please report it with the query that caused it",
            )
        formatted = {name: path.read_text(encoding="utf-8") for name, path in zip(python, paths, strict=True)}
    return {name: formatted.get(name, text) for name, text in files.items()}
