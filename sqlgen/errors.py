"""Diagnostics: what went wrong, where, and what to do about it.

A run collects `Diagnostic`s (each an error, a warning or a note) and reports them together,
sorted by place. Every failure sqlgen reports is a `SqlgenError`: `UserError` (exit 1) carries
diagnostics about the user's SQL or config; `ToolError` (exit 2) says sqlgen could not run at
all (database unreachable, server would not start).

>>> d = Diagnostic("syntax error at or near \\"FORM\\"", Location("q.sql", 2, 10), source_line="SELECT a FORM t")
>>> print(d.render())
q.sql:2:10: error: syntax error at or near "FORM"
    SELECT a FORM t
             ^
"""

from __future__ import annotations

import bisect
import difflib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Role = Literal["location", "error", "warning", "note", "message", "caret", "label"]
Severity = Literal["error", "warning", "note"]
Paint = Callable[[Role, str], str]  # styles a part of a rendered diagnostic: colour on terminals


def plain(role: Role, text: str) -> str:
    return text


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based line and column in a file (column counts characters)."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    message: str
    location: Location | None = None
    source_line: str | None = None
    detail: str | None = None
    hint: str | None = None
    sqlstate: str | None = None
    severity: Severity = "error"  # warnings and notes are reported without failing the run

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.location is None:
            return ("", 0, 0, self.message)
        return (self.location.path, self.location.line, self.location.column, self.message)

    def render(self, paint: Paint = plain) -> str:
        where = paint("location", f"{self.location}:") + " " if self.location else ""
        lines = [f"{where}{paint(self.severity, self.severity + ':')} {paint('message', self.message)}"]
        if self.source_line is not None and self.location is not None:
            text = self.source_line.expandtabs(1)
            lines.append(f"    {text}")
            lines.append("    " + " " * (self.location.column - 1) + paint("caret", "^"))
        if self.detail:
            lines.append(f"  {paint('label', 'detail:')} {self.detail}")
        if self.hint:
            lines.append(f"  {paint('label', 'hint:')} {self.hint}")
        return "\n".join(lines)


@dataclass(frozen=True)
class SourceText:
    """A file's text with offset → line/column mapping, for pointing at SQL."""

    path: str
    text: str
    _line_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        object.__setattr__(self, "_line_starts", tuple(starts))

    def location(self, offset: int) -> Location:
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return Location(self.path, index + 1, offset - self._line_starts[index] + 1)

    def line_text(self, line: int) -> str:
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)]

    def diagnostic(self, message: str, offset: int, **extra: Any) -> Diagnostic:
        location = self.location(offset)
        line = self.line_text(location.line)
        return Diagnostic(
            message,
            location,
            line,
            extra.get("detail"),
            extra.get("hint"),
            extra.get("sqlstate"),
            extra.get("severity", "error"),
        )

    def note(self, message: str, offset: int, hint: str | None = None) -> Diagnostic:
        """A diagnostic of severity note: reported, failing nothing."""
        location = self.location(offset)
        return Diagnostic(message, location, self.line_text(location.line), hint=hint, severity="note")


def display_path(path: Path) -> str:
    """A path relative to the working directory when it is below it, for messages."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def did_you_mean(word: str, known: Iterable[str], default: str | None = None) -> str | None:
    """A hint naming the closest of `known` to a misspelt `word`, else `default`.

    >>> did_you_mean(":onee", [":one", ":many"]), did_you_mean("querys", ["queries", "out"])
    ("did you mean ':one'?", "did you mean 'queries'?")
    """
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else default


def errors_only(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]


class SqlgenError(Exception):
    """What sqlgen reports instead of a traceback: located diagnostics, and the exit code the command
    line gives for them. Catch this to handle every failure of `sqlgen.generate` and the rest."""

    exit_code = 1
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return errors_only(self.diagnostics)


class UserError(SqlgenError):
    """Errors in the user's SQL or configuration (exit code 1); notes may come with them."""

    exit_code = 1

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(d.message for d in diagnostics))
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)


class ToolError(SqlgenError):
    """sqlgen could not do its job: database unreachable, server failed (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.diagnostics = [Diagnostic(message, hint=hint)]


def os_failure(err: OSError) -> ToolError:
    """A file sqlgen needed to write could not be: a ToolError naming it."""
    what = display_path(Path(os.fsdecode(err.filename))) if err.filename else "the output"
    return ToolError(f"cannot write {what}: {err.strerror or err}")
