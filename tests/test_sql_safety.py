"""SQL injection is impossible by construction: generated SQL is constant, and values travel as parameters.

Checked on the syntax tree of every generated module, of the example package and of a
project whose names and values are built to look like SQL: every statement asyncpg is
given is a module-level string constant (or a literal; for a `-- @dynamic` or `sqlgen.sort`
query, one picked from a module-level table of them, or put together from module-level
literal fragments by the builder sqlgen writes), never an expression, and no
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

    chosen = _chosen_statements(tree, constant_sql)

    def constant(expression: ast.expr) -> bool:
        if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
            return True
        if isinstance(expression, ast.Tuple):
            return all(constant(item) for item in expression.elts)
        return isinstance(expression, ast.Name) and (expression.id in constant_sql or expression.id in chosen)

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


def _chosen_statements(tree: ast.Module, constant_sql: set[str]) -> set[str]:
    """Locals holding a statement a dynamic query chose (sqlgen.render_dynamic): unpacked, once, from a
    module-level table whose every row starts with a constant, or from the builder of variants given only
    module-level literals (fragments and sort texts); the builder must be the one sqlgen writes."""
    from sqlgen.render_dynamic import _HELPER

    def literal_display(node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return node.value is None or isinstance(node.value, (str, int))
        return isinstance(node, ast.Tuple) and all(literal_display(item) for item in node.elts)

    module_values: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            module_values[node.target.id] = node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            module_values[node.targets[0].id] = node.value
    tables = {
        name
        for name, value in module_values.items()
        if isinstance(value, ast.Tuple)
        and value.elts
        and all(
            isinstance(row, ast.Tuple) and isinstance(row.elts[0], ast.Name) and row.elts[0].id in constant_sql
            for row in value.elts
        )
    }
    literals = {name for name, value in module_values.items() if literal_display(value)}
    helper = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_dynamic_statement"), None)
    [expected] = [n for n in ast.parse(_HELPER).body if isinstance(n, ast.FunctionDef)]
    trusted_helper = helper is not None and ast.dump(helper) == ast.dump(expected)

    def built_from_literals(node: ast.expr) -> bool:
        return (
            trusted_helper
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "_dynamic_statement"
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in literals
            and isinstance(node.args[2], ast.Subscript)
            and isinstance(node.args[2].value, ast.Name)
            and node.args[2].value.id in literals
        )

    chosen: set[str] = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.AsyncFunctionDef):
            continue
        stores: dict[str, list[ast.expr]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    names = target.elts[:1] if isinstance(target, ast.Tuple) else [target]
                    for name in names:
                        if isinstance(name, ast.Name):
                            stores.setdefault(name.id, []).append(node.value)
        for name, values in stores.items():
            if len(values) != 1 or not isinstance(values[0], (ast.Subscript, ast.Name)):
                continue
            value = values[0]
            if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and value.value.id in tables:
                chosen.add(name)
            elif isinstance(value, ast.Name):  # `sql, used = built`: built from the cache of built ones, or built
                sources = stores.get(value.id, [])
                cache_reads = [
                    v
                    for v in sources
                    if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "get"
                ]
                builds = [v for v in sources if built_from_literals(v)]
                if sources and len(cache_reads) + len(builds) == len(sources) and builds:
                    chosen.add(name)
    return chosen


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


def test_dynamic_queries_choose_among_constants_and_the_checker_sees_through_them(project: Project) -> None:
    from test_dynamic import FIVE, SCHEMA, SEARCH

    project.write("schema.sql", SCHEMA)
    for queries, shape in ((SEARCH, "_SEARCH_BOOKS_VARIANTS"), (FIVE, "_SEARCH_BOOKS_TEMPLATE")):
        project.write("queries.sql", queries)
        text = project.generate()["queries.py"]
        assert shape in text
        assert sql_violations(text) == []
        # what the checker would refuse: a builder sqlgen did not write, a statement built from a value
        tampered = text.replace("numbers = {n: i + 1", "numbers = {n: i + 2") if "TEMPLATE" in shape else None
        if tampered is not None:
            assert sql_violations(tampered) == [
                f"line {_line(tampered, 'rows = await conn.fetch')}: fetch is given SQL that is not a constant"
            ]
        injected = text.replace("sql, used = ", "sql, used = (order, ()) if order else ", 1)
        assert sql_violations(injected)


def _line(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if fragment in line)
