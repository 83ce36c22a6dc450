"""The package a team installs: a wheel built from this checkout holds everything opsweek
reads at run time (templates and their parts, static files, migrations, runbooks), and
`opsweek serve --demo` from that wheel, not from the checkout, serves its pages."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.services.common import free_port, wait_until_ready

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).parents[2]


def test_the_built_wheel_serves_the_demo(tmp_path: Path) -> None:
    built = tmp_path / "dist"  # built as pip builds it for a user: in an isolated environment
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(built), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = built.glob("opsweek-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "opsweek/web/templates/today.html",
        "opsweek/web/templates/parts/today_alerts.html",
        "opsweek/web/static/opsweek.js",
        "opsweek/handoff/templates/handoff.html",
        "opsweek/db/migrations/env.py",
        "opsweek/db/migrations/versions/0018_alerts_status_kind_index.py",
        "opsweek/alerts/runbooks.toml",
    ):
        assert needed in names, needed
    installed = tmp_path / "installed"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "-t",
            str(installed),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(installed),  # before the checkout's editable install
        "OPSWEEK_DATA_DIR": str(tmp_path / "data"),
        "OPSWEEK_CONFIG": "",
    }
    where = subprocess.run(
        [sys.executable, "-c", "import opsweek; print(opsweek.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(installed)), where
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "opsweek", "serve", "--demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/healthz", server, lambda: "opsweek serve did not start", 60)
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
