"""Every change of alert state goes through `AlertChanges`, one at a time: acknowledgements made
while a stream of repeats, resolutions and re-fires of the same alerts arrives are never lost
or overwritten, and the history replayed gives each alert's stored state (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from opsweek.alerts import intake
from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import ALERTMANAGER
from opsweek.alerts.model import RawInput
from opsweek.alerts.triage import Outcome, apply
from opsweek.db.models import Alert, AlertEvent
from opsweek.db.session import Store
from opsweek.errors import BadInput

START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
ALERTS = 6
WEBHOOKS = 240


def webhook(number: int, status: str, at: datetime) -> RawInput:
    alert = {
        "status": status,
        "labels": {"alertname": f"Interleaved{number}", "team": "data-engineering"},
        "annotations": {"summary": f"alert {number}"},
        "startsAt": at.isoformat(),
        "fingerprint": f"interleaved{number:04d}",
    }
    body = {"version": "4", "status": status, "receiver": "opsweek", "alerts": [alert]}
    return RawInput(json.dumps(body).encode(), ALERTMANAGER, at, "test")


def replay(events: list[AlertEvent]) -> tuple[str, str | None]:
    """An alert's status and acknowledger, from its history alone."""
    status, acked_by = "", None
    for event in events:
        if event.action == "created":
            status = "resolved" if event.note == "arrived already resolved" else "firing"
        elif event.action == "acked":
            status, acked_by = "acknowledged", event.actor
        elif event.action == "resolved":
            status = "resolved"
        elif event.action == "refired":
            status, acked_by = "firing", None
    return status, acked_by


def test_acknowledgements_interleaved_with_a_stream_are_never_lost(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_triage(*args: Any, **kwargs: Any) -> Outcome:
        time.sleep(0.002)  # widens the gap between reading an alert and writing it back
        return apply(*args, **kwargs)

    monkeypatch.setattr(intake, "apply", slow_triage)
    rng = random.Random(18)
    stream = [
        (rng.randrange(ALERTS), "resolved" if rng.random() < 0.3 else "firing")
        for _ in range(WEBHOOKS)
    ]
    firing = Counter(number for number, status in stream if status == "firing")
    first = {number: status for number, status in reversed(stream)}
    changes = AlertChanges(store)
    done = threading.Event()
    acked: list[tuple[int, str]] = []  # (alert id, by whom), for each ack that succeeded
    failures: list[BaseException] = []

    def send() -> None:  # one Alertmanager's webhooks, in order, as a web worker stores them
        try:
            for index, (number, status) in enumerate(stream):
                changes.take(webhook(number, status, START + timedelta(seconds=index)))
        except BaseException as exc:
            failures.append(exc)
        finally:
            done.set()

    def acknowledge(person: str) -> None:
        pick = random.Random(person)
        try:
            while not done.is_set():
                with store.session() as session:
                    ids = list(session.scalars(select(Alert.id)))
                if not ids:
                    continue
                alert_id = pick.choice(ids)
                try:
                    changes.ack(alert_id, person)
                except BadInput:  # acknowledged or resolved meanwhile: nothing to do
                    continue
                acked.append((alert_id, person))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=send)] + [
        threading.Thread(target=acknowledge, args=(person,)) for person in ("ann", "bob")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert len(acked) >= 5, "the acknowledgements did not interleave with the stream"

    with store.session() as session:
        alerts = {a.id: a for a in session.scalars(select(Alert))}
        events = list(session.scalars(select(AlertEvent).order_by(AlertEvent.id)))
    assert len(alerts) == ALERTS
    history: dict[int, list[AlertEvent]] = {}
    for event in events:
        history.setdefault(event.alert_id, []).append(event)
    recorded = Counter((e.alert_id, e.actor) for e in events if e.action == "acked")
    assert recorded == Counter(acked)  # every ack that succeeded is in the history, once
    for alert_id, alert in alerts.items():
        assert (alert.status, alert.acked_by) == replay(history[alert_id]), alert_id
        number = int(alert.details["alertname"].removeprefix("Interleaved"))
        # every repeat counted: each firing webhook, and the first if it came resolved
        assert alert.count == firing[number] + (first[number] == "resolved"), alert_id
    assert any(e.action == "refired" for e in events)  # re-fires happened among the acks
