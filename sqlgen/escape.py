"""The one way outside text (names, labels, comments, file names, SQL) enters generated Python.

Text from the schema, the query files and the configuration is data: it reaches generated
code only as a string literal that evaluates to exactly that text (`literal`,
`text_literal`), as a docstring that cannot end early (`docstring`), or as one visible line
inside a comment or a docstring (`inline`). Identifiers are made by `naming` alone.

>>> print(literal('say "hi"\\n'))
"say \\"hi\\"\\n"
>>> print(text_literal("SELECT 1\\nFROM t WHERE a = 'x'"))
\"""SELECT 1
FROM t WHERE a = 'x'\"""
>>> print(inline("two\\nlines\\u2028"))
two\\nlines\\u2028
"""

from __future__ import annotations

import ast


class PyLiteral(str):
    """Python source for a string literal, made by this module (templates accept no other text where a literal goes)."""

    __slots__ = ()


def literal(text: str) -> PyLiteral:
    """A one-line, double-quoted Python literal for `text`: escapes for `\\`, `"` and every unprintable character.

    >>> literal("tab\\there"), literal("日本")
    ('"tab\\\\there"', '"日本"')
    """
    return _checked(text, '"' + "".join(_one_line_char(c) for c in text) + '"')


def text_literal(text: str) -> PyLiteral:
    """A triple-quoted literal for `text` that keeps its line breaks and tabs as they are, so SQL stays readable.

    Only a backslash, a quote that would end the string, and unprintable characters are
    escaped; the literal evaluates to `text`, byte for byte.
    """
    return _checked(text, '"""' + _triple_body(text) + '"""')


def docstring(text: str, indent: int = 0) -> PyLiteral:
    """A docstring literal holding `text`, its continuation lines indented by `indent` spaces.

    Like `text_literal`, it cannot end early or hold a character that breaks the line; what
    `inspect.cleandoc` makes of it is `text` with trailing spaces dropped. Tabs become the spaces
    they stand for in `text`, so indenting a line does not move its tab stops. Several lines
    close on a line of their own (PEP 257).
    """
    lines = [line.expandtabs().rstrip() for line in text.split("\n")]
    body = "\n".join(lines[:1] + [" " * indent + line if line else "" for line in lines[1:]])
    closing = "\n" + " " * indent if len(lines) > 1 and lines[-1] else ""
    return text_literal(body + closing)


def inline(text: str) -> str:
    """`text` as one visible line, for inside a docstring or comment: unprintable characters spelled as escapes.

    >>> inline("naïve"), inline("a\\tb")
    ('naïve', 'a\\\\tb')
    """
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _one_line_char(char: str) -> str:
    if char in '\\"':
        return "\\" + char
    return char if char.isprintable() else _escape(char)


def _triple_body(text: str) -> str:
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            closes = index + 1 == len(text) or text[index + 1] == '"'
            out.append('\\"' if closes else '"')
        elif char in "\n\t" or char.isprintable():
            out.append(char)
        else:
            out.append(_escape(char))
    return "".join(out)


def _escape(char: str) -> str:
    """The escape sequence Python reads as `char`: `\\n`, `\\x00`, `\\u2028`, `\\ud800`, `\\U000e0001`."""
    return repr(char)[1:-1]


def _checked(text: str, source: str) -> PyLiteral:
    """`source` itself, after proving it is one string token that evaluates to `text`."""
    tree = ast.parse(source, mode="eval")
    exact = isinstance(tree.body, ast.Constant) and tree.body.value == text
    if not exact or any(c not in "\n\t" and not c.isprintable() for c in source):
        raise AssertionError(f"no exact literal for {text!r}")  # pragma: no cover - a bug in this module
    return PyLiteral(source)
