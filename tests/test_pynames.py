"""Overrides naming a module or class that does not exist fail at generate time, at their config key,
and the check runs none of the user's code."""

from __future__ import annotations

import keyword
import sys
import tempfile
from pathlib import Path

from conftest import run_sqlgen, write_files
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlgen.pynames import missing_name

PACKAGE = {
    # Importing the package would leave a mark: the check must not.
    "notes_app/__init__.py": "from pathlib import Path\nPath('imported.txt').write_text('ran')\n",
    "notes_app/documents.py": (
        "from pydantic import BaseModel\n\n\nclass NoteMeta(BaseModel):\n    tags: list[str]\n\n\n"
        "try:\n    from typing import TypeAlias\nexcept ImportError:\n    pass\nTags: TypeAlias = list[str]\n"
    ),
    "db/schema/001.sql": "CREATE TABLE notes (id int PRIMARY KEY, meta jsonb NOT NULL);\n",
    "db/queries/notes.sql": "-- name: GetNote :one\nSELECT id, meta FROM notes WHERE id = @id;\n",
}


def project(tmp_path: Path, python_type: str) -> None:
    pyproject = (
        '[tool.sqlgen]\nschema = "db/schema"\nqueries = "db/queries"\nout = "generated"\n\n'
        f'[tool.sqlgen.overrides]\n"public.notes.meta" = "{python_type}"\n'
    )
    write_files(tmp_path, {**PACKAGE, "pyproject.toml": pyproject})


def test_a_misspelt_module_is_an_error_at_the_override_key(tmp_path: Path) -> None:
    project(tmp_path, "notes_app.documnts.NoteMeta")
    result = run_sqlgen("generate", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        "pyproject.toml:7:1: error: the override for 'public.notes.meta' names 'notes_app.documnts.NoteMeta', "
        "but there is no module notes_app.documnts"
    ) in result.stderr
    assert "hint: generated code imports it" in result.stderr
    assert not (tmp_path / "generated").exists()
    assert not (tmp_path / "imported.txt").exists()  # nothing of the project was run


def test_a_misspelt_class_and_a_missing_package(tmp_path: Path) -> None:
    project(tmp_path, "dict[str, notes_app.documents.NoteMta]")
    result = run_sqlgen("generate", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1
    assert "but notes_app.documents has no NoteMta" in result.stdout
    project(tmp_path, "nots_app.documents.NoteMeta")
    assert "but there is no module nots_app" in run_sqlgen("generate", cwd=tmp_path).stderr
    assert not (tmp_path / "imported.txt").exists()


def test_names_that_exist_generate(tmp_path: Path) -> None:
    project(tmp_path, "notes_app.documents.NoteMeta")
    result = run_sqlgen("generate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "from notes_app.documents import NoteMeta" in (tmp_path / "generated" / "notes.py").read_text()
    assert not (tmp_path / "imported.txt").exists()


identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(lambda n: not keyword.iskeyword(n))


@settings(max_examples=60, deadline=None)
@given(package=identifiers, module=identifiers, defined=st.sets(identifiers, min_size=1, max_size=4), asked=identifiers)
def test_a_name_is_missing_exactly_when_the_module_does_not_define_it(
    package: str, module: str, defined: set[str], asked: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        source = "".join(f"class {name}:\n    pass\n" for name in sorted(defined))
        write_files(
            root, {f"{package}/__init__.py": "raise RuntimeError('never imported')\n", f"{package}/{module}.py": source}
        )
        search = [root, *(Path(p) for p in sys.path if p)]
        problem = missing_name(f"from {package}.{module} import {asked}", search)
        assert (problem is None) == (asked in defined), problem
        if problem is not None:
            assert problem == f"{package}.{module} has no {asked}"
        assert missing_name(f"from {package}.{module}x import {asked}", search) == (
            f"there is no module {package}.{module}x"
        )
