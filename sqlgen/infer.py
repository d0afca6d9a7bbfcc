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
suffix is dropped from the name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sqlgen.catalog import Catalog, Table
from sqlgen.describe import Described
from sqlgen.pgtree import Node


@dataclass(frozen=True)
class TypedParam:
    number: int
    name: str  # the SQL-level name: declared, inferred from context, or p<n>
    type_oid: int
    nullable: bool
    table_oid: int = 0  # the column the parameter is assigned to, if known
    column_number: int = 0
    reason: str = ""  # why it is (or is not) nullable, for explanations


@dataclass(frozen=True)
class TypedColumn:
    name: str  # as PostgreSQL reports it, without a `!`/`?` suffix
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
class Verdict:
    nullable: bool
    reason: str


def infer_query(described: Described, catalog: Catalog, views: Mapping[int, Node] | None = None) -> TypedQuery:
    """Name and type the parameters and columns of one described query.

    `views` holds the analysed query of each materialized view (by relation OID).
    """
    tree = described.tree
    uses = _parameter_uses(tree, catalog) if tree is not None else {}
    params = _typed_params(described, uses)
    judge = _Nullability(catalog, views or {}, {p.number: p.nullable for p in params})
    columns = []
    for index, column in enumerate(described.columns):
        name, verdict = _forced(column.name)
        if verdict is None:
            verdict = judge.output_column(tree, index + 1) if tree is not None else _UNANALYSED
        columns.append(
            TypedColumn(name, column.type_oid, verdict.nullable, verdict.reason, column.table_oid, column.column_number)
        )
    return TypedQuery(described, params, tuple(columns))


_UNANALYSED = Verdict(True, "nullable: the server sent no analysis of the statement")


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
        params.append(TypedParam(number, names[number], type_oid, nullable, table_oid, column_number, reason))
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
            name = _column_name(_unwrap(arg), path[: position + 1])
            if name:
                use.names.append((location, name))
                return


def _unwrap(node: Node) -> Node:
    while _is_wrapper(node, through_functions=True):
        args = node.nodes("args")
        inner = args[0] if node.type == "FUNCEXPR" else node.node("arg")
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
    if rte.int("rtekind") == _RTE_GROUP:
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
    if not column.not_null:
        use.nullable_reason = (
            use.nullable_reason or f"nullable: assigned to {table.name}.{column.name}, which may be NULL"
        )


def _assignment(use: _ParamUse, location: int, path: Sequence[_Step], catalog: Catalog) -> None:
    """A parameter that is a target entry: stored by INSERT/UPDATE, or a column of INSERT's SELECT."""
    entry = path[-1].node
    owner = path[-2] if len(path) >= 2 else None
    if owner is None:
        return
    if owner.node.type == "QUERY" and owner.field == "targetList" and owner.node.int("commandType") in (2, 3):
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
    if insert.int("commandType") != 3 or rte_index is None:
        return
    table = _result_table(insert, catalog)
    if table is None:
        return
    for entry in insert.nodes("targetList"):
        expr = _unwrap_casts(entry.node("expr"))
        if (
            expr is not None
            and expr.type == "VAR"
            and expr.int("varno") == rte_index + 1
            and expr.int("varattno") == attno
        ):
            _assign(use, location, table, entry.int("resno"))


def _unwrap_casts(node: Node | None) -> Node | None:
    while node is not None and _is_wrapper(node, through_functions=False):
        node = node.nodes("args")[0] if node.type == "FUNCEXPR" else node.node("arg")
    return node


# ---------------------------------------------------------------------------------------
# Result columns

_RTE_RELATION, _RTE_SUBQUERY, _RTE_JOIN, _RTE_FUNCTION, _RTE_VALUES, _RTE_CTE, _RTE_GROUP = 0, 1, 2, 3, 5, 6, 9
_CMD_SELECT, _CMD_UPDATE, _CMD_INSERT, _CMD_DELETE, _CMD_MERGE = 1, 2, 3, 4, 5
_JOIN_NAMES = {1: "LEFT JOIN", 2: "FULL JOIN", 3: "RIGHT JOIN"}
_RELKIND_NAMES = {"v": "a view", "m": "a materialized view", "f": "a foreign table"}

# pg_catalog functions that return a non-null value for non-null arguments. An allow-list:
# many strict built-ins return NULL for some non-null inputs (regexp_match without a match,
# to_char of an infinite timestamp, extract(month from 'infinity'), array_length of an
# empty array, lower() of an unbounded range), so only functions known not to are here.
_NON_NULL_FUNCTIONS = frozenset(
    """
    abbrev abs acos acosd age array_append array_cat array_fill array_prepend array_remove array_replace
    array_reverse array_sample array_shuffle array_sort array_to_json array_to_string ascii asin asind atan
    atan2 atan2d atand bit_count bit_length broadcast btrim cardinality casefold cbrt ceil ceiling char_length
    character_length chr clock_timestamp concat cos cosd cosh cot cotd current_database date_trunc decode
    degrees div encode exp factorial family floor gcd gen_random_uuid hashtext host hostmask initcap
    inet_merge inet_same_family isempty isfinite json_array_length json_build_array json_build_object
    json_object json_strip_nulls json_typeof jsonb_array_length jsonb_build_array jsonb_build_object
    jsonb_insert jsonb_object jsonb_pretty jsonb_set jsonb_strip_nulls jsonb_typeof justify_days
    justify_hours justify_interval lcm left length ln log log10 lower_inc lower_inf lpad ltrim make_date
    make_interval make_time make_timestamp make_timestamptz masklen md5 mod netmask network nextval
    normalize now num_nonnulls num_nulls octet_length overlay pg_backend_pid pg_typeof phraseto_tsquery pi
    plainto_tsquery position power quote_ident quote_literal radians random random_normal range_merge
    regexp_count regexp_instr regexp_like regexp_replace regexp_split_to_array repeat replace reverse
    right round row_to_json rpad rtrim set_masklen setweight sha224 sha256 sha384 sha512 sign sin sind
    sinh split_part sqrt starts_with statement_timestamp string_to_array strpos substr tan tand tanh
    textcat timeofday timezone to_hex to_json to_jsonb to_tsquery to_tsvector transaction_timestamp
    translate trim_array trunc ts_headline ts_rank ts_rank_cd unistr upper_inc upper_inf uuidv4 uuidv7
    version websearch_to_tsquery width_bucket
    """.split()
)
# Overloaded names where only some forms qualify (`lower(anyrange)` is NULL for an unbounded range,
# `substring(text, text)` is NULL when the pattern does not match).
_NON_NULL_SIGNATURES = frozenset(
    {
        "lower(text)",
        "upper(text)",
        "substring(text,integer)",
        "substring(text,integer,integer)",
        "substring(bytea,integer)",
        "substring(bytea,integer,integer)",
        "generate_series(integer,integer)",
        "generate_series(integer,integer,integer)",
        "generate_series(bigint,bigint)",
        "generate_series(bigint,bigint,bigint)",
        "generate_series(numeric,numeric)",
        "generate_series(numeric,numeric,numeric)",
        "generate_series(timestamp without time zone,timestamp without time zone,interval)",
        "generate_series(timestamp with time zone,timestamp with time zone,interval)",
        "generate_series(timestamp with time zone,timestamp with time zone,interval,text)",
    }
)
# Never NULL, whatever the arguments (NULL range bounds mean unbounded).
_NEVER_NULL_FUNCTIONS = frozenset(
    """
    concat json_build_array json_build_object jsonb_build_array jsonb_build_object num_nonnulls num_nulls
    int4range int8range numrange tsrange tstzrange daterange int4multirange int8multirange nummultirange
    tsmultirange tstzmultirange datemultirange
    """.split()
)
# Functions behind strict operators that still return NULL for non-null operands: the
# json/jsonb accessors (`->`, `->>`, `#>`, `#>>` on a missing key), jsonpath matches,
# and geometric intersections of shapes that do not meet.
_NULLABLE_OPERATOR_FUNCTIONS = frozenset(
    """
    json_object_field json_object_field_text json_array_element json_array_element_text
    json_extract_path json_extract_path_text jsonb_object_field jsonb_object_field_text
    jsonb_array_element jsonb_array_element_text jsonb_extract_path jsonb_extract_path_text
    jsonb_extract_path_op jsonb_extract_path_text_op json_extract_path_op json_extract_path_text_op
    jsonb_path_match_opr jsonb_path_exists_opr lseg_interpt line_interpt box_intersect
    """.split()
)
_COUNTING_AGGREGATES = frozenset({"count"})
# Never NULL over a non-empty group (NULL inputs become elements).
_COLLECTING_AGGREGATES = frozenset({"array_agg", "json_agg", "jsonb_agg"})
# Never NULL over a non-empty group of non-null inputs.
_FOLDING_AGGREGATES = frozenset(
    {"sum", "min", "max", "avg", "bool_and", "bool_or", "every", "bit_and", "bit_or", "bit_xor", "string_agg"}
)
_RANKING_WINDOW_FUNCTIONS = frozenset({"row_number", "rank", "dense_rank", "percent_rank", "cume_dist"})
_SQL_VALUE_CURRENT_SCHEMA = 14

# WindowClause.frameOptions bits (nodes/parsenodes.h).
_FRAME_START_UNBOUNDED_PRECEDING = 0x20
_FRAME_START_CURRENT_ROW = 0x200
_FRAME_START_OFFSET_PRECEDING = 0x800
_FRAME_END_UNBOUNDED_FOLLOWING = 0x100
_FRAME_END_CURRENT_ROW = 0x400
_FRAME_END_OFFSET_FOLLOWING = 0x4000
_FRAME_EXCLUDES_CURRENT_ROW = 0x8000 | 0x10000


def _not_null(reason: str) -> Verdict:
    return Verdict(False, f"not null: {reason}")


def _nullable(reason: str) -> Verdict:
    return Verdict(True, f"nullable: {reason}")


_VarKey = tuple[int, int]


@dataclass(eq=False)
class _Scope:
    """One query level, with what its WHERE and inner-join conditions prove about its rows."""

    query: Node
    parent: _Scope | None
    non_null: dict[_VarKey, list[frozenset[int]]]  # (varno, attno) → nulling sets at which it is proven non-null
    present: dict[int, list[frozenset[int]]]  # varno → nulling sets at which its row is proven present
    legacy_nullable: frozenset[int]  # servers before 16 (no varnullingrels): range entries outer joins can null

    @property
    def rtable(self) -> list[Node]:
        return self.query.nodes("rtable")


class _Nullability:
    def __init__(self, catalog: Catalog, views: Mapping[int, Node], params: Mapping[int, bool]) -> None:
        self.catalog = catalog
        self.views = views
        self.params = params
        self.assumed: dict[int, list[bool]] = {}  # recursive CTEs being solved: id(cte) → assumed nullability
        self.expanding_views: set[int] = set()

    def output_column(self, query: Node, attno: int) -> Verdict:
        try:
            return self.output(query, attno, None)
        except (LookupError, TypeError, ValueError, AttributeError, RecursionError):
            return _nullable("the statement has a shape sqlgen does not analyse")

    # -- query levels -------------------------------------------------------------------

    def output(self, query: Node, attno: int, parent: _Scope | None) -> Verdict:
        """Column `attno` of what `query` returns (its target list, or RETURNING list)."""
        scope = self.scope(query, parent)
        setop = query.node("setOperations")
        if setop is not None:
            return self.set_operation(setop, attno, scope)
        entries = query.nodes("targetList" if query.int("commandType") == _CMD_SELECT else "returningList")
        entry = next(e for e in entries if e.int("resno") == attno and e["resjunk"] is not True)
        return self.expr(entry.node("expr"), scope)

    def set_operation(self, node: Node, attno: int, scope: _Scope) -> Verdict:
        if node.type == "RANGETBLREF":
            rte = scope.rtable[node.int("rtindex") - 1]
            return self.output(rte.node("subquery") or _missing("subquery"), attno, scope)
        left = self.set_operation(node.node("larg") or _missing("larg"), attno, scope)
        right = self.set_operation(node.node("rarg") or _missing("rarg"), attno, scope)
        operation = node.int("op")
        if operation == 3:  # EXCEPT: rows of the left side
            return left
        if operation == 2:  # INTERSECT: rows in both
            return left if not left.nullable else right
        return left if left.nullable else right  # UNION: rows of either

    def scope(self, query: Node, parent: _Scope | None) -> _Scope:
        non_null: dict[_VarKey, list[frozenset[int]]] = {}
        present: dict[int, list[frozenset[int]]] = {}
        jointree = query.node("jointree")
        quals = _conjuncts(jointree.node("quals")) if jointree else []
        uses_nulling_sets = _has_nulling_sets(query)
        if jointree is not None and uses_nulling_sets:
            for join in _join_exprs(jointree):
                if join.int("jointype") == 0:
                    quals.extend(_conjuncts(join.node("quals")))
        for qual in quals:
            for var in self.rejected_when_null(qual):
                nulling = _nulling(var) or frozenset()
                non_null.setdefault((var.int("varno"), var.int("varattno")), []).append(nulling)
                present.setdefault(var.int("varno"), []).append(nulling)
        legacy = frozenset() if uses_nulling_sets or jointree is None else _outer_nullable(jointree, query)
        return _Scope(query, parent, non_null, present, legacy)

    # -- what a WHERE clause proves -------------------------------------------------------

    def rejected_when_null(self, qual: Node) -> list[Node]:
        """Vars (of this level) whose being NULL makes `qual` NULL or false, so rows passing it have them non-null."""
        if qual.type == "BOOLEXPR":
            args = qual.nodes("args")
            if qual["boolop"] == "and":
                return [v for arg in args for v in self.rejected_when_null(arg)]
            if qual["boolop"] == "or" and args:  # only what every branch rejects
                branches = [self.rejected_when_null(arg) for arg in args]
                common = {_var_identity(v) for v in branches[0]}
                for branch in branches[1:]:
                    common &= {_var_identity(v) for v in branch}
                return [v for v in branches[0] if _var_identity(v) in common]
            return []
        if qual.type == "NULLTEST":
            arg = qual.node("arg")
            return (
                self.propagating_null(arg)
                if qual.int("nulltesttype") == 1 and qual["argisrow"] is not True and arg
                else []
            )
        if qual.type == "BOOLEANTEST":
            arg = qual.node("arg")
            return self.propagating_null(arg) if qual.int("booltesttype") in (0, 2) and arg else []
        if qual.type == "SCALARARRAYOPEXPR":
            function = self.catalog.functions.get(qual.int("opfuncid"))
            if function is not None and function.strict:
                return [v for arg in qual.nodes("args") for v in self.propagating_null(arg)]
            return []
        return self.propagating_null(qual)

    def propagating_null(self, node: Node) -> list[Node]:
        """Vars (of this level) whose being NULL makes `node` NULL."""
        if node.type == "VAR":
            return [node] if node.int("varlevelsup") == 0 and node.int("varattno") > 0 else []
        if node.type in ("RELABELTYPE", "COERCEVIAIO", "COLLATEEXPR"):
            arg = node.node("arg")
            return self.propagating_null(arg) if arg else []
        if node.type in ("OPEXPR", "FUNCEXPR"):
            function = self.catalog.functions.get(node.int("opfuncid" if node.type == "OPEXPR" else "funcid"))
            if function is not None and function.strict and node["funcretset"] is not True:
                return [v for arg in node.nodes("args") for v in self.propagating_null(arg)]
        return []

    # -- expressions ---------------------------------------------------------------------

    def expr(self, node: Node | None, scope: _Scope) -> Verdict:
        if node is None:
            return _nullable("an expression sqlgen cannot see")
        method = getattr(self, f"expr_{node.type.lower()}", None)
        if method is None:
            return _nullable(f"sqlgen does not analyse {node.type.lower()} expressions")
        verdict: Verdict = method(node, scope)
        return verdict

    def all_of(self, nodes: list[Node], scope: _Scope, what: str) -> Verdict:
        for node in nodes:
            verdict = self.expr(node, scope)
            if verdict.nullable:
                return verdict
        return _not_null(f"{what} of non-null values")

    def any_of(self, nodes: list[Node], scope: _Scope, what: str) -> Verdict:
        verdicts = [self.expr(node, scope) for node in nodes]
        found = next((v for v in verdicts if not v.nullable), None)
        if found is not None:
            return _not_null(f"{what} has a non-null argument")
        return _nullable(f"{what} has no argument that is never NULL")

    def expr_const(self, node: Node, scope: _Scope) -> Verdict:
        return _nullable("the NULL literal") if node["constisnull"] is True else _not_null("a literal")

    def expr_param(self, node: Node, scope: _Scope) -> Verdict:
        number = node.int("paramid")
        if node.int("paramkind") != 0 or self.params.get(number, True):
            return _nullable(f"parameter ${number} may be NULL")
        return _not_null(f"parameter ${number} is not null")

    def expr_relabeltype(self, node: Node, scope: _Scope) -> Verdict:
        return self.expr(node.node("arg"), scope)

    expr_coerceviaio = expr_arraycoerceexpr = expr_convertrowtypeexpr = expr_collateexpr = expr_relabeltype

    def expr_coercetodomain(self, node: Node, scope: _Scope) -> Verdict:
        domain = self.catalog.types.get(node.int("resulttype"))
        if domain is not None and domain.not_null:
            return _not_null(f"the NOT NULL domain {domain.name}")
        return self.expr(node.node("arg"), scope)

    def expr_funcexpr(self, node: Node, scope: _Scope) -> Verdict:
        function = self.catalog.functions.get(node.int("funcid"))
        if function is None:
            return _nullable("an unknown function")
        args = node.nodes("args")
        if not function.builtin:
            return _nullable(
                f"{function.name}() is not a built-in function (add `!` to the alias if it never returns NULL)"
            )
        if node.int("funcformat") in (1, 2):
            return self.all_of(args, scope, "a cast")
        if function.name in _NEVER_NULL_FUNCTIONS:
            return _not_null(f"{function.name}() never returns NULL")
        if function.name in _NON_NULL_FUNCTIONS or function.signature in _NON_NULL_SIGNATURES:
            return self.all_of(args, scope, f"{function.name}()")
        return _nullable(f"{function.name}() may return NULL")

    def expr_opexpr(self, node: Node, scope: _Scope) -> Verdict:
        function = self.catalog.functions.get(node.int("opfuncid"))
        if function is None or not function.builtin or not function.strict:
            return _nullable("an operator that may return NULL")
        if function.name in _NULLABLE_OPERATOR_FUNCTIONS or function.name.startswith("close_"):
            return _nullable(f"the operator ({function.name}) returns NULL when nothing matches")
        return self.all_of(node.nodes("args"), scope, "an operator")

    def expr_distinctexpr(self, node: Node, scope: _Scope) -> Verdict:
        return _not_null("IS DISTINCT FROM is never NULL")

    def expr_nullifexpr(self, node: Node, scope: _Scope) -> Verdict:
        return _nullable("NULLIF() returns NULL when its arguments are equal")

    def expr_scalararrayopexpr(self, node: Node, scope: _Scope) -> Verdict:
        args = node.nodes("args")
        function = self.catalog.functions.get(node.int("opfuncid"))
        if function is None or not function.builtin or not function.strict or len(args) != 2:
            return _nullable("an operator that may return NULL")
        array = args[1]
        if array.type != "ARRAYEXPR":
            return _nullable("x = ANY(array) is NULL when the array holds a NULL")
        return self.all_of([args[0], *array.nodes("elements")], scope, "an IN list")

    def expr_boolexpr(self, node: Node, scope: _Scope) -> Verdict:
        return self.all_of(node.nodes("args"), scope, "AND/OR/NOT")

    def expr_nulltest(self, node: Node, scope: _Scope) -> Verdict:
        return _not_null("IS [NOT] NULL is never NULL")

    def expr_booleantest(self, node: Node, scope: _Scope) -> Verdict:
        return _not_null("IS [NOT] TRUE/FALSE/UNKNOWN is never NULL")

    def expr_coalesceexpr(self, node: Node, scope: _Scope) -> Verdict:
        return self.any_of(node.nodes("args"), scope, "COALESCE")

    def expr_minmaxexpr(self, node: Node, scope: _Scope) -> Verdict:
        return self.any_of(node.nodes("args"), scope, "GREATEST/LEAST")

    def expr_caseexpr(self, node: Node, scope: _Scope) -> Verdict:
        results = [w.node("result") for w in node.nodes("args")]
        default = node.node("defresult")
        for result in [*results, default]:
            if result is None:
                return _nullable("CASE without ELSE")
            verdict = self.expr(result, scope)
            if verdict.nullable:
                if result is default and result.type == "CONST" and result["constisnull"] is True:
                    return _nullable("CASE without ELSE is NULL when no branch matches")
                return verdict
        return _not_null("every branch of the CASE is non-null")

    def expr_sqlvaluefunction(self, node: Node, scope: _Scope) -> Verdict:
        if node.int("op") == _SQL_VALUE_CURRENT_SCHEMA:
            return _nullable("CURRENT_SCHEMA is NULL when the search path is empty")
        return _not_null("a CURRENT_… value")

    def expr_rowexpr(self, node: Node, scope: _Scope) -> Verdict:
        return _not_null("a ROW(…) value")

    def expr_arrayexpr(self, node: Node, scope: _Scope) -> Verdict:
        return _not_null("an ARRAY[…] value")

    def expr_groupingfunc(self, node: Node, scope: _Scope) -> Verdict:
        return _not_null("GROUPING() is never NULL")

    def expr_nextvalueexpr(self, node: Node, scope: _Scope) -> Verdict:
        return _not_null("a sequence value")

    def expr_mergesupportfunc(self, node: Node, scope: _Scope) -> Verdict:
        return _not_null("merge_action() is never NULL")

    def expr_sublink(self, node: Node, scope: _Scope) -> Verdict:
        kind = node.int("subLinkType")
        if kind == 0:
            return _not_null("EXISTS is never NULL")
        if kind == 6:
            return _not_null("ARRAY(subquery) is never NULL")
        subselect = node.node("subselect")
        if kind == 4 and subselect is not None:
            if not _always_one_row(subselect):
                return _nullable("a scalar subquery is NULL when it returns no row")
            verdict = self.output(subselect, 1, scope)
            if verdict.nullable:
                return verdict
            return _not_null("a subquery that always returns one non-null row")
        return _nullable("a subquery comparison may be NULL")

    def expr_aggref(self, node: Node, scope: _Scope) -> Verdict:
        level = _up(scope, node.int("agglevelsup"))
        function = self.catalog.functions.get(node.int("aggfnoid"))
        if function is None or not function.builtin:
            return _nullable("a user-defined aggregate may return NULL")
        if function.name in _COUNTING_AGGREGATES:
            return _not_null("count() is never NULL")
        query = level.query
        if query["groupingSets"] or not query["groupClause"]:
            return _nullable(f"{function.name}() is NULL over no rows")
        if node["aggfilter"] is not None:
            return _nullable(f"{function.name}() is NULL when FILTER leaves a group empty")
        args = [entry.node("expr") for entry in node.nodes("args")]
        return self.of_non_empty_group(function.name, [a for a in args if a is not None], level)

    def of_non_empty_group(self, name: str, args: list[Node], scope: _Scope) -> Verdict:
        if name in _COLLECTING_AGGREGATES:
            return _not_null(f"{name}() of a non-empty group")
        if name in _FOLDING_AGGREGATES:
            inputs = args[:1]
            for arg in inputs:
                verdict = self.expr(arg, scope)
                if verdict.nullable:
                    return _nullable(f"{name}() is NULL when every input is NULL ({verdict.reason})")
            return _not_null(f"{name}() of a non-empty group of non-null values")
        return _nullable(f"{name}() may return NULL")

    def expr_windowfunc(self, node: Node, scope: _Scope) -> Verdict:
        function = self.catalog.functions.get(node.int("winfnoid"))
        if function is None or not function.builtin:
            return _nullable("a user-defined window function may return NULL")
        name = function.name
        args = node.nodes("args")
        if name in _RANKING_WINDOW_FUNCTIONS or name in _COUNTING_AGGREGATES:
            return _not_null(f"{name}() is never NULL")
        if name == "ntile":
            return self.all_of(args, scope, "ntile()")
        if name in ("lag", "lead"):
            if len(args) == 3:
                return self.all_of([args[0], args[2]], scope, f"{name}() with a default")
            return _nullable(f"{name}() is NULL where there is no {'previous' if name == 'lag' else 'next'} row")
        if node["aggfilter"] is not None or not self.frame_holds_current_row(node, scope):
            return _nullable(f"{name}() over a frame that may be empty")
        if name in ("first_value", "last_value"):
            return self.all_of(args[:1], scope, f"{name}()")
        return self.of_non_empty_group(name, args, scope)

    def frame_holds_current_row(self, node: Node, scope: _Scope) -> bool:
        clause = next((w for w in scope.query.nodes("windowClause") if w.int("winref") == node.int("winref")), None)
        if clause is None:
            return False
        options = clause.int("frameOptions")
        starts_at_or_before = options & (
            _FRAME_START_UNBOUNDED_PRECEDING | _FRAME_START_CURRENT_ROW | _FRAME_START_OFFSET_PRECEDING
        )
        ends_at_or_after = options & (
            _FRAME_END_CURRENT_ROW | _FRAME_END_UNBOUNDED_FOLLOWING | _FRAME_END_OFFSET_FOLLOWING
        )
        return bool(starts_at_or_before and ends_at_or_after and not options & _FRAME_EXCLUDES_CURRENT_ROW)

    # -- column references ---------------------------------------------------------------

    def expr_var(self, node: Node, scope: _Scope) -> Verdict:
        level = _up(scope, node.int("varlevelsup"))
        varno, attno = node.int("varno"), node.int("varattno")
        rte = level.rtable[varno - 1]
        nulling = _nulling(node)
        where = _rte_label(rte)
        if any(nulling is None or nulling <= proven for proven in level.non_null.get((varno, attno), [])):
            return _not_null(f"{where} is tested non-null by the WHERE clause or an inner join")
        row_present = any(nulling is None or nulling <= proven for proven in level.present.get(varno, []))
        if not row_present:
            join = self.nulling_join(level, varno, nulling)
            if join is not None:
                return _nullable(join)
        return self.rte_column(rte, attno, level, node)

    def nulling_join(self, scope: _Scope, varno: int, nulling: frozenset[int] | None) -> str | None:
        """Why an outer join (or grouping set) can null this reference, if one can."""
        rtable = scope.rtable
        if nulling is None:
            if varno in scope.legacy_nullable:
                return f"{_rte_label(rtable[varno - 1])} is on the nullable side of an outer join"
            return None
        for index in sorted(nulling):
            rte = rtable[index - 1]
            if rte.int("rtekind") == _RTE_GROUP:
                return "a grouping key is NULL in the subtotal rows of ROLLUP/CUBE/GROUPING SETS"
            join = _JOIN_NAMES.get(rte.int("jointype"), "an outer join")
            return f"{_rte_label(rtable[varno - 1])} is on the nullable side of a {join}"
        return None

    def rte_column(self, rte: Node, attno: int, scope: _Scope, var: Node) -> Verdict:
        kind = rte.int("rtekind")
        if kind == _RTE_RELATION:
            return self.relation_column(rte, attno, scope, var)
        if kind == _RTE_SUBQUERY:
            subquery = rte.node("subquery") or _missing("subquery")
            return self.output(subquery, attno, scope)
        if kind in (_RTE_JOIN, _RTE_GROUP):
            exprs = rte["joinaliasvars" if kind == _RTE_JOIN else "groupexprs"]
            expr = exprs[attno - 1] if isinstance(exprs, list) and 0 < attno <= len(exprs) else None
            return self.expr(expr if isinstance(expr, Node) else None, scope)
        if kind == _RTE_FUNCTION:
            return self.function_column(rte, attno, scope)
        if kind == _RTE_VALUES:
            rows = rte["values_lists"]
            if not isinstance(rows, list):
                return _nullable("a VALUES list")
            for row in rows:
                cell = row[attno - 1] if isinstance(row, list) else None
                verdict = self.expr(cell if isinstance(cell, Node) else None, scope)
                if verdict.nullable:
                    return verdict
            return _not_null("every VALUES row is non-null here")
        if kind == _RTE_CTE:
            return self.cte_column(rte, attno, scope)
        return _nullable(f"{_rte_label(rte)} is not a table sqlgen analyses")

    def relation_column(self, rte: Node, attno: int, scope: _Scope, var: Node) -> Verdict:
        if attno < 0:
            return _not_null("a system column")
        table = self.catalog.tables.get(rte.int("relid"))
        if table is None:
            return _nullable("an unknown table")
        if scope.query.int("resultRelation") and rte is scope.rtable[scope.query.int("resultRelation") - 1]:
            returning = var.int("varreturningtype")
            command = scope.query.int("commandType")
            if returning == 1 and command in (_CMD_INSERT, _CMD_MERGE):
                return _nullable("RETURNING old.… is NULL for an inserted row")
            if returning == 2 and command in (_CMD_DELETE, _CMD_MERGE):
                return _nullable("RETURNING new.… is NULL for a deleted row")
        if attno == 0:
            return _not_null(f"a whole row of {table.name}")
        column = table.column(attno)
        if column is None:
            return _nullable("an unknown column")
        where = f"{table.name}.{column.name}"
        if table.kind == "m" and table.oid in self.views and table.oid not in self.expanding_views:
            self.expanding_views.add(table.oid)
            try:
                verdict = self.output(self.views[table.oid], attno, None)
            finally:
                self.expanding_views.discard(table.oid)
            return Verdict(verdict.nullable, f"{verdict.reason} (in materialized view {table.name})")
        if not table.enforces_not_null:
            return _nullable(f"{where} belongs to {_RELKIND_NAMES.get(table.kind, 'a relation')}")
        if column.not_null:
            return _not_null(f"{where} is NOT NULL")
        return _nullable(f"{where} has no NOT NULL constraint")

    def function_column(self, rte: Node, attno: int, scope: _Scope) -> Verdict:
        offset = 0
        for entry in rte.nodes("functions"):
            count = entry.int("funccolcount")
            if attno <= offset + count:
                call = entry.node("funcexpr")
                if count == 1 and call is not None and call.type == "FUNCEXPR":
                    function = self.catalog.functions.get(call.int("funcid"))
                    if function is not None and function.builtin and function.signature in _NON_NULL_SIGNATURES:
                        return self.all_of(call.nodes("args"), scope, f"{function.name}()")
                return _nullable("a set-returning function's column may be NULL")
            offset += count
        if rte["funcordinality"] is True and attno == offset + 1:
            return _not_null("WITH ORDINALITY numbers every row")
        return _nullable("a set-returning function's column may be NULL")

    def cte_column(self, rte: Node, attno: int, scope: _Scope) -> Verdict:
        level = _up(scope, rte.int("ctelevelsup"))
        name = rte.text("ctename")
        cte = next(c for c in level.query.nodes("cteList") if c.text("ctename") == name)
        query = cte.node("ctequery") or _missing("CTE query")
        key = id(cte)
        if key in self.assumed:
            assumed = self.assumed[key][attno - 1]
            return Verdict(assumed, f"{'nullable' if assumed else 'not null'}: the recursive reference to {name}")
        if cte["cterecursive"] is not True:
            return self.output(query, attno, level)
        # A recursive CTE: start from "nothing is NULL" and widen until the answer is stable.
        names = cte["ctecolnames"]
        width = len(names) if isinstance(names, list) and names else attno
        assumption = [False] * width
        verdicts: list[Verdict] = []
        for _ in range(width + 1):
            self.assumed[key] = assumption
            try:
                verdicts = [self.output(query, column, level) for column in range(1, width + 1)]
            finally:
                del self.assumed[key]
            found = [a or v.nullable for a, v in zip(assumption, verdicts, strict=True)]
            if found == assumption:
                break
            assumption = found
        return verdicts[attno - 1]


def _up(scope: _Scope, levels: int) -> _Scope:
    for _ in range(levels):
        if scope.parent is None:
            raise LookupError("a reference to a query level the tree does not have")
        scope = scope.parent
    return scope


def _missing(what: str) -> Node:
    raise LookupError(f"the tree has no {what}")


def _nulling(var: Node) -> frozenset[int] | None:
    """The outer joins that can null this reference (PostgreSQL 16+), or None on older servers."""
    value = var["varnullingrels"]
    if isinstance(value, frozenset):
        return value
    return frozenset() if value is None and "varnullingrels" in var.fields else None


def _has_nulling_sets(query: Node) -> bool:
    for node in _walk_level(query):
        if node.type == "VAR":
            return "varnullingrels" in node.fields
    return True


def _walk_level(query: Node) -> Iterator[Node]:
    stack = [query]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children())


def _var_identity(var: Node) -> tuple[int, int, frozenset[int] | None]:
    return var.int("varno"), var.int("varattno"), _nulling(var)


def _conjuncts(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.type == "BOOLEXPR" and node["boolop"] == "and":
        return [c for arg in node.nodes("args") for c in _conjuncts(arg)]
    if node.type == "LIST" or isinstance(node, list):
        return []
    return [node]


def _join_exprs(node: Node) -> Iterator[Node]:
    if node.type == "FROMEXPR":
        for item in node.nodes("fromlist"):
            yield from _join_exprs(item)
    elif node.type == "JOINEXPR":
        yield node
        for side in ("larg", "rarg"):
            child = node.node(side)
            if child is not None:
                yield from _join_exprs(child)


def _range_indexes(node: Node) -> set[int]:
    if node.type == "RANGETBLREF":
        return {node.int("rtindex")}
    indexes: set[int] = set()
    if node.type == "JOINEXPR":
        indexes.add(node.int("rtindex"))
        for side in ("larg", "rarg"):
            child = node.node(side)
            if child is not None:
                indexes |= _range_indexes(child)
    elif node.type == "FROMEXPR":
        for item in node.nodes("fromlist"):
            indexes |= _range_indexes(item)
    return indexes


def _outer_nullable(jointree: Node, query: Node) -> frozenset[int]:
    """Range entries an outer join can null, for servers that do not mark references themselves."""
    nullable: set[int] = set()
    for join in _join_exprs(jointree):
        kind = join.int("jointype")
        left, right = join.node("larg"), join.node("rarg")
        if kind in (1, 2) and right is not None:
            nullable |= _range_indexes(right)
        if kind in (2, 3) and left is not None:
            nullable |= _range_indexes(left)
    if query["groupingSets"]:
        nullable |= set(range(1, len(query.nodes("rtable")) + 1))
    return frozenset(nullable)


def _always_one_row(query: Node) -> bool:
    """A subquery that aggregates without grouping returns exactly one row."""
    return (
        query.int("commandType") == _CMD_SELECT
        and query["hasAggs"] is True
        and not query["groupClause"]
        and not query["groupingSets"]
        and query["havingQual"] is None
        and query["limitCount"] is None
        and query["limitOffset"] is None
        and query["setOperations"] is None
        and query["hasTargetSRFs"] is not True
    )


def _rte_label(rte: Node) -> str:
    alias = rte.node("alias")
    eref = rte.node("eref")
    name = (alias.text("aliasname") if alias else None) or (eref.text("aliasname") if eref else None) or "a relation"
    return name
