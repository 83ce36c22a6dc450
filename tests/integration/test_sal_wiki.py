"""The team's real SAL against a real MediaWiki (Debian's package, on SQLite, served on
127.0.0.1): opsweek's entries are published to the page in its own form, under edit
conflicts and an outage of the wiki, and entries written there by someone else are read
back. Every test counts: nothing lost, nothing doubled."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opsweek.adapters.mediawiki import MediaWikiPage
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import SalEntry
from opsweek.db.session import Store, open_store
from opsweek.sal.log import SalLog
from opsweek.sal.outbox import summary
from opsweek.sal.publish import Revision, Saved, WikiUnavailable, publish_to_wiki
from opsweek.sal.wiki import parse
from tests.services.mediawiki import Wiki, mediawiki

pytestmark = pytest.mark.integration
PAGE = "Analytics/Server Admin Log"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def wiki() -> Iterator[Wiki]:
    with mediawiki() as wiki:
        yield wiki


@pytest.fixture
def page_title(request: pytest.FixtureRequest) -> str:
    return f"{PAGE}/{request.node.name}"  # a page of its own for each test


@pytest.fixture
def ops(wiki: Wiki, tmp_path: Path, page_title: str) -> Iterator[App]:
    user, password = wiki.bot_password(app=f"opsweek{os.getpid()}{tmp_path.name[-6:]}")
    env = {
        **os.environ,
        "OPSWEEK_SAL_PUBLISH": "wiki",
        "OPSWEEK_SAL_WIKI_API": wiki.api_url,
        "OPSWEEK_SAL_WIKI_PAGE": page_title,
        "OPSWEEK_SAL_WIKI_USER": user,
        "OPSWEEK_SAL_WIKI_PASSWORD": password,
        "OPSWEEK_IRC_RELAY_NICKS": "logmsgbot",
    }
    store = open_store(f"sqlite:///{tmp_path / 'sal.db'}")
    app = App(load_settings(env=env), store=store)
    yield app
    store.close()


def log(ops: App, count: int, start: datetime = NOW, source: str = "cli") -> None:
    with ops.session() as session:
        sal = SalLog(session)
        for n in range(count):
            at = start + timedelta(minutes=7 * n)
            sal.append(f"user{n % 3}", f"entry {n}: reran [[job]] {{x}} & co", at=at, source=source)


def page_entries(ops: App) -> list[tuple[datetime, str, str]]:
    page = ops.sal_wiki
    assert page is not None
    return [(e.logged_at, e.nick, e.message) for e in parse(page.read(False).text)]


def waiting(store: Store) -> dict[str, object]:
    with store.session() as session:
        return summary(session).get("wiki", {"waiting": 0, "published": 0})


def test_entries_reach_the_page_in_its_form_once(ops: App) -> None:
    log(ops, 30)
    log(ops, 4, start=NOW + timedelta(hours=9), source="irc")  # the team's bot has these
    result = ops.publish_sal()
    assert (result.added, result.already, result.failed) == (30, 0, 0)
    on_page = page_entries(ops)
    assert len(on_page) == 30 == len(set(on_page))
    assert on_page[0][1:] == ("user0", "entry 0: reran [[job]] {x} & co")  # shown, not markup
    text = ops.sal_wiki.read().text  # type: ignore[union-attr]
    assert text.startswith("== 2026-12-02 ==\n* 12:23 user2: entry 29: reran &#91;&#91;job")
    state = waiting(ops.store)
    assert (state["waiting"], state["published"]) == (0, 30)

    revision = ops.sal_wiki.read().revid  # type: ignore[union-attr]
    again = ops.publish_sal()
    assert (again.added, again.failed) == (0, 0)
    assert ops.sal_wiki.read().revid == revision  # type: ignore[union-attr]  # no empty edit


class EditsBetween:
    """The SAL page, with someone else editing it between opsweek's read and its save."""

    def __init__(self, page: MediaWikiPage, edit: object, times: int = 1) -> None:
        self.page, self.edit, self.times = page, edit, times

    def read(self, to_edit: bool = True) -> Revision:
        revision = self.page.read(to_edit)
        if self.times and to_edit:
            self.times -= 1
            self.edit()  # type: ignore[operator]
        return revision

    def revision(self, revid: int) -> Revision:
        return self.page.revision(revid)

    def save(self, text: str, base: Revision, summary: str) -> Saved:
        return self.page.save(text, base, summary)


def test_an_edit_conflict_reads_the_page_again(ops: App, wiki: Wiki, page_title: str) -> None:
    bob = wiki.site("Bob", wiki.add_user("Bob"))
    bob.pages[page_title].edit("== 2026-12-02 ==\n* 08:00 bob: first\n", "start")
    log(ops, 5)

    def bob_logs_by_hand() -> None:
        page = bob.pages[page_title]
        text = page.text(cache=False)
        # a line logged at the top of the day, and a typo fixed in the line below it: where
        # opsweek adds its lines too, so the wiki cannot merge the two edits
        mine = "==\n* 10:30 bob: restarted an-coord1001\n* 08:00 bob: first (T1)"
        changed = text.replace("==\n* 08:00 bob: first", mine, 1)
        assert changed != text
        page.edit(changed, "!log")

    page = EditsBetween(ops.sal_wiki, bob_logs_by_hand)  # type: ignore[arg-type]
    result = publish_to_wiki(ops.store, page)
    assert result.conflicts == 1
    assert (result.added, result.failed) == (5, 0)
    on_page = page_entries(ops)
    assert len(on_page) == 7 == len(set(on_page))
    assert {nick for _, nick, _ in on_page} >= {"bob", "user0", "user1", "user2"}
    assert [at.strftime("%H:%M") for at, _, _ in on_page] == sorted(
        at.strftime("%H:%M") for at, _, _ in on_page
    )  # each line at its time in the day's section


def test_an_outage_loses_nothing_and_retries(ops: App, wiki: Wiki, now: datetime) -> None:
    log(ops, 3)
    assert ops.publish_sal().added == 3
    wiki.stop()
    try:
        log(ops, 10, start=NOW + timedelta(hours=4))
        down = ops.publish_sal()
        assert (down.added, down.failed) == (0, 10)
        state = waiting(ops.store)
        assert state["waiting"] == 10 and state["attempts"] == 1
        assert "Connection" in str(state["error"])
    finally:
        wiki.start()
    early = publish_to_wiki(ops.store, ops.sal_wiki)  # type: ignore[arg-type]
    assert (early.added, early.failed) == (0, 0)  # they wait for their retry time
    back = publish_to_wiki(ops.store, ops.sal_wiki, now + timedelta(minutes=1))  # type: ignore[arg-type]
    assert (back.added, back.failed) == (10, 0)
    assert len(page_entries(ops)) == 13 == len(set(page_entries(ops)))
    assert waiting(ops.store)["waiting"] == 0


class AnswerLost:
    """The SAL page, whose edits are saved but whose answers never arrive."""

    def __init__(self, page: MediaWikiPage) -> None:
        self.page = page

    def read(self, to_edit: bool = True) -> Revision:
        return self.page.read(to_edit)

    def revision(self, revid: int) -> Revision:
        return self.page.revision(revid)

    def save(self, text: str, base: Revision, summary: str) -> Saved:
        self.page.save(text, base, summary)
        raise WikiUnavailable("the connection broke before the answer")


def test_a_lost_answer_is_not_published_twice(ops: App, now: datetime) -> None:
    log(ops, 4)
    lost = publish_to_wiki(ops.store, AnswerLost(ops.sal_wiki))  # type: ignore[arg-type]
    assert lost.failed == 4
    later = now + timedelta(minutes=1)
    retry = publish_to_wiki(ops.store, ops.sal_wiki, later)  # type: ignore[arg-type]
    assert (retry.added, retry.already, retry.failed) == (0, 4, 0)
    assert len(page_entries(ops)) == 4
    assert waiting(ops.store)["waiting"] == 0


def test_sync_reads_back_what_others_logged(ops: App, wiki: Wiki, page_title: str) -> None:
    log(ops, 2)
    ops.publish_sal()
    carol = wiki.site("Carol", wiki.add_user("Carol"))
    page = carol.pages[page_title]
    page.edit(
        page.text().replace(
            "== 2026-12-02 ==\n",
            "== 2026-12-02 ==\n"
            "* 14:02 carol: restarted hive-server2 on an-coord1001 (T345678)\n"
            "* 13:40 logmsgbot: dan@deploy1002 Finished deploy [analytics/refinery@abc123]\n",
        ),
        "by hand",
    )
    first = ops.sync_sal()
    assert (first.read, first.added, first.unchanged) == (4, 2, False)
    assert ops.sync_sal().unchanged
    with ops.session() as session:
        rows = session.execute(
            select(SalEntry.nick, SalEntry.source, SalEntry.message).order_by(SalEntry.logged_at)
        ).all()
        total = session.scalar(select(func.count()).select_from(SalEntry))
        related = SalLog(session).related({"an-coord1001", "T345678"}, NOW)
    assert total == 4  # opsweek's own two were not imported again
    assert ("dan", "wiki", "Finished deploy [analytics/refinery@abc123]") in rows
    assert [e.nick for e in related] == ["carol"]
    assert waiting(ops.store)["published"] == 2  # synced entries are never published back


def test_an_edit_saved_over_by_the_same_account_is_brought_back(ops: App) -> None:
    """MediaWiki never calls edits by one account a conflict: a second opsweek with the same
    bot password saves between this one's read and save, and its line must survive."""
    log(ops, 1)
    ops.publish_sal()
    other = ops.settings.sal
    twin = MediaWikiPage(other.wiki_api, other.wiki_page, other.wiki_user, other.wiki_password)

    def twin_publishes() -> None:
        base = twin.read()
        text = base.text.replace("==\n", "==\n* 11:11 twin: from the other server\n", 1)
        twin.save(text, base, "opsweek: 1 SAL entry")

    log(ops, 3, start=NOW + timedelta(hours=1))
    page = EditsBetween(ops.sal_wiki, twin_publishes)  # type: ignore[arg-type]
    result = publish_to_wiki(ops.store, page)
    assert (result.added, result.failed, result.conflicts) == (3, 0, 1)
    on_page = page_entries(ops)
    assert len(on_page) == 5 == len(set(on_page))
    assert "twin" in {nick for _, nick, _ in on_page}
