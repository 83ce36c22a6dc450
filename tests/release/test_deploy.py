"""The deployment files in deploy/: systemd units systemd itself accepts, and a production
configuration opsweek loads, holding no secret."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from opsweek.config import load_settings
from opsweek.config.declared import SETTINGS
from tests.services.common import missing_service

DEPLOY = Path(__file__).parents[2] / "deploy"
UNITS = ("opsweek.service", "opsweek-checks.service", "opsweek-checks.timer")


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing_service("systemd-analyze (Debian package systemd) not found")
    opsweek = str(Path(sys.executable).with_name("opsweek"))
    for name in UNITS:  # the same units, running the opsweek installed here
        text = (DEPLOY / name).read_text().replace("/opt/opsweek/venv/bin/opsweek", opsweek)
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        [analyze, "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [
        line for line in (done.stdout + done.stderr).splitlines() if str(tmp_path) in line
    ]
    assert done.returncode == 0 and not complaints, complaints or done.stderr


def test_the_service_is_hardened_and_runs_what_exists() -> None:
    service = (DEPLOY / "opsweek.service").read_text()
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet="):
        assert option in service
    assert "ExecStart=/opt/opsweek/venv/bin/opsweek serve" in service
    checks = (DEPLOY / "opsweek-checks.service").read_text()
    assert "ExecStart=/opt/opsweek/venv/bin/opsweek check scheduled" in checks


def test_the_production_configuration_loads_and_holds_no_secret() -> None:
    path = DEPLOY / "opsweek.toml"
    settings = load_settings(path, env={})
    assert settings.web.base_url.startswith("https://") and not settings.web.public_read
    written = {
        f"{section}.{key}" if isinstance(values, dict) else section
        for section, values in tomllib.loads(path.read_text()).items()
        for key in (values if isinstance(values, dict) else [None])
    }
    secrets = {s.name for s in SETTINGS if s.secret}
    assert written and not written & secrets
