"""The command line: `sqlgen init`, `generate`, `check`, `describe`, `explain`, `watch`, `vet`, `verify`, `db`.

Exit codes: 0 success; 1 errors in the user's SQL or config (or, for `check`, stale
output); 2 sqlgen could not run (database unreachable, server did not start); 130
interrupted (Ctrl-C), 143 and 129 stopped by SIGTERM and SIGHUP (see `sqlgen.interrupts`).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import sys
import time
from collections.abc import Callable, Sequence
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from sqlgen import __version__
from sqlgen.config import Config, Overrides, load_config, load_configs
from sqlgen.errors import Diagnostic, Location, ToolError, UserError, display_path, errors_only, os_failure
from sqlgen.interrupts import Terminated, exit_code, shielded
from sqlgen.output import read_output
from sqlgen.report import Format, Reporter, Verbosity, colour_wanted, generated_summary
from sqlgen.timing import Timer

if TYPE_CHECKING:
    import psycopg

    from sqlgen import ir

# The stages that talk to PostgreSQL (psycopg), render (jinja2) or watch are imported by
# the commands that use them: a run with nothing to do should not pay for loading them.

EXIT_OK, EXIT_USER_ERROR, EXIT_TOOL_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

_Command = Callable[[], int]

COMMANDS = {
    "init": "add [tool.sqlgen] to pyproject.toml, a first schema file and a first query file",
    "generate": "check every query against the schema and write the typed package",
    "check": "fail with a diff when the committed output is stale or a query no longer checks",
    "describe": "print what sqlgen knows of every query and the schema (--json: the IR, for other generators)",
    "explain": "show each parameter's and column's inferred type and nullability, and why",
    "watch": "regenerate whenever a query, schema or config file changes (Ctrl-C stops)",
    "vet": "run the vet rules (UPDATE without WHERE, = NULL, NOT IN over NULLs, ...) over every query",
    "verify": "say which queries of an earlier git revision (the deployed code) the new schema breaks",
    "db": "a local PostgreSQL for running your app, with the schema applied: start, url, status, stop, reset, shell",
}


def build_parser() -> argparse.ArgumentParser:
    # -q/-v/--color work before or after the command: SUPPRESS keeps a subcommand's unset
    # flag from overwriting the value given before it.
    output = argparse.ArgumentParser(add_help=False)
    loudness = output.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q",
        "--quiet",
        dest="verbosity",
        action="store_const",
        const=Verbosity.QUIET,
        default=argparse.SUPPRESS,
        help="print only errors",
    )
    loudness.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const=Verbosity.VERBOSE,
        default=argparse.SUPPRESS,
        help="also print how long each stage took",
    )
    output.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=argparse.SUPPRESS,
        help="colour diagnostics (default: auto, when stderr is a terminal; NO_COLOR and FORCE_COLOR are honoured)",
    )

    project = argparse.ArgumentParser(add_help=False)
    project.add_argument(
        "--config",
        type=Path,
        help="TOML file with a [tool.sqlgen] table, or sqlc's sqlc.yaml/sqlc.json (default: ./pyproject.toml "
        "when it has [tool.sqlgen], else ./sqlc.yaml, sqlc.yml or sqlc.json)",
    )
    project.add_argument(
        "--schema",
        action="append",
        metavar="PATH",
        help="schema file, or folder of *.sql or of migrations (up migrations only; repeatable)",
    )
    project.add_argument(
        "--queries", action="append", metavar="PATH", help="query file or folder of *.sql (repeatable)"
    )
    project.add_argument("--out", metavar="DIR", help="folder for the generated package")
    project.add_argument(
        "--database-url",
        metavar="URL",
        help="check against this live database instead of an embedded server (default: $DATABASE_URL)",
    )

    parser = argparse.ArgumentParser(
        prog="sqlgen",
        description="Typed async Python (asyncpg + pydantic) from annotated PostgreSQL queries.",
        epilog="exit codes: 0 ok, 1 errors in your SQL or config, 2 sqlgen could not run",
        parents=[output],
    )
    parser.add_argument("--version", action="version", version=f"sqlgen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, text in COMMANDS.items():
        if name == "init":
            sub = commands.add_parser(name, help=text, description=text, parents=[output])
            sub.add_argument("--schema", metavar="PATH", help="schema folder (or .sql file) (default: db/schema)")
            sub.add_argument("--queries", metavar="PATH", help="query folder (or .sql file) (default: db/queries)")
            sub.add_argument(
                "--out", metavar="DIR", help="the generated package (default: <your package>/db, else generated)"
            )
            continue
        if name == "db":
            _add_db_parser(commands.add_parser(name, help=text, description=text, parents=[output]))
            continue
        sub = commands.add_parser(name, help=text, description=text, parents=[output, project])
        if name == "explain":  # its output is for people: no --format
            sub.add_argument(
                "names", nargs="+", metavar="QUERY", help="query name (GetAuthor) or function (get_author)"
            )
        else:
            if name == "verify":
                sub.add_argument(
                    "--base",
                    metavar="REVISION",
                    help="the git revision whose queries run in production (default: the merge base with main)",
                )
                sub.add_argument(
                    "--unabsorbable",
                    choices=("error", "warning"),
                    default=None,
                    help="how to report a change the old code cannot absorb (default: error, or the config's)",
                )
            if name == "describe":
                sub.add_argument("--json", action="store_true", help="print the IR as JSON on stdout (see docs/ir.md)")
                sub.add_argument(
                    "--json-schema", action="store_true", help="print the JSON Schema of --json's output, and exit"
                )
            if name in ("generate", "check", "describe"):
                sub.add_argument(
                    "--offline",
                    action="store_true",
                    help="use the describe cache alone, with no database; fail if it does not cover every query",
                )
            if name == "generate":
                sub.add_argument(
                    "--keep-going",
                    action="store_true",
                    help="write the package with every query that checks, report the others, and exit 1",
                )
            sub.add_argument(
                "--format",
                choices=[f.value for f in Format],
                default=Format.TEXT.value,
                help="diagnostics as text on stderr, one JSON document on stdout, or GitHub Actions annotations",
            )
    return parser


def _add_db_parser(sub: argparse.ArgumentParser) -> None:
    from sqlgen.devdb import DB_ACTIONS

    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in DB_ACTIONS.items():
        parser = actions.add_parser(action, help=text, description=text)
        parser.add_argument(
            "--config", type=Path, help="TOML file with a [tool.sqlgen] table (default: ./pyproject.toml)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    reporter = Reporter(
        Format(getattr(args, "format", Format.TEXT)),
        getattr(args, "verbosity", Verbosity.NORMAL),
        colour_wanted(getattr(args, "color", "auto"), sys.stderr),
    )
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    if args.command == "init":
        from sqlgen.scaffold import init_project

        return _outcome(reporter, lambda: init_project(Path.cwd(), args.schema, args.queries, args.out, reporter))
    if args.command == "db":
        from sqlgen.devdb import run_command

        return _outcome(
            reporter, lambda: run_command(args.action, load_config(Overrides(config=args.config)), reporter)
        )
    overrides = Overrides(
        config=args.config,
        schema=tuple(args.schema) if args.schema else None,
        queries=tuple(args.queries) if args.queries else None,
        out=args.out,
        database_url=args.database_url,
    )
    if args.command == "watch":
        from sqlgen.watch import watch

        return watch(overrides, reporter)
    if args.command == "verify":
        return _outcome(reporter, lambda: _verify(overrides, args.base, args.unabsorbable, reporter))
    started = time.perf_counter()
    offline = getattr(args, "offline", False)
    keep_going = getattr(args, "keep_going", False)
    names = getattr(args, "names", [])
    if args.command == "describe" and args.json_schema:
        from sqlgen.ir import json_schema

        reporter.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
        return EXIT_OK
    if args.command == "describe":
        return _outcome(reporter, lambda: _describe(overrides, offline, args.json, reporter))
    code = _outcome(reporter, lambda: _run(args.command, overrides, names, offline, reporter, keep_going))
    if code < EXIT_INTERRUPTED:
        reporter.stage("total", time.perf_counter() - started)
    return code


def _outcome(reporter: Reporter, command: _Command) -> int:
    """Run `command`, turning every failure the user can act on into messages and an exit code."""
    try:
        code = command()
    except UserError as err:
        reporter.user_error(err)
        code = EXIT_USER_ERROR
    except ToolError as err:
        reporter.tool_error(err)
        code = EXIT_TOOL_ERROR
    except OSError as err:  # an output folder that cannot be written
        reporter.tool_error(os_failure(err))
        code = EXIT_TOOL_ERROR
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM/SIGHUP (see sqlgen.interrupts)
        with shielded(), contextlib.suppress(OSError):  # OSError: the terminal is gone (SIGHUP)
            what = "interrupted" if not isinstance(interrupt, Terminated) else f"stopped by {interrupt}"
            print(f"sqlgen: {what}; {_what_was_written()}", file=reporter.stderr)
        return exit_code(interrupt)
    except Exception as err:
        if not _lost_database(err):
            raise
        from sqlgen.database import lost_connection

        reporter.tool_error(lost_connection(err))
        code = EXIT_TOOL_ERROR
    reporter.finish()
    return code


_writing: list[tuple[Path, dict[str, str]]] = []  # the output this process started to write, if any


def _what_was_written() -> str:
    """What an interrupted run leaves, truly: the output folder is swapped in whole or not at all
    (`sqlgen.output`), so it either holds the new files or is as it was."""
    if _writing:
        out, files = _writing[-1]
        if read_output(out) == files:
            return f"{display_path(out)} was written"
    return "nothing was written"


def _lost_database(error: Exception) -> TypeGuard[psycopg.Error]:
    """Whether `error` is psycopg's (the server went away mid-run); psycopg is loaded if it raised it."""
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(error, psycopg.Error)


def _run(
    command: str, overrides: Overrides, names: list[str], offline: bool, reporter: Reporter, keep_going: bool = False
) -> int:
    timer = Timer(reporter.stage, reporter.progress)
    configs = load_configs(overrides)
    reporter.notes([note for config in configs for note in config.notes])
    if any(c.database_url and c.schema for c in configs) and not offline:
        reporter.note("checking against the live database; schema files are not applied")
    if command == "vet":
        return max(_vet(config, reporter) for config in configs)
    if command == "explain":
        from sqlgen.explain import explain

        reporter.stdout.write("".join(explain(config, wanted, timer) for config, wanted in _explained(configs, names)))
        return EXIT_OK
    from sqlgen.api import write_package
    from sqlgen.pipeline import QueriesRejected, generate_packages

    try:
        results = generate_packages(configs, offline=offline, keep_going=keep_going, timer=timer)
    except QueriesRejected as err:
        if command == "generate":  # what did check need not be described again (`check` writes nothing)
            with timer.stage("cache write"):
                for update in err.cache_updates:
                    update.write()
        raise
    if command == "check":
        for result in results:
            reporter.notes(list(result.diagnostics))
        codes = [_check(config.out, result.files, reporter) for config, result in zip(configs, results, strict=True)]
        if not offline:
            codes += [_vet(config, reporter) for config in configs if config.vet_in_check]
        return max(codes)
    for config, result in zip(configs, results, strict=True):  # every package checked: now they are written
        _writing.append((config.out, result.files))
        changed = write_package(config, result, timer)
        reporter.info(generated_summary(config.out, len(result.files), result.queries, changed, result.cached))
    failed = [d for result in results for d in result.diagnostics]
    if errors_only(failed):  # --keep-going: the packages hold the queries that check
        reporter.user_error(UserError(failed), "the package holds every other query (--keep-going)")
        return EXIT_USER_ERROR
    reporter.notes(failed)
    return EXIT_OK


def _describe(overrides: Overrides, offline: bool, as_json: bool, reporter: Reporter) -> int:
    from sqlgen import ir
    from sqlgen.pipeline import describe_packages

    configs = load_configs(overrides)
    reporter.notes([note for config in configs for note in config.notes])
    project = describe_packages(configs, offline=offline, timer=Timer(reporter.stage, reporter.progress))
    if as_json:
        reporter.stdout.write(json.dumps(ir.to_data(project), indent=1) + "\n")
    elif reporter.format is Format.JSON:
        reporter.attach("ir", ir.to_data(project))
    else:
        reporter.stdout.write(_described(project))
    return EXIT_OK


def _described(project: ir.Project) -> str:
    """The IR for people: each query with its command, place, parameters and columns."""

    def spelled(sql_type: ir.SqlType) -> str:
        if sql_type.logical == "array" and sql_type.element is not None and sql_type.domain is None:
            return spelled(sql_type.element) + "[]"
        return sql_type.name

    def typed(name: str, sql_type: ir.SqlType, nullable: bool) -> str:
        return f"{name} {spelled(sql_type)}{'?' if nullable else ''}"

    lines = []
    for package in project.packages:
        lines.append(f"{package.out}/" + (f" ({package.name})" if package.name else ""))
        for module in package.modules:
            for query in module.queries:
                where = f"{query.position.path}:{query.position.line}"
                lines.append(f"  {query.name} {query.command}  ({where})")
                if query.parameters:
                    lines.append("    in:  " + ", ".join(typed(p.name, p.type, p.nullable) for p in query.parameters))
                if query.columns:
                    lines.append("    out: " + ", ".join(typed(c.name, c.type, c.nullable) for c in query.columns))
    lines.append("(`?`: may be NULL; `sqlgen explain QUERY` says why; `--json` for all of it)")
    return "\n".join(lines) + "\n"


def _explained(configs: Sequence[Config], names: list[str]) -> list[tuple[Config, list[str]]]:
    """Which package each query asked for is in; with one package, all of them (explain reports the unknown)."""
    if len(configs) == 1:
        return [(configs[0], names)]
    from sqlgen.naming import snake_case
    from sqlgen.pipeline import read_project

    chosen: list[tuple[Config, list[str]]] = []
    found: set[str] = set()
    for config in configs:
        known = {n for q in read_project(config).queries for n in (q.name, snake_case(q.name))}
        wanted = [n for n in names if n in known and n not in found]
        found.update(wanted)
        if wanted:
            chosen.append((config, wanted))
    missing = [n for n in names if n not in found]
    return [*chosen, (configs[0], missing)] if missing else chosen  # the first package reports them


def _vet(config: Config, reporter: Reporter) -> int:
    from sqlgen.vet import vet

    found = vet(config)
    errors = sum(d.severity == "error" for d in found)
    warnings = sum(d.severity == "warning" for d in found)
    summary = f"vet: {errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
    reporter.diagnostics(sorted(found, key=Diagnostic.sort_key), summary)
    return EXIT_USER_ERROR if errors else EXIT_OK


def _verify(overrides: Overrides, base: str | None, unabsorbable: str | None, reporter: Reporter) -> int:
    from sqlgen.verify import verify

    result = verify(overrides, base)
    as_error = (unabsorbable or result.unabsorbable) == "error"
    for skipped in result.skipped:
        reporter.note(f"{skipped.location}: does not check at {result.base} itself; not judged: {skipped.message}")
    if not result.incremental:
        reporter.note(
            "the new schema does not extend the old one file for file (no added migrations):"
            " causes and locks are not reported"
        )
    if reporter.format is Format.TEXT:
        for item in result.verdicts:
            where = item.query.file.location(item.query.annotation_offset)
            reporter.paragraph(f"{item.verdict.value:<13} {item.query.name} ({where.path}:{where.line})")
    reporter.attach("verify", result.as_json())
    diagnostics = result.diagnostics(as_error)
    reporter.diagnostics(diagnostics, result.summary())
    return EXIT_USER_ERROR if any(d.severity == "error" for d in diagnostics) else EXIT_OK


def _check(out: Path, files: dict[str, str], reporter: Reporter) -> int:
    from sqlgen.api import current_output, differing

    current = current_output(out)  # read once: for the stale names and for the diff
    stale = differing(current, files)
    if not stale:
        reporter.info(f"{display_path(out)} is up to date")
        return EXIT_OK
    if reporter.format is not Format.JSON:
        for name in stale:
            before = current.get(name, "").splitlines(keepends=True)
            after = files.get(name, "").splitlines(keepends=True)
            path = f"{display_path(out)}/{name}"
            reporter.stdout.writelines(difflib.unified_diff(before, after, f"a/{path}", f"b/{path}"))
    diagnostics = [_stale_file(out, name, current.get(name), files.get(name)) for name in stale]
    summary = f"{display_path(out)} is stale; run `sqlgen generate`"
    reporter.diagnostics([] if reporter.format is Format.TEXT else diagnostics, summary)  # text: the diff says it
    return EXIT_USER_ERROR


def _stale_file(out: Path, name: str, committed: str | None, generated: str | None) -> Diagnostic:
    """A stale output file, located at its first line that differs: a CI annotation on the file."""
    path = f"{display_path(out)}/{name}"
    hint = "run `sqlgen generate` and commit the result"
    if committed is None:
        return Diagnostic(f"{path} is missing", Location(path, 1, 1), hint=hint)
    if generated is None:
        return Diagnostic(f"{path} is no longer generated", Location(path, 1, 1), hint=hint)
    old, new = committed.splitlines(), generated.splitlines()
    first = next(i for i, (a, b) in enumerate(zip_longest(old, new), 1) if a != b) if old != new else len(old)
    line = max(1, min(first, len(old)))
    text = old[line - 1] if old else None
    message = f"{path} is stale: it is not what the queries and schema generate"
    return Diagnostic(message, Location(path, line, 1), text, hint=hint)


def run() -> None:
    """The console entry point of earlier versions; `sqlgen.__main__.run` also guards loading sqlgen."""
    from sqlgen.__main__ import run

    run()
