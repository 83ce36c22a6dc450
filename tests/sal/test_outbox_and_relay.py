"""The SAL outbox (which entries wait, leases, retries), relayed `!log` lines and the wiki
form's quoting: pure rules, on SQLite."""

from __future__ import annotations

import html
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsweek.bot.commands import LogEntry, parse
from opsweek.db.session import open_store
from opsweek.quoting import wikitext
from opsweek.sal import outbox
from opsweek.sal.log import SalLog
from opsweek.sal.publish import Revision, Saved, publish_to_wiki
from opsweek.sal.relay import relay_line
from opsweek.sal.wiki import WikiEntry, add_entries
from opsweek.sal.wiki import parse as parse_page

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_only_opsweeks_own_entries_wait_and_only_where_published(
    tmp_path: Path, now: datetime
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'o.db'}")
    store.sal_publish = ("wiki", "irc")
    with store.session() as session:
        sal = SalLog(session)
        for source in ("cli", "web", "opsweek", "irc", "import", "wiki"):
            sal.append("ann", f"from {source}", source=source)
    later = now + timedelta(seconds=1)
    wiki = outbox.claim(store, "wiki", later)
    assert [r.message for r in wiki] == ["from cli", "from web", "from opsweek"]
    assert outbox.claim(store, "wiki", later) == []  # held by the lease
    assert len(outbox.claim(store, "wiki", later + outbox.LEASE)) == 3  # the publisher died
    store.sal_publish = ()
    with store.session() as session:
        SalLog(session).append("ann", "publishing is off", source="cli")
    assert len(outbox.claim(store, "irc", later + outbox.LEASE)) == 3
    store.close()


def test_a_failed_row_waits_longer_each_time(tmp_path: Path, now: datetime) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'o.db'}")
    store.sal_publish = ("wiki",)
    with store.session() as session:
        SalLog(session).append("ann", "x", source="cli", at=now)  # due at once
    now += timedelta(seconds=1)
    waits = []
    for attempt in range(1, 10):
        (row,) = outbox.claim(store, "wiki", now)
        assert row.attempts == attempt - 1
        outbox.mark_failed(store, [row], now, "wiki down")
        wait = outbox.retry_after(attempt)
        assert outbox.claim(store, "wiki", now + wait - timedelta(seconds=1)) == []
        waits.append(wait.total_seconds())
        now += wait
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    with store.session() as session:
        state = outbox.summary(session)["wiki"]
    assert (state["waiting"], state["attempts"], state["error"]) == (1, 9, "wiki down")
    store.close()


def test_a_relayed_line_credits_the_user_when_read_back() -> None:
    line = relay_line("ann", "", "restarted hive-server2", "analytics-dumps")
    assert line == "!log analytics-dumps ann@opsweek restarted hive-server2"
    read = parse("opsweek-bot", line, ("analytics-dumps",), ("opsweek-bot",))
    assert read == LogEntry("ann", "restarted hive-server2", "analytics-dumps", "opsweek")
    wide = relay_line("ann", "", "é" * 600, link="https://ops.example.org/sal/7")
    assert len(wide.encode()) <= 400 and wide.endswith("é… https://ops.example.org/sal/7")
    odd = relay_line("a b\r\nPRIVMSG #x :hi", "h", "m")
    assert "\r" not in odd and "\n" not in odd and odd.startswith("!log m (by ")


@given(st.text())
def test_wikitext_is_never_markup_and_gives_the_text_back(text: str) -> None:
    quoted = wikitext(text)
    assert not any(mark in quoted for mark in ("[", "]", "{", "}", "<", ">", "''", "~~~", "__"))
    assert "\n" not in quoted
    expected = " ".join("".join(" " if ord(c) < 32 or c == "\x7f" else c for c in text).split())
    assert html.unescape(quoted) == expected


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3 * 24 * 60 - 1),
            st.sampled_from(["ann", "bob"]),
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1),
        ),
        max_size=12,
    )
)
def test_adding_entries_keeps_the_page_and_adds_each_once(
    raw: list[tuple[int, str, str]],
) -> None:
    page = "{{SAL header}}\n\n== 2026-12-03 ==\n* 10:00 carol: by hand\n"
    entries = [
        WikiEntry(NOW + timedelta(minutes=m), nick, message)
        for m, nick, message in raw
        if " ".join(message.split()) and wikitext(message)
    ]
    text, added = add_entries(page, entries)
    assert text.startswith("{{SAL header}}\n")
    again, none = add_entries(text, entries)
    assert (again, none) == (text, 0)
    shown = parse_page(text, strict=False)
    assert len(shown) == added + 1
    assert shown == sorted(shown, key=lambda e: e.logged_at)
    days = [line for line in text.splitlines() if line.startswith("== ")]
    assert days == sorted(days, reverse=True) and len(days) == len(set(days))


@pytest.mark.parametrize(
    "nick",
    ["{{X}}", "[[Category:Hacked]]", "~~~~", "ann:admin", "''bold''", "<b>x</b>", "__TOC__"],
)
def test_a_nick_is_shown_never_run_and_reads_back_the_same(nick: str) -> None:
    """Issue 29: the line quoted the message but not the nick: {{X}} transcluded a template,
    [[Category:…]] categorised the SAL page, ~~~~ signed; a nick with ':' never read back."""
    entry = WikiEntry(NOW, nick, "restarted hive-server2")
    text, added = add_entries("== 2026-12-02 ==\n", [entry])
    (line,) = [x for x in text.splitlines() if x.startswith("* ")]
    markup = ("{{", "}}", "[[", "]]", "~~~", "''", "<", "__")
    assert added == 1 and not any(mark in line for mark in markup)
    assert parse_page(text, strict=False) == [entry]
    assert add_entries(text, [entry]) == (text, 0)


def test_an_entry_reads_back_the_same_after_the_wiki_normalised_it() -> None:
    """MediaWiki keeps text in NFC: 'e' and a combining acute become 'é'. Compared as the wiki
    keeps it, the entry is on the page, not added again on every retry."""
    entry = WikiEntry(NOW, "rene\u0301", "cafe\u0301 reopened")
    text, _ = add_entries("", [entry])
    saved = unicodedata.normalize("NFC", text)
    assert saved != text
    assert add_entries(saved, [entry]) == (saved, 0)


def test_a_heading_that_is_no_date_stops_nothing() -> None:
    page = "== 2024-02-30 ==\n* 10:00 carol: by hand\n\n== 2026-12-01 ==\n* 09:00 bob: x\n"
    text, added = add_entries(page, [WikiEntry(NOW, "ann", "still published")])
    assert added == 1 and "* 09:00 ann: still published" in text
    assert text.count("== 2024-02-30 ==") == 1


class ChangingWiki:
    """A wiki that saves every edit but shows each added line changed (as a filter or a bot
    might): the entries never read back."""

    def __init__(self) -> None:
        self.text, self.revid, self.edits = "", 0, 0

    def read(self, to_edit: bool = True) -> Revision:
        return Revision(self.text, self.revid, "")

    def revision(self, revid: int) -> Revision:
        return self.read()

    def save(self, text: str, base: Revision, summary: str) -> Saved:
        self.edits += 1
        self.revid += 1
        self.text = text.replace("* ", "* [changed] ")
        return Saved(self.revid, base.revid, "")


def test_an_entry_the_page_never_shows_stops_after_a_few_edits_and_is_flagged(
    tmp_path: Path, now: datetime
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'o.db'}")
    store.sal_publish = ("wiki",)
    with store.session() as session:
        SalLog(session).append("ann", "reran refine_event", source="cli")
    wiki = ChangingWiki()
    moment = now + timedelta(seconds=1)
    for _ in range(outbox.MAX_MISSES + 3):
        publish_to_wiki(store, wiki, moment)  # type: ignore[arg-type]
        moment += outbox.LAST_RETRY
    assert wiki.edits == outbox.MAX_MISSES  # then it stopped adding it
    with store.session() as session:
        state = outbox.summary(session)["wiki"]
    assert (state["waiting"], state["stopped"]) == (0, 1)
    assert state["stopped_entries"][0]["error"].startswith("stopped: the page did not show it")
    store.close()


@pytest.mark.parametrize("field", ["nick", "host", "message", "project"])
def test_no_field_of_a_relayed_line_can_start_another_irc_command(field: str) -> None:
    """Issue 29: a carriage return in `opsweek log --project` became a second IRC command."""
    values = {"nick": "ann", "host": "stat1008", "message": "restarted", "project": "analytics"}
    values[field] += "\rPRIVMSG #other :hi\r\nQUIT\n"
    line = relay_line(**values)
    assert not any(c in line for c in "\r\n\x00") and line.startswith("!log ")
