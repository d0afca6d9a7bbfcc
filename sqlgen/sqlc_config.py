"""sqlc's own configuration (`sqlc.yaml`, `sqlc.yml`, `sqlc.json`, versions 1 and 2) as sqlgen packages.

Each `engine: postgresql` entry (version 2's `sql:`, version 1's `packages:`) becomes one
package, in sqlgen's own keys (see `sqlgen.config.PackageTable`), with every key located in
the file. What sqlgen reads:

- `schema` and `queries`, relative to the file; each path expanded as sqlc does (Go's
  `filepath.Glob` when it holds `*?[]`, where `*` stays within one folder and `**` is `*`);
  a folder means its own `.sql` files (not its subfolders'), hidden files and down
  migrations left out. A query file's module is named from its path below the pattern's
  fixed folder: `*/queries.sql` gives `users_queries` for `users/queries.sql`.
- Where the package goes: the `out` of a `codegen` entry for a Python plugin
  (sqlc-gen-python's `plugin: py`), else `generated/<name>`, where the name is the Python
  plugin's `options.package`, else the Go package (`gen.go.package`, or the last folder of
  `gen.go.out`, or version 1's `path`), else the entry's `name`.
- `overrides` by `db_type` or `column`, with the Python type in `py_type` (and `py_import`),
  the keys sqlc's Python plugins use; `rename`; `emit_exact_table_names`;
  `inflection_exclude_table_names`; `database.uri` (a live database, `${VAR}` expanded).

Everything else (other engines, Go types, Go-only options, sqlc Cloud) is a one-line note,
never an error.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sqlgen.config import Key, PackageTable
from sqlgen.errors import Diagnostic, Location, SourceText, UserError, display_path
from sqlgen.naming import module_name, unique
from sqlgen.source import read_source

# What each place of the file may hold that sqlgen reads; other keys there get a note.
_V2_SQL_KEYS = frozenset({"name", "engine", "schema", "queries", "database", "gen", "codegen"})
_GO_READ = frozenset(
    {"package", "out", "overrides", "rename", "emit_exact_table_names", "inflection_exclude_table_names"}
)
_PYTHON_READ = frozenset({"package", "emit_exact_table_names", "overrides", "inflection_exclude_table_names"})
_V1_READ = frozenset({"name", "engine", "path", "schema", "queries", "database", "overrides", "rename"}) | {
    "emit_exact_table_names",
    "inflection_exclude_table_names",
}
_GLOB_CHARS = re.compile(r"[*?\[\]]")


@dataclass
class _Document:
    """The parsed file: plain values, and where each node of it starts."""

    source: SourceText
    value: Any
    positions: dict[Key, Location]  # where each key (or list item) is written
    value_positions: dict[Key, Location]  # where each key's value starts
    notes: list[Diagnostic] = field(default_factory=list)

    def at(self, key: Key) -> Location | None:
        while key and key not in self.positions:
            key = key[:-1]
        return self.positions.get(key)

    def note(self, message: str, key: Key) -> None:
        where = self.at(key)
        line = self.source.line_text(where.line) if where else None
        self.notes.append(Diagnostic(message, where, line, severity="note"))

    def error(self, message: str, key: Key, hint: str | None = None, *, at_value: bool = False) -> UserError:
        where = self.value_positions.get(key) if at_value else None
        where = where or self.at(key)
        line = self.source.line_text(where.line) if where else None
        return UserError([Diagnostic(message, where, line, hint=hint)])


def read_sqlc_config(path: Path, environ: dict[str, str]) -> tuple[list[PackageTable], list[Diagnostic]]:
    """The PostgreSQL packages of a sqlc configuration file, and notes on what sqlgen ignores in it."""
    document = _parse(read_source(path))
    root = path.parent
    top = document.value
    if not isinstance(top, dict):
        raise document.error("a sqlc configuration is a mapping with a version", ())
    version = str(top.get("version", ""))
    if version == "2":
        packages = list(_version_two(document, top, root, environ))
    elif version == "1":
        packages = list(_version_one(document, top, root, environ))
    else:
        raise document.error(
            f"unknown sqlc configuration version {version!r}" if version else "the sqlc configuration has no version",
            ("version",),
            hint='sqlc configurations start with `version: "2"` (or "1")',
        )
    names = unique([module_name(p.name or f"package_{i}") for i, p in enumerate(packages, 1)])
    for package, name in zip(packages, names, strict=True):
        package.name = name
        if "out" not in package.values:
            package.values["out"] = str(root / "generated" / name)
    return [p.table() for p in packages], document.notes


def _parse(source: SourceText) -> _Document:
    """YAML (JSON is read as YAML: a tab is whitespace there, so tabs become spaces, offsets kept)."""
    text = source.text.replace("\t", " ") if source.path.endswith(".json") else source.text
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        where = source.location(mark.index) if mark is not None else Location(source.path, 1, 1)
        raise UserError([Diagnostic(f"invalid YAML: {problem}", where, source.line_text(where.line))]) from None
    document = _Document(source, {}, {}, {})
    if node is not None:
        document.value = _plain(node, (), document)
    return document


def _plain(node: yaml.Node, key: Key, document: _Document) -> Any:
    """A composed YAML node as plain values, recording where each key, item and value starts."""
    start = document.source.location(node.start_mark.index)
    document.positions.setdefault(key, start)
    document.value_positions[key] = start
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            document.positions[(*key, name)] = document.source.location(key_node.start_mark.index)
            result[name] = _plain(value_node, (*key, name), document)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*key, index), document) for index, item in enumerate(node.value)]
    return _CONSTRUCTOR.construct_object(node, deep=True)


_CONSTRUCTOR = yaml.SafeLoader("")  # turns scalar nodes into values (ints, booleans, strings) by YAML's rules


@dataclass
class _Package:
    """One package being translated into sqlgen's keys, with positions for each."""

    document: _Document
    key: Key  # where the entry is: ("sql", 0)
    values: dict[str, Any] = field(default_factory=dict)
    positions: dict[Key, Location] = field(default_factory=dict)
    bases: list[tuple[Path, Path]] = field(default_factory=list)
    name: str | None = None
    out_from_plugin: bool = False
    exceptions: tuple[str, ...] = ()

    def set(self, name: str, value: Any, at: Key) -> None:
        self.values[name] = value
        where = self.document.at(at)
        if where is not None:
            self.positions[(name,)] = where

    def table(self) -> PackageTable:
        where = self.document.at(self.key)
        if where is not None:
            self.positions[()] = where
        lines = dict(enumerate(self.document.source.text.split("\n"), 1))
        return PackageTable(self.values, self.positions, tuple(self.bases), self.name, self.exceptions, lines)


def _version_two(document: _Document, top: dict[str, Any], root: Path, environ: dict[str, str]) -> Iterator[_Package]:
    for name in top:
        if name in ("cloud", "servers", "rules", "options"):
            document.note(f"sqlc's `{name}` is ignored by sqlgen", (name,))
        elif name not in ("version", "sql", "overrides", "plugins"):
            document.note(f"unknown sqlc key `{name}` ignored", (name,))
    global_go = _mapping(top.get("overrides", {}).get("go") if isinstance(top.get("overrides"), dict) else None)
    plugins = {p.get("name"): p for p in top.get("plugins") or [] if isinstance(p, dict)}
    entries = top.get("sql") or []
    if not isinstance(entries, list):
        raise document.error("sql must be a list of packages", ("sql",))
    for index, entry in enumerate(entries):
        key: Key = ("sql", index)
        if not isinstance(entry, dict):
            raise document.error("each sql entry must be a mapping", key)
        engine = entry.get("engine")
        if engine != "postgresql":
            document.note(f"sql[{index}] is skipped: its engine is {engine!r}, and sqlgen reads PostgreSQL's", key)
            continue
        package = _Package(document, key)
        for name in entry:
            if name not in _V2_SQL_KEYS:
                document.note(f"`{name}` ignored: sqlgen checks every query on PostgreSQL itself", (*key, name))
        _paths(package, entry, key, root)
        _database(package, entry, key, environ)
        gen = _mapping(entry.get("gen"))
        go = _mapping(gen.get("go"))
        for other in gen:
            if other != "go":
                document.note(f"gen.{other} ignored: sqlgen writes Python", (*key, "gen", other))
        python = _python_plugin(package, entry.get("codegen"), plugins, key, root)
        go_key = (*key, "gen", "go")
        _ignored_options(document, go, _GO_READ, go_key, "Go option")
        _options(package, [(global_go, ("overrides", "go")), (go, go_key), *python])
        package.name = package.name or _go_package_name(go) or _string(entry.get("name"))
        yield package


def _version_one(document: _Document, top: dict[str, Any], root: Path, environ: dict[str, str]) -> Iterator[_Package]:
    for name in top:
        if name not in ("version", "packages", "overrides", "rename", "cloud", "rules"):
            document.note(f"unknown sqlc key `{name}` ignored", (name,))
    global_options: dict[str, Any] = {k: top[k] for k in ("overrides", "rename") if k in top}
    entries = top.get("packages") or []
    if not isinstance(entries, list):
        raise document.error("packages must be a list", ("packages",))
    for index, entry in enumerate(entries):
        key: Key = ("packages", index)
        if not isinstance(entry, dict):
            raise document.error("each package must be a mapping", key)
        engine = entry.get("engine", "postgresql")
        if engine != "postgresql":
            document.note(f"packages[{index}] is skipped: its engine is {engine!r}, and sqlgen reads PostgreSQL's", key)
            continue
        package = _Package(document, key)
        _paths(package, entry, key, root)
        _database(package, entry, key, environ)
        _ignored_options(document, entry, _V1_READ, key, "Go option")
        _options(package, [(global_options, ()), (entry, key)])
        path = _string(entry.get("path"))
        package.name = _string(entry.get("name")) or (Path(path).name if path else None)
        yield package


def _paths(package: _Package, entry: dict[str, Any], key: Key, root: Path) -> None:
    for name in ("schema", "queries"):
        value = entry.get(name, [])
        patterns = [value] if isinstance(value, str) else value
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise package.document.error(f"{name} must be a path or a list of paths", (*key, name), at_value=True)
        found: list[str] = []
        for number, pattern in enumerate(patterns):
            where = (*key, name, number) if isinstance(value, list) else (*key, name)
            for path, base in _expand(pattern, root, package.document, where, schema=name == "schema"):
                found.append(str(path))
                if name == "queries":
                    package.bases.append((path, base))
        package.set(name, found, (*key, name))


def _expand(pattern: str, root: Path, document: _Document, key: Key, *, schema: bool) -> list[tuple[Path, Path]]:
    """What sqlc reads for one path: (file or schema folder, the folder module names start from)."""
    full = root / pattern
    if _GLOB_CHARS.search(pattern):
        fixed = [part for part in Path(pattern).parts]
        stop = next((i for i, part in enumerate(fixed) if _GLOB_CHARS.search(part)), len(fixed))
        base = root.joinpath(*fixed[:stop])
        matches = [Path(m) for m in sorted(glob.glob(str(full)))]  # `**` without recursive=True is `*`, as in Go
    else:
        if not full.exists():
            raise document.error(
                f"{display_path(full)} does not exist",
                key,
                hint="sqlc paths are relative to the configuration file",
                at_value=True,
            )
        base = full if full.is_dir() else full.parent
        matches = [full]
    result: list[tuple[Path, Path]] = []
    for match in matches:
        if match.is_dir():
            if schema:  # a schema folder is read in its migration tool's order (see sqlgen.migrations)
                result.append((match, base))
                continue
            children = sorted(p for p in match.iterdir() if p.is_file())
            result.extend((child, match if match == full else base) for child in children if _is_sql(child))
        elif _is_sql(match):
            result.append((match, base))
    return result


def _is_sql(path: Path) -> bool:
    """sqlc's rule: `.sql` files that are neither hidden nor down migrations."""
    return path.name.endswith(".sql") and not path.name.startswith(".") and not path.name.endswith(".down.sql")


def _database(package: _Package, entry: dict[str, Any], key: Key, environ: dict[str, str]) -> None:
    database = _mapping(entry.get("database"))
    where = (*key, "database")
    if database.get("managed"):
        package.document.note("database.managed (sqlc Cloud) ignored: sqlgen starts its own server", where)
        return
    uri = _string(database.get("uri"))
    if not uri:
        return
    names = re.findall(r"\$\{(\w+)\}|\$(\w+)", uri)
    unset = sorted({a or b for a, b in names if not environ.get(a or b)})
    if unset:
        package.document.note(
            f"database.uri not used: {', '.join('$' + n for n in unset)} is not set; sqlgen uses its embedded server",
            (*where, "uri"),
        )
        return
    expanded = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: environ.get(m[1] or m[2], ""), uri)
    package.set("database_url", expanded, (*where, "uri"))


def _python_plugin(
    package: _Package, codegen: object, plugins: dict[Any, dict[str, Any]], key: Key, root: Path
) -> list[tuple[dict[str, Any], Key]]:
    """The options of a `codegen` entry for a Python plugin, whose `out` is where the package goes."""
    found: list[tuple[dict[str, Any], Key]] = []
    for index, entry in enumerate(codegen if isinstance(codegen, list) else []):
        where = (*key, "codegen", index)
        if not isinstance(entry, dict):
            continue
        plugin = _string(entry.get("plugin")) or ""
        definition = plugins.get(plugin, {})
        described = " ".join(
            str(v)
            for v in (_mapping(definition.get("wasm")).get("url"), _mapping(definition.get("process")).get("cmd"))
        )
        if not (plugin in ("py", "python") or "python" in plugin or "python" in described):
            package.document.note(f"codegen plugin {plugin!r} ignored: sqlgen writes its own Python", where)
            continue
        options = _mapping(entry.get("options"))
        out = _string(entry.get("out"))
        if out and not found:
            package.set("out", str(root / out), (*where, "out"))
            package.out_from_plugin = True
            package.name = _string(options.get("package")) or Path(out).name
        _ignored_options(package.document, options, _PYTHON_READ, (*where, "options"), "Python plugin option")
        found.append((options, (*where, "options")))
    return found


def _options(package: _Package, layers: list[tuple[dict[str, Any], Key]]) -> None:
    """overrides, rename, emit_exact_table_names and inflection_exclude_table_names: later layers win."""
    document = package.document
    overrides: dict[str, str] = {}
    go_only: list[Key] = []
    renames: dict[str, str] = {}
    for options, key in layers:
        if "emit_exact_table_names" in options:
            package.set(
                "exact_table_names", options["emit_exact_table_names"] is True, (*key, "emit_exact_table_names")
            )
        excluded = options.get("inflection_exclude_table_names")
        if isinstance(excluded, list):
            package.exceptions = tuple(str(e) for e in excluded)
        rename = _mapping(options.get("rename"))
        for name, value in rename.items():
            renames[name] = str(value)
            where = document.at((*key, "rename", name))
            if where is not None:
                package.positions[("rename", name)] = where
        entries = options.get("overrides")
        for index, override in enumerate(entries if isinstance(entries, list) else []):
            entry: Key = (*key, "overrides", index)
            if not isinstance(override, dict):
                continue
            target = _override_target(override, document, entry)
            if target is None:
                continue
            python_type = _python_type(override)
            if python_type is None:
                go_only.append(entry)
                continue
            if target in overrides and overrides[target] != python_type:
                document.note(f"a second Python type for {target!r} ignored: the first applies", entry)
                continue
            overrides[target] = python_type
            location = document.at(entry)
            if location is not None:
                package.positions[("overrides", target)] = location
    if go_only:
        count = len(go_only)
        document.note(
            f"{count} Go type override{'s' if count != 1 else ''} ignored: sqlgen's Python types come from "
            "PostgreSQL's (add `py_type` for a Python type of your own)",
            go_only[0],
        )
    if overrides:
        package.values["overrides"] = overrides
    if renames:
        package.values["rename"] = renames


def _override_target(override: dict[str, Any], document: _Document, key: Key) -> str | None:
    """sqlgen's target for an override: the `db_type` as written, or `schema.table.column`."""
    db_type, column = _string(override.get("db_type")), _string(override.get("column"))
    if db_type:
        return db_type
    if not column:
        document.note("override without db_type or column ignored", key)
        return None
    if _GLOB_CHARS.search(column):
        document.note(f"column override {column!r} ignored: sqlgen overrides name one column, without patterns", key)
        return None
    parts = column.split(".")
    if len(parts) == 2:
        return f"public.{column}"
    if len(parts) == 3:
        return column
    document.note(f"column override {column!r} ignored: write table.column or schema.table.column", key)
    return None


def _python_type(override: dict[str, Any]) -> str | None:
    """`py_type` (with `py_import`, the module it comes from), as sqlc's Python plugins write it."""
    python_type = override.get("py_type")
    if isinstance(python_type, dict):  # {import: module, type: Name}
        module, python_type = _string(python_type.get("import")), _string(python_type.get("type"))
    else:
        module, python_type = _string(override.get("py_import")), _string(python_type)
    if not python_type:
        return None
    return f"{module}.{python_type}" if module and not python_type.startswith(f"{module}.") else python_type


def _ignored_options(document: _Document, options: dict[str, Any], read: frozenset[str], key: Key, what: str) -> None:
    ignored = sorted(set(options) - read)
    if ignored:
        names = ", ".join(ignored)
        document.note(f"{what}{'s' if len(ignored) != 1 else ''} ignored by sqlgen: {names}", (*key, ignored[0]))


def _go_package_name(go: dict[str, Any]) -> str | None:
    return _string(go.get("package")) or (Path(out).name if (out := _string(go.get("out"))) else None)


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
