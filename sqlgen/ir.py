"""The intermediate representation: what sqlgen knows about a project once PostgreSQL has checked it.

Each query with its parameters and columns (PostgreSQL's type, a logical type that names no
language, nullability and the reason for it, cardinality), the schema's relations, enums and
composites, and the configured channels. It holds nothing of Python: a generator for another
language or library reads it (`sqlgen describe --json` prints it, `sqlgen.describe` returns
it) as sqlc's plugins read its codegen request.

This module needs only the standard library. `to_data` and `from_data` convert to and from
JSON data (objects keyed by field name); `json_schema` describes that data. `VERSION`
changes when a field is removed or changes meaning; fields are only ever added otherwise.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

VERSION = 1

# Logical types: what a value is, in no language's words. `array`, `enum`, `composite`,
# `range` and `multirange` say more in `SqlType` (element, labels, fields); a type sqlgen
# has no logical name for is `unknown` (its values travel as text).
LOGICAL_TYPES = (
    "boolean", "int16", "int32", "int64", "float32", "float64", "decimal", "money",
    "text", "bytes", "uuid", "json", "date", "time", "time_tz", "timestamp", "timestamp_tz",
    "interval", "network", "mac", "bits", "xml", "oid", "hstore", "vector", "geometric",
    "tsvector", "tsquery", "void", "record",
    "array", "enum", "composite", "range", "multirange", "unknown",
)  # fmt: skip


@dataclass(frozen=True)
class SqlType:
    """A PostgreSQL type, as the catalog names it, and what it is."""

    schema: str  # pg_catalog for built-in types
    name: str  # as PostgreSQL spells it: int8, _text for text[], a domain's own name
    logical: str  # one of LOGICAL_TYPES; a domain has its base type's
    element: SqlType | None = None  # an array's element type, or a range's subtype
    domain: str | None = None  # a domain's qualified name (schema.name), when the type is one
    dimensions: int = 0  # an array's declared dimensions (0: not declared)


@dataclass(frozen=True)
class ColumnRef:
    """A column of a relation: where a parameter's value goes, or a result column's value comes from."""

    schema: str
    relation: str
    column: str


@dataclass(frozen=True)
class Position:
    """A place in a project file: its path relative to the project root, line and column from 1."""

    path: str
    line: int
    column: int


@dataclass(frozen=True)
class Parameter:
    """A parameter of a query: `$number` in its SQL."""

    number: int  # $n in `Query.sql`
    name: str  # declared (@name, sqlc.arg), inferred from what it is compared with, or p<n>
    type: SqlType
    nullable: bool  # whether NULL may be passed
    nullable_reason: str
    elements_nullable: bool = True  # an array whose elements may be NULL
    slice: bool = False  # sqlc.slice: a list of values sent as one array
    column: ColumnRef | None = None  # the column it is written to or compared with


@dataclass(frozen=True)
class Column:
    """A column of a query's result."""

    name: str  # as PostgreSQL reports it
    type: SqlType
    nullable: bool  # whether a row can hold NULL here; False is a guarantee
    nullable_reason: str
    elements_nullable: bool = True
    source: ColumnRef | None = None  # the table column it is read from, when it is a plain reference


@dataclass(frozen=True)
class Embed:
    """`sqlc.embed(name)`: the columns `first`..`first + count - 1` of the row are one nested row."""

    name: str  # the table or alias as written
    relation: str  # the relation's qualified name (schema.name)
    first: int  # index into `Query.columns`
    count: int
    nullable: bool  # an outer join can leave it out: its columns are then all NULL
    nullable_reason: str


@dataclass(frozen=True)
class CopyTarget:
    """Where a `:copyfrom` query's rows go."""

    schema: str
    relation: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """One annotated query, as PostgreSQL checked it."""

    key: str  # stable within the package: `<module>.<name>`
    name: str  # as annotated (`-- name: GetAuthor :one`)
    command: str  # `:one`, `:many`, `:exec`, … as annotated
    sql: str  # what runs: parameters as $n, `*` expanded
    doc: str  # the comment lines above the statement
    position: Position  # of the annotation
    parameters: tuple[Parameter, ...]
    columns: tuple[Column, ...]
    exactly_one_row: bool  # the statement returns exactly one row every time it succeeds
    rows_reason: str
    embeds: tuple[Embed, ...] = ()
    copy_target: CopyTarget | None = None
    validate: bool = False  # `-- @validate`: results are to be validated, not trusted


@dataclass(frozen=True)
class Module:
    """One query file."""

    name: str  # unique in the package, a valid identifier (see docs/queries.md)
    path: str  # relative to the project root
    queries: tuple[Query, ...]


@dataclass(frozen=True)
class Field:
    """A column of a relation, or an attribute of a composite type."""

    name: str
    type: SqlType
    nullable: bool  # for a view, as sqlgen infers it from the view's query
    elements_nullable: bool = True


@dataclass(frozen=True)
class Relation:
    """A table or view of the schema: the row `SELECT * FROM it` gives."""

    schema: str
    name: str
    kind: str  # table, view, materialized view, partitioned table, foreign table
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Enum:
    """An enum type of the schema."""

    schema: str
    name: str
    labels: tuple[str, ...]  # in PostgreSQL's sort order


@dataclass(frozen=True)
class Composite:
    """A composite type of the schema (CREATE TYPE … AS (…))."""

    schema: str
    name: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Channel:
    """A LISTEN/NOTIFY channel of `[tool.sqlgen.channels]`."""

    name: str
    payload: str  # a relation or composite of the schema (schema.name), or the user's own type's path


@dataclass(frozen=True)
class Package:
    """One generated package: its query files, and the schema objects its queries see."""

    name: str | None  # its name in a configuration of several packages
    out: str  # the folder it is generated into, relative to the project root
    modules: tuple[Module, ...]
    relations: tuple[Relation, ...]
    enums: tuple[Enum, ...]
    composites: tuple[Composite, ...]
    channels: tuple[Channel, ...] = ()


@dataclass(frozen=True)
class Project:
    """What `sqlgen describe --json` prints: every package of the project."""

    packages: tuple[Package, ...]
    version: int = VERSION
    generator: str = "sqlgen"  # and its version, as `sqlgen 0.1.0`


_T = TypeVar("_T")


def to_data(value: Any) -> Any:
    """An IR object as JSON data: objects keyed by field name, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_data(item) for item in value]
    return value


def from_data(cls: type[_T], data: Any, where: str = "$") -> _T:
    """`cls` read back from `to_data`'s JSON data, checked field by field: a ValueError names the
    first place (`$.packages[0].modules[1].name`) that is not what the IR says. Unknown keys are
    ignored, so data from a later version with added fields still reads."""
    value: _T = _read(cls, data, where)
    return value


def _read(annotation: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if data is None and type(None) in options:
            return None
        [option] = [o for o in options if o is not type(None)]
        return _read(option, data, where)
    if origin is tuple:
        if not isinstance(data, list):
            raise ValueError(f"{where}: expected a list, got {_kind(data)}")
        item = typing.get_args(annotation)[0]
        return tuple(_read(item, element, f"{where}[{i}]") for i, element in enumerate(data))
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {_kind(data)}")
        hints = typing.get_type_hints(annotation)
        values = {}
        for f in dataclasses.fields(annotation):
            if f.name in data:
                values[f.name] = _read(hints[f.name], data[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"{where}: missing {f.name!r}")
        made: Any = typing.cast(Any, annotation)(**values)
        return made
    if annotation is bool or annotation is str:
        if not isinstance(data, annotation):
            raise ValueError(f"{where}: expected {annotation.__name__}, got {_kind(data)}")
        return data
    if annotation is int:
        if not isinstance(data, int) or isinstance(data, bool):
            raise ValueError(f"{where}: expected int, got {_kind(data)}")
        return data
    raise TypeError(f"{where}: no reader for {annotation!r}")  # a field of a type the IR does not use


def _kind(data: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(data), type(data).__name__
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of `to_data(Project(...))`."""
    definitions: dict[str, Any] = {}

    def schema_of(annotation: Any) -> dict[str, Any]:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            options = [o for o in typing.get_args(annotation) if o is not type(None)]
            return {"anyOf": [schema_of(options[0]), {"type": "null"}]}
        if origin is tuple:
            return {"type": "array", "items": schema_of(typing.get_args(annotation)[0])}
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            name = annotation.__name__
            if name not in definitions:
                definitions[name] = {}  # a recursive reference (SqlType.element) finds it
                hints = typing.get_type_hints(annotation)
                fields = dataclasses.fields(annotation)
                definitions[name] = {
                    "type": "object",
                    "description": (annotation.__doc__ or name).strip().splitlines()[0],
                    "properties": {f.name: schema_of(hints[f.name]) for f in fields},
                    "required": [
                        f.name
                        for f in fields
                        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                    ],
                }
                if name == "SqlType":
                    definitions[name]["properties"]["logical"] = {"enum": list(LOGICAL_TYPES)}
            return {"$ref": f"#/$defs/{name}"}
        return {"type": {bool: "boolean", int: "integer", str: "string"}[annotation]}

    root = schema_of(Project)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sqlgen describe --json",
        **root,
        "$defs": definitions,
    }
