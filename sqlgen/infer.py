"""The infer stage: parameter names and nullability, result column nullability.

PostgreSQL's describe gives types but no nullability. sqlgen reads it from the statement
tree the server itself analysed (`sqlgen.pgtree`): names are resolved, views expanded,
functions and operators identified by their pg_proc rows, and each column reference
carries the outer joins that can null it. On that tree a column is typed non-null only
when that is certain: a NOT NULL column of a real table that no outer join, grouping set
or RETURNING old/new can null (or that a WHERE clause proves non-null), or an expression
that cannot be NULL given its inputs (count, EXISTS, a literal, COALESCE with a non-null
argument, a known function over non-null arguments, …). Everything else is nullable: a
wrong non-null claim is a bug in the user's production code.

A column alias ending in `!` forces non-null and one ending in `?` forces nullable; the
suffix is dropped from the name. Only an alias the query writes does: a table's or view's
column whose own name ends in `!` or `?` keeps its name and its inferred nullability.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlgen.cardinality import RowCount, row_count
from sqlgen.catalog import Catalog, Table
from sqlgen.dynamic import Plan
from sqlgen.elements import element_nullability, forced_elements, null_free_array_params
from sqlgen.errors import UserError
from sqlgen.nullability import RTE_GROUP, Nullability, Verdict
from sqlgen.pgtree import CMD_INSERT, CMD_SELECT, CMD_UPDATE, Node, output_entries, walk
from sqlgen.prepare import Described, ResultColumn
from sqlgen.source import Command, Embed


@dataclass(frozen=True)
class TypedParam:
    number: int
    name: str  # the SQL-level name: declared, inferred from context, or p<n>
    type_oid: int
    nullable: bool
    table_oid: int = 0  # the column the parameter is assigned to, if known
    column_number: int = 0
    reason: str = ""  # why it is (or is not) nullable, for explanations
    slice: bool = False  # sqlc.slice: a list of non-null elements sent as one array
    elements_nullable: bool = True  # an array parameter whose NULL elements mean something


@dataclass(frozen=True)
class TypedColumn:
    name: str  # as PostgreSQL reports it, without a `!`/`?` suffix
    type_oid: int
    nullable: bool
    reason: str  # why it is (or is not) nullable, for explanations
    table_oid: int
    column_number: int
    elements_nullable: bool = True  # an array column whose elements may be NULL
    elements_reason: str = ""  # why, for array columns


@dataclass(frozen=True)
class TypedEmbed:
    """`sqlc.embed(name)`: `columns[first : first + count]` are one table's row, in the table's order."""

    name: str  # the table or alias as written
    table_oid: int
    first: int
    count: int
    nullable: bool  # an outer join can leave the row out: its columns are then all NULL
    reason: str
    offset: int  # file offset of `sqlc.embed`, for diagnostics


@dataclass(frozen=True)
class CopyTarget:
    """Where a `:copyfrom` statement's rows go: `columns[i]` receives parameter i + 1."""

    schema: str
    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class TypedQuery:
    described: Described
    params: tuple[TypedParam, ...]
    columns: tuple[TypedColumn, ...]
    embeds: tuple[TypedEmbed, ...] = ()
    copy_target: CopyTarget | None = None
    rows: RowCount = RowCount(False, "zero or more rows: not analysed")  # whether exactly one row is certain
    sql: str = ""  # what generated code runs when it is not the statement as rewritten: stars expanded (sqlgen.expand)
    selects: bool = False  # a SELECT: it returns rows even when they have no columns (`SELECT FROM t`)
    dynamic: Plan | None = None  # the variant statements of optional filters and sort keys (sqlgen.dynamic)


def infer_query(described: Described, catalog: Catalog, views: Mapping[int, Node] | None = None) -> TypedQuery:
    """Name and type the parameters and columns of one described query.

    `views` holds the analysed query of each materialized view (by relation OID).
    """
    tree = described.tree
    uses = _parameter_uses(tree, catalog) if tree is not None else {}
    params = _typed_params(described, uses)
    if tree is not None:
        null_free = null_free_array_params(tree, catalog)
        params = tuple(replace(p, elements_nullable=p.number not in null_free) for p in params)
    judge = Nullability(catalog, views or {}, {p.number: p.nullable for p in params})
    columns = []
    for index, column in enumerate(described.columns):
        name, elements = _forced_elements(column, catalog)
        name, verdict = _forced(name) if _written_alias(column, catalog) else (name, None)
        if verdict is None:
            verdict = judge.output_column(tree, index + 1) if tree is not None else _UNANALYSED
        if elements is None and _is_array(catalog, column.type_oid):
            elements = element_nullability(catalog, judge, tree, index + 1) if tree is not None else _UNANALYSED
        columns.append(
            TypedColumn(
                name,
                column.type_oid,
                verdict.nullable,
                verdict.reason,
                column.table_oid,
                column.column_number,
                elements.nullable if elements is not None else True,
                elements.reason if elements is not None else "",
            )
        )
    embeds = tuple(_typed_embed(described, embed, catalog, judge) for embed in described.query.embeds)
    copy_target = _copy_target(described, catalog) if described.query.command is Command.COPYFROM else None
    rows = row_count(tree, catalog)
    selects = tree is not None and tree.int("commandType") == CMD_SELECT and tree.node("utilityStmt") is None
    return TypedQuery(described, params, tuple(columns), embeds, copy_target, rows, selects=selects)


def _copy_target(described: Described, catalog: Catalog) -> CopyTarget:
    """The table and columns of `INSERT INTO t (a, b) VALUES (@a, @b)`: what COPY can do instead."""
    query, tree = described.query, described.tree
    shape = UserError(
        [
            query.diagnostic(
                ":copyfrom needs `INSERT INTO table (columns) VALUES (parameters)`, each value one parameter",
                hint="COPY loads values as they are: move expressions and defaults out of VALUES, drop RETURNING"
                " and ON CONFLICT, or use :batchexec",
            )
        ]
    )
    if tree is None or tree.int("commandType") != CMD_INSERT or tree.nodes("returningList") or tree.node("onConflict"):
        raise shape
    table = catalog.tables.get(tree.nodes("rtable")[tree.int("resultRelation") - 1].int("relid"))
    by_param: dict[int, str] = {}
    for entry in tree.nodes("targetList"):
        expr = entry.node("expr")
        if expr is not None and all(n.int("location", -1) == -1 for n in walk(expr)):
            continue  # the default of a column the INSERT leaves out, which COPY fills in too
        while expr is not None and _column_coercion(expr):
            expr = expr.node("arg") or next(iter(expr.nodes("args")), None)
        if expr is None or expr.type != "PARAM" or expr.int("paramid") in by_param:
            raise shape
        by_param[expr.int("paramid")] = entry.text("resname") or ""
    if table is None or sorted(by_param) != list(range(1, len(described.param_types) + 1)) or not by_param:
        raise shape
    return CopyTarget(table.schema, table.name, tuple(by_param[n] for n in sorted(by_param)))


def _column_coercion(expr: Node) -> bool:
    """Whether `expr` only fits a value to its column: the length, precision or domain check COPY applies as well
    (`varchar(N)`, `numeric(p,s)`, a domain; element by element for an array such as `varchar(N)[]`)."""
    if expr.type in ("RELABELTYPE", "COERCETODOMAIN"):
        return True
    if expr.type == "FUNCEXPR":
        return expr.int("funcformat") == 2  # an implicit cast, as assignment adds it
    if expr.type == "ARRAYCOERCEEXPR":
        element = expr.node("elemexpr")
        return (
            expr.int("coerceformat") == 2
            and element is not None
            and all(
                n.type in ("CASETESTEXPR", "CONST") or (_column_coercion(n) and n.type != "ARRAYCOERCEEXPR")
                for n in walk(element)
            )
        )
    return False


_UNANALYSED = Verdict(True, "nullable: the server sent no analysis of the statement")


def _typed_embed(described: Described, embed: Embed, catalog: Catalog, judge: Nullability) -> TypedEmbed:
    """The columns `name.*` expanded to (their references carry its location); whether the row may be missing."""
    query, tree = described.query, described.tree
    if tree is None:
        raise UserError(
            [query.file.diagnostic("sqlc.embed() needs the server's analysis of the statement", embed.offset)]
        )
    found = [
        (index, expr)
        for index, entry in enumerate(output_entries(tree))
        if (expr := entry.node("expr")) is not None and expr.type == "VAR" and expr.int("location") == embed.sql_offset
    ]
    where = f"sqlc.embed({embed.name})"
    if not found or [i for i, _ in found] != list(range(found[0][0], found[0][0] + len(found))):
        raise UserError(
            [
                query.file.diagnostic(
                    f"{where} must be an item of the statement's own select list",
                    embed.offset,
                    hint="embed a table of the outermost FROM clause, not one inside a subquery or set operation",
                )
            ]
        )
    first = found[0][0]
    columns = described.columns[first : first + len(found)]
    table = catalog.tables.get(columns[0].table_oid)
    numbers = [c.number for c in table.columns] if table is not None else []
    if table is None or any(c.table_oid != table.oid for c in columns) or [c.column_number for c in columns] != numbers:
        raise UserError(
            [
                query.file.diagnostic(
                    f"{where} does not name a table or view",
                    embed.offset,
                    hint="embed a table or view of the FROM clause; list a subquery's or function's columns instead",
                )
            ]
        )
    verdict = judge.row_present(tree, found[0][1])
    return TypedEmbed(embed.name, table.oid, first, len(found), verdict.nullable, verdict.reason, embed.offset)


def _written_alias(column: ResultColumn, catalog: Catalog) -> bool:
    """Whether the column's name may be an alias the query wrote: not a table's or view's own column name
    (`"done!"` is a column's name, not an override, in `SELECT * FROM t`, also through a view, subquery or CTE)."""
    table = catalog.tables.get(column.table_oid)
    source = table.column(column.column_number) if table is not None else None
    return source is None or source.name != column.name


def _is_array(catalog: Catalog, type_oid: int) -> bool:
    pg_type = catalog.beneath_domains(type_oid)
    return pg_type is not None and pg_type.is_array


def _forced_elements(column: ResultColumn, catalog: Catalog) -> tuple[str, Verdict | None]:
    """A `[!]`/`[?]` suffix of an alias (not of a table column's own name) on an array column."""
    if not _written_alias(column, catalog) or not _is_array(catalog, column.type_oid):
        return column.name, None
    return forced_elements(column.name)


def _forced(name: str) -> tuple[str, Verdict | None]:
    if name == "?column?":  # PostgreSQL's name for an unnamed expression
        return name, None
    if len(name) > 1 and name.endswith("!"):
        return name[:-1], Verdict(False, "not null: the alias ends in `!`")
    if len(name) > 1 and name.endswith("?"):
        return name[:-1], Verdict(True, "nullable: the alias ends in `?`")
    return name, None


# ---------------------------------------------------------------------------------------
# Parameters


@dataclass
class _ParamUse:
    names: list[tuple[int, str]] = field(default_factory=list)  # (location, name) of each naming use
    nullable_reason: str | None = None
    assigned: tuple[Table, int] | None = None  # (table, attnum) it is stored into


def _typed_params(described: Described, uses: Mapping[int, _ParamUse]) -> tuple[TypedParam, ...]:
    declared = {p.number: p for p in described.query.params}
    names: dict[int, str] = {n: p.name for n, p in declared.items() if p.name}
    taken = set(names.values())
    for number in range(1, len(described.param_types) + 1):
        if number in names:
            continue
        use = uses.get(number)
        base = min(use.names)[1] if use and use.names else f"p{number}"
        candidate, count = base, 1
        while candidate in taken:
            count += 1
            candidate = f"{base}_{count}"
        names[number] = candidate
        taken.add(candidate)
    params = []
    for number, type_oid in enumerate(described.param_types, start=1):
        use = uses.get(number, _ParamUse())
        table_oid, column_number = (use.assigned[0].oid, use.assigned[1]) if use.assigned else (0, 0)
        if number in declared and declared[number].nullable:
            nullable, reason = True, "nullable: declared with sqlc.narg"
        elif use.nullable_reason:
            nullable, reason = True, use.nullable_reason
        else:
            nullable, reason = False, "not null: no use of it gives NULL a meaning"
        is_slice = number in declared and declared[number].slice
        params.append(TypedParam(number, names[number], type_oid, nullable, table_oid, column_number, reason, is_slice))
    return tuple(params)


@dataclass(frozen=True)
class _Step:
    node: Node
    field: str
    index: int | None  # position in the field's list, if it is a list


def _parameter_uses(tree: Node, catalog: Catalog) -> dict[int, _ParamUse]:
    uses: dict[int, _ParamUse] = {}
    for param, path in _params_with_paths(tree):
        number = param.int("paramid")
        use = uses.setdefault(number, _ParamUse())
        location = param.int("location", -1)
        _use_in_context(use, location, path, catalog)
    return uses


def _params_with_paths(tree: Node) -> Iterator[tuple[Node, list[_Step]]]:
    stack: list[tuple[Node, list[_Step]]] = [(tree, [])]
    while stack:
        node, path = stack.pop()
        if node.type == "PARAM" and node.int("paramkind") == 0:
            yield node, path
            continue
        for key, value in node.fields.items():
            if isinstance(value, Node):
                stack.append((value, [*path, _Step(node, key, None)]))
            elif isinstance(value, list):
                stack.extend(_list_children(value, [*path, _Step(node, key, None)]))


def _list_children(items: list[object], path: list[_Step]) -> Iterator[tuple[Node, list[_Step]]]:
    for index, item in enumerate(items):
        step = _Step(path[-1].node, path[-1].field, index)
        if isinstance(item, Node):
            yield item, [*path[:-1], step]
        elif isinstance(item, list):  # a list of lists: VALUES rows
            yield from _list_children(item, [*path[:-1], step])


_WRAPPERS = frozenset({"RELABELTYPE", "COERCEVIAIO", "ARRAYCOERCEEXPR", "COLLATEEXPR", "COERCETODOMAIN"})


def _is_wrapper(node: Node, through_functions: bool) -> bool:
    if node.type in _WRAPPERS:
        return True
    if node.type == "FUNCEXPR":
        return node.int("funcformat") in (1, 2) or (through_functions and len(node.nodes("args")) == 1)
    return False


def _use_in_context(use: _ParamUse, location: int, path: list[_Step], catalog: Catalog) -> None:
    _stored_through_expression(use, location, path, catalog)
    position = len(path) - 1
    while position >= 0 and _is_wrapper(path[position].node, through_functions=False):
        position -= 1
    if position < 0:
        return
    step = path[position]
    node = step.node
    if node.type == "NULLTEST":
        use.nullable_reason = use.nullable_reason or "nullable: tested with IS [NOT] NULL"
    elif node.type == "COALESCEEXPR" and step.index is not None and step.index < len(node.nodes("args")) - 1:
        use.nullable_reason = use.nullable_reason or "nullable: an argument of COALESCE"
    elif node.type == "DISTINCTEXPR":
        use.nullable_reason = use.nullable_reason or "nullable: compared with IS [NOT] DISTINCT FROM"
    elif node.type == "QUERY" and step.field in ("limitCount", "limitOffset"):
        use.names.append((location, "limit" if step.field == "limitCount" else "offset"))
        return
    elif node.type == "TARGETENTRY":
        _assignment(use, location, path[: position + 1], catalog)
        return
    elif node.type == "RANGETBLENTRY" and step.field == "values_lists":
        _values_assignment(use, location, path[: position + 1], catalog)
        return
    # The name comes from the column on the other side of a comparison, looking through
    # casts and one-argument functions on both sides: `lower(email) = lower($1)` → email.
    position = len(path) - 1
    while position >= 0 and (
        _is_wrapper(path[position].node, through_functions=True) or path[position].node.type == "ARRAYEXPR"
    ):
        position -= 1
    if position < 0:
        return
    step = path[position]
    if step.node.type in ("OPEXPR", "SCALARARRAYOPEXPR", "DISTINCTEXPR", "NULLIFEXPR"):
        for index, arg in enumerate(step.node.nodes("args")):
            if index == step.index:
                continue
            name = _column_name(_unwrap(arg, through_functions=True), path[: position + 1])
            if name:
                use.names.append((location, name))
                return


def _passes_null(step: _Step, catalog: Catalog) -> bool:
    """Whether a NULL at this step of the path can make the enclosing expression NULL."""
    node = step.node
    if _is_wrapper(node, through_functions=False):
        return True
    if node.type in ("FUNCEXPR", "OPEXPR"):
        function = catalog.functions.get(node.int("funcid" if node.type == "FUNCEXPR" else "opfuncid"))
        return function is not None and function.strict and node["funcretset"] is not True
    if node.type == "CASEWHEN":
        return step.field == "result"
    if node.type == "CASEEXPR":
        return step.field in ("args", "defresult")  # `args` holds the CASEWHENs; `arg` is the tested value
    if node.type == "NULLIFEXPR":
        return step.index == 0
    return node.type in ("COALESCEEXPR", "BOOLEXPR")


def _stored_through_expression(use: _ParamUse, location: int, path: list[_Step], catalog: Catalog) -> None:
    """A parameter whose NULL reaches a value INSERT or UPDATE stores (`SET name = CASE WHEN @f THEN @name
    ELSE name END`) gives NULL a meaning when that column may hold NULL: it is nullable too."""
    position = len(path) - 1
    while position >= 0 and _passes_null(path[position], catalog):
        position -= 1
    if position < 0 or all(_is_wrapper(step.node, through_functions=False) for step in path[position + 1 :]):
        return  # not inside an expression: the parameter itself is the value (the direct case names it too)
    if path[position].node.type == "TARGETENTRY":
        probe = _ParamUse()
        _assignment(probe, location, path[: position + 1], catalog)
    elif path[position].node.type == "RANGETBLENTRY" and path[position].field == "values_lists":
        probe = _ParamUse()
        _values_assignment(probe, location, path[: position + 1], catalog)
    else:
        return
    if probe.assigned is not None and probe.nullable_reason:
        table, attno = probe.assigned
        column = table.column(attno)
        name = f"{table.name}.{column.name}" if column is not None else table.name
        use.nullable_reason = use.nullable_reason or f"nullable: its NULL reaches {name}, which may be NULL"


def _unwrap(node: Node, through_functions: bool) -> Node:
    """The value beneath casts (and, if asked, one-argument function calls)."""
    while _is_wrapper(node, through_functions):
        args = node.nodes("args")
        inner = args[0] if node.type == "FUNCEXPR" and args else node.node("arg")
        if inner is None:
            break
        node = inner
    return node


def _enclosing_queries(path: Sequence[_Step]) -> list[Node]:
    """The QUERY nodes around a point, innermost first."""
    return [step.node for step in reversed(path) if step.node.type == "QUERY"]


def _column_name(node: Node, path: Sequence[_Step]) -> str | None:
    if node.type != "VAR":
        return None
    queries = _enclosing_queries(path)
    level = node.int("varlevelsup")
    if level >= len(queries):
        return None
    rtable = queries[level].nodes("rtable")
    varno, attno = node.int("varno"), node.int("varattno")
    if not 0 < varno <= len(rtable) or attno <= 0:
        return None
    rte = rtable[varno - 1]
    if rte.int("rtekind") == RTE_GROUP:
        groupexprs = rte.nodes("groupexprs")
        return _column_name(groupexprs[attno - 1], path) if attno <= len(groupexprs) else None
    eref = rte.node("eref")
    colnames = eref["colnames"] if eref else None
    if isinstance(colnames, list) and attno <= len(colnames) and isinstance(colnames[attno - 1], str):
        return colnames[attno - 1] or None
    return None


def _result_table(query: Node, catalog: Catalog) -> Table | None:
    index = query.int("resultRelation")
    rtable = query.nodes("rtable")
    if not 0 < index <= len(rtable):
        return None
    return catalog.tables.get(rtable[index - 1].int("relid"))


def _assign(use: _ParamUse, location: int, table: Table, attno: int) -> None:
    column = table.column(attno)
    if column is None:
        return
    use.names.append((location, column.name))
    use.assigned = use.assigned or (table, attno)
    if not column.not_null and not column.domain_not_null:
        use.nullable_reason = (
            use.nullable_reason or f"nullable: assigned to {table.name}.{column.name}, which may be NULL"
        )


def _assignment(use: _ParamUse, location: int, path: Sequence[_Step], catalog: Catalog) -> None:
    """A parameter that is a target entry: stored by INSERT/UPDATE, or a column of INSERT's SELECT."""
    entry = path[-1].node
    owner = path[-2] if len(path) >= 2 else None
    if owner is None:
        return
    if (
        owner.node.type == "QUERY"
        and owner.field == "targetList"
        and owner.node.int("commandType") in (CMD_UPDATE, CMD_INSERT)
    ):
        table = _result_table(owner.node, catalog)
        if table is not None:
            _assign(use, location, table, entry.int("resno"))
    elif owner.node.type == "ONCONFLICTEXPR" and owner.field == "onConflictSet":
        insert = next((q for q in _enclosing_queries(path)), None)
        table = _result_table(insert, catalog) if insert is not None else None
        if table is not None:
            _assign(use, location, table, entry.int("resno"))
    elif owner.node.type == "QUERY" and owner.field == "targetList" and len(path) >= 4:
        # INSERT INTO t (a, b) SELECT $1, $2: the SELECT is a subquery range entry of the INSERT.
        rte_step, insert_step = path[-3], path[-4]
        if rte_step.node.type == "RANGETBLENTRY" and insert_step.node.type == "QUERY":
            _store_through_entry(use, location, insert_step.node, insert_step.index, entry.int("resno"), catalog)


def _values_assignment(use: _ParamUse, location: int, path: Sequence[_Step], catalog: Catalog) -> None:
    """A parameter in a multi-row VALUES list feeding an INSERT."""
    rte_step = path[-1]
    if len(path) < 2 or path[-2].node.type != "QUERY" or rte_step.index is None:
        return
    # values_lists is a list of rows; the step's index is the column within the row.
    _store_through_entry(use, location, path[-2].node, path[-2].index, rte_step.index + 1, catalog)


def _store_through_entry(
    use: _ParamUse, location: int, insert: Node, rte_index: int | None, attno: int, catalog: Catalog
) -> None:
    if insert.int("commandType") != CMD_INSERT or rte_index is None:
        return
    table = _result_table(insert, catalog)
    if table is None:
        return
    for entry in insert.nodes("targetList"):
        expr = entry.node("expr")
        expr = _unwrap(expr, through_functions=False) if expr is not None else None
        if (
            expr is not None
            and expr.type == "VAR"
            and expr.int("varno") == rte_index + 1
            and expr.int("varattno") == attno
        ):
            _assign(use, location, table, entry.int("resno"))
