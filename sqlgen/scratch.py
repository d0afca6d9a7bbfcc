"""The embedded server's folders never outlive the run that made them, however it ends.

Each folder (a server's data directory, a template being built) is named after the process
that owns it: `<prefix><pid>-<start time>-<random>`. While it works in one, sqlgen keeps a
watchdog: a small child process in a session of its own, reading a pipe only sqlgen holds
open. When sqlgen ends in any way — normally, Ctrl-C, SIGTERM, SIGKILL, the OOM killer, a CI
job cancelled — the kernel closes the pipe; the watchdog then stops every process still
working in the folder (the server `pg_ctl` started, its backends, an `initdb`) and removes
it. Should the watchdog die too, the next run removes folders whose owner is gone (`sweep`).

(`PR_SET_PDEATHSIG` would not do: `pg_ctl` starts the server as its own daemon, in a new
session, so the server is no child of sqlgen's.)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

_STOP_WAIT = 5.0  # seconds a server gets to shut down after SIGQUIT before it is killed
_SETTLE = 0.3  # a process starting in the folder while it is being cleaned (pg_ctl's server) is caught this long


def _started(pid: int) -> int | None:
    """When process `pid` started, or None when there is none: on Linux in clock ticks since boot
    (`/proc/<pid>/stat`), which no change of the wall clock moves; elsewhere in whole seconds since
    the epoch."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2 :].split()[19])  # field 22, starttime; comm may hold spaces
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None  # Linux, and no such process
    except (OSError, ValueError, IndexError):
        pass
    return _wall_started(pid)


def _wall_started(pid: int) -> int | None:
    import psutil

    try:
        return int(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


# A process's start in wall-clock seconds is boot time plus its ticks since boot, and the kernel's
# boot time moves when the wall clock is stepped (a resumed laptop or VM, NTP): a name made of it
# (by this sqlgen elsewhere, or an earlier one) still names its live owner within this margin.
_WALL_CLOCK_MARGIN = 7 * 24 * 3600


def new_folder(parent: Path, prefix: str) -> Path:
    """A new empty folder in `parent` owned by this process (see the module's docstring)."""
    owner = f"{os.getpid()}-{_started(os.getpid())}"
    while True:
        folder = parent / f"{prefix}{owner}-{secrets.token_hex(4)}"
        try:
            folder.mkdir(mode=0o700)
            return folder
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue


def owner_alive(folder: Path, prefix: str) -> bool:
    """Whether the process named in `folder`'s name still runs (True when the name names none).

    A live process with that number counts as the owner when its start is the one in the name,
    or, for a name in wall-clock seconds, within `_WALL_CLOCK_MARGIN` of it: a folder of a live
    run must never be swept, and a number reused by a process started that close is rare."""
    try:
        pid, started, _ = folder.name[len(prefix) :].split("-")
        named, process = int(started), int(pid)
    except ValueError:  # not a name this module gave: someone else's, leave it
        return True
    now = _started(process)
    if now is None:
        return False
    if now in (named, named + 1):  # whole seconds: allow a rounding step
        return True
    wall = _wall_started(process)
    return wall is not None and abs(wall - named) <= _WALL_CLOCK_MARGIN


def sweep(parent: Path, prefix: str) -> None:
    """Stop and remove what dead runs left in `parent`: `prefix` folders whose owner is gone."""
    try:
        leftovers = [p for p in parent.glob(f"{prefix}*") if p.is_dir() and not p.is_symlink()]
    except OSError:
        return
    for folder in leftovers:
        if not owner_alive(folder, prefix):
            remove(folder)


def remove(folder: Path) -> None:
    """Stop every process working in `folder`, then delete it."""
    stop_processes_in(folder)
    shutil.rmtree(folder, ignore_errors=True)


def stop_processes_in(folder: Path) -> None:
    """Stop every process still working in `folder`: a server `pg_ctl` started that sqlgen never got a
    handle for, its backends, the `postgres` children of an `initdb`, `pg_ctl` itself. The server is
    asked first (SIGQUIT: an immediate shutdown, which also frees its shared memory), then whatever
    is left is killed; this repeats until nothing has worked there for a moment. Nothing on them is kept."""
    if not folder.exists():
        return
    import psutil  # only cleaning up needs it

    def works_there(process: psutil.Process) -> bool:  # a backend works in its data directory
        return str(folder) in " ".join(process.cmdline()) or process.cwd() == str(folder)

    deadline = time.monotonic() + 2 * _STOP_WAIT
    quiet_since = None
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, psutil.Error):  # no server, or gone already
            server = psutil.Process(int((folder / "postmaster.pid").read_text().split("\n", 1)[0]))
            if works_there(server):  # not a stale file naming a process that has the number now
                server.send_signal(signal.SIGQUIT)
                server.wait(_STOP_WAIT)
        working = []
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if process.pid != os.getpid() and works_there(process):
                    process.kill()
                    working.append(process)
        psutil.wait_procs(working, timeout=_STOP_WAIT)
        if working:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= _SETTLE:
            return
        time.sleep(0.05)


@contextlib.contextmanager
def guarded(folder: Path) -> Iterator[None]:
    """Keep a watchdog over `folder` while the block runs: should this process die without
    cleaning up, the watchdog stops what works in the folder and removes it."""
    try:  # the folder goes through the pipe: on the command line it would look like a process working there
        watchdog = subprocess.Popen(
            [sys.executable, "-m", "sqlgen.scratch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C or a kill of sqlgen's process group does not reach it
        )
    except OSError:  # no watchdog: the next run's sweep still removes what is left
        yield
        return
    try:
        assert watchdog.stdin is not None
        with contextlib.suppress(OSError):
            watchdog.stdin.write(os.fsencode(folder) + b"\n")
            watchdog.stdin.flush()
        yield
    finally:
        assert watchdog.stdin is not None
        watchdog.stdin.close()  # the folder is gone by now: the watchdog finds nothing to do
        with contextlib.suppress(subprocess.TimeoutExpired):
            watchdog.wait(timeout=2 * _STOP_WAIT)


def _watch() -> None:
    """The watchdog: read the folder from stdin, wait until the owner's end closes, then clean it up."""
    for name in ("SIGINT", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    line = sys.stdin.buffer.readline()
    if not line.endswith(b"\n"):  # the owner died before saying which folder: its sweep finds it
        return
    with contextlib.suppress(OSError):
        while sys.stdin.buffer.read(4096):
            pass
    remove(Path(os.fsdecode(line[:-1])))


if __name__ == "__main__":
    _watch()
