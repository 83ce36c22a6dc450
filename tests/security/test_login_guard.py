"""Password guessing is limited per user and per address (429 with Retry-After, without
hashing), however many logins arrive at once and whichever worker or server they reach; only
a few hashes are computed at a time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from opsweek.db.models import LoginFailure
from opsweek.db.session import Store
from opsweek.passwords import set_password
from opsweek.rotation.people import PersonRecord
from opsweek.rotation.team import Team
from opsweek.web.login_guard import CONCURRENT_HASHES, FAILURES_PER_USER, LoginGuard, Reservation
from tests.web.test_login_forms import PASSWORD, csrf_of


def attempt(client: TestClient, password: str, user: str = "carol") -> int:
    token = csrf_of(client)
    data = {"username": user, "password": password, "csrf": token}
    return client.post("/login", data=data, follow_redirects=False).status_code


def test_failed_logins_are_limited_per_user(client: TestClient, web_store: Store) -> None:
    with web_store.session() as session:
        Team(session).add(PersonRecord("carol", "Carol"))
        set_password(session, "carol", PASSWORD)
    answers = [attempt(client, f"guess number {n}") for n in range(FAILURES_PER_USER)]
    assert answers == [401] * FAILURES_PER_USER
    token = csrf_of(client)
    limited = client.post(
        "/login",
        data={"username": "carol", "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert attempt(client, "whatever", user="dave") == 401  # others are not locked out


def test_the_guard_counts_a_window_and_forgets(store: Store) -> None:
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    guard = LoginGuard(store, window=60, per_user=2, per_address=3, clock=lambda: now[0])
    assert isinstance(guard.reserve("carol", "10.0.0.1"), Reservation)
    assert isinstance(guard.reserve("carol", "10.0.0.1"), Reservation)
    assert guard.reserve("carol", "10.0.0.9") == 60  # the user is limited everywhere
    assert isinstance(guard.reserve("dave", "10.0.0.1"), Reservation)
    assert guard.reserve("erin", "10.0.0.1") == 60  # the address is limited for all
    now[0] += timedelta(seconds=61)
    ok = guard.reserve("carol", "10.0.0.1")
    assert isinstance(ok, Reservation)
    guard.succeeded(ok)  # a right password: no failure, and carol's are forgotten
    with store.session() as session:
        keys = sorted(session.scalars(select(LoginFailure.key)))
    assert keys == []  # the old ones expired, the last was released


def test_logins_sent_at_once_cannot_pass_the_limit(
    client: TestClient, web_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 29: the limit was checked before the hash and counted after it, so 99 wrong
    passwords and the right one sent at once logged in. However many arrive together, no
    more than the limit are checked."""
    import opsweek.web.routes.forms as forms

    with web_store.session() as session:
        Team(session).add(PersonRecord("carol", "Carol"))
        set_password(session, "carol", PASSWORD)
    check = forms.check_password
    started = threading.Barrier(20, timeout=10)

    def slow_check(session, username, password):  # type: ignore[no-untyped-def]
        time.sleep(0.2)  # every attempt is in flight while the first are hashed
        return check(session, username, password)

    monkeypatch.setattr(forms, "check_password", slow_check)
    answers: list[int] = []
    token = csrf_of(client)  # one browser session, many requests at once

    def guess(password: str) -> None:
        started.wait()
        data = {"username": "carol", "password": password, "csrf": token}
        answers.append(client.post("/login", data=data, follow_redirects=False).status_code)

    passwords = [f"guess number {n}" for n in range(19)] + [PASSWORD]
    threads = [threading.Thread(target=guess, args=(p,)) for p in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checked = [a for a in answers if a != 429]
    assert len(answers) == 20 and len(checked) <= FAILURES_PER_USER


def test_every_worker_shares_one_limit(web_store: Store) -> None:
    """Issue 29: each worker process counted on its own, so two workers doubled the limit.
    Two apps on one store stand for two workers (or two servers)."""
    from opsweek.app import App
    from opsweek.config import load_settings
    from opsweek.web import create_app

    with web_store.session() as session:
        Team(session).add(PersonRecord("carol", "Carol"))
        set_password(session, "carol", PASSWORD)
    settings = load_settings(env={"OPSWEEK_WEB_SECRET_KEY": "two workers"})
    with (
        TestClient(create_app(App(settings, store=web_store))) as one,
        TestClient(create_app(App(settings, store=web_store))) as two,
    ):
        answers = [attempt(one if n % 2 else two, f"guess {n}") for n in range(FAILURES_PER_USER)]
        assert answers == [401] * FAILURES_PER_USER
        assert attempt(one, PASSWORD) == 429
        assert attempt(two, PASSWORD) == 429


def test_only_a_few_hashes_at_once(client: TestClient, web_store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import opsweek.web.routes.forms as forms

    running, most = [0], [0]
    lock = threading.Lock()
    release = threading.Event()

    def slow_check(session, username, password):  # type: ignore[no-untyped-def]
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(0.3)
        with lock:
            running[0] -= 1
        return False

    monkeypatch.setattr(forms, "check_password", slow_check)
    threads = [threading.Thread(target=attempt, args=(client, "x", f"user{n}")) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 <= most[0] <= CONCURRENT_HASHES
