"""Round trip through a real Alertmanager: post alerts to its API, see them arrive in opsweek
through the webhook, resolve them there, see them resolved here."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert
from opsweek.db.session import open_store
from opsweek.tokens import Tokens
from opsweek.web import create_app
from tests.services.alertmanager import alertmanager, post_alerts
from tests.services.web import serve_app

pytestmark = pytest.mark.integration

ALERTS = [
    ("HdfsCorruptBlocks", {"severity": "critical", "cluster": "analytics"}),
    (
        "SystemdUnitFailed",
        {
            "severity": "warning",
            "name": "refinery-sqoop-whole-mediawiki.service",
            "instance": "an-launcher1002:9100",
        },
    ),
    ("FlinkOperatorNotRunning", {"severity": "critical"}),
]


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for Alertmanager's notifications")
        time.sleep(0.2)


def payload(now: datetime, ends_at: datetime | None = None) -> list[dict[str, object]]:
    body = []
    for name, labels in ALERTS:
        alert: dict[str, object] = {
            "labels": {"alertname": name, "team": "data-engineering", **labels},
            "annotations": {"summary": f"{name} on analytics"},
            "startsAt": (now - timedelta(minutes=5)).isoformat(),
            "generatorURL": f"https://prometheus.example.org/graph?g0.expr={name}",
        }
        if ends_at:
            alert["endsAt"] = ends_at.isoformat()
        body.append(alert)
    return body


def test_alertmanager_round_trip(tmp_path: Path, now: datetime) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'am.db'}")
    with store.session() as session:
        token = Tokens(session).create("alertmanager", "webhook")[1]
    app = create_app(App(load_settings(env=dict(os.environ)), store=store))

    def snapshot() -> dict[str, tuple[str, str | None]]:
        with store.session() as session:
            rows = session.scalars(select(Alert)).all()
            return {a.details["alertname"]: (a.status, a.resolved_by) for a in rows}

    with serve_app(app) as base, alertmanager(f"{base}/api/v1/intake/alertmanager", token) as am:
        post_alerts(am, payload(now))
        wait_for(lambda: len(snapshot()) == 3)
        assert {status for status, _ in snapshot().values()} == {"firing"}
        with store.session() as session:
            hdfs = session.scalar(select(Alert).where(Alert.title.like("HdfsCorruptBlocks%")))
            assert hdfs is not None
            assert hdfs.details["source_fingerprint"]  # Alertmanager's own fingerprint
            assert hdfs.details["topic"] == "hdfs_blocks"
        post_alerts(am, payload(now, ends_at=now - timedelta(seconds=1)))
        wait_for(lambda: {s for s, _ in snapshot().values()} == {"resolved"})
        assert {by for _, by in snapshot().values()} == {"source:alertmanager"}
    store.close()
