"""Logging in, CSRF, and changing things from the pages: the actor is the logged-in user."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.db.models import Alert, SalEntry
from opsweek.db.session import Store
from opsweek.passwords import set_password
from opsweek.rotation.people import PersonRecord
from opsweek.rotation.team import Team
from tests.alerts.helpers import raw_inputs

PASSWORD = "correct horse battery"


def setup(store: Store) -> None:
    with store.writing() as session:
        Team(session).add(PersonRecord("ann", "Ann"))
        set_password(session, "ann", PASSWORD)
        AlertChanges(store).ingest(
            raw_inputs("airflow_task_failed.eml"),
            None,
            session,  # seen now
        )


def csrf_of(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def log_in(client: TestClient, password: str = PASSWORD) -> int:
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"username": "ann", "password": password, "csrf": token, "next": "/alerts/1"},
        follow_redirects=False,
    )
    return response.status_code


def test_login_then_ack_resolve_note_and_log(client: TestClient, web_store: Store) -> None:
    setup(web_store)
    assert log_in(client, "wrong password!!") == 401
    assert log_in(client) == 303
    page = client.get("/alerts/1").text
    assert "acknowledge</button>" in page and "ann" in page
    token = csrf_of(client, "/alerts/1")
    assert (
        client.post("/alerts/1/ack", data={"csrf": token}, follow_redirects=False).status_code
        == 303
    )
    client.post("/alerts/1/note", data={"csrf": token, "text": "looking"})
    assert client.post("/alerts/1/resolve", data={"csrf": token, "note": ""}).status_code == 400
    client.post("/alerts/1/resolve", data={"csrf": token, "note": "cleared the task"})
    client.post("/sal", data={"csrf": token, "message": "reran edit_hourly from the web"})
    with web_store.session() as session:
        alert = session.get(Alert, 1)
        assert alert is not None
        assert (alert.acked_by, alert.resolved_by, alert.status) == ("ann", "ann", "resolved")
        assert set(session.scalars(select(SalEntry.nick))) == {"ann"}
    client.post("/logout", data={"csrf": token})
    assert "acknowledge</button>" not in client.get("/alerts/1").text


def test_forms_refuse_missing_csrf_and_cross_site(client: TestClient, web_store: Store) -> None:
    setup(web_store)
    assert log_in(client) == 303
    assert client.post("/alerts/1/ack", data={}).status_code == 403
    assert client.post("/alerts/1/ack", data={"csrf": "forged"}).status_code == 403
    token = csrf_of(client, "/alerts/1")
    cross = client.post(
        "/alerts/1/ack", data={"csrf": token}, headers={"Origin": "https://evil.example.org"}
    )
    assert cross.status_code == 403 and cross.json()["title"] == "cross-site request refused"
    with web_store.session() as session:
        alert = session.get(Alert, 1)
        assert alert is not None and alert.status == "firing"


def test_login_redirect_stays_on_this_site(client: TestClient, web_store: Store) -> None:
    setup(web_store)
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={
            "username": "ann",
            "password": PASSWORD,
            "csrf": token,
            "next": "//evil.example.org/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_session_cookie_flags(client: TestClient) -> None:
    response = client.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
