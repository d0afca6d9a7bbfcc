"""The source stage: splitting files, annotations, doc comments, parameter rewriting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqlgen.errors import SourceText, UserError
from sqlgen.source import Command, QuerySource, parse_queries
from sqlgen.sqllex import Kind, LexError, tokenize


def parse(text: str) -> list[QuerySource]:
    queries, diagnostics = parse_queries(SourceText("q.sql", text))
    assert diagnostics == []
    return queries


def errors(text: str) -> list[str]:
    _, diagnostics = parse_queries(SourceText("q.sql", text))
    assert diagnostics
    return [d.render() for d in sorted(diagnostics, key=lambda d: d.sort_key())]


def test_splits_annotated_statements_with_docs_and_commands() -> None:
    queries = parse(
        "-- name: GetAuthor :one\n"
        "-- Fetch one author.\n"
        "-- Second line.\n"
        "SELECT * FROM authors WHERE id = $1;\n"
        "\n"
        "-- name: ListAuthors :many\n"
        "SELECT * FROM authors;\n"
        "-- name: Touch :exec\n"
        "UPDATE authors SET name = name\n"
    )
    assert [(q.name, q.command) for q in queries] == [
        ("GetAuthor", Command.ONE),
        ("ListAuthors", Command.MANY),
        ("Touch", Command.EXEC),
    ]
    assert queries[0].doc == "Fetch one author.\nSecond line."
    assert queries[0].sql == "SELECT * FROM authors WHERE id = $1"
    assert queries[2].sql == "UPDATE authors SET name = name"


def test_named_parameters_are_numbered_by_first_use_and_shared() -> None:
    [query] = parse("-- name: Q :many\nSELECT * FROM t WHERE a = @a OR b = sqlc.arg(b) OR c = @a::int;")
    assert query.sql == "SELECT * FROM t WHERE a = $1 OR b = $2 OR c = $1::int"
    assert [(p.number, p.name, p.nullable, len(p.offsets)) for p in query.params] == [
        (1, "a", False, 2),
        (2, "b", False, 1),
    ]


def test_narg_is_nullable_and_quoted_names_are_kept() -> None:
    [query] = parse("-- name: Q :many\nSELECT * FROM t WHERE a = sqlc.narg('Mixed Case') OR b = sqlc.narg(b);")
    assert query.sql == "SELECT * FROM t WHERE a = $1 OR b = $2"
    assert [(p.name, p.nullable) for p in query.params] == [("Mixed Case", True), ("b", True)]


def test_positional_parameters_keep_their_numbers() -> None:
    [query] = parse("-- name: Q :many\nSELECT * FROM t WHERE a = $2 AND b = $1;")
    assert query.sql == "SELECT * FROM t WHERE a = $2 AND b = $1"
    assert [(p.number, p.name) for p in query.params] == [(1, None), (2, None)]


def test_parameters_inside_strings_comments_and_dollar_quotes_are_untouched() -> None:
    text = (
        "-- name: Q :one\n"
        "SELECT '@a $1', E'it\\'s @b', $$ -- name: X :one @c $$, $tag$ @d $tag$, \"@e\" /* @f /* $2 */ */, x @> y, @g;"
    )
    [query] = parse(text)
    assert query.sql.endswith("x @> y, $1")
    assert [p.name for p in query.params] == ["g"]


def test_operator_glued_parameters_are_found() -> None:
    [query] = parse("-- name: Q :many\nSELECT * FROM t WHERE id=@id AND tags<@@tags AND a <@ b;")
    assert query.sql == "SELECT * FROM t WHERE id=$1 AND tags<@$2 AND a <@ b"


def test_file_offsets_map_back_through_rewriting() -> None:
    text = "-- name: Q :one\nSELECT sqlc.arg(first_name), @x, bogus FROM t;"
    [query] = parse(text)
    assert query.sql == "SELECT $1, $2, bogus FROM t"
    offset = query.file_offset(query.sql.index("bogus"))
    assert text[offset : offset + 5] == "bogus"
    assert query.file.location(offset).line == 2
    assert query.file_offset(query.sql.index("$2")) == text.index("@x")


def test_crlf_and_bom_are_normalised(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlgen.source import read_source

    path = tmp_path / "q.sql"
    path.write_bytes(b"\xef\xbb\xbf-- name: Q :one\r\nSELECT 1;\r\n")
    [query], _ = parse_queries(read_source(path))
    assert query.sql == "SELECT 1"


def test_invalid_utf8_is_located(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlgen.source import read_source

    path = tmp_path / "q.sql"
    path.write_bytes(b"-- name: Q :one\nSELECT '\xff';\n")
    with pytest.raises(UserError) as caught:
        read_source(path)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.location is not None
    assert (diagnostic.location.line, diagnostic.location.column) == (2, 9)
    assert "UTF-8" in diagnostic.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT 1;\n", "q.sql:1:1: error: statement without a `-- name: Name :command` annotation"),
        ("-- name: GetAuthor\nSELECT 1;", "q.sql:1:19: error: annotation for GetAuthor has no command"),
        ("-- name: GetAuthor :first\nSELECT 1;", "q.sql:1:20: error: unknown command ':first'"),
        ("-- name: Get-Author :one\nSELECT 1;", "q.sql:1:10: error: query name 'Get-Author' is not an identifier"),
        ("-- name: Q :one\n", "q.sql:1:1: error: query Q has no SQL statement"),
        ("-- name: Q :one\nSELECT 1; SELECT 2;", "q.sql:2:11: error: query Q holds more than one statement"),
        ("-- name: Q :one\nSELECT 'open", "q.sql:2:8: error: unterminated string literal"),
        (
            "-- name: Q :execlastid\nINSERT INTO t DEFAULT VALUES",
            "q.sql:1:12: error: :execlastid is for MySQL and SQLite only: PostgreSQL has no last insert id",
        ),
        ("/* name: Q :one */\nSELECT 1; SELECT 2;", "q.sql:2:11: error: query Q holds more than one statement"),
        ("-- name: Q :one\n-- @validat\nSELECT 1", "q.sql:2:4: error: unknown query flag `@validat`"),
        ("-- name: Q :one\nSELECT sqlc.arg()", "q.sql:2:8: error: sqlc.arg() needs a parameter name"),
        ("-- name: Q :one extra\nSELECT 1", "q.sql:1:17: error: unexpected text after :one"),
    ],
)
def test_malformed_input_gets_a_located_diagnostic(text: str, expected: str) -> None:
    rendered = errors(text)
    assert rendered[0].splitlines()[0] == expected
    # The offending line and a caret follow the message.
    assert rendered[0].splitlines()[2].strip() == "^"


def test_all_errors_of_a_file_are_reported_together() -> None:
    rendered = errors("-- name: A :bad\nSELECT 1;\n-- name: B :one\n-- name: C\nSELECT 1;\n")
    assert [r.splitlines()[0].split(": error")[0] for r in rendered] == ["q.sql:1:12", "q.sql:3:1", "q.sql:4:11"]


def test_lexer_covers_the_text_exactly() -> None:
    text = "SELECT a::int, 'x''y', U&'\\0041', $1, @p, 1.5e3, \"Q\"\"q\" -- c\n/* a /* b */ c */;"
    tokens = tokenize(text)
    assert "".join(t.text for t in tokens) == text
    kinds = [t.kind for t in tokens if t.significant]
    assert Kind.CAST in kinds and Kind.POSITIONAL in kinds and Kind.NAMED in kinds


def test_lexer_rejects_unterminated_comment() -> None:
    with pytest.raises(LexError) as caught:
        tokenize("SELECT /* never closed")
    assert caught.value.offset == 7


def test_slices_become_one_array_parameter() -> None:
    text = (
        "-- name: Q :many\nSELECT id FROM t WHERE id IN (sqlc.slice(ids)) AND tag NOT IN ( sqlc.slice(tags) )"
        " AND x = ANY(sqlc.slice(xs));\n"
    )
    [query], errors = parse_queries(SourceText("q.sql", text))
    assert errors == []
    assert query.sql == "SELECT id FROM t WHERE id = ANY($1) AND tag <> ALL($2) AND x = ANY($3)"
    assert [(p.name, p.slice) for p in query.params] == [("ids", True), ("tags", True), ("xs", True)]
    assert query.file.location(query.file_offset(query.sql.index("<> ALL"))).column == 56  # at NOT


def test_embeds_select_the_whole_row_and_remember_where() -> None:
    text = '-- name: Q :many\nSELECT sqlc.embed(a), sqlc.embed("B") FROM authors a, b "B" WHERE a.id = @id;\n'
    [query], errors = parse_queries(SourceText("q.sql", text))
    assert errors == []
    assert query.sql == 'SELECT a.*, "B".* FROM authors a, b "B" WHERE a.id = $1'
    assert [(e.name, e.sql_offset, query.file.location(e.offset).column) for e in query.embeds] == [
        ("a", 7, 8),
        ('"B"', 12, 23),
    ]
    assert query.file.location(query.file_offset(query.sql.index("FROM"))).column == 39


def test_mixed_parameters_are_numbered_as_sqlc_numbers_them() -> None:
    """`$n` keeps its number; named ones take the lowest numbers left free, in order of first use."""
    [query] = parse("-- name: Q :many\nSELECT id FROM t WHERE id = $1 AND name = sqlc.arg(name) AND x = $3 AND y = @y;")
    assert query.sql == "SELECT id FROM t WHERE id = $1 AND name = $2 AND x = $3 AND y = $4"
    assert [(p.number, p.name) for p in query.params] == [(1, None), (2, "name"), (3, None), (4, "y")]


def test_block_comment_annotations() -> None:
    queries = parse(
        "/* name: GetAuthor :one */\nSELECT 1;\n\n/*name:ListAuthors :many*/\nSELECT 2;\n-- name: Last :exec\nSELECT 3"
    )
    assert [(q.name, q.command, q.sql) for q in queries] == [
        ("GetAuthor", Command.ONE, "SELECT 1"),
        ("ListAuthors", Command.MANY, "SELECT 2"),
        ("Last", Command.EXEC, "SELECT 3"),
    ]


def test_execlastid_hints_at_returning() -> None:
    [diagnostic] = parse_queries(SourceText("q.sql", "-- name: Q :execlastid\nINSERT INTO t DEFAULT VALUES"))[1]
    assert diagnostic.hint is not None and "RETURNING id" in diagnostic.hint and ":one" in diagnostic.hint


def test_schema_statements_in_a_query_file_are_skipped_with_a_note() -> None:
    text = (
        "CREATE TABLE t (id int);\n"
        "-- name: GetT :one\n"
        "SELECT id FROM t WHERE id = $1;\n"
        "CREATE INDEX ON t (id);\n"
        "ALTER TABLE t ADD b int;\n"
        "-- name: Other :exec\n"
        "DELETE FROM t;\n"
    )
    queries, diagnostics = parse_queries(SourceText("q.sql", text))
    assert [q.name for q in queries] == ["GetT", "Other"]
    assert queries[0].sql == "SELECT id FROM t WHERE id = $1"
    [note] = diagnostics
    assert note.severity == "note"
    assert note.render().splitlines()[0] == (
        "q.sql:1:1: note: 3 statements without a query annotation (ALTER TABLE, CREATE INDEX, CREATE TABLE) "
        "skipped: sqlc skips schema statements in query files"
    )


def test_an_unannotated_query_statement_is_still_an_error() -> None:
    rendered = errors("-- name: Q :one\nSELECT 1;\nCREATE INDEX ON t (a);\nINSERT INTO t VALUES (1);")
    assert rendered[0].splitlines()[0] == "q.sql:4:1: error: query Q holds more than one statement"


def test_at_lines_that_are_not_flags_are_documentation() -> None:
    [query] = parse("-- name: Q :one\n-- Find one.\n-- @alias: the alias to look up\n-- @validate\nSELECT 1")
    assert query.doc == "Find one.\n@alias: the alias to look up"
    assert query.validate
    rendered = errors("-- name: Q :one\n-- @valdiate\nSELECT 1")
    assert rendered[0].splitlines()[0] == "q.sql:2:4: error: unknown query flag `@valdiate`"


@given(word=st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,12}", fullmatch=True), rest=st.sampled_from(["", ": text", " x"]))
def test_an_at_line_is_a_flag_a_doc_line_or_an_error_never_lost(word: str, rest: str) -> None:
    queries, diagnostics = parse_queries(SourceText("q.sql", f"-- name: Q :one\n-- @{word}{rest}\nSELECT 1"))
    if diagnostics:
        assert [d.message for d in diagnostics] == [f"unknown query flag `@{word}`"]
        return
    [query] = queries
    known = word == "validate" or word == "param" or word.startswith("sqlc-")
    assert query.validate == (word == "validate")
    assert (query.doc == f"@{word}{rest}") != known
