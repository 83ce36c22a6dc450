"""Pure SAL pieces: references, the wiki form, IRC commands."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from opsweek.bot.commands import Ack, LogEntry, Question, parse
from opsweek.errors import BadInput
from opsweek.sal.refs import alert_refs, extract_refs
from opsweek.sal.wiki import WikiEntry, render
from opsweek.sal.wiki import parse as parse_wiki


def values(text: str) -> set[str]:
    return {ref.value for ref in extract_refs(text)}


def test_references_in_a_rerun_message() -> None:
    found = values(
        "reran refine_event for event.mediawiki_foo 2024-01-02T03 on "
        "an-launcher1002.eqiad.wmnet (T123456)"
    )
    assert {
        "refine_event",
        "event.mediawiki_foo",
        "mediawiki_foo",
        "an-launcher1002",
        "T123456",
    } <= found
    assert "eqiad.wmnet" not in found


def test_alert_ids_units_and_plain_prose() -> None:
    assert "alert:42" in values("acked alert 42 (refine_failure ...)")
    assert "refinery-drop-webrequest" in values("restarted refinery-drop-webrequest.service")
    assert values("Deploying the weekly train, all fine") == set()


def test_alert_refs_come_from_details() -> None:
    refs = alert_refs(
        7,
        "refine_event: event.mediawiki_foo 2024-01-02T03",
        {
            "job": "refine_event",
            "table": "event.mediawiki_foo",
            "tables": [{"table": "event.navigationtiming"}],
            "unit": "refinery-drop-webrequest.service",
            "instance": "an-worker1100:9100",
        },
    )
    assert {
        "alert:7",
        "refine_event",
        "event.mediawiki_foo",
        "mediawiki_foo",
        "refinery-drop-webrequest",
        "an-worker1100",
    } <= refs
    assert "event.navigationtiming" not in refs  # another table of the same e-mail
    monitor = alert_refs(
        8, "monitor", {"tables": ["event_sanitized.navigationtiming"], "job": "monitor_refine_x"}
    )
    assert {"monitor_refine_x", "event_sanitized.navigationtiming", "navigationtiming"} <= monitor


def test_wiki_round_trip_newest_first() -> None:
    entries = [
        WikiEntry(datetime(2024, 1, 2, 19, 30, tzinfo=UTC), "milimetric", "reran refine_event"),
        WikiEntry(datetime(2024, 1, 3, 8, 5, tzinfo=UTC), "joal", "deployed refinery"),
        WikiEntry(datetime(2024, 1, 3, 9, 0, tzinfo=UTC), "joal", "line\nbreak"),
    ]
    text = render(entries)
    assert text.splitlines()[:3] == [
        "== 2024-01-03 ==",
        "* 09:00 joal: line break",
        "* 08:05 joal: deployed refinery",
    ]
    assert "== 2024-01-02 ==\n* 19:30 milimetric: reran refine_event" in text
    back = parse_wiki(text)
    assert [(e.logged_at, e.nick) for e in back] == [(e.logged_at, e.nick) for e in entries]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("* 10:00 joal: no heading", "line 1: no == YYYY-MM-DD == heading"),
        ("== 2024-01-03 ==\nrandom words", "line 2: not '* HH:MM nick: message'"),
        ("== 2024-01-03 ==\n* 25:00 joal: late", "line 2: invalid time 25:00"),
    ],
)
def test_wiki_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=re.escape(message)):
        parse_wiki(text)


PROJECTS = ("analytics", "analytics-dumps")


@pytest.mark.parametrize(
    ("sender", "text", "expected"),
    [
        ("joal", "!log reran refine_event", LogEntry("joal", "reran refine_event")),
        (
            "joal",
            "!log analytics-dumps restarted dumps",
            LogEntry("joal", "restarted dumps", "analytics-dumps"),
        ),
        ("joal", "!log unknownproject did things", LogEntry("joal", "unknownproject did things")),
        (
            "logmsgbot",
            "!log elukey@cumin1001 restart hive",
            LogEntry("elukey", "restart hive", "", "cumin1001"),
        ),
        (
            "mallory",
            "!log elukey@cumin1001 restart hive",
            LogEntry("mallory", "elukey@cumin1001 restart hive"),
        ),  # only relays may credit others
        ("joal", "!opsweek who", Question("who")),
        ("joal", "!opsweek alerts", Question("alerts")),
        ("joal", "!ack #42", Ack(42)),
        ("joal", "!log", None),
        ("joal", "!ack everything", None),
        ("joal", "hello !log", None),
    ],
)
def test_irc_commands(sender: str, text: str, expected: object) -> None:
    assert parse(sender, text, PROJECTS, ("logmsgbot",)) == expected


def test_ack_takes_ascii_digits_only() -> None:
    from opsweek.bot.commands import Ack, parse

    assert parse("ann", "!ack 12", (), ()) == Ack(12)
    assert parse("ann", "!ack #12", (), ()) == Ack(12)
    for text in ("!ack ²", "!ack ٣", "!ack 1\u200b", "!ack 1e3", "!ack -1", "!ack 1 2"):
        assert parse("ann", text, (), ()) is None, text
