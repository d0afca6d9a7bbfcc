"""A schema file using what a later file creates: the error says which file, on a real server."""

from __future__ import annotations

import pytest
from conftest import Databases
from hypothesis import given
from hypothesis import strategies as st

from sqlgen.database import apply_schema, connect
from sqlgen.errors import Diagnostic, SourceText, UserError
from sqlgen.schema_order import created_later


def applied(databases: Databases, files: dict[str, str]) -> Diagnostic:
    with connect(databases.create()) as conn, pytest.raises(UserError) as caught:
        apply_schema(conn, [SourceText(path, text) for path, text in files.items()])
    [diagnostic] = caught.value.diagnostics
    return diagnostic


def test_a_table_and_a_type_created_by_a_later_file(databases: Databases) -> None:
    table = applied(
        databases,
        {
            "db/001_init.sql": "CREATE TABLE authors (id int PRIMARY KEY);\n",
            "db/002_reviews.sql": "CREATE TABLE reviews (id int, book_id int REFERENCES books);\n",
            "db/003_notes.sql": "-- books come next\nCREATE TABLE notes (body text DEFAULT 'CREATE TABLE books');\n",
            "db/004_books.sql": "\n\nCREATE TABLE IF NOT EXISTS public.books (id int PRIMARY KEY);\n",
        },
    )
    assert table.message == 'relation "books" does not exist' and table.location is not None
    assert table.location.path == "db/002_reviews.sql"
    assert table.hint is not None and table.hint.startswith('"books" is created later, by db/004_books.sql:3: ')

    kind = applied(
        databases,
        {"a.sql": "CREATE TABLE t (m mood);\n", "b.sql": "CREATE TYPE mood AS ENUM ('ok');\n"},
    )
    assert kind.message == 'type "mood" does not exist'
    assert kind.hint is not None and "created later, by b.sql:1" in kind.hint
    assert "apply in the order listed, a folder's in natural name order; list or rename them" in kind.hint


def test_nothing_is_claimed_when_no_later_file_creates_it(databases: Databases) -> None:
    diagnostic = applied(
        databases,
        {"a.sql": "SELECT * FROM missing;\n", "b.sql": "-- CREATE TABLE missing\nCREATE VIEW missing_v AS SELECT 1;\n"},
    )
    assert diagnostic.message == 'relation "missing" does not exist'
    assert diagnostic.hint is None


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)


@given(name=names, quoted=st.booleans(), other=names)
def test_the_name_is_matched_as_postgresql_folds_it(name: str, quoted: bool, other: str) -> None:
    """Unquoted names fold to lower case, quoted ones are exact; PostgreSQL prints the folded name."""
    written = f'"{name}"' if quoted else name
    resolved = name if quoted else name.lower()
    later = [SourceText("later.sql", f"CREATE TABLE {written} (id int);\n")]
    hit = created_later(Diagnostic(f'relation "{resolved}" does not exist'), later)
    assert hit.hint is not None and "later.sql:1" in hit.hint
    if other.lower() != name.lower():
        miss = created_later(Diagnostic(f'relation "{other.lower()}" does not exist'), later)
        assert miss.hint is None
