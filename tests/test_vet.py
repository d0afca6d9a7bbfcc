"""`sqlgen vet`: each rule on a query it flags and on a look-alike it passes, on the real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlgen.cli import main
from sqlgen.config import Overrides, load_config
from sqlgen.errors import Diagnostic, UserError
from sqlgen.vet import RULE_NAMES, vet

SCHEMA = """\
CREATE TABLE users (
    id int PRIMARY KEY,
    email text NOT NULL UNIQUE,
    team text,
    manager_id int,
    tenant int NOT NULL,
    handle text NOT NULL,
    UNIQUE (tenant, handle)
);
CREATE INDEX users_team ON users (team);
CREATE TABLE bans (user_id int NOT NULL, reason text);
"""

# (rule, a query it flags, a look-alike it passes)
CASES = [
    (
        "missing-where",
        "DELETE FROM users;",
        "DELETE FROM users WHERE id = $1;",
    ),
    (
        "missing-where",
        "UPDATE users SET team = $1;",
        "UPDATE users SET team = $1 WHERE true;",
    ),
    (
        "null-comparison",
        "SELECT id FROM users WHERE team = NULL;",
        "SELECT id FROM users WHERE team IS NULL;",
    ),
    (
        "null-comparison",
        "SELECT id FROM users WHERE manager_id <> NULL;",
        "SELECT id FROM users WHERE manager_id IS NOT NULL;",
    ),
    (
        "not-in-nullable",
        "SELECT id FROM users WHERE id NOT IN (SELECT manager_id FROM users);",
        "SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM bans);",
    ),
    (
        "not-in-nullable",
        "SELECT id FROM users WHERE team NOT IN (SELECT reason FROM bans);",
        "SELECT id FROM users WHERE team NOT IN (SELECT reason FROM bans WHERE reason IS NOT NULL);",
    ),
    (
        "limit-without-order",
        "SELECT id FROM users LIMIT 10 OFFSET $1;",
        "SELECT id FROM users ORDER BY id LIMIT 10 OFFSET $1;",
    ),
    (
        "one-returns-many",
        "SELECT id FROM users WHERE team = $1;",
        "SELECT id FROM users WHERE email = $1;",
    ),
    (
        "one-returns-many",
        "SELECT id FROM users WHERE tenant = $1;",
        "SELECT id FROM users WHERE tenant = $1 AND handle = $2;",
    ),
    (
        "one-returns-many",
        "UPDATE users SET team = $1 WHERE team = $2 RETURNING id;",
        "UPDATE users SET team = $1 WHERE id = $2 RETURNING id;",
    ),
    (
        "index-unused",
        "SELECT id FROM users WHERE lower(team) = $1;",
        "SELECT id FROM users WHERE team = $1;",
    ),
    (
        "optional-filter-unmarked",
        "SELECT id FROM users WHERE tenant = $1 AND (sqlc.narg(team)::text IS NULL OR team = sqlc.narg(team));",
        "-- @dynamic\nSELECT id FROM users WHERE tenant = $1 AND (@team::text IS NULL OR team = @team);",
    ),
]


def vet_one(tmp_path: Path, sql: str, command: str = ":one", config: str = "") -> list[Diagnostic]:
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "q.sql").write_text(f"-- name: Q {command}\n{sql}\n")
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.sqlgen]\nschema = "schema.sql"\nqueries = "q.sql"\nout = "gen"\n{config}'
    )
    return vet(load_config(Overrides(), tmp_path, environ={}))


@pytest.mark.parametrize(("rule", "flagged", "passed"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_rule_flags_the_bug_and_passes_the_fix(tmp_path: Path, rule: str, flagged: str, passed: str) -> None:
    command = ":one" if rule == "one-returns-many" else ":many" if flagged.startswith("SELECT") else ":exec"
    found = vet_one(tmp_path, flagged, command)
    assert [d.message.rsplit("[", 1)[1] for d in found] == [f"{rule}]"], [d.message for d in found]
    [diagnostic] = found
    assert diagnostic.location is not None and diagnostic.location.path.endswith("q.sql")
    assert diagnostic.hint and f"@vet-disable {rule}" in diagnostic.hint
    assert vet_one(tmp_path, passed, command) == []


def test_findings_point_at_the_sql_they_are_about(tmp_path: Path) -> None:
    [null] = vet_one(tmp_path, "SELECT id FROM users\nWHERE team = NULL;", ":many")
    assert null.location is not None and (null.location.line, null.location.column) == (3, 7)
    assert null.severity == "error"
    [limit] = vet_one(tmp_path, "SELECT id FROM users\nWHERE team = $1\nLIMIT 5;", ":many")
    assert limit.location is not None and (limit.location.line, limit.location.column) == (4, 1)
    assert limit.severity == "warning"
    [unmarked] = vet_one(tmp_path, "SELECT id FROM users\nWHERE (@team::text IS NULL OR team = @team);", ":many")
    assert unmarked.location is not None and (unmarked.location.line, unmarked.location.column) == (3, 31)


def test_a_query_disables_a_rule_and_the_config_sets_severities(tmp_path: Path) -> None:
    assert vet_one(tmp_path, "-- @vet-disable missing-where\nDELETE FROM users;", ":exec") == []
    assert vet_one(tmp_path, "-- @sqlc-vet-disable sqlc/db-prepare missing-where\nDELETE FROM users;", ":exec") == []
    with pytest.raises(UserError, match="unknown vet rule 'missing-wher'") as raised:
        vet_one(tmp_path, "-- @vet-disable missing-wher\nDELETE FROM users;", ":exec")
    assert raised.value.diagnostics[0].hint == "did you mean missing-where?"
    assert vet_one(tmp_path, "DELETE FROM users;", ":exec", '[tool.sqlgen.vet]\nmissing-where = "off"\n') == []
    [warned] = vet_one(tmp_path, "DELETE FROM users;", ":exec", '[tool.sqlgen.vet]\nmissing-where = "warning"\n')
    assert warned.severity == "warning"
    with pytest.raises(UserError, match="unknown vet rule 'null-compare'") as raised:
        vet_one(tmp_path, "DELETE FROM users;", ":exec", '[tool.sqlgen.vet]\nnull-compare = "off"\n')
    assert raised.value.diagnostics[0].location is not None
    with pytest.raises(UserError, match='takes "error", "warning" or "off"'):
        vet_one(tmp_path, "DELETE FROM users;", ":exec", '[tool.sqlgen.vet]\nmissing-where = "loud"\n')


def test_statements_sqlglot_cannot_read_are_a_note(tmp_path: Path) -> None:
    [note] = vet_one(tmp_path, "SELECT id FROM users ORDER BY id USING >;", ":many")
    assert note.severity == "note" and "rules were skipped" in note.message


def test_cli_vet_and_check_with_vet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vet_one(tmp_path, "DELETE FROM users;", ":exec")
    config = str(tmp_path / "pyproject.toml")
    assert main(["vet", "--config", config]) == 1
    err = capsys.readouterr().err
    assert "q.sql:2:13: error: DELETE without WHERE changes every row of users [missing-where]" in err
    assert "sqlgen: vet: 1 error, 0 warnings" in err
    assert main(["vet", "--config", config, "--format", "json"]) == 1
    [finding] = json.loads(capsys.readouterr().out)["diagnostics"]
    assert (finding["line"], finding["severity"]) == (2, "error")

    assert main(["generate", "--config", config]) == 0
    assert main(["check", "--config", config]) == 0  # vet is not part of check unless configured
    (tmp_path / "pyproject.toml").write_text(
        (tmp_path / "pyproject.toml").read_text() + "[tool.sqlgen.vet]\ncheck = true\n"
    )
    assert main(["check", "--config", config]) == 1
    capsys.readouterr()


def test_every_rule_is_documented() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    for rule in RULE_NAMES:
        assert f"`{rule}`" in page, rule


def test_rules_that_ask_the_server_leave_its_transaction_for_the_next_query(tmp_path: Path) -> None:
    """index-unused explains one query in a savepoint; a later query's subquery is still described."""
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "q.sql").write_text(
        "-- name: ByTeam :many\nSELECT id FROM users WHERE team = $1;\n\n"
        "-- name: NotManagers :many\nSELECT id FROM users WHERE id NOT IN (SELECT manager_id FROM users);\n\n"
        "-- name: ByLowerTeam :many\nSELECT id FROM users WHERE lower(team) = $1;\n"
    )
    (tmp_path / "pyproject.toml").write_text('[tool.sqlgen]\nschema = "schema.sql"\nqueries = "q.sql"\nout = "gen"\n')
    found = vet(load_config(Overrides(), tmp_path, environ={}))
    assert [d.message.rsplit("[", 1)[1] for d in found] == ["not-in-nullable]", "index-unused]"]
