"""The labelled corpus: schemas, adversarial data and queries whose columns and parameters carry true labels."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from psycopg import pq

from sqlgen.catalog import load_catalog
from sqlgen.database import DbConnection, apply_schema
from sqlgen.pipeline import type_queries
from sqlgen.source import QuerySource, parse_queries, read_source

CORPUS = Path(__file__).resolve().parent

_COLUMN = re.compile(r"column (?P<name>.+?): (?P<type>.+?) (?P<null>not null|null(?: unwitnessed: .+)?)$")
_PARAM = re.compile(r"param \$(?P<number>\d+) (?P<name>\w+): (?P<type>.+?) (?P<null>not null|null)$")
_NEEDS = re.compile(r"needs: PostgreSQL (?P<major>\d+)\b")


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
    needs: int = 0  # the oldest PostgreSQL major version that accepts the statement (0: any)

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
    needs = 0
    for line in query.doc.splitlines():
        line = line.strip()
        if match := _COLUMN.match(line):
            null = match["null"]
            columns.append(Label(match["name"], match["type"], null != "not null", "unwitnessed" in null))
        elif match := _PARAM.match(line):
            params[int(match["number"])] = Label(match["name"], match["type"], match["null"] == "null")
        elif match := _NEEDS.match(line):
            needs = int(match["major"])
        elif line.startswith("args:"):
            args.append(tuple(json.loads(line.removeprefix("args:"))))
        elif line:
            raise ValueError(f"{schema}/{query.name}: unreadable label line {line!r}")
    if sorted(params) != list(range(1, len(params) + 1)):
        raise ValueError(f"{schema}/{query.name}: parameters must be labelled $1..$n")
    return LabelledQuery(schema, query, tuple(columns), tuple(params[n] for n in sorted(params)), tuple(args), needs)


def server_major(conn: DbConnection) -> int:
    return conn.info.server_version // 10000


def apply_corpus_schema(conn: DbConnection, schema_dir: Path) -> None:
    """Apply a corpus folder's schema and data. Before PostgreSQL 18 a VIRTUAL generated column is
    made STORED instead: the same values, and for nullability the same expression."""
    files = [read_source(schema_dir / "schema.sql"), read_source(schema_dir / "data.sql")]
    if server_major(conn) < 18:
        files = [replace(f, text=_VIRTUAL.sub("STORED", f.text)) for f in files]
    apply_schema(conn, files)


_VIRTUAL = re.compile(r"\bVIRTUAL\b")


def runnable(queries: list[LabelledQuery], conn: DbConnection) -> list[LabelledQuery]:
    """The queries this server accepts (`needs: PostgreSQL N` labels the others)."""
    major = server_major(conn)
    return [q for q in queries if q.needs <= major]


def check_labels(conn: DbConnection, query: LabelledQuery) -> None:
    """Describe and run one labelled query; fail where a label is not what the server does."""
    pgconn = conn.pgconn
    name = b"corpus_query"
    pgconn.exec_(b"DEALLOCATE ALL")
    prepared = pgconn.prepare(name, query.source.sql.encode())
    assert prepared.status == pq.ExecStatus.COMMAND_OK, prepared.error_message.decode()
    described = pgconn.describe_prepared(name)
    column_types = format_types(conn, [described.ftype(i) for i in range(described.nfields)])
    param_types = format_types(conn, [described.param_type(i) for i in range(described.nparams)])
    names = [(described.fname(i) or b"").decode() for i in range(described.nfields)]
    assert [(c.name, c.type) for c in query.columns] == list(zip(names, column_types, strict=False)), "column labels"
    assert [p.type for p in query.params] == param_types, "parameter labels"
    runs = query.args or (((),) if not query.params else ())
    assert runs, "a query with parameters needs `args:` lines"
    seen_null: set[int] = set()
    for args in runs:
        assert len(args) == len(query.params), f"args {args} do not match the parameters"
        pgconn.exec_(b"BEGIN")
        try:
            result = pgconn.exec_prepared(name, [text_argument(a) for a in args])
            assert result.status in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK), (
                f"args {args}: {result.error_message.decode()}"
            )
            for row in range(result.ntuples):
                for column in range(result.nfields):
                    if result.get_value(row, column) is None:
                        seen_null.add(column)
        finally:
            pgconn.exec_(b"ROLLBACK")
    wrong = [c.name for i, c in enumerate(query.columns) if not c.nullable and i in seen_null]
    assert not wrong, f"labelled not null, came back NULL: {wrong}"
    unwitnessed = [
        c.name for i, c in enumerate(query.columns) if c.nullable and not c.unwitnessed and i not in seen_null
    ]
    assert not unwitnessed, f"labelled null, never NULL in any run (make data.sql show it): {unwitnessed}"


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
    queries = runnable(load(schema_dir), conn)
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
