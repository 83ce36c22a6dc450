"""The SAL outbox (which entries wait, leases, retries), relayed `!log` lines and the wiki
form's quoting: pure rules, on SQLite."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from opsweek.bot.commands import LogEntry, parse
from opsweek.db.session import open_store
from opsweek.quoting import wikitext
from opsweek.sal import outbox
from opsweek.sal.log import SalLog
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
        SalLog(session).append("ann", "x", source="cli")
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
