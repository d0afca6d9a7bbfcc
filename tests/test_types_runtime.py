"""Values of each supported type go in through generated parameters and come back equal."""

from __future__ import annotations

import importlib

import asyncpg
from conftest import Project

ENUM_SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'in-between');
CREATE DOMAIN nice_mood AS mood NOT NULL CHECK (VALUE <> 'sad');
CREATE TABLE people (id int PRIMARY KEY, mood mood NOT NULL, moods mood[], nice nice_mood);
"""

ENUM_QUERIES = """
-- name: Insert :exec
INSERT INTO people VALUES (@id, @mood, @moods, @nice);
-- name: ByMood :many
SELECT * FROM people WHERE mood = @mood ORDER BY id;
-- name: Moods :one
SELECT moods FROM people WHERE id = @id;
-- name: MoodOf :one
SELECT mood FROM people WHERE id = @id;
"""


async def test_enums_domains_and_enum_arrays_round_trip(project: Project) -> None:
    project.write("schema.sql", ENUM_SCHEMA)
    project.write("queries.sql", ENUM_QUERIES)
    package, url = project.package("enum_pkg")
    models = importlib.import_module("enum_pkg.models")
    queries = importlib.import_module("enum_pkg.queries")
    mood = models.Mood
    assert [m.value for m in mood] == ["sad", "ok", "happy", "in-between"]  # PostgreSQL's order
    assert mood.IN_BETWEEN == "in-between"
    # The NOT NULL domain makes the column non-null; the plain enum array stays nullable.
    assert models.Person.model_fields["nice"].annotation is mood
    conn = await asyncpg.connect(url)
    try:
        await queries.insert(conn, id=1, mood=mood.HAPPY, moods=[mood.OK, None, mood.SAD], nice=mood.OK)
        await queries.insert(conn, id=2, mood=mood.HAPPY, moods=None, nice=mood.IN_BETWEEN)
        [first, second] = await queries.by_mood(conn, mood=mood.HAPPY)
        assert first == models.Person(id=1, mood=mood.HAPPY, moods=[mood.OK, None, mood.SAD], nice=mood.OK)
        assert type(first.mood) is mood and type(first.moods[0]) is mood
        assert second.moods is None and second.nice is mood.IN_BETWEEN
        assert await queries.moods(conn, id=1) == [mood.OK, None, mood.SAD]
        assert await queries.moods(conn, id=2) is None
        assert type(await queries.mood_of(conn, id=2)) is mood
        assert await queries.by_mood(conn, mood=mood.SAD) == []
    finally:
        await conn.close()
    assert package.__name__ == "enum_pkg"
