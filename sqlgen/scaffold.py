"""`sqlgen init`: set sqlgen up in an existing project.

It appends a `[tool.sqlgen]` table to pyproject.toml (creating the file when there is none),
so every byte already there stays as it was, and writes a first schema file and a first
query file. It never overwrites: a schema or query path that already holds SQL is used as
it is, and a project already set up is refused.

>>> import_name("src/myapp/db"), import_name("generated"), import_name("my-app/db")
('myapp.db', 'generated', None)
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlgen.config import Config, check_out, read_toml
from sqlgen.devdb import FOLDER, FOLDER_GITIGNORE
from sqlgen.errors import Diagnostic, UserError
from sqlgen.output import is_generated
from sqlgen.report import Reporter
from sqlgen.source import read_source

DEFAULT_SCHEMA = "db/schema"
DEFAULT_QUERIES = "db/queries"

SCHEMA_EXAMPLE = """\
-- The schema that queries are checked against: CREATE TABLE, CREATE TYPE, CREATE VIEW…
-- sqlgen applies the schema files to a throw-away PostgreSQL, a folder's *.sql files in
-- natural name order (2_x.sql before 10_y.sql), like migrations.
CREATE TABLE authors (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    bio text,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

QUERIES_EXAMPLE = """\
-- Each query is a `-- name: Name :command` line, comment lines for its docstring, and one
-- statement. This file becomes the module authors.py of the generated package.

-- name: GetAuthor :one
-- Fetch one author by primary key.
SELECT * FROM authors WHERE id = @id;

-- name: ListAuthors :many
SELECT * FROM authors ORDER BY name;

-- name: CreateAuthor :one
INSERT INTO authors (name, bio) VALUES (@name, @bio) RETURNING *;

-- name: DeleteAuthor :execrows
DELETE FROM authors WHERE id = @id;
"""

# For a project whose own schema was found: a query that needs none of its tables.
STANDALONE_EXAMPLE = """\
-- Each query is a `-- name: Name :command` line, comment lines for its docstring, and one
-- statement. This file becomes the module example.py of the generated package.

-- name: ServerVersion :one
-- The PostgreSQL server's version string.
SELECT version() AS version;
"""


@dataclass(frozen=True)
class Scaffold:
    """What `init` will do, decided before anything is written."""

    root: Path
    pyproject: Path
    existing: bytes | None  # pyproject.toml as it is, when there is one
    table: str  # the [tool.sqlgen] text to append
    files: dict[Path, str]  # new files and their text
    adopted: tuple[Path, ...]  # schema or query paths that already hold SQL
    out: str  # the output folder, relative to the root

    def apply(self) -> None:
        for path, text in self.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
        with self.pyproject.open("ab" if self.existing is not None else "xb") as handle:
            handle.write(self.table.encode("utf-8"))


def plan(root: Path, schema: str | None, queries: str | None, out: str | None) -> Scaffold:
    """Decide the files and the config table; a UserError when anything is in the way."""
    pyproject = root / "pyproject.toml"
    existing, document = None, {}
    if pyproject.exists():
        source = read_source(pyproject)
        document = read_toml(source)
        tool = document.get("tool")
        if isinstance(tool, dict) and "sqlgen" in tool:
            raise UserError(
                [
                    source.diagnostic(
                        "pyproject.toml already has a [tool.sqlgen] table",
                        _table_offset(source.text),
                        hint="sqlgen is set up here: run `sqlgen generate`",
                    )
                ]
            )
        existing = pyproject.read_bytes()

    schema_path = _relative(root, schema or DEFAULT_SCHEMA)
    queries_path = _relative(root, queries or DEFAULT_QUERIES)
    out_path = _relative(root, out or default_out(root, document))
    if (root / schema_path).resolve() == (root / queries_path).resolve():
        raise UserError([Diagnostic("the schema and the queries need paths of their own", hint="pass --queries")])

    files: dict[Path, str] = {}
    adopted: list[Path] = []
    schema_file = _first_file(root / schema_path, "001_init.sql", SCHEMA_EXAMPLE, files, adopted)
    example = (QUERIES_EXAMPLE, "authors.sql") if files else (STANDALONE_EXAMPLE, "example.sql")
    queries_file = _first_file(root / queries_path, example[1], example[0], files, adopted)
    ignore = root / FOLDER / ".gitignore"  # the describe cache and the dev database go there
    if not ignore.exists():
        files[ignore] = FOLDER_GITIGNORE
    _check_out_folder(root, root / out_path)
    check_out(Config(root, (schema_file,), (queries_file,), root / out_path, None, None))

    table = {"schema": schema_path, "queries": queries_path, "out": out_path}
    newline = "\r\n" if existing is not None and b"\r\n" in existing else "\n"
    lines = ["[tool.sqlgen]", *(f"{key} = {_toml_string(value)}" for key, value in table.items())]
    text = newline.join(lines) + newline
    if existing:
        text = (newline if existing.endswith(b"\n") else newline * 2) + text
    _check_appended(existing or b"", text, table)
    return Scaffold(root, pyproject, existing, text, files, tuple(adopted), out_path)


def init_project(root: Path, schema: str | None, queries: str | None, out: str | None, reporter: Reporter) -> int:
    """`sqlgen init`: plan, write, and say what comes next."""
    scaffold = plan(root, schema, queries, out)
    scaffold.apply()
    for path in scaffold.adopted:
        reporter.info(f"using the SQL already in {path.relative_to(root).as_posix()}")
    for path in scaffold.files:
        reporter.info(f"created {path.relative_to(root).as_posix()}")
    verb = "added [tool.sqlgen] to" if scaffold.existing is not None else "created"
    reporter.info(f"{verb} pyproject.toml")
    reporter.paragraph(next_steps(scaffold))
    return 0


def next_steps(scaffold: Scaffold) -> str:
    out = scaffold.out
    module = import_name(out)
    lines = [
        "",
        "Next steps:",
        f"  sqlgen generate   check every query against the schema and write {out}/",
        "  sqlgen watch      regenerate as you edit the schema, the queries or pyproject.toml",
        f"  sqlgen check      in CI or a pre-commit hook: fail when {out}/ is stale",
        "  sqlgen db start   a local PostgreSQL holding the schema, to run your app on (its data goes in",
        "                    .sqlgen/, which holds a .gitignore: git ignores it)",
    ]
    example = next((p.stem for p in scaffold.files if p.suffix == ".sql" and p.stem != "001_init"), None)
    if module and example:
        lines += ["", "Then, in your code:", f"  from {module} import {example}"]
    lines += ["", "Generated code needs asyncpg and pydantic at run time: add them to your dependencies."]
    return "\n".join(lines)


def default_out(root: Path, document: dict[str, Any]) -> str:
    """`<package>/db` inside the project's own package, when pyproject.toml names one that exists; else `generated`."""
    project = document.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    if isinstance(name, str):
        package = re.sub(r"[-_.]+", "_", name).lower()
        for base in ("", "src/"):
            if (root / base / package / "__init__.py").is_file():
                return f"{base}{package}/db"
    return "generated"


def import_name(out: str) -> str | None:
    """The dotted module a package at `out` is imported as, for the next steps."""
    parts = out.split("/")
    if parts[0] == "src":
        parts = parts[1:]
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None


def _relative(root: Path, path: str) -> str:
    """`path` (as typed, relative to the root) with forward slashes, as the config stores it."""
    absolute = (root / path).resolve()
    try:
        return absolute.relative_to(root.resolve()).as_posix() or "."
    except ValueError:
        return absolute.as_posix()


def _first_file(path: Path, name: str, text: str, files: dict[Path, str], adopted: list[Path]) -> Path:
    """The example file for a schema or queries path, unless the path already holds SQL."""
    if path.is_file() or (path.is_dir() and any(path.glob("*.sql"))):
        adopted.append(path)
        return path
    target = path if path.suffix == ".sql" else path / name
    files[target] = text
    return target


def _check_out_folder(root: Path, out: Path) -> None:
    """The output folder may already exist only as sqlgen's own."""
    if not out.exists():
        return
    foreign = not out.is_dir() or any(
        p.is_file() and "__pycache__" not in p.parts and not is_generated(p) for p in out.rglob("*")
    )
    if foreign:
        shown = out.relative_to(root).as_posix() if out.is_relative_to(root) else str(out)
        raise UserError(
            [
                Diagnostic(
                    f"{shown} already exists and holds files sqlgen did not generate",
                    hint="pass --out with a folder of its own for the generated package",
                )
            ]
        )


def _table_offset(text: str) -> int:
    """Where the sqlgen table starts: `[tool.sqlgen…]`, `tool.sqlgen.… =`, or `sqlgen =` under `[tool]`."""
    for pattern in (
        r"\[+[ \t]*tool[ \t]*\.[ \t]*[\"']?sqlgen\b",
        r"tool[ \t]*\.[ \t]*[\"']?sqlgen\b",
        r"[\"']?sqlgen[\"']?[ \t]*=",
    ):
        match = re.search(rf"^[ \t]*({pattern})", text, re.M)
        if match:
            return match.start(1)
    return 0


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _check_appended(existing: bytes, text: str, table: dict[str, str]) -> None:
    """Appending must give valid TOML with exactly this table (an inline `tool = {…}` would not)."""
    try:
        document = tomllib.loads(existing.decode("utf-8-sig") + text)
        ok = document["tool"]["sqlgen"] == table
    except (tomllib.TOMLDecodeError, KeyError, TypeError):
        ok = False
    if not ok:
        raise UserError(
            [
                Diagnostic(
                    "cannot add a [tool.sqlgen] table to pyproject.toml as it is written",
                    hint="add it by hand:\n" + text.strip(),
                )
            ]
        )
