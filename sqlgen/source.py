"""Query files → `QuerySource`s: annotations, doc comments, and parameters rewritten to `$n`.

The SQL sent to PostgreSQL is the user's own statement text with only the parameters
replaced; every replacement is recorded so server error positions map back to the file.

>>> from sqlgen.errors import SourceText
>>> text = "-- name: GetAuthor :one\\n-- Fetch one author.\\nSELECT * FROM authors WHERE id = @id;\\n"
>>> [q], errors = parse_queries(SourceText("authors.sql", text))
>>> q.name, q.command.value, q.doc, q.sql
('GetAuthor', ':one', 'Fetch one author.', 'SELECT * FROM authors WHERE id = $1')
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import enum
import itertools
import os
import re
import stat
import textwrap
from dataclasses import dataclass
from pathlib import Path

from sqlgen.dynamic import Sort, sort_macro
from sqlgen.errors import Diagnostic, Location, SourceText, UserError, did_you_mean, display_path
from sqlgen.sqllex import Kind, LexError, Token, split_statements, tokenize


class Command(enum.Enum):
    ONE = ":one"
    MANY = ":many"
    EXEC = ":exec"
    EXECROWS = ":execrows"
    EXECRESULT = ":execresult"
    ITER = ":iter"  # rows streamed from a server-side cursor
    COPYFROM = ":copyfrom"  # many rows loaded with binary COPY
    COPYTO = ":copyto"  # the result written out with COPY … TO STDOUT
    BATCHEXEC = ":batchexec"  # one statement over many parameter sets
    BATCHONE = ":batchone"
    BATCHMANY = ":batchmany"

    @property
    def returns_rows(self) -> bool:
        return self in (Command.ONE, Command.MANY, Command.ITER, Command.BATCHONE, Command.BATCHMANY, Command.COPYTO)

    @property
    def batched(self) -> bool:
        """Runs over an iterable of parameter sets rather than one."""
        return self in (Command.COPYFROM, Command.BATCHEXEC, Command.BATCHONE, Command.BATCHMANY)


_ANNOTATION = re.compile(r"(?:--|/\*)\s*name\s*:")
_ANNOTATION_PARTS = re.compile(r"(?:--|/\*)\s*name\s*:\s*(?P<name>\S*)\s*(?P<command>\S*)\s*(?P<rest>.*)$", re.S)
# Commands of sqlc's that PostgreSQL has no use for, and what to write instead.
_OTHER_ENGINES = {
    ":execlastid": "on PostgreSQL write `RETURNING id` at the end of the statement and use `:one`",
}
_QUERY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SQLC_MACROS = {"arg", "narg", "slice", "embed"}
MAX_PARAMETERS = 65535  # the protocol counts a statement's parameters in 16 bits
# Characters that continue an identifier or a `$n`: a placeholder written next to one would merge with it.
_GLUES = re.compile(r"[^\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]")


@dataclass(frozen=True)
class Parameter:
    """One parameter of a query, as written by the user."""

    number: int  # n in the rewritten `$n`
    name: str | None  # from @name / sqlc.arg(name); None for a plain `$n`
    nullable: bool  # declared with sqlc.narg
    offsets: tuple[int, ...]  # file offsets of each occurrence
    slice: bool = False  # declared with sqlc.slice: a list sent as one array


@dataclass(frozen=True)
class Embed:
    """`sqlc.embed(name)` in a select list, sent as `name.*`: that table's row as one nested model."""

    name: str  # the table or alias as written
    sql_offset: int  # where `name.*` starts in the rewritten statement
    offset: int  # file offset of `sqlc.embed`


@dataclass(frozen=True)
class Edit:
    """One parameter replacement: `original[start:end]` became `sql[sql_start:sql_end]`."""

    sql_start: int
    sql_end: int
    start: int
    end: int


@dataclass(frozen=True)
class QuerySource:
    name: str
    command: Command
    doc: str
    file: SourceText
    annotation_offset: int  # file offset of the `-- name:` comment
    statement_offset: int  # file offset of the statement's first character
    sql: str  # the statement with parameters rewritten to $n
    edits: tuple[Edit, ...]
    params: tuple[Parameter, ...]
    embeds: tuple[Embed, ...] = ()
    validate: bool = False  # `-- @validate`: pydantic validates this query's rows
    dynamic: bool = False  # `-- @dynamic`: optional filters become variant statements (sqlgen.dynamic)
    sort: Sort | None = None  # `sqlgen.sort(@order, …)` in the statement (sqlgen.dynamic)

    @property
    def batch_sql(self) -> str:
        """`:batchone`/`:batchmany` run this: each result row tagged with its parameter set's index, in order."""
        return f"WITH batch AS MATERIALIZED (\n{self.sql}\n)\nSELECT ${len(self.params) + 1}::int4, * FROM batch"

    def file_offset(self, sql_offset: int) -> int:
        """Map an offset in `sql` to an offset in the file."""
        base_file, base_sql = self.statement_offset, 0
        for edit in self.edits:
            if sql_offset < edit.sql_start:
                break
            if sql_offset < edit.sql_end:
                return edit.start
            base_file, base_sql = edit.end, edit.sql_end
        return base_file + sql_offset - base_sql

    def diagnostic(self, message: str, sql_offset: int | None = None, **extra: str | None) -> Diagnostic:
        offset = self.annotation_offset if sql_offset is None else self.file_offset(sql_offset)
        return self.file.diagnostic(message, offset, **extra)


MAX_INPUT_BYTES = 64 * 2**20  # schema, query and config files: a real one is a few MB at most


def read_input(path: Path) -> bytes:
    """The bytes of an input file (schema, queries, config): a regular file (or a link to one) of at most
    `MAX_INPUT_BYTES`. Anything else — a folder, a FIFO, a socket, a device such as /dev/zero, a bigger
    file — is a UserError at the file, and is never read from (a FIFO is not even waited on)."""
    shown = display_path(path)

    def refuse(problem: str, hint: str = "sqlgen reads schema, query and config files only") -> UserError:
        return UserError([Diagnostic(f"cannot read {shown}: {problem}", Location(shown, 1, 1), hint=hint)])

    try:  # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then says what was opened
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as err:  # removed since the config was read, no permission, a socket (ENXIO)
        kind = _file_kind(path)
        raise refuse(f"it is {kind}" if kind else (err.strerror or str(err))) from None
    mode = os.fstat(descriptor)
    if not stat.S_ISREG(mode.st_mode):
        os.close(descriptor)
        raise refuse(f"it is {_file_kind(path) or 'not a regular file'}, not a regular file")
    with os.fdopen(descriptor, "rb") as handle:
        too_big = refuse(
            f"it is larger than {MAX_INPUT_BYTES // 2**20} MB",
            hint="split it into several files, or check that it is the file you meant",
        )
        if mode.st_size > MAX_INPUT_BYTES:
            raise too_big
        try:
            data = handle.read(MAX_INPUT_BYTES + 1)
        except OSError as err:
            raise refuse(err.strerror or str(err)) from None
        if len(data) > MAX_INPUT_BYTES:  # it grew while being read
            raise too_big
        return data


def _file_kind(path: Path) -> str | None:
    """What `path` is, in words, when it is not a regular file."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    kinds = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}
    kinds.update({stat.S_ISCHR: "a device", stat.S_ISBLK: "a device"})
    return next((name for test, name in kinds.items() if test(mode)), None)


def read_source(path: Path) -> SourceText:
    """Read a SQL file as text: UTF-8 (a BOM is dropped), newlines normalised to \\n; see `read_input`."""
    shown = display_path(path)
    data = read_input(path)
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as err:  # err.start counts from after the BOM
        prefix = _normalise_newlines(data[bom : bom + err.start].decode("utf-8"))
        location = SourceText(shown, prefix).location(len(prefix))
        byte = data[bom + err.start]
        raise UserError(
            [
                Diagnostic(
                    "file is not valid UTF-8",
                    location,
                    detail=f"byte 0x{byte:02x} at byte offset {bom + err.start}",
                    hint="save the file as UTF-8",
                )
            ]
        ) from None
    source = SourceText(shown, _normalise_newlines(text))
    nul = source.text.find("\0")
    if nul >= 0:  # libpq would cut the SQL short there, silently
        location = source.location(nul)
        shown_line = source.line_text(location.line).replace("\0", "\u2400")  # ␀: visible, one column wide
        raise UserError([Diagnostic("file contains a NUL character", location, shown_line, hint="delete it")])
    return source


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


_ANNOTATION_LINE = re.compile(r"^[ \t]*(?:--|/\*)[ \t]*name[ \t]*:", re.M)


def holds_queries(path: Path) -> bool:
    """Whether the file has a line starting with a query annotation: a schema file listed as
    queries too (or in a queries folder) is read for its queries when it has one, as sqlc reads it."""
    try:
        return _ANNOTATION_LINE.search(path.read_text(errors="replace")) is not None
    except OSError:
        return False


def is_annotation(token: Token) -> bool:
    """Whether `token` is a query annotation: `-- name: GetAuthor :one` or `/* name: GetAuthor :one */`."""
    return token.kind in (Kind.LINE_COMMENT, Kind.BLOCK_COMMENT) and _ANNOTATION.match(token.text) is not None


def parse_queries(file: SourceText) -> tuple[list[QuerySource], list[Diagnostic]]:
    """Split one query file into its annotated statements, and diagnostics for those that are malformed."""
    try:
        tokens = tokenize(file.text)
    except LexError as err:
        return [], [file.diagnostic(err.message, err.offset)]

    diagnostics: list[Diagnostic] = []
    starts = [i for i, t in enumerate(tokens) if is_annotation(t)]
    head = tokens[: starts[0]] if starts else tokens
    statements = split_statements(head)
    schema = [statement for statement in statements if _is_schema_statement(statement)]
    stray = next((statement[0] for statement in statements if not _is_schema_statement(statement)), None)
    if stray is not None:
        diagnostics.append(
            file.diagnostic(
                "statement without a `-- name: Name :command` annotation",
                stray.start,
                hint="add a line like `-- name: GetAuthor :one` directly above the statement",
            )
        )
    queries: list[QuerySource] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(tokens)
        try:
            query, skipped = _parse_query(file, tokens[start:end])
            queries.append(query)
            schema.extend(skipped)
        except UserError as err:
            diagnostics.extend(err.diagnostics)
    if schema:
        count = f"{len(schema)} statements" if len(schema) > 1 else "a statement"
        kinds = ", ".join(sorted({_first_words(statement) for statement in schema}))
        note = file.note(
            f"{count} without a query annotation ({kinds}) skipped: sqlc skips schema statements in query files",
            schema[0][0].start,
            hint="list the file as schema too when the queries need these objects",
        )
        diagnostics.append(note)
    return queries, diagnostics


# Statements that build or change a schema rather than query it, and transaction control
# around them: sqlc skips them in a query file, and so does sqlgen (with a note).
_SCHEMA_WORDS = frozenset(
    {"CREATE", "ALTER", "DROP", "COMMENT", "GRANT", "REVOKE", "BEGIN", "COMMIT", "START", "END", "SET", "RESET"}
)


def _is_schema_statement(statement: list[Token]) -> bool:
    return bool(statement) and statement[0].kind is Kind.IDENT and statement[0].text.upper() in _SCHEMA_WORDS


def _first_words(statement: list[Token]) -> str:
    words = [t.text.upper() for t in statement if t.significant][:2]
    if len(words) == 2 and statement[0].text.upper() in ("CREATE", "ALTER", "DROP", "COMMENT", "GRANT", "REVOKE"):
        return " ".join(w for w in words if w.isidentifier())
    return words[0]


def _parse_query(file: SourceText, tokens: list[Token]) -> tuple[QuerySource, list[list[Token]]]:
    """The query of one annotated block, and the schema statements following it (skipped)."""
    annotation = tokens[0]
    name, command = _parse_annotation(file, annotation)

    doc_lines: list[str] = []
    flags: set[str] = set()
    i = 1
    while i < len(tokens):
        token = tokens[i]
        if token.kind is Kind.SPACE and token.text.count("\n") <= 1:
            i += 1
        elif token.kind is Kind.LINE_COMMENT:
            text = token.text[2:].strip()
            flag = _flag(file, token, text) if text.startswith("@") else None
            if flag is not None:
                flags.add(flag)
            else:
                doc_lines.append(token.text[2:].rstrip())  # indentation kept, relative to the others
            i += 1
        else:
            break

    body = tokens[i:]
    first = next((j for j, t in enumerate(body) if t.significant), None)
    if first is None:
        raise UserError(
            [
                file.diagnostic(
                    f"query {name} has no SQL statement",
                    annotation.start,
                    hint="write the statement below the annotation",
                )
            ]
        )
    semicolon = next((j for j, t in enumerate(body) if t.kind is Kind.PUNCT and t.text == ";"), len(body))
    later = split_statements(body[semicolon + 1 :])
    after = next((statement[0] for statement in later if not _is_schema_statement(statement)), None)
    if after is not None:
        raise UserError(
            [
                file.diagnostic(
                    f"query {name} holds more than one statement",
                    after.start,
                    hint="give each statement its own `-- name: Name :command` annotation",
                )
            ]
        )
    if semicolon <= first:
        raise UserError([file.diagnostic(f"query {name} has no SQL statement", annotation.start)])
    last = max(j for j, t in enumerate(body[:semicolon]) if t.significant)
    statement = body[first : last + 1]
    sql, edits, params, embeds, sort = _rewrite_parameters(file, name, statement)
    doc = textwrap.dedent("\n".join(doc_lines)).strip()
    query = QuerySource(
        name=name,
        command=command,
        doc=doc,
        file=file,
        annotation_offset=annotation.start,
        statement_offset=statement[0].start,
        sql=sql,
        edits=tuple(edits),
        params=tuple(params),
        embeds=tuple(embeds),
        validate="validate" in flags,
        dynamic="dynamic" in flags,
        sort=sort,
    )
    return query, [statement for statement in later if statement]


FLAGS = ("validate", "dynamic", "vet-disable")  # the rules `@vet-disable` names are read by sqlgen.vet


def _flag(file: SourceText, token: Token, text: str) -> str | None:
    """The flag of a `-- @flag` line under an annotation, or None when the line is documentation
    (`-- @alias: the alias to look up`, as sqlc reads it). sqlc's own flags (`@sqlc-vet-disable`,
    `@param`) are accepted and ignored; a word close to one of sqlgen's flags is a misspelt flag."""
    word = re.match(r"@([^\s:]*)", text)
    flag = word[1] if word else ""
    if flag in FLAGS or flag.startswith("sqlc-") or flag == "param":
        return flag
    if not difflib.get_close_matches(flag.lower(), FLAGS, n=1, cutoff=0.7):
        return None
    offset = token.start + token.text.index("@")
    raise UserError(
        [
            file.diagnostic(
                f"unknown query flag `@{flag}`",
                offset,
                hint=did_you_mean(f"@{flag}", [f"@{f}" for f in FLAGS])
                or f"known flags: {', '.join('@' + f for f in FLAGS)}; write documentation without a leading @",
            )
        ]
    )


def _parse_annotation(file: SourceText, token: Token) -> tuple[str, Command]:
    text = token.text[:-2] if token.kind is Kind.BLOCK_COMMENT else token.text  # without the closing */
    parts = _ANNOTATION_PARTS.match(text.rstrip())
    assert parts is not None
    name, command = parts["name"], parts["command"]
    name_offset = token.start + parts.start("name")
    command_offset = token.start + parts.start("command")
    if not name:
        raise UserError(
            [file.diagnostic("annotation has no query name", name_offset, hint="write `-- name: GetAuthor :one`")]
        )
    if not _QUERY_NAME.match(name):
        raise UserError(
            [
                file.diagnostic(
                    f"query name {name!r} is not an identifier",
                    name_offset,
                    hint="use letters, digits and underscores, e.g. `GetAuthor`",
                )
            ]
        )
    known = ", ".join(c.value for c in Command)
    if not command:
        raise UserError(
            [file.diagnostic(f"annotation for {name} has no command", command_offset, hint=f"add one of {known}")]
        )
    if command in _OTHER_ENGINES:
        raise UserError(
            [
                file.diagnostic(
                    f"{command} is for MySQL and SQLite only: PostgreSQL has no last insert id",
                    command_offset,
                    hint=_OTHER_ENGINES[command],
                )
            ]
        )
    try:
        parsed = Command(command)
    except ValueError:
        raise UserError(
            [
                file.diagnostic(
                    f"unknown command {command!r}",
                    command_offset,
                    hint=did_you_mean(command, [c.value for c in Command], f"use one of {known}"),
                )
            ]
        ) from None
    if parts["rest"]:
        raise UserError(
            [
                file.diagnostic(
                    f"unexpected text after {command}",
                    token.start + parts.start("rest"),
                    hint="an annotation is `-- name: Name :command` or `/* name: Name :command */`",
                )
            ]
        )
    return name, parsed


@dataclass
class _Found:
    name: str | None
    nullable: bool
    offsets: list[int]
    slice: bool = False


def _rewrite_parameters(
    file: SourceText, query: str, tokens: list[Token]
) -> tuple[str, list[Edit], list[Parameter], list[Embed], Sort | None]:
    by_key: dict[str | int, _Found] = {}
    sorts: dict[int, Sort] = {}  # token index → the sqlgen.sort starting there
    order: list[str | int] = []
    # token range (start, end) → parameter key and template, or None and an embedded table's name
    replacements: list[tuple[int, int, str | int | None, str]] = []

    i = 0
    while i < len(tokens):
        token = tokens[i]
        sorted_by = sort_macro(file, tokens, i)
        if sorted_by is not None:
            if sorts:
                hint = "sort by one sqlgen.sort(); list fixed keys after it"
                raise UserError([file.diagnostic(f"query {query} has a second sqlgen.sort()", token.start, hint=hint)])
            sorts[i] = sorted_by[1]
            replacements.append((i, sorted_by[0], None, sorted_by[1].choices[0][1]))
            i = sorted_by[0]
            continue
        macro = _match_macro(tokens, i)
        key: str | int | None = None
        span_start, span_end, template = i, i + 1, "{}"
        nullable = False
        if macro is not None:
            kind, param_name, span_end = macro
            if kind == "embed":
                replacements.append((i, span_end, None, _embed_name(file, tokens, i, span_end)))
                i = span_end
                continue
            if kind == "slice":
                span_start, span_end, template = _slice_span(tokens, i, span_end)
            if param_name is None:
                raise UserError(
                    [
                        file.diagnostic(
                            f"sqlc.{kind}() needs a parameter name", token.start, hint=f"write `sqlc.{kind}(author_id)`"
                        )
                    ]
                )
            key, nullable = param_name, kind == "narg"
        elif token.kind is Kind.NAMED:
            key = token.text[1:]
        elif token.kind is Kind.POSITIONAL:
            digits = token.text[1:].lstrip("0")
            if not digits:
                raise UserError([file.diagnostic("parameters are numbered from $1", token.start)])
            if len(digits) > len(str(MAX_PARAMETERS)) or int(digits) > MAX_PARAMETERS:
                raise UserError(
                    [
                        file.diagnostic(
                            f"parameter number too large: a statement takes at most {MAX_PARAMETERS} parameters",
                            token.start,
                        )
                    ]
                )
            key = int(digits)
        if key is not None:
            found = by_key.get(key)
            if found is None:
                found = by_key[key] = _Found(key if isinstance(key, str) else None, nullable, [])
                order.append(key)
            found.nullable = found.nullable or nullable
            found.slice = found.slice or (macro is not None and macro[0] == "slice")
            found.offsets.append(token.start)
            replacements.append((span_start, span_end, key, template))
        i = span_end

    # `$n` keeps its number; named parameters take the lowest numbers left free, in order of
    # first use (as sqlc numbers them when a query mixes the two).
    numbers: dict[str | int, int] = {key: key for key in order if isinstance(key, int)}
    free = (n for n in itertools.count(1) if n not in numbers)
    for key in order:
        if isinstance(key, str):
            numbers[key] = next(free)

    sql_parts: list[str] = []
    edits: list[Edit] = []
    embeds: list[Embed] = []
    length = 0
    cursor = 0
    tail = ""  # the last character written
    for start, end, key, template in replacements:
        chunk = "".join(t.text for t in tokens[cursor:start])
        sql_parts.append(chunk)
        length += len(chunk)
        tail = chunk[-1:] or tail
        if start in sorts:  # the default sort key's text
            new = template
            sorts[start] = dataclasses.replace(sorts[start], sql_start=length, sql_end=length + len(new))
        elif key is None:  # an embed: the template is its table's name
            new = f"{template}.*"
            embeds.append(Embed(template, length, tokens[start].start))
        else:
            new = template.format(f"${numbers[key]}")
            if tokens[start].kind is not Kind.POSITIONAL:  # `$n` as written stays as written
                after = tokens[end].text[:1] if end < len(tokens) else ""
                new = _separated(new, tail, after)
        edits.append(Edit(length, length + len(new), tokens[start].start, tokens[end - 1].end))
        sql_parts.append(new)
        length += len(new)
        tail = new[-1]
        cursor = end
    sql_parts.append("".join(t.text for t in tokens[cursor:]))
    sql = "".join(sql_parts)

    params = [
        Parameter(numbers[key], by_key[key].name, by_key[key].nullable, tuple(by_key[key].offsets), by_key[key].slice)
        for key in order
    ]
    params.sort(key=lambda p: p.number)
    return sql, edits, params, embeds, next(iter(sorts.values()), None)


def _separated(new: str, before: str, after: str) -> str:
    """`new` with a space on a side where it would run into an identifier: `a@b` → `a $1`, not the name `a$1`."""
    if _GLUES.match(before) and _GLUES.match(new[0]):
        new = " " + new
    if _GLUES.match(after) and _GLUES.match(new[-1]):
        new += " "
    return new


def _embed_name(file: SourceText, tokens: list[Token], start: int, end: int) -> str:
    """The table of `sqlc.embed(authors)`, spelled as written (quoted names stay quoted)."""
    inner = [t for t in tokens[start:end] if t.significant][4:-1]
    if len(inner) != 1 or inner[0].kind not in (Kind.IDENT, Kind.QUOTED_IDENT):
        raise UserError(
            [
                file.diagnostic(
                    "sqlc.embed() needs a table name or alias", tokens[start].start, hint="write `sqlc.embed(authors)`"
                )
            ]
        )
    return inner[0].text


def _slice_span(tokens: list[Token], start: int, end: int) -> tuple[int, int, str]:
    """`[NOT] IN (sqlc.slice(ids))` becomes `= ANY($n)` / `<> ALL($n)`, one array parameter; elsewhere `$n`."""
    before = list(itertools.islice((j for j in range(start - 1, -1, -1) if tokens[j].significant), 3))
    after = next((j for j in range(end, len(tokens)) if tokens[j].significant), None)
    words = [tokens[j].text.upper() for j in before]
    if len(words) >= 2 and words[0] == "(" and words[1] == "IN" and after is not None and tokens[after].text == ")":
        if len(words) == 3 and words[2] == "NOT":
            return before[2], after + 1, "<> ALL({})"
        return before[1], after + 1, "= ANY({})"
    return start, end, "{}"


def _match_macro(tokens: list[Token], i: int) -> tuple[str, str | None, int] | None:
    """Recognise `sqlc.arg(name)` (and narg/slice/embed) starting at token i."""
    if tokens[i].kind is not Kind.IDENT or tokens[i].text.lower() != "sqlc":
        return None
    sig = list(itertools.islice((j for j in range(i, len(tokens)) if tokens[j].significant), 6))
    texts = [tokens[j].text for j in sig]
    if len(sig) < 5 or texts[1] != "." or texts[2].lower() not in _SQLC_MACROS or texts[3] != "(":
        return None
    kind = texts[2].lower()
    if texts[4] == ")":
        return kind, None, sig[4] + 1
    if len(sig) < 6 or texts[5] != ")":
        return None
    name_token = tokens[sig[4]]
    if name_token.kind is Kind.IDENT:
        name = name_token.text.lower()
    elif name_token.kind in (Kind.QUOTED_IDENT, Kind.STRING) and name_token.text[0] in "'\"":
        quote = name_token.text[0]
        name = name_token.text[1:-1].replace(quote * 2, quote)
    else:
        return None
    return kind, name, sig[5] + 1
