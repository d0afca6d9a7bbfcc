"""The whole generation: config → sources → database → catalog → describe → infer → render.

`generate` is a pure function of the project files and the database: it returns
`{relative path: text}` and writes nothing (see `sqlgen.output` for that).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlgen.catalog import Catalog, load_catalog
from sqlgen.config import Config
from sqlgen.database import DbConnection, apply_schema, open_database
from sqlgen.describe import describe_materialized_views, describe_queries
from sqlgen.errors import Diagnostic, SourceText, UserError
from sqlgen.infer import TypedQuery, infer_query
from sqlgen.naming import module_name
from sqlgen.render import QueryFile, render_package
from sqlgen.source import QuerySource, parse_queries, read_source
from sqlgen.timing import NO_TIMER, Timer
from sqlgen.typemap import build_typemap

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
            schema.append(read_source(path))
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
    with timer.around(open_database(config.database_url), "database start", "database stop") as conn:
        if config.database_url is None:
            with timer.stage("schema"):
                apply_schema(conn, project.schema)
        yield conn


def generate(config: Config, conn: DbConnection | None = None, timer: Timer = NO_TIMER) -> dict[str, str]:
    """Generate the output package for `config`; `conn` (schema already applied) skips the database stage."""
    with timer.stage("read"):
        project = read_project(config)
    if conn is None:
        with project_database(config, project, timer) as database:
            return _generate(project, database, config, timer)
    return _generate(project, conn, config, timer)


def type_queries(
    conn: DbConnection, catalog: Catalog, queries: Sequence[QuerySource], timer: Timer = NO_TIMER
) -> tuple[list[TypedQuery], list[Diagnostic]]:
    """Describe and infer `queries`: the typed ones PostgreSQL accepts, and a diagnostic for each it rejects."""
    with timer.stage("describe"):
        described, diagnostics = describe_queries(conn, queries)
        views = describe_materialized_views(conn, catalog) if described else {}
    typed: list[TypedQuery] = []
    with timer.stage("infer"):
        for query in described:
            try:
                typed.append(infer_query(query, catalog, views))
            except UserError as err:
                diagnostics.extend(err.diagnostics)
    return typed, diagnostics


def _generate(project: Project, conn: DbConnection, config: Config, timer: Timer) -> dict[str, str]:
    with timer.stage("catalog"):
        catalog: Catalog = load_catalog(conn)
    typed_queries, diagnostics = type_queries(conn, catalog, project.queries, timer)
    by_query = {id(t.described.query): t for t in typed_queries}
    files = []
    for module, source_path, queries in project.files:
        typed = [by_query[id(q)] for q in queries if id(q) in by_query]
        files.append(QueryFile(module, source_path, tuple(typed)))
    diagnostics.extend(project.diagnostics)
    try:
        with timer.stage("render"):
            output = render_package(files, build_typemap(catalog, config.overrides), config.channels)
    except UserError as err:
        diagnostics.extend(err.diagnostics)
    if diagnostics:
        raise UserError(diagnostics)
    return output
