"""Hostile input to the query-file reader, the annotation parser and the parameter rewriter.

Whatever the bytes, reading and parsing a query file ends in parsed queries that keep the
rewriter's promises (below), or in a UserError whose every diagnostic points into the file:
never another exception, never a silently wrong rewrite. The property tests are derandomized,
so every run tries the same examples.

What the rewriter promises, for each parsed query:

- putting each edit's original text back in place of its replacement gives the statement as
  written, byte for byte, and every other character of `sql` maps to itself in the file;
- each replacement is `$n`, `= ANY($n)`, `<> ALL($n)` (with at most a separating space on
  either side) or an embed's `name.*`; the `$n` in the rewritten SQL are exactly the
  replacements' (and any `$n` written as such), and each names a parameter;
- every parameter occurrence is a token of the file outside strings, comments and
  dollar-quoted bodies: `@name`, `$n` or `sqlc.…`;
- the same text gives the same result.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlgen.errors import Diagnostic, SourceText, UserError
from sqlgen.source import Command, QuerySource, parse_queries, read_source
from sqlgen.sqllex import Kind, tokenize

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

_REPLACEMENT = re.compile(r" ?(?:\$(\d+)|= ANY\(\$(\d+)\)|<> ALL\(\$(\d+)\)) ?")


# ---------------------------------------------------------------------------------------
# Checks


def assert_located(diagnostics: list[Diagnostic], file: SourceText | None) -> None:
    assert diagnostics
    for diagnostic in diagnostics:
        location = diagnostic.location
        assert location is not None, diagnostic.message
        assert location.line >= 1 and location.column >= 1
        if file is not None:
            assert location.path == file.path
            lines = file.text.split("\n")
            assert location.line <= len(lines)
            assert location.column <= len(lines[location.line - 1]) + 1
        diagnostic.render()  # renders without error


def statement_end(query: QuerySource) -> int:
    return query.file_offset(len(query.sql))


def check_query(query: QuerySource) -> None:
    text, sql = query.file.text, query.sql
    start, end = query.statement_offset, statement_end(query)
    assert 0 <= start < end <= len(text)

    # Edits are in order, disjoint, and putting the originals back gives the statement.
    pieces, cursor_sql, cursor_file = [], 0, start
    embeds = {embed.sql_offset: embed for embed in query.embeds}
    replaced_numbers: list[int] = []
    for edit in query.edits:
        assert cursor_sql <= edit.sql_start < edit.sql_end <= len(sql)
        assert cursor_file <= edit.start < edit.end <= end
        assert sql[cursor_sql : edit.sql_start] == text[cursor_file : edit.start]
        pieces += [sql[cursor_sql : edit.sql_start], text[edit.start : edit.end]]
        new = sql[edit.sql_start : edit.sql_end]
        if edit.sql_start in embeds:
            assert new == f"{embeds[edit.sql_start].name}.*"
            assert re.match(r"sqlc\s*\.\s*embed", text[edit.start : edit.end], re.I)
        else:
            match = _REPLACEMENT.fullmatch(new)
            assert match is not None, new
            replaced_numbers.append(int(next(g for g in match.groups() if g)))
        cursor_sql, cursor_file = edit.sql_end, edit.end
    pieces.append(sql[cursor_sql:])
    assert "".join(pieces) == text[start:end]
    assert len(embeds) == len(query.embeds)

    # Every character outside an edit maps to itself; inside one, to the edit's start.
    # (file_offset walks the edits: for huge statements, every step-th character is enough.)
    step = 1 + len(sql) * len(query.edits) // 1_000_000
    edits = collections.deque(query.edits)
    for offset in range(0, len(sql) + 1, step):
        while edits and edits[0].sql_end <= offset:
            edits.popleft()
        mapped = query.file_offset(offset)
        assert start <= mapped <= end
        if edits and edits[0].sql_start <= offset:
            assert mapped == edits[0].start
        elif offset < len(sql):
            assert text[mapped] == sql[offset]

    # The $n the server will see are the replacements' and the user's own, and all are parameters.
    numbers = {p.number for p in query.params}
    positional = [t for t in tokenize(sql) if t.kind is Kind.POSITIONAL]
    assert {int(t.text[1:]) for t in positional} == numbers
    spans, in_edits = collections.deque(query.edits), []
    for t in positional:
        while spans and spans[0].sql_end <= t.start:
            spans.popleft()
        if spans and spans[0].sql_start <= t.start:
            in_edits.append(t)
    assert sorted(int(t.text[1:]) for t in in_edits) == sorted(replaced_numbers)
    assert len(in_edits) == len(replaced_numbers)
    assert sorted(numbers) == sorted(p.number for p in query.params)  # no number twice
    if any(p.name is not None for p in query.params):
        assert sorted(numbers) == list(range(1, len(numbers) + 1))

    # Occurrences are real tokens of the file, outside strings and comments.
    tokens = {t.start + start: t for t in tokenize(text[start:end])}  # a statement starts at a token
    for param in query.params:
        for offset in param.offsets:
            token = tokens[offset]
            assert start <= offset < end
            if token.kind is Kind.NAMED:
                assert param.name == token.text[1:]
            elif token.kind is Kind.POSITIONAL:
                assert param.name is None and int(token.text[1:]) == param.number
            else:
                assert token.kind is Kind.IDENT and token.text.lower() == "sqlc"


def parse_checked(file: SourceText) -> tuple[list[QuerySource], list[Diagnostic]]:
    """Parse, and check every promise."""
    queries, diagnostics = parse_queries(file)
    if diagnostics:
        assert_located(diagnostics, file)
    for query in queries:
        check_query(query)
        assert query.name and query.file is file
    again, again_diagnostics = parse_queries(SourceText(file.path, file.text))
    assert [(q.name, q.command, q.sql, q.edits, q.params, q.embeds, q.doc) for q in again] == [
        (q.name, q.command, q.sql, q.edits, q.params, q.embeds, q.doc) for q in queries
    ]
    assert [d.render() for d in again_diagnostics] == [d.render() for d in diagnostics]
    return queries, diagnostics


def read_checked(path: Path, data: bytes) -> list[QuerySource] | None:
    """Write `data` to `path` and read and parse it; None when reading failed (located)."""
    path.write_bytes(data)
    try:
        source = read_source(path)
    except UserError as err:
        assert_located(err.diagnostics, None)
        return None
    expected = data.removeprefix(b"\xef\xbb\xbf").decode().replace("\r\n", "\n").replace("\r", "\n")
    assert source.text == expected and "\0" not in expected  # one BOM dropped, newlines made \n
    return parse_checked(source)[0]


# ---------------------------------------------------------------------------------------
# 1. Arbitrary text and bytes

_FRAGMENTS = [
    "-- name: GetA :one\n",
    "-- name: class :many\n",
    "--name:X :exec",
    "-- name: ",
    " :one",
    "-- @validate\n",
    "-- @bogus\n",
    "-- doc\n",
    "SELECT ",
    " FROM t WHERE a = ",
    "@a",
    "@b",
    "=@a",
    "@a::int",
    "a@b",
    "@>",
    "<@",
    "@@",
    "||",
    "$1",
    "$2",
    "$0",
    "$99999",
    "'",
    "''",
    "E'",
    "\\",
    "\\'",
    "$$",
    "$t$",
    "$1$",
    '"',
    "/*",
    "*/",
    "--",
    "sqlc.arg(",
    "sqlc.narg(x)",
    "sqlc.slice(",
    "sqlc.embed(",
    "IN (",
    "NOT ",
    "(",
    ")",
    ";",
    "::",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "\0",
    "\ufeff",
    "\u00a0",
    "²",
    "٣",
    ".",
    "1",
    "x",
    "U&'",
    "BEGIN ATOMIC ",
]

sqlish_text = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=3), max_size=40).map("".join)


@FUZZ
@given(st.text() | sqlish_text)
def test_any_text_parses_or_fails_located(text: str) -> None:
    parse_checked(SourceText("q.sql", text))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "q.sql"


_BYTE_FRAGMENTS = [f.encode() for f in _FRAGMENTS] + [
    b"\xef\xbb\xbf",  # BOM
    b"\xff",
    b"\xc3",  # a lead byte without its continuation
    b"\x80",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b"\xc0\xaf",  # overlong
]


@FUZZ
@given(st.binary() | st.lists(st.sampled_from(_BYTE_FRAGMENTS) | st.binary(max_size=3), max_size=40).map(b"".join))
def test_any_bytes_read_and_parse_or_fail_located(scratch: Path, data: bytes) -> None:
    read_checked(scratch, data)


# ---------------------------------------------------------------------------------------
# 2. Generated statements: where the parameters are is known


@dataclass(frozen=True)
class Piece:
    text: str
    param: str | int | None = None  # @name / sqlc.arg(name) → the name; $n → n
    offset: int = 0  # where the parameter starts in `text`
    length: int = 0  # how long it is (0: to the end of `text`)

    @property
    def significant(self) -> bool:
        return not self.text.startswith(("--", "/*"))

    def rewritten(self, number: int) -> str:
        end = self.offset + self.length if self.length else len(self.text)
        before, after = self.text[: self.offset], self.text[end:]
        glued = re.compile(r"[\w$]")  # ASCII here: a placeholder next to one of these gets a space
        space_before = " " if glued.match(before[-1:]) else ""
        space_after = " " if glued.match(after) else ""
        return f"{before}{space_before}${number}{space_after}{after}"


_IDENTS = st.from_regex(r"[a-z_][a-z0-9_$]{0,6}", fullmatch=True).filter(
    lambda s: s.lower() not in ("sqlc", "in", "not", "begin", "atomic", "case", "end")
)
# Text that may hide parameter-looking things; quote characters are added by the callers.
_INNER = st.lists(
    st.sampled_from(["@x", "$1", "-- name: X :one", "x", " ", "\n", "::", "@>", "sqlc.arg(y)", ";", "(", "é"]),
    max_size=6,
).map("".join)


@st.composite
def string_literals(draw: st.DrawFn) -> str:
    body = draw(st.lists(_INNER | st.sampled_from(["''", "/*", "*/", '"', "$$"]), max_size=4).map("".join))
    prefix = draw(st.sampled_from(["", "E", "e", "N", "U&"]))
    if prefix in ("E", "e"):
        body += draw(st.sampled_from(["", "\\'", "\\\\"]))
    return f"{prefix}'{body}'"


@st.composite
def dollar_bodies(draw: st.DrawFn) -> str:
    tag = draw(st.sampled_from(["", "fn", "body_1", "é"]))
    body = draw(st.lists(_INNER | st.sampled_from(["'", "/*", "--", "$", "$1$"]), max_size=4).map("".join))
    close = f"${tag}$"
    return f"{close}{body}{close}" if (body + close).find(close) == len(body) else "1"


def block_comments(depth: int = 2) -> st.SearchStrategy[str]:
    plain = _INNER.map(lambda s: s.replace("/", "").replace("*", ""))
    inner = plain if depth == 0 else st.one_of(plain, block_comments(depth - 1))
    return st.lists(inner, max_size=3).map(lambda parts: "/*" + " ".join(parts) + "*/")


_QUOTED_IDENTS = _INNER.map(lambda s: '"' + (s.replace('"', '""') or "q") + '"')
_LITERALS = st.one_of(
    _IDENTS,
    _QUOTED_IDENTS,
    st.sampled_from(["1", "1.5", ".5", "1e10", "0", "NULL", "a.b", "t.*"]),
    string_literals(),
    dollar_bodies(),
    block_comments(),
    _INNER.map(lambda s: "--" + s.replace("\n", " ") + "\n"),
    st.sampled_from(["+", "-", "*", "<>", "||", "@>", "<@", "@@", "::", "::int", "(", ")", ",", "=", "@", "[", "]"]),
).map(Piece)


def named(name: str) -> st.SearchStrategy[Piece]:
    length = len(name) + 1
    return st.one_of(
        st.just(Piece(f"@{name}", name)),
        st.just(Piece(f"=@{name}", name, 1)),
        st.just(Piece(f"(@{name})", name, 1, length)),
        st.just(Piece(f"@{name}::text", name, 0, length)),
        st.just(Piece(f"||@{name}", name, 2)),
        st.just(Piece(f"sqlc.arg({name})", name)),
        st.just(Piece(f"sqlc.narg('{name}')", name)),
        st.just(Piece(f"sqlc . arg ( /* c */ {name} )", name)),
        st.just(Piece(f"x@{name}", name, 1)),
        st.just(Piece(f"sqlc.arg({name})y", name, 0, len(name) + 10)),
    )


def positional(number: int) -> st.SearchStrategy[Piece]:
    return st.sampled_from([Piece(f"${number}", number), Piece(f"=${number}", number, 1)])


@st.composite
def statements(draw: st.DrawFn) -> tuple[list[Piece], list[str]]:
    """Pieces of one statement, and the separators that go between them."""
    style = draw(st.sampled_from(["named", "positional"]))
    if style == "named":
        param = _IDENTS.flatmap(named)
    else:
        param = st.integers(1, 4).flatmap(positional)
    pieces = draw(st.lists(st.one_of(_LITERALS, _LITERALS, param), min_size=1, max_size=25))
    pieces = [Piece("SELECT"), *pieces]
    separators = draw(st.lists(st.sampled_from([" ", "\n", "\t", "  ", " \n\t"]), min_size=len(pieces)))
    return pieces, separators


@FUZZ
@given(statements(), st.sampled_from(Command))
def test_parameters_are_found_exactly_where_written(statement: tuple[list[Piece], list[str]], command: Command) -> None:
    pieces, separators = statement
    header = f"-- name: Generated :{command.name.lower()}\n-- Some documentation.\n"
    text, offsets = header, []
    for piece, separator in zip(pieces, separators, strict=False):
        if piece.param is not None:
            offsets.append((piece.param, len(text) + piece.offset))
        text += piece.text + separator
    text += ";\n"

    [query] = parse_ok(text)
    assert (query.name, query.command, query.doc) == ("Generated", command, "Some documentation.")
    assert query.statement_offset == len(header)
    found = sorted((p.name if p.name is not None else p.number, o) for p in query.params for o in p.offsets)
    assert found == sorted(offsets)
    first_use = list(dict.fromkeys(p.param for p in pieces if p.param is not None))
    assert [p.name or p.number for p in query.params] == sorted(first_use, key=lambda k: _number(k, first_use))

    # The SQL is the statement as written with each parameter replaced by its `$n`, and nothing else.
    last = max(i for i, piece in enumerate(pieces) if piece.significant)
    expected = ""
    for piece, separator in zip(pieces[: last + 1], separators, strict=False):
        expected += piece.rewritten(_number(piece.param, first_use)) if piece.param is not None else piece.text
        expected += separator
    assert query.sql == expected[: len(expected) - len(separators[last])]


def _number(key: str | int, first_use: list[str | int]) -> int:
    return key if isinstance(key, int) else first_use.index(key) + 1


# ---------------------------------------------------------------------------------------
# 3. A corpus of nasty real-world query files


def parse_ok(text: str) -> list[QuerySource]:
    queries, diagnostics = parse_checked(SourceText("q.sql", text))
    assert diagnostics == [], [d.render() for d in diagnostics]
    return queries


def first_error(text: str) -> tuple[str, int, int]:
    _, diagnostics = parse_checked(SourceText("q.sql", text))
    assert diagnostics
    location = diagnostics[0].location
    assert location is not None
    return diagnostics[0].message, location.line, location.column


PLPGSQL = """\
-- name: CreateAuditFunction :exec
-- Installs the audit trigger function; its body is full of things that look like ours.
CREATE OR REPLACE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $body$
-- name: NotAQuery :one
DECLARE
    note text := 'user @' || current_user || ' changed $1';
BEGIN
    /* nested /* comment */ with @x */
    INSERT INTO audit_log (who, what) VALUES (current_user, $fmt$@x $1 $$ ' "$fmt$);
    RETURN NEW;
END;
$body$;

-- name: ListLogs :many
SELECT * FROM audit_log WHERE who = @who AND what <> '-- name: Fake :one';
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            PLPGSQL,
            [("CreateAuditFunction", "CREATE OR REPLACE FUNCTION audit()", []), ("ListLogs", "SELECT *", ["who"])],
            id="dollar-quoted function body with -- name:, @x and $1",
        ),
        pytest.param(
            "-- name: Q :many\nSELECT '$1 @a', \"$2 @b\", /* $3 @c */ x -- $4 @d\nFROM t WHERE y = $1;",
            [("Q", "SELECT '$1 @a', \"$2 @b\", /* $3 @c */ x -- $4 @d\nFROM t WHERE y = $1", [None])],
            id="$1 and @x inside strings, quoted names and comments",
        ),
        pytest.param(
            "-- name: Q :many\nSELECT @a::int, x::text||@b, tags @> @c::text[], d <@ @e, doc @@ @f;",
            [("Q", "SELECT $1::int, x::text||$2, tags @> $3::text[], d <@ $4, doc @@ $5", list("abcef"))],
            id=":: casts and @-operators next to @params",
        ),
        pytest.param(
            "-- name: Q :one\nSELECT E'it\\'s @a', e'\\\\', E'x''@b', 'y''@c' || @d;",
            [("Q", "SELECT E'it\\'s @a', e'\\\\', E'x''@b', 'y''@c' || $1", ["d"])],
            id="E-strings with escaped quotes",
        ),
        pytest.param(
            "-- name: Q :one\nSELECT a@b, sqlc.arg(c)d FROM t;",
            [("Q", "SELECT a $1, $2 d FROM t", ["b", "c"])],
            id="regression: placeholders never merge with a neighbouring identifier",
        ),
        pytest.param(
            "-- name: Q :one\nSELECT x =\u00a0@a;",
            [("Q", "SELECT x =\u00a0 $1", ["a"])],
            id="regression: a no-break space is part of an identifier, as in PostgreSQL",
        ),
        pytest.param(
            "-- name: Q :one\nSELECT .² AS a, $٣ AS b;",
            [("Q", "SELECT .² AS a, $٣ AS b", [])],
            id="regression: non-ASCII digits are not numbers or parameter numbers",
        ),
        pytest.param(
            "-- name: Q :one\nSELECT sqlc.arg(\"a\"\"b\"), sqlc.narg('it''s'), sqlc /*1*/ . /*2*/ arg /*3*/ ("
            " /*4*/ /*5*/ /*6*/ c /*7*/ );",
            [("Q", "SELECT $1, $2, $3", ['a"b', "it's", "c"])],
            id="regression: quoted macro names are unescaped; comments inside a macro",
        ),
        pytest.param(
            "\t-- name: A :one\n\t-- Indented doc.\n\tSELECT\t@a;\n  -- name: B :exec\n  DELETE FROM t;",
            [("A", "SELECT\t$1", ["a"]), ("B", "DELETE FROM t", [])],
            id="tabs and spaces before annotations",
        ),
        pytest.param("", [], id="empty file"),
        pytest.param("-- just a comment\n/* and /* a nested */ one */\n\n", [], id="only comments"),
        pytest.param(
            "-- name: class :one\nSELECT 1;\n-- name: match :one\nSELECT 2;\n-- name: type :one\nSELECT 3;",
            [("class", "SELECT 1", []), ("match", "SELECT 2", []), ("type", "SELECT 3", [])],
            id="Python keyword and soft keyword names",
        ),
        pytest.param(
            "-- name: Same :one\nSELECT 1;\n-- name: Same :many\nSELECT 2;",
            [("Same", "SELECT 1", []), ("Same", "SELECT 2", [])],
            id="duplicate names are parsed; the render stage reports them",
        ),
        pytest.param(
            "-- name: Q :one\nSELECT " + "(" * 5000 + "@a" + ")" * 5000 + ";",
            [("Q", "SELECT " + "(" * 5000 + "$1" + ")" * 5000, ["a"])],
            id="deeply nested parentheses",
        ),
        pytest.param(
            "-- name: Q :one\nSELECT " + ", ".join(f"@p{i}" for i in range(3000)) + ";",
            [("Q", "SELECT " + ", ".join(f"${i + 1}" for i in range(3000)), [f"p{i}" for i in range(3000)])],
            id="a very long line with thousands of parameters",
        ),
        pytest.param(
            "-- name: Q :one\nSELECT id FROM t WHERE id IN (sqlc.slice(ids)) AND x NOT IN (sqlc.slice(xs));",
            [("Q", "SELECT id FROM t WHERE id = ANY($1) AND x <> ALL($2)", ["ids", "xs"])],
            id="slices",
        ),
    ],
)
def test_corpus_parses(text: str, expected: list[tuple[str, str, list[str | None]]]) -> None:
    queries = parse_ok(text)
    assert len(queries) == len(expected)
    for query, (name, sql, params) in zip(queries, expected, strict=True):
        assert (query.name, query.sql[: len(sql)], [p.name for p in query.params]) == (name, sql, params)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        pytest.param("-- name: Q :one\nSELECT 'open;\n", "unterminated string literal", 2, 8, id="open quote"),
        pytest.param("-- name: Q :one\nSELECT E'x\\';", "unterminated string literal", 2, 9, id="open E-string"),
        pytest.param('-- name: Q :one\nSELECT "open;', "unterminated quoted identifier", 2, 8, id="open quoted name"),
        pytest.param("-- name: Q :one\nSELECT 1 /* a /* b */;", "unterminated /* comment", 2, 10, id="open comment"),
        pytest.param(
            "-- name: Q :one\nSELECT $f$ body $g$;", "unterminated dollar-quoted string $f$", 2, 8, id="open dollar"
        ),
        pytest.param(
            "-- name: Q :one\nSELECT $1, $" + "9" * 5000 + ";",
            "parameter number too large: a statement takes at most 65535 parameters",
            2,
            12,
            id="regression: a $n of thousands of digits",
        ),
        pytest.param(
            "-- name: Q :one\nSELECT $65536;",
            "parameter number too large: a statement takes at most 65535 parameters",
            2,
            8,
            id="regression: $n beyond the protocol's limit",
        ),
        pytest.param("-- name: Q :one\nSELECT $00;", "parameters are numbered from $1", 2, 8, id="$00"),
        pytest.param("-- name: 1Q :one\nSELECT 1;", "query name '1Q' is not an identifier", 1, 10, id="digit name"),
        pytest.param("SELECT 1;\n-- name: Q :one\nSELECT 1;", "statement without", 1, 1, id="stray statement"),
    ],
)
def test_corpus_errors_are_located(text: str, message: str, line: int, column: int) -> None:
    got_message, got_line, got_column = first_error(text)
    assert got_message.startswith(message)
    assert (got_line, got_column) == (line, column)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"\xef\xbb\xbf-- name: Q :one\nSELECT @a;\n", [("Q", "SELECT $1")], id="BOM"),
        pytest.param(b"-- name: Q :one\r\nSELECT\r\n  @a;\r\n", [("Q", "SELECT\n  $1")], id="CRLF"),
        pytest.param(b"-- name: Q :one\rSELECT @a;\r", [("Q", "SELECT $1")], id="CR"),
        pytest.param(b"", [], id="empty"),
        pytest.param(b"\xef\xbb\xbf", [], id="only a BOM"),
    ],
)
def test_corpus_files_read(scratch: Path, data: bytes, expected: list[tuple[str, str]]) -> None:
    queries = read_checked(scratch, data)
    assert queries is not None
    assert [(q.name, q.sql) for q in queries] == expected


@pytest.mark.parametrize(
    ("data", "message", "line", "column", "detail"),
    [
        pytest.param(
            b"-- name: Q :one\nSELECT '\xff';",
            "file is not valid UTF-8",
            2,
            9,
            "byte 0xff at byte offset 24",
            id="0xff",
        ),
        pytest.param(
            b"\xef\xbb\xbfSELECT '\xc3';",
            "file is not valid UTF-8",
            1,
            9,
            "byte 0xc3 at byte offset 11",
            id="regression: after a BOM the column counts from the text",
        ),
        pytest.param(
            b"-- a\r-- b\rSELECT \x80",
            "file is not valid UTF-8",
            3,
            8,
            "byte 0x80 at byte offset 17",
            id="regression: lone CRs count as newlines before a bad byte",
        ),
        pytest.param(
            b"-- name: Q :one\nSELECT 1 AS a\x00, 2 AS b;",
            "file contains a NUL character",
            2,
            14,
            None,
            id="regression: NUL, which libpq would silently cut the statement at",
        ),
    ],
)
def test_corpus_files_fail_located(
    scratch: Path, data: bytes, message: str, line: int, column: int, detail: str | None
) -> None:
    scratch.write_bytes(data)
    with pytest.raises(UserError) as caught:
        read_source(scratch)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.location is not None
    assert diagnostic.message.startswith(message)
    assert (diagnostic.location.line, diagnostic.location.column) == (line, column)
    assert diagnostic.detail == detail


def test_a_ten_megabyte_file_of_thousands_of_queries(scratch: Path) -> None:
    """Every stage is linear; this would take minutes if one were quadratic (sqlc.slice was)."""
    body = "x" * 1500
    query = (
        "-- name: Get{i} :many\n-- Documentation.\n"
        "SELECT t.id, 'it''s @not $1' AS s, $f$ -- name: X :one @y {body} $f$ AS f /* @c /* $2 */ */\n"
        "FROM t WHERE t.id = @id AND t.tags @> @tags::text[] AND t.name = sqlc.narg(name)\n"
        "  AND t.kind IN (sqlc.slice(kinds)) AND t.other NOT IN (sqlc.slice(others));\n\n"
    )
    text = "".join(query.format(i=i, body=body) for i in range(6000))
    assert len(text) > 10_000_000
    scratch.write_text(text)
    source = read_source(scratch)
    queries, diagnostics = parse_queries(source)
    assert diagnostics == []
    assert len(queries) == 6000
    assert len({q.name for q in queries}) == 6000
    for query in (queries[0], queries[-1]):
        check_query(query)
        assert [p.name for p in query.params] == ["id", "tags", "name", "kinds", "others"]
        assert query.sql.endswith("t.kind = ANY($4) AND t.other <> ALL($5)")


def test_one_statement_with_thousands_of_slices() -> None:
    """Regression: each sqlc.slice looked back over the whole statement (8000 slices: 142 s)."""
    text = "-- name: Q :many\nSELECT 1 WHERE " + " AND ".join(f"x IN (sqlc.slice(a{i}))" for i in range(8000)) + ";"
    [query] = parse_ok(text)
    assert len(query.params) == 8000
    assert query.sql.endswith("x = ANY($7999) AND x = ANY($8000)")
