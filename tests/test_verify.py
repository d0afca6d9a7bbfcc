"""`sqlgen verify`: the queries of an earlier git revision judged against a new schema.

Each test builds a small git repository: version 1 (schema, queries, generated package) on
`main`, then a branch that adds migrations. Every verdict below comes from a real embedded
PostgreSQL building both schemas.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sqlgen.cli import main
from sqlgen.config import Overrides
from sqlgen.errors import UserError
from sqlgen.verify import Verdict, Verification, verify

V1_SCHEMA = """\
CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh');
CREATE TABLE accounts (
    id int PRIMARY KEY,
    name text NOT NULL,
    note text,
    nick text,
    email text NOT NULL,
    score int NOT NULL,
    level int NOT NULL,
    mood mood NOT NULL
);
"""

V1_QUERIES = """\
-- name: GetName :one
SELECT id, name FROM accounts WHERE id = $1;

-- name: GetNote :one
SELECT note FROM accounts WHERE id = $1;

-- name: GetNick :one
SELECT nick FROM accounts WHERE id = $1;

-- name: GetEmail :one
SELECT email FROM accounts WHERE id = $1;

-- name: GetScore :one
SELECT score FROM accounts WHERE id = $1;

-- name: GetLevel :one
SELECT level FROM accounts WHERE id = $1;

-- name: SetMood :exec
UPDATE accounts SET mood = @mood WHERE id = @id;
"""

# One statement per verdict, each touching columns only one query reads.
MIGRATION = """\
ALTER TABLE accounts ADD COLUMN extra text;
ALTER TABLE accounts DROP COLUMN note;
ALTER TABLE accounts RENAME COLUMN nick TO nickname;
ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;
ALTER TABLE accounts ALTER COLUMN score TYPE bigint;
ALTER TABLE accounts ALTER COLUMN level TYPE text;
ALTER TYPE mood RENAME TO mood_old;
CREATE TYPE mood AS ENUM ('happy', 'sad');
ALTER TABLE accounts ALTER COLUMN mood TYPE mood USING mood::text::mood;
DROP TYPE mood_old;
CREATE INDEX CONCURRENTLY accounts_name ON accounts (name);
ALTER TABLE accounts ADD COLUMN touched float8 DEFAULT random();
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def project(tmp_path: Path) -> Path:
    """Version 1 committed on main, with its generated package; HEAD is a branch `change` off it."""
    repo = tmp_path / "app"
    (repo / "db" / "schema").mkdir(parents=True)
    (repo / "db" / "queries").mkdir()
    (repo / "pyproject.toml").write_text('[tool.sqlgen]\nschema = "db/schema"\nqueries = "db/queries"\nout = "gen"\n')
    (repo / "db" / "schema" / "001_init.sql").write_text(V1_SCHEMA)
    (repo / "db" / "queries" / "accounts.sql").write_text(V1_QUERIES)
    git(repo, "init", "-q", "-b", "main")
    assert main(["-q", "generate", "--config", str(repo / "pyproject.toml")]) == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "version 1")
    git(repo, "checkout", "-qb", "change")
    return repo


def migrate(repo: Path, sql: str, name: str = "002_change.sql") -> None:
    (repo / "db" / "schema" / name).write_text(sql)


def verdicts(result: Verification) -> dict[str, Verdict]:
    return {item.query.name: item.verdict for item in result.verdicts}


def test_each_kind_of_migration_gets_its_verdict_and_its_cause(tmp_path: Path) -> None:
    repo = project(tmp_path)
    generated = {p: p.read_bytes() for p in (repo / "gen").iterdir()}
    migrate(repo, MIGRATION)

    result = verify(Overrides(), cwd=repo)

    assert verdicts(result) == {
        "GetName": Verdict.SAFE,  # an added nullable column, a concurrent index, a rewrite it does not see
        "GetNote": Verdict.BREAKS,  # its column was dropped
        "GetNick": Verdict.BREAKS,  # renamed
        "GetEmail": Verdict.UNABSORBABLE,  # NOT NULL dropped: the old code types it str
        "GetScore": Verdict.SAFE,  # int → bigint: Python's int holds both
        "GetLevel": Verdict.UNABSORBABLE,  # int → text
        "SetMood": Verdict.UNABSORBABLE,  # 'meh' is gone, and the old code may send it
    }
    assert result.incremental
    causes = {item.query.name: item.cause for item in result.verdicts}
    migration = "db/schema/002_change.sql"
    assert {name: (c.location.path, c.location.line) for name, c in causes.items() if c} == {
        "GetNote": (migration, 2),
        "GetNick": (migration, 3),
        "GetEmail": (migration, 4),
        "GetLevel": (migration, 6),
        "SetMood": (migration, 9),
    }
    by_name = {item.query.name: item for item in result.verdicts}
    assert by_name["GetNote"].error is not None
    assert by_name["GetNote"].error.message == 'column "note" does not exist'
    assert by_name["GetNote"].error.location is not None
    assert str(by_name["GetNote"].error.location) == "db/queries/accounts.sql:5:8"  # the old query's text
    assert "can now be NULL" in by_name["GetEmail"].reasons[0]
    assert "read as str, where the old code types it int" in by_name["GetLevel"].reasons[0]
    assert "'meh'" in by_name["SetMood"].reasons[0]

    # Rewrites of a table that already existed are warnings at their statement; the
    # concurrent index and the metadata-only ADD COLUMN are not.
    assert [(w.location.line, w.message.split(" under ")[0]) for w in result.locks] == [
        (5, "rewrites table public.accounts"),
        (6, "rewrites table public.accounts"),
        (9, "rewrites table public.accounts"),
        (12, "rewrites table public.accounts"),
    ]
    assert all("ACCESS EXCLUSIVE" in w.message for w in result.locks)
    assert {p: p.read_bytes() for p in (repo / "gen").iterdir()} == generated  # verify writes nothing


def test_scans_under_a_blocking_lock_are_warned_and_new_tables_are_not(tmp_path: Path) -> None:
    repo = project(tmp_path)
    migrate(
        repo,
        "ALTER TABLE accounts ADD CONSTRAINT positive CHECK (score > 0);\n"
        "ALTER TABLE accounts ADD CONSTRAINT later CHECK (level > 0) NOT VALID;\n"
        "CREATE INDEX accounts_email ON accounts (email);\n"
        "CREATE TABLE audit (id int PRIMARY KEY, what text);\n"
        "ALTER TABLE audit ADD COLUMN at float8 DEFAULT random();\n",
    )
    result = verify(Overrides(), cwd=repo)
    assert set(verdicts(result).values()) == {Verdict.SAFE}
    assert [(w.location.line, w.message.split(":")[0]) for w in result.locks] == [
        (1, "scans all of table public.accounts under an ACCESS EXCLUSIVE lock"),
        (3, "scans all of table public.accounts under a SHARE lock"),
    ]


def test_cli_exit_codes_formats_and_the_warning_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = project(tmp_path)
    config = str(repo / "pyproject.toml")
    migrate(repo, "ALTER TABLE accounts ADD COLUMN extra text;\n")
    assert main(["verify", "--base", "main", "--config", config]) == 0
    out = capsys.readouterr()
    assert "safe          GetName (db/queries/accounts.sql:1)" in out.out
    assert "7 safe" in out.err

    migrate(repo, "ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;\n", "003_email.sql")
    assert main(["verify", "--config", config, "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    [diagnostic] = document["diagnostics"]
    assert (diagnostic["path"], diagnostic["line"], diagnostic["severity"]) == ("db/queries/accounts.sql", 10, "error")
    email = next(q for q in document["verify"]["queries"] if q["name"] == "GetEmail")
    assert email["verdict"] == "unabsorbable"
    assert email["cause"] == {"path": "db/schema/003_email.sql", "line": 1}

    assert main(["verify", "--config", config, "--format", "github", "--unabsorbable", "warning"]) == 0
    assert "::warning file=db/queries/accounts.sql,line=10," in capsys.readouterr().out

    (repo / "pyproject.toml").write_text(
        (repo / "pyproject.toml").read_text() + '\n[tool.sqlgen.verify]\nunabsorbable = "warning"\n'
    )
    assert main(["verify", "--config", config]) == 0
    migrate(repo, "ALTER TABLE accounts DROP COLUMN note;\n", "004_note.sql")
    assert main(["verify", "--config", config]) == 1  # a break is an error whatever the setting
    assert "GetNote as of the merge base" in capsys.readouterr().err


def test_an_edited_schema_file_is_judged_without_causes(tmp_path: Path) -> None:
    repo = project(tmp_path)
    schema = repo / "db" / "schema" / "001_init.sql"
    schema.write_text(schema.read_text().replace("note text,", ""))
    result = verify(Overrides(), base="main", cwd=repo)
    assert not result.incremental
    assert verdicts(result)["GetNote"] is Verdict.BREAKS
    assert all(item.cause is None for item in result.verdicts)


def test_mistakes_are_messages(tmp_path: Path) -> None:
    repo = project(tmp_path)
    with pytest.raises(UserError, match="not a git revision"):
        verify(Overrides(), base="no-such-branch", cwd=repo)
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "pyproject.toml").write_text((repo / "pyproject.toml").read_text())
    (outside / "db").symlink_to(repo / "db")
    with pytest.raises(UserError, match="not in a git repository"):
        verify(Overrides(), cwd=outside)
    migrate(repo, "ALTER TABLE nowhere ADD COLUMN x int;\n")
    with pytest.raises(UserError) as raised:
        verify(Overrides(), cwd=repo)
    [error] = raised.value.diagnostics
    assert (str(error.location), error.message) == (
        "db/schema/002_change.sql:1:1",  # PostgreSQL gives ALTER TABLE errors no position
        'relation "nowhere" does not exist',
    )


def test_the_example_project_verifies_against_its_own_history(tmp_path: Path) -> None:
    """The repository's example (queries/ and pyproject.toml) as a project of its own: a migration that drops
    a column a query reads breaks that query; the rest stay safe."""
    root = Path(__file__).resolve().parent.parent
    repo = tmp_path / "example"
    repo.mkdir()
    subprocess.run(["cp", "-a", str(root / "queries"), str(root / "pyproject.toml"), str(root / "bookshop"), str(repo)])
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "example")
    last = sorted((repo / "queries" / "schema").glob("*.sql"))[-1]
    (last.parent / f"999_{last.stem}_drop.sql").write_text("ALTER TABLE authors DROP COLUMN bio;\n")
    done = subprocess.run(
        [sys.executable, "-m", "sqlgen", "verify", "--base", "main"], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    broken = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("breaks")}
    assert {"GetAuthor", "GetAuthorByName", "UpdateAuthorBio"} <= broken
    safe = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("safe")}
    assert {"CountAuthors", "GetBookByISBN"} <= safe
    assert 'error: GetAuthorByName as of main breaks: column "bio" does not exist' in done.stderr


def test_the_safe_migrations_page_shows_what_verify_prints(tmp_path: Path) -> None:
    """docs/migrations.md's example: its files, committed as the page says, give exactly its output."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "migrations.md").read_text(encoding="utf-8")
    files = dict(re.findall(r"^```sql\n-- (db/[\w/.]+)\n(.*?)^```", page, re.M | re.S))
    [printed] = re.findall(r"^On the branch, `sqlgen verify --base main`.*?```text\n(.*?)^```", page, re.M | re.S)
    repo = tmp_path / "app"
    repo.mkdir()
    (repo / "pyproject.toml").write_text('[tool.sqlgen]\nschema = "db/schema"\nqueries = "db/queries"\nout = "gen"\n')
    for path, text in files.items():
        if path != "db/schema/002_change.sql":
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(text)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "version 1")
    git(repo, "checkout", "-qb", "change")
    (repo / "db/schema/002_change.sql").write_text(files["db/schema/002_change.sql"])
    done = subprocess.run(
        [sys.executable, "-m", "sqlgen", "verify", "--base", "main"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 1
    assert done.stdout + done.stderr == printed


def test_goose_migrations_are_read_as_goose_applies_them(tmp_path: Path) -> None:
    """A migration tool's folder: the up sections are the schema, down sections are never run."""
    repo = tmp_path / "app"
    (repo / "migrations").mkdir(parents=True)
    (repo / "queries").mkdir()
    (repo / "pyproject.toml").write_text('[tool.sqlgen]\nschema = "migrations"\nqueries = "queries"\nout = "gen"\n')
    (repo / "migrations" / "00001_init.sql").write_text(
        "-- +goose Up\nCREATE TABLE t (id int PRIMARY KEY, label text NOT NULL);\n\n-- +goose Down\nDROP TABLE t;\n"
    )
    (repo / "queries" / "t.sql").write_text("-- name: Labels :many\nSELECT label FROM t;\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "version 1")
    (repo / "migrations" / "00002_loosen.sql").write_text(
        "-- +goose Up\nALTER TABLE t ALTER COLUMN label DROP NOT NULL;\n\n"
        "-- +goose Down\nALTER TABLE t ALTER COLUMN label SET NOT NULL;\n"
    )
    result = verify(Overrides(), base="main", cwd=repo)
    [item] = result.verdicts
    assert item.verdict is Verdict.UNABSORBABLE
    assert item.cause is not None
    assert (item.cause.location.path, item.cause.location.line) == ("migrations/00002_loosen.sql", 2)
