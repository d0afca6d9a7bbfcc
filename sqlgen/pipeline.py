"""The whole generation: config → sources → database → catalog → describe → infer → render.

`generate` is a pure function of the project files and the database: it returns
`{relative path: text}` and writes nothing (see `sqlgen.output` for that).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlgen.cache import (
    DescribeCache,
    RunRecord,
    inputs_fingerprint,
    output_fingerprint,
    same_relations,
    save,
    schema_fingerprint,
    unchanged_output,
)
from sqlgen.catalog import Catalog, load_catalog
from sqlgen.config import Config
from sqlgen.errors import Diagnostic, SourceText, UserError, display_path
from sqlgen.migrations import read_schema
from sqlgen.naming import module_name
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
    for path in config.schema_files():
        try:
            schema.append(read_schema(path))
        except UserError as err:
            diagnostics.extend(err.diagnostics)
    if diagnostics:
        raise UserError(diagnostics)
    files: list[tuple[str, str, tuple[QuerySource, ...]]] = []
    modules: dict[str, str] = {}
    for path in config.query_files():
        try:
            source = read_source(path)
        except UserError as err:
            diagnostics.extend(err.diagnostics)
            continue
        queries, problems = parse_queries(source)
        diagnostics.extend(problems)
        module = module_name(path.stem)
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
                    f"{path.name} and {modules[module]} would both generate {module}.py",
                    location,
                    hint="rename one of the files",
                )
            )
        else:
            modules[module] = path.name
            files.append((module, config.relative(path), tuple(queries)))
    return Project(tuple(schema), tuple(files), tuple(diagnostics))


@contextlib.contextmanager
def project_database(config: Config, project: Project, timer: Timer = NO_TIMER) -> Iterator[DbConnection]:
    """A connection with the project's schema: a fresh embedded server, or the live database as it is."""
    from sqlgen.database import apply_schema, limit_waits, open_database

    with timer.around(open_database(config.database_url), "database start", "database stop") as conn:
        if config.database_url is None:
            with timer.stage("schema"):
                apply_schema(conn, project.schema)
        limit_waits(conn, config.describe_timeout)
        yield conn


@dataclass(frozen=True)
class Generated:
    files: dict[str, str]  # relative path → text
    described: int  # queries described on a database in this run
    cached: int  # queries whose description came from the describe cache


def generate(config: Config, conn: DbConnection | None = None, timer: Timer = NO_TIMER) -> dict[str, str]:
    """The output package for `config`; `conn` (schema already applied) is used as it is, without the cache."""
    if conn is None:
        return generate_package(config, timer=timer).files
    with timer.stage("read"):
        project = read_project(config)
    with timer.stage("catalog"):
        catalog = load_catalog(conn)
    typed, diagnostics = type_queries(conn, catalog, project.queries, timer)
    return _render(project, catalog, typed, diagnostics, config, timer)


def generate_package(config: Config, *, offline: bool = False, timer: Timer = NO_TIMER) -> Generated:
    """The output package for `config`, describing only the queries the describe cache does not know.

    When nothing changed since the last run (sqlgen, config, schema and query files, and the
    output folder) the output folder is the answer. When the cache knows every query, no
    database is started; `offline` never starts one, and fails when the cache does not cover
    the project.
    """
    with timer.stage("cache check"):
        cache = DescribeCache.load(config.cache) if config.cache else DescribeCache.empty()
        inputs = inputs_fingerprint(config)
        unchanged = unchanged_output(config, cache, inputs)
        if unchanged is not None:
            return Generated(unchanged[0], 0, unchanged[1])
    with timer.stage("read"):
        project = read_project(config)
    with timer.stage("cache lookup"):
        schema = schema_fingerprint(project.schema, live=config.database_url is not None)
        cached = {id(q): t for q in project.queries if (t := cache.typed(q, schema, trust_schema=offline)) is not None}
    missing = [q for q in project.queries if id(q) not in cached]
    if cache.catalog is not None and (offline or not missing):
        if missing:
            raise UserError([_stale(query, config) for query in missing])
        catalog, typed, diagnostics = cache.catalog, list(cached.values()), list[Diagnostic]()
    elif offline:
        raise UserError([_no_cache(config)])
    else:
        with project_database(config, project, timer) as database:
            with timer.stage("catalog"):
                catalog = load_catalog(database)
            if not same_relations(catalog, cache.catalog):  # entries made against other object ids do not apply
                cached, missing = {}, project.queries
            described, diagnostics = type_queries(database, catalog, missing, timer)
        typed = [*cached.values(), *described]
    try:
        files = _render(project, catalog, typed, diagnostics, config, timer)
    except UserError:
        if config.cache is not None and missing:
            save(config.cache, schema, catalog, typed)  # what did check need not be described again
        raise
    if config.cache is not None and not offline:
        with timer.stage("cache write"):
            run = None if inputs is None else RunRecord(inputs, output_fingerprint(files), len(project.queries))
            save(config.cache, schema, catalog, typed, run)
    return Generated(files, len(missing), len(cached))


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


def type_queries(
    conn: DbConnection, catalog: Catalog, queries: Sequence[QuerySource], timer: Timer = NO_TIMER
) -> tuple[list[TypedQuery], list[Diagnostic]]:
    """Describe and infer `queries`: the typed ones PostgreSQL accepts, and a diagnostic for each it rejects."""
    from sqlgen.describe import describe_materialized_views, describe_queries
    from sqlgen.expand import expand_stars
    from sqlgen.infer import infer_query

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
    return typed, diagnostics


def _render(
    project: Project,
    catalog: Catalog,
    typed_queries: Sequence[TypedQuery],
    diagnostics: list[Diagnostic],
    config: Config,
    timer: Timer = NO_TIMER,
) -> dict[str, str]:
    from sqlgen.render import QueryFile, render_package
    from sqlgen.typemap import build_typemap

    by_query = {id(t.described.query): t for t in typed_queries}
    files = []
    for module, source_path, queries in project.files:
        typed = [by_query[id(q)] for q in queries if id(q) in by_query]
        files.append(QueryFile(module, source_path, tuple(typed)))
    diagnostics = [*diagnostics, *project.diagnostics]
    try:
        with timer.stage("render"):
            output = render_package(files, build_typemap(catalog, config.overrides), config.channels, config.models)
    except UserError as err:
        diagnostics.extend(err.diagnostics)
    if diagnostics:
        raise UserError(diagnostics)
    return output
