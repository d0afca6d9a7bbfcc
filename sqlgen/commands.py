"""Command checks: whether each typed query's statement can do what its annotation asks (`:one` needs
rows, `:batchexec` needs parameters to run over), before any code is rendered for it.

A query that fails is left out with a located diagnostic, as one PostgreSQL rejects is: with
`--keep-going` the rest of the package is still written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlgen.errors import Diagnostic

if TYPE_CHECKING:
    from sqlgen.infer import TypedQuery


def check_commands(typed: Sequence[TypedQuery]) -> tuple[list[TypedQuery], list[Diagnostic]]:
    """The queries whose command fits their statement, and a diagnostic for each of the others."""
    fit: list[TypedQuery] = []
    diagnostics: list[Diagnostic] = []
    for query in typed:
        problems = command_problems(query)
        diagnostics.extend(problems)
        if not problems:
            fit.append(query)
    return fit, diagnostics


def command_problems(typed: TypedQuery) -> list[Diagnostic]:
    query = typed.described.query
    command = query.command
    problems = []
    if command.batched and not typed.params:
        problems.append(
            query.file.diagnostic(
                f"query {query.name} is {command.value} but has no parameters to run it over",
                query.annotation_offset,
                hint="give the statement parameters (@name), or use :exec, :one or :many",
            )
        )
    if command.returns_rows and not typed.columns and not typed.selects:  # `SELECT FROM t` has rows of no columns
        problems.append(
            query.file.diagnostic(
                f"query {query.name} is {command.value} but its statement returns no rows",
                query.annotation_offset,
                hint="use :exec, :execrows or :execresult, or add a RETURNING clause",
            )
        )
    return problems
