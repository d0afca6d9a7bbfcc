"""Every PostgreSQL fact sqlgen keeps in its code is checked against PostgreSQL itself.

Nullability inference holds lists of built-in functions, operators, aggregates and window
functions, the tags and fields of the server's query-tree nodes, and numeric codes of enums
in PostgreSQL's headers; the type map holds built-in type names. They were typed in by hand,
so this module asks the server: a name that is not in pg_proc, pg_operator or pg_type, a
signature no function has, a node tag or field no statement's tree carries, or a code the
server's trees do not use, fails here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Databases

from sqlgen import infer, nullability, typemap
from sqlgen.database import DbConnection, connect
from sqlgen.pgtree import Node, walk
from sqlgen.prepare import analysed_trees

SCHEMA = """
CREATE TABLE parent (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, flag boolean, tags text[]);
CREATE TABLE child (extra int) INHERITS (parent);
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE SEQUENCE counter;
"""

# Statements whose trees hold every node tag and field sqlgen reads.
SAMPLES = [
    'SELECT id, name, 1, NULL, $1::int, name::varchar(3), name::int, name COLLATE "C", id::positive FROM parent',
    "SELECT make_interval(days => id), lower(name), id + 1, name IS DISTINCT FROM 'x', NULLIF(name, ''),"
    " id = ANY(ARRAY[1, 2]) FROM parent",
    "SELECT flag AND NOT flag, name IS NULL, flag IS TRUE, COALESCE(name, 'x'), GREATEST(id, 2) FROM parent",
    "SELECT CASE WHEN flag THEN 1 ELSE 2 END, CASE id WHEN 1 THEN 'a' END, current_schema, current_date FROM parent",
    "SELECT ROW(id, name), ARRAY[id], tags::varchar[], c::parent FROM child c",
    "SELECT name, grouping(name), count(*), max(id) FILTER (WHERE flag), percentile_cont(0.5) WITHIN GROUP"
    " (ORDER BY id) FROM parent GROUP BY ROLLUP (name), CUBE (flag), GROUPING SETS ((id), ()) HAVING count(*) > 0",
    "SELECT row_number() OVER w, sum(id) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING"
    " EXCLUDE CURRENT ROW) FROM parent"
    " WINDOW w AS (ORDER BY id RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)",
    "SELECT EXISTS (SELECT 1), ARRAY(SELECT id FROM parent), (SELECT max(id) FROM parent), id IN (SELECT id FROM"
    " parent) FROM parent",
    "SELECT p.name, q.name FROM parent p LEFT JOIN parent q ON q.id = p.id RIGHT JOIN parent r ON r.id = q.id"
    " FULL JOIN parent s ON s.id = r.id JOIN LATERAL (SELECT p.id AS pid) l ON true, generate_series(1, 2) WITH"
    " ORDINALITY g(v, n), (VALUES (1)) v(x)",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r"
    " UNION SELECT id FROM parent INTERSECT SELECT 1 EXCEPT SELECT 2 LIMIT $1 OFFSET $2",
    "INSERT INTO parent (name) VALUES ($1), ('b') ON CONFLICT (id) DO UPDATE SET name = excluded.name"
    " RETURNING old.name, new.name, id",
    "INSERT INTO parent (name) SELECT name FROM parent RETURNING nextval('counter')",
    "UPDATE parent SET name = $1 WHERE id = $2 RETURNING *",
    "DELETE FROM parent WHERE id = 1 RETURNING old.name",
    "MERGE INTO parent p USING (VALUES (1)) v(id) ON p.id = v.id WHEN MATCHED THEN UPDATE SET name = 'x'"
    " WHEN NOT MATCHED THEN INSERT (name) VALUES ('y') RETURNING merge_action(), p.name",
]


@pytest.fixture(scope="module")
def conn(databases: Databases) -> Iterator[DbConnection]:
    connection = connect(databases.create())
    connection.execute(SCHEMA)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def trees(conn: DbConnection) -> list[Node]:
    found: list[Node] = []
    for sql, tree in zip(SAMPLES, analysed_trees(conn, SAMPLES), strict=True):
        assert tree is not None, sql
        found.append(tree)
    return found


def nodes(trees: list[Node]) -> Iterator[Node]:
    for tree in trees:
        yield from walk(tree)


def source(module: object) -> str:
    return Path(inspect.getfile(module)).read_text(encoding="utf-8")  # type: ignore[arg-type]


_TAG_USES = (
    re.compile(r'\.type (?:==|!=) "([A-Z_]+)"'),
    re.compile(r'Node\("([A-Z_]+)"'),
    re.compile(r'"([A-Z]{4,})"'),  # tags in tuples and frozensets: `in ("RELABELTYPE", "COLLATEEXPR")`
)
_FIELD_USES = re.compile(r'\.(?:node|nodes|int|text)\("(\w+)"|\w\["(\w+)"\]')


def test_every_node_tag_sqlgen_names_is_one_the_server_sends(trees: list[Node]) -> None:
    sent = {node.type for node in nodes(trees)}
    named = {m.removeprefix("expr_").upper() for m in dir(nullability.Nullability) if m.startswith("expr_")}
    for module in (nullability, infer):
        for pattern in _TAG_USES:
            named |= set(pattern.findall(source(module)))
    named.discard("COALESCE")  # a word in an explanation, not a tag
    assert sorted(named - sent) == []


def test_every_node_field_sqlgen_reads_is_one_the_server_sends(trees: list[Node]) -> None:
    sent = {key for node in nodes(trees) for key in node.fields}
    read = set()
    for module in (nullability, infer):
        for match in _FIELD_USES.finditer(source(module)):
            read.add(match[1] or match[2])
    assert sorted(read - sent) == []


def test_numeric_codes_match_the_servers_trees(trees: list[Node]) -> None:
    kinds = {n.int("rtekind") for n in nodes(trees) if n.type == "RANGETBLENTRY"}
    for code in (
        nullability.RTE_RELATION,
        nullability.RTE_SUBQUERY,
        nullability.RTE_JOIN,
        nullability.RTE_FUNCTION,
        nullability.RTE_VALUES,
        nullability.RTE_CTE,
        nullability.RTE_GROUP,
    ):
        assert code in kinds
    joins = {n.int("jointype") for n in nodes(trees) if n.type == "JOINEXPR"}
    assert set(nullability._JOIN_NAMES) | {0} <= joins
    values = {n.int("op") for n in nodes(trees) if n.type == "SQLVALUEFUNCTION"}
    assert nullability._SQL_VALUE_CURRENT_SCHEMA in values
    frames = [n.int("frameOptions") for n in nodes(trees) if n.type == "WINDOWCLAUSE"]
    expected_bits = {
        "_FRAME_START_UNBOUNDED_PRECEDING",
        "_FRAME_END_UNBOUNDED_FOLLOWING",
        "_FRAME_START_OFFSET_PRECEDING",
        "_FRAME_END_OFFSET_FOLLOWING",
        "_FRAME_EXCLUDES_CURRENT_ROW",
    }
    for name in expected_bits:
        assert any(frame & getattr(nullability, name) for frame in frames), name
    commands = {n.int("commandType") for n in nodes(trees) if n.type == "QUERY"}
    from sqlgen import pgtree

    assert {pgtree.CMD_SELECT, pgtree.CMD_UPDATE, pgtree.CMD_INSERT, pgtree.CMD_DELETE, pgtree.CMD_MERGE} <= commands


def catalog_functions(conn: DbConnection) -> dict[str, set[tuple[str, bool]]]:
    """pg_catalog function name → {(prokind, strict)} of its overloads."""
    found: dict[str, set[tuple[str, bool]]] = {}
    rows = conn.execute(
        "SELECT proname, prokind, proisstrict FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace"
    )
    for name, kind, strict in rows:
        found.setdefault(name, set()).add((kind, strict))
    return found


def test_every_listed_function_exists_with_the_kind_the_list_assumes(conn: DbConnection) -> None:
    functions = catalog_functions(conn)

    def kinds(name: str) -> set[str]:
        return {kind for kind, _ in functions.get(name, set())}

    plain = (
        nullability._NON_NULL_FUNCTIONS | nullability._NEVER_NULL_FUNCTIONS | nullability._NULLABLE_OPERATOR_FUNCTIONS
    )
    plain |= nullability._NON_NULL_WITH_FIRST_ARGUMENT | nullability._NULL_FOR_SPECIAL_NUMERIC
    plain |= set(nullability._NON_NULL_SET_COLUMNS)
    assert sorted(n for n in plain if "f" not in kinds(n)) == []
    aggregates = nullability._COUNTING_AGGREGATES | nullability._COLLECTING_AGGREGATES | nullability._FOLDING_AGGREGATES
    assert sorted(n for n in aggregates if "a" not in kinds(n)) == []
    assert sorted(n for n in nullability._RANKING_WINDOW_FUNCTIONS if "w" not in kinds(n)) == []
    # A function that is never NULL, or NULL only for its first argument, must not be strict.
    never = nullability._NEVER_NULL_FUNCTIONS | nullability._NON_NULL_WITH_FIRST_ARGUMENT
    assert sorted(n for n in never if any(strict for kind, strict in functions[n] if kind == "f")) == []


def test_every_listed_signature_is_a_functions(conn: DbConnection) -> None:
    from sqlgen.catalog import load_catalog

    signatures = {f.signature for f in load_catalog(conn).functions.values() if f.builtin}
    assert sorted(nullability._NON_NULL_SIGNATURES - signatures) == []


def test_every_listed_operator_function_implements_an_operator(conn: DbConnection) -> None:
    implementing = {row[0] for row in conn.execute("SELECT DISTINCT oprcode::text FROM pg_operator")}
    assert sorted(nullability._NULLABLE_OPERATOR_FUNCTIONS - implementing) == []


def test_unbounded_extract_fields_are_infinite_not_null_at_infinity(conn: DbConnection) -> None:
    for field in sorted(nullability._UNBOUNDED_FIELDS):
        value = conn.execute(f"SELECT extract({field} FROM 'infinity'::timestamptz)").fetchone()
        assert value is not None and value[0] is not None, field
    value = conn.execute("SELECT extract(month FROM 'infinity'::timestamptz)").fetchone()
    assert value == (None,)


NEWER_THAN_THE_TEST_SERVER = {"regdatabase"}  # PostgreSQL 19's; mapped already, for servers that have it


def test_every_builtin_type_name_is_a_pg_catalog_type(conn: DbConnection) -> None:
    rows = conn.execute("SELECT typname FROM pg_type WHERE typnamespace = 'pg_catalog'::regnamespace")
    names = {row[0] for row in rows}
    assert sorted(set(typemap.BUILTIN_TYPES) - names - NEWER_THAN_THE_TEST_SERVER) == []
    assert not NEWER_THAN_THE_TEST_SERVER & names, "the server has it now: drop it from NEWER_THAN_THE_TEST_SERVER"


def test_no_listed_function_has_a_null_default(conn: DbConnection) -> None:
    """Named arguments may leave defaulted ones out: a NULL default would be a NULL argument sqlgen never sees."""
    rows = conn.execute(
        "SELECT proname, pg_get_function_arguments(oid) FROM pg_proc"
        " WHERE pronamespace = 'pg_catalog'::regnamespace AND pronargdefaults > 0"
    )
    listed = nullability._NON_NULL_FUNCTIONS | {s.split("(")[0] for s in nullability._NON_NULL_SIGNATURES}
    assert sorted({name for name, arguments in rows if name in listed and "DEFAULT NULL" in arguments}) == []
