"""The whole generation: config → sources → database → catalog → describe → infer → render.

The pipeline writes nothing: it returns the package's files and what to tell the describe
cache (`Generated`), and the command layer (`sqlgen.api`, the CLI, watch) writes both
(`sqlgen.output`, `sqlgen.cache.CacheUpdate`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlgen import ir
from sqlgen.cache import (
    CacheUpdate,
    DescribeCache,
    RunRecord,
    inputs_fingerprint,
    output_fingerprint,
    same_relations,
    schema_fingerprint,
    unchanged_output,
)
from sqlgen.catalog import Catalog, declare_non_null, load_catalog
from sqlgen.commands import check_commands
from sqlgen.config import Config
from sqlgen.errors import Diagnostic, SourceText, UserError, display_path, errors_only
from sqlgen.migrations import MigrationText, read_schema
from sqlgen.pynames import check_override_imports
from sqlgen.source import QuerySource, parse_queries, read_source
from sqlgen.timing import NO_TIMER, Timer

# The database, describe, infer and render stages load psycopg and jinja2, a fifth of a
# second: they are imported by the functions using them, so that a run with nothing to do
# (see `unchanged_output`) never loads them.
if TYPE_CHECKING:
    from sqlgen.database import DbConnection
    from sqlgen.infer import TypedQuery

RESERVED_MODULES = frozenset({"models", "__init__"})


@dataclass(frozen=True)
class Project:
    """What the files say, before any database work."""

    schema: tuple[SourceText, ...]
    files: tuple[tuple[str, str, tuple[QuerySource, ...]], ...]  # (module, source path, queries)
    diagnostics: tuple[Diagnostic, ...]  # problems in query files, reported with the database's

    @property
    def queries(self) -> list[QuerySource]:
        return [q for _, _, queries in self.files for q in queries]


def read_project(config: Config) -> Project:
    """Read schema and query files; unreadable schema files raise UserError at once."""
    diagnostics: list[Diagnostic] = []
    schema: list[SourceText] = []
    schema_files = config.schema_files()
    for path in schema_files:
        try:
            schema.append(read_schema(path))
        except UserError as err:
            diagnostics.extend(err.diagnostics)
    diagnostics.extend(check_override_imports(config))
    if diagnostics:
        raise UserError(diagnostics)
    diagnostics.extend(note for file in schema if isinstance(file, MigrationText) for note in file.notes)
    schema_paths = {path.resolve() for path in schema_files}
    files: list[tuple[str, str, tuple[QuerySource, ...]]] = []
    modules: dict[str, str] = {}
    for path, module in config.query_modules():
        try:
            source = read_source(path)
        except UserError as err:
            diagnostics.extend(err.diagnostics)
            continue
        queries, problems = parse_queries(source)
        if path.resolve() in schema_paths:  # its schema statements are applied, not skipped
            problems = errors_only(problems)
        diagnostics.extend(problems)
        location = source.location(0)
        if module in RESERVED_MODULES or (module == "channels" and config.channels):
            diagnostics.append(
                Diagnostic(
                    f"a query file cannot be named {path.name}: the output has a {module}.py of its own",
                    location,
                    hint="rename the file",
                )
            )
        elif module in modules:
            diagnostics.append(
                Diagnostic(
                    f"{config.relative(path)} and {modules[module]} would both generate {module}.py",
                    location,
                    hint="rename one of the files",
                )
            )
        else:
            modules[module] = config.relative(path)
            files.append((module, config.relative(path), tuple(queries)))
    return Project(tuple(schema), tuple(files), tuple(diagnostics))


@contextlib.contextmanager
def project_database(config: Config, project: Project, timer: Timer = NO_TIMER) -> Iterator[DbConnection]:
    """A connection with the project's schema (a fresh embedded server, or the live database as it is),
    inside a read-only transaction that is rolled back at the end (see `sqlgen.database.read_only`).

    The schema is applied in a session of its own: what its files set for their session (a
    `pg_dump` file empties `search_path`) must not change how the queries are described.
    """
    from sqlgen.catalog import read_string_bodies
    from sqlgen.database import apply_schema, connect, read_only, server_url

    with timer.around(server_url(config.database_url), "database start", "database stop") as url:
        if config.database_url is None:
            with timer.stage("schema"), connect(url) as schema_session:
                apply_schema(schema_session, project.schema)
        with connect(url) as conn:
            if config.database_url is None:
                read_string_bodies(conn)
            with read_only(conn, config.describe_timeout):  # from here on nothing changes the database
                yield conn


class SharedServer:
    """One embedded server for the packages of a run, started when the first package needs a database;
    each package's schema goes into a database of its own on it. A package with a live database
    (`database_url`) uses that database as it is."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self._stack = stack
        self._url: str | None = None
        self._databases = 0

    @contextlib.contextmanager
    def database(self, config: Config, project: Project, timer: Timer = NO_TIMER) -> Iterator[DbConnection]:
        from psycopg.conninfo import make_conninfo

        from sqlgen.catalog import read_string_bodies
        from sqlgen.database import apply_schema, connect, embedded_server, read_only

        if config.database_url is not None:
            with project_database(config, project, timer) as conn:
                yield conn
            return
        if self._url is None:
            with timer.stage("database start"):
                self._url = self._stack.enter_context(embedded_server())
        self._databases += 1
        name = f"sqlgen_package_{self._databases}"
        with connect(self._url) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')  # a name of sqlgen's own making
        try:
            database = make_conninfo(self._url, dbname=name)
            with timer.stage("schema"), connect(database) as schema_session:  # its settings stay there
                apply_schema(schema_session, project.schema)
            with connect(database) as conn:
                read_string_bodies(conn)
                with read_only(conn, config.describe_timeout):  # from here on nothing changes the database
                    yield conn
        finally:
            with connect(self._url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Generated:
    files: dict[str, str]  # relative path → text
    queries: int  # the queries the package holds
    described: int  # queries described on a database in this run
    cached: int  # queries whose description came from the describe cache
    diagnostics: tuple[Diagnostic, ...] = ()  # notes; with keep_going, also the errors of the queries left out
    cache: CacheUpdate | None = None  # what to write to the describe cache once the files are written


class QueriesRejected(UserError):
    """Some package of the run cannot be written; what did check still goes to the describe cache
    (`cache_updates`), so that the next run need not describe it again."""

    def __init__(self, diagnostics: Sequence[Diagnostic], cache_updates: Sequence[CacheUpdate] = ()) -> None:
        super().__init__(list(diagnostics))
        self.cache_updates = tuple(cache_updates)


def generate(config: Config, conn: DbConnection | None = None, timer: Timer = NO_TIMER) -> Generated:
    """The output package for `config`; `conn` (schema already applied) is used as it is, without the cache."""
    if conn is None:
        return generate_package(config, timer=timer)
    from sqlgen.catalog import read_string_bodies
    from sqlgen.database import read_only

    with timer.stage("read"):
        project = read_project(config)
    if config.database_url is None:  # a database of the caller's holding the schema, as the embedded one does
        read_string_bodies(conn)
    with read_only(conn, config.describe_timeout):
        with timer.stage("catalog"):
            catalog = declare_non_null(infer_views(conn, load_catalog(conn)), config.non_null_functions)
        typed, diagnostics = type_queries(conn, catalog, project.queries, timer)
    typed, misfits = check_commands(typed)
    files, reported = _render(project, catalog, typed, [*diagnostics, *misfits], config, timer=timer)
    return Generated(files, len(typed), len(typed), 0, tuple(reported))


@dataclass(frozen=True)
class _Analysis:
    """What the database (or the describe cache) said about a package's queries."""

    project: Project
    catalog: Catalog
    typed: list[TypedQuery]  # the queries that check
    diagnostics: list[Diagnostic]  # the queries PostgreSQL rejected, or whose command does not fit
    schema: str  # the schema fingerprint
    described: int  # queries described on a database in this run
    cached: int  # queries whose description came from the describe cache
    learned: tuple[TypedQuery, ...]  # what the describe cache keeps: every query PostgreSQL accepted


def _analyse(config: Config, *, offline: bool, timer: Timer, server: SharedServer | None) -> _Analysis:
    """Read the project and type its queries, describing on a database only those the cache does not know."""
    with timer.stage("read"):
        cache = DescribeCache.load(config.cache) if config.cache else DescribeCache.empty()
        project = read_project(config)
    with timer.stage("cache lookup"):
        schema = schema_fingerprint(config, project.schema)
        cached = {id(q): t for q in project.queries if (t := cache.typed(q, schema, trust_schema=offline)) is not None}
    missing = [q for q in project.queries if id(q) not in cached]
    if cache.catalog is not None and (offline or not missing):
        if missing:
            raise UserError([_stale(query, config) for query in missing])
        known = tuple(cached.values())
        fit, misfits = check_commands(known)
        return _Analysis(project, cache.catalog, fit, misfits, schema, 0, len(cached), known)
    if offline:
        raise UserError([_no_cache(config)])
    opened = server.database(config, project, timer) if server else project_database(config, project, timer)
    with opened as database:
        with timer.stage("catalog"):
            catalog = declare_non_null(infer_views(database, load_catalog(database)), config.non_null_functions)
        if not same_relations(catalog, cache.catalog):  # entries made against other object ids do not apply
            cached, missing = {}, project.queries
        described, diagnostics = type_queries(database, catalog, missing, timer)
    learned = (*cached.values(), *described)
    fit, misfits = check_commands(learned)  # before render: a misfit is left out
    return _Analysis(project, catalog, fit, [*diagnostics, *misfits], schema, len(missing), len(cached), learned)


def generate_package(
    config: Config,
    *,
    offline: bool = False,
    keep_going: bool = False,
    timer: Timer = NO_TIMER,
    server: SharedServer | None = None,
) -> Generated:
    """The output package for `config`, describing only the queries the describe cache does not know.

    A query PostgreSQL rejects fails the whole package (UserError), unless `keep_going`: then
    the package holds every query that checks, and the errors come back in `diagnostics`.

    When nothing changed since the last run (sqlgen, config, schema and query files, the
    cache and the output folder) the output folder is the answer. When the cache knows every
    query, no database is started; `offline` never starts one, and fails when the cache does
    not cover the project. Nothing is written: `Generated.cache` (or, on failure,
    `QueriesRejected.cache_updates`) says what the describe cache should learn.
    """
    with timer.stage("cache check"):
        inputs = inputs_fingerprint(config)
        unchanged = unchanged_output(config, inputs)
        if unchanged is not None:
            return Generated(unchanged[0], unchanged[1], 0, unchanged[1])
    found = _analyse(config, offline=offline, timer=timer, server=server)
    learned = None if offline else config.cache  # where what this run learned goes
    typed = tuple(found.typed)
    try:
        files, reported = _render(found.project, found.catalog, typed, found.diagnostics, config, keep_going, timer)
    except UserError as err:
        update = (
            CacheUpdate(learned, found.schema, found.catalog, found.learned) if learned and found.described else None
        )
        raise QueriesRejected(err.diagnostics, [update] if update else []) from None
    update = None
    if learned:
        partial = bool(errors_only(reported))  # a partial package must never pass as "unchanged"
        run = None if inputs is None or partial else RunRecord(inputs, output_fingerprint(files), len(typed))
        update = CacheUpdate(learned, found.schema, found.catalog, found.learned, run)
    return Generated(files, len(typed), found.described, found.cached, tuple(reported), update)


def describe_package(
    config: Config, *, offline: bool = False, timer: Timer = NO_TIMER, server: SharedServer | None = None
) -> ir.Package:
    """The IR of the package for `config` (see `sqlgen.ir`), from the database or the describe cache;
    UserError when a query does not check. Writes nothing."""
    from sqlgen.ir_build import build_package

    found = _analyse(config, offline=offline, timer=timer, server=server)
    errors = errors_only([*found.diagnostics, *found.project.diagnostics])
    if errors:
        raise UserError(errors)
    return build_package(config, found.project, found.catalog, found.typed)


def describe_packages(configs: Sequence[Config], *, offline: bool = False, timer: Timer = NO_TIMER) -> ir.Project:
    """The IR of every package of a project, sharing one embedded server."""
    from sqlgen import __version__

    packages: list[ir.Package] = []
    diagnostics: list[Diagnostic] = []
    with contextlib.ExitStack() as stack:
        server = SharedServer(stack)
        for config in configs:
            try:
                packages.append(describe_package(config, offline=offline, timer=timer, server=server))
            except UserError as err:
                diagnostics.extend(err.diagnostics)
    if diagnostics:
        raise UserError(diagnostics)
    return ir.Project(tuple(packages), generator=f"sqlgen {__version__}")


def generate_packages(
    configs: Sequence[Config], *, offline: bool = False, keep_going: bool = False, timer: Timer = NO_TIMER
) -> list[Generated]:
    """Every package of a project, sharing one embedded server; the errors of all of them together
    (with `keep_going`, each package holds the queries that check, and the errors are in its diagnostics)."""
    if len(configs) == 1:
        return [generate_package(configs[0], offline=offline, keep_going=keep_going, timer=timer)]
    results: list[Generated] = []
    diagnostics: list[Diagnostic] = []
    updates: list[CacheUpdate] = []
    with contextlib.ExitStack() as stack:
        server = SharedServer(stack)
        for config in configs:
            try:
                result = generate_package(config, offline=offline, keep_going=keep_going, timer=timer, server=server)
            except QueriesRejected as err:
                diagnostics.extend(err.diagnostics)
                updates.extend(err.cache_updates)
                continue
            except UserError as err:
                diagnostics.extend(err.diagnostics)
                continue
            results.append(result)
            if result.cache is not None:  # no package is written: the run record would be untrue
                updates.append(replace(result.cache, run=None))
    if diagnostics:
        raise QueriesRejected(diagnostics, updates)
    return results


def _stale(query: QuerySource, config: Config) -> Diagnostic:
    assert config.cache is not None
    return query.diagnostic(
        f"query {query.name} is not in the describe cache {display_path(config.cache)},"
        " or the schema or sqlgen changed since it was written",
        hint="run `sqlgen generate` with a database (embedded or --database-url) to refresh the cache",
    )


def _no_cache(config: Config) -> Diagnostic:
    where = display_path(config.cache) if config.cache else "(cache = false in the config)"
    return Diagnostic(
        f"--offline needs the describe cache, and there is none at {where}",
        hint="run `sqlgen generate` once with a database to write it, and commit it",
    )


def infer_views(conn: DbConnection, catalog: Catalog) -> Catalog:
    """`catalog` with each view's columns marked NOT NULL where sqlgen infers `SELECT * FROM view`
    gives no NULL there (a view declares nothing; see `render_models.table_column_nullable`)."""
    from sqlgen.infer import infer_query
    from sqlgen.prepare import describe_queries

    views = [t for t in catalog.user_tables() if t.kind == "v"]
    sources: list[QuerySource] = []
    for view in views:
        relation = ".".join('"' + part.replace('"', '""') + '"' for part in (view.schema, view.name))
        text = f"-- name: View :many\nSELECT * FROM {relation}"
        sources.extend(parse_queries(SourceText(f"<view {view.schema}.{view.name}>", text))[0])
    if not sources:
        return catalog
    described, _ = describe_queries(conn, sources)  # a view that cannot be read keeps every column nullable
    by_query = {id(query): view for query, view in zip(sources, views, strict=True)}
    tables = dict(catalog.tables)
    for description in described:
        view = by_query[id(description.query)]
        columns = infer_query(description, catalog).columns
        if len(columns) == len(view.columns):
            marked = tuple(replace(c, not_null=not t.nullable) for c, t in zip(view.columns, columns, strict=True))
            tables[view.oid] = replace(view, columns=marked)
    return replace(catalog, tables=tables)


def type_queries(
    conn: DbConnection, catalog: Catalog, queries: Sequence[QuerySource], timer: Timer = NO_TIMER
) -> tuple[list[TypedQuery], list[Diagnostic]]:
    """Describe and infer `queries`: the typed ones PostgreSQL accepts, and a diagnostic for each it rejects."""
    from sqlgen.expand import expand_stars
    from sqlgen.infer import infer_query
    from sqlgen.prepare import describe_materialized_views, describe_queries

    with timer.stage("describe"):
        described, diagnostics = describe_queries(
            conn, queries, lambda done: timer.progress("described", done, len(queries))
        )
        views = describe_materialized_views(conn, catalog) if described else {}
    typed: list[TypedQuery] = []
    with timer.stage("infer"):
        for query in described:
            try:
                typed.append(infer_query(query, catalog, views))
            except UserError as err:
                diagnostics.extend(err.diagnostics)
    with timer.stage("expand"):
        typed = expand_stars(conn, typed)
    if any(q.described.query.dynamic or q.described.query.sort for q in typed):
        from sqlgen.dynamic import derive_variants

        with timer.stage("variants"):
            typed, notes = derive_variants(conn, catalog, typed)
        diagnostics.extend(notes)
    return typed, diagnostics


def _render(
    project: Project,
    catalog: Catalog,
    typed_queries: Sequence[TypedQuery],
    diagnostics: list[Diagnostic],
    config: Config,
    keep_going: bool = False,
    timer: Timer = NO_TIMER,
) -> tuple[dict[str, str], list[Diagnostic]]:
    """The package and the notes; errors raise UserError, unless `keep_going` (then they are
    returned too, and the package leaves out the queries they are about)."""
    from sqlgen.formatting import format_python
    from sqlgen.render import QueryFile, render_package
    from sqlgen.targets import get_target
    from sqlgen.typemap import build_typemap

    by_query = {id(t.described.query): t for t in typed_queries}
    files = []
    for module, source_path, queries in project.files:
        typed = [by_query[id(q)] for q in queries if id(q) in by_query]
        files.append(QueryFile(module, source_path, tuple(typed)))
    diagnostics = [*diagnostics, *project.diagnostics]
    try:
        with timer.stage("render"):
            codec = get_target(config.models.target).overrides
            typemap = build_typemap(catalog, config.overrides, config.naming, codec)
            output = render_package(files, typemap, config.channels, config.models)
            output = format_python(output, config.line_length)
    except UserError as err:  # the package itself cannot be made: keep_going has nothing to write
        raise UserError([*diagnostics, *err.diagnostics]) from None
    if errors_only(diagnostics) and not keep_going:
        raise UserError(diagnostics)
    return output, diagnostics
