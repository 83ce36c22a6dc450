"""The Inbox page: filters (status, kind, source, since), the group view, and acknowledging,
resolving and annotating in place."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.db.models import Alert
from opsweek.db.session import Store
from tests.alerts.helpers import raw_inputs
from tests.web.test_login_forms import csrf_of, log_in, setup


def add_refine_mail(store: Store, now: datetime, days_ago: int = 0) -> None:
    """One Refine e-mail naming several tables (several alerts in one group), last seen
    ``days_ago`` before ``now``; the Airflow alert of `setup` last seen ``now``."""
    with store.writing() as session:
        AlertChanges(store).ingest(raw_inputs("refine_failure.eml"), None, session)
        for alert in session.scalars(select(Alert)):
            alert.last_seen = alert.first_seen = (
                now if alert.kind == "airflow_task_failed" else now - timedelta(days=days_ago)
            )


def row_ids(page: str) -> list[int]:
    return sorted({int(i) for i in re.findall(r'<td><a href="/alerts/(\d+)">', page)})


def test_filters_by_kind_source_and_since(
    client: TestClient, web_store: Store, now: datetime
) -> None:
    setup(web_store)  # alert 1: an Airflow task failure, now
    add_refine_mail(web_store, now, days_ago=10)  # alerts 2..: a Refine e-mail ten days ago
    everything = row_ids(client.get("/inbox").text)
    assert len(everything) > 2
    assert row_ids(client.get("/inbox?kind=airflow_task_failed").text) == [1]
    assert row_ids(client.get("/inbox?source=airflow").text) == [1]
    assert row_ids(client.get("/inbox?since=3d").text) == [1]
    week_ago = (now - timedelta(days=7)).date().isoformat()
    assert row_ids(client.get(f"/inbox?since={week_ago}").text) == [1]
    assert row_ids(client.get("/inbox?since=30d").text) == everything
    assert '<option value="" selected>any' in client.get("/inbox?status=").text  # kept
    assert client.get("/inbox?since=yesterday-ish").status_code == 400
    assert client.get("/inbox?view=cards").status_code == 422


def test_group_view_shows_one_block_per_mail(
    client: TestClient, web_store: Store, now: datetime
) -> None:
    setup(web_store)
    add_refine_mail(web_store, now)
    with web_store.session() as session:
        refine = list(session.scalars(select(Alert).where(Alert.kind == "refine_failure")))
    page = client.get("/inbox").text  # grouped by default
    assert page.count('<details class="group') == 2  # the Airflow alert, the Refine e-mail
    assert f'title="{len(refine)} alerts"' in page and f"(+{len(refine) - 1} more)" in page
    assert row_ids(page) == row_ids(client.get("/inbox?view=list").text)  # every alert


def test_acknowledge_and_resolve_in_place(client: TestClient, web_store: Store) -> None:
    setup(web_store)
    anonymous = client.get("/inbox").text
    assert "/alerts/1/ack" not in anonymous  # no forms before logging in
    log_in(client)
    page = client.get("/inbox?kind=airflow_task_failed").text
    assert 'action="/alerts/1/ack"' in page and 'hx-target="#inbox"' in page
    assert 'name="back" value="/inbox?kind=airflow_task_failed"' in page
    token = csrf_of(client, "/inbox")
    back = "/inbox?kind=airflow_task_failed"
    acked = client.post("/alerts/1/ack", data={"csrf": token, "back": back}, follow_redirects=False)
    assert (acked.status_code, acked.headers["location"]) == (303, back)
    shown = client.get(back).text  # the inbox, at once: the page cache follows the store
    assert "◐ acknowledged" in shown and "<td>ann</td>" in shown
    away = client.post(
        "/alerts/1/note",
        data={"csrf": token, "text": "looking", "back": "//evil.example/x"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/alerts/1"  # never off this site
    client.post("/alerts/1/resolve", data={"csrf": token, "note": "cleared", "back": back})
    with web_store.session() as session:
        alert = session.get(Alert, 1)
        assert alert is not None and (alert.status, alert.resolved_by) == ("resolved", "ann")
    assert "/alerts/1/resolve" not in client.get(back + "&status=").text  # nothing left to do


def test_every_page_shows_the_unacknowledged_count_in_its_title_and_icon(
    client: TestClient, web_store: Store
) -> None:
    from urllib.parse import unquote

    def head(path: str) -> tuple[str, str]:
        page = client.get(path).text
        title = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
        icon = re.search(r'<link rel="icon" href="data:image/svg\+xml,([^"]+)"', page)
        assert title and icon, path
        return title.group(1), unquote(icon.group(1))

    title, icon = head("/")
    assert not title.startswith("(") and ">ok</text>" in icon  # nothing waiting
    setup(web_store)  # one firing alert
    for path in ("/", "/inbox", "/sal", "/alerts/1"):
        title, icon = head(path)
        assert title.startswith("(1) "), (path, title)
        assert ">1</text>" in icon and "#b00020" in icon
    log_in(client)
    client.post("/alerts/1/ack", data={"csrf": csrf_of(client, "/alerts/1")})
    assert not head("/inbox")[0].startswith("(")
