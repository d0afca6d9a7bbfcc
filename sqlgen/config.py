"""The config stage: `[tool.sqlgen]` in pyproject.toml, overridden by flags and the environment."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlgen.errors import Diagnostic, Location, SourceText, UserError, did_you_mean, display_path
from sqlgen.layout import ModelOptions
from sqlgen.migrations import natural_key, schema_layout, unique_paths
from sqlgen.naming import module_name, unique
from sqlgen.source import holds_queries, read_source
from sqlgen.table_names import TableNaming
from sqlgen.typemap import TypeOverride, python_annotation

PACKAGE_KEYS = (
    "name",
    "schema",
    "queries",
    "out",
    "database_url",
    "describe_timeout",
    "verify",
    "vet",
    "cache",
    "validate",
    "frozen",
    "target",
    "overrides",
    "channels",
    "non_null_functions",
    "exact_table_names",
    "rename",
    "line_length",
)
KEYS = PACKAGE_KEYS[1:]  # [tool.sqlgen] for one package; `packages` and `name` belong to several
DEFAULT_DESCRIBE_TIMEOUT = 30.0  # seconds; PostgreSQL describes a statement in milliseconds
MAX_DESCRIBE_TIMEOUT = 3600.0  # an hour: more is a mistake (nan, inf and 1e300 are TOML floats too)
DEFAULT_CACHE = ".sqlgen/cache.json"
DEFAULT_LINE_LENGTH = 88  # ruff's and black's
MAX_LINE_LENGTH = 320  # ruff's


@dataclass(frozen=True)
class ChannelConfig:
    """One `[tool.sqlgen.channels]` entry: a LISTEN/NOTIFY channel and what its payloads are."""

    name: str  # the channel, as PostgreSQL names it
    payload: str  # a table, view or composite type of the schema, or a pydantic model's import path
    location: Location | None = None


@dataclass(frozen=True)
class VetSetting:
    """One rule's line in `[tool.sqlgen.vet]`: `rule = "error" | "warning" | "off"`."""

    rule: str
    severity: str
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
    non_null_functions: tuple[str, ...] = ()  # user functions declared non-null for non-null arguments
    name: str | None = None  # the package's name when the configuration has several
    naming: TableNaming = TableNaming()
    query_bases: tuple[tuple[Path, Path], ...] = ()  # a query file → the folder its module is named from
    notes: tuple[Diagnostic, ...] = ()  # what the configuration says that sqlgen ignores (severity "note")
    verify_unabsorbable: str = "error"  # [tool.sqlgen.verify] unabsorbable: "error" or "warning"
    vet: tuple[VetSetting, ...] = ()  # [tool.sqlgen.vet]: rule severities (sqlgen.vet checks the names)
    vet_in_check: bool = False  # [tool.sqlgen.vet] check = true: `sqlgen check` also runs the vet rules
    line_length: int = DEFAULT_LINE_LENGTH  # generated code is formatted with ruff at this length

    def schema_files(self) -> list[Path]:
        """Every schema file in application order: folders contribute `*.sql` in natural order,
        or their migrations' up scripts in the tool's order (see `sqlgen.migrations`)."""
        return list(schema_layout(self.schema).files)

    def query_files(self) -> list[Path]:
        return [path for path, _ in self.query_modules()]

    def query_modules(self) -> list[tuple[Path, str]]:
        """Every query file, with the module it generates: named from its path below the queries folder
        (`queries/users/queries.sql` → `users_queries`), or from its name for a file listed itself; files
        whose names would be the same take as many of their parent folders as tell them apart
        (`alert/queries.sql`, `user/queries.sql` → `alert_queries`, `user_queries`).
        Folders are read with their subfolders, except schema folders and hidden ones."""
        layout = schema_layout(self.schema)
        schema = {p.resolve() for p in (*layout.files, *layout.skipped)}
        schema_folders = tuple(p.resolve() for p in self.schema if p.is_dir())
        bases = {path.resolve(): base for path, base in self.query_bases}
        found: list[tuple[Path, Path]] = []
        for path in self.queries:
            if path.is_dir():
                found.extend((file, path) for file in _sql_tree(path, schema_folders))
            else:
                found.append((path, bases.get(path.resolve(), path.parent)))
        files = unique_paths([file for file, _ in found])
        base_of = {file: base for file, base in reversed(found)}
        named = [
            (file, _module_for(file, base_of[file]))
            for file in files
            if file.resolve() not in schema or holds_queries(file)
        ]
        return _apart(named)

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
    """The configuration of a project with one package; raises UserError for bad config, or several packages."""
    configs = load_configs(overrides, cwd, environ)
    if len(configs) > 1:
        names = ", ".join(c.name or display_path(c.out) for c in configs)
        raise UserError(
            [
                Diagnostic(
                    f"{display_path(configs[0].config_file or Path('.'))} configures {len(configs)} packages ({names}):"
                    " this command handles one",
                    hint="pass --config with a file configuring one package, or use `sqlgen generate`/`check`",
                )
            ]
        )
    return configs[0]


def load_configs(
    overrides: Overrides, cwd: Path | None = None, environ: dict[str, str] | None = None
) -> tuple[Config, ...]:
    """Every package the configuration names, with the environment and the flags merged; raises UserError for
    bad config. The file is `--config`, else `[tool.sqlgen]` in pyproject.toml, else sqlc's own
    (sqlc.yaml, sqlc.yml, sqlc.json: see `sqlgen.sqlc_config`)."""
    cwd = cwd or Path.cwd()
    environ = dict(os.environ) if environ is None else environ
    config_file = overrides.config
    if config_file is not None:
        config_file = cwd / config_file
        if not config_file.exists():  # anything but a regular file is refused when it is read
            raise UserError([Diagnostic(f"config file {config_file} does not exist")])
    else:
        config_file = _find_config(cwd)
    if config_file is not None and is_sqlc_config(config_file):
        from sqlgen.sqlc_config import read_sqlc_config

        tables, notes = read_sqlc_config(config_file, environ)
        root = config_file.parent
        if not tables:
            raise UserError([Diagnostic(f"{display_path(config_file)} has no PostgreSQL package", hint=_SQLC_HINT)])
        return _packages(tables, notes, overrides, cwd, environ, root, config_file)
    if config_file is None:
        return _packages([PackageTable({}, {})], [], overrides, cwd, environ, cwd, None)
    source = read_source(config_file)
    table, prefix = _read_table(source, config_file)
    positions = {
        path[len(prefix) :]: where for path, where in toml_positions(source).items() if path[: len(prefix)] == prefix
    }
    tables = _package_tables(table, positions, source)
    return _packages(tables, [], overrides, cwd, environ, config_file.parent, config_file)


_SQLC_HINT = "sqlgen reads sql blocks (version 2) or packages (version 1) with engine: postgresql"
SQLC_CONFIG_NAMES = ("sqlc.yaml", "sqlc.yml", "sqlc.json")


def is_sqlc_config(path: Path) -> bool:
    """Whether `path` is read as sqlc's configuration (YAML or JSON) rather than TOML."""
    return path.suffix in (".yaml", ".yml", ".json")


def _find_config(cwd: Path) -> Path | None:
    """pyproject.toml when it has a [tool.sqlgen] table, else sqlc's file, else pyproject.toml, else none."""
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        try:
            document = tomllib.loads(pyproject.read_text(encoding="utf-8", errors="replace"))
        except tomllib.TOMLDecodeError:
            return pyproject  # reading it again reports where
        tool = document.get("tool")
        if isinstance(tool, dict) and "sqlgen" in tool:
            return pyproject
    sqlc = next((cwd / name for name in SQLC_CONFIG_NAMES if (cwd / name).is_file()), None)
    if sqlc is not None:
        return sqlc
    return pyproject if pyproject.is_file() else None


Key = tuple[str | int, ...]  # a path into a config document: ("packages", 0, "out")


@dataclass(frozen=True)
class PackageTable:
    """One package's settings in sqlgen's own keys, with where each key was written."""

    values: dict[str, Any]
    positions: dict[Key, Location]  # by key path within this package's table
    query_bases: tuple[tuple[Path, Path], ...] = ()  # query file → the folder its module name is relative to
    name: str | None = None  # the package's label in messages and its cache file, with several packages
    singular_exceptions: tuple[str, ...] = ()  # table names kept as they are (sqlc's inflection_exclude_table_names)
    source_lines: dict[int, str] | None = None  # the config file's lines, for carets; None: no caret
    own_keys: frozenset[str] = frozenset()  # the keys of its [[tool.sqlgen.packages]] entry (not inherited)

    def locate(self, *key: str | int) -> Location | None:
        """Where `key` (or the nearest enclosing key written) is."""
        path: Key = key
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get(())

    def diagnostic(self, message: str, *key: str | int, hint: str | None = None) -> Diagnostic:
        where = self.locate(*key)
        line = self.source_lines.get(where.line) if where is not None and self.source_lines else None
        return Diagnostic(message, where, line, hint=hint)


def _package_tables(table: dict[str, Any], positions: dict[Key, Location], source: SourceText) -> list[PackageTable]:
    """`[tool.sqlgen]` as one package, or its `[[tool.sqlgen.packages]]`, each inheriting the keys around them."""
    lines = dict(enumerate(source.text.split("\n"), 1))
    packages = table.get("packages")
    if packages is None:
        return [PackageTable(table, positions, source_lines=lines)]
    top = PackageTable(table, positions, source_lines=lines)
    if not isinstance(packages, list) or not packages or not all(isinstance(p, dict) for p in packages):
        raise UserError([top.diagnostic("packages must be an array of tables ([[tool.sqlgen.packages]])", "packages")])
    shared = {k: v for k, v in table.items() if k != "packages"}
    result = []
    for index, package in enumerate(packages):
        own = {k[2:]: where for k, where in positions.items() if k[:2] == ("packages", index)}
        inherited = {k: where for k, where in positions.items() if k[:1] != ("packages",)}
        name = package.get("name") if isinstance(package.get("name"), str) else None
        values = {**shared, **package}
        table_of = PackageTable(
            values, {**inherited, **own}, name=name, source_lines=lines, own_keys=frozenset(package)
        )
        result.append(table_of)
    return result


def _packages(
    tables: list[PackageTable],
    notes: list[Diagnostic],
    overrides: Overrides,
    cwd: Path,
    environ: dict[str, str],
    root: Path,
    config_file: Path | None,
) -> tuple[Config, ...]:
    several = len(tables) > 1
    if several and (overrides.schema is not None or overrides.queries is not None):
        raise UserError(
            [Diagnostic("--schema and --queries need a configuration of one package", hint="pass --config too")]
        )
    names = unique([module_name(t.name or f"package_{i}") for i, t in enumerate(tables, 1)]) if several else []
    configs = []
    errors: list[Diagnostic] = []
    for index, table in enumerate(tables):
        name = names[index] if several else table.name
        try:
            configs.append(_package_config(table, name, several, overrides, cwd, environ, root, config_file))
        except UserError as err:
            errors.extend(err.diagnostics)
    if errors:
        raise UserError(list(dict.fromkeys(errors)))  # a shared key's mistake is reported once, not per package
    if several:
        outs: dict[Path, str] = {}
        for config in configs:
            out = config.out.resolve()
            if out in outs:
                errors.append(
                    Diagnostic(f"packages {outs[out]} and {config.name} both write to {display_path(config.out)}")
                )
            outs[out] = config.name or ""
        if errors:
            raise UserError(errors)
    if notes:
        configs[0] = dataclasses.replace(configs[0], notes=(*notes, *configs[0].notes))
    return tuple(configs)


def _package_config(
    table: PackageTable,
    name: str | None,
    several: bool,
    overrides: Overrides,
    cwd: Path,
    environ: dict[str, str],
    root: Path,
    config_file: Path | None,
) -> Config:
    values = table.values
    located = table.diagnostic
    allowed = PACKAGE_KEYS if several or "packages" not in values else (*KEYS, "packages")
    errors = []
    for key in values:
        if key not in allowed:
            hint = did_you_mean(key, allowed, f"known keys: {', '.join(allowed)}")
            where = "[[tool.sqlgen.packages]]" if key in table.own_keys else "[tool.sqlgen]"
            errors.append(located(f"unknown key {key!r} in {where}", key, hint=hint))

    def paths(key: str, flag: tuple[str, ...] | None) -> tuple[Path, ...]:
        if flag is not None:
            return tuple(cwd / p for p in flag)
        value = values.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(located(f"{key} must be a path or a list of paths", key))
            return ()
        return tuple(root / v for v in value)

    schema = paths("schema", overrides.schema)
    queries = paths("queries", overrides.queries)
    out_value = values.get("out")
    if out_value is not None and not isinstance(out_value, str):
        errors.append(located("out must be a path", "out"))
        out_value = None
    url = overrides.database_url or environ.get("DATABASE_URL") or values.get("database_url")
    if url is not None and not isinstance(url, str):
        errors.append(located("database_url must be a string", "database_url"))
        url = None

    flags: dict[str, object] = {}
    for key in ("validate", "frozen", "exact_table_names"):
        flags[key] = values.get(key, False)
        if not isinstance(flags[key], bool):
            errors.append(located(f"{key} must be true or false", key))
    type_overrides = _type_overrides(values.get("overrides", {}), table, errors, root)
    channels = _channels(values.get("channels", {}), table, errors)
    renames = values.get("rename", {})
    if not isinstance(renames, dict) or not all(isinstance(v, str) for v in renames.values()):
        errors.append(located('rename must be a table of names: table = "ModelName"', "rename"))
        renames = {}

    label = f" (package {name})" if name else ""
    if not queries and not errors:
        errors.append(
            located(
                f"no query files configured{label}",
                "queries",
                hint='add `queries = "queries"` under [tool.sqlgen] in pyproject.toml, or pass --queries',
            )
        )
    if out_value is None and overrides.out is None and not errors:
        errors.append(
            located(
                f"no output folder configured{label}",
                "out",
                hint='add `out = "generated"` under [tool.sqlgen], or pass --out',
            )
        )
    if errors:
        raise UserError(errors)
    if overrides.out is not None:  # with several packages, --out is the folder they go in
        out = cwd / overrides.out / (name or "") if several else cwd / overrides.out
    else:
        assert out_value is not None
        out = root / out_value
    missing = [
        _missing_path(key, path, flag is not None, cwd, located)
        for key, flag, paths_given in (("schema", overrides.schema, schema), ("queries", overrides.queries, queries))
        for path in paths_given
        if not path.exists()
    ]
    if missing:
        raise UserError(missing)
    target = _target(values, table, flags["validate"] is True)
    models = ModelOptions(validate=flags["validate"] is True, frozen=flags["frozen"] is True, target=target)
    cache_value = values.get("cache", True)
    if not isinstance(cache_value, str | bool):
        raise UserError([located("cache must be a file path, or false for no cache", "cache")])
    default_cache = f".sqlgen/cache-{name}.json" if several else DEFAULT_CACHE
    cache = None if cache_value is False else root / (default_cache if cache_value is True else cache_value)
    if cache is not None:
        from sqlgen.cache import cache_refusal, not_a_cache  # sqlgen.cache imports this module

        if problem := not_a_cache(cache):
            raise UserError([cache_refusal(cache, problem, table.locate("cache"))])
    timeout = values.get("describe_timeout", DEFAULT_DESCRIBE_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= MAX_DESCRIBE_TIMEOUT:
        raise UserError(
            [
                located(
                    f"describe_timeout must be a number of seconds above 0, at most {MAX_DESCRIBE_TIMEOUT:g}"
                    f" (it is {timeout!r})",
                    "describe_timeout",
                    hint=f"e.g. describe_timeout = {DEFAULT_DESCRIBE_TIMEOUT:g}",
                )
            ]
        )
    naming = TableNaming(flags["exact_table_names"] is True, tuple(sorted(renames.items())), table.singular_exceptions)
    verify_table = values.get("verify", {})
    unabsorbable = verify_table.get("unabsorbable", "error") if isinstance(verify_table, dict) else None
    if unabsorbable not in ("error", "warning") or set(verify_table) - {"unabsorbable"}:
        raise UserError([located('[tool.sqlgen.verify] takes one key, unabsorbable = "error" or "warning"', "verify")])
    vet_table = values.get("vet", {})
    if not isinstance(vet_table, dict):
        raise UserError([located("[tool.sqlgen.vet] is a table of rule = severity", "vet")])
    vet_in_check = vet_table.get("check", False)
    if not isinstance(vet_in_check, bool):
        raise UserError([located("check in [tool.sqlgen.vet] must be true or false", "vet", "check")])
    vet_settings = []
    for rule, severity in vet_table.items():
        if rule == "check":
            continue
        if severity not in ("error", "warning", "off"):
            raise UserError(
                [located(f'the vet rule {rule} takes "error", "warning" or "off", not {severity!r}', "vet", rule)]
            )
        vet_settings.append(VetSetting(rule, severity, table.locate("vet", rule)))
    config = Config(
        root,
        schema,
        queries,
        out,
        url or None,
        config_file,
        type_overrides,
        channels,
        models,
        cache,
        float(timeout),
        name=name,
        naming=naming,
        query_bases=table.query_bases,
        verify_unabsorbable=str(unabsorbable),
        vet=tuple(vet_settings),
        vet_in_check=vet_in_check,
    )
    config = replace(
        config,
        non_null_functions=_non_null_functions(values.get("non_null_functions", []), table),
        line_length=_line_length(values, table, root),
    )
    check_out(config)
    return config


def _target(values: dict[str, Any], table: PackageTable, validate: bool) -> str:
    """`target` in [tool.sqlgen]: what generated models are built with (see `sqlgen.targets`)."""
    from sqlgen.targets import DEFAULT_TARGET, TARGETS

    name = values.get("target", DEFAULT_TARGET)
    known = sorted(TARGETS)
    if not isinstance(name, str) or name not in TARGETS:
        shown = name if isinstance(name, str) else repr(name)
        hint = did_you_mean(shown, known, f"known targets: {', '.join(known)}") if isinstance(name, str) else None
        message = f"unknown target {shown!r}" if isinstance(name, str) else f"target must be a string (it is {shown})"
        raise UserError([table.diagnostic(message, "target", hint=hint or f"known targets: {', '.join(known)}")])
    if validate and not TARGETS[name].validates:
        raise UserError(
            [
                table.diagnostic(
                    f"validate = true is not available with the {name} target",
                    "validate",
                    hint="remove validate (rows are built from values asyncpg has typed), or use asyncpg-pydantic",
                )
            ]
        )
    return name


def _line_length(values: dict[str, Any], table: PackageTable, root: Path) -> int:
    """`line_length` in [tool.sqlgen], else the project's [tool.ruff] line-length (so that the user's
    `ruff format` leaves the generated code as it is), else ruff's default."""
    if "line_length" not in values:
        return _ruff_line_length(root / "pyproject.toml")
    value = values["line_length"]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LINE_LENGTH:
        raise UserError(
            [
                table.diagnostic(
                    f"line_length must be a whole number of characters from 1 to {MAX_LINE_LENGTH} (it is {value!r})",
                    "line_length",
                    hint=f"e.g. line_length = {DEFAULT_LINE_LENGTH}, or leave it out to use [tool.ruff] line-length",
                )
            ]
        )
    return value


def _ruff_line_length(pyproject: Path) -> int:
    try:
        tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return DEFAULT_LINE_LENGTH
    ruff = tool.get("ruff", {}) if isinstance(tool, dict) else {}
    value = ruff.get("line-length") if isinstance(ruff, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LINE_LENGTH:
        return DEFAULT_LINE_LENGTH  # ruff itself reports a bad value
    return value


def _non_null_functions(value: object, table: PackageTable) -> tuple[str, ...]:
    """`non_null_functions = ["plus", "billing.net_total"]`: functions (by name, or schema.name) the
    user declares non-null for non-null arguments, where sqlgen cannot read their bodies."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UserError(
            [
                table.diagnostic(
                    "non_null_functions must be a list of function names (name or schema.name)", "non_null_functions"
                )
            ]
        )
    return tuple(sorted({v.strip() for v in value}))


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


def _read_table(source: SourceText, path: Path) -> tuple[dict[str, Any], Key]:
    """sqlgen's table and its key path in the document: [tool.sqlgen], or the whole file when it is not pyproject."""
    document = read_toml(source)
    tool = document.get("tool", {})
    prefix: Key
    if isinstance(tool, dict) and "sqlgen" in tool:
        table, prefix = tool["sqlgen"], ("tool", "sqlgen")
    elif path.name == "pyproject.toml":
        table, prefix = {}, ("tool", "sqlgen")
    else:
        table, prefix = document, ()
    if not isinstance(table, dict):
        raise UserError([Diagnostic("[tool.sqlgen] must be a table", Location(source.path, 1, 1))])
    return table, prefix


_BARE_KEY = r"[A-Za-z0-9_-]+"
_KEY_PART = r"(?:[A-Za-z0-9_-]+|\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*')"
_DOTTED_KEY = rf"{_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART})*"
_HEADER = re.compile(rf"[ \t]*(\[\[?)[ \t]*({_DOTTED_KEY})[ \t]*\]")
_KEY_LINE = re.compile(rf"[ \t]*({_DOTTED_KEY})[ \t]*=")


def toml_positions(source: SourceText) -> dict[Key, Location]:
    """Where each table header and key of a (valid) TOML document is written, by its full key path; an
    array of tables' entries are numbered (`("tool", "sqlgen", "packages", 1, "out")`). tomllib keeps no
    positions, so the document's lines are walked: headers and `key =` lines outside multi-line strings and
    arrays. Keys inside inline tables are located at the inline table's own key.

    >>> text = '[a]\\nx = 1\\n[[a.p]]\\nx = 2\\n[[a.p]]\\n"y" = 3\\n'
    >>> for key, where in toml_positions(SourceText("f.toml", text)).items():
    ...     print(key, where.line, where.column)
    ('a',) 1 2
    ('a', 'x') 2 1
    ('a', 'p', 0) 3 3
    ('a', 'p', 0, 'x') 4 1
    ('a', 'p', 1) 5 3
    ('a', 'p', 1, 'y') 6 1
    """
    positions: dict[Key, Location] = {}
    arrays: dict[tuple[str, ...], int] = {}  # an array of tables' key → its last entry's index
    table: Key = ()
    offset = 0
    depth = 0  # open brackets of a multi-line array
    in_string: str | None = None
    for line in source.text.split("\n"):
        start, offset = offset, offset + len(line) + 1
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        if depth == 0:
            header = _HEADER.match(line)
            key_line = None if header else _KEY_LINE.match(line)
            if header is not None:
                parts = _key_parts(header[2])
                if header[1] == "[[":
                    arrays[tuple(parts)] = arrays.get(tuple(parts), -1) + 1
                table = _with_indexes(parts, arrays)
                positions.setdefault(table, source.location(start + header.start(2)))
            elif key_line is not None:
                positions.setdefault((*table, *_key_parts(key_line[1])), source.location(start + key_line.start(1)))
        value = line.split("=", 1)[1] if depth == 0 and _KEY_LINE.match(line) else line
        for quote in ('"""', "'''"):
            if value.count(quote) % 2 == 1:
                in_string = quote
        if in_string is None:
            depth = max(0, depth + _bracket_balance(value))
    return positions


def _bracket_balance(text: str) -> int:
    """Opened minus closed brackets of a value's line, outside strings and comments."""
    balance = 0
    quote: str | None = None
    for index, char in enumerate(text):
        if quote is not None:
            if char == quote and (quote == "'" or text[index - 1] != "\\"):
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char == "[":
            balance += 1
        elif char == "]":
            balance -= 1
    return balance


def _key_parts(dotted: str) -> list[str]:
    parts = re.findall(_KEY_PART, dotted)
    return [tomllib.loads(f"k = {p}")["k"] if p[0] in "\"'" else p for p in parts]


def _with_indexes(parts: list[str], arrays: dict[tuple[str, ...], int]) -> Key:
    """A header's key path with the current entry of each array of tables along it."""
    path: list[str | int] = []
    for count in range(1, len(parts) + 1):
        path.append(parts[count - 1])
        if tuple(parts[:count]) in arrays:
            path.append(arrays[tuple(parts[:count])])
    return tuple(path)


def _missing_path(key: str, path: Path, from_flag: bool, cwd: Path, located: Callable[..., Diagnostic]) -> Diagnostic:
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
        f"{key} path {display_path(path)} does not exist",
        key,
        hint=f"{key} names {what}, relative to the config file{held}",
    )


def _type_overrides(
    value: object, table: PackageTable, errors: list[Diagnostic], root: Path
) -> tuple[TypeOverride, ...]:
    """`[tool.sqlgen.overrides]`: "schema.type" or "schema.table.column" = "package.module.PythonType"."""
    if not isinstance(value, dict):
        errors.append(table.diagnostic("overrides must be a table", "overrides", hint=_OVERRIDE_EXAMPLE))
        return ()
    overrides = []
    for target, python_type in value.items():
        where = table.locate("overrides", target)
        if not re.fullmatch(r"[^.\s]+(\.[^.\s]+){1,2}|\w+( \w+)*", target):  # a type's name alone may have spaces
            errors.append(
                table.diagnostic(
                    f"override target {target!r} is neither a type nor a column",
                    "overrides",
                    target,
                    hint=_OVERRIDE_EXAMPLE,
                )
            )
            continue
        if not isinstance(python_type, str):
            errors.append(
                table.diagnostic(
                    f"the override for {target!r} must be a string", "overrides", target, hint=_OVERRIDE_EXAMPLE
                )
            )
            continue
        try:
            _, imports = python_annotation(python_type)
        except ValueError as err:
            errors.append(
                table.diagnostic(f"the override for {target!r}: {err}", "overrides", target, hint=_OVERRIDE_EXAMPLE)
            )
            continue
        modules = {line.split()[1].split(".")[0] for line in imports}
        first_party = frozenset(m for m in modules if _in_project(root, m))
        overrides.append(TypeOverride(target, python_type, where, first_party))
    return tuple(overrides)


def _channels(value: object, table: PackageTable, errors: list[Diagnostic]) -> tuple[ChannelConfig, ...]:
    """`[tool.sqlgen.channels]`: "channel" = "table, view or composite type" or "package.module.Model"."""
    if not isinstance(value, dict):
        errors.append(table.diagnostic("channels must be a table", "channels", hint=_CHANNEL_EXAMPLE))
        return ()
    channels = []
    for name, payload in value.items():
        where = table.locate("channels", name)
        if not isinstance(payload, str) or not payload.strip():
            errors.append(
                table.diagnostic(
                    f"the payload of channel {name!r} must be a string", "channels", name, hint=_CHANNEL_EXAMPLE
                )
            )
            continue
        channels.append(ChannelConfig(name, payload.strip(), where))
    return tuple(channels)


_CHANNEL_EXAMPLE = 'e.g. book_price_changes = "book_price_change" (a table or composite type) or "myapp.events.Event"'


def _in_project(root: Path, module: str) -> bool:
    """Whether `module` is the project's own, where isort and ruff look for first-party code."""
    return any((folder / module).is_dir() or (folder / f"{module}.py").is_file() for folder in (root, root / "src"))


_OVERRIDE_EXAMPLE = 'e.g. "pg_catalog.jsonb" = "myapp.schemas.Document" or "public.orders.payload" = "dict[str, int]"'


def _sql_tree(folder: Path, skip: tuple[Path, ...]) -> list[Path]:
    """A folder's `*.sql` files and its subfolders', in natural order of their path below it; hidden files
    and folders, and the folders in `skip`, left out."""
    files = []
    for path in folder.rglob("*.sql"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or path.is_dir():
            continue  # a folder named `x.sql` is a subfolder; anything else that is not a file is refused when read
        resolved = path.resolve()
        inside = [s for s in skip if s != folder.resolve() and s.is_relative_to(folder.resolve())]
        if any(resolved.is_relative_to(s) for s in inside):
            continue
        files.append(path)
    return sorted(files, key=lambda p: [natural_key(part) for part in p.relative_to(folder).parts])


def _apart(named: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """Same-named modules of different files, prefixed with their nearest parent folders until they differ
    (a clash that folders cannot settle is left for the duplicate-module error)."""
    groups: dict[str, list[Path]] = {}
    for file, module in named:
        groups.setdefault(module, []).append(file)
    renamed: dict[Path, str] = {}
    for module, files in groups.items():
        if len(files) < 2:
            continue
        parents = [file.resolve().parent.parts for file in files]
        for depth in range(1, max(len(p) for p in parents) + 1):
            names = [module_name("_".join((*p[len(p) - depth :], module))) for p in parents]
            if len(set(names)) == len(names):
                renamed.update(zip(files, names, strict=True))
                break
    taken = {module for file, module in named if file not in renamed}
    return [(file, renamed[file] if renamed.get(file, module) not in taken else module) for file, module in named]


def _module_for(file: Path, base: Path) -> str:
    """`users/queries.sql` below `base` → `users_queries`; a file directly in it: its name alone."""
    try:
        parts = file.relative_to(base).with_suffix("").parts
    except ValueError:
        parts = (file.stem,)
    return module_name("_".join(parts) if parts else file.stem)


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
