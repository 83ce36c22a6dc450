"""Password guessing is limited per user and per address (429 with Retry-After, without
hashing), and however many logins arrive at once, only a few hashes are computed at a time."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from opsweek.db.session import Store
from opsweek.passwords import set_password
from opsweek.rotation.people import PersonRecord
from opsweek.rotation.team import Team
from opsweek.web.login_guard import CONCURRENT_HASHES, FAILURES_PER_USER, LoginGuard
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


def test_the_guard_counts_a_window_and_forgets() -> None:
    now = [0.0]
    guard = LoginGuard(window=60, per_user=2, per_address=3, clock=lambda: now[0])
    guard.failed("carol", "10.0.0.1")
    guard.failed("carol", "10.0.0.1")
    assert guard.wait_seconds("carol", "10.0.0.9") == 60  # the user is limited everywhere
    guard.failed("dave", "10.0.0.1")
    assert guard.wait_seconds("erin", "10.0.0.1") == 60  # the address is limited for all
    now[0] = 61
    assert guard.wait_seconds("carol", "10.0.0.1") == 0


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
