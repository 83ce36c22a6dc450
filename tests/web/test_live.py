"""Live updates: /events tells an open page what changed as it is committed, whichever
process committed it; reading it needs what reading the pages needs."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import EMAIL
from opsweek.alerts.model import RawInput
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store, open_store
from opsweek.sal.log import SalLog
from opsweek.web import create_app
from opsweek.web.live import Cursor, read_change
from tests.alerts.helpers import raw_inputs
from tests.services.web import serve_app


def mail(subject: str, at: datetime) -> RawInput:
    body = f"From: airflow@example.org\r\nSubject: {subject}\r\n\r\nsee the log\r\n".encode()
    return RawInput(body, EMAIL, at, "test")


def test_what_changed_is_read_from_the_newest_ids(web_store: Store) -> None:
    cursor, change = read_change(web_store, Cursor())
    assert change.topics == set()
    AlertChanges(web_store).ingest(raw_inputs("airflow_task_failed.eml"))
    cursor, change = read_change(web_store, cursor)
    assert change.topics == {"alerts", "alert-1"}
    assert [n["id"] for n in change.new] == [1]
    AlertChanges(web_store).ack(1, "ann")  # an action: an alert event and a SAL entry
    cursor, change = read_change(web_store, cursor)
    assert change.topics == {"alerts", "alert-1", "sal"}
    assert change.new == []
    with web_store.session() as session:
        SalLog(session).append("ann", "restarted hive", source="cli")
    cursor, change = read_change(web_store, cursor)
    assert change.topics == {"sal"}
    assert read_change(web_store, cursor)[1].topics == set()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    store = open_store(f"sqlite:///{tmp_path / 'live.db'}")
    settings = load_settings(env=dict(os.environ))
    with serve_app(create_app(App(settings, store=store))) as url:
        yield url, store
    store.close()


def listen(url: str, events: queue.Queue[tuple[float, str, dict[str, object]]]) -> None:
    """Put each event of the stream on ``events``, until the server stops."""
    with (
        contextlib.suppress(httpx.HTTPError),
        httpx.stream("GET", f"{url}/events", timeout=30) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.put((time.monotonic(), name, json.loads(line[6:])))


def test_an_open_page_is_told_within_a_second(site: tuple[str, Store], now: datetime) -> None:
    url, store = site
    events: queue.Queue[tuple[float, str, dict[str, object]]] = queue.Queue()
    threading.Thread(target=listen, args=(url, events), daemon=True).start()
    assert events.get(timeout=10)[1] == "hello"
    time.sleep(0.3)  # the watcher has read where the store is
    began = time.monotonic()
    AlertChanges(store).ingest(
        [mail("Airflow alert: <TaskInstance: x.y 2024-01-01 [failed]>", now)]
    )
    at, name, data = events.get(timeout=5)
    assert name == "change" and at - began < 1.0
    assert {"alerts", "alert-1"} <= set(data["topics"])  # type: ignore[arg-type]
    assert data["unacked"] == 1 and len(data["new"]) == 1  # type: ignore[arg-type]
    # a storm: many commits in a second are told in a few events, none lost
    for n in range(40):
        with store.session() as session:
            SalLog(session).append("ann", f"entry {n}", source="cli")
    time.sleep(1.5)
    told = []
    while not events.empty():
        told.append(events.get_nowait())
    assert 1 <= len(told) <= 3  # at least a second apart
    assert all("sal" in data["topics"] for _, _, data in told)  # type: ignore[operator]


def test_reading_the_stream_needs_what_the_pages_need(web_store: Store, token: str) -> None:
    settings = load_settings(env={**os.environ, "OPSWEEK_WEB_PUBLIC_READ": "false"})
    with serve_app(create_app(App(settings, store=web_store))) as url:
        assert httpx.get(f"{url}/events", timeout=5).status_code == 401
        spoofed = {"X-Remote-User": "alertbot", "X-Forwarded-For": "10.0.0.1"}
        assert httpx.get(f"{url}/events", headers=spoofed, timeout=5).status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}
        with httpx.stream("GET", f"{url}/events", headers=bearer, timeout=5) as stream:
            assert stream.status_code == 200
            assert next(stream.iter_lines()) == "event: hello"


def test_too_many_changed_alerts_to_name_tell_every_alert_page(
    web_store: Store, now: datetime
) -> None:
    cursor, _ = read_change(web_store, Cursor())
    mails = [
        mail(f"Airflow alert: <TaskInstance: d.t{n} 2024-01-01 [failed]>", now) for n in range(60)
    ]
    AlertChanges(web_store).ingest(mails)
    _, change = read_change(web_store, cursor)
    assert change.topics == {"alerts", "alert-unnamed"}
    assert len(change.new) == 5  # named for notifications: the newest five
