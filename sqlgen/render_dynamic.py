"""The generated code that picks a `-- @dynamic` or `sqlgen.sort` query's statement at run time.

The variants (`sqlgen.dynamic.Plan`) become module constants, a table of them indexed by
which optional filters are given (one bit each) and the sort choice, and a few lines in the
function reading that table. Past the bound the module holds the statement's fragments and
a helper that builds a variant from them the first time it is asked for (the same steps as
`sqlgen.dynamic.build`). The caller's values choose a constant; none becomes SQL text.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from sqlgen.dynamic import Part, Plan, Template
from sqlgen.escape import PyLiteral, inline, literal, text_literal
from sqlgen.layout import LINE_WIDTH


@dataclass(frozen=True)
class DynamicView:
    parameters: tuple[str, ...]  # keyword-only parameters added to the signature
    select: tuple[str, ...]  # function body lines choosing the statement, before the call
    statement: str  # the local variable holding the chosen SQL
    arguments: tuple[str, ...]  # what the call passes after the SQL
    constants: tuple[tuple[str, PyLiteral], ...]
    tables: tuple[str, ...]  # module-level lines after the constants
    imports: frozenset[str]
    definitions: frozenset[str]


_HELPER = '''_Parts = tuple[str | int | None, ...]
_Template = tuple[_Parts, str, tuple[tuple[int, str, _Parts], ...], _Parts]


def _dynamic_statement(template: _Template, given: int, sort: str) -> tuple[str, tuple[int, ...]]:
    """A query's statement for the optional filters `given` (bit i: the i-th is given) and the
    ORDER BY text `sort`, put together from the module's constant fragments: the statement's
    conjuncts of the filters not given left out, its parameters numbered in order; with the
    indexes of the arguments it takes."""
    head, where, conjuncts, tail = template
    kept = [(separator, parts) for bit, separator, parts in conjuncts if bit < 0 or given >> bit & 1]
    pieces: list[str | int | None] = [*head]
    for index, (separator, parts) in enumerate(kept):
        pieces += [where if index == 0 else separator, *parts]
    pieces += tail
    used = sorted({p for p in pieces if isinstance(p, int)})
    numbers = {n: i + 1 for i, n in enumerate(used)}
    sql = "".join(sort if p is None else p if isinstance(p, str) else f"${numbers[p]}" for p in pieces)
    return sql, tuple(n - 1 for n in used)'''


def dynamic_view(
    plan: Plan,
    constant: str,
    arg_names: Sequence[str],
    arguments: Sequence[str],
    sort_name: str,
    local: dict[str, str],
    alias: str = "",
) -> DynamicView:
    """What a query with `plan` adds to its function and module. `constant`: the query's constant name;
    `arguments`: each parameter as passed to asyncpg; `sort_name`: the sort parameter's name; `local`: the
    names of the locals the lines use (given, sort, sql, used, arguments, built, key); `alias`: the name of
    the sort choices' `Literal` type (for callers that declare a parameter of it, as web frameworks do)."""
    parameters: list[str] = []
    select: list[str] = []
    tables: list[str] = []
    imports: set[str] = set()
    bits = len(plan.filters)
    given, sort, sql, used, args = (local[n] for n in ("given", "sort", "sql", "used", "arguments"))
    names = [arg_names[n - 1] for n in plan.filters]
    if names:
        tests = [f"({name} is not None)" + (f" << {bit}" if bit else "") for bit, name in enumerate(names)]
        select += _joined(f"{given} = ", tests, " | ")
    order_table = f"_{constant}_ORDER"
    if plan.sort is not None:
        choices = [literal(value) for value, _ in plan.sort.choices]
        parameters.append(f"{sort_name}: {alias} = {choices[0]}")
        imports.add("from typing import Literal")
        tables += [
            "# The sort choices: a key as listed, or reversed with a leading '-'.",
            *_joined(f"{alias} = Literal[", choices, ", ", close="]"),
            f"{order_table}: dict[str, int] = {{",
            *(f"    {c}: {i}," for i, c in enumerate(choices)),
            "}",
        ]
        message = f"{sort_name} must be one of {{', '.join({order_table})}}, not {{{sort_name}!r}}"
        select += [
            f"{sort} = {order_table}.get({sort_name})",
            f"if {sort} is None:",
            f'    raise ValueError(f"{message}")',
        ]
    index = (
        " | ".join(
            part
            for part in (
                (f"{sort} << {bits}" if bits else sort) if plan.sort is not None else "",
                given if bits else "",
            )
            if part
        )
        or "0"
    )
    constants: list[tuple[str, PyLiteral]] = []
    definitions: set[str] = set()
    comment = _comment(names, plan)
    if plan.template is None:
        variants = f"_{constant}_VARIANTS"
        rows = []
        for number, (text, taking) in enumerate(plan.statements):
            constants.append((f"{constant}_V{number}", text_literal(text)))
            rows.append(f"    ({constant}_V{number}, {_tuple(taking)}),")
        tables = [*comment, f"{variants}: tuple[tuple[str, tuple[int, ...]], ...] = (", *rows, ")", *tables]
        select.append(f"{sql}, {used} = {variants}[{index}]")
    else:
        template, built, key = f"_{constant}_TEMPLATE", f"_{constant}_BUILT", local["key"]
        sorts = [text for _, text in plan.sort.choices] if plan.sort is not None else [""]
        tables += [
            *comment,
            f"_{constant}_SORTS = ({', '.join(literal(s) for s in sorts)}{',' if len(sorts) == 1 else ''})",
            f"{template}: _Template = {_template(plan.template)}",
            f"{built}: dict[int, tuple[str, tuple[int, ...]]] = {{}}",
        ]
        definitions.add(_HELPER)
        sort_text = f"_{constant}_SORTS[{sort if plan.sort is not None else '0'}]"
        call = f"_dynamic_statement({template}, {given if bits else '0'}, {sort_text})"
        select += [
            f"{key} = {index}",
            f"{local['built']} = {built}.get({key})",
            f"if {local['built']} is None:",
            f"    {local['built']} = {built}[{key}] = {call}",
            f"{sql}, {used} = {local['built']}",
        ]
    call_arguments: tuple[str, ...] = ()
    if arguments:
        select += _joined(
            f"{args}: tuple[object, ...] = (", list(arguments), ", ", close=",)" if len(arguments) == 1 else ")"
        )
        call_arguments = (f"*[{args}[i] for i in {used}]",)
    else:
        select[-1] = select[-1].replace(f"{sql}, {used} =", f"{sql}, _ =")
    return DynamicView(
        tuple(parameters),
        tuple(select),
        sql,
        call_arguments,
        tuple(constants),
        tuple(tables),
        frozenset(imports),
        frozenset(definitions),
    )


def _comment(names: Sequence[str], plan: Plan) -> list[str]:
    parts = []
    if names:
        bits = ", ".join(f"{1 << bit} {inline(name)}" for bit, name in enumerate(names))
        parts.append(f"the bits of the optional filters given ({bits})")
    if plan.sort is not None:
        parts.append(f"{'plus ' if names else ''}the sort choice's number times {1 << len(names)}")
    return ["# " + line for line in textwrap.wrap(f"By index: {'; '.join(parts)}.", LINE_WIDTH - 2)]


def _joined(prefix: str, items: Sequence[str], separator: str, close: str = "") -> list[str]:
    """`prefix` + the items joined, on one line when it fits, else one item a line in parentheses."""
    one = prefix + separator.join(items) + close
    if len(one) + 4 <= LINE_WIDTH:
        return [one]
    if prefix.endswith(("(", "[")):
        return [prefix, *(f"    {item}," for item in items), close[-1]]
    lead = separator.strip()
    return [prefix + "(", f"    {items[0]}", *(f"    {lead} {item}" for item in items[1:]), ")"]


def _tuple(items: Sequence[int]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(map(str, items))})"


def _parts(parts: Sequence[Part]) -> str:
    if not parts:
        return "()"
    shown = ["None" if p is None else str(p) if isinstance(p, int) else literal(p) for p in parts]
    return f"({shown[0]},)" if len(shown) == 1 else f"({', '.join(shown)})"


def _template(template: Template) -> str:
    """The fragments as a Python display, one conjunct a line."""
    conjuncts = [
        f"        ({bit}, {literal(separator)}, {_parts(parts)})," for bit, separator, parts in template.conjuncts
    ]
    return "\n".join(
        [
            "(",
            f"    {_parts(template.head)},",
            f"    {literal(template.where)},",
            "    (",
            *conjuncts,
            "    ),",
            f"    {_parts(template.tail)},",
            ")",
        ]
    )
