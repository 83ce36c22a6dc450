"""An alert about a new MediaWiki history snapshot, from the mail or from opsweek's own
check, is one alert, and it reaches the month's redeploy duty (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import CHECK
from opsweek.alerts.model import RawInput
from opsweek.alerts.sources.opsweek_check import finding
from opsweek.db.models import Alert, AlertEvent
from opsweek.db.session import Store
from tests.alerts.helpers import raw_inputs
from tests.duties.test_service import duties

DUE = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)  # the January redeploy: snapshot 2023-12
MAIL_AT = datetime(2024, 1, 2, 14, 3, tzinfo=UTC)


def check_finding(snapshot: str) -> RawInput:
    content = finding(
        "mw-history",
        "mediawiki_history_available",
        f"MediaWiki history snapshot {snapshot} available: redeploy AQS services",
        f"snapshot {snapshot}",
        {"snapshot": snapshot, "duty": "mw-history-deploy"},
        severity="info",
        subject=[snapshot],
    )
    return RawInput(content, CHECK, MAIL_AT + timedelta(hours=1), "opsweek check")


def test_mail_and_check_are_one_alert_linked_to_the_redeploy(store: Store) -> None:
    changes = AlertChanges(store)
    changes.ingest(raw_inputs("mediawiki_history_available.eml", MAIL_AT), MAIL_AT)
    changes.ingest([check_finding("2023-12")], MAIL_AT + timedelta(hours=1))
    changes.ingest([check_finding("2023-12")], MAIL_AT + timedelta(hours=2))
    with store.session() as session:
        (alert,) = session.scalars(select(Alert)).all()
        assert alert.count == 3
        history = session.scalars(
            select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)
        ).all()
        # both sources in its history, once each
        assert [(e.action, e.actor) for e in history] == [
            ("created", "source:airflow"),
            ("reported", "source:opsweek"),
        ]
        assert history[1].note == "also reported by opsweek (first by airflow)"

    with store.session() as session:
        service = duties(session, now=MAIL_AT + timedelta(hours=3))
        service.sync(DUE - timedelta(hours=1), DUE + timedelta(hours=1))
        deploy = service.get("mw-history-deploy")
        assert deploy.alert_ids == [] and deploy.detail == {}
        waiting = [s for s in deploy.steps if "waits for snapshot" in s["text"]]
        assert len(waiting) == 2  # the !log lines need the snapshot
        assert service.link_alerts() == 1
        assert deploy.alert_ids == [alert.id]
        assert deploy.detail == {"snapshot": "2023-12"}
        logs = [s["command"] for s in deploy.steps if s.get("lang") == "irc"]
        assert logs == [
            "!log deployed edit-analytics (staging, codfw, eqiad) with mediawiki_history "
            "snapshot 2023-12",
            "!log deployed editor-analytics (staging, codfw, eqiad) with mediawiki_history "
            "snapshot 2023-12",
        ]
        assert service.link_alerts() == 0  # once


def test_last_months_snapshot_does_not_reach_this_months_redeploy(store: Store) -> None:
    with store.writing() as session:
        AlertChanges(store).ingest([check_finding("2023-11")], MAIL_AT, session)
    with store.session() as session:
        service = duties(session, now=MAIL_AT + timedelta(hours=3))
        service.sync(DUE - timedelta(hours=1), DUE + timedelta(hours=1))
        assert service.link_alerts() == 0
        assert service.get("mw-history-deploy").alert_ids == []
