"""Intake into the store (SQLite and PostgreSQL): raw kept, dedup, groups, auto-resolve,
re-fire, canary recovery, and the inbox's ack/resolve/note with history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.model import RawInput
from opsweek.alerts.service import AlertFilter, Inbox
from opsweek.db.models import Alert, AlertEvent, RawInputRow
from opsweek.db.session import Store
from opsweek.errors import BadInput, NotFound
from tests.alerts.helpers import raw_inputs

NOW = datetime(2024, 1, 12, 20, 0, tzinfo=UTC)


def ingest(store: Store, *names: str, now: datetime = NOW):
    return AlertChanges(store).ingest([r for n in names for r in raw_inputs(n, now)], now)


def alerts(store: Store) -> list[Alert]:
    with store.session() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def test_refine_mail_is_three_alerts_in_one_group_and_dedups(store: Store) -> None:
    counts = ingest(store, "refine_failure.eml")
    assert (counts.received, counts.new, counts.updated, counts.unparsed) == (3, 3, 0, 0)
    retried = ingest(store, "refine_failure.eml")  # the same delivery again: a sender's retry
    assert (retried.received, retried.duplicates) == (0, 1)
    (mail,) = raw_inputs("refine_failure.eml", NOW)
    next_report = mail.content.replace(b"refine_event.17@", b"refine_event.18@")
    # the next report of the same failures: repeats
    again = AlertChanges(store).ingest([RawInput(next_report, mail.format, NOW)], NOW)
    assert (again.new, again.updated) == (0, 3)
    found = alerts(store)
    assert len(found) == 3 and {a.count for a in found} == {2}
    assert len({a.group_key for a in found}) == 1
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(RawInputRow)) == 2
        assert session.scalar(select(func.count()).select_from(AlertEvent)) == 3  # created only


def test_alertmanager_round_trip_resolves(store: Store) -> None:
    assert ingest(store, "alertmanager_firing.json").new == 3
    counts = ingest(store, "alertmanager_resolved.json")
    assert (counts.new, counts.resolved) == (0, 2)
    statuses = [(a.details["alertname"], a.status, a.resolved_by) for a in alerts(store)]
    assert statuses == [
        ("HdfsCorruptBlocks", "resolved", "source:alertmanager"),
        ("SystemdUnitFailed", "resolved", "source:alertmanager"),
        ("FlinkOperatorNotRunning", "firing", None),
    ]
    refire = ingest(store, "alertmanager_firing.json")
    assert refire.updated == 3
    hdfs = alerts(store)[0]
    assert (hdfs.status, hdfs.fire_count, hdfs.count) == ("firing", 2, 2)


def test_systemd_pass_resolves_fail(store: Store) -> None:
    ingest(store, "systemd_timer_fail_drop.eml")
    ingest(store, "systemd_timer_pass_drop.eml")
    (alert,) = alerts(store)
    assert alert.status == "resolved" and alert.resolved_by == "source:systemd"


def test_canary_failure_followed_by_success_within_the_hour(store: Store) -> None:
    counts = ingest(store, "canary.log")
    assert counts.inputs == 4
    found = alerts(store)
    assert len(found) == 2
    assert all(a.status == "resolved" and a.resolved_by == "source:canary_failure" for a in found)
    with store.session() as session:
        notes = session.scalars(select(AlertEvent.note).where(AlertEvent.action == "resolved"))
        assert all("recovered within the hour" in n for n in notes)


def test_unparsed_input_is_kept_raw(store: Store) -> None:
    counts = ingest(store, "broken.eml", "unknown.eml")
    assert counts.unparsed == 2
    with store.session() as session:
        raws = session.scalars(select(RawInputRow).order_by(RawInputRow.id)).all()
        assert raws[0].content == raw_inputs("broken.eml")[0].content
        assert all("no parser recognises" in (r.parse_error or "") for r in raws)
        inbox = Inbox(session)
        assert [a.kind for a in inbox.list(AlertFilter(status="open"))] == ["unparsed"] * 2


def test_ack_resolve_note_leave_history(store: Store) -> None:
    ingest(store, "airflow_task_failed.eml")
    later = NOW + timedelta(minutes=7)
    changes = AlertChanges(store)
    changes.ack(1, "ann", later)
    with pytest.raises(BadInput, match="already acknowledged by ann"):
        changes.ack(1, "bob", later)
    changes.note(1, "bob", "looks like the HDFS hiccup again", later)
    with pytest.raises(BadInput, match="say how the alert was treated"):
        changes.resolve(1, "ann", "  ", later)
    changes.resolve(1, "ann", "cleared the task; succeeded on retry", later)
    with pytest.raises(NotFound):
        changes.ack(99, "ann", later)
    with store.session() as session:
        inbox = Inbox(session)
        alert = inbox.get(1)
        assert (alert.status, alert.acked_by, alert.acked_at) == ("resolved", "ann", later)
        assert alert.resolution_note == "cleared the task; succeeded on retry"
        history = [(e.actor, e.action) for e in inbox.history(1)]
        assert history == [
            ("source:airflow", "created"),
            ("ann", "acked"),
            ("bob", "note"),
            ("ann", "resolved"),
        ]
        assert inbox.counts() == {"firing": 0, "acknowledged": 0, "resolved": 1}


def test_filters(store: Store) -> None:
    ingest(store, "refine_failure.eml", "airflow_sla_miss.eml", "data_loss_error.eml")
    with store.session() as session:
        inbox = Inbox(session)
        assert len(inbox.list(AlertFilter(kind="refine_failure"))) == 3
        assert len(inbox.list(AlertFilter(source="airflow"))) == 2
        assert inbox.list(AlertFilter(since=NOW + timedelta(days=1))) == []
        with pytest.raises(BadInput, match="unknown status"):
            inbox.list(AlertFilter(status="burning"))
