"""Stage timings for `--verbose`: the pipeline names its stages, the caller decides what to show.

>>> seen = []
>>> timer = Timer(lambda name, seconds: seen.append(name))
>>> with timer.stage("read"):
...     pass
>>> with timer.around(contextlib.nullcontext(), "database start", "database stop"):
...     seen.append("work")
>>> seen
['read', 'database start', 'work', 'database stop']
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TypeVar

T = TypeVar("T")

StageReport = Callable[[str, float], None]  # (stage name, seconds)
ProgressReport = Callable[[str, int, int], None]  # (what is being done, done so far, total)


class Timer:
    """Reports how long each named stage took, as it ends; without a report it only runs them."""

    def __init__(self, report: StageReport | None = None, progress: ProgressReport | None = None) -> None:
        self._report = report
        self._progress = progress

    def progress(self, what: str, done: int, total: int) -> None:
        """How far a long stage has got (`done` of `total`); `done == total` ends it."""
        if self._progress is not None:
            self._progress(what, done, total)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            if self._report is not None:
                self._report(name, time.perf_counter() - start)

    @contextlib.contextmanager
    def around(self, context: AbstractContextManager[T], start: str, stop: str) -> Iterator[T]:
        """`with context`, its entry timed as stage `start` and its exit as stage `stop`."""
        exit_started: list[float] = []

        def report_exit() -> None:
            if exit_started and self._report is not None:
                self._report(stop, time.perf_counter() - exit_started[0])

        with contextlib.ExitStack() as stack:
            # Callbacks run last-registered first: the clock starts before `context` exits, and stops after.
            stack.callback(report_exit)
            with self.stage(start):
                value = stack.enter_context(context)
            stack.callback(lambda: exit_started.append(time.perf_counter()))
            yield value


NO_TIMER = Timer()
