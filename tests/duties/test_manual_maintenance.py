"""The team's manual maintenance list as duties: [[duties]] tables in their own file
(maintenance.files), each marked manual, scheduled like the runbook's own; the handoff's noise
section names them as the TODO list for automation, with how often each was done."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import DutyInstance
from opsweek.db.session import Store
from opsweek.demo.seed import seed
from opsweek.duties.service import duty_book
from opsweek.errors import ConfigError
from opsweek.handoff.render import to_markdown
from tests.conftest import Cli

MAINTENANCE = """
[[duties]]
key = "restart-turnilo-cache"
title = "Clear the Turnilo cache"
every = "monday"
at = "10:00"
steps = ["Log in to the Turnilo host and clear its cache"]

[[duties]]
key = "rotate-archive-keys"
title = "Rotate the archive encryption keys"
day_of_month = 1
"""


def config(tmp_path: Path, text: str = MAINTENANCE) -> Path:
    (tmp_path / "maintenance.toml").write_text(text)
    path = tmp_path / "opsweek.toml"
    path.write_text('[maintenance]\nfiles = "maintenance.toml"\n')
    return path


def test_the_maintenance_file_becomes_manual_duties(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path), env={})
    book = duty_book(settings.rotation, settings.duties, settings.duty_entries)
    turnilo = book.get("restart-turnilo-cache")
    assert turnilo is not None and turnilo.manual and turnilo.cron == "0 10 * * mon"
    assert book.get("rotate-archive-keys").cron == "0 9 1 * *"  # type: ignore[union-attr]
    assert not book.get("alarms").manual  # type: ignore[union-attr]


def test_a_bad_maintenance_file_is_one_clear_error(tmp_path: Path) -> None:
    for text, error in (
        ("[[duties]]\nkey = 'x'\n", "needs a title and a schedule"),
        ("not toml [", "is not TOML"),
        ("duties = 3\n", "must hold [[duties]] tables"),
    ):
        settings = load_settings(config(tmp_path, text), env={})
        with pytest.raises(ConfigError, match=error.replace("[", r"\[")):
            duty_book(settings.rotation, settings.duties, settings.duty_entries)
    (tmp_path / "maintenance.toml").unlink()
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "opsweek.toml", env={}).duty_entries  # noqa: B018


def test_the_handoff_names_them_with_how_often_they_were_done(store: Store, tmp_path: Path) -> None:
    ops = App(load_settings(config(tmp_path), env={}), store=store)
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    with store.writing() as session:
        seed(AlertChanges(store), session, ops.rotation_config, now, duties=ops.duty_book)
    with ops.session() as session:
        report = ops.handoff(session, now=now).report(date(2026, 11, 20))
        markdown = to_markdown(report, ZoneInfo("UTC"))
        data = report.as_json()
    assert "Manual maintenance, on the TODO list for automation (times done):" in markdown
    with store.session() as session:
        done = session.scalars(
            select(DutyInstance.id).where(
                DutyInstance.duty_key == "restart-turnilo-cache", DutyInstance.state == "done"
            )
        ).all()
    assert done and f"- Clear the Turnilo cache: {len(done)}" in markdown  # the demo did them
    assert {"duty": "Rotate the archive encryption keys", "done": 0} in data["noise"][
        "manual_maintenance"
    ]


def test_the_schedule_shows_them(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSWEEK_CONFIG", str(config(tmp_path)))
    monkeypatch.setenv("OPSWEEK_DATA_DIR", str(tmp_path))
    listed = cli("duties", "schedule", "--days", "31", "--json")
    assert listed.exit_code == 0
    assert "restart-turnilo-cache" in listed.stdout
    (tmp_path / "maintenance.toml").write_text("not toml [")
    broken = cli("duties", "schedule")
    assert broken.exit_code == 2 and "is not TOML" in broken.stderr
