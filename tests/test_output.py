"""Writing the output folder: refused contents, symlinks, modes, and a swap that is safe at every instant.

The crash tests run `write_output` in a real subprocess that signals itself (SIGKILL, or a
deferred SIGINT/SIGTERM) at a chosen step of the swap, through a hook only the suite sets,
then check what is on disk and that the next write recovers.
"""

from __future__ import annotations

import os
import py_compile
import signal
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlgen.errors import UserError
from sqlgen.output import GENERATED_MARK, read_output, write_output

OLD = {"__init__.py": f"{GENERATED_MARK}. DO NOT EDIT.\n", "a.py": f"{GENERATED_MARK}. DO NOT EDIT.\nA = 1\n"}
NEW = {"__init__.py": f"{GENERATED_MARK}. DO NOT EDIT.\n", "b.py": f"{GENERATED_MARK}. DO NOT EDIT.\nB = 2\n"}


def siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


def test_a_generated_folder_with_compiled_modules_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    write_output(out, OLD)
    py_compile.compile(str(out / "a.py"), cfile=str(out / "__pycache__" / "a.cpython-311.pyc"))
    py_compile.compile(str(out / "a.py"), cfile=str(out / "__pycache__" / "a.cpython-312.opt-1.pyc"))
    assert write_output(out, NEW)
    assert read_output(out) == NEW
    assert not (out / "__pycache__").exists()
    assert siblings(out) == []


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()


FOREIGN = {
    "an empty folder": ("empty", lambda p: p.mkdir()),
    "a FIFO": ("pipe", _fifo),
    "a symbolic link": ("link.py", lambda p: p.symlink_to("a.py")),
    "a dangling symbolic link": ("gone", lambda p: p.symlink_to("nowhere")),
    "a socket": ("sock", _socket),
    "a user file under __pycache__": ("__pycache__/notes.txt", lambda p: p.write_text("mine")),
    "an orphaned .pyc": ("__pycache__/other.cpython-311.pyc", lambda p: p.write_bytes(b"\0")),
    "a symlinked .pyc": ("__pycache__/a.cpython-311.pyc", lambda p: p.symlink_to("/etc/hostname")),
    "a file without the header": ("sub/notes.py", lambda p: p.write_text("x = 1\n")),
}


@pytest.mark.parametrize("what", FOREIGN, ids=list(FOREIGN))
def test_what_sqlgen_did_not_write_is_refused_and_kept(tmp_path: Path, what: str) -> None:
    out = tmp_path / "gen"
    write_output(out, OLD)
    name, make = FOREIGN[what]
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    make(out / name)
    with pytest.raises(UserError) as raised:
        write_output(out, NEW)
    message = raised.value.diagnostics[0].message
    assert f"gen/{name}" in message and "sqlgen did not write" in message
    assert os.path.lexists(out / name)
    assert {k: v for k, v in read_output(out).items() if k in OLD} == OLD
    assert siblings(out) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=4, unique=True))
def test_any_layout_of_generated_files_and_their_pyc_is_replaced(
    tmp_path_factory: pytest.TempPathFactory, names: list[str]
) -> None:
    out = tmp_path_factory.mktemp("layout") / "gen"
    files = {f"{n}.py": f"{GENERATED_MARK}. DO NOT EDIT.\nX = {i}\n" for i, n in enumerate(names)}
    files["pkg/__init__.py"] = f"{GENERATED_MARK}. DO NOT EDIT.\n"
    write_output(out, files)
    for name in names:
        py_compile.compile(str(out / f"{name}.py"), cfile=str(out / "__pycache__" / f"{name}.cpython-312.pyc"))
    assert write_output(out, NEW)
    assert read_output(out) == NEW


def test_an_out_that_is_a_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real" / "gen"
    write_output(real, OLD)
    link = tmp_path / "gen"
    link.symlink_to(real)
    assert write_output(link, NEW)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert read_output(real) == NEW == read_output(link)
    assert siblings(real) == []
    (real / "mine.txt").write_text("x")  # the target's contents are checked as any out's are
    with pytest.raises(UserError):
        write_output(link, OLD)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_a_new_folder_gets_the_umask_and_a_replaced_one_keeps_its_mode(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        out = tmp_path / "gen"
        write_output(out, OLD)
        assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
        assert stat.S_IMODE((out / "a.py").stat().st_mode) == 0o666 & ~umask
        out.chmod(0o750)
        write_output(out, NEW)
        assert stat.S_IMODE(out.stat().st_mode) == 0o750
    finally:
        os.umask(previous)


SWAPPER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from sqlgen.output import write_output
    try:
        write_output(Path(sys.argv[1]), json.loads(sys.argv[2]))
    except KeyboardInterrupt:
        print("interrupted")
        sys.exit(130)
    print("done")
    """
)


def swap_in_subprocess(
    out: Path, files: dict[str, str], signal_at: str, exchange: bool
) -> subprocess.CompletedProcess[str]:
    import json

    environment = dict(os.environ, _SQLGEN_TEST_SIGNAL_AT=signal_at)
    if not exchange:
        environment["_SQLGEN_TEST_NO_EXCHANGE"] = "1"
    return subprocess.run(
        [sys.executable, "-c", SWAPPER, str(out), json.dumps(files)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


STEPS = {True: ["staged", "exchanged"], False: ["staged", "retired"]}


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2 exchange", "two renames"])
def test_a_run_killed_at_any_step_of_the_swap_leaves_a_state_the_next_run_recovers(
    tmp_path: Path, exchange: bool
) -> None:
    for step in STEPS[exchange]:
        out = tmp_path / step / "gen"
        write_output(out, OLD)
        killed = swap_in_subprocess(out, NEW, f"{step}:KILL", exchange)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        if step == "retired":  # killed between the two renames: only the retired copy is left
            assert not out.exists() and any((p / "gen").is_dir() for p in out.parent.glob(".gen.old-*"))
        assert read_output(out) in (OLD, NEW)  # reading recovers a folder retired by the two renames
        assert write_output(out, NEW) or read_output(out) == NEW
        assert read_output(out) == NEW
        assert siblings(out) == [], step


@pytest.mark.parametrize("signal_name", ["INT", "TERM", "HUP"])
@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2 exchange", "two renames"])
def test_a_signal_during_the_swap_waits_until_it_is_done(tmp_path: Path, exchange: bool, signal_name: str) -> None:
    step = STEPS[exchange][1]  # the instant between the renames, or right after the exchange
    out = tmp_path / "gen"
    write_output(out, OLD)
    if signal_name != "INT":  # no handler: the deferred signal ends the process once the swap is done
        run = swap_in_subprocess(out, NEW, f"{step}:{signal_name}", exchange)
        assert run.returncode == -getattr(signal, f"SIG{signal_name}"), run.stderr
    else:
        run = swap_in_subprocess(out, NEW, f"{step}:{signal_name}", exchange)
        assert run.returncode == 130 and run.stdout == "interrupted\n", run.stderr
    assert read_output(out) == NEW
    assert siblings(out) == []


def test_leftovers_holding_files_of_yours_are_not_removed(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    write_output(out, OLD)
    stray = tmp_path / ".gen.new-feedbeef"
    stray.mkdir()
    (stray / "mine.txt").write_text("x")
    write_output(out, NEW)
    assert (stray / "mine.txt").read_text() == "x"
