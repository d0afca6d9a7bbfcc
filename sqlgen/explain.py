"""`sqlgen explain`: for chosen queries, each parameter's and column's type and nullability, and why.

>>> print(aligned([("id", "bigint", "int", "not null: authors.id is NOT NULL"),
...                 ("bio", "text", "str | None", "nullable: authors.bio has no NOT NULL constraint")]))
  id   bigint  int         not null  authors.id is NOT NULL
  bio  text    str | None  nullable  authors.bio has no NOT NULL constraint
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from sqlgen.catalog import Catalog, declare_non_null, load_catalog
from sqlgen.config import Config
from sqlgen.errors import Diagnostic, UserError
from sqlgen.infer import TypedQuery
from sqlgen.naming import snake_case
from sqlgen.pipeline import project_database, read_project, type_queries
from sqlgen.source import Command, QuerySource
from sqlgen.timing import NO_TIMER, Timer
from sqlgen.typemap import TypeMap, UnsupportedType, build_typemap, or_none


def explain(config: Config, names: Sequence[str], timer: Timer = NO_TIMER) -> str:
    """The explanation of each query named (by its annotation name or its function name)."""
    with timer.stage("read"):
        project = read_project(config)
    queries = project.queries
    selected: list[QuerySource] = []  # in the order asked for; a name repeated, or two names of one query, once
    for name in names:
        selected += [q for q in queries if name in (q.name, snake_case(q.name)) and all(q is not s for s in selected)]
    unknown = [n for n in names if not any(n in (q.name, snake_case(q.name)) for q in queries)]
    if unknown:
        known = [q.name for q in queries]
        hints = [difflib.get_close_matches(n, known, n=1) for n in unknown]
        raise UserError(
            [
                Diagnostic(
                    f"no query named {name!r}",
                    None,
                    hint=f"did you mean {match[0]!r}?" if match else "names are those of `-- name:` annotations",
                )
                for name, match in zip(unknown, hints, strict=True)
            ]
        )
    with project_database(config, project, timer) as conn:
        with timer.stage("catalog"):
            catalog = declare_non_null(load_catalog(conn), config.non_null_functions)
        typed, diagnostics = type_queries(conn, catalog, selected, timer)
    if diagnostics:
        raise UserError(diagnostics)
    typemap = build_typemap(catalog, config.overrides, config.naming)
    asked = {id(query): i for i, query in enumerate(selected)}
    typed = sorted(typed, key=lambda t: asked[id(t.described.query)])
    return "\n\n".join(_explain_query(t, catalog, typemap) for t in typed) + "\n"


def _explain_query(typed: TypedQuery, catalog: Catalog, typemap: TypeMap) -> str:
    query: QuerySource = typed.described.query
    location = query.file.location(query.annotation_offset)
    lines = [f"{query.name} {query.command.value}  ({location.path}:{location.line})"]
    if query.command in (Command.ONE, Command.BATCHONE):
        count, _, why = typed.rows.reason.partition(": ")
        returns = "the row, never None" if typed.rows.exactly_one else "the first row, or None"
        lines.append(f"rows  {count.removesuffix(' rows').removesuffix(' row')}  {why}: returns {returns}")
    if typed.params:
        lines.append("parameters")
        rows = [
            (
                f"${p.number} {p.name}",
                _pg_name(catalog, p.type_oid),
                _python(
                    typemap,
                    p.table_oid,
                    p.column_number,
                    p.type_oid,
                    p.nullable,
                    None if p.elements_nullable else False,
                ),
                p.reason,
            )
            for p in typed.params
        ]
        lines.append(aligned(rows))
    if typed.columns:
        lines.append("columns")
        rows = []
        for c in typed.columns:
            python = _python(typemap, c.table_oid, c.column_number, c.type_oid, c.nullable, c.elements_nullable)
            rows.append((c.name, _pg_name(catalog, c.type_oid), python, c.reason))
            if c.elements_reason:  # an array's elements, on a line of their own
                rows.append(("  elements", "", "", c.elements_reason))
        lines.append(aligned(rows))
    return "\n".join(lines)


def aligned(rows: Sequence[tuple[str, str, str, str]]) -> str:
    """Rows of (name, PostgreSQL type, Python type, reason) as aligned columns."""
    cells = [(name, pg_type, python, *reason.partition(": ")[::2]) for name, pg_type, python, reason in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(4)]
    return "\n".join(
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in cells
    )


_SQL_NAMES = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "bpchar": "character",
    "varchar": "character varying",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "varbit": "bit varying",
}


def _pg_name(catalog: Catalog, oid: int) -> str:
    pg_type = catalog.types.get(oid)
    if pg_type is None:
        return str(oid)
    if pg_type.is_array:
        return f"{_pg_name(catalog, pg_type.element_oid)}[]"
    if pg_type.schema == "pg_catalog":
        return _SQL_NAMES.get(pg_type.name, pg_type.name)
    return pg_type.name if pg_type.schema == "public" else pg_type.qualified_name


def _python(
    typemap: TypeMap, table_oid: int, column_number: int, type_oid: int, nullable: bool, elements: bool | None
) -> str:
    try:
        annotation = typemap.of_column(table_oid, column_number, type_oid, nullable_elements=elements).annotation
    except UnsupportedType as err:
        return f"(unsupported: {err.why})"
    return or_none(annotation) if nullable else annotation
