"""Issue 15 §8: the schema moves under a running app. A changed result shape is an error that names
the query, never values landing in the wrong fields: `*` is expanded to the described columns."""

from __future__ import annotations

import datetime
import importlib
import sys

import asyncpg
import pytest
from conftest import Project

SCHEMA = """
CREATE TABLE accounts (id int PRIMARY KEY, note text, opened date NOT NULL, tier text NOT NULL);
"""
QUERIES = """
-- name: GetAccount :one
SELECT * FROM accounts WHERE id = $1;

-- name: GetAccountOfTier :one
SELECT a.*, 1 AS one FROM accounts a WHERE a.tier = $1 LIMIT 1;
"""


async def test_a_dropped_and_readded_column_is_an_error_then_the_right_fields(project: Project) -> None:
    project.write("schema.sql", SCHEMA)
    project.write("queries.sql", QUERIES)
    url = project.write_package("drift")
    sys.path.insert(0, str(project.root))
    try:
        queries = importlib.import_module("drift.queries")
    finally:
        sys.path.remove(str(project.root))
    assert "SELECT *" not in queries.GET_ACCOUNT and "note" in queries.GET_ACCOUNT  # the star is expanded
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    assert pool is not None
    try:
        await pool.execute("INSERT INTO accounts VALUES (1, 'vip', '2024-01-02', 'gold')")
        first = await queries.get_account(pool, id=1)
        assert first is not None and (first.note, first.opened) == ("vip", datetime.date(2024, 1, 2))

        await pool.execute("ALTER TABLE accounts DROP COLUMN note")
        with pytest.raises(asyncpg.UndefinedColumnError) as raised:
            await queries.get_account(pool, id=1)
        assert any("query GetAccount (queries.sql:1)" in note for note in raised.value.__notes__)

        await pool.execute("ALTER TABLE accounts ADD COLUMN note text")  # now after `tier` in the table
        await pool.execute("UPDATE accounts SET note = 'back'")
        again = await queries.get_account(pool, id=1)
        assert again is not None
        assert (again.id, again.note, again.opened, again.tier) == (1, "back", datetime.date(2024, 1, 2), "gold")
        aliased = await queries.get_account_of_tier(pool, tier="gold")
        assert aliased is not None and (aliased.note, aliased.tier, aliased.one) == ("back", "gold", 1)
    finally:
        await pool.close()
