"""The config stage: `[tool.sqlgen]` in pyproject.toml, overridden by flags and the environment."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlgen.errors import Diagnostic, Location, SourceText, UserError, display_path
from sqlgen.layout import ModelOptions
from sqlgen.migrations import natural_order, schema_layout, unique_paths
from sqlgen.source import read_source
from sqlgen.typemap import TypeOverride, python_annotation

KEYS = (
    "schema",
    "queries",
    "out",
    "database_url",
    "describe_timeout",
    "cache",
    "validate",
    "frozen",
    "overrides",
    "channels",
)
DEFAULT_DESCRIBE_TIMEOUT = 30.0  # seconds; PostgreSQL describes a statement in milliseconds
DEFAULT_CACHE = ".sqlgen/cache.json"


@dataclass(frozen=True)
class ChannelConfig:
    """One `[tool.sqlgen.channels]` entry: a LISTEN/NOTIFY channel and what its payloads are."""

    name: str  # the channel, as PostgreSQL names it
    payload: str  # a table, view or composite type of the schema, or a pydantic model's import path
    location: Location | None = None


@dataclass(frozen=True)
class Config:
    root: Path  # where relative paths in the config start, and what headers name files relative to
    schema: tuple[Path, ...]  # files or folders, in the order given
    queries: tuple[Path, ...]
    out: Path
    database_url: str | None
    config_file: Path | None
    overrides: tuple[TypeOverride, ...] = ()
    channels: tuple[ChannelConfig, ...] = ()
    models: ModelOptions = ModelOptions()
    cache: Path | None = None  # the describe cache file (see sqlgen.cache); None: no cache
    describe_timeout: float = DEFAULT_DESCRIBE_TIMEOUT  # seconds any one statement may take while describing

    def schema_files(self) -> list[Path]:
        """Every schema file in application order: folders contribute `*.sql` in natural order,
        or their migrations' up scripts in the tool's order (see `sqlgen.migrations`)."""
        return list(schema_layout(self.schema).files)

    def query_files(self) -> list[Path]:
        layout = schema_layout(self.schema)
        schema = {p.resolve() for p in (*layout.files, *layout.skipped)}
        return [p for p in _sql_files(self.queries) if p.resolve() not in schema]

    def relative(self, path: Path) -> str:
        """`path` relative to the project root, with forward slashes, for generated headers."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.name


@dataclass(frozen=True)
class Overrides:
    """What the command line says; None means "not given"."""

    config: Path | None = None
    schema: tuple[str, ...] | None = None
    queries: tuple[str, ...] | None = None
    out: str | None = None
    database_url: str | None = None


def load_config(overrides: Overrides, cwd: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Merge the config file, the environment and the flags; raises UserError for bad config."""
    cwd = cwd or Path.cwd()
    environ = dict(os.environ) if environ is None else environ
    config_file = overrides.config
    if config_file is not None:
        config_file = cwd / config_file
        if not config_file.is_file():
            raise UserError([Diagnostic(f"config file {config_file} does not exist")])
    elif (cwd / "pyproject.toml").is_file():
        config_file = cwd / "pyproject.toml"

    table: dict[str, Any] = {}
    source: SourceText | None = None
    root = cwd
    if config_file is not None:
        source = read_source(config_file)
        table = _read_table(source, config_file)
        root = config_file.parent

    def located(key: str, message: str, hint: str | None = None) -> Diagnostic:
        return Diagnostic(message, _key_location(source, key), hint=hint) if source else Diagnostic(message, hint=hint)

    errors = [
        located(key, f"unknown key {key!r} in [tool.sqlgen]", hint=f"known keys: {', '.join(KEYS)}")
        for key in table
        if key not in KEYS
    ]

    def paths(key: str, flag: tuple[str, ...] | None) -> tuple[Path, ...]:
        if flag is not None:
            return tuple(cwd / p for p in flag)
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(located(key, f"{key} must be a path or a list of paths"))
            return ()
        return tuple(root / v for v in value)

    schema = paths("schema", overrides.schema)
    queries = paths("queries", overrides.queries)
    out_value = overrides.out if overrides.out is not None else table.get("out")
    if out_value is not None and not isinstance(out_value, str):
        errors.append(located("out", "out must be a path"))
        out_value = None
    url = overrides.database_url or environ.get("DATABASE_URL") or table.get("database_url")
    if url is not None and not isinstance(url, str):
        errors.append(located("database_url", "database_url must be a string"))
        url = None

    flags: dict[str, object] = {}
    for key in ("validate", "frozen"):
        flags[key] = table.get(key, False)
        if not isinstance(flags[key], bool):
            errors.append(located(key, f"{key} must be true or false"))
    type_overrides = _type_overrides(table.get("overrides", {}), source, errors, root)
    channels = _channels(table.get("channels", {}), source, errors)

    if not queries and not errors:
        errors.append(
            Diagnostic(
                "no query files configured",
                hint='add `queries = "queries"` under [tool.sqlgen] in pyproject.toml, or pass --queries',
            )
        )
    if out_value is None and not errors:
        errors.append(
            Diagnostic("no output folder configured", hint='add `out = "generated"` under [tool.sqlgen], or pass --out')
        )
    if errors:
        raise UserError(errors)
    assert out_value is not None
    out = (cwd / out_value) if overrides.out is not None else (root / out_value)
    missing = [
        _missing_path(key, path, flag is not None, cwd, located)
        for key, flag, paths_given in (("schema", overrides.schema, schema), ("queries", overrides.queries, queries))
        for path in paths_given
        if not path.exists()
    ]
    if missing:
        raise UserError(missing)
    models = ModelOptions(validate=flags["validate"] is True, frozen=flags["frozen"] is True)
    cache_value = table.get("cache", True)
    if not isinstance(cache_value, str | bool):
        raise UserError([located("cache", "cache must be a file path, or false for no cache")])
    cache = None if cache_value is False else root / (DEFAULT_CACHE if cache_value is True else cache_value)
    timeout = table.get("describe_timeout", DEFAULT_DESCRIBE_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise UserError([located("describe_timeout", "describe_timeout must be a number of seconds above 0")])
    config = Config(
        root, schema, queries, out, url or None, config_file, type_overrides, channels, models, cache, float(timeout)
    )
    check_out(config)
    return config


def read_toml(source: SourceText) -> dict[str, Any]:
    """Parse a TOML file; invalid TOML is a UserError at its position."""
    try:
        return tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as err:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(err))
        line, column = (int(where[1]), int(where[2])) if where else (1, 1)
        message = f"invalid TOML: {str(err).split(' (at ')[0]}"
        line = min(line, source.text.count("\n") + 1)
        raise UserError([Diagnostic(message, Location(source.path, line, column), source.line_text(line))]) from None


def _read_table(source: SourceText, path: Path) -> dict[str, Any]:
    document = read_toml(source)
    tool = document.get("tool", {})
    if isinstance(tool, dict) and "sqlgen" in tool:
        table = tool["sqlgen"]
    elif path.name == "pyproject.toml":
        table = {}
    else:
        table = document
    if not isinstance(table, dict):
        raise UserError([Diagnostic("[tool.sqlgen] must be a table", Location(source.path, 1, 1))])
    return table


def _missing_path(
    key: str, path: Path, from_flag: bool, cwd: Path, located: Callable[[str, str, str | None], Diagnostic]
) -> Diagnostic:
    """A schema or queries path that does not exist: at its config key (or naming its flag), with what the
    nearest existing folder above it does hold."""
    parent = next((p for p in path.parents if p.is_dir()), None)
    if parent is None:
        held = ""
    else:
        entries = sorted(p.name + ("/" if p.is_dir() else "") for p in parent.iterdir() if not p.name.startswith("."))
        shown = ", ".join(entries[:8]) + (", …" if len(entries) > 8 else "") if entries else "nothing"
        held = f"; {display_path(parent) if parent != cwd else 'the current folder'} holds: {shown}"
    if from_flag:
        message = f"--{key} {display_path(path)} does not exist"
        return Diagnostic(message, hint=f"--{key} paths are relative to the current folder{held}")
    what = "schema files or folders" if key == "schema" else "query files or folders"
    return located(
        key, f"{key} path {display_path(path)} does not exist", f"{key} names {what}, relative to the config file{held}"
    )


def _key_location(source: SourceText, key: str) -> Location:
    match = re.search(rf"^[ \t]*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')[ \t]*=", source.text, re.M)
    return source.location(match.start() if match else 0)


def _type_overrides(
    value: object, source: SourceText | None, errors: list[Diagnostic], root: Path
) -> tuple[TypeOverride, ...]:
    """`[tool.sqlgen.overrides]`: "schema.type" or "schema.table.column" = "package.module.PythonType"."""
    location = _key_location(source, "overrides") if source else None
    if not isinstance(value, dict):
        errors.append(Diagnostic("overrides must be a table", location, hint=_OVERRIDE_EXAMPLE))
        return ()
    overrides = []
    for target, python_type in value.items():
        where = _key_location(source, target) if source else None
        if not re.fullmatch(r"[^.\s]+\.[^.\s]+(\.[^.\s]+)?", target):
            errors.append(
                Diagnostic(f"override target {target!r} is neither a type nor a column", where, hint=_OVERRIDE_EXAMPLE)
            )
            continue
        if not isinstance(python_type, str):
            errors.append(Diagnostic(f"the override for {target!r} must be a string", where, hint=_OVERRIDE_EXAMPLE))
            continue
        try:
            _, imports = python_annotation(python_type)
        except ValueError as err:
            errors.append(Diagnostic(f"the override for {target!r}: {err}", where, hint=_OVERRIDE_EXAMPLE))
            continue
        modules = {line.split()[1].split(".")[0] for line in imports}
        first_party = frozenset(m for m in modules if _in_project(root, m))
        overrides.append(TypeOverride(target, python_type, where, first_party))
    return tuple(overrides)


def _channels(value: object, source: SourceText | None, errors: list[Diagnostic]) -> tuple[ChannelConfig, ...]:
    """`[tool.sqlgen.channels]`: "channel" = "table, view or composite type" or "package.module.Model"."""
    if not isinstance(value, dict):
        location = _key_location(source, "channels") if source else None
        errors.append(Diagnostic("channels must be a table", location, hint=_CHANNEL_EXAMPLE))
        return ()
    channels = []
    for name, payload in value.items():
        where = _key_location(source, name) if source else None
        if not isinstance(payload, str) or not payload.strip():
            errors.append(Diagnostic(f"the payload of channel {name!r} must be a string", where, hint=_CHANNEL_EXAMPLE))
            continue
        channels.append(ChannelConfig(name, payload.strip(), where))
    return tuple(channels)


_CHANNEL_EXAMPLE = 'e.g. book_price_changes = "book_price_change" (a table or composite type) or "myapp.events.Event"'


def _in_project(root: Path, module: str) -> bool:
    """Whether `module` is the project's own, where isort and ruff look for first-party code."""
    return any((folder / module).is_dir() or (folder / f"{module}.py").is_file() for folder in (root, root / "src"))


_OVERRIDE_EXAMPLE = 'e.g. "pg_catalog.jsonb" = "myapp.schemas.Document" or "public.orders.payload" = "dict[str, int]"'


def _sql_files(paths: tuple[Path, ...]) -> list[Path]:
    """Files, and folders' `*.sql` files in natural name order, without repeats."""
    files: list[Path] = []
    for path in paths:
        files.extend(natural_order(list(path.glob("*.sql"))) if path.is_dir() else [path])
    return list(unique_paths(files))


def check_out(config: Config) -> None:
    """Refuse an output folder that is, or holds, the project root, the working directory or a source folder."""
    out = config.out.resolve()
    protected = {config.root.resolve(), Path.cwd().resolve()}
    protected.update(p.resolve() if p.is_dir() else p.resolve().parent for p in (*config.schema, *config.queries))
    for folder in protected:
        if out == folder or out in folder.parents:
            raise UserError(
                [
                    Diagnostic(
                        f"refusing to write generated code to {display_path(config.out)}: it holds or contains "
                        f"the project's own files ({display_path(folder)})",
                        hint='choose a folder of its own, e.g. `out = "generated"`',
                    )
                ]
            )
