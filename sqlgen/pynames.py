"""Checking that the Python names a config imports exist, without running the user's code.

An override (`"pg_catalog.jsonb" = "notes_app.documents.NoteMeta"`) becomes an import in the
generated code; a typo there would pass `generate` and `check` and fail only when the app
imports the package. So `generate` looks for each imported module and name first, the way
Python would find them but without importing anything: modules are located with
`importlib.machinery.PathFinder` one package level at a time (nothing is executed; a
package's `__init__` is not run), and the name is looked for among the module's top-level
definitions in its source, read with `ast`. Where the source cannot say (an extension module,
a module-level `__getattr__`, a `from … import *`), the name is taken to exist.

>>> import sys
>>> missing_name("from fractions import Fraction", [Path(p) for p in sys.path])
>>> missing_name("from fractions import Fractoin", [Path(p) for p in sys.path])
'fractions has no Fractoin'
>>> missing_name("from fractionz import Fraction", [Path(p) for p in sys.path])
'there is no module fractionz'
"""

from __future__ import annotations

import ast
import importlib.machinery
import sys
from collections.abc import Iterator, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path

from sqlgen.config import Config
from sqlgen.errors import Diagnostic
from sqlgen.typemap import python_annotation


def check_override_imports(config: Config) -> list[Diagnostic]:
    """A diagnostic, at its config key, for each override whose Python type names a missing module or class."""
    search = [config.root, config.root / "src", *(Path(p) for p in sys.path if p)]

    diagnostics = []
    for override in config.overrides:
        _, imports = python_annotation(override.python_type)
        for line in sorted(imports):
            problem = missing_name(line, search)
            if problem is not None:
                diagnostics.append(
                    Diagnostic(
                        f"the override for {override.target!r} names {override.python_type!r}, but {problem}",
                        override.location,
                        hint="generated code imports it: name a module of your project (its root or src/) or of an "
                        "installed package, and a class or alias defined at the top of that module",
                    )
                )
    return diagnostics


def missing_name(import_line: str, search: Sequence[Path]) -> str | None:
    """What is missing for `from module import Name` (None when it is there, or cannot be known)."""
    words = import_line.split()
    if len(words) != 4 or words[0] != "from" or words[2] != "import":
        return None  # `import module`: python_annotation only writes it for modules it knows
    module, name = words[1], words[3]
    spec, problem = find_module(module, search)
    if spec is None:
        return problem
    if spec.submodule_search_locations is not None and find_module(f"{module}.{name}", search)[0] is not None:
        return None  # a submodule
    defined = top_level_names(spec)
    if defined is None or name in defined:
        return None
    return f"{module} has no {name}"


def find_module(dotted: str, search: Sequence[Path]) -> tuple[ModuleSpec | None, str | None]:
    """The spec of `dotted`, found level by level without importing it; else None and why."""
    parts = dotted.split(".")
    locations: list[str] | None = [str(p) for p in search]
    spec: ModuleSpec | None = None
    for depth in range(len(parts)):
        name = ".".join(parts[: depth + 1])
        if locations is None:
            return None, f"{'.'.join(parts[:depth])} is a module, not a package: there is no {name}"
        spec = importlib.machinery.PathFinder.find_spec(name, locations)
        if spec is None and depth == 0:
            spec = _other_finders(name)
        if spec is None:
            return None, f"there is no module {name}"
        locations = list(spec.submodule_search_locations) if spec.submodule_search_locations is not None else None
    return spec, None


def _other_finders(name: str) -> ModuleSpec | None:
    """A top-level module found by the interpreter's other finders: built-in, frozen, or an editable install's."""
    for finder in sys.meta_path:
        if finder is importlib.machinery.PathFinder:
            continue
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(name, None)
        except Exception:  # a third-party finder that fails is not the user's mistake
            continue
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    return None


def top_level_names(spec: ModuleSpec) -> set[str] | None:
    """The names a module's source binds at its top level; None when its source cannot tell."""
    origin = spec.origin
    if origin is None or not origin.endswith(".py"):
        return None  # a namespace package, an extension module, a built-in
    try:
        tree = ast.parse(Path(origin).read_bytes(), origin)
    except (OSError, SyntaxError, ValueError):
        return None
    names: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        elif sys.version_info >= (3, 12) and isinstance(node, ast.TypeAlias):
            names.add(node.name.id)
    if "__getattr__" in names:
        return None
    return names


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """A module's statements, and those inside its top-level `if`, `try` and `with` blocks."""
    for node in body:
        yield node
        if isinstance(node, ast.If | ast.With | ast.AsyncWith):
            yield from _top_level(node.body)
            yield from _top_level(getattr(node, "orelse", []))
        elif isinstance(node, ast.Try):
            yield from _top_level(node.body)
            for handler in node.handlers:
                yield from _top_level(handler.body)
            yield from _top_level(node.orelse)
            yield from _top_level(node.finalbody)
