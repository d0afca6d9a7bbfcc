"""docs/getting-started.md, block by block, in an empty folder, with sqlgen installed from a wheel.

The wheel is built from this checkout (`pip wheel --no-deps --no-build-isolation`, a second or
two) and installed in a new virtual environment. So that nothing is downloaded, that
environment is made without pip and sees this suite's installed packages through a `.pth`
file (after its own site-packages, so the wheel's sqlgen is the one imported); the page's own
`pip install` lines then find everything installed already (`PIP_NO_INDEX=1` makes sure).

How each block runs:

- `sh`: each line in order, with the new environment's `bin/` first on PATH; `python3 -m venv
  .venv` is the one line the test does itself (as described above). A line that runs
  `python -m uvicorn` runs in the background until the test ends, once its port answers; port 8000 is
  replaced by a free one.
- A block whose first line names a file (`# app/main.py`, `-- db/queries/search.sql`) is
  written there; a `pyproject.toml` block is appended, as the page says to add it.
- The `toml` block showing what `sqlgen init` writes must equal what it wrote, and every path
  of the layout block must exist after `sqlgen init`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import ROOT

PAGE = ROOT / "docs" / "getting-started.md"
FILE_BLOCK = re.compile(r"(?:#|--) ((?:[\w.-]+/)*[\w.-]+\.\w+)\n")


def page_blocks() -> list[tuple[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    return [(match[1], match[2]) for match in re.finditer(r"^```([\w ]*)\n(.*?)^```", text, re.M | re.S)]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(folder), str(ROOT)],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_NO_INDEX": "1"},
    )
    [built] = folder.glob("sqlgen-*.whl")
    return built


def make_venv(folder: Path) -> None:
    """A venv without pip that sees this suite's packages after its own."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    own = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(own, "suite-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert server.poll() is None, server.communicate()[1]
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert time.monotonic() < deadline, "the app did not start listening"
        time.sleep(0.05)


@pytest.fixture
def background() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


def test_the_getting_started_page_from_an_empty_folder_with_the_wheel(
    wheel: Path, tmp_path: Path, background: list[subprocess.Popen[str]]
) -> None:
    project = tmp_path / "my-app"
    project.mkdir()
    shutil.copy(wheel, project)
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIRTUAL_ENV", "PYTHONPATH")}
    environment |= {"PIP_NO_INDEX": "1", "PATH": f"{project / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    port = free_port()
    outputs: list[str] = []

    def sh(line: str) -> None:
        line = line.replace("8000", str(port))
        if line.startswith("python3 -m venv .venv"):
            make_venv(project / ".venv")
            line = line.removeprefix("python3 -m venv .venv").removeprefix(" && ") or "true"
        if "-m uvicorn " in line:
            server = subprocess.Popen(
                line,
                shell=True,
                cwd=project,
                env=environment,
                text=True,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            background.append(server)
            wait_for_port(port, server)
            return
        done = subprocess.run(["bash", "-c", line], cwd=project, env=environment, capture_output=True, text=True)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)

    ran = 0
    for language, text in page_blocks():
        named = FILE_BLOCK.match(text)
        if language == "sh":
            for line in text.splitlines():
                if line.strip() and not line.startswith("#"):
                    sh(line.split("   #")[0].strip())
                    ran += 1
        elif named and named[1] == "pyproject.toml" and (project / "pyproject.toml").exists():
            with (project / "pyproject.toml").open("a", encoding="utf-8") as file:
                file.write("\n" + text.partition("\n")[2])
        elif named:
            (project / named[1]).parent.mkdir(parents=True, exist_ok=True)
            (project / named[1]).write_text(text, encoding="utf-8")
        elif language == "toml" and text.startswith("# pyproject.toml, as sqlgen init writes it"):
            assert (project / "pyproject.toml").read_text(encoding="utf-8") == text.partition("\n")[2]
        elif language == "":  # the layout sqlgen init makes
            for entry in text.splitlines():
                assert (project / entry.split()[0]).is_file(), entry
        else:
            raise AssertionError(f"a {language or 'plain'} block the test does not know how to run:\n{text}")
    assert ran >= 10

    # What the blocks did, beyond exiting 0:
    python = project / ".venv" / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import sqlgen; print(sqlgen.__file__)"], cwd=project, capture_output=True, text=True
    )
    assert where.stdout.startswith(str(project / ".venv")), where  # the wheel's sqlgen, not the checkout's
    version = subprocess.run([str(python), "-m", "sqlgen", "--version"], cwd=project, capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("sqlgen ")
    assert (project / "generated" / "search.py").is_file()
    created, found = [out for out in outputs if '"name":"Ursula K. Le Guin"' in out]
    assert created.startswith('{"id":1,') and found.startswith('[{"id":1,')
    assert any(re.search(r"\b2 passed\b", out) for out in outputs)
    pgdata = (project / ".sqlgen" / "postgres").resolve()
    alive = [p for p in psutil.process_iter(["cwd", "status"]) if p.info["cwd"] == str(pgdata)]
    assert [p for p in alive if p.info["status"] != psutil.STATUS_ZOMBIE] == []  # `sqlgen db stop` stopped it


def test_the_readme_quickstart_is_the_getting_started_page() -> None:
    """Each command of the README's quickstart runs above, as the getting-started page's."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = re.search(r"^## Quickstart\n(.*?)^## ", readme, re.M | re.S)
    assert quickstart is not None
    commands = [
        line.split("   #")[0].strip()
        for block in re.findall(r"^```sh\n(.*?)^```", quickstart[1], re.M | re.S)
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    page = [
        line.split("   #")[0].strip()
        for language, text in page_blocks()
        if language == "sh"
        for line in text.splitlines()
    ]
    assert commands
    for command in commands:
        assert command in page, command
