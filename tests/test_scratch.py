"""Whose scratch folder is whose: a live run's server folder is never swept, a dead run's always is."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlgen.scratch import new_folder, owner_alive, sweep

PREFIX = "sqlgen-test-"


def test_a_folder_of_this_process_is_its_own(tmp_path: Path) -> None:
    folder = new_folder(tmp_path, PREFIX)
    assert owner_alive(folder, PREFIX)
    sweep(tmp_path, PREFIX)
    assert folder.is_dir()


def test_a_wall_clock_step_does_not_orphan_a_live_run(tmp_path: Path) -> None:
    """A name in wall-clock seconds (an earlier sqlgen's, or another system's) still names its live owner
    after the clock moved: the kernel's boot time, and so every start time read from it, moves with it
    when a laptop or VM resumes."""
    stepped = int(time.time()) - 45 * 60
    folder = tmp_path / f"{PREFIX}{os.getpid()}-{stepped}-abcd1234"
    folder.mkdir()
    assert owner_alive(folder, PREFIX)
    sweep(tmp_path, PREFIX)
    assert folder.is_dir()


def test_a_folder_of_a_process_that_is_gone_is_swept(tmp_path: Path) -> None:
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pathlib, sqlgen.scratch; sqlgen.scratch.new_folder(pathlib.Path(sys.argv[1]), sys.argv[2])",
            str(tmp_path),
            PREFIX,
        ],
        check=True,
    )
    assert child.returncode == 0
    [left] = tmp_path.glob(f"{PREFIX}*")
    assert not owner_alive(left, PREFIX)
    sweep(tmp_path, PREFIX)
    assert not left.exists()


def test_a_number_reused_by_another_process_is_not_the_owner(tmp_path: Path) -> None:
    long_ago = int(time.time()) - 400 * 24 * 3600
    folder = tmp_path / f"{PREFIX}{os.getpid()}-{long_ago}-abcd1234"
    folder.mkdir()
    assert not owner_alive(folder, PREFIX)


def test_names_of_others_are_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / f"{PREFIX}not-a-name-of-ours"
    folder.mkdir()
    assert owner_alive(folder, PREFIX)
