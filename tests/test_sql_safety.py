"""SQL injection is impossible by construction: generated SQL is constant, and values travel as parameters.

Checked on the syntax tree of every generated module, of the example package and of a
project whose names and values are built to look like SQL: every statement asyncpg is
given is a module-level string constant (or a literal), never an expression, and no
string in generated code is assembled from anything a caller passes.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest
from conftest import ROOT, Project

# asyncpg methods whose first argument is SQL text.
SQL_METHODS = {"execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany", "cursor", "prepare"}
SQL_METHODS_WITH_QUERY_KEYWORD = {"copy_from_query"}
TABLE_METHODS = {"copy_records_to_table", "copy_to_table", "copy_from_table"}


def sql_violations(source: str) -> list[str]:
    """Every place in one generated module where SQL, a table or a column list is not a constant."""
    tree = ast.parse(source)
    constants = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    reassigned = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id in constants
    }
    constant_sql = constants - {name for name in reassigned if _assignments(tree, name) > 1}

    def constant(expression: ast.expr) -> bool:
        if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
            return True
        if isinstance(expression, ast.Tuple):
            return all(constant(item) for item in expression.elts)
        return isinstance(expression, ast.Name) and expression.id in constant_sql

    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, where = node.func.attr, f"line {node.lineno}"
        if method in SQL_METHODS and not (node.args and constant(node.args[0])):
            problems.append(f"{where}: {method} is given SQL that is not a constant")
        if method in SQL_METHODS_WITH_QUERY_KEYWORD and not (node.args and constant(node.args[0])):
            problems.append(f"{where}: {method} is given SQL that is not a constant")
        if method in TABLE_METHODS:
            names = [*node.args[:1], *(k.value for k in node.keywords if k.arg in ("schema_name", "columns"))]
            problems += [
                f"{where}: {method} names a table or columns with an expression" for n in names if not constant(n)
            ]
        for argument in [*node.args, *(k.value for k in node.keywords)]:
            if method in SQL_METHODS | SQL_METHODS_WITH_QUERY_KEYWORD | TABLE_METHODS and _assembled(argument):
                problems.append(f"{where}: {method} is given a string assembled at run time")
    return problems


def _assignments(tree: ast.Module, name: str) -> int:
    return sum(
        1
        for node in ast.walk(tree)
        for target in getattr(node, "targets", [])
        if isinstance(target, ast.Name) and target.id == name
    )


def _assembled(expression: ast.expr) -> bool:
    """An f-string, `+` or `%` of strings, or `.format`/`.join`: text built from values."""
    for node in ast.walk(expression):
        if isinstance(node, ast.JoinedStr):
            return True
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            if any(isinstance(side, ast.Constant) and isinstance(side.value, str) for side in (node.left, node.right)):
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
            return True
    return False


def test_the_checker_catches_sql_built_from_values() -> None:
    assert sql_violations('GET = "SELECT 1"\nasync def f(conn):\n    await conn.fetch(GET)\n') == []
    assert sql_violations("async def f(conn, table):\n    await conn.fetch(f'SELECT * FROM {table}')\n") == [
        "line 2: fetch is given SQL that is not a constant",
        "line 2: fetch is given a string assembled at run time",
    ]
    assert sql_violations('async def f(conn, t):\n    await conn.execute("DELETE FROM " + t)\n')
    assert sql_violations('Q = "SELECT 1"\nQ = "x"\nasync def f(conn):\n    await conn.fetch(Q)\n')  # reassigned
    assert sql_violations("async def f(conn, q):\n    await conn.cursor(q)\n")
    assert sql_violations("async def f(conn, t):\n    await conn.copy_records_to_table(t, records=[])\n")


@pytest.mark.parametrize("module", sorted((ROOT / "generated").glob("*.py")), ids=lambda p: p.name)
def test_the_example_package_runs_only_constant_sql(module: Path) -> None:
    assert sql_violations(module.read_text(encoding="utf-8")) == []


HOSTILE_SCHEMA = """
CREATE TABLE "Robert'); DROP TABLE students;--" (
    id int PRIMARY KEY,
    "select * from x; --" text,
    "{name}" text,
    "%s" text
);
"""
HOSTILE_QUERIES = """
-- name: GetIt :one
SELECT * FROM "Robert'); DROP TABLE students;--" WHERE id = @id;

-- name: Search :many
SELECT "{name}", "%s" FROM "Robert'); DROP TABLE students;--"
WHERE "select * from x; --" = @query OR "{name}" = @value;

-- name: Load :copyfrom
INSERT INTO "Robert'); DROP TABLE students;--" (id, "select * from x; --", "{name}", "%s")
VALUES (@id, @a, @b, @c);

-- name: Stream :iter
SELECT id FROM "Robert'); DROP TABLE students;--" WHERE "%s" <> @s;

-- name: Many :batchmany
SELECT id FROM "Robert'); DROP TABLE students;--" WHERE id = @id;
"""


def test_names_that_look_like_sql_stay_inside_constants(project: Project) -> None:
    project.write("schema.sql", HOSTILE_SCHEMA)
    project.write("queries.sql", HOSTILE_QUERIES)
    output = project.generate()
    for name, text in output.items():
        assert sql_violations(text) == [], name
        compile(text, name, "exec")
    queries = output["queries.py"]
    assert "records=rows" in queries  # the rows themselves go to COPY as data, never as text
    # The hostile names appear in generated code only inside string literals (SQL constants,
    # the COPY target, docstrings), never as code.
    tokens = list(tokenize.generate_tokens(io.StringIO(queries).readline))
    hostile = [t for t in tokens if "DROP TABLE" in t.string or "select * from x" in t.string]
    assert hostile and all(t.type == tokenize.STRING for t in hostile)
