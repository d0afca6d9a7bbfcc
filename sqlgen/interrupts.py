"""Signals that end a run: Ctrl-C, SIGTERM and SIGHUP all unwind it the same way.

Python turns Ctrl-C (SIGINT) into KeyboardInterrupt; the command line also turns SIGTERM
(`kill`, a CI job cancelled, systemd) and SIGHUP (the terminal closed) into `Terminated`, a
KeyboardInterrupt, so that every `finally` runs: the embedded server stops and its files are
removed, and the output folder is left whole. Cleaning up is `shielded`: a second signal
then waits until it is done.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

TERMINATING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
_ENDING = (signal.SIGINT, *TERMINATING)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived; the process exits 128 + `signum` once it has cleaned up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """The exit status a shell shows for a process ended by this signal: 130 for Ctrl-C, 143 for SIGTERM."""
    return 128 + (interrupt.signum if isinstance(interrupt, Terminated) else signal.SIGINT)


def _terminate(signum: int, frame: FrameType | None) -> None:
    for other in TERMINATING:  # one is enough: the run is unwinding already
        signal.signal(other, signal.SIG_IGN)
    raise Terminated(signum)


def install() -> None:
    """Make SIGTERM and SIGHUP raise `Terminated` in the main thread (the command line's choice)."""
    for signum in TERMINATING:
        signal.signal(signum, _terminate)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP off while the block runs (stopping a server, removing its
    files), then deliver them: an impatient second Ctrl-C must not leave a server running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in _ENDING}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)
