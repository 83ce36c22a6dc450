"""The pictures on the pages: Today's week (loaded after the page), the Rotation's calendar and
load, each with its numbers as text too."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi.testclient import TestClient

from opsweek.alerts.changes import AlertChanges
from opsweek.config import load_settings
from opsweek.db.session import Store
from opsweek.demo import seed
from opsweek.rotation.views import RotationConfig


def demo(store: Store, now: datetime) -> None:
    settings = load_settings(env={})
    with store.writing() as session:
        seed(
            AlertChanges(store),
            session,
            RotationConfig.from_settings(settings.rotation),
            now,
        )


def test_today_loads_its_week_chart_after_the_page(
    client: TestClient, web_store: Store, now: datetime
) -> None:
    demo(web_store, now)
    page = client.get("/").text
    assert 'hx-get="/?part=week" hx-trigger="load"' in page and "<svg" not in page
    part = client.get("/?part=week").text
    assert '<section id="today-week">' in part
    assert 'aria-label="Alerts per day this ops week"' in part
    totals = [int(t) for t in re.findall(r'class="total">(\d+)</text>', part)]
    rows = re.findall(r"<tr><td>\w{3} \d\d \w{3}</td>(.*?)</tr>", part)
    assert len(totals) == len(rows) == 7  # a bar and a table row per day
    assert sum(totals) > 0
    assert client.get("/?part=nope").status_code == 422


def test_the_rotation_has_a_calendar_and_each_persons_load(
    client: TestClient, web_store: Store, now: datetime
) -> None:
    demo(web_store, now)
    page = client.get("/rotation").text
    assert page.count('<table class="calendar">') == 2  # this month and the next
    assert len(re.findall(r'<span class="duty">\w+</span>', page)) >= 28
    assert "away: " in page  # the demo team has away periods
    assert 'aria-label="Weeks on duty over the last 26 weeks"' in page
    load = re.findall(r"<tr><td>(\w+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>", page)
    assert len(load) == 8 and any(int(done) for _, done, _, _ in load)
