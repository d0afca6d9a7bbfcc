"""Telling the user how a run went: diagnostics as text, JSON or GitHub annotations, and progress lines.

Text goes to stderr, coloured like a compiler's when stderr is a terminal. `--format json`
puts one JSON document on stdout per run (one line per cycle under `watch`);
`--format github` adds workflow-command annotations on stdout to the text on stderr.

>>> d = Diagnostic('column "nme" does not exist', Location("q.sql", 2, 8), "SELECT nme FROM authors;", sqlstate="42703")
>>> as_json(d)["end"]
{'line': 2, 'column': 11}
>>> print(github_annotation(d))
::error file=q.sql,line=2,col=8,title=sqlgen::column "nme" does not exist
"""

from __future__ import annotations

import enum
import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from sqlgen.errors import Diagnostic, Location, Role, ToolError, UserError, display_path, errors_only, plain
from sqlgen.sqllex import Kind, LexError, Token, tokenize

JSON_VERSION = 1


class Format(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    GITHUB = "github"


class Verbosity(enum.IntEnum):
    QUIET = -1  # errors only
    NORMAL = 0
    VERBOSE = 1  # and stage timings


def colour_wanted(choice: str, stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """`--color always|never|auto`; auto follows NO_COLOR, then FORCE_COLOR, then whether `stream` is a terminal."""
    if choice != "auto":
        return choice == "always"
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty() and environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


_ANSI: dict[Role, str] = {
    "location": "1",
    "error": "1;31",
    "warning": "1;35",
    "note": "1;36",
    "message": "1",
    "caret": "1;32",
    "label": "1;36",
}


def ansi(role: Role, text: str) -> str:
    return f"\033[{_ANSI[role]}m{text}\033[0m"


PROGRESS_FROM = 200  # queries: smaller runs finish before a progress line could be read


class Reporter:
    """Everything a command says, shaped by `--format`, `-q`/`-v` and colour."""

    def __init__(
        self,
        format: Format = Format.TEXT,
        verbosity: Verbosity = Verbosity.NORMAL,
        colour: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.format = format
        self.verbosity = verbosity
        self.colour = colour
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._collected: list[Diagnostic] = []
        self._attached: dict[str, object] = {}
        self.timestamps = False  # `watch` sets it: each outcome line says when it happened

    def info(self, message: str) -> None:
        """A line about what happened ("generated …"): stdout, or stderr when stdout carries JSON."""
        if self.verbosity >= Verbosity.NORMAL:
            self._line(self.stderr if self.format is Format.JSON else self.stdout, self._said(message))

    def paragraph(self, text: str) -> None:
        """Free text for the user to read (next steps), on stdout."""
        if self.verbosity >= Verbosity.NORMAL:
            self._line(self.stderr if self.format is Format.JSON else self.stdout, text)

    def note(self, message: str) -> None:
        if self.verbosity >= Verbosity.NORMAL:
            self._line(self.stderr, f"sqlgen: note: {message}")

    def progress(self, what: str, done: int, total: int) -> None:
        """`sqlgen: described 300/1000 queries`, rewritten in place: only for people watching a terminal,
        and only for runs long enough to need it."""
        if total < PROGRESS_FROM or self.verbosity is not Verbosity.NORMAL or self.format is not Format.TEXT:
            return
        if not self.stderr.isatty():
            return
        end = "\r\033[K" if done >= total else ""  # the line is cleared once the stage is over
        self.stderr.write(f"\r\033[Ksqlgen: {what} {done}/{total} queries{end}")
        self.stderr.flush()

    def stage(self, name: str, seconds: float) -> None:
        if self.verbosity >= Verbosity.VERBOSE:
            self._line(self.stderr, f"sqlgen: {name:<15} {seconds * 1000:7.0f} ms")

    def diagnostics(self, diagnostics: list[Diagnostic], summary: str) -> None:
        """Errors about the user's files, all at once, then a one-line summary."""
        if self.format is Format.JSON:
            self._collected.extend(diagnostics)
        else:
            for diagnostic in diagnostics:
                self._line(self.stderr, diagnostic.render(ansi if self.colour else plain))
            if self.format is Format.GITHUB:
                for diagnostic in diagnostics:
                    self._line(self.stdout, github_annotation(diagnostic))
        self._line(self.stderr, self._said(summary))

    def notes(self, diagnostics: list[Diagnostic]) -> None:
        """Notes and warnings about the user's files (an ignored option): shown, but the run goes on."""
        if self.format is Format.JSON:
            self._collected.extend(diagnostics)
            return
        if self.verbosity < Verbosity.NORMAL:
            return
        for diagnostic in diagnostics:
            self._line(self.stderr, diagnostic.render(ansi if self.colour else plain))
            if self.format is Format.GITHUB:
                self._line(self.stdout, github_annotation(diagnostic))

    def user_error(self, err: UserError, consequence: str = "nothing was written") -> None:
        count = len(errors_only(err.diagnostics))
        self.diagnostics(err.diagnostics, f"{count} error{'s' if count != 1 else ''}; {consequence}")

    def tool_error(self, err: ToolError) -> None:
        """sqlgen could not run: not about the user's files, so no location."""
        if self.format is Format.JSON:
            self._collected.append(Diagnostic(err.message, hint=err.hint))
        if self.format is Format.GITHUB:
            self._line(self.stdout, github_annotation(Diagnostic(err.message, hint=err.hint)))
        label = ansi("error", "error:") if self.colour else "error:"
        self._line(self.stderr, self._said(f"{label} {err.message}"))
        if err.hint:
            self._line(self.stderr, f"  hint: {err.hint}")

    def attach(self, key: str, value: object) -> None:
        """A command's own result, carried in the JSON document beside the diagnostics (`verify`'s verdicts)."""
        self._attached[key] = value

    def finish(self) -> None:
        """End of a run (or of a `watch` cycle): the JSON document, when that is the format."""
        if self.format is Format.JSON:
            document = {"version": JSON_VERSION, "diagnostics": [as_json(d) for d in self._collected], **self._attached}
            self._line(self.stdout, json.dumps(document))
            self._collected = []
            self._attached = {}

    def _said(self, text: str) -> str:
        """`sqlgen: text`, with the time of day first when `timestamps` is set (`sqlgen: 14:03:07 text`)."""
        return f"sqlgen: {time.strftime('%H:%M:%S')} {text}" if self.timestamps else f"sqlgen: {text}"

    def _line(self, stream: TextIO, text: str) -> None:
        print(text, file=stream, flush=True)


def generated_summary(out: Path, files: int, queries: int, changed: bool, cached: int = 0) -> str:
    """What a successful run says, and how many queries came from the cache.

    >>> generated_summary(Path("generated"), 2, 1, True)
    'wrote generated/ (2 files, 1 query)'
    >>> generated_summary(Path("app/db"), 1, 3, False, cached=3)
    'app/db/ is up to date (1 file, 3 queries; 3 from the describe cache)'
    """
    counts = f"{_count(files, 'file')}, {_count(queries, 'query', 'queries')}"
    from_cache = f"; {cached} from the describe cache" if cached else ""
    folder = display_path(out).rstrip("/") + "/"
    return f"wrote {folder} ({counts}{from_cache})" if changed else f"{folder} is up to date ({counts}{from_cache})"


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def as_json(diagnostic: Diagnostic) -> dict[str, Any]:
    """One diagnostic as the JSON format documents it (docs/cli.md)."""
    location = diagnostic.location
    end = token_end(diagnostic)
    return {
        "path": location.path if location else None,
        "line": location.line if location else None,
        "column": location.column if location else None,
        "end": {"line": end.line, "column": end.column} if end else None,
        "severity": diagnostic.severity,
        "message": diagnostic.message,
        "detail": diagnostic.detail,
        "hint": diagnostic.hint,
        "sqlstate": diagnostic.sqlstate,
        "source_line": diagnostic.source_line,
    }


def token_end(diagnostic: Diagnostic) -> Location | None:
    """Just past what a diagnostic points at (exclusive), when it ends on that line: the token, or
    the whole of a qualified name (`authors.nme`, `public."My Table"`), or for a function that does not
    exist, the call with its arguments (`lower(a, b)`). PostgreSQL reports where an error starts; the
    end is read from the text there."""
    location, line = diagnostic.location, diagnostic.source_line
    if location is None or line is None or not location.path.endswith(".sql"):
        return None
    try:
        tokens = tokenize(line[location.column - 1 :])
    except LexError:  # a string or comment running on past this line
        return None
    if not tokens or tokens[0].kind is Kind.SPACE:
        return None
    return Location(location.path, location.line, location.column + _span_end(tokens, diagnostic.sqlstate))


_NAMES = (Kind.IDENT, Kind.QUOTED_IDENT)
UNDEFINED_FUNCTION = "42883"


def _span_end(tokens: list[Token], sqlstate: str | None) -> int:
    """Where the span starting at `tokens[0]` ends, as an offset into their text."""
    last = 0
    if tokens[0].kind in _NAMES:
        while (
            last + 2 < len(tokens)
            and tokens[last + 1].text == "."
            and (tokens[last + 2].kind in _NAMES or tokens[last + 2].text == "*")
        ):
            last += 2
        if sqlstate == UNDEFINED_FUNCTION:
            after = next((i for i in range(last + 1, len(tokens)) if tokens[i].kind is not Kind.SPACE), None)
            if after is not None and tokens[after].text == "(":
                depth = 0
                for i in range(after, len(tokens)):
                    depth += {"(": 1, ")": -1}.get(tokens[i].text, 0)
                    if depth == 0:
                        return tokens[i].end
    return tokens[last].end


def github_annotation(diagnostic: Diagnostic) -> str:
    """A GitHub Actions `::error` (or `::warning`, `::notice`) workflow command: shown on the file's line in
    the pull request."""
    properties = []
    if diagnostic.location is not None:
        location = diagnostic.location
        properties += [f"file={location.path}", f"line={location.line}", f"col={location.column}"]
    properties.append("title=sqlgen")
    text = diagnostic.message
    for label, extra in (("detail", diagnostic.detail), ("hint", diagnostic.hint)):
        if extra:
            text += f"\n{label}: {extra}"
    escaped = ",".join(_escape_property(p) for p in properties)
    command = {"error": "error", "warning": "warning", "note": "notice"}[diagnostic.severity]
    return f"::{command} {escaped}::{_escape_data(text)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(pair: str) -> str:
    key, value = pair.split("=", 1)
    return f"{key}={_escape_data(value).replace(':', '%3A').replace(',', '%2C')}"
