"""CHECK constraints that forbid NULL elements in an array column or domain.

PostgreSQL has no NOT NULL for array elements; a CHECK constraint can say it. sqlgen
recognises two forms (each as one conjunct of the CHECK's AND), for a column `x` or a
domain's `VALUE`:

- `array_position(x, NULL) IS NULL` (array_position finds NULL elements too);
- `x = array_remove(x, NULL)` (or the sides swapped).

Forms that look alike but pass for arrays holding NULL are not recognised, because a CHECK
whose condition is NULL passes: `NOT (NULL = ANY (x))` and `NULL <> ALL (x)` are NULL, not
false, for an array with elements.

>>> from sqlgen.pgtree import parse_node_tree
>>> check = parse_node_tree("{NULLTEST :arg {FUNCEXPR :funcid 3277 :args ({VAR :varno 1 :varattno 2}"
...     " {CONST :constisnull true})} :nulltesttype 0}")
>>> from sqlgen.catalog import Function
>>> sorted(null_free_subjects(check, {3277: Function(3277, "pg_catalog", "array_position", "", False)}))
[2]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlgen.pgtree import Node

if TYPE_CHECKING:
    from sqlgen.catalog import Function

DOMAIN_VALUE = 0  # the subject `VALUE` of a domain's CHECK
_IS_NULL = 0  # NullTest.nulltesttype


def null_free_subjects(check: Node, functions: Mapping[int, Function]) -> set[int]:
    """The columns (attnums, or DOMAIN_VALUE) whose arrays `check` proves free of NULL elements."""
    subjects: set[int] = set()
    for conjunct in _conjuncts(check):
        subject = _subject_of(conjunct, functions)
        if subject is not None:
            subjects.add(subject)
    return subjects


def _conjuncts(node: Node) -> list[Node]:
    if node.type == "BOOLEXPR" and node["boolop"] == "and":
        return [c for arg in node.nodes("args") for c in _conjuncts(arg)]
    return [node]


def _subject_of(node: Node, functions: Mapping[int, Function]) -> int | None:
    if node.type == "NULLTEST" and node.int("nulltesttype") == _IS_NULL and node["argisrow"] is not True:
        call = node.node("arg")
        if call is not None and _builtin(call, "array_position", functions) and len(call.nodes("args")) == 2:
            searched, needle = call.nodes("args")
            return _subject(searched) if _is_null(needle) else None
        return None
    if node.type == "OPEXPR" and _builtin_id(node.int("opfuncid"), "array_eq", functions):
        args = node.nodes("args")
        if len(args) != 2:
            return None
        for plain, removed in (args, args[::-1]):
            subject = _subject(plain)
            if subject is not None and _builtin(removed, "array_remove", functions):
                inner = removed.nodes("args")
                if len(inner) == 2 and _subject(inner[0]) == subject and _is_null(inner[1]):
                    return subject
    return None


def _builtin(node: Node, name: str, functions: Mapping[int, Function]) -> bool:
    return node.type == "FUNCEXPR" and _builtin_id(node.int("funcid"), name, functions)


def _builtin_id(oid: int, name: str, functions: Mapping[int, Function]) -> bool:
    function = functions.get(oid)
    return function is not None and function.builtin and function.name == name


def _subject(node: Node) -> int | None:
    while node.type == "RELABELTYPE" and node.node("arg") is not None:
        node = node.node("arg") or node
    if node.type == "COERCETODOMAINVALUE":
        return DOMAIN_VALUE
    if node.type == "VAR" and node.int("varlevelsup") == 0 and node.int("varattno") > 0:
        return node.int("varattno")
    return None


def _is_null(node: Node) -> bool:
    while node.type == "RELABELTYPE" and node.node("arg") is not None:
        node = node.node("arg") or node
    return node.type == "CONST" and node["constisnull"] is True
