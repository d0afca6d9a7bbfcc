"""No column typed non-null comes back NULL: each claim checked by running the statement.

Every case here is a statement where sqlgen once (or could) claim non-null for a value
PostgreSQL fills with NULL. `run_and_check` types the statement, runs it on the server with
the given arguments inside a rolled-back transaction, and fails if a NULL comes back in a
column typed non-null; the cases then assert the type the truth calls for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import pytest
from conftest import Databases, Project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import pq

from sqlgen.catalog import Catalog, load_catalog
from sqlgen.database import DbConnection, apply_schema, connect
from sqlgen.errors import SourceText, UserError
from sqlgen.infer import TypedQuery
from sqlgen.pipeline import type_queries
from sqlgen.source import parse_queries

SCHEMA = """
CREATE TABLE users (id serial PRIMARY KEY, name text, email text NOT NULL DEFAULT 'x');
INSERT INTO users (name) VALUES ('ann'), ('bob');
CREATE VIEW named AS SELECT id, name, upper(name) AS shout, email FROM users;
CREATE TABLE t (id int PRIMARY KEY, "done!" int, "label?" text NOT NULL);
INSERT INTO t VALUES (1, NULL, 'a');
CREATE VIEW tv AS SELECT id, "done!", "label?" FROM t;
CREATE TABLE guarded (id int PRIMARY KEY, note text);
INSERT INTO guarded VALUES (1, 'kept');
CREATE FUNCTION clear_note() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.note := NULL; RETURN NEW; END$$;
CREATE TRIGGER clear_note BEFORE UPDATE ON guarded FOR EACH ROW EXECUTE FUNCTION clear_note();
CREATE DOMAIN label AS text NOT NULL;
CREATE TABLE tags (id int PRIMARY KEY, name text);
CREATE TABLE labelled (id int PRIMARY KEY, tag label);
INSERT INTO tags VALUES (1, NULL);
CREATE TABLE spans (id int PRIMARY KEY, a int, b int, total int GENERATED ALWAYS AS (a + b) STORED);
"""

Typer = Callable[[str], TypedQuery]


@pytest.fixture(scope="module")
def db(databases: Databases) -> Iterator[DbConnection]:
    conn = connect(databases.create())
    apply_schema(conn, [SourceText("schema.sql", SCHEMA)])
    yield conn
    _catalogs.pop(id(conn), None)
    conn.close()


_catalogs: dict[int, Catalog] = {}


def typed(conn: DbConnection, sql: str) -> TypedQuery:
    [query], problems = parse_queries(SourceText("q.sql", f"-- name: Q :many\n{sql}"))
    assert problems == []
    catalog = _catalogs.get(id(conn))
    if catalog is None:
        catalog = _catalogs[id(conn)] = load_catalog(conn)  # the schema does not change after the fixture
    [result], errors = type_queries(conn, catalog, [query])
    assert errors == []
    return result


def run_and_check(conn: DbConnection, sql: str, args: Sequence[str | None] = ()) -> TypedQuery:
    """Type `sql`, run it (rolled back) and fail if a column typed non-null came back NULL."""
    result = typed(conn, sql)
    pgconn = conn.pgconn
    pgconn.exec_(b"BEGIN")
    try:
        prepared = pgconn.prepare(b"", result.described.query.sql.encode())
        assert prepared.status == pq.ExecStatus.COMMAND_OK, prepared.error_message.decode()
        rows = pgconn.exec_prepared(b"", [a.encode() if a is not None else None for a in args])
        assert rows.status in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK), rows.error_message.decode()
        for row in range(rows.ntuples):
            for index, column in enumerate(result.columns):
                if rows.get_value(row, index) is None:
                    assert column.nullable, f"{column.name} is typed non-null ({column.reason}) and came back NULL"
    finally:
        pgconn.exec_(b"ROLLBACK")
    return result


def nullable(result: TypedQuery) -> dict[str, bool]:
    return {c.name: c.nullable for c in result.columns}


def test_update_returning_new_values_ignore_the_where_clauses_proof(db: DbConnection) -> None:
    sql = "UPDATE users SET name = NULL WHERE name = @old RETURNING old.name AS was, new.name AS now"
    assert nullable(run_and_check(db, sql, ["ann"])) == {"was": False, "now": True}
    result = run_and_check(db, "UPDATE users SET name = $1 WHERE name = $2 RETURNING *", [None, "ann"])
    assert nullable(result) == {"id": False, "name": True, "email": False}
    # A column the SET leaves alone keeps its old, proven value; one set to a non-null value is non-null.
    result = run_and_check(db, "UPDATE users SET email = 'y' WHERE name = $1 RETURNING name, email", ["ann"])
    assert nullable(result) == {"name": False, "email": False}
    result = run_and_check(db, "UPDATE users SET name = 'z' WHERE name IS NOT NULL RETURNING name")
    assert nullable(result) == {"name": False}


def test_a_before_trigger_may_change_every_new_value(db: DbConnection) -> None:
    result = run_and_check(db, "UPDATE guarded SET id = id WHERE note IS NOT NULL RETURNING note, old.note AS was")
    assert nullable(result) == {"note": True, "was": False}
    assert "trigger" in result.columns[0].reason


def test_upsert_and_merge_returning_new_values(db: DbConnection) -> None:
    sql = (
        "INSERT INTO users (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = NULL"
        " WHERE users.name IS NOT NULL RETURNING name"
    )
    assert nullable(run_and_check(db, sql)) == {"name": True}
    sql = (
        "MERGE INTO users u USING (VALUES (1)) AS s(id) ON u.id = s.id AND u.name IS NOT NULL"
        " WHEN MATCHED THEN UPDATE SET name = NULL RETURNING u.name, old.name AS was"
    )
    assert nullable(run_and_check(db, sql)) == {"name": True, "was": True}


def test_column_names_ending_in_a_suffix_are_not_overrides(db: DbConnection) -> None:
    result = run_and_check(db, "SELECT * FROM t WHERE id = $1", ["1"])
    assert [(c.name, c.nullable) for c in result.columns] == [("id", False), ("done!", True), ("label?", False)]
    result = run_and_check(db, "SELECT * FROM tv")
    assert [(c.name, c.nullable) for c in result.columns] == [("id", False), ("done!", True), ("label?", False)]
    result = run_and_check(db, 'WITH c AS (SELECT "done!" FROM t) SELECT * FROM c')
    assert [(c.name, c.nullable) for c in result.columns] == [("done!", True)]
    result = typed(db, 'SELECT "done!", "label?" AS "plain?", "done!" AS "forced!" FROM t')  # the user's word
    assert [(c.name, c.nullable) for c in result.columns] == [("done!", True), ("plain", True), ("forced", False)]


def test_a_parameter_reaching_a_nullable_column_through_an_expression_is_nullable(db: DbConnection) -> None:
    result = typed(db, "UPDATE users SET name = CASE WHEN @flag::boolean THEN @new_name ELSE name END WHERE id = 1")
    assert [(p.name, p.nullable) for p in result.params] == [("flag", False), ("new_name", True)]
    select = "SELECT CASE WHEN @flag::boolean THEN @new_name ELSE name END FROM users"
    result = typed(db, f"INSERT INTO users (name) {select}")
    assert [(p.name, p.nullable) for p in result.params] == [("flag", False), ("new_name", True)]
    result = typed(db, "INSERT INTO users (name, email) VALUES (lower(@a), upper(@b))")
    assert [(p.name, p.nullable) for p in result.params] == [("a", True), ("b", False)]


def test_not_null_domains_do_not_guarantee_a_value(db: DbConnection) -> None:
    # PostgreSQL checks a NOT NULL domain only where a value is coerced to it: a NULL stored
    # through a scalar subquery or an outer join passes, so a domain column is not proof.
    db.execute("INSERT INTO labelled VALUES (1, (SELECT tag FROM labelled WHERE false))")
    db.execute("INSERT INTO labelled SELECT 2, l.tag FROM tags t LEFT JOIN labelled l ON false")
    result = run_and_check(db, "SELECT tag FROM labelled")
    assert nullable(result) == {"tag": True}
    # A value cast to the domain is checked: the cast fails rather than give NULL.
    result = run_and_check(db, "SELECT name::label AS l FROM tags WHERE name IS NOT NULL")
    assert nullable(result) == {"l": False}
    # A parameter of the domain's type is checked too: NULL is no meaningful argument for the column.
    result = typed(db, "INSERT INTO labelled VALUES (3, $1)")
    assert [p.nullable for p in result.params] == [False]


# Text PostgreSQL's lexer passes over: where its characters are multi-byte, the server's
# byte offsets and sqlgen's character offsets part.
_WIDE = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="'*/\\$"), max_size=8)


T = TypeVar("T")


def on_the_server(max_examples: int) -> Callable[[T], T]:
    """Hypothesis settings for classes checked on the module's database: repeatable, no deadline."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


@given(before=_WIDE, between=_WIDE, literal=_WIDE)
@on_the_server(max_examples=30)
def test_locations_count_characters_whatever_comes_before(
    db: DbConnection, before: str, between: str, literal: str
) -> None:
    quoted = literal.replace("'", "''")
    sql = (
        f"SELECT /* {before} */ '{quoted}' AS s, sqlc.embed(u), /* {between} */ sqlc.embed(g), *"
        f" FROM users u LEFT JOIN guarded g ON g.id = u.id AND g.note = $2 WHERE u.name = $1"
    )
    result = typed(db, sql)
    assert [(e.name, e.first, e.count, e.nullable) for e in result.embeds] == [("u", 1, 3, False), ("g", 4, 2, True)]
    assert [p.name for p in result.params] == ["name", "note"]
    assert len(result.columns) == 1 + 3 + 2 + 3 + 2


def test_builtin_function_lists_match_the_catalogs_signatures(db: DbConnection) -> None:
    # `substring(x from 2)` is `"substring"(text,integer)` in regprocedure's spelling; it is never NULL.
    result = run_and_check(
        db, "SELECT substring(email from 2) AS a, substr(email, 2) AS b, substring(email, 'x') AS c FROM users"
    )
    assert nullable(result) == {"a": False, "b": False, "c": True}
    # A multirange constructor is strict: NULL for a NULL array of ranges.
    result = run_and_check(db, "SELECT int4multirange(VARIADIC NULL::int4range[]) AS m, int4range(NULL, NULL) AS r")
    assert nullable(result) == {"m": True, "r": False}


FUNCTIONS = """
CREATE FUNCTION plus(a int, b int) RETURNS int LANGUAGE sql STRICT AS 'SELECT a + b';
CREATE FUNCTION plus_atomic(a int, b int) RETURNS int LANGUAGE sql STRICT RETURN a + b;
CREATE FUNCTION maybe(a int) RETURNS int LANGUAGE sql AS 'SELECT a FROM users WHERE id = a';
CREATE FUNCTION lenient(a int, b int DEFAULT NULL) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT coalesce(a, 0) + b; END;
CREATE FUNCTION loud(a int) RETURNS int LANGUAGE plpgsql STRICT AS $$BEGIN RETURN a; END$$;
"""


@pytest.fixture(scope="module")
def fdb(databases: Databases) -> Iterator[DbConnection]:
    conn = connect(databases.create())
    apply_schema(conn, [SourceText("schema.sql", SCHEMA + FUNCTIONS)])
    yield conn
    conn.close()


def test_sql_functions_are_read_from_their_bodies(fdb: DbConnection) -> None:
    result = run_and_check(
        fdb,
        "SELECT plus(1, 2) AS p, plus(id, NULL) AS q, plus_atomic(id, 2) AS r, maybe(id) AS m,"
        " lenient(NULL, 1) AS l, lenient(1) AS d, loud(1) AS x, make_interval(days => 1) AS i,"
        " plus(b => 1, a => id) AS n FROM users",
    )
    assert nullable(result) == {
        "p": False,
        "q": True,
        "r": False,
        "m": True,
        "l": False,
        "d": True,
        "x": True,
        "i": False,
        "n": False,
    }
    reasons = {c.name: c.reason for c in result.columns}
    assert "plpgsql" in reasons["x"] and "STRICT" in reasons["q"] and "no row" in reasons["m"]
    # The copies made to read string bodies are gone with their transaction.
    assert fdb.execute("SELECT count(*) FROM pg_proc WHERE proname = 'sqlgen_body'").fetchone() == (0,)


def test_functions_declared_non_null_in_the_config(project: Project) -> None:
    project.write(
        "schema.sql",
        """
        CREATE FUNCTION loud(a int) RETURNS int LANGUAGE plpgsql STRICT AS $$BEGIN RETURN a; END$$;
        CREATE TABLE n (id int PRIMARY KEY, v int);
        """,
    )
    project.write("queries.sql", "-- name: Loud :many\nSELECT loud(id) AS a, loud(v) AS b FROM n;\n")
    project.write("pyproject.toml", '[tool.sqlgen]\nnon_null_functions = ["loud"]\n')
    output = project.generate()
    assert "a: int\n" in output["queries.py"] and "b: int | None\n" in output["queries.py"]
    project.write("pyproject.toml", '[tool.sqlgen]\nnon_null_functions = ["public.loud", "quiet"]\n')
    [error] = project.errors()
    assert "non_null_functions names 'quiet'" in error
    project.write("pyproject.toml", "[tool.sqlgen]\nnon_null_functions = 3\n")
    with pytest.raises(UserError, match="must be a list of function names"):
        project.config()


def test_the_outer_where_clause_proves_what_feeds_a_subquery_view_or_cte_column(db: DbConnection) -> None:
    sql = "SELECT s.y FROM (SELECT u.name, u.name || '!' AS y FROM users u) s WHERE s.name IS NOT NULL"
    assert nullable(run_and_check(db, sql)) == {"y": False}
    assert nullable(run_and_check(db, "SELECT shout FROM named WHERE name = $1", ["ann"])) == {"shout": False}
    sql = "WITH c AS (SELECT name, lower(name) AS l FROM users) SELECT l FROM c WHERE c.name LIKE 'a%'"
    assert nullable(run_and_check(db, sql)) == {"l": False}
    # A proven non-null boolean says nothing of both its operands: false AND NULL is false.
    db.execute("INSERT INTO users (id, name) VALUES (90, NULL)")
    try:
        sql = (
            "SELECT s.name FROM (SELECT u.name, (u.id < 0 AND u.name = 'x') AS c FROM users u) s WHERE s.c IS NOT NULL"
        )
        assert nullable(run_and_check(db, sql)) == {"name": True}
    finally:
        db.execute("DELETE FROM users WHERE id = 90")


def test_in_subquery_is_null_where_a_compared_value_may_be(db: DbConnection) -> None:
    sql = (
        "SELECT 'zzz' IN (SELECT name FROM tags) AS a, 'zzz' NOT IN (SELECT email FROM users) AS b,"
        " id = ANY (SELECT id FROM users WHERE false) AS c, name IN (SELECT email FROM users) AS d,"
        " 1 > ALL (SELECT id FROM tags) AS e FROM users"
    )
    assert nullable(run_and_check(db, sql)) == {"a": True, "b": False, "c": False, "d": True, "e": False}


def test_a_sequences_columns_are_never_null(db: DbConnection) -> None:
    db.execute("CREATE SEQUENCE IF NOT EXISTS ticket")
    result = run_and_check(db, "SELECT last_value, is_called, log_cnt FROM ticket")
    assert nullable(result) == {"last_value": False, "is_called": False, "log_cnt": False}


def test_having_that_fails_on_an_empty_group_makes_aggregates_non_null(db: DbConnection) -> None:
    base = "SELECT max(id) AS m, min(name) AS n FROM users WHERE id < $1 HAVING "
    for having, m in [
        ("count(*) > 0", False),
        ("0 < count(*)", False),
        ("count(*) >= 1", False),
        ("max(id) > 0", False),
        ("count(*) >= 0", True),
        ("count(*) < 5", True),
        ("true", True),
    ]:
        result = run_and_check(db, base + having, ["0"])
        assert nullable(result) == {"m": m, "n": True}, having  # min(name) may be NULL: name may be


_NUMERIC_LITERALS = st.decimals(allow_nan=False, allow_infinity=False).map(str) | st.sampled_from(
    ["'NaN'::numeric", "'Infinity'::numeric", "'-Infinity'::numeric", "0", "8.41", "1e-30"]
)


@given(literal=_NUMERIC_LITERALS)
@on_the_server(max_examples=40)
def test_scale_of_a_numeric_literal(db: DbConnection, literal: str) -> None:
    run_and_check(db, f"SELECT scale({literal}::numeric) AS s, min_scale({literal}) AS m, scale({literal}) AS t")
    assert nullable(typed(db, "SELECT scale(8.41) AS s, scale('NaN'::numeric) AS n")) == {"s": False, "n": True}


_SET_VALUES = st.sampled_from(["NULL", "$1", "'z'", "lower($1)", "CASE WHEN $1 IS NULL THEN name END", "name", "email"])
_WHERE = st.sampled_from(["name = $2", "name IS NOT NULL", "name LIKE 'a%'", "email = 'x' AND name > ''", "true"])
_RETURNING = st.sampled_from(["name", "new.name", "old.name AS was", "*", "upper(name) AS u", "name || email AS ne"])


@given(value=_SET_VALUES, where=_WHERE, returning=_RETURNING, argument=st.sampled_from([None, "q"]))
@on_the_server(max_examples=40)
def test_update_returning_whatever_the_set_and_where(
    db: DbConnection, value: str, where: str, returning: str, argument: str | None
) -> None:
    """The class of the first case: any SET, WHERE and RETURNING; no NULL where a column is typed non-null."""
    uses_two = "$2" in where
    sql = f"UPDATE users SET name = {value} WHERE {where.replace('$2', '$2::text')} RETURNING {returning}"
    if "$1" not in value:
        sql = sql.replace("$2", "$1")
        args = ["ann"] if uses_two else []
    else:
        sql = sql.replace("$1", "$1::text")
        args = [argument, "ann"] if uses_two else [argument]
    run_and_check(db, sql, args)


def test_set_returning_functions_in_from(db: DbConnection) -> None:
    sql = "SELECT * FROM ROWS FROM (generate_series(1, 2), generate_series(1, 5)) AS g(a, b)"
    assert nullable(run_and_check(db, sql)) == {"a": True, "b": True}
    assert nullable(run_and_check(db, "SELECT * FROM generate_series(1, 2) AS g(a)")) == {"a": False}
    sql = """SELECT e.key, e.value FROM jsonb_each_text('{"a": null, "b": "1"}') AS e"""
    assert nullable(run_and_check(db, sql)) == {"key": False, "value": True}
    sql = """SELECT k FROM json_object_keys('{"x": 1}') AS k"""
    assert nullable(run_and_check(db, sql)) == {"k": False}


def test_a_generated_column_is_read_from_the_row_the_statement_wrote(db: DbConnection) -> None:
    sql = "INSERT INTO spans (id, a, b) VALUES (1, 2, 3) RETURNING total, old.total AS was"
    assert nullable(run_and_check(db, sql)) == {"total": False, "was": True}
    sql = "INSERT INTO spans (id, a, b) VALUES (1, 2, $1) RETURNING total"  # $1 may be NULL: b may be
    assert nullable(run_and_check(db, sql, [None])) == {"total": True}
    sql = "UPDATE spans SET a = 1, b = 2 WHERE id = 1 RETURNING total, old.total AS was"
    assert nullable(run_and_check(db, sql)) == {"total": False, "was": True}
    sql = "UPDATE spans SET a = 1 WHERE id = 1 RETURNING total"  # b keeps its old, possibly NULL, value
    assert nullable(run_and_check(db, sql)) == {"total": True}


_PASSING_NULL = st.sampled_from(
    [
        "lower({})",
        "CASE WHEN @flag::boolean THEN {} ELSE name END",
        "CASE WHEN @flag::boolean THEN 'a' ELSE {} END",
        "{} || 'x'",
        "NULLIF({}, '')",
        "({})::varchar",
        "COALESCE({}, name)",
        "btrim({})",
    ]
)


@given(shapes=st.lists(_PASSING_NULL, min_size=1, max_size=3), insert=st.booleans())
@on_the_server(max_examples=30)
def test_a_parameter_whose_null_reaches_a_nullable_column_is_nullable(
    db: DbConnection, shapes: list[str], insert: bool
) -> None:
    """The class: any nesting of expressions a NULL passes through, in UPDATE … SET and INSERT … SELECT."""
    expression = "@new_name::text"
    for shape in shapes:
        expression = shape.format(expression)
    sql = (
        f"INSERT INTO users (name) SELECT {expression} FROM users"
        if insert
        else f"UPDATE users SET name = {expression} WHERE id = 1"
    )
    result = typed(db, sql)
    assert {p.name: p.nullable for p in result.params}["new_name"], sql
