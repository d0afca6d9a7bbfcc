"""The IR (`sqlgen.ir`) of one package, from what the analysis stages found: the catalog and the typed queries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlgen import ir
from sqlgen.catalog import Catalog, Column, PgType, Table
from sqlgen.config import Config
from sqlgen.render_models import table_column_nullable

if TYPE_CHECKING:
    from sqlgen.infer import TypedQuery
    from sqlgen.pipeline import Project

# Built-in (and well-known extension) types by name → logical type.
_LOGICAL = {
    "bool": "boolean",
    "int2": "int16",
    "int4": "int32",
    "int8": "int64",
    "float4": "float32",
    "float8": "float64",
    "numeric": "decimal",
    "money": "money",
    "text": "text",
    "varchar": "text",
    "bpchar": "text",
    "char": "text",
    "name": "text",
    "citext": "text",
    "bytea": "bytes",
    "uuid": "uuid",
    "json": "json",
    "jsonb": "json",
    "date": "date",
    "time": "time",
    "timetz": "time_tz",
    "timestamp": "timestamp",
    "timestamptz": "timestamp_tz",
    "interval": "interval",
    "inet": "network",
    "cidr": "network",
    "macaddr": "mac",
    "macaddr8": "mac",
    "bit": "bits",
    "varbit": "bits",
    "xml": "xml",
    "oid": "oid",
    "regclass": "oid",
    "regtype": "oid",
    "hstore": "hstore",
    "vector": "vector",
    "point": "geometric",
    "line": "geometric",
    "lseg": "geometric",
    "box": "geometric",
    "path": "geometric",
    "polygon": "geometric",
    "circle": "geometric",
    "tsvector": "tsvector",
    "tsquery": "tsquery",
    "void": "void",
    "record": "record",
}
_BY_KIND = {"e": "enum", "c": "composite", "r": "range", "m": "multirange"}
_RELATION_KINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}


class _Types:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._made: dict[tuple[int, int], ir.SqlType] = {}

    def of(self, oid: int, dimensions: int = 0) -> ir.SqlType:
        key = (oid, dimensions)
        if key not in self._made:
            self._made[key] = self._make(oid, dimensions)
        return self._made[key]

    def _make(self, oid: int, dimensions: int) -> ir.SqlType:
        pg_type = self.catalog.types.get(oid)
        if pg_type is None:
            return ir.SqlType("", str(oid), "unknown")
        domain = pg_type.qualified_name if pg_type.kind == "d" else None
        base = self.catalog.beneath_domains(oid) or pg_type
        if base.is_array:
            element = self.of(base.element_oid)
            return ir.SqlType(pg_type.schema, pg_type.name, "array", element, domain, dimensions or pg_type.dimensions)
        if base.kind == "r" or base.kind == "m":
            subtype = self.of(base.range_subtype_oid) if base.range_subtype_oid else None
            return ir.SqlType(pg_type.schema, pg_type.name, _BY_KIND[base.kind], subtype, domain)
        return ir.SqlType(pg_type.schema, pg_type.name, _logical(base), None, domain)

    def column_ref(self, table_oid: int, number: int) -> ir.ColumnRef | None:
        table = self.catalog.tables.get(table_oid)
        column = table.column(number) if table is not None else None
        return ir.ColumnRef(table.schema, table.name, column.name) if table and column else None


def _logical(pg_type: PgType) -> str:
    if pg_type.kind in _BY_KIND:
        return _BY_KIND[pg_type.kind]
    if pg_type.schema == "pg_catalog" or pg_type.extension is not None:
        return _LOGICAL.get(pg_type.name, "unknown")
    return "unknown"


def build_package(config: Config, project: Project, catalog: Catalog, typed: Sequence[TypedQuery]) -> ir.Package:
    """The IR of a package: every query of `project` that `typed` holds, and the schema's objects."""
    types = _Types(catalog)
    by_query = {id(t.described.query): t for t in typed}
    modules = []
    for module, path, sources in project.files:
        queries = tuple(_query(module, path, by_query[id(q)], types) for q in sources if id(q) in by_query)
        modules.append(ir.Module(module, path, queries))
    relations = tuple(_relation(t, types) for t in catalog.user_tables() if t.kind in _RELATION_KINDS)
    enums = tuple(ir.Enum(t.schema, t.name, t.labels) for t in catalog.user_enums())
    composites = tuple(
        ir.Composite(t.schema, t.name, _fields(catalog.composite_attributes(t) or (), types))
        for t in catalog.user_composites()
    )
    channels = tuple(ir.Channel(c.name, c.payload) for c in config.channels)
    return ir.Package(config.name, config.relative(config.out), tuple(modules), relations, enums, composites, channels)


def _query(module: str, path: str, typed: TypedQuery, types: _Types) -> ir.Query:
    query = typed.described.query
    where = query.file.location(query.annotation_offset)
    parameters = tuple(
        ir.Parameter(
            p.number,
            p.name,
            types.of(p.type_oid),
            p.nullable,
            p.reason,
            p.elements_nullable,
            p.slice,
            types.column_ref(p.table_oid, p.column_number),
        )
        for p in typed.params
    )
    columns = tuple(
        ir.Column(
            c.name,
            types.of(c.type_oid),
            c.nullable,
            c.reason,
            c.elements_nullable,
            types.column_ref(c.table_oid, c.column_number),
        )
        for c in typed.columns
    )
    embeds = tuple(
        ir.Embed(e.name, _qualified(types.catalog.tables.get(e.table_oid)), e.first, e.count, e.nullable, e.reason)
        for e in typed.embeds
    )
    target = typed.copy_target
    return ir.Query(
        key=f"{module}.{query.name}",
        name=query.name,
        command=query.command.value,
        sql=typed.sql or query.sql,
        doc=query.doc,
        position=ir.Position(path, where.line, where.column),
        parameters=parameters,
        columns=columns,
        exactly_one_row=typed.rows.exactly_one,
        rows_reason=typed.rows.reason,
        embeds=embeds,
        copy_target=None if target is None else ir.CopyTarget(target.schema, target.table, target.columns),
        validate=query.validate,
    )


def _qualified(table: Table | None) -> str:
    return f"{table.schema}.{table.name}" if table is not None else ""


def _relation(table: Table, types: _Types) -> ir.Relation:
    fields = _fields(table.columns, types, lambda column: table_column_nullable(table, column.not_null))
    return ir.Relation(table.schema, table.name, _RELATION_KINDS[table.kind], fields)


def _fields(
    columns: Sequence[Column], types: _Types, nullable: Callable[[Column], bool] = lambda column: True
) -> tuple[ir.Field, ...]:
    """As the models have them: a relation's columns NOT NULL as `table_column_nullable` says, a
    composite's attributes all nullable (PostgreSQL enforces no constraint on them)."""
    return tuple(
        ir.Field(c.name, types.of(c.type_oid, c.dimensions), nullable(c), not c.elements_not_null) for c in columns
    )
