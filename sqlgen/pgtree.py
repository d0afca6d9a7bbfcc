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
from typing import Any

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


def parse_node_tree(text: str, statement: str | None = None) -> Node | list[object]:
    """Read one node or list of nodes from `text`.

    The server's `location` fields are byte offsets into the statement it analysed (UTF-8);
    given that `statement`, they are read as offsets in its characters, the unit the rest of
    sqlgen counts in. One pass over the tokens with an explicit stack of open nodes and lists
    (trees of big statements are tens of thousands of tokens deep in places recursion would
    not reach).

    >>> tree = parse_node_tree("{PARAM :paramid 1 :location 13}", "SELECT 'é', $1")
    >>> tree["location"]
    12
    """
    characters = _character_offsets(statement) if statement is not None and not statement.isascii() else None
    if "\\" in text:
        tokens = _TOKEN.findall(text)
    else:  # nothing escaped: the brackets are the only tokens not separated by spaces
        tokens = text.replace("{", " { ").replace("}", " } ").replace("(", " ( ").replace(")", " ) ").split()
    count = len(tokens)
    stack: list[_Open] = []
    position = 0
    while position < count:
        token = tokens[position]
        position += 1
        value: object
        if token == "{":
            if position >= count:
                raise NodeTreeError("the tree ends early")
            stack.append(_Open(tokens[position], {}, None))
            position += 1
            continue
        if token == "(":
            kind = tokens[position] if position < count else ")"
            if kind == "b" or kind in _LIST_KINDS:
                try:
                    end = tokens.index(")", position)
                except ValueError:
                    raise NodeTreeError("the tree ends early") from None
                numbers = [int(t) for t in tokens[position + 1 : end]]
                position = end + 1
                value = frozenset(numbers) if kind == "b" else numbers
            else:
                stack.append(_Open(None, [], None))
                continue
        elif token == "}" or token == ")":
            if not stack or (stack[-1].type is None) != (token == ")"):
                raise NodeTreeError(f"unexpected {token!r}")
            frame = stack.pop()
            if frame.type is None:
                value = frame.items
            else:
                if frame.key is not None:
                    frame.items[frame.key] = None  # a field printed with no value (an empty string)
                value = Node(frame.type, frame.items)
        elif token[0] == ":" and stack and stack[-1].type is not None:
            frame = stack[-1]
            if frame.key is not None:
                frame.items[frame.key] = None
            frame.key = token[1:]
            continue
        elif token == "<>":
            value = None
        else:
            if position < count and tokens[position] == "[" and _INTEGER.match(token):  # a Datum: length, bytes
                end = tokens.index("]", position)
                value = bytes(int(t) & 0xFF for t in tokens[position + 1 : end])
                position = end + 1
            else:
                value = _scalar(token)
        if not stack:
            if position != count:
                raise NodeTreeError(f"unexpected {tokens[position]!r} after the tree")
            if not isinstance(value, (Node, list)):
                raise NodeTreeError("not a node tree")
            return value
        frame = stack[-1]
        if frame.type is None:
            frame.items.append(value)
        elif frame.key is None:
            raise NodeTreeError(f"expected a field name in {frame.type}, got {token!r}")
        else:
            if characters is not None and frame.key == "location" and isinstance(value, int) and value >= 0:
                value = characters[value] if value < len(characters) else value
            frame.items[frame.key] = value
            frame.key = None
    raise NodeTreeError("the tree ends early")


def _character_offsets(statement: str) -> list[int]:
    """For each byte offset into `statement` encoded as UTF-8, the offset of the character it falls in."""
    offsets: list[int] = []
    for index, character in enumerate(statement):
        offsets.extend([index] * len(character.encode()))
    offsets.append(len(statement))
    return offsets


class _Open:
    """A node (`type` set, `items` its fields, `key` the field awaiting its value) or a list being read."""

    __slots__ = ("type", "items", "key")

    def __init__(self, type_: str | None, items: Any, key: str | None) -> None:
        self.type = type_
        self.items = items
        self.key = key


def _scalar(token: str) -> object:
    first = token[0]
    if first == '"' and token.endswith('"') and len(token) >= 2:
        return _unescape(token[1:-1]) if "\\" in token else token[1:-1]
    if first == "-" or first.isdigit():
        try:
            return int(token)
        except ValueError:
            pass
    if token == "true":
        return True
    if token == "false":
        return False
    return _unescape(token) if "\\" in token else token


def _unescape(token: str) -> str:
    # outfuncs.c escapes spaces; its line wrapping may turn an escaped space into an escaped newline.
    if "\n" in token:
        return _ESCAPE.sub(lambda m: " " if m[1] == "\n" else m[1], token)
    return _ESCAPE.sub(r"\1", token)
