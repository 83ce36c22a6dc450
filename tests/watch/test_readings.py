"""The last reading of the tracker and the collaboration channel: kept by `opsweek today` and
the serve loop, shown on the Today page without waiting on those systems."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from opsweek.adapters.chat import Question
from opsweek.adapters.tracker import Task
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store, open_store
from opsweek.errors import Unavailable
from opsweek.server import Server
from opsweek.watch.readings import last_readings
from opsweek.web import create_app

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(3)</script> why is refine_event late?"


class FakeChat:
    name = "fake"

    def questions(self, channel: str, since: datetime) -> list[Question]:
        assert channel == "C0COLLAB"
        return [
            Question(channel, "1.1", "U_ASKER", HOSTILE, NOW - timedelta(hours=30)),
            Question(channel, "1.2", "U_ASKER", "answered", NOW - timedelta(hours=30), ("U_B",)),
            Question(channel, "1.3", "U_ASKER", "asked just now", NOW - timedelta(hours=2)),
        ]


class FakeTracker:
    name = "fake"

    def __init__(self) -> None:
        self.down = False

    def ops_tasks(self) -> list[Task]:
        if self.down:
            raise Unavailable("Phabricator: connection refused")
        return [
            Task("T1001", "Rerun webrequest", "open", "Open", "ana", "https://phab/T1001", NOW),
            Task("T1002", "Sneaky", "progress", "In Progress", None, "javascript:alert(4)", NOW),
        ]


def test_today_keeps_the_reading_and_the_page_shows_it(tmp_path: Path) -> None:
    settings = load_settings(
        env={"OPSWEEK_DATA_DIR": str(tmp_path), "OPSWEEK_CHAT_COLLAB_CHANNEL": "C0COLLAB"}
    )
    store: Store = open_store(settings.database_url)
    tracker = FakeTracker()
    ops = App(settings, store=store, tracker=tracker, chat=FakeChat())
    with store.session() as session:
        view = ops.today(session, NOW)
        assert [q.ts for q in view.questions or []] == ["1.1", "1.3"]  # overdue first
    with store.session() as session:
        readings = last_readings(session)
        assert [q["ts"] for q in readings["chat"].items or []] == ["1.1", "1.3"]
        assert [t["ref"] for t in readings["tracker"].items or []] == ["T1001", "T1002"]
        assert readings["tracker"].error is None
    tracker.down = True
    later = NOW + timedelta(minutes=10)
    with store.session() as session:
        view = ops.today(session, later)
        assert view.unavailable == ["tracker: Phabricator: connection refused"]
    with store.session() as session:
        tracker_reading = last_readings(session)["tracker"]
        assert tracker_reading.error == "Phabricator: connection refused"
        assert tracker_reading.read_at == later and len(tracker_reading.items or []) == 2

    page = TestClient(create_app(ops)).get("/").text
    assert "Unanswered in the collaboration channel" in page
    assert "&lt;script&gt;alert(3)&lt;/script&gt; why is refine_event late?" in page
    assert "<script>alert(3)" not in page and "answered" not in page.split("Unanswered", 1)[1]
    assert '<tr class="overdue"><td>overdue by ' in page  # the page reads them days later
    assert "asked just now" in page
    assert '<a href="https://phab/T1001">T1001</a>' in page
    assert "javascript:" not in page  # an odd URL is shown as text, never as a link
    assert "Could not read the tracker: Phabricator: connection refused" in page
    store.close()


def test_the_server_reads_and_keeps(tmp_path: Path) -> None:
    settings = load_settings(
        env={
            "OPSWEEK_DATA_DIR": str(tmp_path),
            "OPSWEEK_CHAT_COLLAB_CHANNEL": "C0COLLAB",
            "OPSWEEK_CHECKS_INTERVAL_MINUTES": "0",
        }
    )
    store = open_store(settings.database_url)
    server = Server(App(settings, store=store, tracker=FakeTracker(), chat=FakeChat()))
    server.start()
    try:
        deadline = time.monotonic() + 10
        while True:
            with store.session() as session:
                if set(last_readings(session)) == {"chat", "tracker"}:
                    break
            assert time.monotonic() < deadline, "the loop kept nothing"
            time.sleep(0.05)
    finally:
        server.stop()
    assert all(not job.is_alive() for job in server._jobs if job.join(timeout=10) is None)
    store.close()
