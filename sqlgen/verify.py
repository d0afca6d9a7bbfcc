"""`sqlgen verify`: which queries of an earlier version a schema change breaks.

During a rolling deploy the previous version of an app keeps running against the new
schema, with generated code typed against the old one. `verify` takes the project as it
was at a git revision (its queries, config and schema), builds the old schema and the new
one on one embedded server, describes the old queries on both, and judges each:

- **breaks**: the old statement no longer prepares, or its result columns moved;
- **unabsorbable**: it prepares, but the old code's types no longer tell the truth (a
  column became nullable, a type the old Python type cannot hold, an enum label the old
  enum lacks, a parameter that narrowed or no longer takes NULL);
- **safe**: everything else.

When the new schema is the old one with migrations added after it (the usual migration
folder), the new statements are applied one at a time: the first one after which a query
changes is named as its cause, and each is checked for the locks it takes on tables that
already existed (a rewrite, or a whole-table scan, under a lock that blocks writes). The
server tells both: `pg_class.relfilenode` changes on a rewrite, and
`pg_stat_xact_user_tables.seq_scan` counts the scans of the statement's own transaction.
"""

from __future__ import annotations

import contextlib
import enum
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from psycopg import pq
from psycopg.conninfo import make_conninfo

from sqlgen.catalog import Catalog, load_catalog
from sqlgen.config import Config, Overrides, load_config
from sqlgen.database import DbConnection, ServerError, apply_schema, connect, embedded_server
from sqlgen.errors import Diagnostic, Location, Severity, SourceText, ToolError, UserError
from sqlgen.infer import TypedColumn, TypedParam, TypedQuery
from sqlgen.migrations import schema_statements
from sqlgen.pipeline import Project, read_project, type_queries
from sqlgen.source import QuerySource
from sqlgen.typemap import PyType, TypeMap, UnsupportedType, build_typemap

SAFE_MIGRATIONS_DOC = "docs/migrations.md"


class Verdict(enum.StrEnum):
    SAFE = "safe"
    UNABSORBABLE = "unabsorbable"
    BREAKS = "breaks"


@dataclass(frozen=True)
class Cause:
    """The schema statement after which a query first changed."""

    location: Location
    statement: str  # its first line, for messages


@dataclass(frozen=True)
class QueryVerdict:
    query: QuerySource
    verdict: Verdict
    reasons: tuple[str, ...]  # one line each; empty when safe
    error: Diagnostic | None = None  # what PostgreSQL said, when the statement no longer prepares
    cause: Cause | None = None


@dataclass(frozen=True)
class LockWarning:
    location: Location
    source_line: str
    message: str


@dataclass(frozen=True)
class Verification:
    base: str  # the revision, as given or chosen
    commit: str  # its commit hash
    verdicts: tuple[QueryVerdict, ...]
    locks: tuple[LockWarning, ...]
    skipped: tuple[Diagnostic, ...]  # old queries that did not check at the base itself
    incremental: bool  # the new schema extends the old one: causes and locks are known
    unabsorbable: str = "error"  # how the project's config says to report unabsorbable changes

    def diagnostics(self, unabsorbable_is_error: bool = True) -> list[Diagnostic]:
        """Breaks and unabsorbable changes at the old queries, lock warnings at the migrations."""
        found: list[Diagnostic] = []
        for item in self.verdicts:
            if item.verdict is Verdict.SAFE:
                continue
            severity: Severity = "error" if item.verdict is Verdict.BREAKS or unabsorbable_is_error else "warning"
            found.append(_query_diagnostic(item, self.base, severity))
        for lock in self.locks:
            found.append(
                Diagnostic(
                    lock.message,
                    lock.location,
                    lock.source_line,
                    hint="on a big table, do it in steps that hold no such lock for long (docs: safe migrations)",
                    severity="warning",
                )
            )
        return found

    def summary(self) -> str:
        counts = {v: sum(1 for item in self.verdicts if item.verdict is v) for v in Verdict}
        parts = [
            f"{counts[Verdict.BREAKS]} break",
            f"{counts[Verdict.UNABSORBABLE]} changed beyond what the old code absorbs",
            f"{counts[Verdict.SAFE]} safe",
        ]
        locks = f"; {len(self.locks)} lock warning{'s' if len(self.locks) != 1 else ''}" if self.locks else ""
        return f"the queries at {self.base} on the new schema: {', '.join(parts)}{locks}"

    def as_json(self) -> dict[str, object]:
        return {
            "base": self.base,
            "commit": self.commit,
            "incremental": self.incremental,
            "queries": [
                {
                    "name": item.query.name,
                    "path": item.query.file.path,
                    "line": item.query.file.location(item.query.annotation_offset).line,
                    "verdict": item.verdict.value,
                    "reasons": list(item.reasons),
                    "cause": None
                    if item.cause is None
                    else {"path": item.cause.location.path, "line": item.cause.location.line},
                }
                for item in self.verdicts
            ],
        }


def _query_diagnostic(item: QueryVerdict, base: str, severity: Severity) -> Diagnostic:
    query = item.query
    caused = f"caused by {item.cause.location}: {item.cause.statement}" if item.cause else None
    if item.verdict is Verdict.BREAKS and item.error is not None:
        detail = "; ".join(part for part in (item.error.detail, caused) if part)
        return Diagnostic(
            f"{query.name} as of {base} breaks: {item.error.message}",
            item.error.location,
            item.error.source_line,
            detail=detail or None,
            hint="keep what the deployed code uses until no running version needs it: "
            "expand first, contract in a later release",
            sqlstate=item.error.sqlstate,
            severity=severity,
        )
    what = "breaks" if item.verdict is Verdict.BREAKS else "changes beyond what its generated code absorbs"
    return query.diagnostic(
        f"{query.name} as of {base} {what}: {'; '.join(item.reasons)}",
        detail=caused,
        hint="change the schema so the old types stay true, or deploy code that reads the new ones first",
        severity=severity,
    )


def verify(overrides: Overrides, base: str | None = None, cwd: Path | None = None) -> Verification:
    """Judge the queries at git revision `base` (default: the merge base with the main branch)
    against the schema of the working tree.

    The project is the folder of `--config` (else `cwd`); paths given on the command line
    are taken in that folder, at the base as in the working tree.
    """
    cwd = (cwd or Path.cwd()).resolve()
    folder = (cwd / overrides.config).resolve().parent if overrides.config else cwd
    repo = _git_root(folder)
    commit = _resolve(repo, base) if base else _default_base(repo)
    base = base or f"the merge base {commit[:10]}"
    with tempfile.TemporaryDirectory(prefix="sqlgen-verify-") as scratch:
        old_tree = Path(scratch) / "tree"
        _export(repo, commit, old_tree)
        old_folder = old_tree / folder.relative_to(repo)
        if not old_folder.is_dir():
            raise UserError([Diagnostic(f"{folder} does not exist at {base}", hint="pass a later --base")])
        # Both versions' files are read from their project folder, so they are shown, and
        # compared, by the same paths.
        with contextlib.chdir(old_folder):
            old_config = load_config(_in_folder(overrides, old_folder), old_folder, environ={})
            old_project = read_project(old_config)
        with contextlib.chdir(folder):
            new_config = load_config(_in_folder(overrides, folder), folder, environ={})
            new_project = read_project(new_config)
        with _server() as server:
            return _verify(server, base, commit, old_config, old_project, new_config, new_project)


def _in_folder(overrides: Overrides, folder: Path) -> Overrides:
    """The command line's project, read in `folder`, on the embedded server (never a live database)."""
    config = folder / overrides.config.name if overrides.config else None
    return Overrides(config, overrides.schema, overrides.queries, overrides.out, database_url=None)


@contextlib.contextmanager
def _server() -> Iterator[str]:
    """The embedded server: verify builds two databases, so it never uses a live one."""
    with embedded_server() as url:
        yield url


def _verify(
    server: str,
    base: str,
    commit: str,
    old_config: Config,
    old_project: Project,
    new_config: Config,
    new_project: Project,
) -> Verification:
    queries = old_project.queries
    with _database(server, "sqlgen_verify_old") as old_db:
        apply_schema(old_db, old_project.schema)
        old_catalog = load_catalog(old_db)
        old_typed, skipped = type_queries(old_db, old_catalog, queries)
    checked = [t.described.query for t in old_typed]
    old_types = build_typemap(old_catalog, old_config.overrides)
    old_by_query = {id(t.described.query): t for t in old_typed}

    added = _added_statements(old_project.schema, new_project.schema)
    with _database(server, "sqlgen_verify_new") as new_db:
        locks: list[LockWarning] = []
        since: dict[int, Cause] = {}  # the statement from which each query is judged as it finally is
        if added is None:
            apply_schema(new_db, new_project.schema)
            judged = _judge(new_db, new_config, checked, old_by_query, old_types)
        else:
            apply_schema(new_db, old_project.schema)
            existing = _user_tables(new_db)
            judged = [QueryVerdict(query, Verdict.SAFE, ()) for query in checked]
            for file, start, end in added:
                locks.extend(_apply_watching_locks(new_db, file, start, end, existing))
                now = _judge(new_db, new_config, checked, old_by_query, old_types)
                for before, after in zip(judged, now, strict=True):
                    if (before.verdict, before.reasons) != (after.verdict, after.reasons):
                        since[id(after.query)] = _cause(file, start, end)
                judged = now
    verdicts = [
        replace(item, cause=since.get(id(item.query))) if item.verdict is not Verdict.SAFE else item for item in judged
    ]
    return Verification(
        base, commit, tuple(verdicts), tuple(locks), tuple(skipped), added is not None, new_config.verify_unabsorbable
    )


def _judge(
    conn: DbConnection,
    config: Config,
    queries: Sequence[QuerySource],
    old_by_query: dict[int, TypedQuery],
    old_types: TypeMap,
) -> list[QueryVerdict]:
    catalog = load_catalog(conn)
    new_types = build_typemap(catalog, config.overrides)
    typed, errors = type_queries(conn, catalog, queries)
    new_by_query = {id(t.described.query): t for t in typed}
    verdicts = []
    for query in queries:
        new = new_by_query.get(id(query))
        if new is None:
            error = _error_of(query, errors)
            reason = error.message if error else "it no longer prepares"
            verdicts.append(QueryVerdict(query, Verdict.BREAKS, (reason,), error))
            continue
        verdicts.append(_compare(old_by_query[id(query)], new, old_types, new_types))
    return verdicts


def _error_of(query: QuerySource, errors: Sequence[Diagnostic]) -> Diagnostic | None:
    """The diagnostic describing `query` produced: the one located inside its statement."""
    start = query.file.location(query.annotation_offset)
    end = query.file.location(query.statement_offset + len(query.sql) + 1)
    for error in errors:
        where = error.location
        if where is not None and where.path == start.path and start <= where <= end:
            return error
    return None


def _compare(old: TypedQuery, new: TypedQuery, old_types: TypeMap, new_types: TypeMap) -> QueryVerdict:
    query = old.described.query
    breaks: list[str] = []
    unabsorbable: list[str] = []
    if len(new.columns) < len(old.columns):
        missing = ", ".join(c.name for c in old.columns[len(new.columns) :])
        breaks.append(f"its result lost column{'s' if len(old.columns) - len(new.columns) > 1 else ''} {missing}")
    for position, (was, now) in enumerate(zip(old.columns, new.columns, strict=False), 1):
        if was.name != now.name:
            breaks.append(f"result column {position} is now {now.name}, where the old code reads {was.name}")
            continue
        unabsorbable.extend(_column_change(was, now, old_types, new_types))
    for was_param, now_param in zip(old.params, new.params, strict=False):
        unabsorbable.extend(_param_change(was_param, now_param, old_types, new_types))
    if breaks:
        return QueryVerdict(query, Verdict.BREAKS, tuple(breaks + unabsorbable))
    if unabsorbable:
        return QueryVerdict(query, Verdict.UNABSORBABLE, tuple(unabsorbable))
    return QueryVerdict(query, Verdict.SAFE, ())


def _both_types(
    was: TypedColumn | TypedParam, now: TypedColumn | TypedParam, old_types: TypeMap, new_types: TypeMap
) -> tuple[PyType, PyType] | None:
    """The Python types generated code had and would have for one column or parameter."""
    before = _python_type(old_types, was.table_oid, was.column_number, was.type_oid)
    after = _python_type(new_types, now.table_oid, now.column_number, now.type_oid)
    return None if before is None or after is None else (before, after)


def _column_change(was: TypedColumn, now: TypedColumn, old_types: TypeMap, new_types: TypeMap) -> list[str]:
    found = []
    if now.nullable and not was.nullable:
        found.append(f"column {was.name} can now be NULL, where the old code types it non-null ({now.reason})")
    if (types := _both_types(was, now, old_types, new_types)) is None:
        return found
    before, after = types
    if before.annotation != after.annotation:
        found.append(
            f"column {was.name} is now {_pg_name(new_types.catalog, now.type_oid)} read as {after.annotation},"
            f" where the old code types it {before.annotation}"
        )
    else:
        added = _labels(new_types.catalog, now.type_oid) - _labels(old_types.catalog, was.type_oid)
        if added:
            found.append(f"column {was.name} can now hold {_listed(added)}, which the old code's enum lacks")
    return found


def _param_change(was: TypedParam, now: TypedParam, old_types: TypeMap, new_types: TypeMap) -> list[str]:
    found = []
    if was.nullable and not now.nullable:
        found.append(f"parameter {was.name} no longer takes NULL, which the old code may send ({now.reason})")
    if (types := _both_types(was, now, old_types, new_types)) is None:
        return found
    before, after = types
    old_name, new_name = _pg_name(old_types.catalog, was.type_oid), _pg_name(new_types.catalog, now.type_oid)
    if before.as_param() != after.as_param():
        found.append(
            f"parameter {was.name} is now {new_name} taking {after.as_param()},"
            f" where the old code sends {before.as_param()}"
        )
    elif _narrower(new_name, old_name):
        found.append(
            f"parameter {was.name} narrowed from {old_name} to {new_name}: larger values the old code sends fail"
        )
    else:
        removed = _labels(old_types.catalog, was.type_oid) - _labels(new_types.catalog, now.type_oid)
        if removed:
            found.append(f"parameter {was.name} no longer accepts {_listed(removed)}, which the old code may send")
    return found


# Types whose values are a subset of the next one's in the same list: a parameter that moves
# left loses values the old code may send, though Python spells both the same.
_WIDENING = (("int2", "int4", "int8", "numeric"), ("float4", "float8"), ("date", "timestamp", "timestamptz"))


def _narrower(new: str, old: str) -> bool:
    for chain in _WIDENING:
        if new in chain and old in chain:
            return chain.index(new) < chain.index(old)
    return False


def _python_type(types: TypeMap, table_oid: int, column_number: int, type_oid: int) -> PyType | None:
    try:
        if table_oid:
            return types.of_column(table_oid, column_number, type_oid)
        return types.of_type(type_oid)
    except UnsupportedType:
        return None


def _pg_name(catalog: Catalog, oid: int) -> str:
    pg_type = catalog.types.get(oid)
    return pg_type.name if pg_type else f"oid {oid}"


def _labels(catalog: Catalog, oid: int) -> set[str]:
    """An enum's labels (also beneath domains and arrays); empty for other types."""
    pg_type = catalog.innermost(oid)
    return set(pg_type.labels) if pg_type is not None and pg_type.kind == "e" else set()


def _listed(labels: set[str]) -> str:
    return ", ".join(repr(label) for label in sorted(labels))


# --- schema history ------------------------------------------------------------------------


def _added_statements(old: Sequence[SourceText], new: Sequence[SourceText]) -> list[tuple[SourceText, int, int]] | None:
    """The statements the new schema runs after the old one's, when it starts with the old one
    file for file (migrations added, none edited); None otherwise."""
    if len(new) < len(old) or any(a.path != b.path or a.text != b.text for a, b in zip(old, new, strict=False)):
        return None
    added = []
    for file in new[len(old) :]:
        for statement in schema_statements(file):
            added.append((file, statement[0].start, statement[-1].end))
    return added


def _cause(file: SourceText, start: int, end: int) -> Cause:
    first_line = file.text[start:end].strip().splitlines()[0]
    return Cause(file.location(start), first_line if len(first_line) <= 80 else first_line[:77] + "...")


_TABLES_SQL = b"""
SELECT c.oid, format('%I.%I', n.nspname, c.relname), c.relfilenode
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%'
"""
_SCANS_SQL = b"SELECT relid, seq_scan FROM pg_stat_xact_user_tables"
_LOCKS_SQL = b"""
SELECT relation, mode FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted
"""
# Locks that stop other sessions writing (SHARE and stronger): their SQL names, and what each stops.
_BLOCKING = {
    "ShareLock": ("a SHARE lock", "writes"),
    "ShareRowExclusiveLock": ("a SHARE ROW EXCLUSIVE lock", "writes"),
    "ExclusiveLock": ("an EXCLUSIVE lock", "writes"),
    "AccessExclusiveLock": ("an ACCESS EXCLUSIVE lock", "reads and writes"),
}
_NOT_IN_TRANSACTION = "25001"  # active_sql_transaction: CREATE INDEX CONCURRENTLY and the like


def _user_tables(conn: DbConnection) -> dict[int, str]:
    return {oid: name for oid, name, _ in conn.execute(_TABLES_SQL).fetchall()}


def _apply_watching_locks(
    conn: DbConnection, file: SourceText, start: int, end: int, existing: dict[int, str]
) -> list[LockWarning]:
    """Run one schema statement in a transaction of its own, and say whether it rewrote or scanned a table
    that existed before the migrations, under a lock that blocks other sessions meanwhile."""
    pgconn = conn.pgconn
    sql = file.text[start:end]
    _exec(pgconn, b"BEGIN")
    files_before = {oid: node for oid, _, node in conn.execute(_TABLES_SQL).fetchall()}
    scans_before: dict[int, int] = dict(conn.execute(_SCANS_SQL).fetchall())
    result = pgconn.exec_(sql.encode())
    if result.status == pq.ExecStatus.FATAL_ERROR:
        error = ServerError.from_result(result)
        _exec(pgconn, b"ROLLBACK")
        if error.sqlstate == _NOT_IN_TRANSACTION:  # built to take no long lock: run it as it is
            result = pgconn.exec_(sql.encode())
            if result.status != pq.ExecStatus.FATAL_ERROR:
                return []
            error = ServerError.from_result(result)
        offset = start + (error.position or 0)
        raise UserError([file.diagnostic(error.message, offset, **error.extras())])
    files_after = {oid: node for oid, _, node in conn.execute(_TABLES_SQL).fetchall()}
    scans_after: dict[int, int] = dict(conn.execute(_SCANS_SQL).fetchall())
    held = {oid: mode for oid, mode in conn.execute(_LOCKS_SQL).fetchall() if mode in _BLOCKING}
    _exec(pgconn, b"COMMIT")
    warnings = []
    where = file.location(start + len(sql) - len(sql.lstrip()))
    line = file.line_text(where.line)
    for oid, name in existing.items():
        mode = held.get(oid)
        if mode is None:
            continue
        lock, blocked = _BLOCKING[mode]
        if files_before.get(oid) != files_after.get(oid):
            message = f"rewrites table {name} under {lock}: {blocked} of it wait until it is done"
        elif scans_after.get(oid, 0) > scans_before.get(oid, 0):
            message = f"scans all of table {name} under {lock}: {blocked} of it wait until it is done"
        else:
            continue
        warnings.append(LockWarning(where, line, message))
    return warnings


def _exec(pgconn: pq.abc.PGconn, sql: bytes) -> pq.abc.PGresult:
    result = pgconn.exec_(sql)
    if result.status == pq.ExecStatus.FATAL_ERROR:
        raise ToolError(f"verify could not inspect the scratch database: {ServerError.from_result(result).message}")
    return result


@contextlib.contextmanager
def _database(server: str, name: str) -> Iterator[DbConnection]:
    """A new database `name` on the embedded server, dropped afterwards."""
    with connect(server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"'.encode())
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
        try:
            with connect(make_conninfo(server, dbname=name)) as conn:
                yield conn
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


# --- git -----------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise ToolError("sqlgen verify needs git, and it is not installed") from None
    if done.returncode != 0:
        raise UserError([Diagnostic(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")])
    return done.stdout.strip()


def _git_root(cwd: Path) -> Path:
    try:
        return Path(_git(cwd, "rev-parse", "--show-toplevel")).resolve()
    except UserError:
        raise UserError(
            [Diagnostic(f"{cwd} is not in a git repository", hint="sqlgen verify compares with a git revision")]
        ) from None


def _default_base(repo: Path) -> str:
    """The merge base of HEAD with the main branch (origin's default branch, else main or master)."""
    candidates = []
    with contextlib.suppress(UserError):
        candidates.append(_git(repo, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"))
    candidates += ["origin/main", "main", "origin/master", "master"]
    for branch in candidates:
        try:
            return _resolve(repo, _git(repo, "merge-base", "HEAD", branch))
        except UserError:
            continue
    raise UserError([Diagnostic("no main branch to compare with", hint="pass --base REVISION")])


def _resolve(repo: Path, base: str) -> str:
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except UserError:
        raise UserError(
            [Diagnostic(f"{base!r} is not a git revision of this repository", hint="pass --base REVISION")]
        ) from None


def _export(repo: Path, commit: str, into: Path) -> None:
    """The files of `commit`, as `git archive` gives them."""
    into.mkdir(parents=True)
    archive = into.parent / "base.tar"
    with archive.open("wb") as out:
        done = subprocess.run(["git", "archive", "--format=tar", commit], cwd=repo, stdout=out, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise ToolError(f"git archive {commit} failed: {done.stderr.decode(errors='replace').strip()}")
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    os.remove(archive)
