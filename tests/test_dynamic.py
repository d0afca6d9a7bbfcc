"""Optional filters (`-- @dynamic`) and sort keys (`sqlgen.sort`): every variant against the database."""

from __future__ import annotations

import decimal
import importlib
import itertools
import sys
import textwrap
from types import ModuleType

import asyncpg
import pytest
from conftest import Project
from test_typecheck import mypy

from sqlgen import dynamic
from sqlgen.catalog import load_catalog
from sqlgen.database import connect
from sqlgen.errors import Diagnostic, SourceText
from sqlgen.infer import TypedQuery
from sqlgen.pipeline import type_queries
from sqlgen.source import parse_queries

SCHEMA = """
CREATE TABLE books (
    id integer PRIMARY KEY,
    title text NOT NULL,
    genre varchar(20),
    price numeric(8, 2) NOT NULL,
    in_print boolean NOT NULL,
    pages integer
);
CREATE INDEX books_genre_idx ON books (genre);
"""

ROWS = [
    (1, "Dune", "sf", "9.99", True, 600),
    (2, "Emma", "classic", "4.50", True, 400),
    (3, "Neuromancer", "sf", "12.00", False, 270),
    (4, "Persuasion", "classic", "3.99", False, None),
    (5, "Kindred", None, "8.25", True, 260),
    (6, "Ubik", "sf", "7.00", True, 200),
]

SEARCH = """
-- name: SearchBooks :many
-- Books matching every filter given.
-- @dynamic
SELECT id, title
FROM books
WHERE (sqlc.narg(genre)::text IS NULL OR genre = sqlc.narg(genre))
  AND (sqlc.narg(max_price)::numeric IS NULL OR price <= sqlc.narg(max_price))
  AND (sqlc.narg(in_print)::boolean IS NULL OR in_print = sqlc.narg(in_print))
  AND (@title::text IS NULL OR title ILIKE '%' || @title || '%')
ORDER BY sqlgen.sort(@order, title, price DESC), id;
"""

# What the caller may pass for each filter (None: not given).
VALUES: dict[str, list[object]] = {
    "genre": [None, "sf", "classic"],
    "max_price": [None, decimal.Decimal("8.00")],
    "in_print": [None, True, False],
    "title": [None, "u"],
    "min_pages": [None, 250],
}


def expected(filters: dict[str, object], order: str = "title") -> list[int]:
    """The rows the filters select, in the order `order` asks for, computed in Python."""
    kept = [
        row
        for row in ROWS
        if (filters.get("genre") is None or row[2] == filters["genre"])
        and (filters.get("max_price") is None or decimal.Decimal(row[3]) <= filters["max_price"])  # type: ignore[operator]
        and (filters.get("in_print") is None or row[4] == filters["in_print"])
        and (filters.get("title") is None or str(filters["title"]).lower() in row[1].lower())
        and (filters.get("min_pages") is None or (row[5] is not None and row[5] >= filters["min_pages"]))  # type: ignore[operator]
    ]
    keys = {
        "title": lambda r: (r[1], r[0]),
        "-title": lambda r: (tuple(-ord(c) for c in r[1]), r[0]),
        "price": lambda r: (-decimal.Decimal(r[3]), r[0]),
        "-price": lambda r: (decimal.Decimal(r[3]), r[0]),
    }
    return [row[0] for row in sorted(kept, key=keys[order])]


async def seeded(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await conn.executemany(
        "INSERT INTO books VALUES ($1, $2, $3, $4::numeric, $5, $6)", [(*r[:3], r[3], *r[4:]) for r in ROWS]
    )
    return conn


def load(project: Project, name: str, queries: str) -> tuple[ModuleType, str]:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", queries)
    package, url = project.package(name)
    sys.path.insert(0, str(project.root))
    try:
        return importlib.import_module(f"{name}.queries"), url
    finally:
        sys.path.remove(str(project.root))


def typed_queries(project: Project, queries: str) -> tuple[list[TypedQuery], list[Diagnostic]]:
    """The queries typed as generating types them, with the notes about them."""
    project.write("schema.sql", SCHEMA)
    url = project.databases.create([project.root / "schema.sql"])
    sources, problems = parse_queries(SourceText("queries.sql", textwrap.dedent(queries)))
    assert problems == []
    with connect(url) as conn:
        return type_queries(conn, load_catalog(conn), sources)


def combinations(names: list[str]) -> list[dict[str, object]]:
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(VALUES[n] for n in names))]


async def test_every_combination_of_four_filters_returns_the_right_rows(project: Project) -> None:
    module, url = load(project, "dyn_four", SEARCH)
    assert len(module._SEARCH_BOOKS_VARIANTS) == 16 * 4  # every variant is a constant
    for sql, _ in module._SEARCH_BOOKS_VARIANTS:
        assert "IS NULL" not in sql
    conn = await seeded(url)
    try:
        givens = set()
        for filters in combinations(["genre", "max_price", "in_print", "title"]):
            rows = await module.search_books(conn, **filters)
            assert [r.id for r in rows] == expected(filters), filters
            # the statement as written agrees with its variant
            original = await conn.fetch(module.SEARCH_BOOKS, *filters.values())
            assert [r["id"] for r in original] == [r.id for r in rows]
            givens.add(tuple(v is not None for v in filters.values()))
        assert len(givens) == 16
    finally:
        await conn.close()


async def test_each_sort_choice_orders_rows_and_an_unknown_one_is_refused(project: Project) -> None:
    module, url = load(project, "dyn_sort", SEARCH)
    conn = await seeded(url)
    try:
        for order in ("title", "-title", "price", "-price"):
            for filters in ({}, {"genre": "sf"}, {"in_print": True, "max_price": decimal.Decimal("10")}):
                rows = await module.search_books(conn, order=order, **filters)
                assert [r.id for r in rows] == expected(filters, order), (order, filters)
        assert [r.id for r in await module.search_books(conn)] == expected({}, "title")  # the first key is the default
        with pytest.raises(ValueError, match="order must be one of title, -title, price, -price, not 'id'"):
            await module.search_books(conn, order="id")
    finally:
        await conn.close()


FIVE = """
-- name: SearchBooks :many
-- @dynamic
SELECT id, title
FROM books
WHERE (sqlc.narg(genre)::text IS NULL OR genre = sqlc.narg(genre))
  AND (sqlc.narg(max_price)::numeric IS NULL OR price <= sqlc.narg(max_price))
  AND (sqlc.narg(in_print)::boolean IS NULL OR in_print = sqlc.narg(in_print))
  AND (@title::text IS NULL OR title ILIKE '%' || @title || '%')
  AND (@min_pages::int IS NULL OR pages >= @min_pages)
ORDER BY sqlgen.sort(@order, title, price DESC), id;
"""


async def test_past_the_bound_variants_are_built_from_constant_fragments_and_kept(project: Project) -> None:
    module, url = load(project, "dyn_five", FIVE)
    assert not hasattr(module, "_SEARCH_BOOKS_VARIANTS")
    assert module._SEARCH_BOOKS_BUILT == {}
    conn = await seeded(url)
    try:
        for filters in combinations(["genre", "max_price", "in_print", "title", "min_pages"]):
            for order in ("title", "-price"):
                rows = await module.search_books(conn, order=order, **filters)
                assert [r.id for r in rows] == expected(filters, order), (order, filters)
        assert len(module._SEARCH_BOOKS_BUILT) == 32 * 2  # each built once, then kept
    finally:
        await conn.close()
    # the generated builder puts each variant together as sqlgen's own does
    [query], _ = parse_queries(SourceText("queries.sql", FIVE.lstrip("\n")))
    template = dynamic.filter_template(query.sql, query.sort)
    for index, text in enumerate(t for _, t in query.sort.choices):  # type: ignore[union-attr]
        for given in range(32):
            built = module._dynamic_statement(module._SEARCH_BOOKS_TEMPLATE, given, text)
            assert built == dynamic.build(template, given, text), (index, given)


def test_the_lazily_built_package_passes_mypy_strict(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", FIVE)
    project.write_package("dyn_mypy")
    result = mypy("dyn_mypy", cwd=project.root)
    assert result.returncode == 0, result.stdout


async def test_a_variant_the_server_rejects_keeps_the_statement_as_written(project: Project) -> None:
    # Without its filter, `@genre IS NULL` leaves the parameter a type PostgreSQL cannot determine.
    queries = """
    -- name: TaggedBooks :many
    -- @dynamic
    SELECT id FROM books WHERE (@genre::text IS NULL OR genre = @genre) ORDER BY @genre IS NULL, id;
    """
    [typed], notes = typed_queries(project, queries)
    [note] = [d for d in notes if "as written" in d.message]
    assert note.severity == "note"
    assert "PostgreSQL rejects a variant" in note.message
    assert typed.dynamic is None
    module, url = load(project, "dyn_fallback", queries)
    assert not hasattr(module, "_TAGGED_BOOKS_VARIANTS")
    conn = await seeded(url)
    try:
        rows = await module.tagged_books(conn, genre="sf")
        assert rows == [1, 3, 6]
    finally:
        await conn.close()


async def test_a_parameter_typed_otherwise_in_a_variant_is_cast_to_its_type(project: Project) -> None:
    # `pages > @n` alone would make $1 an integer; the statement reads it as numeric (2.5 must stay 2.5).
    queries = """
    -- name: LongBooks :many
    -- @dynamic
    SELECT id FROM books WHERE (@n::numeric IS NULL OR pages > @n) ORDER BY id;
    """
    module, url = load(project, "dyn_cast", queries)
    assert "pages > ($1::numeric)" in module._LONG_BOOKS_VARIANTS[1][0]
    conn = await seeded(url)
    try:
        assert [r for r in await module.long_books(conn, n=decimal.Decimal("260.5"))] == [1, 2, 3]
        assert len(await module.long_books(conn)) == 6
    finally:
        await conn.close()


def test_a_sort_key_the_server_rejects_is_an_error_at_the_key(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write(
        "queries.sql",
        """
        -- name: Sorted :many
        SELECT id FROM books ORDER BY sqlgen.sort(@order, title, nope DESC);
        """,
    )
    [error] = project.errors()
    assert "sort key `nope` of query Sorted: " in error or "sort key `nope DESC` of query Sorted" in error
    assert 'column "nope" does not exist' in error
    assert "queries.sql:2:31" in error


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ORDER BY sqlgen.sort(title)", "sqlgen.sort() takes the parameter first"),
        ("ORDER BY sqlgen.sort(@order)", "sqlgen.sort() lists no sort keys"),
        ("ORDER BY sqlgen.sort(@order, title, title DESC)", "sort key 'title' is listed twice"),
        ("ORDER BY sqlgen.sort(@order, price - @x)", "a sort key cannot hold a parameter"),
        ("ORDER BY sqlgen.sort(@order, lower(title))", "name the sort key `lower(title)`"),
        ("ORDER BY sqlgen.sort(@order, title", "sqlgen.sort( is not closed"),
    ],
)
def test_a_malformed_sort_is_a_located_error(text: str, message: str) -> None:
    _, problems = parse_queries(SourceText("q.sql", f"-- name: Q :many\nSELECT id FROM books {text};\n"))
    [problem] = problems
    assert message in problem.message
    assert problem.location is not None and problem.location.line == 2


def test_sort_choices_reverse_the_key_as_written() -> None:
    text = "-- name: Q :many\nSELECT 1 ORDER BY sqlgen.sort(@o, a, b DESC, c NULLS FIRST, lower(d) AS d_ci)\n"
    [query], problems = parse_queries(SourceText("q.sql", text))
    assert problems == []
    assert query.sort is not None and query.sql == "SELECT 1 ORDER BY a"
    assert query.params == ()
    assert dict(query.sort.choices) == {
        "a": "a",
        "-a": "a DESC",
        "b": "b DESC",
        "-b": "b",
        "c": "c NULLS FIRST",
        "-c": "c DESC NULLS LAST",
        "d_ci": "lower(d)",
        "-d_ci": "lower(d) DESC",
    }


def test_what_is_not_an_optional_filter_stays_in_every_variant() -> None:
    sql = (
        "SELECT id FROM t WHERE a BETWEEN $1 AND 3 AND ($2 IS NULL OR b = $2 OR c = $2)"
        " AND ($3 IS NULL OR true) AND (d = 1 OR $4 IS NULL OR e = $4) AND NOT ($5 IS NULL OR f = $5)"
    )
    where = dynamic.find_where(sql)
    assert where is not None and where.filters == (2,)
    template = dynamic.filter_template(sql, None, where)
    assert dynamic.build(template, 0, "")[0] == (
        "SELECT id FROM t WHERE a BETWEEN $1 AND 3 AND ($2 IS NULL OR true) AND (d = 1 OR $3 IS NULL OR e = $3)"
        " AND NOT ($4 IS NULL OR f = $4)"
    )
    assert "AND (b = $2 OR c = $2) AND" in dynamic.build(template, 1, "")[0]
    # a WHERE sqlglot cannot read, or none at all: nothing to cut
    assert dynamic.find_where("SELECT id FROM t") is None
    assert dynamic.find_where("SELECT id FROM t WHERE ($1 IS NULL OR a = $1) UNION SELECT 1") is None


def test_dynamic_on_a_batched_query_is_refused(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write(
        "queries.sql",
        """
        -- name: Touch :batchexec
        -- @dynamic
        UPDATE books SET pages = 1 WHERE (@genre::text IS NULL OR genre = @genre);
        """,
    )
    [error] = project.errors()
    assert "cannot have optional filters or a sort parameter" in error


def test_dynamic_without_a_filter_is_a_warning(project: Project) -> None:
    _, notes = typed_queries(project, "-- name: All :many\n-- @dynamic\nSELECT id FROM books WHERE in_print;\n")
    [warning] = [d for d in notes if "@dynamic" in d.message]
    assert warning.severity == "warning"
    assert "finds no optional filter" in warning.message


def test_a_statement_sqlglot_cannot_read_keeps_its_filters_with_a_note(project: Project) -> None:
    queries = """
    -- name: XmlBooks :many
    -- @dynamic
    SELECT id FROM books
    WHERE (@genre::text IS NULL OR genre = @genre) AND title IS NFC NORMALIZED;
    """
    [typed], notes = typed_queries(project, queries)
    [note] = notes
    assert note.severity == "note" and "sqlglot does not parse the statement" in note.message
    assert typed.dynamic is None


def test_a_plan_survives_the_describe_cache(project: Project) -> None:
    import json

    [typed], _ = typed_queries(project, FIVE)
    [small], _ = typed_queries(project, SEARCH)
    for plan in (typed.dynamic, small.dynamic):
        assert plan is not None
        assert dynamic.decode_plan(json.loads(json.dumps(dynamic.encode_plan(plan)))) == plan
    assert typed.dynamic is not None and typed.dynamic.template is not None and not typed.dynamic.statements
    assert small.dynamic is not None and len(small.dynamic.statements) == 64 and small.dynamic.template is None


SHAPES = {
    # stars expanded before the sort slot, positional parameters named from their columns
    "star": (
        "-- name: Q :many\n-- @dynamic\nSELECT * FROM books\n"
        "WHERE ($1::text IS NULL OR genre = $1) AND ($2::bool IS NULL OR in_print = $2)\n"
        "ORDER BY sqlgen.sort(@order, title, pages DESC NULLS LAST), id;\n",
        {"genre": VALUES["genre"], "in_print": VALUES["in_print"]},
    ),
    # five filters and no sort: built from fragments; the filter that is given first need not be first
    "lazy": (
        "-- name: Q :many\n-- @dynamic\nSELECT id FROM books WHERE (@genre::text IS NULL OR genre = @genre)"
        " AND (@max_price::numeric IS NULL OR price <= @max_price)"
        " AND (@in_print::bool IS NULL OR in_print = @in_print)"
        " AND (@title::text IS NULL OR title ILIKE '%' || @title || '%')"
        " AND (pages >= @min_pages OR @min_pages IS NULL)"
        " ORDER BY id;\n",
        {name: VALUES[name] for name in ("genre", "max_price", "in_print", "title", "min_pages")},
    ),
    # a parameter used outside its filter stays in every variant
    "shared": (
        "-- name: Q :many\n-- @dynamic\nSELECT id FROM books WHERE (@genre::text IS NULL OR genre = @genre)"
        " AND (@genre::text IS NULL OR pages > 250) ORDER BY id;\n",
        {"genre": VALUES["genre"]},
    ),
}


@pytest.mark.parametrize("shape", SHAPES)
async def test_variants_agree_with_the_statement_as_written(project: Project, shape: str) -> None:
    queries, values = SHAPES[shape]
    module, url = load(project, f"dyn_{shape}", queries)
    names = list(values)
    statements = [sql for sql, _ in getattr(module, "_Q_VARIANTS", ())]
    assert statements or module._Q_TEMPLATE
    if shape == "lazy":  # `(cond OR @x IS NULL)` is a filter too
        assert sorted(bit for bit, _, _ in module._Q_TEMPLATE[2]) == [0, 1, 2, 3, 4]
    assert not any("*" in sql or "IS NULL" in sql for sql in statements if shape != "shared")
    conn = await seeded(url)
    try:
        for chosen in itertools.product(*values.values()):
            filters = dict(zip(names, chosen, strict=True))
            rows = await module.q(conn, **filters)
            original = await conn.fetch(module.Q, *chosen)
            plain = [tuple(r.model_dump().values()) if hasattr(r, "model_dump") else r for r in rows]
            assert plain == [r[0] if len(r) == 1 else tuple(r) for r in original], filters
    finally:
        await conn.close()
