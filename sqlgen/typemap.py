"""The typemap stage: PostgreSQL types → Python type expressions, imports and conversions.

>>> from sqlgen.catalog import PgType
>>> types = {23: PgType(23, "pg_catalog", "int4", "b", 0, 0, False),
...          1007: PgType(1007, "pg_catalog", "_int4", "b", 23, 0, False)}
>>> python_type(types, 1007).annotation
'list[int | None]'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlgen.catalog import PgType
from sqlgen.naming import enum_name


@dataclass(frozen=True)
class PyType:
    """A Python type for values of one PostgreSQL type, as generated code spells it.

    `decode`/`encode` are expression templates (`{}` is the value) converting between
    what asyncpg reads or writes and the Python value; None means no conversion.
    """

    annotation: str
    imports: frozenset[str] = field(default_factory=frozenset)  # what the annotation needs
    decode: str | None = None
    encode: str | None = None
    conversion_imports: frozenset[str] = field(default_factory=frozenset)  # what decode/encode need
    param_annotation: str | None = None  # when parameters accept a wider type than results give
    param_imports: frozenset[str] = field(default_factory=frozenset)  # what the parameter annotation adds

    def as_param(self) -> str:
        return self.param_annotation or self.annotation


_DATETIME = frozenset({"import datetime"})
_JSON = PyType(
    "JsonValue",
    frozenset({"from pydantic import JsonValue"}),
    decode="json.loads({})",
    encode="json.dumps({})",
    conversion_imports=frozenset({"import json"}),
)

# PostgreSQL built-in type (pg_catalog.typname) → Python type.
BUILTIN_TYPES: Mapping[str, PyType] = {
    "bool": PyType("bool"),
    "int2": PyType("int"),
    "int4": PyType("int"),
    "int8": PyType("int"),
    "oid": PyType("int"),
    "float4": PyType("float"),
    "float8": PyType("float"),
    "numeric": PyType("decimal.Decimal", frozenset({"import decimal"})),
    "text": PyType("str"),
    "varchar": PyType("str"),
    "bpchar": PyType("str"),
    "char": PyType("str"),
    "name": PyType("str"),
    "bytea": PyType("bytes"),
    "date": PyType("datetime.date", _DATETIME),
    "time": PyType("datetime.time", _DATETIME),
    "timetz": PyType("datetime.time", _DATETIME),
    "timestamp": PyType("datetime.datetime", _DATETIME),
    "timestamptz": PyType("datetime.datetime", _DATETIME),
    "interval": PyType("datetime.timedelta", _DATETIME),
    "uuid": PyType("uuid.UUID", frozenset({"import uuid"})),
    "json": _JSON,
    "jsonb": _JSON,
}


class UnsupportedType(Exception):
    def __init__(self, pg_type: PgType | None, oid: int) -> None:
        self.type_name = pg_type.qualified_name if pg_type else f"oid {oid}"
        super().__init__(self.type_name)


def python_type(types: Mapping[int, PgType], oid: int) -> PyType:
    """The Python type for PostgreSQL type `oid`; raises UnsupportedType."""
    pg_type = types.get(oid)
    if pg_type is None:
        raise UnsupportedType(None, oid)
    if pg_type.kind == "d":
        return python_type(types, pg_type.base_oid)
    if pg_type.is_array:
        element = python_type(types, pg_type.element_oid)
        decode = None
        if element.decode:
            decode = "[None if v is None else " + element.decode.format("v") + " for v in {}]"
        encode = None
        if element.encode:
            encode = "[None if v is None else " + element.encode.format("v") + " for v in {}]"
        return PyType(
            f"list[{element.annotation} | None]",
            element.imports,
            decode=decode,
            encode=encode,
            conversion_imports=element.conversion_imports,
            param_annotation=f"Sequence[{element.as_param()} | None]",
            param_imports=element.param_imports | {"from collections.abc import Sequence"},
        )
    if pg_type.kind == "e":
        name = enum_name(pg_type.schema, pg_type.name)
        return PyType(name, frozenset({f"from .models import {name}"}), decode=f"{name}({{}})")
    if pg_type.schema == "pg_catalog" and pg_type.name in BUILTIN_TYPES:
        return BUILTIN_TYPES[pg_type.name]
    raise UnsupportedType(pg_type, oid)
