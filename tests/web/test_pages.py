"""The read-only pages render the demo data, and hostile alert text is shown as text."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import EMAIL
from opsweek.alerts.model import RawInput
from opsweek.config import load_settings
from opsweek.db.session import Store
from opsweek.demo import seed
from opsweek.rotation.views import RotationConfig

HOSTILE = (
    b"From: x@example.org\r\nSubject: <script>alert(1)</script>\r\n\r\n"
    b"<img src=x onerror=alert(2)>\r\n"
)


def load_demo(store: Store, now: datetime) -> None:
    with store.writing() as session:
        config = RotationConfig.from_settings(load_settings(env={}).rotation)
        seed(AlertChanges(store), session, config, now)
        AlertChanges(store).ingest([RawInput(HOSTILE, EMAIL, now, "test")], None, session)


def test_every_page_renders(client: TestClient, web_store: Store, now: datetime) -> None:
    load_demo(web_store, now)
    for path in (
        "/",
        "/inbox",
        "/inbox?status=resolved",
        "/alerts/1",
        "/sal",
        "/sal/1",
        "/sal?q=refine_event",
        "/rotation",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
    today = client.get("/").text
    assert "is on ops duty until" in today and "Open alerts" in today
    alert = client.get("/alerts/1").text
    assert "Runbook" in alert and '<pre><code data-lang="shell">sudo -u analytics' in alert


def test_hostile_text_is_escaped(client: TestClient, web_store: Store, now: datetime) -> None:
    load_demo(web_store, now)
    inbox = client.get("/inbox").text
    assert "<script>alert(1)</script>" not in inbox
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in inbox
    hostile_id = inbox.split("&lt;script&gt;")[0].rsplit("/alerts/", 1)[1].split('"')[0]
    page = client.get(f"/alerts/{hostile_id}").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page


def test_bad_filters_and_missing_alert(client: TestClient, web_store: Store) -> None:
    assert client.get("/inbox?status=bogus").status_code == 400
    missing = client.get("/alerts/424242")
    assert missing.status_code == 404 and missing.json()["detail"] == "no alert 424242"


def test_calendar_feeds_and_alert_gauges(
    client: TestClient, web_store: Store, now: datetime
) -> None:
    load_demo(web_store, now)
    team = client.get("/rotation.ics")
    assert team.headers["content-type"].startswith("text/calendar")
    assert team.text.count("BEGIN:VEVENT") == 18
    mine = client.get("/rotation/gsato.ics").text
    assert 0 < mine.count("BEGIN:VEVENT") < 18
    assert client.get("/rotation/nobody.ics").status_code == 404
    assert '/rotation/gsato.ics">gsato</a>' in client.get("/rotation").text
    metrics = client.get("/metrics").text
    assert 'opsweek_alerts{kind="refine_failure",status="firing"} 1.0' in metrics
    assert 'opsweek_alerts{kind="unparsed",status="firing"} 2.0' in metrics


def test_sal_day_view(client: TestClient, web_store: Store) -> None:
    from opsweek.sal.log import SalLog

    with web_store.session() as session:
        log = SalLog(session)
        log.append(
            "ana", "reran refine_event 2026-11-20T03", at=datetime(2026, 11, 20, 10, tzinfo=UTC)
        )
        log.append("ana", "restarted hive-server2", at=datetime(2026, 11, 21, 0, 30, tzinfo=UTC))
    page = client.get("/sal?day=2026-11-20").text
    assert "reran refine_event 2026-11-20T03" in page and "restarted hive-server2" not in page
    assert 'href="?day=2026-11-19"' in page and 'href="?day=2026-11-21"' in page
    assert "(1 entries)" in page
    assert client.get("/sal?day=yesterday").status_code == 400
