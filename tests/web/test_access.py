"""Reading can be closed (web.public_read = false), and an SSO proxy in front can name the user
in a trusted header; the header counts only from a trusted proxy and only for team members."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert
from opsweek.db.session import Store
from opsweek.rotation.people import PersonRecord
from opsweek.rotation.team import Team
from opsweek.web import create_app
from tests.alerts.helpers import raw_inputs


def app_client(store: Store, **env: str) -> Iterator[TestClient]:
    settings = load_settings(env={f"OPSWEEK_{k.upper()}": v for k, v in env.items()})
    with TestClient(create_app(App(settings, store=store))) as client:
        yield client


@pytest.fixture
def people(web_store: Store) -> Store:
    with web_store.writing() as session:
        Team(session).add(PersonRecord("ann", "Ann"))
        AlertChanges(web_store).ingest(raw_inputs("airflow_task_failed.eml"), None, session)
    return web_store


def test_closed_reading_needs_a_login_or_a_token(people: Store, token: str) -> None:
    for client in app_client(people, web_public_read="false"):
        page = client.get("/inbox", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/inbox"
        assert client.get("/login").status_code == 200
        api = client.get("/api/v1/alerts")
        assert api.status_code == 401 and api.json()["title"] == "log in or send an API token"
        assert (
            client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        )
        assert client.get("/healthz").status_code == 200


def test_trusted_header_from_a_trusted_proxy(people: Store) -> None:
    # the test client connects from "testclient": trust it as the proxy
    for client in app_client(
        people, web_trusted_header="X-Remote-User", web_trusted_proxies="testclient"
    ):
        page = client.get("/alerts/1", headers={"X-Remote-User": "ann"}).text
        assert "acknowledge</button>" in page  # ann is known: she may act
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        done = client.post(
            "/alerts/1/ack",
            data={"csrf": token},
            headers={"X-Remote-User": "ann"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        stranger = client.get("/alerts/1", headers={"X-Remote-User": "mallory"}).text
        assert "acknowledge</button>" not in stranger  # not a team member: anonymous
    with people.session() as session:
        assert session.scalar(select(Alert.acked_by).where(Alert.id == 1)) == "ann"


def test_trusted_header_from_elsewhere_is_ignored(people: Store) -> None:
    for client in app_client(people, web_trusted_header="X-Remote-User"):  # proxies: loopback
        page = client.get("/alerts/1", headers={"X-Remote-User": "ann"}).text
        assert "acknowledge</button>" not in page
