"""Outside text never becomes code: hostile names, labels, comments, file names and SQL text.

Every piece of text from the schema, the query files and the configuration reaches generated
code through `sqlgen.escape`. These tests generate from hostile text on the real server and
check that each module parses, holds only the shapes generated code is made of, passes
`mypy --strict`, and gives the text back exactly at run time.
"""

from __future__ import annotations

import ast
import asyncio
import enum
import importlib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import Databases, Project, dsn_url, generate_fresh, write_files
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from sqlgen.config import Overrides, load_config
from sqlgen.escape import docstring, inline, literal, text_literal
from sqlgen.layout import canonical
from sqlgen.output import write_output

# Every str, lone surrogates included (a file name that is not UTF-8 decodes to them).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()))
FRAGMENTS = [
    '"', '"""', "'", "'''", "\\", "\\N{", "\n", "\r", "\t", "\u2028", "\u2029", "\x85", "\x0c", "\x1b", "\u202e",
    " ", ";", "#", "(", ")", "{}", "%s", "日本", "é", "class", "None", "def", "import", "__import__('os')",
    "x", "id", "uuid", "int", "model_config",
]  # fmt: skip
HOSTILE = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=3).map("".join)


def evaluate(source: str) -> object:
    return ast.literal_eval(source)


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
def test_every_literal_evaluates_to_its_text_and_stays_one_token(text: str) -> None:
    for make in (literal, text_literal):
        source = make(text)
        assert evaluate(source) == text
        assert evaluate(canonical(f"X = {source}\n").removeprefix("X = ")) == text  # layout keeps it
        source.encode("utf-8")  # no lone surrogate or other unwritable character reaches the file
        assert all(c in "\n\t" or c.isprintable() for c in source)
    assert "\n" not in literal(text)
    shown = inline(text)
    assert shown.isprintable() and "\n" not in shown
    doc = docstring(text, indent=4)
    value = evaluate(doc)
    assert isinstance(value, str)
    assert inspect.cleandoc(value) == inspect.cleandoc("\n".join(line.rstrip() for line in text.split("\n")))


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(["a", " ", "\n", "\t", '"', "'", "\\", "\r", "\u2028", "\x00", "é"])))
def test_sql_text_survives_rendering_byte_for_byte(sql: str) -> None:
    """Trailing spaces, runs of blank lines, quotes at the end, backslashes: the constant is the text."""
    module = canonical(f'"""Doc."""\n\nSQL = {text_literal(sql)}\n\n\n\n\nOTHER = 1   \n')
    namespace: dict[str, Any] = {}
    exec(compile(module, "m.py", "exec"), namespace)
    assert namespace["SQL"] == sql


def test_readable_forms() -> None:
    assert text_literal("SELECT 1\nFROM t") == '"""SELECT 1\nFROM t"""'
    assert text_literal('SELECT "x"') == '"""SELECT "x\\""""'
    assert text_literal("SELECT E'\\n'") == '"""SELECT E\'\\\\n\'"""'
    assert literal("a\u2028b") == '"a\\u2028b"'


# -- generated code's shapes ------------------------------------------------------------------

_MODULE_CALLS = {"TypeVar", "TypeAdapter"}
_CLASS_BASES = {"BaseModel", "StrEnum", "NamedTuple", "Generic[T]"}
_FORBIDDEN_NAMES = {"__import__", "eval", "exec", "compile", "open", "os", "system", "getattr", "globals", "breakpoint"}


def assert_generated_shapes(path: Path) -> list[str]:
    """Walk `path`'s syntax tree against an allow-list of what generated modules are made of.

    Returns every string constant, for checking that the outside text is there as data.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for index, statement in enumerate(tree.body):
        where = f"{path.name}:{statement.lineno}"
        if isinstance(statement, ast.Expr):
            assert index == 0 and _is_str(statement.value), where  # the module docstring only
        elif isinstance(statement, ast.Import | ast.ImportFrom):
            pass
        elif isinstance(statement, ast.Assign):
            assert len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name), where
            value = statement.value
            if isinstance(value, ast.Call):
                assert isinstance(value.func, ast.Name) and value.func.id in _MODULE_CALLS, where
            else:
                assert _is_str(value), where  # a SQL or channel constant
        elif isinstance(statement, ast.ClassDef):
            assert {ast.unparse(b) for b in statement.bases} <= _CLASS_BASES, where
            _check_class(statement, where)
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            assert not statement.decorator_list, where
            first = statement.body[0]
            if isinstance(first, ast.Expr):
                assert _is_str(first.value), where
        else:
            raise AssertionError(f"{where}: unexpected {type(statement).__name__} at module level")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            assert node.id not in _FORBIDDEN_NAMES, f"{path.name}:{node.lineno}: {node.id}"
        if isinstance(node, ast.Attribute):
            assert node.attr not in _FORBIDDEN_NAMES, f"{path.name}:{node.lineno}: {node.attr}"
        assert not isinstance(node, ast.Lambda | ast.Global | ast.Nonlocal), f"{path.name}: {ast.dump(node)}"
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _check_class(node: ast.ClassDef, where: str) -> None:
    for index, statement in enumerate(node.body):
        if isinstance(statement, ast.Expr):
            assert index == 0 and _is_str(statement.value), where
        elif isinstance(statement, ast.AnnAssign):
            assert statement.value is None and isinstance(statement.target, ast.Name), where
            assert not any(isinstance(n, ast.Call) for n in ast.walk(statement.annotation)), where
        elif isinstance(statement, ast.Assign):
            target = statement.targets[0]
            assert isinstance(target, ast.Name), where
            if target.id == "model_config":
                call = statement.value
                assert isinstance(call, ast.Call) and ast.unparse(call.func) == "ConfigDict", where
                assert all(isinstance(k.value, ast.Constant) for k in call.keywords) and not call.args, where
            else:
                assert _is_str(statement.value), where  # an enum member
        elif not (node.name == "Listener" and isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)):
            raise AssertionError(f"{where}: unexpected {type(statement).__name__} in class {node.name}")


def _is_str(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def mypy_strict(root: Path, package: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.11", "--cache-dir", str(cache), package],
        cwd=root,
        capture_output=True,
        text=True,
    )


def quote_ident(name: str) -> str:
    """A quoted identifier that spells every unprintable character as an escape (U&"…")."""
    return 'U&"' + _unicode_escapes(name).replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "U&'" + _unicode_escapes(text).replace("'", "''") + "'"


def _unicode_escapes(text: str) -> str:
    """PostgreSQL's U& spelling: the files hold no raw line break of the text (the reader normalises them)."""
    return "".join("\\\\" if c == "\\" else c if c.isprintable() else f"\\+{ord(c):06x}" for c in text)


def import_package(root: Path, name: str) -> ModuleType:
    sys.path.insert(0, str(root))
    try:
        package = importlib.import_module(name)
        for path in sorted((root / name).glob("*.py")):
            importlib.import_module(f"{name}.{path.stem}")
        return package
    finally:
        sys.path.remove(str(root))


def keyword_names(function: Any) -> list[str]:
    return [p.name for p in inspect.signature(function).parameters.values() if p.kind is p.KEYWORD_ONLY]


# -- a hostile project on the real server -------------------------------------------------------

_counter = iter(range(1_000_000))


@settings(
    max_examples=3,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # each example is a whole project: no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@example(names=['x"""', "'''", "u\u2028", "\\n"], labels=['"', '"""', "\x85"], doc='"""', stem='"""')
@given(
    names=st.lists(HOSTILE, min_size=4, max_size=4, unique=True),
    labels=st.lists(HOSTILE, min_size=2, max_size=4, unique=True),
    doc=HOSTILE.filter(lambda d: "\n" not in d and "\r" not in d and "\x85" not in d and "@" not in d),
    stem=HOSTILE.filter(lambda s: "/" not in s and s.strip(".") == s),
)
def test_hostile_names_generate_code_that_parses_typechecks_and_runs(
    tmp_path: Path, databases: Databases, names: list[str], labels: list[str], doc: str, stem: str
) -> None:
    table, enum_type, composite, column = (prefix + name for prefix, name in zip("tecn", names, strict=True))
    view, channel = "v" + names[0], "k" + names[1]
    root = tmp_path / f"p{next(_counter)}"
    schema = (
        f"CREATE TYPE {quote_ident(enum_type)} AS ENUM ({', '.join(map(quote_literal, labels))});\n"
        f"CREATE TYPE {quote_ident(composite)} AS ({quote_ident(column)} text);\n"
        f"CREATE TABLE {quote_ident(table)} (id int PRIMARY KEY, {quote_ident(column)} text NOT NULL,"
        f" status {quote_ident(enum_type)} NOT NULL);\n"
        f"CREATE VIEW {quote_ident(view)} AS SELECT * FROM {quote_ident(table)};\n"
        "CREATE TABLE plain (id int PRIMARY KEY);\n"
    )
    queries = (
        f"-- name: AddRow :exec\n-- {doc}\nINSERT INTO {quote_ident(table)} VALUES ($1, $2, $3);\n\n"
        f"-- name: GetRow :one\nSELECT * FROM {quote_ident(table)} WHERE id = $1;\n\n"
        f"-- name: ViewRows :many\nSELECT * FROM {quote_ident(view)} ORDER BY id;\n\n"
        f"-- name: EchoComposite :one\nSELECT ROW($1::text)::{quote_ident(composite)} AS value;\n"
    )
    pyproject = f'[tool.sqlgen.channels]\n{json.dumps(channel)} = "plain"\n'
    write_files(root, {"schema.sql": schema, "pyproject.toml": pyproject})
    (root / "q").mkdir()
    (root / "q" / f"{stem}.sql").write_text(queries, encoding="utf-8")
    config = load_config(Overrides(schema=("schema.sql",), queries=("q",), out="gen"), cwd=root, environ={})
    output, url = generate_fresh(databases, config)
    write_output(root / "gen", output)

    constants: list[str] = []
    for path in sorted((root / "gen").glob("*.py")):
        if path.name != "__init__.py":
            constants += assert_generated_shapes(path)
        else:
            ast.parse(path.read_text(encoding="utf-8"))
    for text in (*labels, channel):
        assert text in constants
    assert any(c.strip() == doc.strip() for c in constants) or not doc.strip()

    result = mypy_strict(root, "gen", tmp_path / "mypy-cache")  # the cache is shared by the examples
    assert result.returncode == 0, result.stdout + result.stderr

    package = import_package(root, "gen")
    models = sys.modules["gen.models"]
    (module,) = [m for n, m in sys.modules.items() if n.startswith("gen.") and hasattr(m, "add_row")]
    (enum_class,) = [v for v in vars(models).values() if isinstance(v, enum.EnumMeta) and v.__module__ == "gen.models"]
    assert [m.value for m in enum_class] == labels
    channels = sys.modules["gen.channels"]
    assert [v for k, v in vars(channels).items() if k.endswith("_CHANNEL")] == [channel]
    assert f"query AddRow (q/{stem}.sql:1)" in constants  # the query's note names the file as it is

    async def run() -> None:
        conn = await package.connect(dsn_url(url))
        try:
            id_name, text_name, status_name = keyword_names(module.add_row)
            for number, label in enumerate(labels, start=1):
                await module.add_row(conn, **{id_name: number, text_name: column, status_name: enum_class(label)})
            (key,) = keyword_names(module.get_row)
            row = await module.get_row(conn, **{key: 2})
            assert list(row.model_dump().values()) == [2, column, labels[1]]
            rows = await module.view_rows(conn)
            assert [list(r.model_dump().values())[2] for r in rows] == labels
            (value_name,) = keyword_names(module.echo_composite)
            echoed = await module.echo_composite(conn, **{value_name: composite})
            assert list(echoed.model_dump().values()) == [composite]
            assert await conn.fetchval(f"SELECT count(*) FROM {quote_ident(table)}") == len(labels)
        finally:
            await conn.close()

    try:
        asyncio.run(run())
    finally:
        for name in [n for n in sys.modules if n == "gen" or n.startswith("gen.")]:
            del sys.modules[name]


# -- the reproductions of issue 15 ------------------------------------------------------------

CODE = '"""\n    __import__("os").system("touch PWNED")\n    """'


def generate_and_import(project: Project, queries: dict[str, str], pyproject: str = "") -> Path:
    """Generate `gen` from the project's schema.sql and the query files given, import every module in a fresh
    interpreter, and fail if anything ran."""
    root = project.root
    for name, text in queries.items():
        path = root / "q" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if pyproject:
        (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    project.write_package("gen", queries=("q",))
    modules = ["gen." + p.stem for p in sorted((root / "gen").glob("*.py"))]
    subprocess.run([sys.executable, "-c", f"import importlib; [importlib.import_module(m) for m in {modules!r}]"],
                   cwd=root, check=True)  # fmt: skip
    assert not (root / "PWNED").exists()
    for path in (root / "gen").glob("*.py"):
        if path.name != "__init__.py":
            assert_generated_shapes(path)
    return root / "gen"


ONE = {"queries.sql": "-- name: One :one\nSELECT 1 AS one;\n"}


@pytest.mark.parametrize(
    "schema",
    [
        f"CREATE TABLE {quote_ident('x' + CODE)} (id int PRIMARY KEY);",
        f"CREATE TYPE {quote_ident('x' + CODE)} AS ENUM ('a');",
        f"CREATE TYPE {quote_ident('x' + CODE)} AS (a int);",
        f"CREATE TYPE {quote_ident('m' + chr(34) * 3)} AS ENUM ('a');",
        "CREATE TYPE e AS ENUM ('a\u2028b', 'c\x85d', 'e\"\"\"');",
        f"CREATE TABLE t (id int PRIMARY KEY); CREATE VIEW {quote_ident('v' + CODE)} AS SELECT * FROM t;",
    ],
    ids=["table", "enum", "composite", "enum-triple-quote", "labels", "view"],
)
def test_names_from_the_schema_stay_data(project: Project, schema: str) -> None:
    project.write("schema.sql", schema + "\n")
    generate_and_import(project, ONE)


def test_a_channel_key_stays_data(project: Project) -> None:
    project.write("schema.sql", "CREATE TABLE t (id int PRIMARY KEY);\n")
    key = "c" + CODE
    gen = generate_and_import(project, ONE, f'[tool.sqlgen.channels]\n{json.dumps(key)} = "t"\n')
    constants = [
        node.value.value
        for node in ast.parse((gen / "channels.py").read_text()).body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
    ]
    assert key in constants  # one string literal, as ruff format spells it


@pytest.mark.parametrize("name", ["new\nline.sql", 'tri"""ple.sql', "back\\slash.sql", "line\u2028sep.sql"])
def test_query_file_names_stay_data(project: Project, name: str) -> None:
    project.write("schema.sql", "CREATE TABLE t (id int PRIMARY KEY);\n")
    gen = generate_and_import(project, {name: "-- name: One :one\nSELECT 1 AS one;\n"})
    (module,) = [p for p in gen.glob("*.py") if p.stem not in ("__init__", "models")]
    assert f"# source: {inline('q/' + name)}\n" in module.read_text()


def test_a_query_file_name_that_is_not_utf8(project: Project) -> None:
    project.write("schema.sql", "CREATE TABLE t (id int PRIMARY KEY);\n")
    (project.root / "q").mkdir()
    (project.root / "q" / os.fsdecode(b"caf\xe9.sql")).write_text("-- name: One :one\nSELECT 1 AS one;\n")
    gen = generate_and_import(project, {})
    assert "caf\\udce9.sql" in (gen / "caf.py").read_text()


def test_a_doc_comment_cannot_close_the_docstring(project: Project) -> None:
    project.write("schema.sql", "CREATE TABLE t (id int PRIMARY KEY);\n")
    doc = 'Ends here."""; __import__("os").system("touch PWNED"); """\\'
    gen = generate_and_import(project, {"queries.sql": f"-- name: One :one\n-- {doc}\nSELECT 1 AS one;\n"})
    package = import_package(gen.parent, "gen")
    try:
        assert inspect.getdoc(sys.modules["gen.queries"].one) == doc
    finally:
        for name in [n for n in sys.modules if n == "gen" or n.startswith("gen.")]:
            del sys.modules[name]
        del package


def test_a_module_renamed_for_a_field_is_renamed_in_code_only(project: Project) -> None:
    """Issue 18: `q/uuid.sql` with a column `uuid` kept its file name in the query's note."""
    project.write("schema.sql", "CREATE TABLE t (id int PRIMARY KEY, uuid uuid NOT NULL, n int NOT NULL);\n")
    gen = generate_and_import(project, {"uuid.sql": "-- name: GetThing :one\nSELECT uuid, n FROM t;\n"})
    text = (gen / "uuid.py").read_text()
    assert "import uuid as _uuid" in text and "uuid: _uuid.UUID" in text
    assert "query GetThing (q/uuid.sql:1)" in text
    assert "_uuid.sql" not in text


async def test_sql_text_is_sent_as_written(project: Project) -> None:
    """Issue 15 §5: trailing spaces and blank lines inside string literals reach PostgreSQL."""
    project.write("schema.sql", "CREATE TABLE t (id int PRIMARY KEY);\n")
    queries = (
        "-- name: Spaces :one\nSELECT 'a  \nb' AS v;\n\n"
        "-- name: Blank :one\nSELECT length('x\n\n\n\n\ny') AS n;\n\n"
        '-- name: Quote :one\nSELECT 1 AS "x""";\n\n'
        "-- name: Backslash :one\nSELECT E'\\\\' || '\\' AS v;\n"
    )
    project.write("queries.sql", queries)
    gen, url = project.package("gen_sql")
    queries_module = importlib.import_module("gen_sql.queries")
    conn = await gen.connect(url)
    try:
        assert await queries_module.spaces(conn) == "a  \nb"
        assert await queries_module.blank(conn) == 7
        assert await queries_module.quote(conn) == 1
        assert await queries_module.backslash(conn) == "\\\\"
    finally:
        await conn.close()
