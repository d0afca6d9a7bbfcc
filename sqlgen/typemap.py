"""The typemap stage: PostgreSQL types → Python type expressions, imports and conversions.

Generated code works with what asyncpg reads and writes; where that is not the precise
Python value (json text, enum labels, composite records, `inet` addresses), the PyType
carries a conversion the generated code applies inline, so no connection setup is needed.
The one exception is hstore, whose binary codec asyncpg ships but does not enable: such
types list the statement `init_connection` runs.

>>> from sqlgen.catalog import Catalog, PgType, domain_chain
>>> types = {23: PgType(23, "pg_catalog", "int4", "b", 0, 0, False),
...          1007: PgType(1007, "pg_catalog", "_int4", "b", 23, 0, False)}
>>> typemap = TypeMap(Catalog(types, {}))
>>> typemap.of_type(1007).annotation, typemap.of_type(1007, dimensions=2).annotation
('list[int | None]', 'list[list[int | None]]')
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from sqlgen.catalog import Catalog, PgType, domain_chain
from sqlgen.errors import Diagnostic, Location, UserError, did_you_mean
from sqlgen.escape import literal
from sqlgen.naming import GENERATED_NAMES, class_name, identifier, snake_case, unique
from sqlgen.table_names import TableNaming


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
    text_only: bool = False  # asyncpg reads it only in text form, so it cannot sit inside a composite or range

    def as_param(self) -> str:
        return self.param_annotation or self.annotation


@dataclass(frozen=True)
class TypeOverride:
    """One `[tool.sqlgen.overrides]` entry: a type or a column → a Python type."""

    target: str  # as written: "pg_catalog.jsonb", "public.money_cents", "public.orders.payload"
    python_type: str  # as written: "myapp.schemas.Payload", "dict[str, int]"
    location: Location | None = None
    first_party: frozenset[str] = frozenset()  # top-level modules of the imports that live in the project


@dataclass(frozen=True)
class UserType:
    """An override's Python type as generated code spells and imports it."""

    annotation: str
    imports: frozenset[str]
    adapter: str  # the module-level TypeAdapter constant that validates it


@dataclass(frozen=True)
class OverrideCodec:
    """How generated code checks an override's type on the way out and JSON-encodes it on the way in
    (the output target's choice: pydantic's TypeAdapter, msgspec's convert and decoders).

    Templates: `{}` is the value, `<adapter>` the module-level constant, `<annotation>` the type.
    """

    imports: frozenset[str]
    python_definition: str  # the constant's line for a type read as it is ("" for none)
    json_definition: str  # the constant's line for a json/jsonb type
    decode_python: str
    decode_json: str
    encode_json: str

    def spell(self, template: str, user: UserType) -> str:
        return template.replace("<adapter>", user.adapter).replace("<annotation>", user.annotation)


PYDANTIC_OVERRIDES = OverrideCodec(
    imports=frozenset({"from pydantic import TypeAdapter"}),
    python_definition="<adapter> = TypeAdapter(<annotation>)",
    json_definition="<adapter> = TypeAdapter(<annotation>)",
    decode_python="<adapter>.validate_python({})",
    decode_json="<adapter>.validate_json({})",
    encode_json="<adapter>.dump_json({}).decode()",
)

_DATETIME = frozenset({"import datetime"})
_DECIMAL = frozenset({"import decimal"})
_IPADDRESS = frozenset({"import ipaddress"})
_ASYNCPG = frozenset({"import asyncpg"})
# JSON's null as the whole value is JSON_NULL, so None is SQL NULL only (see the package's __init__.py).
_JSON = PyType(
    "JsonDocument",
    frozenset({"from . import JsonDocument"}),
    decode="decode_json({})",
    encode="encode_json({})",
    decode_imports=frozenset({"from . import decode_json"}),
    encode_imports=frozenset({"from . import encode_json"}),
)
_STR = PyType("str")
_TEXT = PyType("str", text_only=True)  # str, in a type asyncpg reads only as text
_INT = PyType("int")


def _asyncpg_type(name: str) -> PyType:
    return PyType(f"asyncpg.{name}", _ASYNCPG, arbitrary=True)


# PostgreSQL built-in type (pg_catalog.typname) → Python type.
BUILTIN_TYPES: Mapping[str, PyType] = {
    "void": PyType("None"),  # what `SELECT pg_advisory_xact_lock(1)` returns
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
        decode_imports=frozenset({"import re"}) | _DECIMAL,
        text_only=True,
    ),
    "text": _STR,
    "varchar": _STR,
    "bpchar": _STR,
    "name": _STR,
    "char": PyType("str", decode='{}.decode("latin-1")', encode='{}.encode("latin-1")'),
    "xml": _STR,
    "jsonpath": _STR,
    "tsvector": _TEXT,
    "tsquery": _TEXT,
    "macaddr": _TEXT,
    "macaddr8": _TEXT,
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
        name: _TEXT
        for name in (
            "refcursor",
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
            "regdatabase",
        )
    },
}

_VECTOR = PyType(
    "list[float]",
    decode='[float(x) for x in {}[1:-1].split(",")]',
    encode='"[" + ",".join(map(str, {})) + "]"',
    param_annotation="Sequence[float]",
    param_imports=frozenset({"from collections.abc import Sequence"}),
    text_only=True,
)

# Types that extensions create, by (extension, type name): their text form is the value.
EXTENSION_TYPES: Mapping[tuple[str, str], PyType] = {
    ("citext", "citext"): _TEXT,
    ("vector", "vector"): _VECTOR,
    ("vector", "halfvec"): _VECTOR,
    ("vector", "sparsevec"): _TEXT,
    ("ltree", "ltree"): _TEXT,
    ("ltree", "lquery"): _TEXT,
    ("ltree", "ltxtquery"): _TEXT,
    **{("isn", name): _TEXT for name in ("ean13", "isbn", "isbn13", "ismn", "ismn13", "issn", "issn13", "upc")},
}


def _hstore(schema: str) -> PyType:
    return PyType(
        "dict[str, str | None]",
        param_annotation="Mapping[str, str | None]",
        param_imports=frozenset({"from collections.abc import Mapping"}),
        codecs=frozenset(
            {f'await conn.set_builtin_type_codec("hstore", schema={literal(schema)}, codec_name="pg_contrib.hstore")'}
        ),
    )


class UnsupportedType(Exception):
    """A type sqlgen cannot map; `override` is the config key that would map it, if one can."""

    def __init__(self, type_name: str, override: str | None, why: str = "which sqlgen does not support") -> None:
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
    user_types: Mapping[str, UserType] = field(default_factory=dict)  # by TypeOverride.python_type
    naming: TableNaming = TableNaming()  # the names of table models
    override_codec: OverrideCodec = PYDANTIC_OVERRIDES  # the output target's

    @cached_property
    def first_party_modules(self) -> frozenset[str]:
        """The project's own modules that overrides import (isort puts them in a group of their own)."""
        overrides = [*self.type_overrides.values(), *self.column_overrides.values()]
        return frozenset().union(*(o.first_party for o in overrides))

    @cached_property
    def class_names(self) -> dict[int, str]:
        """The class in models.py for each user enum and composite type, by type oid."""
        user_types = [*self.catalog.user_enums(), *self.catalog.user_composites()]
        taken = sorted(GENERATED_NAMES | self.imported_names)
        names = unique([*taken, *(class_name(t.schema, t.name) for t in user_types)])[len(taken) :]
        return {t.oid: name for t, name in zip(user_types, names, strict=True)}

    @cached_property
    def imported_names(self) -> frozenset[str]:
        """The names override types are imported as."""
        return frozenset(line.split()[-1] for u in self.user_types.values() for line in u.imports)

    @cached_property
    def _composite_snake_names(self) -> dict[int, str]:
        composites = self.catalog.user_composites()
        names = unique(snake_case(self.class_names[t.oid]) for t in composites)
        return {t.oid: name for t, name in zip(composites, names, strict=True)}

    def composite_functions(self, oid: int) -> tuple[str, str]:
        """The (decode, encode) function names models.py defines for a composite type."""
        snake = self._composite_snake_names[oid]
        return f"decode_{snake}", f"encode_{snake}"

    def of_slice(self, array_oid: int) -> PyType:
        """An array parameter written as `sqlc.slice(name)`: a sequence of non-null elements."""
        array = self.of_type(array_oid)
        pg_type = self.catalog.beneath_domains(array_oid)
        if pg_type is None or not pg_type.is_array:
            return array
        element = self.of_type(pg_type.element_oid)
        return replace(array, param_annotation=f"Sequence[{element.as_param()}]")

    def of_column(
        self, table_oid: int, column_number: int, type_oid: int, *, nullable_elements: bool | None = None
    ) -> PyType:
        """The type of a value read from or written to a table column (its override, its dimensions).

        An array's elements are `T | None` unless `nullable_elements` is False (or, when it is
        None, the column forbids NULL elements).
        """
        table = self.catalog.tables.get(table_oid)
        column = table.column(column_number) if table else None
        if column is None or not self._is_or_underlies(type_oid, column.type_oid):
            # e.g. a text parameter cast before it is assigned to a jsonb column
            return self.of_type(type_oid, nullable_elements=nullable_elements is not False)
        if nullable_elements is None:
            nullable_elements = not column.elements_not_null
        dimensions = max(column.dimensions, 1)
        override = self.column_overrides.get((table_oid, column_number))
        if override is not None:
            return self._with_override(column.type_oid, override, dimensions, nullable_elements)
        # the column's domain, which describe reports as its base
        return self.of_type(column.type_oid, dimensions, nullable_elements=nullable_elements)

    def _is_or_underlies(self, oid: int, column_type_oid: int) -> bool:
        return any(t.oid == oid for t in domain_chain(self.catalog.types, column_type_oid))

    def of_type(
        self, oid: int, dimensions: int = 1, *, overrides: bool = True, nullable_elements: bool = True
    ) -> PyType:
        """The Python type for PostgreSQL type `oid`; raises UnsupportedType."""
        pg_type = self.catalog.types.get(oid)
        if pg_type is None:
            raise UnsupportedType(f"oid {oid}", None)
        override = self.type_overrides.get(oid) if overrides else None
        if override is not None:
            return self._overridden(override, oid)
        if pg_type.kind == "d":
            return self.of_type(
                pg_type.base_oid,
                max(dimensions, pg_type.dimensions),
                overrides=overrides,
                nullable_elements=nullable_elements and not pg_type.elements_not_null,
            )
        if pg_type.is_array:
            return _array(self.of_type(pg_type.element_oid, overrides=overrides), dimensions, nullable_elements)
        if pg_type.kind == "e":
            name = self.class_names[oid]
            imports = frozenset({f"from .models import {name}"})
            return PyType(name, imports, decode=f"{name}({{}})", decode_imports=imports)
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
        if pg_type.kind == "b":  # asyncpg reads a base type it does not know as text: `str` fits, so say so
            raise UnsupportedType(pg_type.qualified_name, pg_type.qualified_name)
        raise UnsupportedType(pg_type.qualified_name, None)

    def _with_override(
        self, type_oid: int, override: TypeOverride, dimensions: int, nullable_elements: bool = True
    ) -> PyType:
        """A column override names the column's type, or its element type for an array column."""
        pg_type = self.catalog.beneath_domains(type_oid)
        if pg_type is not None and pg_type.is_array:
            return _array(self._overridden(override, pg_type.element_oid), dimensions, nullable_elements)
        return self._overridden(override, type_oid)

    def _overridden(self, override: TypeOverride, oid: int) -> PyType:
        """The user's type: validated by a pydantic TypeAdapter on the way out, JSON-encoded on the way in for json."""
        user = self.user_types[override.python_type]
        try:
            underlying = self.of_type(oid, overrides=False)
        except UnsupportedType:
            underlying = _TEXT  # asyncpg reads it as text
        codec = self.override_codec
        adapter_imports = user.imports | codec.imports
        json_based = self._json_based(oid)
        definition = codec.spell(codec.json_definition if json_based else codec.python_definition, user)
        common = PyType(
            user.annotation,
            user.imports,
            decode=codec.spell(codec.decode_python, user),
            decode_imports=adapter_imports,
            arbitrary=True,
            codecs=underlying.codecs,
            definitions=frozenset({definition} if definition else ()),
            text_only=underlying.text_only,
        )
        if json_based:
            return dataclasses.replace(
                common,
                decode=codec.spell(codec.decode_json, user),
                encode=codec.spell(codec.encode_json, user),
                encode_imports=adapter_imports,
            )
        return common

    def _json_based(self, oid: int) -> bool:
        pg_type = self.catalog.beneath_domains(oid)
        return pg_type is not None and pg_type.schema == "pg_catalog" and pg_type.name in ("json", "jsonb")

    def _composite(self, pg_type: PgType) -> PyType:
        attributes = self.catalog.composite_attributes(pg_type)
        if attributes is None:
            raise UnsupportedType(pg_type.qualified_name, None, "a table's row type, which sqlgen does not support")
        for attribute in attributes:
            attribute_type = self.of_column(pg_type.relation_oid, attribute.number, attribute.type_oid)
            if attribute_type.text_only:
                raise UnsupportedType(
                    pg_type.qualified_name,
                    None,
                    f"whose attribute {attribute.name} has a type asyncpg can only read as text, "
                    "which it cannot do inside a composite",
                )
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
        subtype = self.of_type(pg_type.range_subtype_oid, overrides=False)  # asyncpg builds the bounds itself
        if subtype.decode or subtype.encode or subtype.arbitrary or subtype.text_only:
            raise UnsupportedType(
                pg_type.qualified_name, None, f"a range of {subtype.annotation}, which sqlgen does not support"
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


def or_none(annotation: str) -> str:
    """`annotation | None`, unless None is one of its members already (written once, not twice).

    >>> or_none("int"), or_none("JsonValue | None"), or_none("list[int | None]")
    ('int | None', 'JsonValue | None', 'list[int | None] | None')
    """
    depth, start, members = 0, 0, []
    for index, char in enumerate(annotation):
        depth += (char == "[") - (char == "]")
        if char == "|" and depth == 0:
            members.append(annotation[start:index].strip())
            start = index + 1
    members.append(annotation[start:].strip())
    return annotation if "None" in members else f"{annotation} | None"


def _array(element: PyType, dimensions: int, nullable_elements: bool = True) -> PyType:
    """A PostgreSQL array: `list[T | None]` one level deep (`list[T]` without NULL elements), nested lists for more."""
    item = or_none if nullable_elements else (lambda annotation: annotation)
    annotation = f"list[{item(element.annotation)}]"
    param_annotation = f"Sequence[{item(element.as_param())}]"
    guard = "None if v is None else " if nullable_elements else ""
    decode = f"[{guard}" + element.decode.format("v") + " for v in {}]" if element.decode else None
    encode = f"[{guard}" + element.encode.format("v") + " for v in {}]" if element.encode else None
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
        text_only=element.text_only,
    )


def build_typemap(
    catalog: Catalog,
    overrides: tuple[TypeOverride, ...],
    naming: TableNaming | None = None,
    override_codec: OverrideCodec = PYDANTIC_OVERRIDES,
) -> TypeMap:
    """Resolve each override's target in the catalog; raises UserError for targets that do not exist or cannot be.

    A type named without its schema (`uuid`, `integer`, `mood`) is looked up as PostgreSQL's search path
    would find it: pg_catalog, then public."""
    naming = naming or TableNaming()
    by_type: dict[int, TypeOverride] = {}
    by_column: dict[tuple[int, int], TypeOverride] = {}
    diagnostics = []
    types_by_name = {t.qualified_name: t for t in catalog.types.values()}
    tables_by_name = {f"{t.schema}.{t.name}": t for t in catalog.tables.values()}
    for override in overrides:
        parts = override.target.split(".")
        type_oid: int | None = None
        if len(parts) == 1:
            name = _TYPE_ALIASES.get(parts[0].lower(), parts[0])
            found = types_by_name.get(f"pg_catalog.{name}") or types_by_name.get(f"public.{name}")
            if found is not None:
                type_oid = found.oid
                by_type[type_oid] = override
        elif len(parts) == 2 and override.target in types_by_name:
            type_oid = types_by_name[override.target].oid
            by_type[type_oid] = override
        elif len(parts) == 3:
            table = tables_by_name.get(f"{parts[0]}.{parts[1]}")
            column = next((c for c in table.columns if c.name == parts[2]), None) if table else None
            if table is not None and column is not None:
                type_oid = column.type_oid
                by_column[table.oid, column.number] = override
        if type_oid is None:
            diagnostics.append(_unknown_target(override, catalog))
            continue
        beneath = catalog.innermost(type_oid)
        if beneath is not None and beneath.kind == "c":
            diagnostics.append(
                Diagnostic(
                    f"cannot override {override.target!r}: it has the composite type {beneath.qualified_name}, "
                    "whose model sqlgen generates in models.py",
                    override.location,
                    hint="remove the override; use the generated model",
                )
            )
    if diagnostics:
        raise UserError(diagnostics)
    return TypeMap(catalog, by_type, by_column, _user_types(catalog, overrides, naming), naming, override_codec)


# SQL's names for built-in types, as sqlc's db_type accepts them, by the name pg_catalog knows them by.
_TYPE_ALIASES = {
    "integer": "int4",
    "int": "int4",
    "serial": "int4",
    "smallint": "int2",
    "smallserial": "int2",
    "bigint": "int8",
    "bigserial": "int8",
    "boolean": "bool",
    "real": "float4",
    "double precision": "float8",
    "decimal": "numeric",
    "character varying": "varchar",
    "character": "bpchar",
    "char": "bpchar",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
}


def _user_types(catalog: Catalog, overrides: tuple[TypeOverride, ...], naming: TableNaming) -> dict[str, UserType]:
    """Spell each override's type so that no imported name clashes with another or with a generated one."""
    texts = sorted({o.python_type for o in overrides})
    modules: dict[str, set[str]] = {}
    for text in texts:
        for line in python_annotation(text)[1]:
            _, module, _, name = line.split()
            modules.setdefault(name, set()).add(module)
    generated = GENERATED_NAMES | {class_name(t.schema, t.name) for t in catalog.types.values() if t.kind in "ec"}
    generated |= {naming.model_name(t.schema, t.name) for t in catalog.user_tables()}
    qualify = frozenset(name for name, found in modules.items() if len(found) > 1 or name in generated)
    spelled = [python_annotation(text, qualify) for text in texts]
    adapters = unique(f"_{identifier(snake_case(annotation)).upper()}_ADAPTER" for annotation, _ in spelled)
    return {
        text: UserType(annotation, imports, adapter)
        for text, (annotation, imports), adapter in zip(texts, spelled, adapters, strict=True)
    }


def _unknown_target(override: TypeOverride, catalog: Catalog) -> Diagnostic:
    bare = override.target.split(".")[-1]
    matches = sorted(t.qualified_name for t in catalog.types.values() if t.name == bare and not t.is_array)
    if len(override.target.split(".")) == 3:
        what, hint = "column", 'write "schema.table.column", e.g. "public.orders.payload"'
    else:
        what, hint = "type", 'write "schema.type", e.g. "pg_catalog.jsonb" or "public.money_cents"'
    if matches and override.target not in matches:
        hint = f"did you mean {' or '.join(repr(m) for m in matches)}?"
    elif not matches:
        hint = _close_target(override.target, catalog) or hint
    return Diagnostic(f"override for unknown {what} {override.target!r}", override.location, hint=hint)


def _close_target(target: str, catalog: Catalog) -> str | None:
    """A "did you mean …?" for a misspelt override target: the closest type, table or column the catalog has."""
    parts = target.split(".")
    if len(parts) == 3:
        tables = {f"{t.schema}.{t.name}": t for t in catalog.tables.values()}
        table = tables.get(f"{parts[0]}.{parts[1]}")
        if table is not None:
            known = [f"{parts[0]}.{parts[1]}.{c.name}" for c in table.columns]
        else:
            close_tables = difflib.get_close_matches(f"{parts[0]}.{parts[1]}", list(tables), n=1, cutoff=0.6)
            known = [f"{close_tables[0]}.{parts[2]}"] if close_tables else []
            known += [f"{name}.{c.name}" for name in close_tables for c in tables[name].columns]
    else:
        known = [t.qualified_name for t in catalog.types.values() if not t.is_array]
        known += [t.name for t in catalog.types.values() if not t.is_array and len(parts) == 1]
    return did_you_mean(target, known)


def python_annotation(text: str, qualify: frozenset[str] = frozenset()) -> tuple[str, frozenset[str]]:
    """An override's Python type as generated code spells it, with the imports it needs.

    Names in `qualify` stay qualified (`import pkg.mod` and `pkg.mod.Name`) so they cannot clash.

    >>> python_annotation("myapp.schemas.Payload | None")
    ('Payload | None', frozenset({'from myapp.schemas import Payload'}))
    >>> python_annotation("dict[str, decimal.Decimal]", qualify=frozenset({"Decimal"}))
    ('dict[str, decimal.Decimal]', frozenset({'import decimal'}))
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"{text!r} is not a Python type") from None
    imports: set[str] = set()
    not_a_type = ValueError(f"{text!r} is not a Python type")

    class Imported(ast.NodeTransformer):
        def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
            parts = []
            current: ast.expr = node
            while isinstance(current, ast.Attribute):
                parts.append(current.attr)
                current = current.value
            if not isinstance(current, ast.Name) or hasattr(builtins, current.id):
                raise not_a_type
            module = ".".join([current.id, *reversed(parts[1:])])
            if parts[0] in qualify:
                imports.add(f"import {module}")
                return node
            imports.add(f"from {module} import {parts[0]}")
            return ast.copy_location(ast.Name(parts[0], ast.Load()), node)

        def visit_Name(self, node: ast.Name) -> ast.AST:
            if not isinstance(getattr(builtins, node.id, None), type):
                raise ValueError(f"{node.id!r} needs its module, e.g. 'mypackage.types.{node.id}'")
            return node

        def visit_Constant(self, node: ast.Constant) -> ast.AST:
            if node.value is not None and node.value is not Ellipsis:
                raise not_a_type
            return node

        def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
            literal = isinstance(node.value, ast.Attribute | ast.Name) and ast.unparse(node.value).endswith("Literal")
            node.value = self.visit(node.value)
            if not literal:
                node.slice = self.visit(node.slice)
            return node

        def generic_visit(self, node: ast.AST) -> ast.AST:
            if not isinstance(node, ast.Expression | ast.Tuple | ast.BinOp | ast.BitOr | ast.Load):
                raise not_a_type
            return super().generic_visit(node)

    rewritten = Imported().visit(tree)
    if isinstance(rewritten.body, ast.Tuple):
        raise not_a_type
    return ast.unparse(rewritten), frozenset(imports)
