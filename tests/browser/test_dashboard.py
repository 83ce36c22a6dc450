"""End to end in a real headless Chromium (Debian's chromium, driven by Playwright; no browser
download): log in, see Today, acknowledge an alert, see it acknowledged by you in the inbox,
log a SAL entry, and see a hostile alert title rendered as text. Screenshots of each page are
saved under test-artifacts/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from time_machine import TimeMachineFixture

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import EMAIL
from opsweek.alerts.model import RawInput
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store, open_store
from opsweek.demo import seed
from opsweek.passwords import set_password
from opsweek.rotation.views import RotationConfig
from opsweek.web import create_app
from tests.services.common import missing_service
from tests.services.web import serve_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
DIALOGS: list[str] = []  # a script injected by an alert would open one
HOSTILE = b"From: x@example.org\r\nSubject: <script>alert(1)</script>\r\n\r\nhi\r\n"


@pytest.fixture
def served(tmp_path: Path, now: datetime) -> Iterator[tuple[str, Store]]:
    """The demo's store, a password for gsato and a hostile alert, served: its URL, its store."""
    settings = load_settings(env=dict(os.environ))
    store = open_store(f"sqlite:///{tmp_path / 'web.db'}")
    with store.writing() as session:
        seed(
            AlertChanges(store),
            session,
            RotationConfig.from_settings(settings.rotation),
            now,
            duties=App(settings).duty_book,
        )
        set_password(session, "gsato", PASSWORD)
        AlertChanges(store).ingest([RawInput(HOSTILE, EMAIL, now, "test")], None, session)
    with serve_app(create_app(App(settings, store=store))) as url:
        yield url, store
    store.close()


@pytest.fixture
def site(served: tuple[str, Store]) -> str:
    return served[0]


@pytest.fixture
def page() -> Iterator[Page]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        missing_service("Chromium (Debian package chromium) not found")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.on("dialog", lambda dialog: DIALOGS.append(dialog.message))
        yield page
        browser.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_log_in_ack_log_and_hostile_text(site: str, page: Page) -> None:
    p = page
    p.goto(f"{site}/login")
    p.fill("input[name=username]", "gsato")
    p.fill("input[name=password]", PASSWORD)
    p.click("form button:has-text('log in')")
    p.goto(f"{site}/")
    assert "is on ops duty until" in p.inner_text("main")
    assert "gsato" in p.inner_text("header")
    shot(p, "today")

    p.goto(f"{site}/inbox?status=firing&view=list")
    first = p.locator("table tr td a").first
    alert_id = first.inner_text()
    first.click()
    shot(p, "alert")
    assert p.evaluate("typeof window.htmx") == "object"
    assert p.evaluate("Boolean(navigator.clipboard)")  # 127.0.0.1 is a secure context
    commands = p.locator("ol.steps pre code").count()
    assert commands and p.locator("ol.steps pre button.copy").count() == commands
    p.evaluate("window.stillHere = true")  # gone if the page were loaded again
    p.click("form[action$='/ack'] button")
    p.wait_for_selector("text=acknowledged by gsato")
    assert p.evaluate("window.stillHere") is True  # the acknowledgement swapped in place
    assert "acknowledged by gsato" in p.inner_text("main")
    p.goto(f"{site}/inbox?status=acknowledged&view=list")
    row = p.locator(f"tr:has(a:text-is('{alert_id}'))")
    assert "gsato" in row.inner_text() and "acknowledged" in row.inner_text()
    shot(p, "inbox")

    # acknowledged from the inbox itself: the row leaves the firing list, in place
    p.goto(f"{site}/inbox?status=firing&view=list")
    p.evaluate("window.stillHere = true")
    row = p.locator("table.alerts tr:has(form[action$='/ack'])").first
    other_id = row.locator("td a").first.inner_text()
    row.locator("form[action$='/ack'] button").click()
    p.wait_for_selector(f"#inbox tr:has(a:text-is('{other_id}'))", state="detached")
    assert p.evaluate("window.stillHere") is True
    p.goto(f"{site}/inbox?status=acknowledged&view=list")
    assert "gsato" in p.locator(f"tr:has(a:text-is('{other_id}'))").inner_text()
    p.goto(f"{site}/inbox?status=&view=groups")
    assert p.locator("details.group").count() >= 2
    shot(p, "inbox-groups")

    p.goto(f"{site}/sal")
    p.fill("input[name=message]", "reran refine_event <b>from the browser</b>")
    p.click("form[action$='/sal'] button")
    assert "reran refine_event <b>from the browser</b>" in p.inner_text("main")
    shot(p, "sal")

    p.goto(f"{site}/inbox?status=open&view=list")
    assert "unparsed email: <script>alert(1)</script>" in p.inner_text("main")
    assert DIALOGS == []  # the title's script never ran
    p.goto(f"{site}/rotation")
    shot(p, "rotation")
    p.goto(f"{site}/handoff")
    assert "Ops week handoff, week of" in p.inner_text("main")
    shot(p, "handoff")

    # a duty finished from Today, in place; a refused form shows why
    p.goto(f"{site}/")
    p.evaluate("window.stillHere = true")
    skip = p.locator("form[action$='/skip']").first
    skip.locator("input[name=reason]").fill("covered by Bastien")
    skip.locator("button").click()
    p.wait_for_selector("#duties")
    p.wait_for_timeout(300)
    assert p.evaluate("window.stillHere") is True
    assert "covered by Bastien" not in p.inner_text("#duties")  # skipped: no longer open
    shot(p, "today-after-skip")


def test_the_inbox_from_the_keyboard(site: str, page: Page) -> None:
    p = page
    p.goto(f"{site}/login")
    p.fill("input[name=username]", "gsato")
    p.fill("input[name=password]", PASSWORD)
    p.click("form button:has-text('log in')")
    p.goto(f"{site}/inbox?status=firing&view=list")
    assert p.title().startswith("(")  # the unacknowledged count leads the title
    rows = p.locator("#inbox table.alerts tr.selected")
    p.keyboard.press("j")
    first = rows.locator("td a").first.inner_text()
    p.keyboard.press("j")
    second = rows.locator("td a").first.inner_text()
    p.keyboard.press("k")
    assert rows.locator("td a").first.inner_text() == first != second
    p.keyboard.press("?")
    assert p.locator("#keys-help").is_visible()
    assert "acknowledge it" in p.inner_text("#keys-help")
    p.keyboard.press("?")
    assert not p.locator("#keys-help").is_visible()
    p.evaluate("window.stillHere = true")
    p.keyboard.press("a")  # acknowledged in place: the row leaves the firing list
    p.wait_for_selector(f"#inbox tr:has(a:text-is('{first}'))", state="detached")
    assert p.evaluate("window.stillHere") is True
    p.keyboard.press("/")
    assert p.evaluate("document.activeElement.name") == "q"
    p.keyboard.type("j")  # typed into the field, not a move
    assert p.input_value("form.filters input[name=q]") == "j"
    p.keyboard.press("Escape")
    p.keyboard.press("r")
    assert p.evaluate("document.activeElement.name") == "note"
    shot(p, "inbox-keyboard")


@pytest.mark.parametrize("width", [1400, 400])
def test_long_commands_wrap_and_the_copy_button_covers_no_text(
    site: str, page: Page, width: int
) -> None:
    p = page
    p.set_viewport_size({"width": width, "height": 900})
    p.goto(f"{site}/inbox?status=open&view=list")
    p.locator("table.alerts tr td a").first.click()
    p.wait_for_selector("ol.steps pre button.copy")
    overlaps = p.evaluate(
        """() => [...document.querySelectorAll("ol.steps pre")].filter((pre) => {
            const button = pre.querySelector("button.copy");
            const code = pre.querySelector("code");
            if (!button || !code) return false;
            const b = button.getBoundingClientRect();
            return [...code.getClientRects()].some((r) =>
                r.right > b.left && r.left < b.right && r.bottom > b.top && r.top < b.bottom);
        }).length"""
    )
    assert overlaps == 0
    # the page itself never scrolls sideways: a wide table scrolls within itself
    assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(p, f"alert-{width}")


def test_open_pages_show_a_new_alert_without_reloading(
    served: tuple[str, Store], page: Page, now: datetime
) -> None:
    """Today and the Inbox, open in two tabs, show an alert stored by another process within
    a second or two, and the tab's title counts it; neither page is loaded again."""
    url, store = served
    inbox = page.context.new_page()
    page.goto(f"{url}/")
    inbox.goto(f"{url}/inbox?view=list")
    for tab in (page, inbox):
        tab.wait_for_function("window.opsweekLive === true", timeout=10_000)
        tab.evaluate("window.stillHere = true")
    before = int(page.title().split(")")[0].strip("(")) if page.title().startswith("(") else 0
    subject = "Airflow alert: <TaskInstance: live_dag.live_task 2026-12-02T00:00:00 [failed]>"
    body = f"From: airflow@example.org\r\nSubject: {subject}\r\n\r\nlog\r\n".encode()
    AlertChanges(store).ingest([RawInput(body, EMAIL, now, "test")])
    for tab in (page, inbox):
        tab.wait_for_selector("text=live_task", timeout=5_000)
        assert tab.evaluate("window.stillHere") is True
    page.wait_for_function(f"document.title.startsWith('({before + 1})')", timeout=5_000)
    shot(page, "today-live")


@pytest.mark.parametrize("width", [1400, 400])
def test_the_charts_render_and_fit(site: str, page: Page, width: int) -> None:
    """Today's week (loaded after the page), the Handoff's week and noise, the Rotation's
    calendar and load: drawn with their bars, inside the page at desktop and phone widths."""
    p = page
    p.set_viewport_size({"width": width, "height": 900})
    checks = {
        "/": "#today-week svg.chart",
        "/handoff": "figure.chart svg.chart",
        "/rotation": "figure.chart svg.chart",
    }
    for path, selector in checks.items():
        p.goto(f"{site}{path}")
        p.wait_for_selector(selector, timeout=10_000)
        drawn = p.evaluate(
            """(selector) => [...document.querySelectorAll(selector)].map((svg) => {
                const box = svg.getBoundingClientRect();
                const bars = [...svg.querySelectorAll("rect[x]")].filter(
                    (r) => r.getBoundingClientRect().width > 0);
                return {width: box.width, height: box.height, bars: bars.length,
                        inside: box.right <= window.innerWidth + 1};
            })""",
            selector,
        )
        assert drawn and all(c["width"] > 100 and c["height"] > 50 for c in drawn), (path, drawn)
        assert all(c["bars"] > 0 and c["inside"] for c in drawn), (path, drawn)
        assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
        shot(p, f"charts-{path.strip('/') or 'today'}-{width}")
    assert p.locator("table.calendar").count() == 2


def test_a_storm_in_the_inbox_groups_filters_and_acknowledges_a_group(
    served: tuple[str, Store], page: Page, now: datetime
) -> None:
    from urllib.parse import quote

    from opsweek.alerts.formats import ALERTMANAGER
    from opsweek.demo.storm import storm_payloads

    site, store = served
    AlertChanges(store).ingest(RawInput(p, ALERTMANAGER, now, "test") for p in storm_payloads(now))
    p = page
    p.goto(f"{site}/login")
    p.fill("input[name=username]", "gsato")
    p.fill("input[name=password]", PASSWORD)
    p.click("form button:has-text('log in')")
    query = "team=data-engineering @state=active"
    p.goto(f"{site}/inbox?q={quote(query)}")
    assert p.input_value("form.filters input[name=q]") == query  # the URL's filter, shown
    heap = p.locator("details.group", has_text="HadoopNodeManagerHeapUsage")
    assert heap.locator("> summary .count").inner_text() == "60"
    row = heap.locator("tr.alert-firing").first
    assert not row.is_visible()  # folded
    heap.locator("> summary strong").click()  # one click shows the 60, each with its own labels
    assert row.is_visible() and "instance=an-worker" in row.locator(".chip").first.inner_text()
    shot(p, "inbox-storm")
    p.keyboard.press("g")  # every group open, then folded again
    assert p.locator("details.group[open]").count() == p.locator("details.group").count()
    p.keyboard.press("g")
    assert p.locator("details.group[open]").count() == 0
    typed = p.locator("form.filters input[name=q]")
    typed.fill("alertname=~Yarn.*")
    typed.press("Enter")  # the filter goes to the URL: a link to share
    p.wait_for_url(lambda url: "q=alertname%3D" in url and "Yarn" in url)
    yarn = p.locator("details.group", has_text="YarnNodeManagerDown")
    assert p.locator("details.group").count() == 1
    yarn.locator("form.group-ack input[name=note]").fill("reimaging")
    yarn.locator("form.group-ack button").click()  # all twelve, in place
    p.wait_for_selector("details.group-acknowledged")
    assert p.locator("details.group-acknowledged > summary .count").inner_text() == "12"


def test_from_today_each_action_is_one_click(
    tmp_path: Path, page: Page, time_machine: TimeMachineFixture
) -> None:
    """Issue 33: Today leads with what needs the person now, and a duty's step that is an
    opsweek command is the action itself: a link to its page, or a button whose result shows
    in place."""
    now = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)  # the alarms and the snapshot's duty due
    time_machine.move_to(now, tick=True)
    settings = load_settings(env=dict(os.environ))
    store = open_store(f"sqlite:///{tmp_path / 'web.db'}")
    with store.writing() as session:
        seed(
            AlertChanges(store),
            session,
            RotationConfig.from_settings(settings.rotation),
            now,
            duties=App(settings).duty_book,
        )
        set_password(session, "gsato", PASSWORD)
    p = page
    with serve_app(create_app(App(settings, store=store))) as site:
        p.goto(f"{site}/login")
        p.fill("input[name=username]", "gsato")
        p.fill("input[name=password]", PASSWORD)
        p.click("form button:has-text('log in')")
        p.goto(f"{site}/")
        assert "Needs you now" in p.inner_text("#now")
        assert p.locator("#now").bounding_box()["y"] < p.locator("#duties").bounding_box()["y"]
        p.click("#now a:has-text('not acknowledged')")
        p.wait_for_url("**/inbox?q=%40state%3Dactive")
        assert p.locator("#inbox .alerts tr, #inbox details").count() > 0
        p.goto(f"{site}/")
        p.click("#duties a.step-action:has-text('not acknowledged')")
        p.wait_for_url("**/inbox?q=%40state%3Dactive")
        p.goto(f"{site}/")
        assert p.locator("#duties [data-check=mw-history]").count() == 0
        p.click("#duties form[action='/checks/mw-history/run'] button")
        result = p.locator("#duties [data-check=mw-history]")
        result.wait_for()
        assert "snapshot " in result.inner_text() and "gsato" in result.inner_text()
        assert "/checks/" not in p.url  # in place: still on Today
        shot(p, "today-actions")
    store.close()
