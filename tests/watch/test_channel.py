"""The IRC channel's lines that matter to the person on duty (pure), and how long lines are
kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from opsweek.db.models import ChannelLine
from opsweek.db.session import Store
from opsweek.watch import channel
from opsweek.watch.channel import keep_line, mentions, recent_lines

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def line(nick: str, text: str, minutes: int = 0) -> ChannelLine:
    return ChannelLine(at=AT + timedelta(minutes=minutes), channel="#c", nick=nick, text=text)


def test_what_matters_is_the_person_an_open_alerts_reference_or_a_team_word() -> None:
    lines = [
        line("joal", "ana_irc: can you look at the refine for mediawiki_foo?"),
        line("dcausse", "is edit_hourly late today?"),
        line("random", "does anyone know a good pizza place"),
        line("milimetric", "hive is slow again on an-coord1001"),
        line("opsweek-bot", "Logged the message at https://opsweek/sal/3"),
    ]
    refs = {"edit_hourly": 42, "an-coord1001": 7}
    found = mentions(lines, ["ana", "ana_irc"], refs, ["hive", "refine"], ["opsweek-bot"])
    assert [(m.nick, m.why) for m in found] == [
        ("joal", "names ana_irc"),
        ("dcausse", "edit_hourly (alert 42)"),
        ("milimetric", "an-coord1001 (alert 7)"),
    ]
    assert mentions(lines[2:3], [], {}, ["pizza"])[0].why == "word: pizza"


def test_lines_are_kept_for_a_few_days_only(store: Store) -> None:
    with store.writing() as session:
        keep_line(session, AT - timedelta(days=9), "#c", "old", "old news", 7)
        keep_line(session, AT, "#c", "new", "x" * 900, 7)
    with store.session() as session:
        kept = list(session.scalars(select(ChannelLine)))
        assert [(k.nick, len(k.text)) for k in kept] == [("new", 510)]
        assert recent_lines(session, AT - timedelta(hours=1))[0].nick == "new"


def test_a_flood_keeps_only_the_newest_lines(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channel, "MAX_LINES", 5)
    with store.writing() as session:
        for n in range(12):
            keep_line(session, AT, "#c", "flood", f"line {n}", 7)
    with store.session() as session:
        assert [k.text for k in session.scalars(select(ChannelLine))] == [
            f"line {n}" for n in range(7, 12)
        ]
