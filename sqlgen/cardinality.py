"""How many rows a statement returns: exactly one, when the server's analysed tree makes that certain.

A `:one` query whose statement always yields exactly one row returns its row type, not
`Row | None`. Certain, read from the tree PostgreSQL analysed (see `sqlgen.pgtree`):

- a SELECT that aggregates without GROUP BY, GROUPING SETS or HAVING (its WHERE filters
  the rows aggregated, not the one row of the result);
- a SELECT without FROM and WHERE;
- a SELECT whose FROM items are each a subquery or VALUES list of exactly one row,
  without WHERE;
- `INSERT … VALUES (one row) … RETURNING` (or DEFAULT VALUES) into a table, unless ON
  CONFLICT DO NOTHING, an ON CONFLICT DO UPDATE … WHERE, a rule, a BEFORE … FOR EACH ROW
  trigger (which skips the row when it returns NULL; on the table or, for a partitioned
  table, on any partition) or a foreign partition can leave the row out.

In each case there is also no set-returning function in the select list, no LIMIT that may
be 0 and no OFFSET that may be above 0. Everything else (UPDATE, DELETE, MERGE, a set
operation, a FROM clause of tables, …) may return no row.

>>> from sqlgen.pgtree import parse_node_tree
>>> tree = parse_node_tree("{QUERY :commandType 1 :hasAggs true :jointree {FROMEXPR :fromlist <> :quals <>}}")
>>> row_count(tree, None).reason
'exactly one row: an aggregate without GROUP BY or HAVING'
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlgen.catalog import Catalog
from sqlgen.pgtree import CMD_INSERT, CMD_SELECT, Node

_RTE_SUBQUERY, _RTE_VALUES = 1, 5
_ONCONFLICT_NOTHING, _ONCONFLICT_UPDATE = 1, 2
_QSRC_ORIGINAL = 0


@dataclass(frozen=True)
class RowCount:
    exactly_one: bool  # the statement returns exactly one row, every time it succeeds
    reason: str  # "exactly one row: …" or "zero or more rows: …", for explanations


def row_count(tree: Node | None, catalog: Catalog | None) -> RowCount:
    """Whether the statement `tree` (the server's analysed query) certainly returns exactly one row, and why.

    `catalog` tells whether triggers or foreign partitions may leave an inserted row out.
    """
    if tree is None:
        return _maybe_none("the server sent no analysis of the statement")
    try:
        return _statement(tree, catalog)
    except (LookupError, TypeError, ValueError, AttributeError):
        return _maybe_none("the statement has a shape sqlgen does not analyse")


def _one(reason: str) -> RowCount:
    return RowCount(True, f"exactly one row: {reason}")


def _maybe_none(reason: str) -> RowCount:
    return RowCount(False, f"zero or more rows: {reason}")


def _statement(query: Node, catalog: Catalog | None) -> RowCount:
    if query.int("querySource") != _QSRC_ORIGINAL:
        return _maybe_none("a rule rewrote the statement")
    command = query.int("commandType")
    if command == CMD_SELECT:
        return _select(query)
    if command == CMD_INSERT:
        return _insert(query, catalog)
    return _maybe_none("UPDATE, DELETE and MERGE return a row per row they change, which may be none")


def _select(query: Node) -> RowCount:
    limited = _limited(query)
    if limited is not None:
        return _maybe_none(limited)
    if query.node("setOperations") is not None:
        return _maybe_none("a set operation (UNION, INTERSECT, EXCEPT)")
    if query["groupClause"] or query["groupingSets"]:
        return _maybe_none("GROUP BY gives a row per group, and no group when no row matches")
    if query.node("havingQual") is not None:
        return _maybe_none("HAVING can filter out the one row")
    if query["hasAggs"] is True:
        return _one("an aggregate without GROUP BY or HAVING")
    jointree = query.node("jointree")
    if jointree is None:
        return _maybe_none("a statement without a join tree")
    items = jointree.nodes("fromlist")
    where = jointree.node("quals") is not None
    if not items:
        return _maybe_none("WHERE can filter out the row") if where else _one("a SELECT without FROM or WHERE")
    rtable = query.nodes("rtable")
    for item in items:
        if item.type != "RANGETBLREF":
            return _maybe_none("a FROM clause with joins")
        rte = rtable[item.int("rtindex") - 1]
        kind = rte.int("rtekind")
        if kind == _RTE_VALUES and isinstance(rte["values_lists"], list) and len(rte["values_lists"]) == 1:
            continue
        subquery = rte.node("subquery")
        if kind != _RTE_SUBQUERY or subquery is None:
            return _maybe_none("FROM a table or function, which may hold no matching row")
        inner = _statement(subquery, None)
        if not inner.exactly_one:
            return inner
    if where:
        return _maybe_none("WHERE can filter out the row")
    return _one("a SELECT from subqueries of exactly one row each, without WHERE")


def _limited(query: Node) -> str | None:
    """Why the select list or LIMIT/OFFSET may turn the one row into none (or several), if they may."""
    if query["hasTargetSRFs"] is True:
        return "a set-returning function in the select list returns any number of rows"
    count, offset = query.node("limitCount"), query.node("limitOffset")
    if count is not None and not (_is_constant(count) and (_is_null(count) or _nonzero(count))):
        return "LIMIT may be 0"
    if offset is not None and not (_is_constant(offset) and (_is_null(offset) or not _nonzero(offset))):
        return "OFFSET may skip the row"
    return None


_INTEGER_TYPES = frozenset({20, 21, 23})  # int8, int2, int4: a cast between them keeps zero zero


def _constant(node: Node) -> Node | None:
    """The integer literal beneath an implicit cast to bigint (`LIMIT 1`), if `node` is one."""
    if node.type == "FUNCEXPR" and node.int("funcformat") in (1, 2) and len(node.nodes("args")) == 1:
        node = node.nodes("args")[0]
    return node if node.type == "CONST" and node.int("consttype") in _INTEGER_TYPES else None


def _is_constant(node: Node) -> bool:
    return _constant(node) is not None


def _is_null(node: Node) -> bool:
    const = _constant(node)
    return const is not None and const["constisnull"] is True


def _nonzero(node: Node) -> bool:
    # The Datum's bytes are in the server's byte order; zero is all zero bytes in either
    # order, and a negative LIMIT or OFFSET is an error, so non-zero bytes mean at least 1.
    const = _constant(node)
    value = const["constvalue"] if const is not None else None
    return isinstance(value, bytes) and any(value)


def _insert(query: Node, catalog: Catalog | None) -> RowCount:
    if not query.nodes("returningList"):
        return _maybe_none("INSERT without RETURNING returns no row")
    jointree = query.node("jointree")
    if jointree is None or jointree.nodes("fromlist") or jointree.node("quals") is not None:
        return _maybe_none("INSERT … SELECT or a VALUES list of several rows inserts any number of rows")
    conflict = query.node("onConflict")
    if conflict is not None:
        action = conflict.int("action")
        if action == _ONCONFLICT_NOTHING:
            return _maybe_none("ON CONFLICT DO NOTHING returns no row for a conflicting one")
        if action == _ONCONFLICT_UPDATE and conflict.node("onConflictWhere") is not None:
            return _maybe_none("ON CONFLICT DO UPDATE … WHERE returns no row when its WHERE is false")
    rtable = query.nodes("rtable")
    target = rtable[query.int("resultRelation") - 1]
    table = catalog.tables.get(target.int("relid")) if catalog is not None else None
    if table is None:
        return _maybe_none("INSERT into a relation sqlgen does not know")
    if table.kind not in ("r", "p"):
        return _maybe_none(f"INSERT into {table.name}, which is not a table: a trigger or wrapper may skip the row")
    if table.before_row_triggers:
        return _maybe_none(f"a BEFORE … FOR EACH ROW trigger on {table.name} (or a foreign partition) may skip the row")
    return _one("INSERT of one row with RETURNING, which nothing can skip")
