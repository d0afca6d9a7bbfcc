"""Values of every supported type go in through generated parameters and come back equal."""

from __future__ import annotations

import datetime
import decimal
import importlib
import ipaddress
import math
import uuid
from typing import Any

import asyncpg
import psycopg
import pydantic
import pytest
from conftest import Project

ENUM_SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'in-between');
CREATE DOMAIN nice_mood AS mood NOT NULL CHECK (VALUE <> 'sad');
CREATE TABLE people (id int PRIMARY KEY, mood mood NOT NULL, moods mood[], nice nice_mood);
"""

ENUM_QUERIES = """
-- name: Insert :exec
INSERT INTO people VALUES (@id, @mood, @moods, @nice);
-- name: ByMood :many
SELECT * FROM people WHERE mood = @mood ORDER BY id;
-- name: Moods :one
SELECT moods FROM people WHERE id = @id;
-- name: MoodOf :one
SELECT mood FROM people WHERE id = @id;
"""


async def test_enums_domains_and_enum_arrays_round_trip(project: Project) -> None:
    project.write("schema.sql", ENUM_SCHEMA)
    project.write("queries.sql", ENUM_QUERIES)
    package, url = project.package("enum_pkg")
    models = importlib.import_module("enum_pkg.models")
    queries = importlib.import_module("enum_pkg.queries")
    mood = models.Mood
    assert [m.value for m in mood] == ["sad", "ok", "happy", "in-between"]  # PostgreSQL's order
    assert mood.IN_BETWEEN == "in-between"
    # A NOT NULL domain rejects NULL as an argument, but a column of it without its own NOT NULL
    # can be read as NULL (PostgreSQL stores a NULL already of the domain's type unchecked).
    assert models.Person.model_fields["nice"].annotation == mood | None
    assert "None" not in str(queries.insert.__annotations__["nice"])
    conn = await asyncpg.connect(url)
    try:
        await queries.insert(conn, id=1, mood=mood.HAPPY, moods=[mood.OK, None, mood.SAD], nice=mood.OK)
        await queries.insert(conn, id=2, mood=mood.HAPPY, moods=None, nice=mood.IN_BETWEEN)
        [first, second] = await queries.by_mood(conn, mood=mood.HAPPY)
        assert first == models.Person(id=1, mood=mood.HAPPY, moods=[mood.OK, None, mood.SAD], nice=mood.OK)
        assert type(first.mood) is mood and type(first.moods[0]) is mood
        assert second.moods is None and second.nice is mood.IN_BETWEEN
        assert await queries.moods(conn, id=1) == [mood.OK, None, mood.SAD]
        assert await queries.moods(conn, id=2) is None
        assert type(await queries.mood_of(conn, id=2)) is mood
        assert await queries.by_mood(conn, mood=mood.SAD) == []
    finally:
        await conn.close()
    assert package.__name__ == "enum_pkg"


UTC = datetime.UTC
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
Range = asyncpg.Range
D = decimal.Decimal

# (PostgreSQL type, values that must come back equal, the annotation generated for it)
SCALARS: list[tuple[str, list[Any], str]] = [
    ("boolean", [True, False], "bool"),
    ("smallint", [-32768, 32767], "int"),
    ("integer", [0, -(2**31)], "int"),
    ("bigint", [2**63 - 1, -(2**63)], "int"),
    ("real", [1.5, float("inf"), float("nan")], "float"),
    ("double precision", [1e308, -0.0, 5e-324, float("-inf")], "float"),
    (
        "numeric",
        [
            D("1e-100"),
            D("123456789012345678901234567890.123456789"),
            D("-0.5"),
            D("NaN"),
            D("Infinity"),
            D("-Infinity"),
        ],
        "decimal.Decimal",
    ),
    ("numeric(10, 2)", [D("12345678.90")], "decimal.Decimal"),
    ("money", [D("-1234.56"), D("0.01"), D("92233720368547758.07")], "decimal.Decimal"),
    ("text", ["ünïcødé ✓ 😀", "", "line\nbreak\ttab \\ 'quote\""], "str"),
    ("varchar(20)", ["short"], "str"),
    ("char(4)", ["ab  "], "str"),
    ("name", ["pg_class"], "str"),
    ('"char"', ["r", "é"], "str"),
    ("bytea", [b"\x00\xff\n", b""], "bytes"),
    ("date", [datetime.date(2024, 2, 29), datetime.date.max, datetime.date.min], "datetime.date"),
    ("time", [datetime.time(23, 59, 59, 999999)], "datetime.time"),
    ("timetz", [datetime.time(12, 30, tzinfo=IST)], "datetime.time"),
    ("timestamp", [datetime.datetime(2024, 1, 2, 3, 4, 5, 6), datetime.datetime.max], "datetime.datetime"),
    ("timestamptz", [datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=IST)], "datetime.datetime"),
    (
        "interval",
        [datetime.timedelta(days=3, seconds=5, microseconds=7), -datetime.timedelta(hours=1)],
        "datetime.timedelta",
    ),
    ("uuid", [uuid.UUID("12345678-1234-5678-1234-567812345678")], "uuid.UUID"),
    ("jsonb", [{"a": [1, 2.5, None, "ü"], "b": {"c": True}}, [], "text", 0], "JsonDocument"),
    ("json", [{"z": 1, "a": 2}], "JsonDocument"),
    (
        "inet",
        [
            ipaddress.ip_interface("10.1.2.3/8"),
            ipaddress.ip_interface("::1/128"),
            ipaddress.ip_interface("192.168.0.1"),
        ],
        "ipaddress.IPv4Interface | ipaddress.IPv6Interface",
    ),
    (
        "cidr",
        [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")],
        "ipaddress.IPv4Network | ipaddress.IPv6Network",
    ),
    ("macaddr", ["08:00:2b:01:02:03"], "str"),
    ("macaddr8", ["08:00:2b:01:02:03:04:05"], "str"),
    ("bit(3)", [asyncpg.BitString("101")], "asyncpg.BitString"),
    ("varbit", [asyncpg.BitString("1"), asyncpg.BitString("")], "asyncpg.BitString"),
    ("point", [asyncpg.Point(1.5, -2)], "asyncpg.Point"),
    ("line", [asyncpg.Line(1, 2, 3)], "asyncpg.Line"),
    ("lseg", [asyncpg.LineSegment((1, 2), (3, 4))], "asyncpg.LineSegment"),
    ("box", [asyncpg.Box((3, 4), (1, 2))], "asyncpg.Box"),
    ("path", [asyncpg.Path((1, 2), (3, 4), is_closed=True)], "asyncpg.Path"),
    ("polygon", [asyncpg.Polygon((0, 0), (1, 0), (0, 1))], "asyncpg.Polygon"),
    ("circle", [asyncpg.Circle(asyncpg.Point(1, 2), 3)], "asyncpg.Circle"),
    ("tsvector", ["'a':1 'b':2"], "str"),
    ("tsquery", ["'a' & 'b'"], "str"),
    ("oid", [4294967295], "int"),
    ("regclass", ["pg_class"], "str"),
    ("regtype", ["integer"], "str"),
    ("pg_lsn", [2**40 + 5], "int"),
    ("xid8", [5], "int"),
    ("tid", [(0, 1)], "tuple[int, int]"),
    ("int4range", [Range(1, 5), Range(empty=True), Range(None, 5), Range(1, None)], "asyncpg.Range[int]"),
    ("int8range", [Range(-(2**40), 2**40)], "asyncpg.Range[int]"),
    ("numrange", [Range(D("1.5"), D("2.5"), upper_inc=True)], "asyncpg.Range[decimal.Decimal]"),
    ("tsrange", [Range(datetime.datetime(2024, 1, 1), None)], "asyncpg.Range[datetime.datetime]"),
    (
        "tstzrange",
        [Range(datetime.datetime(2024, 1, 1, tzinfo=IST), datetime.datetime(2024, 1, 2, tzinfo=UTC))],
        "asyncpg.Range[datetime.datetime]",
    ),
    ("daterange", [Range(datetime.date(2024, 1, 1), datetime.date(2024, 2, 1))], "asyncpg.Range[datetime.date]"),
    ("int4multirange", [[Range(1, 3), Range(5, 7)], []], "list[asyncpg.Range[int]]"),
    (
        "datemultirange",
        [[Range(datetime.date(2024, 1, 1), datetime.date(2024, 1, 5))]],
        "list[asyncpg.Range[datetime.date]]",
    ),
    ("integer[]", [[1, None, 3], []], "list[int | None]"),
    ("text[]", [["a", None, "ü", ""], [None]], "list[str | None]"),
    ("numeric[]", [[D("NaN"), D("1e-30")]], "list[decimal.Decimal | None]"),
    ("jsonb[]", [[{"a": 1}, None, [2]]], "list[JsonDocument | None]"),
    (
        "inet[]",
        [[ipaddress.ip_interface("10.0.0.1/32"), None]],
        "list[ipaddress.IPv4Interface | ipaddress.IPv6Interface | None]",
    ),
    ('"char"[]', [["a", None]], "list[str | None]"),
    ("uuid[]", [[uuid.UUID(int=1)]], "list[uuid.UUID | None]"),
    ("money[]", [[D("1.50"), None]], "list[decimal.Decimal | None]"),
]


def _equal(a: object, b: object) -> bool:
    """Equality where NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, decimal.Decimal) and isinstance(b, decimal.Decimal) and a.is_nan():
        return b.is_nan()
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, asyncpg.Path) and isinstance(b, asyncpg.Path):
        return a.points == b.points and a.is_closed == b.is_closed
    return a == b


def _echo_queries(types: list[str]) -> str:
    return "".join(f"-- name: Echo{i} :one\nSELECT sqlc.narg(v)::{t} AS v;\n" for i, t in enumerate(types))


async def test_every_builtin_type_round_trips_through_parameters_and_results(project: Project) -> None:
    project.write("schema.sql", "")
    project.write("queries.sql", _echo_queries([t for t, _, _ in SCALARS]))
    package, url = project.package("scalar_pkg")
    queries = importlib.import_module("scalar_pkg.queries")
    conn = await asyncpg.connect(url)
    try:
        for index, (pg_type, values, annotation) in enumerate(SCALARS):
            echo = getattr(queries, f"echo{index}")
            assert echo.__annotations__["return"] == f"{annotation} | None", pg_type
            for value in values:
                back = await echo(conn, v=value)
                assert _equal(back, value), (pg_type, value, back)
                assert isinstance(back, type(value)), (pg_type, back)
            assert await echo(conn, v=None) is None
    finally:
        await conn.close()
    assert package.__name__ == "scalar_pkg"


COMPOSITE_SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TYPE address AS (street text, city text, location point);
CREATE TYPE contact AS (name text, home address, previous address[], mood mood, extra jsonb, "class" int);
CREATE DOMAIN checked_contact AS contact CHECK ((VALUE).name <> '');
CREATE DOMAIN labels AS text[] NOT NULL;
CREATE TABLE things (
    id int PRIMARY KEY,
    owner contact,
    checked checked_contact,
    grid integer[][],
    labels labels,
    period tstzrange NOT NULL,
    addresses address[]
);
"""

COMPOSITE_QUERIES = """
-- name: AddThing :exec
INSERT INTO things (id, owner, checked, grid, labels, period, addresses)
VALUES (@id, @owner, @checked, @grid, @labels, @period, @addresses);
-- name: GetThing :one
SELECT * FROM things WHERE id = @id;
-- name: EchoContact :one
SELECT sqlc.narg(c)::contact AS c;
-- name: Homes :many
SELECT (owner).home FROM things ORDER BY id;
"""


async def test_composites_nested_in_arrays_and_domains_round_trip(project: Project) -> None:
    project.write("schema.sql", COMPOSITE_SCHEMA)
    project.write("queries.sql", COMPOSITE_QUERIES)
    package, url = project.package("composite_pkg")
    models = importlib.import_module("composite_pkg.models")
    queries = importlib.import_module("composite_pkg.queries")
    home = models.Address(street="1 Main St", city="Zürich", location=asyncpg.Point(1, 2))
    old = models.Address(street=None, city="Bern", location=None)
    owner = models.Contact(
        name="Ann", home=home, previous=[old, None], mood=models.Mood.HAPPY, extra={"k": [1]}, class_=7
    )
    bare = models.Contact(name="Bob", home=None, previous=None, mood=None, extra=None, class_=None)
    period = Range(datetime.datetime(2024, 1, 1, tzinfo=UTC), None)
    # Column types come from the table: the declared two dimensions; the NOT NULL domain alone
    # does not make the column non-null (see docs/queries.md, NOT NULL domains).
    assert models.Thing.model_fields["grid"].annotation == list[list[int | None]] | None
    assert models.Thing.model_fields["labels"].annotation == list[str | None] | None
    conn = await asyncpg.connect(url)
    try:
        await queries.add_thing(
            conn,
            id=1,
            owner=owner,
            checked=bare,
            grid=[[1, 2], [3, None]],
            labels=["x", None],
            period=period,
            addresses=[home, None, old],
        )
        await queries.add_thing(conn, id=2, owner=bare, checked=None, grid=[], labels=[], period=period, addresses=[])
        thing = await queries.get_thing(conn, id=1)
        assert thing == models.Thing(
            id=1,
            owner=owner,
            checked=bare,
            grid=[[1, 2], [3, None]],
            labels=["x", None],
            period=period,
            addresses=[home, None, old],
        )
        assert thing is not None and type(thing.owner.mood) is models.Mood
        second = await queries.get_thing(conn, id=2)
        assert second is not None and second.owner == bare and second.grid == [] and second.checked is None
        assert await queries.echo_contact(conn, c=owner) == owner
        assert await queries.echo_contact(conn, c=None) is None
        assert await queries.homes(conn) == [home, None]
        unnamed = bare.model_copy(update={"name": ""})
        with pytest.raises(asyncpg.CheckViolationError):
            await queries.add_thing(
                conn, id=3, owner=None, checked=unnamed, grid=None, labels=[], period=period, addresses=None
            )
    finally:
        await conn.close()
    assert package.__name__ == "composite_pkg"


EXTENSION_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS cube;
CREATE TABLE docs (
    id int PRIMARY KEY,
    attrs hstore,
    email citext NOT NULL,
    embedding vector(3),
    box cube
);
"""

EXTENSION_QUERIES = """
-- name: AddDoc :exec
INSERT INTO docs VALUES (@id, @attrs, @email, @embedding, @box);
-- name: GetDoc :one
SELECT * FROM docs WHERE id = @id;
-- name: ByEmail :one
SELECT id FROM docs WHERE email = @email;
-- name: Nearest :many
SELECT id FROM docs ORDER BY embedding <-> @target LIMIT 2;
"""


async def test_extension_types_and_init_connection(project: Project) -> None:
    with psycopg.connect(project.databases.server_url) as admin:
        available = {name for (name,) in admin.execute("SELECT name FROM pg_available_extensions")}
    missing = {"hstore", "citext", "vector", "cube"} - available
    if missing:  # the embedded server ships them all; a DATABASE_URL server may not
        pytest.skip(f"the server at DATABASE_URL lacks the extensions {sorted(missing)}")
    project.write("schema.sql", EXTENSION_SCHEMA)
    project.write("queries.sql", EXTENSION_QUERIES)
    errors = project.errors()  # cube has no Python counterpart until the config says which
    assert [e.splitlines()[0] for e in errors] == [
        "queries.sql:2:59: error: parameter box of query AddDoc has type public.cube, which sqlgen does not support",
        "queries.sql:4:1: error: column box of query GetDoc has type public.cube, which sqlgen does not support",
    ]
    assert all('under [tool.sqlgen.overrides], e.g. "public.cube" = "str"' in e for e in errors)
    project.write(
        "pyproject.toml",
        '[tool.sqlgen.overrides]\n"public.cube" = "str"\n"public.docs.attrs" = "dict[str, str | None]"\n',
    )  # an overridden hstore column still gets hstore's codec
    package, url = project.package("ext_pkg")
    models = importlib.import_module("ext_pkg.models")
    queries = importlib.import_module("ext_pkg.queries")
    assert models.Doc.model_fields["attrs"].annotation == dict[str, str | None] | None
    assert models.Doc.model_fields["embedding"].annotation == list[float] | None
    assert models.Doc.model_fields["box"].annotation == str | None
    conn = await package.connect(url)  # runs init_connection: hstore needs asyncpg's codec
    try:
        await queries.add_doc(
            conn, id=1, attrs={"a": "1", "ü": None}, email="Ann@Example.com", embedding=[1, 2.5, -3e-05], box="(1, 2)"
        )
        await queries.add_doc(conn, id=2, attrs={}, email="bob@example.com", embedding=[9, 9, 9], box=None)
        doc = await queries.get_doc(conn, id=1)
        assert doc == models.Doc(
            id=1, attrs={"a": "1", "ü": None}, email="Ann@Example.com", embedding=[1.0, 2.5, -3e-05], box="(1, 2)"
        )
        assert await queries.by_email(conn, email="ann@EXAMPLE.com") == 1  # citext compares case-insensitively
        assert await queries.nearest(conn, target=[1, 2, 3]) == [1, 2]
    finally:
        await conn.close()
    async with package.create_pool(url, min_size=1, max_size=2) as pool:
        second = await queries.get_doc(pool, id=2)
        assert second is not None and second.attrs == {} and second.box is None
    plain = await asyncpg.connect(url)
    try:
        await package.init_connection(plain)
        assert (await queries.get_doc(plain, id=2)).attrs == {}  # type: ignore[union-attr]
    finally:
        await plain.close()


OVERRIDE_SCHEMA = """
CREATE DOMAIN money_cents AS bigint CHECK (VALUE >= 0);
CREATE TABLE orders (
    id int PRIMARY KEY,
    payload jsonb NOT NULL,
    history jsonb[],
    total money_cents,
    note text
);
"""

OVERRIDE_QUERIES = """
-- name: CreateOrder :one
INSERT INTO orders (id, payload, history, total, note) VALUES (@id, @payload, @history, @total, @note)
RETURNING *;
-- name: Payload :one
SELECT payload FROM orders WHERE id = @id;
-- name: SetRawPayload :exec
UPDATE orders SET payload = @raw::text::jsonb WHERE id = @id;
-- name: Totals :many
SELECT total, payload || '{}' AS raw FROM orders ORDER BY id;
"""

OVERRIDE_TYPES = """
from typing import NewType

from pydantic import BaseModel

Cents = NewType("Cents", int)


class Item(BaseModel):
    sku: str
    quantity: int = 1


class Payload(BaseModel):
    customer: str
    items: list[Item]
"""

OVERRIDE_CONFIG = """
[tool.sqlgen.overrides]
"public.orders.payload" = "shop_types.Payload"
"public.orders.history" = "shop_types.Item"
"public.money_cents" = "shop_types.Cents"
"""


async def test_overrides_map_types_and_columns_to_user_types(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(project.root)  # where the user's own module lives
    project.write("schema.sql", OVERRIDE_SCHEMA)
    project.write("queries.sql", OVERRIDE_QUERIES)
    project.write("shop_types.py", OVERRIDE_TYPES)
    project.write("pyproject.toml", OVERRIDE_CONFIG)
    package, url = project.package("override_pkg")
    models = importlib.import_module("override_pkg.models")
    queries = importlib.import_module("override_pkg.queries")
    shop = importlib.import_module("shop_types")
    source = (project.root / "override_pkg" / "queries.py").read_text()
    assert "from shop_types import Cents, Item, Payload" in source
    assert models.Order.model_fields["payload"].annotation is shop.Payload
    assert queries.create_order.__annotations__["history"] == "Sequence[Item | None] | None"
    assert queries.TotalsRow.model_fields["total"].annotation == shop.Cents | None  # the domain, not its base
    assert queries.set_raw_payload.__annotations__["raw"] == "str"  # a text parameter, cast before assignment
    payload = shop.Payload(customer="Ann", items=[shop.Item(sku="b-1", quantity=2)])
    conn = await asyncpg.connect(url)
    try:
        order = await queries.create_order(
            conn, id=1, payload=payload, history=[shop.Item(sku="old"), None], total=shop.Cents(1250), note=None
        )
        assert order == models.Order(id=1, payload=payload, history=[shop.Item(sku="old"), None], total=1250, note=None)
        assert await conn.fetchval("SELECT payload->'items'->0->>'sku' FROM orders") == "b-1"  # stored as JSON
        assert await queries.payload(conn, id=1) == payload
        # The override follows the column; the same JSON computed by an expression is a JsonDocument.
        [row] = await queries.totals(conn)
        assert row.total == 1250 and row.raw == payload.model_dump()
        # Validated on the way out: a stored document of the wrong shape is an error, not a wrong object.
        await queries.set_raw_payload(conn, raw='{"customer": 5}', id=1)
        with pytest.raises(pydantic.ValidationError):
            await queries.payload(conn, id=1)
    finally:
        await conn.close()


def test_override_errors_name_the_entry_and_what_to_write(project: Project) -> None:
    project.write("schema.sql", OVERRIDE_SCHEMA)
    project.write("queries.sql", OVERRIDE_QUERIES)
    project.write(
        "pyproject.toml",
        """
        [tool.sqlgen.overrides]
        "public.orders.nope" = "str"
        "public.orders.note" = "Payload"
        "public.jsonb" = "str"
        "a.b.c.d" = "str"
        """,
    )
    errors = project.errors()
    assert [e.splitlines()[0] for e in errors] == [
        "pyproject.toml:3:1: error: the override for 'public.orders.note': 'Payload' needs its module, "
        "e.g. 'mypackage.types.Payload'",
        "pyproject.toml:5:1: error: override target 'a.b.c.d' is neither a type nor a column",
    ]
    project.write("pyproject.toml", '[tool.sqlgen.overrides]\n"public.orders.nope" = "str"\n"public.jsonb" = "str"\n')
    errors = project.errors()
    assert [e.splitlines()[0] for e in errors] == [
        "pyproject.toml:2:1: error: override for unknown column 'public.orders.nope'",
        "pyproject.toml:3:1: error: override for unknown type 'public.jsonb'",
    ]
    assert "did you mean 'pg_catalog.jsonb'?" in errors[1]


async def test_a_type_override_reaches_array_elements_and_expressions(project: Project) -> None:
    project.write("schema.sql", "CREATE TABLE counters (id int PRIMARY KEY, counts jsonb, history jsonb[]);")
    project.write(
        "queries.sql",
        """
        -- name: Put :exec
        INSERT INTO counters VALUES (@id, @counts, @history);
        -- name: Get :one
        SELECT counts, history, counts || '{"extra": 1}' AS merged FROM counters WHERE id = @id;
        """,
    )
    project.write("pyproject.toml", '[tool.sqlgen.overrides]\n"pg_catalog.jsonb" = "dict[str, int]"\n')
    _, url = project.package("typed_json_pkg")
    queries = importlib.import_module("typed_json_pkg.queries")
    assert queries.put.__annotations__["history"] == "Sequence[dict[str, int] | None] | None"
    assert queries.GetRow.model_fields["merged"].annotation == dict[str, int] | None
    conn = await asyncpg.connect(url)
    try:
        await queries.put(conn, id=1, counts={"a": 1}, history=[{"b": 2}, None])
        row = await queries.get(conn, id=1)
        assert row == queries.GetRow(counts={"a": 1}, history=[{"b": 2}, None], merged={"a": 1, "extra": 1})
        await conn.execute("""UPDATE counters SET counts = '{"a": "many"}'""")
        with pytest.raises(pydantic.ValidationError):
            await queries.get(conn, id=1)
    finally:
        await conn.close()


def test_types_asyncpg_cannot_carry_and_overrides_that_cannot_work_are_errors(project: Project) -> None:
    project.write(
        "schema.sql",
        """
        CREATE TYPE price AS (amount money, currency text);
        CREATE TYPE point3 AS (x int, y int, z int);
        CREATE TABLE t (id int PRIMARY KEY, p price, q point3, body text);
        """,
    )
    project.write(
        "queries.sql", "-- name: Prices :many\nSELECT p FROM t;\n-- name: Bodies :many\nSELECT body FROM t;\n"
    )
    [error] = project.errors()
    assert error.splitlines()[0] == (
        "queries.sql:2:8: error: column p of query Prices has type public.price, whose attribute amount has a type "
        "asyncpg can only read as text, which it cannot do inside a composite"
    )
    project.write("queries.sql", "-- name: Bodies :many\nSELECT body FROM t;\n")
    project.write(
        "pyproject.toml",
        """
        [tool.sqlgen.overrides]
        "public.point3" = "tuple[int, ...]"
        "public.t.body" = "str.upper"
        "public.t.id" = "1"
        """,
    )
    assert [e.splitlines()[0] for e in project.errors()] == [
        "pyproject.toml:3:1: error: the override for 'public.t.body': 'str.upper' is not a Python type",
        "pyproject.toml:4:1: error: the override for 'public.t.id': '1' is not a Python type",
    ]
    project.write("pyproject.toml", '[tool.sqlgen.overrides]\n"public.t.q" = "tuple[int, ...]"\n')
    [error] = project.errors()
    assert error.splitlines()[0] == (
        "pyproject.toml:2:1: error: cannot override 'public.t.q': it has the composite type public.point3, "
        "whose model sqlgen generates in models.py"
    )
