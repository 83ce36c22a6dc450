"""Running the checks on their own: `opsweek serve` runs them every checks.interval_minutes
(a team can instead call `opsweek check ...` from its own Airflow: see examples/airflow)."""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from opsweek.adapters.fs import Files
from opsweek.adapters.warehouse import DuckDBWarehouse
from opsweek.checks.emit import emit
from opsweek.checks.mw_history import MwHistory, scan_snapshots
from opsweek.checks.new_wikis import check_new_wikis
from opsweek.config import Settings
from opsweek.db.session import Store
from opsweek.duties.service import Duties
from opsweek.errors import OpsweekError
from opsweek.timeutil import utcnow, zone

log = logging.getLogger(__name__)


def attach_deploy_duty(session: Session, settings: Settings, snapshot: str) -> int | None:
    """The open redeploy duty that deploys ``snapshot`` (the month after it), linked to the
    snapshot's alert as any source's alert about it is; None until that duty is due."""
    duties = Duties.from_settings(session, settings)
    duties.link_alerts()
    recent = duties.list(
        duties.now - timedelta(days=31), duties.now + timedelta(seconds=1), ["due"]
    )
    return next(
        (
            i.id
            for i in reversed(recent)
            if i.duty_key == "mw-history-deploy" and i.detail.get("snapshot") == snapshot
        ),
        None,
    )


def scan_mw_history(settings: Settings, today: date) -> MwHistory:
    return scan_snapshots(
        Files(settings.files_root),
        settings.get("checks.mw_history_dir"),
        today,
        settings.get("checks.mw_history_late_day"),
    )


def mw_history(session: Session, settings: Settings, today: date) -> tuple[MwHistory, int | None]:
    """Scan, send the findings to the inbox, note a ready snapshot on the redeploy duty."""
    result = scan_mw_history(settings, today)
    emit(session, result.findings())
    duty = attach_deploy_duty(session, settings, result.expected) if result.ready else None
    return result, duty


def run_scheduled(store: Store, settings: Settings) -> list[str]:
    """The checks that need no arguments: the MediaWiki history snapshot, and new wikis when
    the allowlist and sqoop groups are configured (DuckDB backend). Returns what failed."""
    failed = []
    today = utcnow().astimezone(zone(settings.team_timezone)).date()
    try:
        with store.writing() as session:  # findings go through the intake: its turn
            mw_history(session, settings, today)
    except OpsweekError as exc:
        failed.append(f"mw-history: {exc}")
    allowlist, grouped = settings.get("checks.allowlist"), settings.get("checks.grouped_wikis")
    if allowlist and grouped and settings.get("warehouse.backend") == "duckdb":
        try:
            files = Files(settings.files_root)
            result = check_new_wikis(
                DuckDBWarehouse(Path(files.real(settings.warehouse_dir))),
                settings.get("checks.unexpected_values_table"),
                Path(allowlist).read_text(encoding="utf-8"),
                Path(grouped).read_text(encoding="utf-8"),
                today - timedelta(days=1),
                today - timedelta(days=1),
                utcnow(),
            )
            with store.writing() as session:
                emit(session, result.findings())
        except (OpsweekError, OSError) as exc:
            failed.append(f"new-wikis: {exc}")
    return failed


class ChecksLoop(threading.Thread):
    def __init__(self, store: Store, settings: Settings) -> None:
        super().__init__(name="checks", daemon=True)
        self.store, self.settings = store, settings
        self.stopping = threading.Event()

    def run(self) -> None:
        interval = self.settings.get("checks.interval_minutes") * 60
        while not self.stopping.is_set():
            try:
                for failure in run_scheduled(self.store, self.settings):
                    log.warning("check failed: %s", failure)
            except Exception:  # a failing run must not stop the next ones
                log.exception("scheduled checks failed")
            self.stopping.wait(interval)

    def stop(self) -> None:
        self.stopping.set()
