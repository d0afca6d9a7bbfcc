"""The documentation site builds with `mkdocs build --strict`: no warning, every page in the nav, fences rendered."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT

REPOSITORY = "https://example.org/sqlgen.git"


def build(site: Path) -> subprocess.CompletedProcess[str]:
    # Material (9.7 and later) prints its end-of-life notice on every `mkdocs` run unless told not to;
    # no mkdocs.yml setting turns it off. SQLGEN_REPO_URL is the repository the header links to.
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SQLGEN_REPO_URL": REPOSITORY}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def nav_pages(nav: list[object]) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        assert isinstance(entry, dict)
        for value in entry.values():
            pages.extend(nav_pages(value) if isinstance(value, list) else [value])
    return pages


class _Loader(yaml.SafeLoader):
    """Reads mkdocs.yml, leaving its `!!python/...` tags (the slugify function) as plain values."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
_Loader.add_constructor("!ENV", lambda loader, node: None)


def test_the_site_builds_in_strict_mode_without_a_warning(tmp_path: Path) -> None:
    result = build(tmp_path / "site")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"^(WARNING|ERROR)\b", output, re.M), output
    assert "end of life" not in output

    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    in_nav = nav_pages(config["nav"])
    on_disk = sorted(path.relative_to(ROOT / "docs").as_posix() for path in (ROOT / "docs").rglob("*.md"))
    assert sorted(in_nav) == on_disk  # every page is reachable, and listed once
    assert in_nav[0] == "index.md"

    for page in on_disk:
        name = page.removesuffix(".md")
        built = tmp_path / "site" / ("index.html" if name == "index" else f"{name}/index.html")
        text = built.read_text(encoding="utf-8")
        # A fence the Markdown extensions did not recognise comes out as a paragraph starting with ```.
        assert not re.search(r"<p>\s*```", text), page
        # GitHub reads `a \| b` in a table cell as "a | b"; MkDocs shows the backslash. Tables write
        # <code>a &#124; b</code>, which both show as "a | b".
        assert "\\|" not in text, page
    # `python exec` fences (run by tests/test_docs.py) are highlighted as Python like any other.
    cookbook = (tmp_path / "site" / "cookbook" / "index.html").read_text(encoding="utf-8")
    assert '<span class="kn">import</span>' in cookbook
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert f'href="{REPOSITORY}"' in home  # the header links to the repository
