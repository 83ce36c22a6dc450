"""Tokens and sessions end with the person: a removed member's token and browser session
stop working, a cookie kept from before a logout reads nothing, and a login gets a new CSRF
token."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store
from opsweek.passwords import set_password
from opsweek.rotation.people import PersonRecord
from opsweek.rotation.team import Team
from opsweek.tokens import Tokens
from opsweek.web import create_app
from opsweek.web.auth import EPOCH_SECONDS
from tests.web.test_login_forms import PASSWORD, csrf_of


@pytest.fixture
def closed(web_store: Store) -> TestClient:
    """The app with reading closed (web.public_read = false), carol on the team."""
    with web_store.session() as session:
        Team(session).add(PersonRecord("carol", "Carol"))
        set_password(session, "carol", PASSWORD)
    settings = load_settings(env={**os.environ, "OPSWEEK_WEB_PUBLIC_READ": "false"})
    return TestClient(create_app(App(settings, store=web_store)))


def log_in(client: TestClient, user: str = "carol") -> None:
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"username": user, "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303


def remove(store: Store, user: str) -> None:
    with store.session() as session:
        Team(session).remove(user)


def test_a_removed_members_token_stops_writing(closed: TestClient, web_store: Store) -> None:
    with web_store.session() as session:
        token = Tokens(session).create("carol", "laptop")[1]
        service = Tokens(session).create("alertmanager", "webhook")[1]  # nobody of the team
    auth = {"Authorization": f"Bearer {token}"}
    assert closed.post("/api/v1/sal", json={"message": "first"}, headers=auth).status_code == 201
    remove(web_store, "carol")
    time.sleep(EPOCH_SECONDS)  # the token cache notices within this
    refused = closed.post("/api/v1/sal", json={"message": "after"}, headers=auth)
    assert refused.status_code == 401
    assert closed.get("/api/v1/alerts", headers=auth).status_code == 401
    ok = closed.get("/api/v1/alerts", headers={"Authorization": f"Bearer {service}"})
    assert ok.status_code == 200  # a service account's token is not anybody's to remove


def test_a_removed_members_session_stops(closed: TestClient, web_store: Store) -> None:
    log_in(closed)
    token = csrf_of(closed, "/")
    assert closed.post("/sal", data={"csrf": token, "message": "ok"}).status_code == 200
    remove(web_store, "carol")
    refused = closed.post(
        "/sal", data={"csrf": token, "message": "after removal"}, follow_redirects=False
    )
    assert refused.status_code == 401
    assert closed.get("/inbox", follow_redirects=False).status_code == 303  # to the login


def test_a_cookie_kept_from_before_logout_reads_nothing(closed: TestClient) -> None:
    log_in(closed)
    kept = dict(closed.cookies)
    assert closed.get("/inbox", follow_redirects=False).status_code == 200
    token = csrf_of(closed, "/")
    assert closed.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    closed.cookies.clear()
    for name, value in kept.items():
        closed.cookies.set(name, value)  # the stolen or saved cookie
    assert closed.get("/inbox", follow_redirects=False).status_code == 303
    assert "log out" not in closed.get("/login").text


def test_a_login_gets_a_new_csrf_token(closed: TestClient) -> None:
    before = csrf_of(closed)
    log_in(closed)
    after = csrf_of(closed, "/")
    assert before != after
    stale = closed.post("/sal", data={"csrf": before, "message": "fixated"})
    assert stale.status_code == 403


def test_logging_out_ends_every_session_of_the_person(
    closed: TestClient, web_store: Store, tmp_path: Path
) -> None:
    other = TestClient(closed.app)
    log_in(closed)
    log_in(other)
    token = csrf_of(closed, "/")
    closed.post("/logout", data={"csrf": token})
    assert other.get("/inbox", follow_redirects=False).status_code == 303
