"""The catalog stage: what pg_catalog says about tables, columns and types."""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlgen.database import DbConnection


SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})


@dataclass(frozen=True)
class PgType:
    oid: int
    schema: str
    name: str
    kind: str  # pg_type.typtype: b base, c composite, d domain, e enum, p pseudo, r range, m multirange
    element_oid: int  # for arrays, the element type; else 0
    base_oid: int  # for domains, the underlying type; else 0
    not_null: bool  # a domain declared NOT NULL
    labels: tuple[str, ...] = ()  # an enum's labels, in PostgreSQL's sort order
    relation_oid: int = 0  # for composites, the pg_class row holding the attributes
    range_subtype_oid: int = 0  # for ranges and multiranges, the element type
    extension: str | None = None  # the extension that created the type, if any
    dimensions: int = 0  # a domain over an array: its declared dimensions (pg_type.typndims)
    elements_not_null: bool = False  # a domain over an array whose CHECK forbids NULL elements (element_checks)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def is_array(self) -> bool:
        return self.element_oid != 0


@dataclass(frozen=True)
class Column:
    number: int  # pg_attribute.attnum
    name: str
    type_oid: int
    not_null: bool  # a validated NOT NULL constraint (the column's own: a NOT NULL domain is not one, see below)
    dimensions: int = 0  # declared array dimensions (pg_attribute.attndims); not enforced
    generated: str | None = None  # a generated column's expression, as a node tree (pg_attrdef.adbin)
    # Its type is a NOT NULL domain: every value coerced to the type is checked, so NULL is never
    # a value to write (a parameter for it is non-null), but PostgreSQL stores a NULL that arrives
    # already of the domain's type (a scalar subquery finding no row, the nullable side of an outer
    # join), so reading the column can give NULL all the same.
    domain_not_null: bool = False
    elements_not_null: bool = False  # an array column a validated CHECK (or its domain) keeps free of NULL elements


@dataclass(frozen=True)
class Table:
    oid: int
    schema: str
    name: str
    kind: str  # pg_class.relkind: r table, p partitioned, v view, m materialized view, f foreign, c composite
    columns: tuple[Column, ...]
    definition: str | None = None  # a materialized view's query (pg_get_viewdef)
    before_row_triggers: bool = False  # a BEFORE … FOR EACH ROW trigger (here or on a partition) or a foreign
    # partition may change what is stored, or skip the row

    @property
    def user_defined(self) -> bool:
        return self.schema not in SYSTEM_SCHEMAS and self.kind != "c"

    @property
    def enforces_not_null(self) -> bool:
        """Foreign tables declare NOT NULL without enforcing it; views declare nothing."""
        return self.kind in ("r", "p")

    def column(self, number: int) -> Column | None:
        return next((c for c in self.columns if c.number == number), None)


@dataclass(frozen=True)
class Function:
    """A pg_proc row: what nullability inference needs to know about a function, operator or aggregate."""

    oid: int
    schema: str
    name: str
    signature: str  # `lower(text)`, `substring(text,integer)`: the name and argument types, never quoted
    strict: bool  # NULL in any argument gives NULL without calling it
    language: str = "internal"  # pg_language.lanname: sql, plpgsql, c, internal, …
    returns_set: bool = False
    body: str | None = None  # a SQL function's analysed body (pg_proc.prosqlbody, a node tree), when it has one
    declared_non_null: bool = False  # named in [tool.sqlgen] non_null_functions

    @property
    def builtin(self) -> bool:
        return self.schema == "pg_catalog"


@dataclass(frozen=True)
class Catalog:
    types: dict[int, PgType]
    tables: dict[int, Table]
    functions: dict[int, Function] = field(default_factory=dict)

    def beneath_domains(self, oid: int) -> PgType | None:
        """The type a value of type `oid` really has: `oid` itself, or the base under its domains."""
        *_, last = (None, *domain_chain(self.types, oid))
        return last

    def innermost(self, oid: int) -> PgType | None:
        """The type beneath domains and arrays: `int4` for a domain over `int4[]`."""
        pg_type = self.beneath_domains(oid)
        while pg_type is not None and pg_type.is_array:
            pg_type = self.beneath_domains(pg_type.element_oid)
        return pg_type

    def user_enums(self) -> list[PgType]:
        """Enum types the user defined, in a stable order."""
        return sorted(
            (t for t in self.types.values() if t.kind == "e" and t.schema not in SYSTEM_SCHEMAS),
            key=lambda t: (t.schema != "public", t.schema, t.name),
        )

    def user_composites(self) -> list[PgType]:
        """Composite types the user created with CREATE TYPE … AS (…), in a stable order."""
        return sorted(
            (
                t
                for t in self.types.values()
                if t.kind == "c" and t.schema not in SYSTEM_SCHEMAS and self.composite_attributes(t) is not None
            ),
            key=lambda t: (t.schema != "public", t.schema, t.name),
        )

    def composite_attributes(self, pg_type: PgType) -> tuple[Column, ...] | None:
        """The attributes of a standalone composite type; None for a table's row type."""
        relation = self.tables.get(pg_type.relation_oid)
        return relation.columns if relation is not None and relation.kind == "c" else None

    def user_tables(self) -> list[Table]:
        """Tables and views the user defined, in a stable order."""
        return sorted(
            (t for t in self.tables.values() if t.user_defined),
            key=lambda t: (t.schema != "public", t.schema, t.name),
        )


_TYPES_SQL = """
SELECT t.oid, n.nspname, t.typname, t.typtype,
       CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE 0 END,
       t.typbasetype, t.typnotnull, t.typrelid,
       coalesce(r.rngsubtype, m.rngsubtype, 0),
       (SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'),
       t.typndims
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_range r ON r.rngtypid = t.oid
LEFT JOIN pg_range m ON m.rngmultitypid = t.oid
"""

_ENUM_LABELS_SQL = "SELECT enumtypid, enumlabel FROM pg_enum ORDER BY enumtypid, enumsortorder"

_COLUMNS_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind, a.attnum, a.attname, a.atttypid,
       a.attnotnull AND NOT EXISTS (
           SELECT 1 FROM pg_constraint k
           WHERE k.conrelid = c.oid AND k.contype = 'n' AND NOT k.convalidated
             AND k.conkey[1] = a.attnum),
       a.attndims,
       CASE WHEN c.relkind = 'm' THEN pg_get_viewdef(c.oid) END,
       CASE WHEN a.attgenerated <> '' THEN
           (SELECT d.adbin::text FROM pg_attrdef d WHERE d.adrelid = c.oid AND d.adnum = a.attnum)
       END,
       EXISTS (SELECT 1 FROM pg_trigger t
               WHERE t.tgrelid = c.oid AND NOT t.tgisinternal AND t.tgtype & 3 = 3)
       OR c.relkind = 'p' AND EXISTS (
           SELECT 1 FROM pg_partition_tree(c.oid) p JOIN pg_class pc ON pc.oid = p.relid
           WHERE pc.relkind = 'f' OR EXISTS (
               SELECT 1 FROM pg_trigger t
               WHERE t.tgrelid = p.relid AND NOT t.tgisinternal AND t.tgtype & 3 = 3))
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
ORDER BY c.oid, a.attnum
"""

_CHECKS_SQL = """
SELECT k.conrelid, k.contypid, k.conbin::text
FROM pg_constraint k
LEFT JOIN pg_class c ON c.oid = k.conrelid
WHERE k.contype = 'c' AND k.convalidated
  AND (k.contypid <> 0 OR c.relkind IN ('r', 'p') AND NOT k.connoinherit)  -- foreign tables do not enforce CHECK
"""

_FUNCTIONS_SQL = """
SELECT p.oid, n.nspname, p.proname, p.proname || '(' || replace(oidvectortypes(p.proargtypes), ', ', ',') || ')',
       p.proisstrict, l.lanname, p.proretset, {body}
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
"""
# PostgreSQL 14+ keeps the analysed body of `RETURN …` and `BEGIN ATOMIC … END` SQL functions.
_SQL_BODY = "CASE WHEN n.nspname <> 'pg_catalog' THEN p.prosqlbody::text END"


def load_catalog(conn: DbConnection) -> Catalog:
    """Read types and relations from pg_catalog."""
    labels: dict[int, list[str]] = {}
    for oid, label in conn.execute(_ENUM_LABELS_SQL).fetchall():
        labels.setdefault(oid, []).append(label)
    types: dict[int, PgType] = {}
    for row in conn.execute(_TYPES_SQL).fetchall():
        oid, schema, name, kind, element, base, not_null, relation, subtype, extension, dimensions = row
        type_labels = tuple(labels.get(oid, ()))
        types[oid] = PgType(
            oid,
            schema,
            name,
            kind,
            element,
            base,
            bool(not_null),
            type_labels,
            relation,
            subtype,
            extension,
            dimensions,
        )
    columns: dict[int, list[Column]] = {}
    heads: dict[int, tuple[str, str, str, str | None, bool]] = {}
    for row in conn.execute(_COLUMNS_SQL).fetchall():
        oid, schema, name, kind, number, column, type_oid, not_null, dimensions, definition, generated, triggers = row
        heads[oid] = (schema, name, kind, definition, bool(triggers))
        columns.setdefault(oid, []).append(Column(number, column, type_oid, bool(not_null), dimensions, generated))
    body = _SQL_BODY if conn.info.server_version >= 140000 else "NULL::text"
    functions = {row[0]: Function(*row) for row in conn.execute(_FUNCTIONS_SQL.format(body=body)).fetchall()}
    for oid, analysed in _analysed_string_bodies(conn).items():
        functions[oid] = replace(functions[oid], body=analysed)
    null_free = _null_free_elements(conn, functions)
    for oid in [oid for oid, _ in null_free if oid in types]:
        types[oid] = replace(types[oid], elements_not_null=True)
    tables = {
        oid: Table(
            oid,
            schema,
            name,
            kind,
            tuple(
                replace(
                    c,
                    domain_not_null=_domain_not_null(types, c.type_oid),
                    elements_not_null=(oid, c.number) in null_free
                    or any(t.elements_not_null for t in domain_chain(types, c.type_oid)),
                )
                for c in columns[oid]
            ),
            definition,
            triggers,
        )
        for oid, (schema, name, kind, definition, triggers) in heads.items()
    }
    return Catalog(types, tables, functions)


_STRING_BODIES_SQL = """
SELECT p.oid, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), p.prosrc
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE l.lanname = 'sql' AND p.prokind = 'f' AND NOT p.proretset AND p.prosqlbody IS NULL
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""


_READ_BODIES: weakref.WeakKeyDictionary[DbConnection, dict[int, str]] = weakref.WeakKeyDictionary()


def read_string_bodies(conn: DbConnection) -> None:
    """Analyse the string bodies of SQL functions now, before the read-only transaction describing
    runs in (which cannot create the pg_temp copies): for `load_catalog` on this connection later.
    Only on the embedded server: on a live database not even a rolled-back temporary function is made."""
    _READ_BODIES[conn] = _analysed_string_bodies(conn)


def _analysed_string_bodies(conn: DbConnection) -> dict[int, str]:
    """The analysed body of each SQL function written as a string (`AS 'SELECT a + b'`).

    PostgreSQL analyses such a body only when it runs it; a copy of the function made with
    `BEGIN ATOMIC` in pg_temp, inside a transaction that is rolled back, is analysed when
    created, and its pg_proc.prosqlbody is that tree. Each copy goes through the extended
    protocol, which runs exactly one statement, so no body text can run anything else.
    A body PostgreSQL will not take this way (it uses a table made later, or several
    statements that are not all plain SQL) is left unread: the function stays unknown.
    """
    from psycopg import pq  # loaded by the stages that talk to PostgreSQL, not by importing the catalog's types

    if conn in _READ_BODIES:
        return _READ_BODIES[conn]
    if conn.info.server_version < 140000 or conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return {}
    bodies: dict[int, str] = {}
    pgconn = conn.pgconn
    candidates = conn.execute(_STRING_BODIES_SQL).fetchall()
    if not candidates:
        return bodies
    pgconn.exec_(b"BEGIN")
    try:
        for oid, arguments, result, source in candidates:
            text = source.strip().rstrip(";").strip()
            create = (
                f"CREATE FUNCTION pg_temp.sqlgen_body({arguments}) RETURNS {result} LANGUAGE sql"
                f" BEGIN ATOMIC {text}; END"
            )
            pgconn.exec_(b"SAVEPOINT sqlgen_body")
            made = pgconn.exec_params(create.encode(), [])
            if made.status == pq.ExecStatus.COMMAND_OK:
                read = pgconn.exec_params(
                    b"SELECT prosqlbody::text FROM pg_proc WHERE proname = 'sqlgen_body'"
                    b" AND pronamespace = pg_my_temp_schema()",
                    [],
                )
                value = read.get_value(0, 0) if read.status == pq.ExecStatus.TUPLES_OK and read.ntuples else None
                if value is not None:
                    bodies[oid] = value.decode()
            pgconn.exec_(b"ROLLBACK TO SAVEPOINT sqlgen_body")
    finally:
        pgconn.exec_(b"ROLLBACK")
    return bodies


def declare_non_null(catalog: Catalog, names: tuple[str, ...]) -> Catalog:
    """The catalog with the user functions `names` (`name` or `schema.name`) marked non-null for non-null
    arguments (`[tool.sqlgen] non_null_functions`); a name no user function has is a UserError."""
    if not names:
        return catalog
    functions = dict(catalog.functions)
    found: set[str] = set()
    for oid, function in catalog.functions.items():
        matched = {function.name, f"{function.schema}.{function.name}"} & set(names)
        if matched and not function.builtin:
            functions[oid] = replace(function, declared_non_null=True)
            found |= matched
    missing = [name for name in names if name not in found]
    if missing:
        from sqlgen.errors import Diagnostic, UserError

        raise UserError(
            [
                Diagnostic(
                    f"non_null_functions names {name!r}, which is no user-defined function of the database",
                    hint="write the function's name, or schema.name, as CREATE FUNCTION made it",
                )
                for name in missing
            ]
        )
    return replace(catalog, functions=functions)


def _null_free_elements(conn: DbConnection, functions: dict[int, Function]) -> set[tuple[int, int]]:
    """(table oid, attnum) of columns and (domain oid, 0) of domains whose CHECK forbids NULL array elements."""
    from sqlgen.element_checks import DOMAIN_VALUE, null_free_subjects
    from sqlgen.pgtree import Node, NodeTreeError, parse_node_tree

    found: set[tuple[int, int]] = set()
    for relation, domain, text in conn.execute(_CHECKS_SQL).fetchall():
        try:
            check = parse_node_tree(text)
        except NodeTreeError:
            continue
        if not isinstance(check, Node):
            continue
        for subject in null_free_subjects(check, functions):
            if domain and subject == DOMAIN_VALUE:
                found.add((domain, 0))
            elif relation and subject != DOMAIN_VALUE:
                found.add((relation, subject))
    return found


def domain_chain(types: Mapping[int, PgType], oid: int) -> Iterator[PgType]:
    """The type `oid`, then, for a domain, each type it is declared over, down to one that is not a domain."""
    pg_type = types.get(oid)
    while pg_type is not None:
        yield pg_type
        pg_type = types.get(pg_type.base_oid) if pg_type.kind == "d" else None


def _domain_not_null(types: dict[int, PgType], oid: int) -> bool:
    """A column whose type is a NOT NULL domain (or a domain over one) cannot hold NULL."""
    return any(t.not_null for t in domain_chain(types, oid))
