"""The infer stage: parameter names and nullability, result column nullability.

PostgreSQL's describe gives types but no nullability. A result column is typed non-null
only when that is certain: it is a plain reference (libpq reports its source table and
column) to a column with a validated NOT NULL constraint in a real table, and nothing in
the statement can null it (the table on the nullable side of an outer join, grouping
sets, set operations, RETURNING old/new), or it is an expression that is never NULL
(count, EXISTS, a literal, COALESCE with a non-null argument). Everything else is
nullable: a wrong non-null claim is a bug in the user's production code.

>>> from sqlgen.infer import analyze
>>> a = analyze("SELECT b.title FROM authors a LEFT JOIN books b ON b.author_id = a.id WHERE a.id = $1")
>>> sorted(a.nullable_tables), a.param_names
(['books'], {1: 'id'})
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from sqlgen.catalog import Catalog, Column, Table
from sqlgen.describe import Described

logging.getLogger("sqlglot").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class TypedParam:
    number: int
    name: str  # the SQL-level name: declared, inferred from context, or p<n>
    type_oid: int
    nullable: bool
    table_oid: int = 0  # the column the parameter is assigned to, if known
    column_number: int = 0


@dataclass(frozen=True)
class TypedColumn:
    name: str  # as PostgreSQL reports it
    type_oid: int
    nullable: bool
    reason: str  # why it is (or is not) nullable, for explanations
    table_oid: int
    column_number: int


@dataclass(frozen=True)
class TypedQuery:
    described: Described
    params: tuple[TypedParam, ...]
    columns: tuple[TypedColumn, ...]


@dataclass(frozen=True)
class Analysis:
    """What sqlglot tells about a statement; None fields mean "could not tell"."""

    parsed: bool
    nullable_tables: frozenset[str] = frozenset()  # lower-cased table names on an outer join's nullable side
    untraceable: str | None = None  # why no column may be trusted from its source, if so
    param_names: dict[int, str] = field(default_factory=dict)
    nullable_params: frozenset[int] = frozenset()
    output_expressions: tuple[exp.Expression, ...] | None = None  # only when there is no `*`
    assignments: dict[int, tuple[str | None, str | int]] = field(
        default_factory=dict
    )  # $n → (table, column) it is assigned to


def infer_query(described: Described, catalog: Catalog) -> TypedQuery:
    """Name and type the parameters and columns of one described query."""
    analysis = analyze(described.query.sql)
    params = []
    for number, type_oid in enumerate(described.param_types, start=1):
        declared = next((p for p in described.query.params if p.number == number), None)
        name = declared.name if declared and declared.name else analysis.param_names.get(number, f"p{number}")
        nullable = bool(declared and declared.nullable) or number in analysis.nullable_params
        table, target = _assigned_column(analysis, number, catalog)
        nullable = nullable or (number in analysis.assignments and (target is None or not target.not_null))
        params.append(
            TypedParam(
                number, name, type_oid, nullable, table.oid if table and target else 0, target.number if target else 0
            )
        )
    columns = []
    for index, column in enumerate(described.columns):
        nullable, reason = _column_nullability(index, column.table_oid, column.column_number, analysis, catalog)
        columns.append(
            TypedColumn(column.name, column.type_oid, nullable, reason, column.table_oid, column.column_number)
        )
    return TypedQuery(described, tuple(params), tuple(columns))


def _column_nullability(
    index: int, table_oid: int, column_number: int, analysis: Analysis, catalog: Catalog
) -> tuple[bool, str]:
    if not analysis.parsed:
        return True, "nullable: the statement could not be analysed"
    if table_oid:
        table = catalog.tables.get(table_oid)
        column = table.column(column_number) if table else None
        if table is None or column is None:
            return True, "nullable: unknown source column"
        where = f"{table.name}.{column.name}"
        if analysis.untraceable:
            return True, f"nullable: {where} passes through {analysis.untraceable}"
        if not table.enforces_not_null:
            return True, f"nullable: {where} belongs to a {_RELKIND_NAMES.get(table.kind, 'relation')}"
        if not column.not_null:
            return True, f"nullable: {where} has no NOT NULL constraint"
        if table.name.lower() in analysis.nullable_tables:
            return True, f"nullable: {table.name} is on the nullable side of an outer join"
        return False, f"not null: {where} is NOT NULL"
    if analysis.output_expressions is not None and index < len(analysis.output_expressions):
        expression = analysis.output_expressions[index]
        if _never_null(expression):
            return False, f"not null: {type(expression).__name__.lower()} is never NULL"
    return True, "nullable: an expression that may be NULL"


_RELKIND_NAMES = {"v": "view", "m": "materialized view", "f": "foreign table"}


def _never_null(node: exp.Expression) -> bool:
    if isinstance(node, exp.Alias):
        return _never_null(node.this)
    if isinstance(node, (exp.Paren, exp.Cast)):
        return _never_null(node.this)
    if isinstance(node, (exp.Count, exp.Exists, exp.CurrentTimestamp, exp.CurrentDate, exp.Boolean)):
        return True
    if isinstance(node, exp.Literal):
        return True
    if isinstance(node, exp.Coalesce):
        return any(_never_null(arg) for arg in [node.this, *node.expressions])
    return False


def _assigned_column(analysis: Analysis, number: int, catalog: Catalog) -> tuple[Table | None, Column | None]:
    """The table column parameter $number is assigned to, when the statement says and the catalog knows."""
    target = analysis.assignments.get(number)
    if target is None:
        return None, None
    table_name, column_ref = target
    table = _find_table(catalog, table_name)
    if table is None:
        return None, None
    if isinstance(column_ref, int):
        column = table.columns[column_ref] if column_ref < len(table.columns) else None
    else:
        column = next((c for c in table.columns if c.name.lower() == column_ref.lower()), None)
    return table, column


def _find_table(catalog: Catalog, name: str | None) -> Table | None:
    if name is None:
        return None
    schema, _, bare = name.lower().rpartition(".")
    matches = [
        t for t in catalog.tables.values() if t.name.lower() == bare and (t.schema.lower() == schema or not schema)
    ]
    preferred = [t for t in matches if t.schema == "public"] or matches
    return preferred[0] if len(preferred) == 1 else None


def analyze(sql: str) -> Analysis:
    """Parse `sql` (PostgreSQL, `$n` parameters) and collect what nullability inference needs."""
    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
        return Analysis(parsed=False)
    if not isinstance(tree, exp.Expression):
        return Analysis(parsed=False)
    names, nullable_params, targets = _parameters(tree)
    return Analysis(
        parsed=True,
        nullable_tables=frozenset(_nullable_tables(tree)),
        untraceable=_untraceable(tree),
        param_names=names,
        nullable_params=frozenset(nullable_params),
        output_expressions=_output_expressions(tree),
        assignments=targets,
    )


def _untraceable(tree: exp.Expression) -> str | None:
    if any(True for _ in tree.find_all(exp.SetOperation)):
        return "a set operation (UNION/INTERSECT/EXCEPT)"
    if any(True for _ in tree.find_all(exp.Rollup, exp.Cube, exp.GroupingSets)):
        return "GROUPING SETS/ROLLUP/CUBE"
    returning = tree.args.get("returning")
    if isinstance(returning, exp.Returning):
        for column in returning.find_all(exp.Column):
            if column.table.lower() in ("old", "new"):
                return "RETURNING old/new"
    if isinstance(tree, exp.Merge):
        return "MERGE"
    return None


def _output_expressions(tree: exp.Expression) -> tuple[exp.Expression, ...] | None:
    if isinstance(tree, exp.Select):
        expressions = tree.expressions
    elif isinstance(tree, (exp.Insert, exp.Update, exp.Delete)) and isinstance(
        tree.args.get("returning"), exp.Returning
    ):
        expressions = tree.args["returning"].expressions
    else:
        return None
    if any(
        isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star)) for e in expressions
    ):
        return None
    return tuple(expressions)


def _table_names(node: exp.Expression) -> Iterable[str]:
    for table in node.find_all(exp.Table):
        if table.name:
            yield table.name.lower()


def _nullable_tables(tree: exp.Expression) -> set[str]:
    nullable: set[str] = set()
    for select in tree.find_all(exp.Select, exp.Update, exp.Delete):
        joins = select.args.get("joins") or []
        left_side: list[exp.Expression] = []
        source = select.args.get("from_")
        if source is not None:
            left_side.append(source)
        for join in joins:
            side = (join.side or "").upper()
            if side in ("LEFT", "FULL"):
                nullable.update(_table_names(join.this))
            if side in ("RIGHT", "FULL"):
                for node in left_side:
                    nullable.update(_table_names(node))
            left_side.append(join.this)
    ctes = {cte.alias.lower(): cte.this for cte in tree.find_all(exp.CTE) if cte.alias}
    pending = [name for name in nullable if name in ctes]
    while pending:
        body = ctes.pop(pending.pop())
        for name in _table_names(body):
            if name not in nullable:
                nullable.add(name)
                if name in ctes:
                    pending.append(name)
    return nullable


_COMPARISONS = (
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Like,
    exp.ILike,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.In,
    exp.Between,
)


def _parameters(tree: exp.Expression) -> tuple[dict[int, str], set[int], dict[int, tuple[str | None, str | int]]]:
    names: dict[int, str] = {}
    nullable: set[int] = set()
    targets: dict[int, tuple[str | None, str | int]] = {}
    for param in tree.find_all(exp.Parameter):
        if not isinstance(param.this, exp.Literal) or param.this.is_string:
            continue
        number = int(param.this.this)
        node: exp.Expression = param
        parent = node.parent
        while isinstance(parent, (exp.Cast, exp.Paren, exp.Any, exp.All, exp.Neg)):
            node, parent = parent, parent.parent
        name: str | None = None
        if isinstance(parent, _COMPARISONS):
            other = next(
                (arg for arg in [parent.this, *parent.expressions, parent.expression] if isinstance(arg, exp.Column)),
                None,
            )
            if other is not None and other is not node:
                name = other.name
            if isinstance(parent, exp.NullSafeEQ | exp.NullSafeNEQ):
                nullable.add(number)
            if isinstance(parent, exp.EQ) and isinstance(parent.parent, exp.Update) and other is not None:
                targets[number] = (_table_name(parent.parent.this), other.name)
        elif isinstance(parent, exp.Is):
            nullable.add(number)
        elif isinstance(parent, exp.Coalesce):
            nullable.add(number)
        elif isinstance(parent, exp.Limit):
            name = "limit"
        elif isinstance(parent, exp.Offset):
            name = "offset"
        elif isinstance(parent, exp.Tuple) and isinstance(parent.parent, exp.Values):
            insert = parent.parent.parent
            position = parent.expressions.index(node)
            if isinstance(insert, exp.Insert) and isinstance(insert.this, exp.Schema):
                columns = insert.this.expressions
                if position < len(columns):
                    name = columns[position].name
                    targets[number] = (_table_name(insert.this.this), name)
            elif isinstance(insert, exp.Insert) and isinstance(insert.this, exp.Table):
                targets[number] = (_table_name(insert.this), position)
        if name and number not in names:
            names[number] = name
    return names, nullable, targets


def _table_name(node: exp.Expression | None) -> str | None:
    if not isinstance(node, exp.Table) or not node.name:
        return None
    return f"{node.db}.{node.name}" if node.db else node.name
