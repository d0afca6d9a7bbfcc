"""A synthetic project for generation benchmarks: N tables, 20 queries per table, for sqlgen and sqlc.

    python benchmarks/synthetic.py DIR [--tables N]

Writes `DIR/schema/schema.sql` (N tables of 6 to 12 mixed-type columns, each but the first
with a foreign key to the one before, and an enum), `DIR/queries/tNN.sql` (20 queries per
table in sqlc's annotation language: lookups, filters, joins, aggregates, inserts, updates,
deletes, upserts, CTEs), a `pyproject.toml` for sqlgen and a `sqlc.yaml` for sqlc (Go
output), so both tools check the same project. 50 tables give 1,000 queries.
"""

from __future__ import annotations

import argparse
from pathlib import Path

COLUMNS = [
    "score double precision NOT NULL DEFAULT 0",
    "created_at timestamptz NOT NULL DEFAULT now()",
    "active boolean NOT NULL DEFAULT true",
]
EXTRA_COLUMNS = [
    "amount numeric(12, 2)",
    "born date",
    "ref uuid NOT NULL DEFAULT gen_random_uuid()",
    "tags text[] NOT NULL DEFAULT '{}'",
    "payload jsonb",
]


def schema(tables: int) -> str:
    lines = ["CREATE TYPE status AS ENUM ('draft', 'live', 'archived');", ""]
    for n in range(tables):
        columns = [
            "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            "name text NOT NULL",
            "status status NOT NULL DEFAULT 'draft'",
        ]
        if n:
            columns.append(f"parent_id bigint REFERENCES t{n - 1:02d} (id)")
        columns += COLUMNS + EXTRA_COLUMNS[: n % 6]
        body = ",\n    ".join(columns)
        lines += [f"CREATE TABLE t{n:02d} (\n    {body}\n);", f"CREATE INDEX ON t{n:02d} (name);", ""]
    return "\n".join(lines)


def queries(n: int) -> str:
    t = f"t{n:02d}"
    name = f"T{n:02d}"
    parent = f"t{n - 1:02d}" if n else None
    join_parent = (
        f"SELECT c.id, c.name, p.name AS parent_name FROM {t} c LEFT JOIN {parent} p ON p.id = c.parent_id "
        "WHERE c.status = @status ORDER BY c.id LIMIT @row_limit"
        if parent
        else f"SELECT c.id, c.name, NULL::text AS parent_name FROM {t} c WHERE c.status = @status LIMIT @row_limit"
    )
    inner_parent = (
        f"SELECT c.id, p.id AS parent_id, p.score FROM {t} c JOIN {parent} p ON p.id = c.parent_id WHERE c.id = @id"
        if parent
        else f"SELECT c.id, c.id AS parent_id, c.score FROM {t} c WHERE c.id = @id"
    )
    statements = [
        (f"Get{name}", ":one", f"SELECT * FROM {t} WHERE id = @id"),
        (f"List{name}", ":many", f"SELECT * FROM {t} ORDER BY id LIMIT @row_limit OFFSET @row_offset"),
        (f"Get{name}ByName", ":one", f"SELECT id, name, status FROM {t} WHERE name = @name LIMIT 1"),
        (
            f"Search{name}",
            ":many",
            f"SELECT id, name FROM {t} WHERE name ILIKE '%' || @query::text || '%' ORDER BY name",
        ),
        (f"Count{name}", ":one", f"SELECT count(*) AS total FROM {t}"),
        (f"Count{name}ByStatus", ":many", f"SELECT status, count(*) AS total FROM {t} GROUP BY status ORDER BY status"),
        (f"Create{name}", ":one", f"INSERT INTO {t} (name, status) VALUES (@name, @status) RETURNING *"),
        (f"Rename{name}", ":exec", f"UPDATE {t} SET name = @name WHERE id = @id"),
        (f"Archive{name}", ":execrows", f"UPDATE {t} SET status = 'archived' WHERE created_at < @before"),
        (f"Delete{name}", ":exec", f"DELETE FROM {t} WHERE id = @id"),
        (f"Delete{name}Returning", ":one", f"DELETE FROM {t} WHERE id = @id RETURNING id, name"),
        (f"List{name}WithParent", ":many", join_parent),
        (f"Get{name}Parent", ":one", inner_parent),
        (
            f"Filter{name}",
            ":many",
            f"SELECT id, name, score FROM {t} WHERE (sqlc.narg(min_score)::float8 IS NULL "
            "OR score >= sqlc.narg(min_score)) AND active = @active ORDER BY score DESC",
        ),
        (f"Stats{name}", ":one", f"SELECT min(score) AS low, max(score) AS high, avg(score) AS mean FROM {t}"),
        (f"List{name}ByIds", ":many", f"SELECT id, name FROM {t} WHERE id = ANY(@ids::bigint[])"),
        (
            f"Ranked{name}",
            ":many",
            f"SELECT id, name, rank() OVER (ORDER BY score DESC) AS position FROM {t} "
            "ORDER BY position LIMIT @row_limit",
        ),
        (
            f"Recent{name}",
            ":many",
            f"WITH recent AS (SELECT id, name, created_at FROM {t} WHERE created_at > @since) "
            "SELECT id, name, created_at FROM recent ORDER BY created_at DESC",
        ),
        (
            f"Upsert{name}",
            ":one",
            f"INSERT INTO {t} (name, status) VALUES (@name, @status) ON CONFLICT (id) DO UPDATE "
            "SET name = EXCLUDED.name RETURNING id, name, status",
        ),
        (f"Exists{name}", ":one", f"SELECT EXISTS (SELECT 1 FROM {t} WHERE name = @name) AS found"),
    ]
    return "\n".join(f"-- name: {q} {command}\n{sql};\n" for q, command, sql in statements)


def write_project(root: Path, tables: int) -> None:
    (root / "schema").mkdir(parents=True, exist_ok=True)
    (root / "queries").mkdir(parents=True, exist_ok=True)
    (root / "schema" / "schema.sql").write_text(schema(tables))
    for n in range(tables):
        (root / "queries" / f"t{n:02d}.sql").write_text(queries(n))
    (root / "pyproject.toml").write_text('[tool.sqlgen]\nschema = "schema"\nqueries = "queries"\nout = "gen"\n')
    (root / "sqlc.yaml").write_text(
        'version: "2"\nsql:\n  - engine: postgresql\n    schema: schema\n    queries: queries\n'
        "    gen:\n      go:\n        package: db\n        out: go\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--tables", type=int, default=50)
    args = parser.parse_args()
    write_project(args.dir, args.tables)
