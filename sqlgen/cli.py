"""The command line: `sqlgen generate`, `sqlgen check`, `sqlgen explain`.

Exit codes: 0 success; 1 errors in the user's SQL or config (or, for `check`, stale
output); 2 sqlgen could not run (database unreachable, server did not start).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

import psycopg

from sqlgen import __version__
from sqlgen.config import Overrides, load_config
from sqlgen.errors import ToolError, UserError, display_path
from sqlgen.explain import explain
from sqlgen.output import read_output, write_output
from sqlgen.pipeline import generate

EXIT_OK, EXIT_USER_ERROR, EXIT_TOOL_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqlgen",
        description="Typed async Python (asyncpg + pydantic) from annotated PostgreSQL queries.",
        epilog="exit codes: 0 ok, 1 errors in your SQL or config, 2 sqlgen could not run",
    )
    parser.add_argument("--version", action="version", version=f"sqlgen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, text in (
        ("generate", "check every query against the schema and write the typed package"),
        ("check", "fail with a diff when the committed output is stale or a query no longer checks"),
        ("explain", "show each parameter's and column's inferred type and nullability, and why"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        if name == "explain":
            sub.add_argument(
                "names", nargs="+", metavar="QUERY", help="query name (GetAuthor) or function (get_author)"
            )
        sub.add_argument("--config", type=Path, help="TOML file with a [tool.sqlgen] table (default: ./pyproject.toml)")
        sub.add_argument(
            "--schema",
            action="append",
            metavar="PATH",
            help="schema file, or folder of *.sql or of migrations (up migrations only; repeatable)",
        )
        sub.add_argument(
            "--queries", action="append", metavar="PATH", help="query file or folder of *.sql (repeatable)"
        )
        sub.add_argument("--out", metavar="DIR", help="folder for the generated package")
        sub.add_argument(
            "--database-url",
            metavar="URL",
            help="check against this live database instead of an embedded server (default: $DATABASE_URL)",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        config = load_config(
            Overrides(
                config=args.config,
                schema=tuple(args.schema) if args.schema else None,
                queries=tuple(args.queries) if args.queries else None,
                out=args.out,
                database_url=args.database_url,
            )
        )
        if config.database_url and config.schema:
            print("sqlgen: note: checking against the live database; schema files are not applied", file=sys.stderr)
        if args.command == "explain":
            sys.stdout.write(explain(config, args.names))
            return EXIT_OK
        files = generate(config)
        if args.command == "check":
            return _check(config.out, files)
        changed = write_output(config.out, files)
    except UserError as err:
        for diagnostic in err.diagnostics:
            print(diagnostic.render(), file=sys.stderr)
        count = len(err.diagnostics)
        print(f"sqlgen: {count} error{'s' if count != 1 else ''}; nothing was written", file=sys.stderr)
        return EXIT_USER_ERROR
    except ToolError as err:
        print(f"sqlgen: error: {err.message}", file=sys.stderr)
        if err.hint:
            print(f"  hint: {err.hint}", file=sys.stderr)
        return EXIT_TOOL_ERROR
    except psycopg.Error as err:  # the server went away mid-run
        print(f"sqlgen: error: lost the database connection: {str(err).strip() or type(err).__name__}", file=sys.stderr)
        return EXIT_TOOL_ERROR
    except KeyboardInterrupt:
        print("sqlgen: interrupted; nothing was written", file=sys.stderr)
        return 130
    queries = sum(text.count("\nasync def ") for name, text in files.items() if name != "__init__.py")
    state = "generated" if changed else "up to date:"
    print(f"sqlgen: {state} {display_path(config.out)} ({len(files)} files, {queries} queries)")
    return EXIT_OK


def _check(out: Path, files: dict[str, str]) -> int:
    current = read_output(out)
    if current == files:
        print(f"sqlgen: {display_path(out)} is up to date")
        return EXIT_OK
    for name in sorted(set(current) | set(files)):
        before = current.get(name, "").splitlines(keepends=True)
        after = files.get(name, "").splitlines(keepends=True)
        path = f"{display_path(out)}/{name}"
        sys.stdout.writelines(difflib.unified_diff(before, after, f"a/{path}", f"b/{path}"))
    print(f"sqlgen: {display_path(out)} is stale; run `sqlgen generate`", file=sys.stderr)
    return EXIT_USER_ERROR


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
