"""The typemap stage: PostgreSQL types → Python type expressions, imports and conversions.

Generated code works with what asyncpg reads and writes; where that is not the precise
Python value (json text, enum labels, composite records, `inet` addresses), the PyType
carries a conversion the generated code applies inline, so no connection setup is needed.
The one exception is hstore, whose binary codec asyncpg ships but does not enable: such
types list the statement `init_connection` runs.

>>> from sqlgen.catalog import Catalog, PgType
>>> types = {23: PgType(23, "pg_catalog", "int4", "b", 0, 0, False),
...          1007: PgType(1007, "pg_catalog", "_int4", "b", 23, 0, False)}
>>> typemap = TypeMap(Catalog(types, {}))
>>> typemap.of_type(1007).annotation, typemap.of_type(1007, dimensions=2).annotation
('list[int | None]', 'list[list[int | None]]')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from sqlgen.catalog import Catalog, PgType
from sqlgen.errors import Diagnostic, Location, UserError
from sqlgen.naming import class_name, snake_case, unique


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
    decode_imports: frozenset[str] = field(default_factory=frozenset)  # what decode needs
    encode_imports: frozenset[str] = field(default_factory=frozenset)  # what encode needs
    param_annotation: str | None = None  # when parameters accept a wider type than results give
    param_imports: frozenset[str] = field(default_factory=frozenset)  # what the parameter annotation adds
    arbitrary: bool = False  # pydantic can only check it with isinstance (arbitrary_types_allowed)
    codecs: frozenset[str] = field(default_factory=frozenset)  # statements init_connection must run
    definitions: frozenset[str] = field(default_factory=frozenset)  # module-level lines conversions use

    def as_param(self) -> str:
        return self.param_annotation or self.annotation


@dataclass(frozen=True)
class TypeOverride:
    """One `[tool.sqlgen.overrides]` entry: a type or a column → a Python type."""

    target: str  # as written: "pg_catalog.jsonb", "public.money_cents", "public.orders.payload"
    annotation: str  # the Python type as generated code spells it
    imports: frozenset[str]
    location: Location | None = None
    first_party: frozenset[str] = frozenset()  # top-level modules of the imports that live in the project


_DATETIME = frozenset({"import datetime"})
_DECIMAL = frozenset({"import decimal"})
_IPADDRESS = frozenset({"import ipaddress"})
_ASYNCPG = frozenset({"import asyncpg"})
_JSON = PyType(
    "JsonValue",
    frozenset({"from pydantic import JsonValue"}),
    decode="json.loads({})",
    encode="json.dumps({})",
    decode_imports=frozenset({"import json"}),
    encode_imports=frozenset({"import json"}),
)
_STR = PyType("str")
_INT = PyType("int")


def _asyncpg_type(name: str) -> PyType:
    return PyType(f"asyncpg.{name}", _ASYNCPG, arbitrary=True)


# PostgreSQL built-in type (pg_catalog.typname) → Python type.
BUILTIN_TYPES: Mapping[str, PyType] = {
    "bool": PyType("bool"),
    "int2": _INT,
    "int4": _INT,
    "int8": _INT,
    "float4": PyType("float"),
    "float8": PyType("float"),
    "numeric": PyType("decimal.Decimal", _DECIMAL),
    "money": PyType(
        "decimal.Decimal",
        _DECIMAL,
        decode=r'decimal.Decimal(re.sub(r"[^0-9.-]", "", {}))',
        encode="str({})",
        decode_imports=frozenset({"import re"}),
    ),
    "text": _STR,
    "varchar": _STR,
    "bpchar": _STR,
    "name": _STR,
    "char": PyType("str", decode='{}.decode("latin-1")', encode='{}.encode("latin-1")'),
    "xml": _STR,
    "tsvector": _STR,
    "tsquery": _STR,
    "macaddr": _STR,
    "macaddr8": _STR,
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
    "inet": PyType(
        "ipaddress.IPv4Interface | ipaddress.IPv6Interface",
        _IPADDRESS,
        decode="ipaddress.ip_interface({})",
        decode_imports=_IPADDRESS,
        param_annotation="ipaddress.IPv4Interface | ipaddress.IPv6Interface | ipaddress.IPv4Address"
        " | ipaddress.IPv6Address",
    ),
    "cidr": PyType("ipaddress.IPv4Network | ipaddress.IPv6Network", _IPADDRESS),
    "bit": _asyncpg_type("BitString"),
    "varbit": _asyncpg_type("BitString"),
    "point": _asyncpg_type("Point"),
    "line": _asyncpg_type("Line"),
    "lseg": _asyncpg_type("LineSegment"),
    "box": _asyncpg_type("Box"),
    "path": _asyncpg_type("Path"),
    "polygon": _asyncpg_type("Polygon"),
    "circle": _asyncpg_type("Circle"),
    "oid": _INT,
    "xid": _INT,
    "xid8": _INT,
    "cid": _INT,
    "pg_lsn": _INT,
    "tid": PyType("tuple[int, int]"),
    "txid_snapshot": PyType("tuple[int, int, tuple[int, ...]]"),
    "pg_snapshot": PyType("tuple[int, int, tuple[int, ...]]"),
    **{
        name: _STR
        for name in (
            "regclass",
            "regtype",
            "regproc",
            "regprocedure",
            "regoper",
            "regoperator",
            "regconfig",
            "regdictionary",
            "regnamespace",
            "regrole",
            "regcollation",
        )
    },
}

_VECTOR = PyType(
    "list[float]",
    decode='[float(x) for x in {}[1:-1].split(",")]',
    encode='"[" + ",".join(map(str, {})) + "]"',
    param_annotation="Sequence[float]",
    param_imports=frozenset({"from collections.abc import Sequence"}),
)

# Types that extensions create, by (extension, type name): their text form is the value.
EXTENSION_TYPES: Mapping[tuple[str, str], PyType] = {
    ("citext", "citext"): _STR,
    ("vector", "vector"): _VECTOR,
    ("vector", "halfvec"): _VECTOR,
    ("vector", "sparsevec"): _STR,
    ("ltree", "ltree"): _STR,
    ("ltree", "lquery"): _STR,
    ("ltree", "ltxtquery"): _STR,
    **{("isn", name): _STR for name in ("ean13", "isbn", "isbn13", "ismn", "ismn13", "issn", "issn13", "upc")},
}


def _hstore(schema: str) -> PyType:
    return PyType(
        "dict[str, str | None]",
        param_annotation="Mapping[str, str | None]",
        param_imports=frozenset({"from collections.abc import Mapping"}),
        codecs=frozenset(
            {f'await conn.set_builtin_type_codec("hstore", schema={schema!r}, codec_name="pg_contrib.hstore")'}
        ),
    )


class UnsupportedType(Exception):
    """A type sqlgen cannot map; `override` is the config key that would map it."""

    def __init__(self, type_name: str, override: str, why: str = "which sqlgen does not support") -> None:
        self.type_name = type_name
        self.override = override
        self.why = why
        super().__init__(type_name)


@dataclass(frozen=True)
class TypeMap:
    """Python types for a catalog's types and columns, with the user's overrides applied."""

    catalog: Catalog
    type_overrides: Mapping[int, TypeOverride] = field(default_factory=dict)
    column_overrides: Mapping[tuple[int, int], TypeOverride] = field(default_factory=dict)  # (table oid, attnum)

    @property
    def first_party_modules(self) -> frozenset[str]:
        """The project's own modules that overrides import (isort puts them in a group of their own)."""
        overrides = [*self.type_overrides.values(), *self.column_overrides.values()]
        return frozenset().union(*(o.first_party for o in overrides))

    @cached_property
    def class_names(self) -> dict[int, str]:
        """The class in models.py for each user enum and composite type, by type oid."""
        user_types = [*self.catalog.user_enums(), *self.catalog.user_composites()]
        names = unique(class_name(t.schema, t.name) for t in user_types)
        return {t.oid: name for t, name in zip(user_types, names, strict=True)}

    def composite_functions(self, oid: int) -> tuple[str, str]:
        """The (decode, encode) function names models.py defines for a composite type."""
        snake = snake_case(self.class_names[oid])
        return f"decode_{snake}", f"encode_{snake}"

    def of_column(self, table_oid: int, column_number: int, type_oid: int) -> PyType:
        """The type of a value read from or written to a table column (its override, its dimensions)."""
        table = self.catalog.tables.get(table_oid)
        column = table.column(column_number) if table else None
        if column is None or not self._is_or_underlies(type_oid, column.type_oid):
            return self.of_type(type_oid)  # e.g. a text parameter cast before it is assigned to a jsonb column
        dimensions = max(column.dimensions, 1)
        override = self.column_overrides.get((table_oid, column_number))
        if override is not None:
            return self._with_override(column.type_oid, override, dimensions)
        return self.of_type(column.type_oid, dimensions)  # the column's domain, which describe reports as its base

    def _is_or_underlies(self, oid: int, column_type_oid: int) -> bool:
        pg_type = self.catalog.types.get(column_type_oid)
        while pg_type is not None and pg_type.oid != oid and pg_type.kind == "d":
            pg_type = self.catalog.types.get(pg_type.base_oid)
        return pg_type is not None and pg_type.oid == oid

    def of_type(self, oid: int, dimensions: int = 1) -> PyType:
        """The Python type for PostgreSQL type `oid`; raises UnsupportedType."""
        pg_type = self.catalog.types.get(oid)
        if pg_type is None:
            raise UnsupportedType(f"oid {oid}", f"oid {oid}")
        override = self.type_overrides.get(oid)
        if override is not None:
            return _overridden(override, self._json_based(oid))
        if pg_type.kind == "d":
            return self.of_type(pg_type.base_oid, dimensions)
        if pg_type.is_array:
            return _array(self.of_type(pg_type.element_oid), dimensions)
        if pg_type.kind == "e":
            name = self.class_names[oid]
            return PyType(name, frozenset({f"from .models import {name}"}), decode=f"{name}({{}})")
        if pg_type.kind == "c":
            return self._composite(pg_type)
        if pg_type.kind in ("r", "m"):
            return self._range(pg_type)
        if pg_type.schema == "pg_catalog" and pg_type.name in BUILTIN_TYPES:
            return BUILTIN_TYPES[pg_type.name]
        if pg_type.extension == "hstore" and pg_type.name == "hstore":
            return _hstore(pg_type.schema)
        if pg_type.extension and (pg_type.extension, pg_type.name) in EXTENSION_TYPES:
            return EXTENSION_TYPES[pg_type.extension, pg_type.name]
        raise UnsupportedType(pg_type.qualified_name, pg_type.qualified_name)

    def _with_override(self, type_oid: int, override: TypeOverride, dimensions: int) -> PyType:
        """A column override names the column's type, or its element type for an array column."""
        pg_type = self.catalog.types.get(type_oid)
        while pg_type is not None and pg_type.kind == "d":
            pg_type = self.catalog.types.get(pg_type.base_oid)
        if pg_type is not None and pg_type.is_array:
            return _array(_overridden(override, self._json_based(pg_type.element_oid)), dimensions)
        return _overridden(override, self._json_based(type_oid))

    def _json_based(self, oid: int) -> bool:
        pg_type = self.catalog.types.get(oid)
        while pg_type is not None and pg_type.kind == "d":
            pg_type = self.catalog.types.get(pg_type.base_oid)
        return pg_type is not None and pg_type.schema == "pg_catalog" and pg_type.name in ("json", "jsonb")

    def _composite(self, pg_type: PgType) -> PyType:
        attributes = self.catalog.composite_attributes(pg_type)
        if attributes is None:
            raise UnsupportedType(
                pg_type.qualified_name, pg_type.qualified_name, "a table's row type, which sqlgen does not support"
            )
        for attribute in attributes:
            self.of_column(pg_type.relation_oid, attribute.number, attribute.type_oid)  # raises if unsupported
        name = self.class_names[pg_type.oid]
        decode, encode = self.composite_functions(pg_type.oid)
        return PyType(
            name,
            frozenset({f"from .models import {name}"}),
            decode=f"{decode}({{}})",
            encode=f"{encode}({{}})",
            decode_imports=frozenset({f"from .models import {decode}"}),
            encode_imports=frozenset({f"from .models import {encode}"}),
        )

    def _range(self, pg_type: PgType) -> PyType:
        subtype = self.of_type(pg_type.range_subtype_oid)
        if subtype.decode or subtype.encode or subtype.arbitrary:
            raise UnsupportedType(
                pg_type.qualified_name,
                pg_type.qualified_name,
                f"a range of {subtype.annotation}, which sqlgen does not support",
            )
        range_type = PyType(
            f"asyncpg.Range[{subtype.annotation}]", _ASYNCPG | subtype.imports, arbitrary=True, codecs=subtype.codecs
        )
        if pg_type.kind == "r":
            return range_type
        return PyType(
            f"list[{range_type.annotation}]",
            range_type.imports,
            param_annotation=f"Sequence[{range_type.annotation}]",
            param_imports=frozenset({"from collections.abc import Sequence"}),
            arbitrary=True,
        )


def _array(element: PyType, dimensions: int) -> PyType:
    """A PostgreSQL array: `list[T | None]` one level deep, nested lists for more dimensions."""
    annotation = f"list[{element.annotation} | None]"
    param_annotation = f"Sequence[{element.as_param()} | None]"
    decode = "[None if v is None else " + element.decode.format("v") + " for v in {}]" if element.decode else None
    encode = "[None if v is None else " + element.encode.format("v") + " for v in {}]" if element.encode else None
    for depth in range(1, dimensions):
        annotation = f"list[{annotation}]"
        param_annotation = f"Sequence[{param_annotation}]"
        row = f"a{depth}"
        decode = f"[{decode.format(row)} for {row} in {{}}]" if decode else None
        encode = f"[{encode.format(row)} for {row} in {{}}]" if encode else None
    return PyType(
        annotation,
        element.imports,
        decode=decode,
        encode=encode,
        decode_imports=element.decode_imports,
        encode_imports=element.encode_imports,
        param_annotation=param_annotation,
        param_imports=element.param_imports | {"from collections.abc import Sequence"},
        arbitrary=element.arbitrary,
        codecs=element.codecs,
        definitions=element.definitions,
    )


def _overridden(override: TypeOverride, json_based: bool) -> PyType:
    """The user's type: validated by a pydantic TypeAdapter on the way out, JSON-encoded on the way in for json."""
    adapter = "_" + snake_case(override.annotation).upper() + "_ADAPTER"
    definitions = frozenset({f"{adapter} = TypeAdapter({override.annotation})"})
    adapter_imports = override.imports | {"from pydantic import TypeAdapter"}
    if json_based:
        return PyType(
            override.annotation,
            override.imports,
            decode=f"{adapter}.validate_json({{}})",
            encode=f"{adapter}.dump_json({{}}).decode()",
            decode_imports=adapter_imports,
            encode_imports=adapter_imports,
            arbitrary=True,
            definitions=definitions,
        )
    return PyType(
        override.annotation,
        override.imports,
        decode=f"{adapter}.validate_python({{}})",
        decode_imports=adapter_imports,
        arbitrary=True,
        definitions=definitions,
    )


def build_typemap(catalog: Catalog, overrides: tuple[TypeOverride, ...]) -> TypeMap:
    """Resolve each override's target in the catalog; raises UserError naming targets that do not exist."""
    by_type: dict[int, TypeOverride] = {}
    by_column: dict[tuple[int, int], TypeOverride] = {}
    diagnostics = []
    types_by_name = {t.qualified_name: t for t in catalog.types.values()}
    tables_by_name = {f"{t.schema}.{t.name}": t for t in catalog.tables.values()}
    for override in overrides:
        parts = override.target.split(".")
        if len(parts) == 2 and override.target in types_by_name:
            by_type[types_by_name[override.target].oid] = override
            continue
        if len(parts) == 3:
            table = tables_by_name.get(f"{parts[0]}.{parts[1]}")
            column = next((c for c in table.columns if c.name == parts[2]), None) if table else None
            if table is not None and column is not None:
                by_column[table.oid, column.number] = override
                continue
        diagnostics.append(_unknown_target(override, catalog))
    if diagnostics:
        raise UserError(diagnostics)
    return TypeMap(catalog, by_type, by_column)


def _unknown_target(override: TypeOverride, catalog: Catalog) -> Diagnostic:
    bare = override.target.split(".")[-1]
    matches = sorted(t.qualified_name for t in catalog.types.values() if t.name == bare and not t.is_array)
    if len(override.target.split(".")) == 3:
        what, hint = "column", 'write "schema.table.column", e.g. "public.orders.payload"'
    else:
        what, hint = "type", 'write "schema.type", e.g. "pg_catalog.jsonb" or "public.money_cents"'
    if matches and override.target not in matches:
        hint = f"did you mean {' or '.join(repr(m) for m in matches)}?"
    return Diagnostic(f"override for unknown {what} {override.target!r}", override.location, hint=hint)
