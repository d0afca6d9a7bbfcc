"""`sqlgen vet`: rules that catch real bugs in queries PostgreSQL accepts.

Each rule reads what the user wrote through sqlglot's syntax tree, and the facts it needs
from the catalog and the server (unique keys, nullability as sqlgen infers it, the plan).
A statement sqlglot cannot read is skipped with a note, never guessed at.

Rules are configured in `[tool.sqlgen.vet]` (`rule = "error" | "warning" | "off"`), and a
query turns one off with `-- @vet-disable rule` (sqlc's `-- @sqlc-vet-disable rule` too).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlgen.catalog import Catalog, Table, load_catalog
from sqlgen.config import Config
from sqlgen.errors import Diagnostic, Location, Severity, SourceText, UserError
from sqlgen.pipeline import project_database, read_project, type_queries
from sqlgen.source import Command, QuerySource, parse_queries

if TYPE_CHECKING:
    from sqlglot import exp

    from sqlgen.database import DbConnection
    from sqlgen.infer import TypedQuery


@dataclass(frozen=True)
class Finding:
    message: str
    sql_offset: int | None  # where in the statement (None: at the annotation)
    hint: str


@dataclass(frozen=True)
class Facts:
    """What rules know besides the statement's text."""

    catalog: Catalog
    unique_keys: dict[int, tuple[frozenset[str], ...]]  # table oid → column sets of its unique indexes
    conn: DbConnection
    explains: bool  # the server explains statements with parameters (GENERIC_PLAN, PostgreSQL 16+)


@dataclass(frozen=True)
class Statement:
    query: QuerySource
    typed: TypedQuery
    tree: exp.Expression  # sqlglot's


@dataclass(frozen=True)
class Rule:
    name: str
    summary: str
    check: Callable[[Statement, Facts], Iterator[Finding]] = field(repr=False)
    severity: Severity = "warning"


def vet(config: Config) -> list[Diagnostic]:
    """Every finding of the configured rules over the project's queries, with the errors of queries
    PostgreSQL rejects; raises UserError for a bad rule name in the config or a query."""
    severities = rule_severities(config)
    project = read_project(config)
    if project.diagnostics:
        raise UserError(list(project.diagnostics))
    disabled = {id(q): _disabled_rules(q) for q in project.queries}
    with project_database(config, project) as conn:
        catalog = load_catalog(conn)
        typed, errors = type_queries(conn, catalog, project.queries)
        if errors:
            raise UserError(errors)
        facts = Facts(catalog, _unique_keys(conn), conn, conn.info.server_version >= 160000)
        return [
            finding
            for query in typed
            for finding in vet_query(query, facts, severities, disabled[id(query.described.query)])
        ]


def vet_query(
    typed: TypedQuery, facts: Facts, severities: dict[str, Severity | None], disabled: frozenset[str]
) -> list[Diagnostic]:
    import sqlglot
    from sqlglot.errors import SqlglotError

    query = typed.described.query
    try:
        tree = sqlglot.parse_one(query.sql, dialect="postgres")
    except SqlglotError:
        return [
            query.diagnostic(
                f"vet could not read {query.name} (sqlglot does not parse this statement): its rules were skipped",
                severity="note",
            )
        ]
    from sqlglot import exp

    if not isinstance(tree, exp.Expression):
        return []
    statement = Statement(query, typed, tree)
    found = []
    for rule in RULES:
        severity = severities.get(rule.name, rule.severity)
        if severity is None or rule.name in disabled:
            continue
        for finding in rule.check(statement, facts):
            found.append(
                query.diagnostic(
                    f"{finding.message} [{rule.name}]",
                    finding.sql_offset,
                    hint=f"{finding.hint}; or `-- @vet-disable {rule.name}` under the annotation",
                    severity=severity,
                )
            )
    return found


# --- the rules ---------------------------------------------------------------------------


def _missing_where(statement: Statement, facts: Facts) -> Iterator[Finding]:
    from sqlglot import exp

    for node in statement.tree.find_all(exp.Update, exp.Delete):
        if node.args.get("where") is None:
            verb = "UPDATE" if isinstance(node, exp.Update) else "DELETE"
            table = node.this.find(exp.Identifier) if isinstance(node.this, exp.Expression) else None
            yield Finding(
                f"{verb} without WHERE changes every row of {node.this.sql(dialect='postgres')}",
                _start(table),
                "add the WHERE clause; if every row is meant, say `WHERE true`",
            )


def _null_comparison(statement: Statement, facts: Facts) -> Iterator[Finding]:
    from sqlglot import exp

    for node in statement.tree.find_all(exp.EQ, exp.NEQ):
        sides = (node.this, node.expression)
        if not any(isinstance(side, exp.Null) for side in sides):
            continue
        other = next(side for side in sides if not isinstance(side, exp.Null))
        operator = "=" if isinstance(node, exp.EQ) else "<>"
        yield Finding(
            f"`{other.sql(dialect='postgres')} {operator} NULL` is never true: comparing with NULL gives NULL",
            _start(other.find(exp.Identifier)),
            f"write `{other.sql(dialect='postgres')} IS {'' if operator == '=' else 'NOT '}NULL`",
        )


def _not_in_nullable(statement: Statement, facts: Facts) -> Iterator[Finding]:
    from sqlglot import exp

    for node in statement.tree.find_all(exp.Not):
        inner = node.this
        if not isinstance(inner, exp.In) or inner.args.get("query") is None:
            continue
        subquery = inner.args["query"]
        select = subquery.this if isinstance(subquery, exp.Subquery) else subquery
        if not isinstance(select, exp.Select) or len(select.expressions) != 1:
            continue
        nullable = _subquery_nullable(select, statement, facts)
        if nullable:
            yield Finding(
                f"NOT IN over a subquery whose {select.expressions[0].sql(dialect='postgres')} can be NULL"
                " returns no rows at all once it yields a NULL",
                _start(inner.this.find(exp.Identifier)),
                "use NOT EXISTS (SELECT 1 FROM … WHERE …), or filter the NULLs out in the subquery",
            )


def _subquery_nullable(select: exp.Select, statement: Statement, facts: Facts) -> bool:
    """Whether the subquery's one column can be NULL, as sqlgen infers it on the server; a subquery
    that does not prepare alone (it refers to the outer query) is not judged."""
    text = f"-- name: VetSubquery :many\n{select.sql(dialect='postgres')};\n"
    queries, problems = parse_queries(SourceText("<vet>", text))
    if problems or len(queries) != 1:
        return False
    typed, errors = type_queries(facts.conn, facts.catalog, queries)
    if errors or not typed or len(typed[0].columns) != 1:
        return False
    return typed[0].columns[0].nullable


def _limit_without_order(statement: Statement, facts: Facts) -> Iterator[Finding]:
    from sqlglot import exp

    limits = _keyword_offsets(statement.query.sql, ("LIMIT", "OFFSET", "FETCH"))
    for select in statement.tree.find_all(exp.Select):
        paged = select.args.get("limit") or select.args.get("offset")
        if not paged or select.args.get("order") or select.find_ancestor(exp.Exists):
            continue
        clause = "LIMIT" if select.args.get("limit") else "OFFSET"
        yield Finding(
            f"{clause} without ORDER BY: which rows come back is up to the plan, and pages overlap or skip rows",
            _after(limits, _last_identifier_before_paging(select)),
            "add an ORDER BY on a unique key (or a key and a tie-breaker)",
        )


def _one_returns_many(statement: Statement, facts: Facts) -> Iterator[Finding]:
    from sqlglot import exp

    if statement.query.command not in (Command.ONE, Command.BATCHONE):
        return
    tree = statement.tree
    if isinstance(tree, exp.Select):
        if _at_most_one_row(tree) or tree.args.get("joins"):
            return
        source = tree.args.get("from_") or tree.args.get("from")
        if source is None or not isinstance(source.this, exp.Table):
            return
        table_expr, where = source.this, tree.args.get("where")
    elif isinstance(tree, exp.Update | exp.Delete):
        if not tree.args.get("returning") or tree.args.get("from") or tree.args.get("using"):
            return
        table_expr, where = tree.this, tree.args.get("where")
        if not isinstance(table_expr, exp.Table):
            return
    else:
        return  # INSERT … VALUES gives a row per row of VALUES; others are not judged
    table = _table(facts.catalog, table_expr)
    if table is None:
        return
    pinned = _pinned_columns(where.this if where is not None else None, table_expr)
    if any(key <= pinned for key in facts.unique_keys.get(table.oid, ())):
        return
    yield Finding(
        f"{statement.query.name} is :one, but its WHERE pins no unique key of {table.name}: it can match several"
        " rows, and :one returns the first",
        _start(table_expr.find(exp.Identifier)),
        "compare a primary key or unique columns with `=`, add LIMIT 1 with an ORDER BY, or make it :many",
    )


def _index_unused(statement: Statement, facts: Facts) -> Iterator[Finding]:
    """PostgreSQL's plan with sequential scans disabled: a scan that stays sequential while its filter
    applies a function or a cast to an indexed column cannot use that column's index."""
    from sqlglot import exp

    if not facts.explains:
        return
    plan = _generic_plan(facts.conn, statement.query.sql)
    if plan is None:
        return
    indexed = _indexed_columns(facts)
    for node in _plan_nodes(plan):
        if node.get("Node Type") != "Seq Scan" or "Filter" not in node:
            continue
        table = next(
            (
                t
                for t in facts.catalog.tables.values()
                if (t.schema, t.name) == (node.get("Schema"), node["Relation Name"])
            ),
            None,
        )
        if table is None:
            continue
        for column, index in sorted(indexed.get(table.oid, {}).items()):
            if _wrapped(column, node["Filter"]):
                used = next(
                    (c for c in statement.tree.find_all(exp.Column) if c.name == column),
                    None,
                )
                yield Finding(
                    f"PostgreSQL scans all of {table.name} for `{node['Filter']}`: the filter cannot use index"
                    f" {index} on {column}",
                    _start(used.find(exp.Identifier)) if used is not None else None,
                    "compare the column itself with a value of its type, or add an index on the expression",
                )
                break


def _optional_filter_unmarked(statement: Statement, facts: Facts) -> Iterator[Finding]:
    """`(@x IS NULL OR col = @x)` conjuncts in a query without `-- @dynamic`: one statement for every
    combination, whose generic plan cannot use an index for any of them."""
    from sqlglot import exp

    from sqlgen.dynamic import conjuncts_of, optional_filter, top_where

    if statement.query.dynamic:
        return
    condition = top_where(statement.tree)
    filters = [node for node in conjuncts_of(condition) if optional_filter(node)] if condition is not None else []
    if not filters:
        return
    count = f"{len(filters)} optional filters" if len(filters) > 1 else "an optional filter"
    yield Finding(
        f"{statement.query.name} has {count} written `(@x IS NULL OR …)`: once PostgreSQL plans the prepared"
        " statement generically, such a filter cannot use an index",
        _start(filters[0].find(exp.Identifier)),
        "add `-- @dynamic` under the annotation: sqlgen then runs a statement without the filters not given",
    )


RULES: tuple[Rule, ...] = (
    Rule("missing-where", "UPDATE or DELETE without WHERE", _missing_where, "error"),
    Rule("null-comparison", "`col = NULL` or `col <> NULL`, which is never true", _null_comparison, "error"),
    Rule("not-in-nullable", "NOT IN over a subquery that can yield NULL (then no row matches)", _not_in_nullable),
    Rule("limit-without-order", "LIMIT or OFFSET without ORDER BY (nondeterministic pages)", _limit_without_order),
    Rule("one-returns-many", "a :one whose WHERE pins no unique key", _one_returns_many),
    Rule("index-unused", "a filter on an indexed column that cannot use the index (server plan)", _index_unused),
    Rule(
        "optional-filter-unmarked",
        "`(@x IS NULL OR …)` optional filters in a query without `-- @dynamic`",
        _optional_filter_unmarked,
    ),
)
RULE_NAMES = tuple(rule.name for rule in RULES)


# --- configuration -------------------------------------------------------------------------


def rule_severities(config: Config) -> dict[str, Severity | None]:
    """The config's severity for each rule it names (None: off); UserError for an unknown rule."""
    errors = []
    for setting in config.vet:
        if setting.rule not in RULE_NAMES:
            errors.append(_unknown_rule(setting.rule, setting.location))
    if errors:
        raise UserError(errors)
    return {s.rule: None if s.severity == "off" else s.severity for s in config.vet}  # type: ignore[misc]


_DISABLE = re.compile(r"--\s*@(?:sqlc-)?vet-disable\b(?P<rules>[^\n]*)")


def _disabled_rules(query: QuerySource) -> frozenset[str]:
    """The rules `-- @vet-disable a b` (or sqlc's `@sqlc-vet-disable`) lines under the annotation turn off."""
    header = query.file.text[query.annotation_offset : query.statement_offset]
    names: set[str] = set()
    errors = []
    for match in _DISABLE.finditer(header):
        for word in re.finditer(r"[\w/-]+", match["rules"]):
            name = word[0].removeprefix("sqlc/")
            if name in RULE_NAMES:
                names.add(name)
            elif not word[0].startswith("sqlc/"):  # sqlc's own rules (sqlc/db-prepare) are sqlc's
                offset = query.annotation_offset + match.start("rules") + word.start()
                errors.append(_unknown_rule(name, query.file.location(offset), query.file))
    if errors:
        raise UserError(errors)
    return frozenset(names)


def _unknown_rule(name: str, location: Location | None, file: SourceText | None = None) -> Diagnostic:
    close = difflib.get_close_matches(name, RULE_NAMES, n=1)
    hint = f"did you mean {close[0]}?" if close else f"the rules are {', '.join(RULE_NAMES)}"
    line = file.line_text(location.line) if file is not None and location is not None else None
    return Diagnostic(f"unknown vet rule {name!r}", location, line, hint=hint)


# --- helpers -------------------------------------------------------------------------------


def _start(node: exp.Expression | None) -> int | None:
    if node is None:
        return None
    start = node.meta.get("start")
    return start if isinstance(start, int) else None


def _keyword_offsets(sql: str, words: Sequence[str]) -> list[int]:
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        tokens = sqlglot.tokenize(sql, read="postgres")
    except SqlglotError:
        return []
    return [t.start for t in tokens if t.text.upper() in words]


def _last_identifier_before_paging(select: exp.Select) -> int:
    from sqlglot import exp

    starts = [
        start
        for key, value in select.args.items()
        if key not in ("limit", "offset")
        for node in (value if isinstance(value, list) else [value])
        if isinstance(node, exp.Expression)
        for identifier in node.find_all(exp.Identifier)
        if (start := _start(identifier)) is not None
    ]
    return max(starts, default=-1)


def _after(offsets: list[int], position: int) -> int | None:
    return next((o for o in offsets if o > position), None)


def _at_most_one_row(select: exp.Select) -> bool:
    from sqlglot import exp

    limit = select.args.get("limit")
    if isinstance(limit, exp.Limit) and isinstance(limit.expression, exp.Literal) and limit.expression.this in "01":
        return True
    if select.args.get("group") or select.args.get("distinct"):
        return False
    return any(e.find(exp.AggFunc) for e in select.expressions) and not select.args.get("having")


def _table(catalog: Catalog, table: exp.Table) -> Table | None:
    schema = table.db or None
    matches = [
        t
        for t in catalog.tables.values()
        if t.name == table.name and (t.schema == schema or (schema is None and t.schema == "public"))
    ]
    return matches[0] if len(matches) == 1 else None


def _pinned_columns(where: exp.Expression | None, table: exp.Table) -> frozenset[str]:
    """Columns of `table` the WHERE clause sets equal to one value in every row it keeps (its AND-ed `col = x`)."""
    from sqlglot import exp

    alias = table.alias_or_name
    pinned: set[str] = set()
    conjuncts = list(where.flatten()) if isinstance(where, exp.And) else [where] if where is not None else []
    for conjunct in conjuncts:
        if not isinstance(conjunct, exp.EQ):
            continue
        for side, other in ((conjunct.this, conjunct.expression), (conjunct.expression, conjunct.this)):
            if isinstance(side, exp.Column) and side.table in ("", alias) and not other.find(exp.Column):
                pinned.add(side.name)
    return frozenset(pinned)


_UNIQUE_KEYS_SQL = b"""
SELECT i.indrelid, array_to_string(array_agg(a.attname ORDER BY a.attnum), ',')
FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
WHERE i.indisunique AND i.indpred IS NULL AND NOT (0 = ANY (i.indkey::int2[]))
GROUP BY i.indexrelid, i.indrelid
"""
_INDEXED_SQL = b"""
SELECT i.indrelid, a.attname, c.relname
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indpred IS NULL AND c.relam = (SELECT oid FROM pg_am WHERE amname = 'btree')
ORDER BY c.relname
"""


def _unique_keys(conn: DbConnection) -> dict[int, tuple[frozenset[str], ...]]:
    keys: dict[int, list[frozenset[str]]] = {}
    for oid, columns in conn.execute(_UNIQUE_KEYS_SQL).fetchall():
        keys.setdefault(oid, []).append(frozenset(columns.split(",")))
    return {oid: tuple(sets) for oid, sets in keys.items()}


def _indexed_columns(facts: Facts) -> dict[int, dict[str, str]]:
    """The leading column of each plain b-tree index, and the index's name, by table oid."""
    indexed: dict[int, dict[str, str]] = {}
    for oid, column, index in facts.conn.execute(_INDEXED_SQL).fetchall():
        indexed.setdefault(oid, {}).setdefault(column, index)
    return indexed


def _wrapped(column: str, condition: str) -> bool:
    """Whether a plan's filter applies a function or a cast to `column` (as `lower(users.email)`,
    `(users.id)::text`), which keeps a plain index on the column from serving it."""
    name = rf"(?:[\w$]+\.)?{re.escape(column)}(?![\w$])"
    call = re.finditer(rf"(?<![\w$])(\w+)\({name}", condition)
    if any(match[1].upper() not in ("ANY", "ALL") for match in call):
        return True
    return re.search(rf"(?<![\w$.]){name}\)?::", condition) is not None


def _generic_plan(conn: DbConnection, sql: str) -> dict[str, Any] | None:
    """The generic plan PostgreSQL would use with sequential scans off, in a savepoint of the
    read-only transaction that is rolled back (the setting with it)."""
    from psycopg import pq

    from sqlgen.database import read_only

    with read_only(conn):
        pgconn = conn.pgconn
        pgconn.exec_(b"SAVEPOINT sqlgen_vet_plan")
        try:
            pgconn.exec_(b"SET LOCAL enable_seqscan = off")
            result = pgconn.exec_(f"EXPLAIN (GENERIC_PLAN, VERBOSE, FORMAT JSON) {sql}".encode())
            if result.status != pq.ExecStatus.TUPLES_OK or result.ntuples != 1:
                return None
            value = result.get_value(0, 0)
            document = json.loads(value) if value else None
        finally:
            pgconn.exec_(b"ROLLBACK TO SAVEPOINT sqlgen_vet_plan")
            pgconn.exec_(b"RELEASE SAVEPOINT sqlgen_vet_plan")
    if not isinstance(document, list) or not document:
        return None
    plan = document[0].get("Plan")
    return plan if isinstance(plan, dict) else None


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _plan_nodes(child)
