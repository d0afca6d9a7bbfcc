"""sqlgen ended by a signal: SIGTERM and SIGHUP clean up as Ctrl-C does; SIGKILL leaves nothing for long.

Each test runs `sqlgen generate` as a real subprocess with its own temp folder, waits (with
psutil) until the embedded server of that run is up, sends the signal, and then checks that
no postgres process of that run survives and no data folder is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import write_files

SCHEMA = "CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL);\n"
QUERIES = "".join(f"-- name: Get{i} :one\nSELECT id, body FROM notes WHERE id = @id + {i};\n" for i in range(400))
COMMAND = ["generate", "--schema", "s.sql", "--queries", "q.sql", "--out", "gen"]


@pytest.fixture
def scratch() -> Iterator[Path]:
    # A short path: the server's Unix socket lives under it, and socket paths are limited to ~100 bytes.
    folder = Path(tempfile.mkdtemp(prefix="sqlgen-sig-"))
    yield folder
    for process in servers(folder):  # a failed test must not leave its server for the rest of the suite
        process.kill()


def servers(scratch: Path) -> list[psutil.Process]:
    """PostgreSQL processes working in a folder under `scratch` (the postmaster and its backends)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.name() == "postgres" and (
                str(scratch) in " ".join(process.cmdline()) or process.cwd().startswith(str(scratch))
            ):
                found.append(process)
        except psutil.Error:
            continue
    return found


def data_folders(scratch: Path) -> list[str]:
    return sorted(p.name for p in scratch.iterdir() if p.name.startswith("sqlgen-pg-"))


def start(project: Path, scratch: Path, *command: str) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment["TMPDIR"] = str(scratch)
    return subprocess.Popen(
        [sys.executable, "-m", "sqlgen", *command],
        cwd=project,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_server(scratch: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not any(is_postmaster(p) for p in servers(scratch)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)


def is_postmaster(process: psutil.Process) -> bool:
    try:
        return "-D" in process.cmdline()
    except psutil.Error:
        return False


def wait_until_gone(scratch: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (servers(scratch) or data_folders(scratch)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert servers(scratch) == []
    assert data_folders(scratch) == []


def project_in(tmp_path: Path) -> Path:
    write_files(tmp_path, {"s.sql": SCHEMA, "q.sql": QUERIES})
    return tmp_path


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_sigterm_and_sighup_stop_the_server_and_remove_its_files_as_ctrl_c_does(
    tmp_path: Path, scratch: Path, signum: int, code: int
) -> None:
    process = start(project_in(tmp_path), scratch, *COMMAND)
    wait_for_server(scratch, process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("sqlgen: ") and stderr.endswith("; nothing was written\n")
    wait_until_gone(scratch, 1)  # cleaned up before sqlgen exited: a moment for the last backend to go
    assert not (tmp_path / "gen").exists()


def test_a_killed_run_leaves_no_server_and_no_files_within_seconds(tmp_path: Path, scratch: Path) -> None:
    process = start(project_in(tmp_path), scratch, *COMMAND)
    wait_for_server(scratch, process)
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    wait_until_gone(scratch, 10)


def test_what_a_run_killed_with_its_watchdog_leaves_is_removed_by_the_next_run(tmp_path: Path, scratch: Path) -> None:
    project = project_in(tmp_path)
    process = start(project, scratch, *COMMAND)
    wait_for_server(scratch, process)
    watchdogs = [p for p in psutil.Process(process.pid).children() if "sqlgen.scratch" in p.cmdline()]
    assert watchdogs  # one per folder: the server's data, and the template's while it is first built
    for victim in (*watchdogs, psutil.Process(process.pid)):  # as the OOM killer or `kill -9 -1` would
        victim.kill()
    process.communicate(timeout=60)
    left = servers(scratch)
    assert left and data_folders(scratch)  # lives on: nothing was left to stop it
    again = start(project, scratch, *COMMAND)
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    psutil.wait_procs(left, timeout=10)
    wait_until_gone(scratch, 1)


# Ctrl-C `delay` seconds into the entry point: a real SIGINT, timed by an interval timer from the
# moment the entry point is called (the interpreter's own start-up, before any of sqlgen runs, is
# Python's business: a Ctrl-C there is reported by Python itself).
INTERRUPTED_AT = """
import signal, sys
signal.signal(signal.SIGALRM, lambda *_: signal.raise_signal(signal.SIGINT))
delay = float(sys.argv.pop(1))
sys.argv[0] = "sqlgen"
from sqlgen.__main__ import run  # what the console script does first: two small modules
signal.setitimer(signal.ITIMER_REAL, delay)
try:
    run()
finally:  # a timer still pending once run() is done is no Ctrl-C of the run's
    signal.setitimer(signal.ITIMER_REAL, 0)
"""


@pytest.mark.parametrize("delay", [0.0001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.06, 0.09, 0.13, 0.2, 0.3])
def test_ctrl_c_at_any_moment_while_sqlgen_loads_or_runs_is_a_clean_exit_130(tmp_path: Path, delay: float) -> None:
    project_in(tmp_path)
    command = [sys.executable, "-c", INTERRUPTED_AT, str(delay), "generate", "--offline", *COMMAND[1:]]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in run.stderr, run.stderr
    if run.returncode != 130:  # it finished first: --offline without a cache is a quick user error
        assert run.returncode == 1 and "--offline needs the describe cache" in run.stderr
    else:
        assert run.stderr.endswith("sqlgen: interrupted; nothing was written\n"), run.stderr


def test_the_console_script_is_the_guarded_entry_point() -> None:
    from importlib.metadata import entry_points

    [script] = [e for e in entry_points(group="console_scripts") if e.name == "sqlgen"]
    assert script.value == "sqlgen.__main__:run"
