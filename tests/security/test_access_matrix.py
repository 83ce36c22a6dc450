"""Every route of the web app against every way of not being allowed: no credentials, a
wrong, revoked or removed member's token, a cookie kept from before a logout, a real session
used from another site, and proxy headers sent by someone who is not the proxy. Changes are
refused (401/403) and leave the store as it was; with reading closed, reads are refused too.
Routes come from the app itself: a new route fails here until it is put in a table below."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response

from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store, open_store
from opsweek.passwords import set_password
from opsweek.rotation.people import PersonRecord
from opsweek.rotation.team import Team
from opsweek.tokens import Tokens
from opsweek.web import create_app
from tests.alerts.helpers import raw_inputs
from tests.web.test_login_forms import PASSWORD, csrf_of

PARAMS = {
    "{alert_id}": "1",
    "{instance_id}": "1",
    "{step}": "1",
    "{entry_id}": "1",
    "{username}": "carol",
    "{action}": "clear",
    "{silence_id}": "0a1b2c3d-silence",
    "{check}": "mw-history",
}
FORM_BODIES: dict[str, dict[str, str]] = {
    "/logout": {},
    "/alerts/{alert_id}/ack": {},
    "/alerts/{alert_id}/unack": {},
    "/alerts/{alert_id}/silence": {"matchers": "alertname=X", "comment": "maintenance"},
    "/silences/{silence_id}/expire": {},
    "/alerts/ack": {"alert": "1"},
    "/alerts/{alert_id}/resolve": {"note": "fixed"},
    "/alerts/{alert_id}/note": {"text": "looked"},
    "/alerts/{alert_id}/airflow/{action}": {},
    "/alerts/{alert_id}/refine/rerun": {},
    "/checks/{check}/run": {},
    "/alerts/{alert_id}/steps/{step}/run": {},
    "/handoff/tasks": {},
    "/sal": {"message": "restarted hive"},
    "/duties/{instance_id}/steps/{step}": {},
    "/duties/{instance_id}/done": {"note": "done"},
    "/duties/{instance_id}/skip": {"reason": "holiday"},
    "/rotation/swap": {"week": "2026-12-03", "other_week": "2026-12-10"},
    "/rotation/cover": {"week": "2026-12-03", "username": "carol"},
}
API_BODIES: dict[str, dict[str, object] | bytes] = {
    "/api/v1/sal": {"message": "restarted hive"},
    "/api/v1/alerts/{alert_id}/ack": {},
    "/api/v1/alerts/{alert_id}/unack": {},
    "/api/v1/silences": {"matchers": ["alertname=X"], "comment": "maintenance"},
    "/api/v1/silences/{silence_id}": {},
    "/api/v1/alerts/{alert_id}/resolve": {"note": "fixed"},
    "/api/v1/alerts/{alert_id}/notes": {"text": "looked"},
    "/api/v1/alerts/{alert_id}/airflow/{action}": {},
    "/api/v1/alerts/{alert_id}/refine/rerun": {},
    "/api/v1/checks/{check}/run": {},
    "/api/v1/alerts/{alert_id}/steps/{step}/run": {"confirm": ""},
    "/api/v1/duties/{instance_id}/done": {"note": "done"},
    "/api/v1/duties/{instance_id}/skip": {"reason": "holiday"},
    "/api/v1/duties/{instance_id}/steps/{step}": {},
    "/api/v1/intake/alertmanager": {"version": "4", "status": "firing", "alerts": []},
    "/api/v1/intake/email": raw_inputs("airflow_task_failed.eml")[0].content,
}
OPEN = {"/healthz", "/login"}  # readable by anyone, whatever web.public_read says
LOGIN = "/login"  # a write anyone may try; tested on its own below


def routes(app: object) -> list[tuple[str, str]]:
    """(method, path) of every route the app answers, the intake endpoints included. Routers
    the app includes are walked too (FastAPI wraps them; their routes carry their prefix)."""

    def walk(entries: list[Any]) -> Iterator[APIRoute]:
        for entry in entries:
            if isinstance(entry, APIRoute):
                yield entry
            elif hasattr(entry, "original_router"):
                yield from walk(entry.original_router.routes)

    found = {
        (method, route.path)
        for route in walk(app.routes)  # type: ignore[attr-defined]
        for method in route.methods
        if method != "HEAD"
    }
    return sorted(found)


def concrete(path: str) -> str:
    for name, value in PARAMS.items():
        path = path.replace(name, value)
    return path


@dataclass
class Caller:
    """One way of calling: headers, and a client whose cookie jar may hold a session."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    allowed_to_read: bool = False
    allowed_to_write: bool = False  # a positive control: the request itself is well formed


@dataclass
class World:
    store: Store
    path: Path
    tokens: dict[str, str]
    make_client: Callable[[], TestClient]
    public_read: bool


def snapshot(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


@pytest.fixture(params=[True, False], ids=["public-read", "closed-read"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    path = tmp_path / "matrix.db"
    store = open_store(f"sqlite:///{path}")
    with store.writing() as session:
        team = Team(session)
        for user in ("carol", "dave"):
            team.add(PersonRecord(user, user.title()))
            set_password(session, user, PASSWORD)
        AlertChanges(store).ingest(
            raw_inputs("airflow_task_failed.eml"),
            None,
            session,  # seen now
        )
        tokens = Tokens(session)
        old, revoked = tokens.create("carol", "old laptop")
        tokens.revoke(old.id)
        made = {
            "carol": tokens.create("carol", "laptop")[1],
            "service": tokens.create("alertmanager", "webhook")[1],
            "revoked": revoked,
            "dave": tokens.create("dave", "laptop")[1],
        }
        team.remove("dave")
    env = {
        **os.environ,
        "OPSWEEK_WEB_PUBLIC_READ": "true" if request.param else "false",
        "OPSWEEK_WEB_TRUSTED_HEADER": "X-Remote-User",
        "OPSWEEK_WEB_TRUSTED_PROXIES": "10.0.0.9",
        "OPSWEEK_WEB_SECRET_KEY": "matrix-" + "k" * 40,
    }
    settings = load_settings(env=env)
    yield World(
        store,
        path,
        made,
        lambda: TestClient(create_app(App(settings, store=store)), base_url="http://ops"),
        public_read=request.param,
    )
    store.close()


def log_in(client: TestClient, user: str = "carol") -> str:
    """Log in; the session's CSRF token."""
    response = client.post(
        "/login",
        data={"username": user, "password": PASSWORD, "csrf": csrf_of(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return csrf_of(client, "/")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ALLOWED = {"allowed_to_read": True, "allowed_to_write": True}


def callers(world: World) -> Iterator[tuple[Caller, TestClient]]:
    def fresh() -> TestClient:
        return world.make_client()

    client = fresh()
    yield Caller("anonymous", csrf=csrf_of(client)), client
    client = fresh()
    yield Caller("wrong token", bearer("ow_" + "x" * 40), csrf=csrf_of(client)), client
    client = fresh()
    yield Caller("revoked token", bearer(world.tokens["revoked"]), csrf=csrf_of(client)), client
    client = fresh()
    yield Caller("removed member's token", bearer(world.tokens["dave"])), client

    client = fresh()
    csrf = log_in(client)
    kept = dict(client.cookies)
    client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    client.cookies.clear()
    for name, value in kept.items():
        client.cookies.set(name, value)
    yield Caller("cookie kept from before a logout", csrf=csrf), client

    client = fresh()
    csrf = log_in(client)
    yield (
        Caller(
            "real session, other site",
            {"Origin": "https://evil.example", "Referer": "https://evil.example/"},
            csrf=csrf,
            allowed_to_read=True,
        ),
        client,
    )

    client = fresh()
    spoof = {
        "X-Remote-User": "carol",
        "X-Forwarded-For": "10.0.0.9",
        "X-Real-IP": "10.0.0.9",
        "Forwarded": "for=10.0.0.9",
    }
    yield Caller("proxy headers from a non-proxy", spoof, csrf=csrf_of(client)), client

    client = fresh()
    yield Caller("member token", bearer(world.tokens["carol"]), **ALLOWED), client
    client = fresh()
    yield Caller("service token", bearer(world.tokens["service"]), **ALLOWED), client
    client = fresh()
    csrf = log_in(client)
    yield Caller("member session", csrf=csrf, **ALLOWED), client


STREAMS = {"/events"}  # answers that never end, which the test client would wait for


def send(client: TestClient, caller: Caller, method: str, path: str) -> Response:
    url = concrete(path)
    if method == "GET":
        return client.get(url, headers=caller.headers, follow_redirects=False)
    if method == "DELETE":
        assert path in API_BODIES, f"DELETE {path} is new: put it in API_BODIES"
        return client.delete(url, headers=caller.headers, follow_redirects=False)
    if path in API_BODIES or path.startswith("/api/"):
        body = API_BODIES.get(path)
        if body is None:
            pytest.fail(f"POST {path} is new: give it a body in API_BODIES")
        headers = dict(caller.headers)
        if isinstance(body, bytes):
            headers["Content-Type"] = "message/rfc822"
            return client.post(url, content=body, headers=headers, follow_redirects=False)
        return client.post(url, json=body, headers=headers, follow_redirects=False)
    if path not in FORM_BODIES:
        pytest.fail(f"POST {path} is new: give it a form in FORM_BODIES")
    data = {**FORM_BODIES[path], "csrf": caller.csrf}
    return client.post(url, data=data, headers=caller.headers, follow_redirects=False)


def refused(response: Response) -> bool:
    """401/403, or a page's redirect to the login form."""
    login = response.headers.get("location", "").startswith("/login?next=")
    return response.status_code in (401, 403) or (response.status_code == 303 and login)


def test_every_route_against_every_caller(world: World) -> None:
    all_routes = routes(world.make_client().app)
    assert len(all_routes) > 30  # the app's routes were found
    public = world.public_read
    wrong: list[str] = []
    for caller, client in callers(world):
        for method, path in all_routes:
            if path == LOGIN and method == "POST":
                continue
            if path in STREAMS:
                continue  # never ends: tests/web/test_live.py checks who may read it
            if caller.name == "member session" and path == "/logout":
                continue  # a positive control that would end the session the others use
            before = snapshot(world.path) if method != "GET" else None
            response = send(client, caller, method, path)
            status = response.status_code
            if method == "GET":
                expected_open = public or path in OPEN or caller.allowed_to_read
                if expected_open and refused(response):
                    wrong.append(f"{caller.name}: GET {path} refused ({status})")
                if not expected_open and not refused(response):
                    wrong.append(f"{caller.name}: GET {path} answered {status}")
                continue
            web_form = not path.startswith("/api/")
            may_write = caller.allowed_to_write and (web_form == (caller.name == "member session"))
            if may_write:
                if refused(response) or status == 422:
                    wrong.append(f"{caller.name}: POST {path} refused ({status})")
                continue
            if not refused(response) or status == 303:
                wrong.append(f"{caller.name}: POST {path} answered {status}")
            if snapshot(world.path) != before:
                wrong.append(f"{caller.name}: POST {path} changed the store ({status})")
    assert not wrong, "\n".join(wrong)


def test_logging_in_needs_the_csrf_token_and_this_site(world: World) -> None:
    client = world.make_client()
    form = {"username": "carol", "password": PASSWORD}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 403
    csrf = csrf_of(client)
    other_site = client.post(
        "/login",
        data={**form, "csrf": csrf},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert other_site.status_code == 403
    not_logged_in = client.post("/sal", data={"message": "x", "csrf": csrf})
    assert not_logged_in.status_code == 401
    removed = client.post(
        "/login", data={"username": "dave", "password": PASSWORD, "csrf": csrf}
    ).status_code
    assert removed == 401  # a removed member's password no longer logs in
