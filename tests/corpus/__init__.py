"""The labelled corpus: schemas, adversarial data and queries whose columns and parameters carry true labels."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlgen.catalog import load_catalog
from sqlgen.database import DbConnection
from sqlgen.pipeline import type_queries
from sqlgen.source import QuerySource, parse_queries, read_source

CORPUS = Path(__file__).resolve().parent

_COLUMN = re.compile(r"column (?P<name>.+?): (?P<type>.+?) (?P<null>not null|null(?: unwitnessed: .+)?)$")
_PARAM = re.compile(r"param \$(?P<number>\d+) (?P<name>\w+): (?P<type>.+?) (?P<null>not null|null)$")


@dataclass(frozen=True)
class Label:
    name: str
    type: str
    nullable: bool
    unwitnessed: bool = False


@dataclass(frozen=True)
class LabelledQuery:
    schema: str
    source: QuerySource
    columns: tuple[Label, ...]
    params: tuple[Label, ...]  # in $n order
    args: tuple[tuple[object, ...], ...]

    @property
    def key(self) -> str:
        return f"{self.schema}/{self.source.name}"


def schemas() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if (p / "queries.sql").is_file())


def load(schema_dir: Path) -> list[LabelledQuery]:
    queries, diagnostics = parse_queries(read_source(schema_dir / "queries.sql"))
    if diagnostics:
        raise ValueError("\n".join(d.render() for d in diagnostics))
    return [_labelled(schema_dir.name, q) for q in queries]


def _labelled(schema: str, query: QuerySource) -> LabelledQuery:
    columns: list[Label] = []
    params: dict[int, Label] = {}
    args: list[tuple[object, ...]] = []
    for line in query.doc.splitlines():
        line = line.strip()
        if match := _COLUMN.match(line):
            null = match["null"]
            columns.append(Label(match["name"], match["type"], null != "not null", "unwitnessed" in null))
        elif match := _PARAM.match(line):
            params[int(match["number"])] = Label(match["name"], match["type"], match["null"] == "null")
        elif line.startswith("args:"):
            args.append(tuple(json.loads(line.removeprefix("args:"))))
        elif line:
            raise ValueError(f"{schema}/{query.name}: unreadable label line {line!r}")
    if sorted(params) != list(range(1, len(params) + 1)):
        raise ValueError(f"{schema}/{query.name}: parameters must be labelled $1..$n")
    return LabelledQuery(schema, query, tuple(columns), tuple(params[n] for n in sorted(params)), tuple(args))


def text_argument(value: object) -> bytes | None:
    """An argument in PostgreSQL's text form, as sent by libpq."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    return str(value).encode()


@dataclass(frozen=True)
class Judgement:
    """sqlgen's answer for one labelled column or parameter, against the label."""

    query: str
    what: str  # "column name" or "param $1 name"
    label: Label
    name: str
    type: str
    nullable: bool
    reason: str

    @property
    def right(self) -> bool:
        return (self.name, self.type, self.nullable) == (self.label.name, self.label.type, self.label.nullable)

    @property
    def wrongly_non_null(self) -> bool:
        return self.label.nullable and not self.nullable

    @property
    def needlessly_nullable(self) -> bool:
        return self.nullable and not self.label.nullable


def judge(conn: DbConnection, schema_dir: Path) -> list[Judgement]:
    """Run sqlgen's describe and infer stages over one corpus folder (schema and data already applied)."""
    catalog = load_catalog(conn)
    queries = load(schema_dir)
    typed_queries, errors = type_queries(conn, catalog, [q.source for q in queries])
    if errors:
        raise ValueError("\n".join(e.render() for e in errors))
    judgements: list[Judgement] = []
    for query, typed in zip(queries, typed_queries, strict=True):
        column_types = format_types(conn, [c.type_oid for c in typed.columns])
        for label, column, type_name in zip(query.columns, typed.columns, column_types, strict=True):
            judgements.append(
                Judgement(
                    query.key, f"column {label.name}", label, column.name, type_name, column.nullable, column.reason
                )
            )
        param_types = format_types(conn, [p.type_oid for p in typed.params])
        for label, param, type_name in zip(query.params, typed.params, param_types, strict=True):
            judgements.append(
                Judgement(
                    query.key,
                    f"param ${param.number} {label.name}",
                    label,
                    param.name,
                    type_name,
                    param.nullable,
                    param.reason,
                )
            )
    return judgements


def format_types(conn: DbConnection, oids: list[int]) -> list[str]:
    """PostgreSQL's names for types (`format_type`), as the labels spell them."""
    rows = conn.execute(
        "SELECT format_type(oid, NULL) FROM unnest(%s::oid[]) WITH ORDINALITY AS t(oid, n) ORDER BY n",
        [oids],
        prepare=False,
    )
    return [row[0] for row in rows]
