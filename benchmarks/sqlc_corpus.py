"""sqlgen over sqlc's end-to-end corpus: how many of the PostgreSQL cases sqlc accepts sqlgen accepts.

    git -C SQLC_REPO archive HEAD internal/endtoend/testdata | tar -x -C /tmp/sqlc
    python benchmarks/sqlc_corpus.py /tmp/sqlc/internal/endtoend/testdata [-v] [-k SUBSTRING] [-j N]

sqlc's corpus is a folder per case, each with a `sqlc.json`/`sqlc.yaml`/`sqlc.yml`; an
`exec.json` may name another command than `generate` (`vet`, `diff`, …) or contexts, and a
`stderr.txt` (or `stderr/base.txt`) holds the error sqlc expects. A case counts when it is
run by `sqlc generate`, expects no error, and every one of its configured packages uses the
`postgresql` engine. For each of its packages sqlgen generates in a temporary folder, from
the package's `schema` and `queries` as given (paths relative to the case, globs expanded),
on a fresh embedded server. A case is accepted when every package generates. Cases whose
schema and query files are byte for byte the same (the corpus repeats most of them once per
Go driver: `pgx/v4`, `pgx/v5`, `stdlib`) are run, and counted, once.

With `--configured`, each case (with the folders above it in the corpus) is instead copied to
a temporary folder and generated there with `sqlgen generate` and no flags, as a user runs
it in their repository: sqlgen reads the case's own sqlc config (globs, overrides,
`rename`, …) and writes every package it names.

Prints accepted / total, then the failures grouped by the first diagnostic's message (with
names and numbers blanked, so that one cause is one line), with the cases under each.
The corpus is sqlc's: read it from a checkout, never copy it into this repository.
"""

from __future__ import annotations

import argparse
import collections
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CONFIG_NAMES = ("sqlc.json", "sqlc.yaml", "sqlc.yml")
SQLGEN = [sys.executable, "-m", "sqlgen", "generate", "-q", "--format", "json", "--color", "never"]


@dataclass(frozen=True)
class Package:
    schema: tuple[Path, ...]
    queries: tuple[Path, ...]


@dataclass(frozen=True)
class Case:
    name: str  # its folder, relative to the corpus
    packages: tuple[Package, ...]
    folder: Path


def find_cases(corpus: Path) -> tuple[list[Case], collections.Counter[str]]:
    """The PostgreSQL cases sqlc generates without an error, and why each other folder was left out."""
    cases: list[Case] = []
    skipped: collections.Counter[str] = collections.Counter()
    seen: set[str] = set()
    for config_path in sorted(p for name in CONFIG_NAMES for p in corpus.rglob(name)):
        folder = config_path.parent
        name = folder.relative_to(corpus).as_posix()
        reason = _left_out(folder)
        config = _read_config(config_path) if reason is None else None
        entries = _entries(config) if config is not None else []
        if reason is None and config is None:
            reason = "unreadable config"
        if reason is None and not entries:
            reason = "no packages"
        engines = {str(entry.get("engine", "")).lower() for entry in entries}
        if reason is None and engines != {"postgresql"}:
            reason = "not (only) postgresql"
        if reason is not None:
            skipped[reason] += 1
            continue
        case = Case(name, tuple(_package(folder, entry) for entry in entries), folder)
        if _inputs(case) in seen:
            skipped["same inputs as another case"] += 1
            continue
        seen.add(_inputs(case))
        cases.append(case)
    return cases, skipped


def _inputs(case: Case) -> str:
    """A digest of every schema and query file of `case`, in order."""
    digest = hashlib.sha256()
    for package in case.packages:
        for group in (package.schema, package.queries):
            for path in group:
                for file in sorted(path.rglob("*.sql")) if path.is_dir() else [path]:
                    digest.update(file.read_bytes() if file.is_file() else b"missing")
                    digest.update(b"\0")
            digest.update(b"\1")
    return digest.hexdigest()


def _left_out(folder: Path) -> str | None:
    exec_file = folder / "exec.json"
    if exec_file.is_file():
        spec = json.loads(exec_file.read_text())
        if spec.get("command", "generate") != "generate":
            return f"command {spec['command']}"
        if spec.get("process"):
            return "needs a plugin process"
        contexts = spec.get("contexts") or ["base"]
        if not {"base", "managed-db"} & set(contexts):
            return "other contexts"
    for stderr in (folder / "stderr" / "base.txt", folder / "stderr.txt"):
        if stderr.is_file() and stderr.read_text().strip():
            return "sqlc expects an error"
    return None


def _read_config(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text()
        loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _entries(config: dict[str, Any]) -> list[dict[str, Any]]:
    entries = config.get("sql") if str(config.get("version")) == "2" else config.get("packages")
    return [e for e in entries or [] if isinstance(e, dict)]


def _paths(folder: Path, value: Any) -> tuple[Path, ...]:
    listed = [value] if isinstance(value, str) else list(value or [])
    paths: list[Path] = []
    for item in listed:
        pattern = str(folder / item)
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        paths.extend(Path(m) for m in matches)
    return tuple(paths)


def _package(folder: Path, entry: dict[str, Any]) -> Package:
    return Package(_paths(folder, entry.get("schema")), _paths(folder, entry.get("queries")))


def run_case(case: Case, extra: list[str], configured: bool = False) -> str | None:
    """None when sqlgen generates every package of `case`, else the first diagnostic of the first failure."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if configured:  # in a copy of the case, reading its own sqlc config
        with tempfile.TemporaryDirectory(prefix="sqlgen-sqlc-") as work:
            top = case.name.split("/")[0]  # a config may name files in the folders above its own
            corpus = case.folder.parents[len(Path(case.name).parts) - 1]
            shutil.copytree(corpus / top, Path(work) / top)
            root = Path(work) / case.name
            result = subprocess.run([*SQLGEN, *extra], cwd=root, env=environment, capture_output=True, text=True)
        return None if result.returncode == 0 else _first_message(result.stdout, result.stderr)
    for package in case.packages:
        with tempfile.TemporaryDirectory(prefix="sqlgen-sqlc-") as work:
            command = [*SQLGEN, *extra, "--out", str(Path(work) / "out")]
            command += [f"--schema={p}" for p in package.schema]
            command += [f"--queries={p}" for p in package.queries]
            result = subprocess.run(command, cwd=work, env=environment, capture_output=True, text=True)
        if result.returncode != 0:
            return _first_message(result.stdout, result.stderr)
    return None


def _first_message(stdout: str, stderr: str) -> str:
    try:
        diagnostics = json.loads(stdout.strip().splitlines()[-1])["diagnostics"]
        errors = [d for d in diagnostics if d.get("severity", "error") == "error"]
        if errors:
            return str(errors[0]["message"])
    except (ValueError, IndexError, KeyError, TypeError):
        pass
    return (stderr.strip().splitlines() or ["(no output)"])[-1]


def reason(message: str) -> str:
    """`relation "x" does not exist` and `relation "y" does not exist` are one reason."""
    message = re.sub(r'"[^"]*"', '"…"', message)
    message = re.sub(r"`[^`]*`", "`…`", message)
    message = re.sub(r"\b\d+\b", "N", message)
    return re.sub(r"\b(query|function|column|type|table) [A-Za-z_][\w.]*", r"\1 …", message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="sqlc's internal/endtoend/testdata folder")
    parser.add_argument("-k", dest="only", help="run only the cases whose folder contains this")
    parser.add_argument("-j", dest="jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("-v", dest="verbose", action="store_true", help="print each failing case's message")
    parser.add_argument(
        "--configured", action="store_true", help="run `sqlgen generate` with no flags in a copy of each case"
    )
    parser.add_argument("extra", nargs="*", help="more sqlgen generate flags (after --)")
    args = parser.parse_args()
    cases, skipped = find_cases(args.corpus)
    if args.only:
        cases = [c for c in cases if args.only in c.name]
    with ThreadPoolExecutor(args.jobs) as pool:
        outcomes = list(pool.map(lambda case: run_case(case, args.extra, args.configured), cases))
    failures = [(case, message) for case, message in zip(cases, outcomes, strict=True) if message is not None]
    print(f"left out: {', '.join(f'{why}: {n}' for why, n in sorted(skipped.items()))}")
    print(f"accepted: {len(cases) - len(failures)} / {len(cases)} PostgreSQL cases sqlc accepts")
    by_reason: dict[str, list[tuple[Case, str]]] = collections.defaultdict(list)
    for case, message in failures:
        by_reason[reason(message)].append((case, message))
    for why, items in sorted(by_reason.items(), key=lambda item: (-len(item[1]), item[0])):
        print(f"\n{len(items):4}  {why}")
        for case, message in items:
            print(f"        {case.name}" + (f": {message}" if args.verbose else ""))


if __name__ == "__main__":
    main()
