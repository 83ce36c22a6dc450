"""The package a team installs: the sdist and the wheel built from this checkout hold
everything opsweek reads at run time (templates and their parts, static files, migrations,
runbooks), and the wheel installed in a clean virtual environment, with what it needs from
the package index, serves the demo's pages."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.services.common import free_port, wait_until_ready

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).parents[2]
NEEDED = (  # what opsweek reads at run time, besides its code
    "opsweek/web/templates/today.html",
    "opsweek/web/templates/parts/today_alerts.html",
    "opsweek/web/static/opsweek.js",
    "opsweek/handoff/templates/handoff.html",
    "opsweek/db/migrations/env.py",
    "opsweek/db/migrations/versions/0018_alerts_status_kind_index.py",
    "opsweek/alerts/runbooks.toml",
)


def test_the_built_wheel_serves_the_demo(tmp_path: Path) -> None:
    built = tmp_path / "dist"  # as a release is built: `python -m build`, isolated
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "-o", str(built), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = built.glob("opsweek-*.whl")
    (sdist,) = built.glob("opsweek-*.tar.gz")
    names = set(zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in NEEDED:
        assert needed in names, needed
        assert f"src/{needed}" in in_sdist, needed
    venv = tmp_path / "venv"  # a clean one: opsweek and what it needs, from the index
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=1200,
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPSWEEK_", "PYTHON"))},
        "OPSWEEK_DATA_DIR": str(tmp_path / "data"),
    }
    port = free_port()
    server = subprocess.Popen(
        [str(venv / "bin" / "opsweek"), "serve", "--demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/healthz", server, lambda: "opsweek serve did not start", 120)
        for path, text in (
            ("/", "is on ops duty until"),
            ("/?part=week", "Alerts per day this ops week"),
            ("/handoff", "The week, day by day"),
            ("/static/opsweek.js", "EventSource"),
            ("/static/htmx/htmx.min.js", "htmx"),
        ):
            with urllib.request.urlopen(base + path, timeout=10) as answer:
                assert text in answer.read().decode(), path
    finally:
        server.terminate()
        server.wait(timeout=30)
