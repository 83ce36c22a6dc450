"""A Refine failure resolves itself once its partition is refined: the check reads the flags
Refine leaves in the output partition (`_REFINED`, `_REFINE_FAILED`) through the files root,
as a rerun leaves them."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from opsweek.adapters.fs import Files
from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.checks.refine import FAILED, PENDING, REFINED, UNKNOWN, partition_state
from opsweek.config import load_settings
from opsweek.db.models import Alert, AlertEvent
from opsweek.db.session import Store
from opsweek.errors import BadInput
from tests.alerts.helpers import ALERT_FIXTURES, raw_inputs
from tests.conftest import Cli

FOO_3 = "/wmf/data/event/mediawiki_foo/datacenter=eqiad/year=2024/month=1/day=2/hour=3"
FOO_4 = "/wmf/data/event/mediawiki_foo/datacenter=eqiad/year=2024/month=1/day=2/hour=4"
NAV_3 = "/wmf/data/event/navigationtiming/datacenter=eqiad/year=2024/month=1/day=2/hour=3"
RAW_FOO_3 = "/wmf/data/raw/event/eqiad.mediawiki.foo/year=2024/month=01/day=02/hour=03"
RERUN_AT = datetime(2024, 1, 2, 9, 12, tzinfo=UTC)


def flag(root: Path, partition: str, name: str, at: datetime) -> None:
    path = root / partition.lstrip("/") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    os.utime(path, (at.timestamp(), at.timestamp()))


def test_partition_states_follow_the_newest_flag(tmp_path: Path) -> None:
    root = tmp_path / "hdfs"
    files = Files(root.as_uri())
    details = {"table": "event.mediawiki_foo", "hour": "2024-01-02T03", "partition_path": FOO_3}
    assert partition_state(1, details, files).state == PENDING
    flag(root, FOO_3, "_REFINE_FAILED", datetime(2024, 1, 2, 4, 0, tzinfo=UTC))
    assert partition_state(1, details, files).state == FAILED
    flag(root, FOO_3, "_REFINED", RERUN_AT)  # a rerun succeeded after the failure
    refined = partition_state(1, details, files)
    assert (refined.state, refined.refined_at) == (REFINED, RERUN_AT)
    flag(root, FOO_3, "_REFINE_FAILED", datetime(2024, 1, 2, 10, 0, tzinfo=UTC))  # failed again
    assert partition_state(1, details, files).state == FAILED
    assert partition_state(2, {"table": "event.x"}, files).state == UNKNOWN


def test_a_missing_raw_input_is_said(tmp_path: Path) -> None:
    root = tmp_path / "hdfs"
    files = Files(root.as_uri())
    details = {
        "partition_path": FOO_3,
        "source_path": f"hdfs://analytics-hadoop{RAW_FOO_3}",  # another name node's URL
    }
    missing = partition_state(1, details, files)
    assert missing.raw_present is False
    assert "raw input is missing" in missing.note(UTC)
    (root / RAW_FOO_3.lstrip("/")).mkdir(parents=True)
    assert partition_state(1, details, files).raw_present is True


def test_refined_alerts_resolve_themselves_and_the_rest_stay_open(
    tmp_path: Path, store: Store
) -> None:
    root = tmp_path / "hdfs"
    ops = App(load_settings(env={}), store=store, files=Files(root.as_uri()))
    AlertChanges(store).ingest(raw_inputs("refine_failure.eml"))
    flag(root, FOO_3, "_REFINE_FAILED", datetime(2024, 1, 2, 4, 0, tzinfo=UTC))
    flag(root, FOO_3, "_REFINED", RERUN_AT)
    flag(root, FOO_4, "_REFINE_FAILED", RERUN_AT)
    states = {(s.table, s.hour): s.state for s in ops.checks.refine()}
    assert states == {
        ("event.mediawiki_foo", "2024-01-02T03"): REFINED,
        ("event.mediawiki_foo", "2024-01-02T04"): FAILED,
        ("event.navigationtiming", "2024-01-02T03"): PENDING,
    }
    with store.session() as session:
        alerts = {a.details["partition_path"]: a for a in session.scalars(select(Alert))}
        refined = alerts[FOO_3]
        assert (refined.status, refined.resolved_by, refined.acked_by) == (
            "resolved",
            "check:refine",
            None,
        )
        assert (
            refined.resolution_note == f"refined at 2024-01-02 09:12 UTC, flag _REFINED in {FOO_3}"
        )
        history = session.scalars(
            select(AlertEvent.action).where(AlertEvent.alert_id == refined.id)
        ).all()
        assert list(history) == ["created", "resolved"]
        assert alerts[FOO_4].status == alerts[NAV_3].status == "firing"
    # a second pass looks at the open ones only, and resolves nothing twice
    assert {s.partition_path for s in ops.checks.refine()} == {FOO_4, NAV_3}
    with pytest.raises(BadInput, match="not an open Refine failure alert: 1"):
        ops.checks.refine([1])  # resolved now


def test_check_refine_from_the_cli(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "hdfs"
    monkeypatch.setenv("OPSWEEK_FILES_ROOT", root.as_uri())
    cli.ok("alerts", "ingest", ALERT_FIXTURES / "refine_failure.eml")
    for partition in (FOO_3, FOO_4, NAV_3):
        flag(root, partition, "_REFINED", RERUN_AT)
    report = cli("check", "refine", "--no-resolve", "--json")
    assert report.exit_code == 0
    assert {p["state"] for p in report.json()["partitions"]} == {REFINED}
    assert cli.json("alerts", "list", "--status", "open")["alerts"]  # nothing resolved yet
    flag(root, FOO_4, "_REFINE_FAILED", datetime(2024, 1, 2, 10, 0, tzinfo=UTC))
    failing = cli("check", "refine")
    assert failing.exit_code == 1  # a partition still fails
    assert "failed" in failing.stdout and "refined at" in failing.stdout
    left = cli.json("alerts", "list", "--status", "open")["alerts"]
    assert [a["details"]["partition_path"] for a in left] == [FOO_4]
    assert cli("check", "refine", "999").exit_code == 2
