"""Reading people and away periods from CSV, TOML and iCalendar."""

from __future__ import annotations

from datetime import date

import pytest

from opsweek.errors import BadInput
from opsweek.rotation.imports import (
    parse_away_csv,
    parse_away_ics,
    parse_team_csv,
    parse_team_toml,
)
from tests.conftest import FIXTURES


def test_team_csv_with_extra_columns() -> None:
    people = parse_team_csv((FIXTURES / "team.csv").read_text())
    assert [p.username for p in people] == ["ana", "bastien", "dokafor", "gsato"]
    assert people[0].timezone == "Europe/Madrid"
    assert people[0].extra == {"role": "engineer"}
    assert people[2].irc_nick == "dokafor"


def test_team_csv_reports_the_bad_line() -> None:
    text = (
        "username,name,email,irc_nick,timezone\n"
        "ana,Ana,ana@example.org,ana,Europe/Madrid\n"
        "bob,Bob,bob@example.org,bob,Mars/Olympus\n"
    )
    with pytest.raises(BadInput, match=r"line 3: unknown timezone 'Mars/Olympus'"):
        parse_team_csv(text)


def test_team_csv_wrong_field_count_names_the_line() -> None:
    text = "username,name,email,irc_nick,timezone\nana,Ana\n"
    with pytest.raises(BadInput, match=r"line 2: expected 5 fields, found 2"):
        parse_team_csv(text)


def test_team_csv_missing_column() -> None:
    with pytest.raises(BadInput, match="missing column"):
        parse_team_csv("username,name\nana,Ana\n")


@pytest.mark.parametrize("bad", ["../etc", "Ana", "a b", "x;rm", ""])
def test_usernames_are_checked(bad: str) -> None:
    text = f"username,name,email,irc_nick,timezone\n{bad},A,a@example.org,a,UTC\n"
    with pytest.raises(BadInput, match="line 2: invalid username"):
        parse_team_csv(text)


def test_team_toml() -> None:
    people = parse_team_toml((FIXTURES / "team.toml").read_text())
    assert [(p.username, p.timezone, p.slack_id) for p in people] == [
        ("clara", "Europe/Berlin", "U01CLARA"),
        ("eli", "America/New_York", ""),
    ]


def test_away_csv_and_its_errors() -> None:
    periods = parse_away_csv("username,start,end,reason\r\nana,2026-12-21,2027-01-03,vacation\r\n")
    assert periods[0].start == date(2026, 12, 21) and periods[0].reason == "vacation"
    with pytest.raises(BadInput, match="line 3: end 2026-01-01 is before start 2026-02-01"):
        parse_away_csv("username,start,end\nana,2026-01-01,2026-01-02\nana,2026-02-01,2026-01-01\n")
    with pytest.raises(BadInput, match="line 2: dates must be YYYY-MM-DD"):
        parse_away_csv("username,start,end\nana,01/02/2026,2026-01-02\n")


def test_away_from_a_team_calendar() -> None:
    people = parse_team_csv((FIXTURES / "team.csv").read_text())
    periods = parse_away_ics((FIXTURES / "team-calendar.ics").read_bytes(), people)
    found = {(p.username, p.start, p.end) for p in periods}
    assert found == {
        ("ana", date(2026, 12, 21), date(2027, 1, 1)),  # all-day, DTEND exclusive
        ("dokafor", date(2027, 2, 8), date(2027, 2, 10)),  # by attendee e-mail
        ("gsato", date(2027, 3, 4), date(2027, 3, 4)),  # timed event, named in summary
        ("bastien", date(2027, 3, 15), date(2027, 3, 19)),  # by full name in summary
    }


def test_broken_calendar_is_one_clear_error() -> None:
    with pytest.raises(BadInput, match="not a valid iCalendar file"):
        parse_away_ics(b"BEGIN:VCALENDAR\nthis is not ical", [])
