"""The documentation site: its reference pages are made from the code and up to date (a new
command or setting fails here until `scripts/reference.py` is run), and it builds with
MkDocs in strict mode (no broken link)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def reference() -> object:
    spec = importlib.util.spec_from_file_location("reference", ROOT / "scripts" / "reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_pages_are_up_to_date() -> None:
    pages = reference().PAGES  # type: ignore[attr-defined]
    stale = [
        name
        for name, make in pages.items()
        if (ROOT / "docs" / name).read_text(encoding="utf-8") != make()
    ]
    assert not stale, f"run .venv/bin/python scripts/reference.py: {stale} are out of date"
    commands = (ROOT / "docs" / "reference" / "commands.md").read_text()
    assert "## opsweek db copy" in commands and "## opsweek sal sync" in commands


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "operators" / "index.html").exists()
    assert (tmp_path / "reference" / "settings" / "index.html").exists()


def test_the_readme_reads_in_two_minutes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    assert readme.count("```sh") >= 2 and "](docs/guide.md)" in readme


def test_the_architecture_page_names_files_that_exist() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z_]+/[a-z_/]+\.py)`", page))
    assert len(named) >= 10
    missing = [
        path
        for path in named
        if not (ROOT / "src" / "opsweek" / path).exists() and not (ROOT / path).exists()
    ]
    assert not missing, missing
