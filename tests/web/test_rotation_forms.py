"""Swapping and covering ops weeks from the Rotation page: logged in, CSRF checked, the rules
of the rotation applied, the user recorded in the rotation's history."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime

from fastapi.testclient import TestClient

from opsweek.alerts.changes import AlertChanges
from opsweek.config import load_settings
from opsweek.db.session import Store
from opsweek.demo import seed
from opsweek.errors import OpsweekError
from opsweek.passwords import set_password
from opsweek.rotation.service import Rotation
from opsweek.rotation.views import RotationConfig
from tests.web.test_login_forms import PASSWORD, csrf_of


def test_swap_and_cover_from_the_rotation_page(
    client: TestClient, web_store: Store, now: datetime
) -> None:
    config = RotationConfig.from_settings(load_settings(env={}).rotation)
    with web_store.writing() as session:
        seed(AlertChanges(web_store), session, config, now)
        set_password(session, "amartin", PASSWORD)
        rotation = Rotation(session, config, "test")
        published = [w for w in rotation.weeks(rotation.current_week) if w.published][1:]
        first = second = None
        for a, b in ((a, b) for a in published for b in published if a.week < b.week):
            if a.username == b.username:
                continue
            attempt = session.begin_nested()  # find a swap the rules allow, then undo it
            with contextlib.suppress(OpsweekError):  # this pair breaks a rule: try the next
                rotation.swap(a.week, b.week)
                first, second = a, b
            attempt.rollback()
            if first is not None:
                break
    assert first is not None and second is not None
    assert "Change the rotation" not in client.get("/rotation").text
    assert client.post("/rotation/swap", data={"week": str(first.week)}).status_code == 401
    token = csrf_of(client)
    client.post("/login", data={"username": "amartin", "password": PASSWORD, "csrf": token})
    page = client.get("/rotation").text
    assert "Change the rotation" in page and "<h2>Away</h2>" in page
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    swapped = client.post(
        "/rotation/swap",
        data={"csrf": token, "week": str(first.week), "other_week": str(second.week)},
        follow_redirects=False,
    )
    assert swapped.status_code == 303
    bad = client.post(
        "/rotation/cover", data={"csrf": token, "week": "not-a-date", "username": "x"}
    )
    assert bad.status_code == 400
    with web_store.session() as session:
        rotation = Rotation(session, config, "test")
        after = {
            w.week: w.username
            for w in rotation.weeks(first.week, second.week + (second.week - first.week))
        }
        changes = rotation.changes(limit=1)
    assert (after[first.week], after[second.week]) == (second.username, first.username)
    assert changes[0].actor == "amartin" and changes[0].action == "swap"
