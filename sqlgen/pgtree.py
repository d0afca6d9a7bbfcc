"""PostgreSQL's own analysed statement, read from its node-tree text.

With `debug_print_rewritten` on, the server sends, while preparing a statement, the query
tree its parser and rewriter built: every name resolved, `*` expanded, views replaced by
their definitions, every function and operator resolved to its pg_proc row, and (from
PostgreSQL 16) each column reference marked with the outer joins that can null it. That
tree is what the infer stage reasons about, so sqlgen never re-implements name
resolution, overload resolution or view expansion.

The text is the format of PostgreSQL's `outfuncs.c` (the one stored in `pg_node_tree`
columns): `{NODE :field value ...}` for nodes, `(...)` for lists, `(i 1 2)` for integer
lists, `(b 1 2)` for bitmapsets, `<>` for NULL, `"..."` for strings, and backslash escapes.

>>> node = parse_node_tree('{VAR :varno 1 :varattno 2 :varnullingrels (b 3) :location -1}')
>>> node.type, node["varattno"], node["varnullingrels"]
('VAR', 2, frozenset({3}))
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r"(?:\\[\s\S]|[^\s(){}\\])+|[(){}]")
_ESCAPE = re.compile(r"\\([\s\S])")
_INTEGER = re.compile(r"-?\d+\Z")
_LIST_KINDS = {"i", "o", "x"}


# Query.commandType (CmdType in PostgreSQL's nodes.h)
CMD_SELECT, CMD_UPDATE, CMD_INSERT, CMD_DELETE, CMD_MERGE = 1, 2, 3, 4, 5


class NodeTreeError(ValueError):
    """The text is not a node tree this reader understands."""


@dataclass(frozen=True, eq=False)
class Node:
    type: str
    fields: Mapping[str, object]

    def __getitem__(self, key: str) -> object:
        return self.fields.get(key)

    def node(self, key: str) -> Node | None:
        value = self.fields.get(key)
        return value if isinstance(value, Node) else None

    def nodes(self, key: str) -> list[Node]:
        value = self.fields.get(key)
        return [v for v in value if isinstance(v, Node)] if isinstance(value, list) else []

    def int(self, key: str, default: int = 0) -> int:
        value = self.fields.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def text(self, key: str) -> str | None:
        value = self.fields.get(key)
        return value if isinstance(value, str) else None

    def children(self) -> Iterator[Node]:
        """The nodes directly below this one, in field order."""
        for value in self.fields.values():
            yield from _nodes_in(value)


def _nodes_in(value: object) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _nodes_in(item)


def output_entries(query: Node) -> list[Node]:
    """The target entries of what a statement returns: its select list, or its RETURNING list; no junk."""
    entries = query.nodes("targetList" if query.int("commandType") == CMD_SELECT else "returningList")
    return [e for e in entries if e["resjunk"] is not True]


def walk(node: Node) -> Iterator[Node]:
    """`node` and every node below it, depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(current.children())))


def parse_node_tree(text: str) -> Node | list[object]:
    """Read one node or list of nodes from `text`."""
    tokens = [m.group() for m in _TOKEN.finditer(text)]
    reader = _Reader(tokens)
    value = reader.value()
    if reader.position != len(tokens):
        raise NodeTreeError(f"unexpected {tokens[reader.position]!r} after the tree")
    if not isinstance(value, (Node, list)):
        raise NodeTreeError("not a node tree")
    return value


class _Reader:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0

    def next(self) -> str:
        if self.position >= len(self.tokens):
            raise NodeTreeError("the tree ends early")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def value(self) -> object:
        token = self.next()
        if token == "{":
            return self.node()
        if token == "(":
            return self.list()
        if token == "<>":
            return None
        return self.scalar(token)

    def node(self) -> Node:
        node_type = self.next()
        fields: dict[str, object] = {}
        while (token := self.next()) != "}":
            if not token.startswith(":"):
                raise NodeTreeError(f"expected a field name in {node_type}, got {token!r}")
            if self.peek() in ("}", None) or (self.peek() or "").startswith(":"):
                fields[token[1:]] = None  # a field printed with no value (an empty string)
                continue
            fields[token[1:]] = self.value()
        return Node(node_type, fields)

    def list(self) -> list[object] | frozenset[int]:
        kind = self.peek()
        if kind == "b":
            self.next()
            members = []
            while (token := self.next()) != ")":
                members.append(int(token))
            return frozenset(members)
        if kind in _LIST_KINDS:
            self.next()
            items: list[object] = []
            while (token := self.next()) != ")":
                items.append(int(token))
            return items
        values: list[object] = []
        while self.peek() != ")":
            values.append(self.value())
        self.next()
        return values

    def scalar(self, token: str) -> object:
        if token.startswith('"') and token.endswith('"') and len(token) >= 2:
            return _unescape(token[1:-1])
        if token.startswith("\\"):
            return _unescape(token)
        if _INTEGER.match(token):
            if self.peek() == "[":  # a Datum: its length, then its bytes
                self.next()
                data = bytearray()
                while (byte := self.next()) != "]":
                    data.append(int(byte) & 0xFF)
                return bytes(data)
            return int(token)
        if token == "true":
            return True
        if token == "false":
            return False
        return _unescape(token)


def _unescape(token: str) -> str:
    # outfuncs.c escapes spaces; its line wrapping may turn an escaped space into an escaped newline.
    return _ESCAPE.sub(lambda m: " " if m[1] == "\n" else m[1], token)
