"""sqlgen's Python API: what the command line calls, and what build scripts and tools can call.

    import sqlgen

    for package in sqlgen.generate("path/to/project"):  # as `sqlgen generate` there
        print(package.out, package.queries)

`generate` writes each package's folder and its describe cache; `check` writes nothing and
says which generated files are stale; `describe` writes nothing and returns the project's
IR (`sqlgen.ir`): every query's types, nullability and cardinality, and the schema's objects.
They raise `sqlgen.errors.UserError` (its `diagnostics` say what, where, and what to do)
when a query, the schema or the config is wrong, and `sqlgen.errors.ToolError` when sqlgen
could not run (no database).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlgen.config import Config, Overrides, load_configs
from sqlgen.errors import Diagnostic, errors_only
from sqlgen.ir import Project
from sqlgen.output import check_replaceable, read_output, write_output
from sqlgen.pipeline import Generated, QueriesRejected, describe_packages, generate_packages
from sqlgen.timing import NO_TIMER, Timer


@dataclass(frozen=True)
class Package:
    """One generated package of a project."""

    name: str | None  # its name in a configuration of several packages
    out: Path  # the folder it is written to
    files: Mapping[str, str]  # relative path → text, as written (or as it would be)
    queries: int  # the queries it holds
    cached: int  # of them, those whose types came from the describe cache
    changed: bool  # generate: the folder was rewritten; check: it is stale
    stale: tuple[str, ...] = ()  # check: the files that differ from what is in `out`
    diagnostics: tuple[Diagnostic, ...] = ()  # notes, and with keep_going the errors of the queries left out

    @property
    def errors(self) -> list[Diagnostic]:
        return errors_only(list(self.diagnostics))


def configure(
    project: str | Path = ".", *, config: str | Path | None = None, database_url: str | None = None
) -> tuple[Config, ...]:
    """The packages the configuration in the folder `project` names (or the file `config`:
    pyproject.toml's [tool.sqlgen], or sqlc.yaml/sqlc.json), as the command line reads them."""
    overrides = Overrides(config=Path(config) if config is not None else None, database_url=database_url)
    return load_configs(overrides, cwd=Path(project))


def generate(
    project: str | Path = ".",
    *,
    config: str | Path | None = None,
    database_url: str | None = None,
    offline: bool = False,
    keep_going: bool = False,
) -> list[Package]:
    """Check every query and write every package of the project (and its describe cache), as
    `sqlgen generate` does; with `keep_going`, the packages hold the queries that check and each
    package's `errors` names the others."""
    configs = configure(project, config=config, database_url=database_url)
    try:
        results = generate_packages(configs, offline=offline, keep_going=keep_going)
    except QueriesRejected as err:
        for update in err.cache_updates:  # what did check need not be described again
            update.write()
        raise
    return [_package(c, r, write_package(c, r)) for c, r in zip(configs, results, strict=True)]


def check(
    project: str | Path = ".",
    *,
    config: str | Path | None = None,
    database_url: str | None = None,
    offline: bool = False,
) -> list[Package]:
    """What `generate` would write, compared with what is in each package's folder; writes
    nothing. A package is `changed` when its folder is stale (`stale` names the files)."""
    configs = configure(project, config=config, database_url=database_url)
    packages = []
    for config_, result in zip(configs, generate_packages(configs, offline=offline), strict=True):
        stale = stale_files(config_.out, result.files)
        packages.append(_package(config_, result, bool(stale), stale))
    return packages


def describe(
    project: str | Path = ".",
    *,
    config: str | Path | None = None,
    database_url: str | None = None,
    offline: bool = False,
) -> Project:
    """The IR of every package of the project (`sqlgen.ir.Project`), as `sqlgen describe --json`
    prints it; from the describe cache alone with `offline`. Writes nothing."""
    return describe_packages(configure(project, config=config, database_url=database_url), offline=offline)


def write_package(config: Config, generated: Generated, timer: Timer = NO_TIMER) -> bool:
    """Write a package's folder, then what its describe cache learned; whether the folder changed."""
    with timer.stage("write"):
        changed = write_output(config.out, generated.files)
    if generated.cache is not None:
        with timer.stage("cache write"):
            generated.cache.write()
    return changed


def stale_files(out: Path, files: Mapping[str, str]) -> tuple[str, ...]:
    """The names of the files in `out` that are not `files` (missing, different, or no longer made)."""
    return differing(current_output(out), files)


def current_output(out: Path) -> dict[str, str]:
    """What `out` holds; UserError for a folder `generate` would refuse to replace (say so, not "stale")."""
    check_replaceable(out)
    return read_output(out)


def differing(current: Mapping[str, str], files: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(name for name in sorted(set(current) | set(files)) if current.get(name) != files.get(name))


def _package(config: Config, result: Generated, changed: bool, stale: tuple[str, ...] = ()) -> Package:
    return Package(
        config.name, config.out, result.files, result.queries, result.cached, changed, stale, result.diagnostics
    )
