"""Duties on the Today page and through the API, and the Handoff page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from time_machine import TimeMachineFixture

from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import DutyInstance, SalEntry
from opsweek.db.session import Store
from opsweek.demo import seed
from opsweek.duties.service import Duties
from opsweek.passwords import set_password
from opsweek.rotation.views import RotationConfig
from opsweek.timeutil import zone
from tests.web.test_login_forms import PASSWORD, csrf_of


def load_demo(store: Store, now: datetime) -> str:
    settings = load_settings(env={})
    with store.writing() as session:
        result = seed(
            AlertChanges(store),
            session,
            RotationConfig.from_settings(settings.rotation),
            now,
            duties=App(settings).duty_book,
        )
        assert result.created
        # the demo leaves today's duties open only after they fell due: at night just the
        # offboarding is; a new wiki makes two open duties at any hour
        book, tz = App(settings).duty_book, zone(settings.team_timezone)
        Duties(session, book, tz, "amartin").open("new-wiki", {"wiki": "azywiki"})
        set_password(session, "amartin", PASSWORD)
    return "amartin"


def open_duties(store: Store) -> list[DutyInstance]:
    with store.session() as session:
        return list(
            session.scalars(
                select(DutyInstance).where(DutyInstance.state == "due").order_by(DutyInstance.id)
            )
        )


def test_today_lists_duties_and_a_logged_in_user_works_them(
    client: TestClient, web_store: Store, now: datetime
) -> None:
    user = load_demo(web_store, now)
    page = client.get("/").text
    assert "<h2>Duties</h2>" in page and "Offboard a departed user" in page
    assert "/done" not in page  # no forms before logging in
    token = csrf_of(client)
    client.post("/login", data={"username": user, "password": PASSWORD, "csrf": token})
    page = client.get("/").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    ids = [int(i) for i in re.findall(r'action="/duties/(\d+)/done"', page)]
    assert ids, "open duties have a done form"
    first, second = ids[0], ids[-1]
    ok = client.post(
        f"/duties/{first}/done", data={"csrf": token, "note": "all fine"}, follow_redirects=False
    )
    assert ok.status_code == 303
    assert (
        client.post(f"/duties/{second}/skip", data={"csrf": token, "reason": ""}).status_code == 400
    )
    assert client.post(f"/duties/{second}/skip", data={"reason": "x"}).status_code == 403
    client.post(f"/duties/{second}/skip", data={"csrf": token, "reason": "covered by Bastien"})
    with web_store.session() as session:
        done = session.get(DutyInstance, first)
        skipped = session.get(DutyInstance, second)
        assert done is not None and (done.state, done.closed_by) == ("done", user)
        assert skipped is not None and (
            skipped.state,
            skipped.note.endswith("covered by Bastien"),
        ) == (
            "skipped",
            True,
        )
        nicks = set(
            session.scalars(
                select(SalEntry.nick).where(SalEntry.message.contains(f"duty #{first}"))
            )
        )
        assert nicks == {user}


def test_duties_api_needs_a_token_to_change(
    client: TestClient, web_store: Store, token: str, now: datetime
) -> None:
    load_demo(web_store, now)
    listing = client.get("/api/v1/duties").json()
    assert listing["duties"] and {"id", "duty", "status", "steps"} <= set(listing["duties"][0])
    target = open_duties(web_store)[-1]
    assert client.post(f"/api/v1/duties/{target.id}/done", json={}).status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    if target.steps:
        ticked = client.post(f"/api/v1/duties/{target.id}/steps/{len(target.steps)}", headers=auth)
        assert ticked.status_code == 200 and ticked.json()["steps"][-1]["done_by"] == "alertbot"
    done = client.post(
        f"/api/v1/duties/{target.id}/done", json={"note": "ok", "alerts": [1]}, headers=auth
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    again = client.post(f"/api/v1/duties/{target.id}/done", json={}, headers=auth)
    assert again.status_code == 400 and "already done" in again.json()["detail"]
    missing = client.post("/api/v1/duties/999999/skip", json={"reason": "x"}, headers=auth)
    assert missing.status_code == 404
    assert client.get("/api/v1/duties?week=not-a-date").status_code == 400


def test_handoff_page_and_api(client: TestClient, web_store: Store, now: datetime) -> None:
    load_demo(web_store, now)
    page = client.get("/handoff")
    assert page.status_code == 200
    assert "Ops week handoff, week of" in page.text and "Alerts of the week, by kind" in page.text
    assert "<script>" not in page.text
    data = client.get("/api/v1/handoff").json()
    previous = client.get(f"/handoff?week={data['week']}").text
    assert f"week of {data['week']}" in previous
    assert data["figures"]["alerts"] >= 1
    assert client.get("/handoff?week=2999-01-01").status_code == 400


def test_a_duty_step_that_is_an_opsweek_command_is_the_action_itself(
    client: TestClient, web_store: Store, token: str, time_machine: TimeMachineFixture
) -> None:
    # a Thursday morning early in the month: the alarms and the snapshot's duty are due
    now = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
    time_machine.move_to(now, tick=True)
    user = load_demo(web_store, now)
    page = client.get("/").text
    assert 'href="/inbox?q=%40state%3Dactive" class="step-action"' in page  # a link for all
    assert "/checks/mw-history/run" not in page  # the button: for a logged-in person
    client.post("/login", data={"username": user, "password": PASSWORD, "csrf": csrf_of(client)})
    page = client.get("/").text
    assert 'action="/checks/mw-history/run"' in page
    assert '<details class="cli"><summary>command</summary>' in page  # the CLI, small, beside
    ran = client.post(
        "/checks/mw-history/run", data={"csrf": csrf_of(client)}, follow_redirects=False
    )
    assert ran.status_code == 303 and ran.headers["location"] == "/#duties"
    page = client.get("/").text
    shown = re.search(r'data-check="mw-history">(.*?)</div>', page, re.DOTALL)
    assert shown and "snapshot " in shown.group(1) and user in shown.group(1), page[-3000:]
    # the API runs the same, with a token; a check that does not run on request is refused
    headers = {"Authorization": f"Bearer {token}"}
    said = client.post("/api/v1/checks/mw-history/run", headers=headers).json()
    assert said["by"] == "alertbot" and said["summary"].startswith("snapshot ")
    refused = client.post("/api/v1/checks/canary/run", headers=headers)
    assert refused.status_code == 400 and "no check 'canary'" in refused.json()["detail"]


def test_the_api_lists_a_week_as_the_cli_does(
    client: TestClient, web_store: Store, now: datetime
) -> None:
    load_demo(web_store, now)
    listed = client.get("/api/v1/duties").json()["duties"]
    due = client.get("/api/v1/duties?status=due").json()["duties"]
    assert due and {d["status"] for d in due} == {"due"}
    assert {d["id"] for d in due} <= {d["id"] for d in listed}
    assert any(d["duty"] == "new-wiki" for d in due)  # an on-demand one, still open
    refused = client.get("/api/v1/duties?status=bogus")
    assert refused.status_code == 400 and "unknown status" in refused.json()["detail"]
