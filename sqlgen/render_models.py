"""models.py: a StrEnum per enum, a model and its converters per composite type, a model per table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlgen.catalog import PgType, Table
from sqlgen.escape import PyLiteral, docstring, inline, literal
from sqlgen.layout import (
    ConverterView,
    EnumView,
    FieldView,
    ModelOptions,
    ModelView,
    ModuleView,
    convert,
    header,
    optional,
    sorted_imports,
    unshadow,
    wrap_call,
)
from sqlgen.naming import enum_member, field_name, unique
from sqlgen.targets import Target, get_target
from sqlgen.typemap import PyType, TypeMap, UnsupportedType


@dataclass(frozen=True)
class TableModel:
    table: Table
    name: str
    fields: tuple[FieldView, ...]
    types: tuple[PyType, ...]


def models_view(typemap: TypeMap, table_models: Mapping[int, TableModel], options: ModelOptions) -> ModuleView:
    target = get_target(options.target)
    composites = _composite_models(typemap, options, target)
    converted = [t for _, _, ts in composites for t in ts if t.decode or t.encode]  # by the composite converters
    types = [t for m in table_models.values() for t in m.types] + [t for _, _, ts in composites for t in ts]
    imports: set[str] = set().union(*(t.imports for t in types))
    if composites:
        imports |= {"import asyncpg"}.union(*(t.decode_imports | t.encode_imports for t in converted))
    imports = {line for line in imports if not line.startswith("from .models import")}
    enums = _enum_views(typemap)
    if enums:
        imports.add("from enum import StrEnum")
    models = [model for model, _, _ in composites]
    models += [
        target.model(
            ModelView(m.name, _model_doc(m.table), m.fields, any(t.arbitrary for t in m.types), frozen=options.frozen)
        )
        for m in table_models.values()
    ]
    if composites:
        imports |= target.construct_imports(options.validate)
    imports |= target.model_imports(models)
    return unshadow(
        ModuleView(
            header=header(None),
            docstring=docstring("Models for the enums, composite types, tables and views of the schema."),
            imports=sorted_imports(imports, typemap.first_party_modules),
            models=tuple(models),
            functions=(),
            enums=enums,
            definitions=tuple(sorted(set().union(*(t.definitions for t in converted)))),
            converters=tuple(converter for _, converter, _ in composites),
            codecs=tuple(sorted(set().union(*(t.codecs for t in types)))),
        ),
        typemap.first_party_modules,
    )


def _model_doc(table: Table) -> PyLiteral:
    kind = {"v": "view", "m": "materialized view", "f": "foreign table"}.get(table.kind, "table")
    return docstring(f"A row of the {kind} {inline(table.schema)}.{inline(table.name)}.")


def build_table_models(typemap: TypeMap) -> dict[int, TableModel]:
    models: dict[int, TableModel] = {}
    tables = []
    for table in typemap.catalog.user_tables():
        try:
            types = tuple(typemap.of_column(table.oid, c.number, c.type_oid) for c in table.columns)
        except UnsupportedType:
            continue  # no model; queries reading the unsupported column report it
        tables.append((table, types))
    taken = list(typemap.class_names.values())
    names = unique([*taken, *(typemap.naming.model_name(t.schema, t.name) for t, _ in tables)])[len(taken) :]
    for (table, types), name in zip(tables, names, strict=True):
        field_names = unique(field_name(c.name) for c in table.columns)
        fields = tuple(
            FieldView(f, optional(t.annotation, table_column_nullable(table, c.not_null)))
            for f, t, c in zip(field_names, types, table.columns, strict=True)
        )
        models[table.oid] = TableModel(table, name, fields, types)
    return models


def _composite_models(
    typemap: TypeMap, options: ModelOptions, target: Target
) -> list[tuple[ModelView, ConverterView, tuple[PyType, ...]]]:
    """A model and its converters for each composite type, every type after the composites it holds."""
    result = []
    for composite in _dependency_order(typemap):
        attributes = typemap.catalog.composite_attributes(composite) or ()
        try:
            types = tuple(typemap.of_column(composite.relation_oid, a.number, a.type_oid) for a in attributes)
        except UnsupportedType:
            continue  # queries using the type report it
        name = typemap.class_names[composite.oid]
        decode, encode = typemap.composite_functions(composite.oid)
        fields = unique(field_name(a.name) for a in attributes)
        model = ModelView(
            name,
            docstring(f"A value of the composite type {inline(composite.schema)}.{inline(composite.name)}."),
            tuple(FieldView(f, optional(t.annotation, True)) for f, t in zip(fields, types, strict=True)),
            any(t.arbitrary for t in types),
            frozen=options.frozen,
        )
        model = target.model(model)
        decode_args = [
            f"{f}={convert(t.decode, f'value[{i}]', True)}" for i, (f, t) in enumerate(zip(fields, types, strict=True))
        ]
        encode_items = [convert(t.encode, f"value.{f}", True) for f, t in zip(fields, types, strict=True)]
        if len(encode_items) == 1:
            encode_items[0] += ","
        converter = ConverterView(
            name,
            decode,
            target.construct(name, decode_args, indent=4, validate=options.validate, prefix="return "),
            encode,
            wrap_call("return ", encode_items, indent=4),
        )
        result.append((model, converter, types))
    return result


def _dependency_order(typemap: TypeMap) -> list[PgType]:
    catalog = typemap.catalog
    composites = catalog.user_composites()
    depth: dict[int, int] = {}

    def composite_depth(oid: int) -> int:
        pg_type = catalog.innermost(oid)
        if pg_type is None or pg_type.kind != "c":
            return 0
        if pg_type.oid not in depth:
            depth[pg_type.oid] = 0  # a cycle cannot happen in PostgreSQL; this only guards recursion
            attributes = catalog.composite_attributes(pg_type) or ()
            depth[pg_type.oid] = 1 + max((composite_depth(a.type_oid) for a in attributes), default=0)
        return depth[pg_type.oid]

    return sorted(composites, key=lambda t: composite_depth(t.oid))


def _enum_views(typemap: TypeMap) -> tuple[EnumView, ...]:
    return tuple(
        EnumView(
            typemap.class_names[e.oid],
            docstring(f"The enum {inline(e.schema)}.{inline(e.name)}, in PostgreSQL's order."),
            tuple(
                (member, literal(label))
                for member, label in zip(unique(enum_member(label) for label in e.labels), e.labels, strict=True)
            ),
        )
        for e in typemap.catalog.user_enums()
    )


def table_column_nullable(table: Table, not_null: bool) -> bool:
    """A view's columns are NOT NULL where sqlgen inferred so (`pipeline.infer_views`)."""
    return not (not_null and (table.enforces_not_null or table.kind == "v"))
