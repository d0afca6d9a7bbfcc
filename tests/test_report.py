"""Diagnostics as JSON and GitHub annotations, colour, and -q/-v (no database)."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqlgen.errors import Diagnostic, Location, ToolError, UserError
from sqlgen.report import Format, Reporter, Verbosity, as_json, colour_wanted, github_annotation, token_end

NME = Diagnostic(
    'column "nme" does not exist',
    Location("queries/a.sql", 7, 8),
    "SELECT nme FROM authors;",
    hint='Perhaps you meant to reference the column "authors.name".',
    sqlstate="42703",
)


def test_json_fields() -> None:
    assert as_json(NME) == {
        "path": "queries/a.sql",
        "line": 7,
        "column": 8,
        "end": {"line": 7, "column": 11},
        "severity": "error",
        "message": 'column "nme" does not exist',
        "detail": None,
        "hint": 'Perhaps you meant to reference the column "authors.name".',
        "sqlstate": "42703",
        "source_line": "SELECT nme FROM authors;",
    }
    assert as_json(Diagnostic("no query files configured"))["path"] is None


@pytest.mark.parametrize(
    ("line", "column", "end"),
    [
        ('SELECT "Weird Name" FROM t;', 8, 20),  # a quoted identifier is one token
        ("SELECT 'it''s' || 1;", 8, 15),
        ("SELECT a FROM t WHERE x = 'runs on", 27, None),  # a string continuing on the next line
        ("SELECT 1 +", 11, None),  # at the end of the line: nothing to span
        ("  SELECT", 1, None),  # pointing at space
    ],
)
def test_end_spans_the_token_pointed_at(line: str, column: int, end: int | None) -> None:
    found = token_end(Diagnostic("x", Location("q.sql", 3, column), line))
    assert (found.column if found else None) == end
    if found:
        assert found.line == 3


@pytest.mark.parametrize(
    ("line", "column", "sqlstate", "spanned"),
    [
        ("SELECT authors.nme FROM authors;", 8, "42703", "authors.nme"),  # a qualified name, whole
        ('SELECT public."My Table".x, 1', 8, "42703", 'public."My Table".x'),
        ("SELECT t.* FROM t", 8, None, "t.*"),
        ("SELECT lower(name, (1 + 2)) FROM authors;", 8, "42883", "lower(name, (1 + 2))"),  # the call
        ("SELECT pg_catalog.lower (name, 1) x", 8, "42883", "pg_catalog.lower (name, 1)"),
        ("SELECT lower(name,", 8, "42883", "lower"),  # the call goes on past the line: the name alone
        ("SELECT lower(name) FROM authors;", 8, "42703", "lower"),  # not about a function: the name
    ],
)
def test_end_spans_names_and_calls(line: str, column: int, sqlstate: str | None, spanned: str) -> None:
    found = token_end(Diagnostic("x", Location("q.sql", 1, column), line, sqlstate=sqlstate))
    assert found is not None
    assert line[column - 1 : found.column - 1] == spanned


names = st.one_of(
    st.from_regex(r"[a-z_][a-z0-9_$]{0,10}", fullmatch=True),
    st.text(st.characters(blacklist_characters='"\n\r\x00'), min_size=1, max_size=8).map(lambda s: f'"{s}"'),
)


@given(parts=st.lists(names, min_size=1, max_size=4), tail=st.sampled_from([" FROM t", ", 1", ") x", "", "::int"]))
def test_end_covers_every_part_of_any_qualified_name(parts: list[str], tail: str) -> None:
    name = ".".join(parts)
    line = f"SELECT {name}{tail}"
    found = token_end(Diagnostic("x", Location("q.sql", 1, 8), line, sqlstate="42703"))
    assert found is not None and line[7 : found.column - 1] == name


def test_end_is_only_computed_for_sql() -> None:
    assert token_end(Diagnostic("x", Location("pyproject.toml", 4, 1), "schemas = 1")) is None


def test_github_annotation_escapes_what_the_workflow_command_syntax_reserves() -> None:
    diagnostic = Diagnostic(
        "100% wrong, really: yes",
        Location("dir,with:odd/q.sql", 2, 3),
        detail="line one\nline two",
        hint="fix it",
    )
    assert github_annotation(diagnostic) == (
        "::error file=dir%2Cwith%3Aodd/q.sql,line=2,col=3,title=sqlgen::"
        "100%25 wrong, really: yes%0Adetail: line one%0Aline two%0Ahint: fix it"
    )
    assert github_annotation(Diagnostic("no query files configured")) == (
        "::error title=sqlgen::no query files configured"
    )


@pytest.mark.parametrize(
    ("choice", "environ", "tty", "expected"),
    [
        ("auto", {}, True, True),
        ("auto", {}, False, False),
        ("auto", {"TERM": "dumb"}, True, False),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {"NO_COLOR": ""}, True, True),  # an empty NO_COLOR does not count
        ("auto", {"FORCE_COLOR": "1"}, False, True),
        ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
        ("always", {"NO_COLOR": "1"}, False, True),
        ("never", {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_colour_follows_the_flag_then_no_color_then_force_color_then_the_terminal(
    choice: str, environ: dict[str, str], tty: bool, expected: bool
) -> None:
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    assert colour_wanted(choice, Stream(), environ) is expected


def reporter(format: Format = Format.TEXT, verbosity: Verbosity = Verbosity.NORMAL, colour: bool = False) -> Reporter:
    return Reporter(format, verbosity, colour, io.StringIO(), io.StringIO())


def output(r: Reporter) -> tuple[str, str]:
    assert isinstance(r.stdout, io.StringIO) and isinstance(r.stderr, io.StringIO)
    return r.stdout.getvalue(), r.stderr.getvalue()


def test_coloured_text_marks_location_error_caret_and_labels() -> None:
    r = reporter(colour=True)
    r.user_error(UserError([NME]))
    _, err = output(r)
    assert err.splitlines()[:3] == [
        '\033[1mqueries/a.sql:7:8:\033[0m \033[1;31merror:\033[0m \033[1mcolumn "nme" does not exist\033[0m',
        "    SELECT nme FROM authors;",
        "           \033[1;32m^\033[0m",
    ]
    assert '  \033[1;36mhint:\033[0m Perhaps you meant to reference the column "authors.name".' in err


def test_json_collects_user_and_tool_errors_into_one_document() -> None:
    r = reporter(Format.JSON)
    r.user_error(UserError([NME]))
    r.tool_error(ToolError("could not connect to the database: refused", hint="check --database-url"))
    r.info("generated gen")
    r.finish()
    out, err = output(r)
    document = json.loads(out)
    assert out.count("\n") == 1
    assert [d["message"] for d in document["diagnostics"]] == [
        'column "nme" does not exist',
        "could not connect to the database: refused",
    ]
    assert document["diagnostics"][1]["hint"] == "check --database-url"
    assert "sqlgen: generated gen" in err  # progress moves to stderr; stdout is the document alone


def test_quiet_prints_only_errors_and_verbose_adds_stages() -> None:
    quiet = reporter(verbosity=Verbosity.QUIET)
    quiet.info("generated gen")
    quiet.note("a note")
    quiet.stage("describe", 0.01)
    assert output(quiet) == ("", "")
    quiet.user_error(UserError([NME]))
    assert "error:" in output(quiet)[1]

    normal = reporter()
    normal.stage("describe", 0.01)
    assert output(normal) == ("", "")

    verbose = reporter(verbosity=Verbosity.VERBOSE)
    verbose.stage("describe", 0.0123)
    assert output(verbose)[1].split() == ["sqlgen:", "describe", "12", "ms"]


def test_notes_are_shown_in_every_format_without_failing_the_run() -> None:
    note = Diagnostic("Go option ignored by sqlgen: sql_package", Location("sqlc.yaml", 5, 9), severity="note")
    assert note.render().splitlines()[0] == "sqlc.yaml:5:9: note: Go option ignored by sqlgen: sql_package"
    assert as_json(note)["severity"] == "note"
    assert github_annotation(note).startswith("::notice file=sqlc.yaml,line=5,col=9,")
    stdout, stderr = io.StringIO(), io.StringIO()
    reporter = Reporter(Format.JSON, stdout=stdout, stderr=stderr)
    reporter.notes([note])
    reporter.finish()
    assert [d["severity"] for d in json.loads(stdout.getvalue())["diagnostics"]] == ["note"]
    quiet = Reporter(Format.TEXT, Verbosity.QUIET, stdout=stdout, stderr=stderr)
    quiet.notes([note])
    assert "note:" not in stderr.getvalue()
