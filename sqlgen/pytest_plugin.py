"""A pytest plugin giving your own tests a real PostgreSQL database holding your schema.

pytest loads it from sqlgen's `pytest11` entry point (`-p no:sqlgen` turns it off). Loading
it only adds options: no server starts and no database module is imported until a test
requests one of its fixtures.

- `sqlgen_database_url` (session): the URL of a throw-away database with the schema files
  applied, on an embedded server started once per session, or on the server at
  `DATABASE_URL`; the database is dropped when the session ends, and on a `DATABASE_URL`
  server so is what the schema created for the whole server (roles, databases; see
  `sqlgen.cluster_state`).
- `sqlgen_pool`: an asyncpg pool on that database, one per test; what it commits stays.
- `sqlgen_conn`: an asyncpg connection inside a transaction rolled back after the test.
- `sqlgen_fresh_database_url`: the URL of a database of the test's own (or the module's: the
  `sqlgen_fresh_database_scope` ini option), cloned from a template holding the schema and
  dropped afterwards; for an app that opens its own pool.

The schema files are `--sqlgen-schema`, else the `sqlgen_schema` ini option, else
`schema` under `[tool.sqlgen]`. With the `sqlgen_package` ini option, every connection
runs that generated package's `init_connection`. docs/testing.md has the details.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import secrets
import tomllib
import urllib.parse
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from asyncpg import Connection, Pool

    from sqlgen.errors import ToolError, UserError

InitConnection = Callable[["Connection[Any]"], Coroutine[Any, Any, None]]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sqlgen", "sqlgen: a PostgreSQL test database holding the schema")
    group.addoption(
        "--sqlgen-schema",
        action="append",
        metavar="PATH",
        help="a schema file, or a folder of *.sql files (repeatable); overrides sqlgen_schema and [tool.sqlgen]",
    )
    parser.addini(
        "sqlgen_schema",
        type="paths",
        help="schema files or folders, relative to the ini file; overrides schema under [tool.sqlgen]",
    )
    parser.addini(
        "sqlgen_fresh_database_scope",
        default="function",
        help="how long a sqlgen_fresh_database_url database lives: function (default), class, module, package, session",
    )
    parser.addini(
        "sqlgen_package",
        help="the generated package (e.g. app.db) whose init_connection every sqlgen connection runs",
    )


@pytest.fixture(scope="session")
def sqlgen_database_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """The URL of a throw-away database holding the project's schema, for the whole session."""
    from sqlgen.database import apply_schema, connect, server_url
    from sqlgen.errors import ToolError, UserError
    from sqlgen.migrations import read_schema

    with contextlib.ExitStack() as cleanup:
        try:
            schema = [read_schema(path) for path in _schema_files(pytestconfig)]
            live = os.environ.get("DATABASE_URL")
            server = cleanup.enter_context(server_url(live))
            if live:  # a server that outlives the session: roles the schema creates must not
                cleanup.enter_context(_cluster_left_as_found(server))
            url = cleanup.enter_context(_throwaway_database(server))
            with connect(url) as conn:
                apply_schema(conn, schema)
        except (UserError, ToolError) as err:
            raise _failure(err) from None  # the diagnostics, without a traceback
        yield url


FRESH_SCOPES = ("function", "class", "module", "package", "session")


def _fresh_scope(fixture_name: str, config: pytest.Config) -> Any:
    """The `sqlgen_fresh_database_scope` ini option (pytest calls this once per session)."""
    scope = str(config.getini("sqlgen_fresh_database_scope")).strip() or "function"
    if scope not in FRESH_SCOPES:
        known = ", ".join(FRESH_SCOPES)
        raise pytest.UsageError(f"sqlgen: sqlgen_fresh_database_scope = {scope!r} is not a pytest scope; use {known}")
    return scope


@pytest.fixture(scope="session")
def sqlgen_template_database(sqlgen_database_url: str, pytestconfig: pytest.Config) -> Iterator[str]:
    """The name of a database holding the schema that nobody connects to: what fresh databases are cloned from.

    (`CREATE DATABASE … TEMPLATE` needs a template without sessions, so it cannot be the session's database,
    which pools may be using.)"""
    from sqlgen.database import apply_schema, connect
    from sqlgen.errors import ToolError, UserError
    from sqlgen.migrations import read_schema

    with contextlib.ExitStack() as cleanup:
        try:
            schema = [read_schema(path) for path in _schema_files(pytestconfig)]
            url = cleanup.enter_context(_throwaway_database(sqlgen_database_url, "template"))
            with connect(url) as conn:
                apply_schema(conn, schema)
        except (UserError, ToolError) as err:
            raise _failure(err) from None
        yield _database_name(url)


@pytest.fixture(scope=_fresh_scope)
def sqlgen_fresh_database_url(sqlgen_database_url: str, sqlgen_template_database: str) -> Iterator[str]:
    """The URL of a new database holding the schema (a copy of the template), dropped afterwards.

    Give it to code that opens its own pool (a FastAPI lifespan): what it commits is gone for the next
    test (or module, with `sqlgen_fresh_database_scope = "module"`)."""
    from sqlgen.errors import ToolError

    try:
        with _throwaway_database(sqlgen_database_url, "fresh", template=sqlgen_template_database) as url:
            yield url
    except ToolError as err:
        raise _failure(err) from None


def _database_name(url: str) -> str:
    """
    >>> _database_name("postgresql://postgres:@/sqlgen_pytest_1?host=/tmp/pg")
    'sqlgen_pytest_1'
    """
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.lstrip("/"))


def _async_fixture(function: Callable[..., AsyncIterator[Any]]) -> object:
    """pytest-asyncio's fixture (for asyncio_mode strict and auto); without it, a fixture saying so."""
    try:
        import pytest_asyncio
    except ImportError:

        def needs_pytest_asyncio() -> None:
            pytest.fail(f"sqlgen: the fixture {function.__name__} needs pytest-asyncio installed", pytrace=False)

        return pytest.fixture(name=function.__name__)(needs_pytest_asyncio)
    return pytest_asyncio.fixture(function)


@_async_fixture
async def sqlgen_pool(sqlgen_database_url: str, pytestconfig: pytest.Config) -> AsyncIterator[Pool[Any]]:
    """An asyncpg pool on the test database, closed after the test; what it commits stays for the session."""
    import asyncpg

    init = _init_connection(pytestconfig)
    async with asyncpg.create_pool(sqlgen_database_url, min_size=1, init=init) as pool:
        yield pool


@_async_fixture
async def sqlgen_conn(sqlgen_database_url: str, pytestconfig: pytest.Config) -> AsyncIterator[Connection[Any]]:
    """An asyncpg connection inside a transaction that is rolled back after the test."""
    import asyncpg

    init = _init_connection(pytestconfig)
    conn: Connection[Any] = await asyncpg.connect(sqlgen_database_url)
    try:
        if init is not None:
            await init(conn)
        transaction = conn.transaction()
        await transaction.start()
        yield conn
        if not conn.is_closed() and conn.is_in_transaction():
            await transaction.rollback()
    finally:
        await conn.close()


def _schema_files(config: pytest.Config) -> list[Path]:
    """`--sqlgen-schema`, else `sqlgen_schema`, else `[tool.sqlgen]`'s schema, as files in order."""
    from sqlgen.config import Overrides, load_config
    from sqlgen.errors import Diagnostic, UserError, display_path
    from sqlgen.migrations import schema_layout

    flags: list[str] = config.getoption("sqlgen_schema") or []
    given: list[Path] = [config.invocation_params.dir / flag for flag in flags] or config.getini("sqlgen_schema")
    pyproject = config.rootpath / "pyproject.toml"
    if given:
        missing = [Diagnostic(f"{display_path(path)} does not exist") for path in given if not path.exists()]
        if missing:
            raise UserError(missing)
        files = list(schema_layout(given).files)
    elif _has_sqlgen_table(pyproject):
        files = load_config(Overrides(), cwd=config.rootpath, environ={}).schema_files()
    else:
        raise UserError(
            [
                Diagnostic(
                    f"no schema files: {display_path(pyproject)} has no [tool.sqlgen] table",
                    hint="set schema under [tool.sqlgen], the sqlgen_schema ini option, or pass --sqlgen-schema",
                )
            ]
        )
    if not files:
        shown = ", ".join(display_path(path) for path in given) or "[tool.sqlgen] schema"
        raise UserError([Diagnostic(f"no schema files: {shown} holds no *.sql files")])
    return files


def _has_sqlgen_table(pyproject: Path) -> bool:
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, tomllib.TOMLDecodeError):
        return True  # load_config reports what is wrong with it
    tool = document.get("tool")
    return isinstance(tool, dict) and "sqlgen" in tool


@contextlib.contextmanager
def _throwaway_database(server: str, kind: str = "", template: str | None = None) -> Iterator[str]:
    """A new database on `server` (empty, or a copy of `template`), dropped on exit; yields its URL."""
    import psycopg
    from psycopg import sql

    from sqlgen.database import connect
    from sqlgen.errors import ToolError

    name = f"sqlgen_pytest_{os.getpid()}_{kind + '_' if kind else ''}{secrets.token_hex(4)}"
    url = _with_database(server, name)
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(template))
    with connect(server) as admin:
        try:
            admin.execute(create)
        except psycopg.Error as err:
            raise ToolError(
                f"could not create a test database: {str(err).strip()}",
                hint="the DATABASE_URL role needs the CREATEDB privilege; unset DATABASE_URL for an embedded server",
            ) from None
    try:
        yield url
    finally:
        with connect(server) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def _cluster_left_as_found(server: str) -> Iterator[None]:
    """Undo, when the session ends, what the schema did to the whole server (see `sqlgen.cluster_state`):
    roles, databases and tablespaces it created, role settings and memberships it changed."""
    from sqlgen.cluster_state import ClusterState
    from sqlgen.database import connect

    with connect(server) as conn:
        before = ClusterState.read(conn)
    yield
    with connect(server) as conn:
        left = before.restore(conn)
    if left:
        raise pytest.fail.Exception(
            "sqlgen: the schema changed the server in ways the session could not undo:\n  "
            + "\n  ".join(left)
            + "\n  hint: keep cluster-wide statements (roles, ALTER SYSTEM) out of the schema files the tests apply,"
            " or unset DATABASE_URL for an embedded server",
            pytrace=False,
        )


def _with_database(server: str, name: str) -> str:
    """The server's URL, naming database `name` instead.

    >>> _with_database("postgresql://postgres:@/postgres?host=/tmp/pg", "t")
    'postgresql://postgres:@/t?host=/tmp/pg'
    """
    from sqlgen.errors import ToolError

    parts = urllib.parse.urlsplit(server)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ToolError(
            "DATABASE_URL is not a postgresql:// URL, which asyncpg needs",
            hint="e.g. DATABASE_URL=postgresql://user:password@localhost:5432/postgres",
        )
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _init_connection(config: pytest.Config) -> InitConnection | None:
    """`init_connection` of the package named by the `sqlgen_package` ini option, if any."""
    name = str(config.getini("sqlgen_package")).strip()
    if not name:
        return None
    try:
        package = importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name is None or not f"{name}.".startswith(f"{err.name}."):
            raise  # the package was found; something it imports was not
        raise pytest.fail.Exception(
            f"sqlgen: sqlgen_package = {name!r} cannot be imported: {err}\n"
            "  hint: name the package sqlgen generates (its `out`, as a module path), and put its parent "
            "folder on the path (pytest's pythonpath ini option)",
            pytrace=False,
        ) from None
    init: InitConnection | None = getattr(package, "init_connection", None)
    if init is None:
        pytest.fail(f"sqlgen: sqlgen_package = {name!r} has no init_connection; is it sqlgen's output?", pytrace=False)
    return init


def _failure(err: UserError | ToolError) -> BaseException:
    """A pytest failure showing sqlgen's diagnostics, as `sqlgen generate` prints them."""
    from sqlgen.errors import UserError

    if isinstance(err, UserError):
        body = "\n".join(diagnostic.render() for diagnostic in err.diagnostics)
    else:
        body = f"error: {err.message}" + (f"\n  hint: {err.hint}" if err.hint else "")
    return pytest.fail.Exception(f"sqlgen: the test database could not be set up\n{body}", pytrace=False)
