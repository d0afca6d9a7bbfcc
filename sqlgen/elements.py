"""Whether the elements of an array column can be NULL, decided on the server's analysed tree.

An array's elements are typed non-null (`list[T]`, not `list[T | None]`) only when that is
certain:

- `ARRAY[a, b]` of non-null values, `ARRAY(SELECT x …)` of a non-null column;
- `array_agg(x)` of a non-null `x` (an outer join that nulls `x` makes elements NULL; over
  no rows `array_agg` is NULL, which is the array's own nullability, not its elements');
- `array_remove(x, NULL)`; `array_append`/`array_prepend`/`array_cat` of such arrays and
  non-null values; `string_to_array(text, delimiter)` and `regexp_split_to_array`;
- a column or domain whose validated CHECK forbids NULL elements (`sqlgen.element_checks`);
- an array literal (`'{a,b}'`, `'{}'`) without NULL;
- `COALESCE` and `CASE` of such arrays; columns of subqueries, CTEs and VALUES traced back.

The alias suffix `[!]` says the elements are never NULL, `[?]` that they may be; it comes
last, after the `!`/`?` of the column itself: `AS "tags![!]"`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlgen.catalog import Catalog
from sqlgen.nullability import (
    RTE_CTE,
    RTE_GROUP,
    RTE_JOIN,
    RTE_RELATION,
    RTE_SUBQUERY,
    RTE_VALUES,
    Nullability,
    Verdict,
    _Scope,
)
from sqlgen.pgtree import CMD_SELECT, Node, output_entries, walk

_ARRAY_SUBLINK = 6
_ELEMENT_SUFFIXES = {"[!]": False, "[?]": True}
# Built-in functions whose result has no NULL element whatever their input.
_NULL_FREE_RESULTS = frozenset({"regexp_split_to_array", "string_to_array(text,text)", "tsvector_to_array"})
# Built-in functions whose result's elements are the elements of these array arguments and these values.
_COMBINING = {"array_append": ("array", "value"), "array_prepend": ("value", "array"), "array_cat": ("array", "array")}


def forced_elements(name: str) -> tuple[str, Verdict | None]:
    """An alias ending in `[!]` or `[?]`: the name without it, and what it says about the elements.

    >>> forced_elements("tags![!]")
    ('tags!', Verdict(nullable=False, reason='not null: the alias ends in `[!]`'))
    >>> forced_elements("tags")
    ('tags', None)
    """
    for suffix, nullable in _ELEMENT_SUFFIXES.items():
        if len(name) > len(suffix) and name.endswith(suffix):
            word = "nullable" if nullable else "not null"
            return name[: -len(suffix)], Verdict(nullable, f"{word}: the alias ends in `{suffix}`")
    return name, None


def element_nullability(catalog: Catalog, judge: Nullability, query: Node, attno: int) -> Verdict:
    """Whether elements of the array column `attno` of what `query` returns may be NULL, and why."""
    try:
        return _Elements(catalog, judge).output(query, attno, None)
    except (LookupError, TypeError, ValueError, AttributeError, RecursionError):
        return _nullable("the statement has a shape sqlgen does not analyse")


def _not_null(reason: str) -> Verdict:
    return Verdict(False, f"not null: {reason}")


def _nullable(reason: str) -> Verdict:
    return Verdict(True, f"nullable: {reason}")


class _Elements:
    def __init__(self, catalog: Catalog, judge: Nullability) -> None:
        self.catalog = catalog
        self.judge = judge
        self.depth = 0

    def output(self, query: Node, attno: int, parent: _Scope | None) -> Verdict:
        scope = self.judge.scope(query, parent)
        setop = query.node("setOperations")
        if setop is not None:
            return self.set_operation(setop, attno, scope)
        entry = next(e for e in output_entries(query) if e.int("resno") == attno)
        return self.expr(entry.node("expr"), scope)

    def set_operation(self, node: Node, attno: int, scope: _Scope) -> Verdict:
        if node.type == "RANGETBLREF":
            rte = scope.rtable[node.int("rtindex") - 1]
            subquery = rte.node("subquery")
            if subquery is None:
                raise LookupError("a set operation without its subquery")
            return self.output(subquery, attno, scope)
        for side in ("larg", "rarg"):
            child = node.node(side)
            if child is None:
                raise LookupError("a set operation without its sides")
            verdict = self.set_operation(child, attno, scope)
            if verdict.nullable:
                return verdict
        return _not_null("every branch of the set operation has no NULL element")

    def expr(self, node: Node | None, scope: _Scope) -> Verdict:
        if node is None:
            return _nullable("an expression sqlgen cannot see")
        self.depth += 1
        try:
            if self.depth > 200:
                raise RecursionError("too deep")
            method: Callable[[Node, _Scope], Verdict] | None = getattr(self, f"expr_{node.type.lower()}", None)
            if method is None:
                return _nullable(f"sqlgen does not analyse the elements of {node.type.lower()} expressions")
            return method(node, scope)
        finally:
            self.depth -= 1

    def scalar(self, node: Node | None, scope: _Scope) -> Verdict:
        """The nullability of a value that becomes an element."""
        return self.judge.expr(node, scope)

    def expr_relabeltype(self, node: Node, scope: _Scope) -> Verdict:
        return self.expr(node.node("arg"), scope)

    expr_collateexpr = expr_relabeltype

    def expr_arraycoerceexpr(self, node: Node, scope: _Scope) -> Verdict:
        # A cast of each element: a built-in cast of a non-null value is non-null; a cast
        # through a user's function (CREATE CAST … WITH FUNCTION) may return NULL.
        cast = node.node("elemexpr")
        for step in walk(cast) if cast is not None else ():
            function = self.catalog.functions.get(step.int("funcid")) if step.type == "FUNCEXPR" else None
            if step.type == "FUNCEXPR" and (function is None or not function.builtin):
                return _nullable("a cast of each element through a function that is not built in")
        return self.expr(node.node("arg"), scope)

    def expr_coercetodomain(self, node: Node, scope: _Scope) -> Verdict:
        domain = self.catalog.types.get(node.int("resulttype"))
        if domain is not None and domain.elements_not_null:
            return _not_null(f"the domain {domain.name} forbids NULL elements")
        return self.expr(node.node("arg"), scope)

    def expr_const(self, node: Node, scope: _Scope) -> Verdict:
        if node["constisnull"] is True:
            return _not_null("the NULL literal has no elements")
        value = node["constvalue"]
        # An array literal is a 4-byte-header varlena: ndim, then the offset of its data, which is
        # 0 when it has no NULL bitmap (no NULL element). Zero is zero in either byte order.
        if isinstance(value, bytes) and len(value) >= 12 and (not any(value[4:8]) or not any(value[8:12])):
            return _not_null("an array literal without NULL")
        return _nullable("an array literal may hold NULL")

    def expr_arrayexpr(self, node: Node, scope: _Scope) -> Verdict:
        elements = node.nodes("elements")
        if node["multidims"] is True:
            for element in elements:
                verdict = self.expr(element, scope)
                if verdict.nullable:
                    return verdict
            return _not_null("ARRAY[…] of arrays without NULL elements")
        for element in elements:
            verdict = self.scalar(element, scope)
            if verdict.nullable:
                return Verdict(True, f"{verdict.reason} (an element of ARRAY[…])")
        return _not_null("ARRAY[…] of non-null values")

    def expr_sublink(self, node: Node, scope: _Scope) -> Verdict:
        subselect = node.node("subselect")
        if node.int("subLinkType") == _ARRAY_SUBLINK and subselect is not None:
            if _is_array(self.catalog, subselect):
                return _nullable("ARRAY(subquery) of arrays")
            verdict = self.judge.output(subselect, 1, scope)
            if verdict.nullable:
                return Verdict(True, f"{verdict.reason} (in ARRAY(subquery))")
            return _not_null("ARRAY(subquery) of a non-null column")
        if node.int("subLinkType") == 4 and subselect is not None:  # a scalar subquery
            return self.output(subselect, 1, scope)
        return _nullable("a subquery")

    def expr_aggref(self, node: Node, scope: _Scope) -> Verdict:
        function = self.catalog.functions.get(node.int("aggfnoid"))
        args = [entry.node("expr") for entry in node.nodes("args") if entry["resjunk"] is not True]
        if function is None or not function.builtin or function.name != "array_agg" or len(args) != 1:
            return _nullable("an aggregate other than array_agg")
        if node.int("agglevelsup") != 0:
            return _nullable("an aggregate of an outer query")
        arg = args[0]
        if arg is not None and _type_is_array(self.catalog, node.int("aggtype")) and _expr_is_array(self.catalog, arg):
            return self.expr(arg, scope)  # array_agg of arrays: a multidimensional array of their elements
        verdict = self.scalar(arg, scope)
        if verdict.nullable:
            return Verdict(True, f"{verdict.reason} (an element of array_agg)")
        return _not_null("array_agg() of non-null values")

    def expr_funcexpr(self, node: Node, scope: _Scope) -> Verdict:
        function = self.catalog.functions.get(node.int("funcid"))
        args = node.nodes("args")
        if function is None or not function.builtin:
            return _nullable("the result of a function that is not built in")
        if node.int("funcformat") in (1, 2) and args:  # a cast
            return self.expr(args[0], scope)
        if function.name == "array_remove" and len(args) == 2:
            if self.scalar(args[1], scope).nullable is False:
                return self.expr(args[0], scope)
            if args[1].type == "CONST" and args[1]["constisnull"] is True:
                return _not_null("array_remove(…, NULL)")
            return _nullable("array_remove() of a value that may be NULL")
        if function.name in _NULL_FREE_RESULTS or function.signature in _NULL_FREE_RESULTS:
            return _not_null(f"{function.name}() gives no NULL element")
        if function.name == "array_fill" and args:
            return self.scalar(args[0], scope)
        roles = _COMBINING.get(function.name)
        if roles is not None and len(args) == 2:
            return self.combined(roles, args, scope, f"{function.name}()")
        return _nullable(f"{function.name}() may return NULL elements")

    def expr_opexpr(self, node: Node, scope: _Scope) -> Verdict:
        # `a || b` is array_cat, array_append or array_prepend
        function = self.catalog.functions.get(node.int("opfuncid"))
        roles = _COMBINING.get(function.name) if function is not None and function.builtin else None
        args = node.nodes("args")
        if roles is None or len(args) != 2:
            return _nullable("an operator that may give NULL elements")
        return self.combined(roles, args, scope, "||")

    def combined(self, roles: tuple[str, str], args: list[Node], scope: _Scope, what: str) -> Verdict:
        for role, arg in zip(roles, args, strict=True):
            verdict = self.expr(arg, scope) if role == "array" else self.scalar(arg, scope)
            if verdict.nullable:
                return verdict
        return _not_null(f"{what} of arrays and values without NULL")

    def expr_coalesceexpr(self, node: Node, scope: _Scope) -> Verdict:
        for arg in node.nodes("args"):
            verdict = self.expr(arg, scope)
            if verdict.nullable:
                return verdict
        return _not_null("COALESCE of arrays without NULL elements")

    def expr_caseexpr(self, node: Node, scope: _Scope) -> Verdict:
        results = [w.node("result") for w in node.nodes("args")]
        for result in [*results, node.node("defresult")]:
            if result is None:
                continue  # CASE without ELSE: NULL, which has no elements
            verdict = self.expr(result, scope)
            if verdict.nullable:
                return verdict
        return _not_null("every branch of the CASE has no NULL element")

    def expr_var(self, node: Node, scope: _Scope) -> Verdict:
        level = _up(scope, node.int("varlevelsup"))
        rtable = level.rtable
        varno, attno = node.int("varno"), node.int("varattno")
        rte = rtable[varno - 1]
        kind = rte.int("rtekind")
        if kind == RTE_RELATION:
            table = self.catalog.tables.get(rte.int("relid"))
            column = table.column(attno) if table is not None else None
            if table is None or column is None:
                return _nullable("an unknown column")
            if column.elements_not_null:
                return _not_null(f"a CHECK constraint or domain of {table.name}.{column.name} forbids NULL elements")
            return _nullable(f"nothing keeps NULL out of {table.name}.{column.name}'s elements")
        if kind == RTE_SUBQUERY:
            subquery = rte.node("subquery")
            if subquery is None:
                raise LookupError("a subquery entry without its query")
            return self.output(subquery, attno, level)
        if kind in (RTE_JOIN, RTE_GROUP):
            exprs = rte["joinaliasvars" if kind == RTE_JOIN else "groupexprs"]
            expr = exprs[attno - 1] if isinstance(exprs, list) and 0 < attno <= len(exprs) else None
            return self.expr(expr if isinstance(expr, Node) else None, level)
        if kind == RTE_VALUES:
            rows = rte["values_lists"]
            for row in rows if isinstance(rows, list) else [None]:
                cell = row[attno - 1] if isinstance(row, list) and 0 < attno <= len(row) else None
                verdict = self.expr(cell if isinstance(cell, Node) else None, level)
                if verdict.nullable:
                    return verdict
            return _not_null("every VALUES row has no NULL element")
        if kind == RTE_CTE:
            return self.cte_column(rte, attno, level)
        return _nullable("a function's or table's result")

    def cte_column(self, rte: Node, attno: int, scope: _Scope) -> Verdict:
        level = _up(scope, rte.int("ctelevelsup"))
        query = level.query
        name = rte.text("ctename")
        cte = next(c for c in query.nodes("cteList") if c.text("ctename") == name)
        inner = cte.node("ctequery")
        if cte["cterecursive"] is True or inner is None:
            return _nullable("a recursive CTE")
        if inner.int("commandType") != CMD_SELECT and not inner.nodes("returningList"):
            return _nullable("a CTE without rows")
        return self.output(inner, attno, level)


def _up(scope: _Scope, levels: int) -> _Scope:
    for _ in range(levels):
        if scope.parent is None:
            raise LookupError("a reference to a query level the tree does not have")
        scope = scope.parent
    return scope


def _type_is_array(catalog: Catalog, oid: int) -> bool:
    pg_type = catalog.beneath_domains(oid)
    return pg_type is not None and pg_type.is_array


def _expr_is_array(catalog: Catalog, node: Node) -> bool:
    for key in ("vartype", "consttype", "funcresulttype", "opresulttype", "resulttype", "array_typeid", "aggtype"):
        if key in node.fields:
            return _type_is_array(catalog, node.int(key))
    return True  # unknown: treat as an array, whose elements are then analysed as arrays (more cautious)


def _is_array(catalog: Catalog, subselect: Node) -> bool:
    entries = output_entries(subselect)
    expr = entries[0].node("expr") if entries else None
    return expr is None or _expr_is_array(catalog, expr)


def null_free_array_params(tree: Node, catalog: Catalog) -> set[int]:
    """Parameters used only as the array of `x = ANY(@p)` (or another strict operator with ANY/ALL).

    There a NULL element can only make the comparison NULL, never true: such a parameter
    takes `Sequence[T]`, not `Sequence[T | None]`.
    """
    uses: dict[int, int] = {}
    as_array: dict[int, int] = {}
    for node in walk(tree):
        if node.type == "PARAM" and node.int("paramkind") == 0:
            uses[node.int("paramid")] = uses.get(node.int("paramid"), 0) + 1
        elif node.type == "SCALARARRAYOPEXPR":
            function = catalog.functions.get(node.int("opfuncid"))
            args = node.nodes("args")
            if function is None or not function.strict or len(args) != 2:
                continue
            array = args[1]
            while array.type in ("RELABELTYPE", "ARRAYCOERCEEXPR", "COERCETODOMAIN") and array.node("arg") is not None:
                array = array.node("arg") or array
            if array.type == "PARAM" and array.int("paramkind") == 0:
                as_array[array.int("paramid")] = as_array.get(array.int("paramid"), 0) + 1
    return {number for number, count in as_array.items() if uses.get(number) == count}
