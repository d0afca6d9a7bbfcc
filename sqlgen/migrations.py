"""Schema sources: plain SQL files, and the up migrations of common migration tools.

Schema files and folders are read the way their migration tool reads them, detected from
file names and markers (docs/schema.md lists the rules):

- in a file, `-- +goose Up` / `-- +goose Down` (goose), `-- +migrate Up` / `-- +migrate Down`
  (sql-migrate), `-- migrate:up` / `-- migrate:down` (dbmate), or tern's
  `---- create above / drop below ----`: only the up sections are applied;
- in a folder, `N_name.up.sql` / `N_name.down.sql` (golang-migrate): down files are skipped;
  `V1__name.sql` / `U1__name.sql` / `R__name.sql` (Flyway): versions in version order, then
  repeatables, undo files skipped; one folder per migration holding `up.sql` (Diesel) or
  `migration.sql` (Prisma); a sqitch project (`sqitch.plan`, `deploy/`): deploy scripts in
  plan order. Any other folder applies its `*.sql` files in natural name order.

Down sections are blanked rather than cut out: every character but a newline becomes a
space, so the text sent to PostgreSQL keeps the file's offsets and an error in an up
section is reported at the file's own line and column.

>>> text = "-- +goose Up\\nCREATE TABLE t (a int);\\n-- +goose Down\\nDROP TABLE t;\\n"
>>> up = up_sections(SourceText("m.sql", text))
>>> up.text.splitlines()
['-- +goose Up', 'CREATE TABLE t (a int);', '              ', '             ']
>>> len(up.text) == len(text), up.tool
(True, 'goose')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlgen.errors import Diagnostic, SourceText, UserError, display_path
from sqlgen.source import is_annotation, read_source
from sqlgen.sqllex import Kind, LexError, Token, split_statements, tokenize


def natural_key(name: str) -> list[tuple[int, int | str]]:
    """Sort key putting `2_x.sql` before `10_y.sql`.

    >>> sorted(["10_b.sql", "2_a.sql", "1_c.sql"], key=natural_key)
    ['1_c.sql', '2_a.sql', '10_b.sql']
    """
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part]


# ---------------------------------------------------------------------------------------
# Files and folders


@dataclass(frozen=True)
class SchemaLayout:
    files: tuple[Path, ...]  # applied, in order
    skipped: tuple[Path, ...]  # found in schema folders but never applied: down and undo migrations


_FLYWAY = re.compile(r"(?:(?P<kind>[VU])(?P<version>\d+(?:[._]\d+)*)|R)__.+\.sql\Z")


def schema_layout(paths: Sequence[Path]) -> SchemaLayout:
    """The schema files to apply, in order, from files and folders in any supported layout.

    Raises UserError for a listed down migration or an unusable sqitch plan.
    """
    files: list[Path] = []
    skipped: list[Path] = []
    errors: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            _folder(path, files, skipped, errors)
        elif _is_down(path.name):
            errors.append(
                Diagnostic(
                    f"{display_path(path)} is a down migration: sqlgen applies up migrations only",
                    hint="list the matching up migration, or the whole folder, instead",
                )
            )
        else:
            files.append(path)
    if errors:
        raise UserError(errors)
    return SchemaLayout(unique_paths(files), unique_paths(skipped))


def _is_down(name: str) -> bool:
    flyway = _FLYWAY.match(name)
    return name.endswith(".down.sql") or name == "down.sql" or (flyway is not None and flyway["kind"] == "U")


def unique_paths(paths: list[Path]) -> tuple[Path, ...]:
    """`paths` in order, each file once however it is spelt."""
    seen: set[Path] = set()
    unique = []
    for path in paths:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            unique.append(path)
    return tuple(unique)


def natural_order(paths: list[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: natural_key(p.name))


def _folder(folder: Path, files: list[Path], skipped: list[Path], errors: list[Diagnostic]) -> None:
    sql = natural_order([p for p in folder.glob("*.sql") if p.is_file()])
    if (folder / "sqitch.plan").is_file():
        files.extend(_sqitch_plan(folder / "sqitch.plan", folder / "deploy", errors))
        return
    if folder.name == "deploy" and (folder.parent / "sqitch.plan").is_file():
        files.extend(_sqitch_plan(folder.parent / "sqitch.plan", folder, errors))
        return
    if not sql and (folder / "deploy").is_dir():
        # sqitch without a plan: deploy scripts by name; `change@tag.sql` are superseded versions
        files.extend(p for p in natural_order(list((folder / "deploy").glob("*.sql"))) if "@" not in p.name)
        return
    if not sql:
        # one folder per migration: Diesel's up.sql (and down.sql), Prisma's migration.sql
        for sub in natural_order([d for d in folder.iterdir() if d.is_dir()]):
            script = next((s for s in (sub / "up.sql", sub / "migration.sql") if s.is_file()), None)
            if script is not None:
                files.append(script)
        return
    downs = [p for p in sql if p.name.endswith(".down.sql")]
    rest = [p for p in sql if p not in downs]
    flyway = {p: _FLYWAY.match(p.name) for p in rest}
    if all(flyway.values()) and any(m is not None and m["kind"] == "V" for m in flyway.values()):
        versioned = [(p, m) for p, m in flyway.items() if m is not None and m["kind"] == "V"]
        versioned.sort(key=lambda item: ([int(n) for n in re.split(r"[._]", item[1]["version"])], item[0].name))
        files.extend(p for p, _ in versioned)
        files.extend(p for p, m in flyway.items() if m is not None and m["kind"] is None)  # repeatables, by name
        skipped.extend(p for p, m in flyway.items() if m is not None and m["kind"] == "U")
    else:
        files.extend(rest)
    skipped.extend(downs)


def _sqitch_plan(plan_path: Path, deploy: Path, errors: list[Diagnostic]) -> list[Path]:
    """The deploy scripts of a sqitch plan in plan order; a reworked change's earlier
    versions are `deploy/change@tag.sql`, for the first tag after it that has one."""
    plan = read_source(plan_path)
    entries: list[tuple[str, str, int]] = []  # ("change" | "tag", name, offset of the line)
    offset = 0
    for line in plan.text.split("\n"):
        start = offset + len(line) - len(line.lstrip())
        offset += len(line) + 1
        stripped = line.strip()
        if not stripped or stripped[0] in "#%":
            continue
        word = re.match(r"[^\s\[]*", stripped)
        name = word[0] if word else ""
        if name.startswith("@") and len(name) > 1:
            entries.append(("tag", name[1:], start))
        elif name.startswith("-"):
            errors.append(
                plan.diagnostic(
                    f"sqitch plan entry {name!r} reverts a change, which sqlgen does not support",
                    start,
                    hint="remove the reverted change and this entry from the plan",
                )
            )
        elif name.lstrip("+"):
            entries.append(("change", name.lstrip("+"), start))
        else:
            errors.append(plan.diagnostic("cannot read this sqitch plan line", start, hint="it should name a change"))
    scripts: list[Path] = []
    for index, (kind, name, start) in enumerate(entries):
        if kind != "change":
            continue
        later = next((j for j in range(index + 1, len(entries)) if entries[j][:2] == ("change", name)), None)
        if later is None:
            script = deploy / f"{name}.sql"
            if not script.is_file():
                errors.append(
                    plan.diagnostic(
                        f"change {name}: {display_path(script)} does not exist",
                        start,
                        hint="add the deploy script, or remove the change from the plan",
                    )
                )
                continue
        else:
            tags = [tag for what, tag, _ in entries[index + 1 : later] if what == "tag"]
            found = next(
                (deploy / f"{name}@{tag}.sql" for tag in tags if (deploy / f"{name}@{tag}.sql").is_file()), None
            )
            if found is None:
                expected = f"{name}@{tags[0]}.sql" if tags else f"{name}@TAG.sql"
                errors.append(
                    plan.diagnostic(
                        f"change {name} is reworked later in the plan, but its earlier version "
                        f"{display_path(deploy / expected)} does not exist",
                        start,
                        hint="`sqitch rework` keeps the earlier version as deploy/CHANGE@TAG.sql, after a tag "
                        "between the two versions",
                    )
                )
                continue
            script = found
        scripts.append(script)
    return scripts


# ---------------------------------------------------------------------------------------
# Up sections of one file


@dataclass(frozen=True)
class MigrationText(SourceText):
    """A migration's text with its down sections blanked (offsets unchanged)."""

    tool: str = ""
    breaks: tuple[int, ...] = ()  # offsets that end a statement: StatementEnd and Down markers
    transaction: bool = False  # the tool runs the file in one transaction (goose, sql-migrate, dbmate)
    notes: tuple[Diagnostic, ...] = ()  # what reading it skipped that the user should know about


@dataclass(frozen=True)
class _Marker:
    tool: str
    command: str  # up, down, begin, end, envsubst
    start: int  # offset of the marker's line


_MARKERS = (
    ("tern", re.compile(r"----\s*create\s+above\s*/\s*drop\s+below\s*----\s*$", re.I)),
    ("goose", re.compile(r"--\s*\+goose\s+(\S.*?)\s*$", re.I)),
    ("sql-migrate", re.compile(r"--\s*\+migrate\s+(\S+)", re.I)),
    ("dbmate", re.compile(r"--\s*migrate:(\S+)", re.I)),
)
_COMMANDS = {
    "goose": {"up": "up", "down": "down", "statementbegin": "begin", "statementend": "end", "envsubst on": "envsubst"},
    "sql-migrate": {"up": "up", "down": "down", "statementbegin": "begin", "statementend": "end"},
    "dbmate": {"up": "up", "down": "down"},
}
_SPELLING = {
    "goose": {
        "up": "-- +goose Up",
        "down": "-- +goose Down",
        "begin": "-- +goose StatementBegin",
        "end": "-- +goose StatementEnd",
    },
    "sql-migrate": {
        "up": "-- +migrate Up",
        "down": "-- +migrate Down",
        "begin": "-- +migrate StatementBegin",
        "end": "-- +migrate StatementEnd",
    },
    "dbmate": {"up": "-- migrate:up", "down": "-- migrate:down"},
}


def read_schema(path: Path) -> SourceText:
    """Read a schema file: its up sections when it is a migration with markers, else all of it;
    psql meta-commands (`pg_dump`'s `\\restrict`, `\\connect`, …) blanked, as psql never sends them."""
    return without_psql_commands(up_sections(read_source(path)))


# psql meta-commands whose effect sqlgen does not reproduce, and what that means for the user.
_META_NOTES = {
    "connect": "sqlgen applies every schema file to one database",
    "c": "sqlgen applies every schema file to one database",
    "i": "sqlgen does not read the included file: list it as a schema file",
    "include": "sqlgen does not read the included file: list it as a schema file",
    "ir": "sqlgen does not read the included file: list it as a schema file",
    "include_relative": "sqlgen does not read the included file: list it as a schema file",
}


def without_psql_commands(file: SourceText) -> SourceText:
    """`file` with each psql meta-command line (a backslash starting a line, outside any string or
    comment) blanked, offsets kept, and a note for those whose effect is lost.

    >>> text = "\\\\restrict k1\\nCREATE TABLE t (a int);\\n\\\\unrestrict k1\\n"
    >>> without_psql_commands(SourceText("dump.sql", text)).text.splitlines()
    ['            ', 'CREATE TABLE t (a int);', '              ']
    """
    try:
        tokens = tokenize(file.text)
    except LexError:  # reported where the statements are read
        return file
    ranges: list[tuple[int, int]] = []
    notes: list[Diagnostic] = []
    for token in tokens:
        if token.kind is not Kind.OPERATOR or token.text != "\\" or (ranges and token.start < ranges[-1][1]):
            continue
        line_start = file.text.rfind("\n", 0, token.start) + 1
        if file.text[line_start : token.start].strip():
            continue
        end = file.text.find("\n", token.start)
        end = len(file.text) if end < 0 else end
        ranges.append((token.start, end))
        command = re.match(r"\\([A-Za-z_]*)", file.text[token.start : end])
        why = _META_NOTES.get(command[1] if command else "")
        if why is not None:
            notes.append(
                file.note(f"psql meta-command `{file.text[token.start : end].strip()}` skipped: {why}", token.start)
            )
    if not ranges:
        return file
    blanked = _blank(file.text, ranges)
    if isinstance(file, MigrationText):
        return MigrationText(file.path, blanked, file.tool, file.breaks, file.transaction, (*file.notes, *notes))
    return MigrationText(file.path, blanked, notes=tuple(notes))


def up_sections(file: SourceText) -> SourceText:
    """`file` with its down sections blanked, or `file` itself when it has no migration markers.

    Raises UserError when the markers do not make sense (a down section without an up one, …).

    >>> text = "-- migrate:up\\nCREATE TABLE t (a int);\\n\\n-- migrate:down\\nDROP TABLE t;\\n"
    >>> print(up_sections(SourceText("m.sql", text)).text.rstrip())
    -- migrate:up
    CREATE TABLE t (a int);
    >>> text = "CREATE TABLE t (a int);\\n---- create above / drop below ----\\nDROP TABLE t;\\n"
    >>> up_sections(SourceText("m.sql", text)).text.strip()
    'CREATE TABLE t (a int);'
    """
    markers = _markers(file.text)
    if not markers:
        return file
    tool = markers[0].tool
    other = next((m for m in markers if m.tool != tool), None)
    if other is not None:
        raise UserError(
            [
                file.diagnostic(
                    f"this file mixes {tool} and {other.tool} migration markers",
                    other.start,
                    hint=f"use one tool's markers per file; sqlgen read the file as {tool} from line "
                    f"{file.location(markers[0].start).line}",
                )
            ]
        )
    if tool == "tern":
        downs = [(markers[0].start, len(file.text))]  # everything after the first separator
    else:
        downs = _down_sections(file, tool, markers)
    breaks = tuple(sorted({start for start, _ in downs} | {m.start for m in markers if m.command == "end"}))
    transaction = tool in _TRANSACTIONAL and not any(m.command == "no transaction" for m in markers)
    return MigrationText(file.path, _blank(file.text, downs), tool=tool, breaks=breaks, transaction=transaction)


_TRANSACTIONAL = frozenset({"goose", "sql-migrate", "dbmate"})  # each migration in one transaction by default
# How a file opts out: goose's own marker line, or an option on the up marker.
_NO_TRANSACTION = {
    "goose": re.compile(r"--\s*\+goose\s+no\s+transaction\s*$", re.I),
    "sql-migrate": re.compile(r"--\s*\+migrate\s+up\b.*\bnotransaction\b", re.I),
    "dbmate": re.compile(r"--\s*migrate:up\b.*\btransaction:false\b", re.I),
}


def bookkeeping(files: Sequence[SourceText]) -> list[str]:
    """The statements that create the migration tools' own tables that the migrations mention,
    as each tool creates them before its first migration (so that a migration using them works).

    >>> bookkeeping([SourceText("db/1_init.up.sql", "CREATE TRIGGER t AFTER INSERT ON schema_migrations")])
    ['CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)']
    """
    tools: list[str] = []
    for file in files:
        name = Path(file.path).name
        tool = file.tool if isinstance(file, MigrationText) and file.tool else None
        flyway = _FLYWAY.match(name)
        if tool is None and name.endswith(".up.sql"):
            tool = "golang-migrate"
        elif tool is None and flyway is not None:
            tool = "flyway"
        elif tool is None and name == "up.sql":
            tool = "diesel"
        elif tool is None and name == "migration.sql":
            tool = "prisma"
        if tool in _BOOKKEEPING and tool not in tools:
            tools.append(tool)
    tables: dict[str, str] = {}
    for tool in tools:
        table, columns = _BOOKKEEPING[tool]
        mentioned = re.compile(rf"\b{table}\b", re.I)
        if any(mentioned.search(file.text) for file in files):  # else it would only add a model nobody asked for
            tables.setdefault(table, f"CREATE TABLE IF NOT EXISTS {table} ({columns})")  # golang-migrate, dbmate
    return list(tables.values())


_BOOKKEEPING = {
    "golang-migrate": ("schema_migrations", "version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL"),
    "goose": (
        "goose_db_version",
        "id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, "
        "tstamp timestamp DEFAULT now()",
    ),
    "sql-migrate": ("gorp_migrations", "id text NOT NULL PRIMARY KEY, applied_at timestamp with time zone"),
    "dbmate": ("schema_migrations", "version varchar(128) PRIMARY KEY"),
    "tern": ("schema_version", "version integer NOT NULL"),
    "flyway": (
        "flyway_schema_history",
        "installed_rank integer NOT NULL PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL, "
        "type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) "
        "NOT NULL, installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, "
        "success boolean NOT NULL",
    ),
    "diesel": (
        "__diesel_schema_migrations",
        "version varchar(50) NOT NULL PRIMARY KEY, run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP",
    ),
    "prisma": (
        "_prisma_migrations",
        "id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name "
        "varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT "
        "now(), applied_steps_count integer NOT NULL DEFAULT 0",
    ),
}


def schema_statements(file: SourceText) -> list[list[Token]]:
    """The statements of a schema file, as `split_statements` gives them, also ended at a
    migration's StatementEnd and Down markers, leaving out annotated queries (a file that holds
    both, as sqlc reads it); raises LexError."""
    tokens = tokenize(file.text)
    annotated = _annotated_starts(tokens)
    breaks = list(file.breaks) if isinstance(file, MigrationText) else []
    statements: list[list[Token]] = []
    chunk: list[Token] = []
    for token in tokens:
        if breaks and token.start >= breaks[0]:
            statements.extend(split_statements(chunk))
            chunk = []
            while breaks and token.start >= breaks[0]:
                breaks.pop(0)
        chunk.append(token)
    statements.extend(split_statements(chunk))
    return [statement for statement in statements if statement and statement[0].start not in annotated]


def _annotated_starts(tokens: list[Token]) -> set[int]:
    """Offsets of the statements directly under a `-- name:` annotation."""
    starts: set[int] = set()
    under = False
    for token in tokens:
        if is_annotation(token):
            under = True
        elif token.significant:
            if under:
                starts.add(token.start)
            under = False
    return starts


def _markers(text: str) -> list[_Marker]:
    markers = []
    offset = 0
    for line in text.split("\n"):
        for tool, pattern in _MARKERS:
            match = pattern.match(line)
            if match is None:
                continue
            if tool == "tern":
                markers.append(_Marker(tool, "down", offset))
            else:
                command = _COMMANDS[tool].get(" ".join(match[1].lower().split()))
                if command:
                    markers.append(_Marker(tool, command, offset))
                if _NO_TRANSACTION[tool].match(line):
                    markers.append(_Marker(tool, "no transaction", offset))
            break
        offset += len(line) + 1
    return markers


def _down_sections(file: SourceText, tool: str, markers: list[_Marker]) -> list[tuple[int, int]]:
    """The [start, end) ranges of a marked file's down sections; UserError when the markers are wrong."""
    spell = _SPELLING[tool]
    single = tool != "sql-migrate"  # goose and dbmate: one up section, then at most one down section
    errors: list[Diagnostic] = []

    def error(marker: _Marker, message: str, hint: str) -> None:
        errors.append(file.diagnostic(message, marker.start, hint=hint))

    up_hint = f"add `{spell['up']}` above the statements that build the schema: sqlgen applies only up sections"
    if not any(m.command == "up" for m in markers):
        down = next((m for m in markers if m.command == "down"), None)
        if down is not None:
            raise UserError([file.diagnostic(f"`{spell['down']}` without `{spell['up']}`", down.start, hint=up_hint)])
        raise UserError(
            [file.diagnostic(f"a {tool} migration without `{spell['up']}`", markers[0].start, hint=up_hint)]
        )
    downs: list[tuple[int, int]] = []
    down_start: int | None = None
    direction: str | None = None
    ups = 0
    block: _Marker | None = None
    for marker in markers:
        command = marker.command
        if command in ("up", "down") and block is not None:
            error(
                marker,
                f"`{spell[command]}` inside a `{spell['begin']}` block",
                f"close the block with `{spell['end']}` first",
            )
            block = None
        if command == "up":
            if single and down_start is not None and ups:
                error(
                    marker,
                    f"`{spell['up']}` after `{spell['down']}`: {tool} reads everything after "
                    f"`{spell['down']}` as the down migration",
                    f"move the up statements above `{spell['down']}`",
                )
            elif single and ups:
                error(marker, f"a second `{spell['up']}`", f"{tool} runs one up section per file: remove this marker")
            if down_start is not None:
                downs.append((down_start, marker.start))
                down_start = None
            ups += 1
        elif command == "down":
            if single and ups == 0:
                error(marker, f"`{spell['down']}` before `{spell['up']}`", f"{tool} needs the up section first")
            elif single and down_start is not None:
                error(marker, f"a second `{spell['down']}`", f"{tool} runs one down section per file: remove it")
            if down_start is None:
                down_start = marker.start
        elif command == "begin":
            if direction is None:
                error(marker, f"`{spell['begin']}` before `{spell['up']}`", "move it into the up section")
            elif block is not None:
                error(
                    marker,
                    f"`{spell['begin']}` inside another `{spell['begin']}` block",
                    f"close the first block with `{spell['end']}`",
                )
            block = marker
        elif command == "end":
            if block is None:
                error(marker, f"`{spell['end']}` without `{spell['begin']}`", f"add `{spell['begin']}` above it")
            block = None
        elif command == "envsubst" and down_start is None:
            error(
                marker,
                "goose environment substitution (ENVSUBST ON) is not supported",
                "sqlgen applies up sections as written; check against a database goose migrated, with "
                "--database-url, or move the substituted statements out of the schema sqlgen reads",
            )
        if command in ("up", "down"):
            direction = command
    if block is not None:
        error(block, f"`{spell['begin']}` without `{spell['end']}`", f"add `{spell['end']}` after the statement")
    if down_start is not None:
        downs.append((down_start, len(file.text)))
    first = next(m.start for m in markers if m.command in ("up", "down"))
    _nothing_before(file, first, tool, spell["up"], errors)
    if errors:
        raise UserError(errors)
    return downs


def _nothing_before(file: SourceText, end: int, tool: str, up: str, errors: list[Diagnostic]) -> None:
    """Only comments may come before a migration's first section: the tool would not run a statement there."""
    try:
        tokens = tokenize(file.text[:end])
    except LexError as err:
        errors.append(file.diagnostic(err.message, err.offset))
        return
    stray = next((t for t in tokens if t.significant), None)
    if stray is not None:
        errors.append(
            file.diagnostic(
                f"statement before `{up}`, outside any section: {tool} would not apply it",
                stray.start,
                hint=f"move it below `{up}`, or delete it",
            )
        )


def _blank(text: str, ranges: list[tuple[int, int]]) -> str:
    """`text` with every character of `ranges` but newlines replaced by a space."""
    parts = []
    position = 0
    for start, end in ranges:
        parts.append(text[position:start])
        parts.append(re.sub(r"[^\n]", " ", text[start:end]))
        position = end
    parts.append(text[position:])
    return "".join(parts)
