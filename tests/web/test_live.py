"""Live updates: /events tells an open page what changed as it is committed, whichever
process committed it; reading it needs what reading the pages needs."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
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


def _stream_ends(
    url: str,
    headers: dict[str, str],
    cookies: httpx.Cookies | None,
    end: Callable[[], None],
    store: Store,
) -> list[str]:
    """Open the stream, then ``end`` the credential it was opened with and commit a change:
    the events it still got (the stream must end instead of telling the change)."""
    got: list[str] = []
    with (
        httpx.Client(cookies=cookies, headers=headers, timeout=10) as reader,
        reader.stream("GET", f"{url}/events") as stream,
    ):
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert next(lines) == "event: hello"
        time.sleep(0.3)
        end()
        with store.session() as session:
            SalLog(session).append("ann", "said after the end", source="cli")
        began = time.monotonic()
        for line in lines:  # ends when the server closes the stream
            got.append(line)
            assert time.monotonic() - began < 8, "the stream went on"
    return got


def test_a_stream_ends_with_the_login_or_token_that_opened_it(web_store: Store) -> None:
    """Issue 29: with reading closed, a stream opened before a logout, a password change, a
    removal or a revoked token kept telling what changed (alert titles, who is on duty)."""
    from opsweek.passwords import set_password
    from opsweek.rotation.people import PersonRecord
    from opsweek.rotation.team import Team
    from opsweek.tokens import Tokens

    with web_store.session() as session:
        Team(session).add(PersonRecord("ann", "Ann"))
        set_password(session, "ann", "correct horse battery")
        token_row, token = Tokens(session).create("ann", "script")
    settings = load_settings(env={**os.environ, "OPSWEEK_WEB_PUBLIC_READ": "false"})
    with serve_app(create_app(App(settings, store=web_store))) as url:
        browser = httpx.Client(base_url=url, timeout=10)
        form = browser.get("/login").text
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        browser.post(
            "/login",
            data={"username": "ann", "password": "correct horse battery", "csrf": csrf},
        )

        def log_out() -> None:
            csrf = browser.get("/").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            assert browser.post("/logout", data={"csrf": csrf}).status_code in (200, 303)

        told = _stream_ends(url, {}, browser.cookies, log_out, web_store)
        assert not any(line.startswith('data: {"topics"') for line in told)

        def revoke() -> None:
            with web_store.session() as session:
                Tokens(session).revoke(token_row.id)
            time.sleep(1.1)  # a revocation is seen by every worker within a second

        bearer = {"Authorization": f"Bearer {token}"}
        told = _stream_ends(url, bearer, None, revoke, web_store)
        assert not any(line.startswith('data: {"topics"') for line in told)
        browser.close()


def test_streams_are_capped_per_client_and_in_all_and_pages_are_still_served(
    web_store: Store,
) -> None:
    """Issue 29: 1,000 idle streams took every descriptor of the systemd default (1024), and
    every other request failed. Beyond the caps a stream is answered 503; pages and the
    intake's health answer all the same. (127.0.0.1 is a trusted proxy: X-Forwarded-For
    names each client.)"""
    env = {
        **os.environ,
        "OPSWEEK_WEB_MAX_STREAMS": "5",
        "OPSWEEK_WEB_MAX_STREAMS_PER_CLIENT": "3",
    }
    with (
        serve_app(create_app(App(load_settings(env=env), store=web_store))) as url,
        contextlib.ExitStack() as held,
        httpx.Client(timeout=10) as client,
    ):

        def stream(address: str) -> int:
            response = held.enter_context(
                client.stream("GET", f"{url}/events", headers={"X-Forwarded-For": address})
            )
            return response.status_code

        assert [stream("10.0.0.1") for _ in range(4)] == [200, 200, 200, 503]
        assert [stream("10.0.0.2") for _ in range(3)] == [200, 200, 503]  # 5 in all
        assert client.get(f"{url}/healthz").status_code == 200
        assert client.get(f"{url}/").status_code == 200
    with (
        serve_app(create_app(App(load_settings(env=env), store=web_store))) as url,
        httpx.Client(timeout=10) as client,
    ):  # closed streams are counted no more
        for _ in range(3):
            with client.stream("GET", f"{url}/events") as response:
                assert response.status_code == 200
        time.sleep(0.5)
        with client.stream("GET", f"{url}/events") as response:
            assert response.status_code == 200
