"""Result column nullability, decided on the query tree PostgreSQL analysed (see `sqlgen.pgtree`).

A column is non-null only when that is certain: a NOT NULL column of a real table that no
outer join, grouping set or RETURNING old/new can null (or that a WHERE clause proves
non-null), or an expression that cannot be NULL given its inputs (count, EXISTS, a
literal, COALESCE with a non-null argument, a known function over non-null arguments, …).
Everything else is nullable: a wrong non-null claim is a bug in the user's production code.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlgen.catalog import Catalog, Function, Table
from sqlgen.pgtree import (
    CMD_DELETE,
    CMD_INSERT,
    CMD_MERGE,
    CMD_SELECT,
    CMD_UPDATE,
    Node,
    NodeTreeError,
    output_entries,
    parse_node_tree,
    walk,
)


@dataclass(frozen=True)
class Verdict:
    nullable: bool
    reason: str


RTE_RELATION, RTE_SUBQUERY, RTE_JOIN, RTE_FUNCTION, RTE_VALUES, RTE_CTE, RTE_GROUP = 0, 1, 2, 3, 5, 6, 9
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
    int4multirange int8multirange nummultirange tsmultirange tstzmultirange datemultirange
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
# Set-returning functions' columns that every row they return has (a key of the object read).
_NON_NULL_SET_COLUMNS: Mapping[str, frozenset[int]] = {
    name: frozenset({1})
    for name in (
        "json_each",
        "json_each_text",
        "jsonb_each",
        "jsonb_each_text",
        "json_object_keys",
        "jsonb_object_keys",
    )
}
# Never NULL, whatever the arguments (NULL range bounds mean unbounded).
_NEVER_NULL_FUNCTIONS = frozenset(
    """
    concat json_build_array json_build_object jsonb_build_array jsonb_build_object num_nonnulls num_nulls
    int4range int8range numrange tsrange tstzrange daterange
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
    jsonb_path_match_opr jsonb_path_exists_opr lseg_interpt line_interpt box_intersect
    """.split()
)
# NULL for NaN and ±Infinity, else a value: non-null for a finite numeric literal.
_NULL_FOR_SPECIAL_NUMERIC = frozenset({"scale", "min_scale"})
# NULL only when the first argument is (the separator of concat_ws, the format string of format).
_NON_NULL_WITH_FIRST_ARGUMENT = frozenset({"concat_ws", "format"})
# extract()/date_part() fields that are ±Infinity for an infinite date or timestamp; the others are NULL.
_UNBOUNDED_FIELDS = frozenset({"year", "isoyear", "decade", "century", "millennium", "epoch", "julian"})
_COUNTING_AGGREGATES = frozenset({"count"})
# Never NULL over a non-empty group (NULL inputs become elements).
_COLLECTING_AGGREGATES = frozenset({"array_agg", "json_agg", "jsonb_agg"})
# Never NULL over a non-empty group of non-null inputs.
_FOLDING_AGGREGATES = frozenset(
    {
        "sum",
        "min",
        "max",
        "avg",
        "bool_and",
        "bool_or",
        "every",
        "bit_and",
        "bit_or",
        "bit_xor",
        "string_agg",
        "mode",
        "percentile_cont",
        "percentile_disc",
    }
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


class Nullability:
    def __init__(self, catalog: Catalog, views: Mapping[int, Node], params: Mapping[int, bool]) -> None:
        self.catalog = catalog
        self.views = views
        self.params = params
        self.assumed: dict[int, list[bool]] = {}  # recursive CTEs being solved: id(cte) → assumed nullability
        self.expanding_views: set[int] = set()
        self.generated: dict[tuple[int, str], Verdict] = {}
        self.writing: set[int] = set()  # INSERT/UPDATE statements whose written values are being read
        self.scopes: dict[tuple[int, int, frozenset[int]], _Scope] = {}  # query levels, by (query, parent, proven)
        self.sublink_columns: dict[int, Verdict] = {}  # the subquery columns an IN/ANY/ALL compares with
        self.calling: frozenset[int] = frozenset()  # user functions whose bodies are being read
        self.aggregating: set[int] = set()  # query levels whose aggregate arguments are being read (before grouping)

    def output_column(self, query: Node, attno: int) -> Verdict:
        try:
            return self.output(query, attno, None)
        except (LookupError, TypeError, ValueError, AttributeError, RecursionError):
            return _nullable("the statement has a shape sqlgen does not analyse")

    def row_present(self, query: Node, var: Node) -> Verdict:
        """Whether the row `var` reads from is in every row of `query`'s output (no outer join can leave it out)."""
        try:
            join = self.missing_row(self.scope(query, None), var.int("varno"), _nulling(var))
        except (LookupError, TypeError, ValueError, AttributeError):
            return _nullable("the statement has a shape sqlgen does not analyse")
        return _nullable(join) if join is not None else _not_null("no outer join can leave it out here")

    # -- query levels -------------------------------------------------------------------

    def output(self, query: Node, attno: int, parent: _Scope | None, proven: frozenset[int] = frozenset()) -> Verdict:
        """Column `attno` of what `query` returns (its target list, or RETURNING list).

        `proven`: output columns the enclosing query's conditions show non-null in every row it
        keeps (`WHERE s.x IS NOT NULL` over a subquery `s`), so their sources are too.
        """
        scope = self.scope(query, parent, proven)
        setop = query.node("setOperations")
        if setop is not None:
            return self.set_operation(setop, attno, scope)
        entry = next(e for e in output_entries(query) if e.int("resno") == attno)
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

    def scope(self, query: Node, parent: _Scope | None, proven: frozenset[int] = frozenset()) -> _Scope:
        """The scope of `query` below `parent`, built once: its facts serve every column read from it."""
        key = (id(query), id(parent), proven)
        cached = self.scopes.get(key)
        if cached is None or cached.query is not query or cached.parent is not parent:  # ids outlive objects
            cached = self.scopes[key] = self.new_scope(query, parent, proven)
        return cached

    def new_scope(self, query: Node, parent: _Scope | None, proven: frozenset[int] = frozenset()) -> _Scope:
        non_null: dict[_VarKey, list[frozenset[int]]] = {}
        present: dict[int, list[frozenset[int]]] = {}
        jointree = query.node("jointree")
        quals = _conjuncts(jointree.node("quals")) if jointree else []

        uses_nulling_sets = _has_nulling_sets(query)
        if jointree is not None and uses_nulling_sets:
            for join in _join_exprs(jointree):
                if join.int("jointype") == 0:
                    quals.extend(_conjuncts(join.node("quals")))
        self.add_facts(quals, non_null, present)
        if proven and query["setOperations"] is None:  # a NULL in what feeds a proven column would null it
            for entry in output_entries(query):
                expr = entry.node("expr")
                if entry.int("resno") in proven and expr is not None:
                    for var in self.propagating_null(expr):
                        nulling = _nulling(var) or frozenset()
                        non_null.setdefault((var.int("varno"), var.int("varattno")), []).append(nulling)
                        present.setdefault(var.int("varno"), []).append(nulling)
        if jointree is not None and uses_nulling_sets:
            # A row of the nullable side of LEFT/RIGHT JOIN j that is present above j means
            # j's ON condition held for it, so that condition's facts hold too.
            pending = [j for j in _join_exprs(jointree) if j.int("jointype") in (1, 3)]
            found = True
            while found:
                found = False
                for join in list(pending):
                    side = join.node("rarg" if join.int("jointype") == 1 else "larg")
                    members = _range_indexes(side) if side is not None else set()
                    index = join.int("rtindex")
                    if any(index in proven for varno in members for proven in present.get(varno, [])):
                        pending.remove(join)
                        self.add_facts(_conjuncts(join.node("quals")), non_null, present)
                        found = True
        legacy = frozenset() if uses_nulling_sets or jointree is None else _outer_nullable(jointree, query)
        return _Scope(query, parent, non_null, present, legacy)

    def add_facts(
        self,
        quals: list[Node],
        non_null: dict[_VarKey, list[frozenset[int]]],
        present: dict[int, list[frozenset[int]]],
    ) -> None:
        for qual in quals:
            for var in self.rejected_when_null(qual):
                nulling = _nulling(var) or frozenset()
                non_null.setdefault((var.int("varno"), var.int("varattno")), []).append(nulling)
                present.setdefault(var.int("varno"), []).append(nulling)

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
        if node.type in ("RELABELTYPE", "COERCEVIAIO", "COLLATEEXPR", "NAMEDARGEXPR"):
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
        if node.int("paramkind") == 2 and number in self.sublink_columns:  # a column of IN (subquery)
            return self.sublink_columns[number]
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
            return self.user_function(function, args, scope)
        if node.int("funcformat") in (1, 2):
            return self.all_of(args, scope, "a cast")
        if function.name in _NEVER_NULL_FUNCTIONS:
            return _not_null(f"{function.name}() never returns NULL")
        if function.name in _NON_NULL_FUNCTIONS or function.signature in _NON_NULL_SIGNATURES:
            return self.all_of(args, scope, f"{function.name}()")
        if function.name in _NULL_FOR_SPECIAL_NUMERIC and len(args) == 1 and _finite_numeric(_strip_relabel(args[0])):
            return _not_null(f"{function.name}() of a finite numeric literal")
        if function.name in _NON_NULL_WITH_FIRST_ARGUMENT:
            return self.all_of(args[:1], scope, f"{function.name}() with a non-null first argument")
        if function.name in ("extract", "date_part") and args and _const_text(args[0]) in _UNBOUNDED_FIELDS:
            return self.all_of(args, scope, f"{function.name}() of a field that is infinite, not NULL, at infinity")
        return _nullable(f"{function.name}() may return NULL")

    def user_function(self, function: Function, args: list[Node], scope: _Scope) -> Verdict:
        """A user function: non-null where its analysed SQL body is, given what is known of the arguments."""
        name = f"{function.name}()"
        hint = "add `!` to the alias, or list it in [tool.sqlgen] non_null_functions, if it never returns NULL"
        if function.declared_non_null:
            return self.all_of(args, scope, f"{name} (declared in non_null_functions)")
        if function.language != "sql":
            return _nullable(f"{name} is written in {function.language}, whose body sqlgen cannot read ({hint})")
        body = self.function_body(function)
        if body is None or function.returns_set:
            return _nullable(f"{name} has a body sqlgen does not analyse ({hint})")
        if function.oid in self.calling:
            return _nullable(f"{name} calls itself")
        verdicts: dict[int, Verdict] = {}
        for position, arg in enumerate(args, start=1):
            number = arg.int("argnumber") + 1 if arg.type == "NAMEDARGEXPR" else position
            verdicts[number] = self.expr(arg, scope)
        if function.strict:
            nullable = next((v for v in verdicts.values() if v.nullable), None)
            if nullable is not None:
                return _nullable(f"{name} is STRICT: NULL when an argument is ({nullable.reason})")
        if not _one_row_without_input(body):
            return _nullable(f"{name} is NULL when its body returns no row")
        inner = Nullability(self.catalog, self.views, {n: v.nullable for n, v in verdicts.items()})
        inner.calling = self.calling | {function.oid}
        verdict = inner.output_column(body, 1)
        if verdict.nullable:
            return _nullable(f"{name}'s body: {verdict.reason.removeprefix('nullable: ')}")
        return _not_null(f"{name}'s body is non-null for these arguments")

    def function_body(self, function: Function) -> Node | None:
        """The query whose first column a SQL function returns: its body's last statement."""
        if function.body is None:
            return None
        try:
            tree: object = parse_node_tree(function.body)
        except NodeTreeError:
            return None
        while isinstance(tree, list) and tree:  # BEGIN ATOMIC: a list of statement lists
            tree = tree[-1]
        return tree if isinstance(tree, Node) and tree.type == "QUERY" else None

    def expr_namedargexpr(self, node: Node, scope: _Scope) -> Verdict:
        return self.expr(node.node("arg"), scope)

    def expr_opexpr(self, node: Node, scope: _Scope) -> Verdict:
        function = self.catalog.functions.get(node.int("opfuncid"))
        if function is not None and function.builtin and function.name in _NON_NULL_FUNCTIONS:
            return self.all_of(node.nodes("args"), scope, "an operator")  # also the non-strict array_append & co
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
        args = node.nodes("args")
        verdict = self.any_of(args, scope, "COALESCE")
        if verdict.nullable and self.covers_full_join(args, scope):
            return _not_null("COALESCE of both sides of a FULL JOIN, one of which is always there")
        return verdict

    def covers_full_join(self, args: list[Node], scope: _Scope) -> bool:
        """Do `args` hold, for some FULL JOIN, a value of each side that is non-null whenever that side is present?"""
        jointree = scope.query.node("jointree")
        variables = [a for a in (_strip_relabel(arg) for arg in args) if a.type == "VAR" and a.int("varlevelsup") == 0]
        if jointree is None or not variables:
            return False
        for join in _join_exprs(jointree):
            left, right = join.node("larg"), join.node("rarg")
            if join.int("jointype") != 2 or left is None or right is None:
                continue
            ignoring = frozenset({join.int("rtindex")})
            sides = [_range_indexes(left), _range_indexes(right)]
            covered = [
                any(v.int("varno") in side and not self.expr_var(v, scope, ignoring).nullable for v in variables)
                for side in sides
            ]
            if all(covered):
                return True
        return False

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
        test = node.node("testexpr")
        if kind in (1, 2) and subselect is not None and test is not None:  # ALL / ANY (IN) (subquery)
            compared = {p.int("paramid") for p in walk(test) if p.type == "PARAM" and p.int("paramkind") == 2}
            columns = {number: self.output(subselect, number, scope) for number in sorted(compared)}
            saved, self.sublink_columns = self.sublink_columns, columns
            try:
                verdict = self.expr(test, scope)
            finally:
                self.sublink_columns = saved
            if verdict.nullable:
                return _nullable(f"a subquery comparison is NULL where a compared value is ({verdict.reason})")
            return _not_null("IN/ANY/ALL over non-null values on both sides (an empty subquery gives false/true)")
        return _nullable("a subquery comparison may be NULL")

    def expr_aggref(self, node: Node, scope: _Scope) -> Verdict:
        level = _up(scope, node.int("agglevelsup"))
        function = self.catalog.functions.get(node.int("aggfnoid"))
        if function is None or not function.builtin:
            return _nullable("a user-defined aggregate may return NULL")
        if function.name in _COUNTING_AGGREGATES:
            return _not_null("count() is never NULL")
        query = level.query
        may_be_empty = not query["groupClause"] or any(_has_empty_set(g) for g in _grouping_set_product(query))
        if may_be_empty and not any(self.fails_on_empty_group(q) for q in _conjuncts(query.node("havingQual"))):
            return _nullable(f"{function.name}() is NULL over no rows")
        if node["aggfilter"] is not None:
            return _nullable(f"{function.name}() is NULL when FILTER leaves a group empty")
        for direct in node.nodes("aggdirectargs"):
            verdict = self.expr(direct, level)
            if verdict.nullable:
                return verdict
        args = [entry.node("expr") for entry in node.nodes("args")]
        self.aggregating.add(id(level.query))
        try:
            return self.of_non_empty_group(function.name, [a for a in args if a is not None], level)
        finally:
            self.aggregating.discard(id(level.query))

    def fails_on_empty_group(self, qual: Node) -> bool:
        """Whether a HAVING condition is false or NULL for a group of no rows, so every group it keeps has one:
        `count(*) > 0`, `count(x) >= 1`, or a strict comparison of an aggregate that is NULL over no rows."""
        if qual.type != "OPEXPR":
            return False
        function = self.catalog.functions.get(qual.int("opfuncid"))
        args = [_strip_relabel(a) for a in qual.nodes("args")]
        if function is None or not function.builtin or not function.strict or len(args) != 2:
            return False
        aggregates = [self.catalog.functions.get(a.int("aggfnoid")) for a in args if a.type == "AGGREF"]
        if any(a is not None and a.builtin and a.name in _FOLDING_AGGREGATES for a in aggregates):
            return True  # NULL over no rows, so the condition is NULL
        left, right = args
        counted, bound = (left, right) if left.type == "AGGREF" else (right, left)
        counting = self.catalog.functions.get(counted.int("aggfnoid")) if counted.type == "AGGREF" else None
        value = _const_integer(bound)
        if counting is None or counting.name not in _COUNTING_AGGREGATES or value is None:
            return False
        comparison = function.name[-2:]
        if counted is right:
            comparison = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge"}.get(comparison, comparison)
        holds_at_zero = {"gt": 0 > value, "ge": 0 >= value, "lt": 0 < value, "le": 0 <= value, "eq": value == 0}
        return comparison in holds_at_zero and not holds_at_zero[comparison]

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

    def expr_var(self, node: Node, scope: _Scope, ignoring: frozenset[int] = frozenset()) -> Verdict:
        level = _up(scope, node.int("varlevelsup"))
        varno, attno = node.int("varno"), node.int("varattno")
        rte = level.rtable[varno - 1]
        nulling = _nulling(node)
        if nulling is not None:
            nulling -= ignoring
        elif level.query["groupingSets"] and id(level.query) not in self.aggregating:
            # Before PostgreSQL 18 the tree does not mark the grouping keys that subtotal rows null,
            # and a WHERE clause's proof holds only before grouping.
            return _nullable("a grouping key is NULL in the subtotal rows of ROLLUP/CUBE/GROUPING SETS")
        tested = any(nulling is None or nulling <= proven for proven in level.non_null.get((varno, attno), []))
        rewritten = self.rewritten_by_statement(level, rte, attno, node) if tested else None
        if rewritten is not None:
            tested = False  # the WHERE clause tested the old value; this is the new one
        fact = _not_null(f"{_column_label(rte, attno)} is tested non-null by the WHERE clause or a join condition")
        join = self.missing_row(level, varno, nulling)
        if join is not None:
            return fact if tested else _nullable(join)
        verdict = self.rte_column(rte, attno, level, node, self.proven_columns(level, varno, nulling))
        if rewritten is not None and verdict.nullable:
            return _nullable(f"{verdict.reason.removeprefix('nullable: ')}; {rewritten}")
        return fact if verdict.nullable and tested else verdict

    def rewritten_by_statement(self, scope: _Scope, rte: Node, attno: int, var: Node) -> str | None:
        """Why RETURNING's new value of the written table's column may differ from the value WHERE tested, if it may.

        UPDATE and MERGE test the old row; what they return is the new one: the same value only
        where no SET (or MERGE action) assigns the column and no BEFORE ROW trigger can change it.
        """
        query = scope.query
        result = query.int("resultRelation")
        if query.int("commandType") not in (CMD_UPDATE, CMD_MERGE) or not result or rte is not scope.rtable[result - 1]:
            return None
        if var.int("varreturningtype") == 1 or id(query) in self.writing:
            return None  # old.…, or a value read inside SET: the old row, which WHERE tested
        table = self.catalog.tables.get(rte.int("relid"))
        if table is None or table.before_row_triggers:
            return "a BEFORE ROW trigger may change the new row"
        assigned = [query.nodes("targetList")] + [a.nodes("targetList") for a in query.nodes("mergeActionList")]
        if any(e.int("resno") == attno and e["resjunk"] is not True for entries in assigned for e in entries):
            return "the WHERE clause tested the value before the statement assigned a new one"
        return None

    def missing_row(self, scope: _Scope, varno: int, nulling: frozenset[int] | None) -> str | None:
        """Why the row of range entry `varno` may be missing (all NULL) here, unless a condition proves it present."""
        if any(nulling is None or nulling <= proven for proven in scope.present.get(varno, [])):
            return None
        return self.nulling_join(scope, varno, nulling)

    def nulling_join(self, scope: _Scope, varno: int, nulling: frozenset[int] | None) -> str | None:
        """Why an outer join (or grouping set) can null this reference, if one can."""
        rtable = scope.rtable
        if nulling is None:
            if varno in scope.legacy_nullable:
                return f"{_rte_label(rtable[varno - 1])} is on the nullable side of an outer join"
            return None
        if not nulling:
            return None
        nuller = rtable[min(nulling) - 1]
        if nuller.int("rtekind") == RTE_GROUP:
            return "a grouping key is NULL in the subtotal rows of ROLLUP/CUBE/GROUPING SETS"
        join = _JOIN_NAMES.get(nuller.int("jointype"), "an outer join")
        return f"{_rte_label(rtable[varno - 1])} is on the nullable side of a {join}"

    def proven_columns(self, scope: _Scope, varno: int, nulling: frozenset[int] | None) -> frozenset[int]:
        """The columns of range entry `varno` this level's conditions prove non-null where it is read."""
        return frozenset(
            attno
            for (number, attno), sets in scope.non_null.items()
            if number == varno and attno > 0 and any(nulling is None or nulling <= proven for proven in sets)
        )

    def rte_column(
        self, rte: Node, attno: int, scope: _Scope, var: Node, proven: frozenset[int] = frozenset()
    ) -> Verdict:
        kind = rte.int("rtekind")
        if kind == RTE_RELATION:
            return self.relation_column(rte, attno, scope, var)
        if kind == RTE_SUBQUERY:
            subquery = rte.node("subquery") or _missing("subquery")
            return self.output(subquery, attno, scope, proven)
        if kind in (RTE_JOIN, RTE_GROUP):
            exprs = rte["joinaliasvars" if kind == RTE_JOIN else "groupexprs"]
            expr = exprs[attno - 1] if isinstance(exprs, list) and 0 < attno <= len(exprs) else None
            return self.expr(expr if isinstance(expr, Node) else None, scope)
        if kind == RTE_FUNCTION:
            return self.function_column(rte, attno, scope)
        if kind == RTE_VALUES:
            rows = rte["values_lists"]
            if not isinstance(rows, list):
                return _nullable("a VALUES list")
            for row in rows:
                cell = row[attno - 1] if isinstance(row, list) else None
                verdict = self.expr(cell if isinstance(cell, Node) else None, scope)
                if verdict.nullable:
                    return verdict
            return _not_null("every VALUES row is non-null here")
        if kind == RTE_CTE:
            return self.cte_column(rte, attno, scope, proven)
        return _nullable(f"{_rte_label(rte)} is not a table sqlgen analyses")

    def relation_column(self, rte: Node, attno: int, scope: _Scope, var: Node) -> Verdict:
        if attno < 0:
            return _not_null("a system column")
        table = self.catalog.tables.get(rte.int("relid"))
        if table is None and rte["relkind"] == "S":
            return _not_null("a sequence's last_value, log_cnt and is_called are never NULL")
        if table is None:
            return _nullable("an unknown table")
        if scope.query.int("resultRelation") and rte is scope.rtable[scope.query.int("resultRelation") - 1]:
            returning = var.int("varreturningtype")
            command = scope.query.int("commandType")
            if returning == 1 and command in (CMD_INSERT, CMD_MERGE):
                return _nullable("RETURNING old.… is NULL for an inserted row")
            if returning == 2 and command in (CMD_DELETE, CMD_MERGE):
                return _nullable("RETURNING new.… is NULL for a deleted row")
        if attno == 0:
            return _not_null(f"a whole row of {table.name}")
        column = table.column(attno)
        if column is None:
            return _nullable("an unknown column")
        where = f"{table.name}.{column.name}"
        if table.enforces_not_null and column.not_null:
            return _not_null(f"{where} is NOT NULL")
        stored = self.stored_value(rte, attno, scope, var, table)
        if stored is not None:
            return stored
        if column.generated:
            generated = self.generated_value(table, column.generated)
            if not generated.nullable:
                return _not_null(f"{where} is generated from non-null values")
            written = self.generated_from_written_row(rte, scope, var, table, column.generated)
            if written is not None and not written.nullable:
                return _not_null(f"{where} is generated from the non-null values the statement wrote")
        if table.kind == "m" and table.oid in self.views and table.oid not in self.expanding_views:
            self.expanding_views.add(table.oid)
            try:
                verdict = self.output(self.views[table.oid], attno, None)
            finally:
                self.expanding_views.discard(table.oid)
            return Verdict(verdict.nullable, f"{verdict.reason} (in materialized view {table.name})")
        if not table.enforces_not_null:
            return _nullable(f"{where} belongs to {_RELKIND_NAMES.get(table.kind, 'a relation')}")
        if column.domain_not_null:
            return _nullable(
                f"{where} has a NOT NULL domain type but no NOT NULL constraint (PostgreSQL stores a NULL"
                " that arrives already of the domain's type, from an outer join or a scalar subquery)"
            )
        return _nullable(f"{where} has no NOT NULL constraint")

    def stored_value(self, rte: Node, attno: int, scope: _Scope, var: Node, table: Table) -> Verdict | None:
        """What RETURNING reads from the row INSERT or UPDATE wrote, when the statement says what that is."""
        query = scope.query
        command = query.int("commandType")
        result = query.int("resultRelation")
        if command not in (CMD_INSERT, CMD_UPDATE) or not result or rte is not scope.rtable[result - 1]:
            return None
        if var.int("varreturningtype") == 1 or table.before_row_triggers:
            return None
        if id(query) in self.writing:
            return None  # inside SET or VALUES the table's columns are the old row
        entries = {e.int("resno"): e.node("expr") for e in query.nodes("targetList") if e["resjunk"] is not True}
        if attno not in entries:
            return None  # not written: an INSERT stores NULL (or its generated value), an UPDATE keeps the old value
        self.writing.add(id(query))
        try:
            written = self.expr(entries[attno], scope)
            conflict = query.node("onConflict")
            if written.nullable or conflict is None or conflict.int("action") != 2:
                return written
            updates = {e.int("resno"): e.node("expr") for e in conflict.nodes("onConflictSet")}
            if attno not in updates:
                return None  # a conflicting row keeps its old value
            return self.expr(updates[attno], scope)
        finally:
            self.writing.discard(id(query))

    def generated_from_written_row(
        self, rte: Node, scope: _Scope, var: Node, table: Table, expression: str
    ) -> Verdict | None:
        """A generated column RETURNING reads from the row INSERT or UPDATE wrote: its expression over that row."""
        query = scope.query
        result = query.int("resultRelation")
        if (
            query.int("commandType") not in (CMD_INSERT, CMD_UPDATE)
            or not result
            or rte is not scope.rtable[result - 1]
        ):
            return None
        if var.int("varreturningtype") == 1 or table.before_row_triggers or id(query) in self.writing:
            return None
        try:
            tree = parse_node_tree(expression)
        except NodeTreeError:
            return None
        if not isinstance(tree, Node):
            return None
        return self.expr(_renumbered(tree, result), scope)  # its columns, as this statement's result relation

    def generated_value(self, table: Table, expression: str) -> Verdict:
        """Whether a generated column's expression is non-null, reading the table's own columns."""
        key = (table.oid, expression)
        if key not in self.generated:
            try:
                tree = parse_node_tree(expression)
            except NodeTreeError:
                tree = []
            if not isinstance(tree, Node):
                self.generated[key] = _nullable("a generated column sqlgen cannot read")
            else:
                relation = Node("RANGETBLENTRY", {"rtekind": RTE_RELATION, "relid": table.oid})
                own_row = Node("QUERY", {"commandType": CMD_SELECT, "rtable": [relation]})
                self.generated[key] = self.expr(tree, self.scope(own_row, None))
        return self.generated[key]

    def function_column(self, rte: Node, attno: int, scope: _Scope) -> Verdict:
        offset = 0
        functions = rte.nodes("functions")
        for entry in functions:
            count = entry.int("funccolcount")
            if attno <= offset + count:
                if len(functions) > 1:  # ROWS FROM (f(), g()): the shorter one's columns are NULL-padded
                    return _nullable("ROWS FROM pads the columns of a function that runs out of rows with NULL")
                call = entry.node("funcexpr")
                function = self.catalog.functions.get(call.int("funcid")) if call and call.type == "FUNCEXPR" else None
                if function is None or not function.builtin:
                    return _nullable("a set-returning function's column may be NULL")
                if count == 1 and function.signature in _NON_NULL_SIGNATURES:
                    return self.all_of(call.nodes("args") if call else [], scope, f"{function.name}()")
                if attno - offset in _NON_NULL_SET_COLUMNS.get(function.name, ()):
                    return _not_null(f"{function.name}() gives every row this column")
                return _nullable("a set-returning function's column may be NULL")
            offset += count
        if rte["funcordinality"] is True and attno == offset + 1:
            return _not_null("WITH ORDINALITY numbers every row")
        return _nullable("a set-returning function's column may be NULL")

    def cte_column(self, rte: Node, attno: int, scope: _Scope, proven: frozenset[int] = frozenset()) -> Verdict:
        level = _up(scope, rte.int("ctelevelsup"))
        name = rte.text("ctename")
        cte = next(c for c in level.query.nodes("cteList") if c.text("ctename") == name)
        query = cte.node("ctequery") or _missing("CTE query")
        key = id(cte)
        if key in self.assumed:
            assumed = self.assumed[key][attno - 1]
            return Verdict(assumed, f"{'nullable' if assumed else 'not null'}: the recursive reference to {name}")
        if cte["cterecursive"] is not True:
            return self.output(query, attno, level, proven)
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


def _renumbered(node: Node, varno: int) -> Node:
    """A copy of a table's own expression (its columns are range entry 1) reading range entry `varno`."""

    def copy(value: object) -> object:
        if isinstance(value, Node):
            return _renumbered(value, varno)
        if isinstance(value, list):
            return [copy(item) for item in value]
        return value

    fields = {key: copy(value) for key, value in node.fields.items()}
    if node.type == "VAR" and node.int("varlevelsup") == 0:
        fields["varno"] = varno
    return Node(node.type, fields)


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
    """Whether the server marks references with the outer joins that null them (PostgreSQL 16+)."""
    first_var = next((node for node in walk(query) if node.type == "VAR"), None)
    return first_var is None or "varnullingrels" in first_var.fields


def _var_identity(var: Node) -> tuple[int, int, frozenset[int] | None]:
    return var.int("varno"), var.int("varattno"), _nulling(var)


def _conjuncts(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.type == "BOOLEXPR" and node["boolop"] == "and":
        return [c for arg in node.nodes("args") for c in _conjuncts(arg)]
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


def _grouping_set_product(query: Node) -> list[list[Node]]:
    """GROUP BY a, ROLLUP (b): the grouping sets are the product of its items; empty when there are none."""
    sets = query.nodes("groupingSets")
    return [sets] if sets else []


def _has_empty_set(items: list[Node]) -> bool:
    """Whether the product of these GROUP BY items contains the empty grouping set `()` (one row even over no input)."""
    return all(_may_be_empty(item) for item in items)


def _may_be_empty(item: Node) -> bool:
    kind = item.int("kind")  # GroupingSetKind: EMPTY, SIMPLE, ROLLUP, CUBE, SETS
    if kind in (0, 2, 3):
        return True
    if kind == 4:
        return any(_may_be_empty(member) for member in item.nodes("content"))
    return False


def _const_text(node: Node) -> str | None:
    """The value of a text literal (its Datum is a varlena: a 4-byte or 1-byte length header, then the bytes)."""
    value = node["constvalue"] if node.type == "CONST" else None
    if not isinstance(value, bytes) or not value:
        return None
    data = value[1:] if value[0] & 0x01 else value[4:]
    return data.decode(errors="replace").lower()


def _one_row_without_input(query: Node) -> bool:
    """A SELECT with no FROM, WHERE, set operation or LIMIT (`RETURN a + b`, `SELECT a + b`): exactly one row."""
    jointree = query.node("jointree")
    return _always_one_row(query) or (
        query.int("commandType") == CMD_SELECT
        and jointree is not None
        and not jointree.nodes("fromlist")
        and jointree.node("quals") is None
        and query["havingQual"] is None
        and query["limitCount"] is None
        and query["limitOffset"] is None
        and query["setOperations"] is None
        and query["hasTargetSRFs"] is not True
    )


_INTEGER_TYPES = {21: 2, 23: 4, 20: 8}  # int2, int4, int8: their Datum's width


def _finite_numeric(node: Node) -> bool:
    """A numeric literal other than NaN and ±Infinity (whose first header word has both top bits set)."""
    value = node["constvalue"] if node.type == "CONST" and node.int("consttype") == 1700 else None
    if not isinstance(value, bytes) or not value or node["constisnull"] is True:
        return False
    data = value[1:] if value[0] & 0x01 else value[4:]  # little-endian varlena header: 1 or 4 bytes
    word = int.from_bytes(data[:2], "little") if len(data) >= 2 else 0
    return sys.byteorder == "little" and word & 0xC000 != 0xC000


def _const_integer(node: Node) -> int | None:
    """The value of an integer literal (a by-value Datum, printed in the server's byte order)."""
    width = _INTEGER_TYPES.get(node.int("consttype")) if node.type == "CONST" else None
    value = node["constvalue"]
    if width is None or node["constisnull"] is True or not isinstance(value, bytes) or len(value) < width:
        return None
    data = value[:width] if sys.byteorder == "little" else value[-width:]
    return int.from_bytes(data, sys.byteorder, signed=True)


def _always_one_row(query: Node) -> bool:
    """A subquery that aggregates without grouping returns exactly one row."""
    return (
        query.int("commandType") == CMD_SELECT
        and query["hasAggs"] is True
        and not query["groupClause"]
        and not query["groupingSets"]
        and query["havingQual"] is None
        and query["limitCount"] is None
        and query["limitOffset"] is None
        and query["setOperations"] is None
        and query["hasTargetSRFs"] is not True
    )


def _strip_relabel(node: Node) -> Node:
    while node.type in ("RELABELTYPE", "COLLATEEXPR") and node.node("arg") is not None:
        node = node.node("arg") or node
    return node


def _column_label(rte: Node, attno: int) -> str:
    eref = rte.node("eref")
    names = eref["colnames"] if eref else None
    if isinstance(names, list) and 0 < attno <= len(names) and isinstance(names[attno - 1], str):
        return f"{_rte_label(rte)}.{names[attno - 1]}"
    return _rte_label(rte)


def _rte_label(rte: Node) -> str:
    alias = rte.node("alias")
    eref = rte.node("eref")
    name = (alias.text("aliasname") if alias else None) or (eref.text("aliasname") if eref else None) or "a relation"
    return name
