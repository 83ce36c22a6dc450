"""Reading team members and away periods from CSV, TOML and iCalendar files.

Parsers are pure: text in, records out. A bad line raises BadInput naming its line number, so an
import either takes the whole file or nothing.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from opsweek.errors import BadInput
from opsweek.rotation.availability import AwayPeriod
from opsweek.rotation.people import PersonRecord, check_username

if TYPE_CHECKING:
    import icalendar

TEAM_COLUMNS = ("username", "name", "email", "irc_nick", "timezone")
AWAY_COLUMNS = ("username", "start", "end", "reason")
PERSON_FIELDS = ("username", "name", "email", "irc_nick", "slack_id", "timezone")


def _csv_rows(text: str, required: Sequence[str], what: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise BadInput(f"{what} CSV is empty") from None
    missing = [column for column in required if column not in header]
    if missing:
        raise BadInput(
            f"{what} CSV line 1: missing column(s) {', '.join(missing)}; "
            f"expected header {','.join(required)}"
        )
    rows = []
    for values in reader:
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(header):
            raise BadInput(
                f"{what} CSV line {line}: expected {len(header)} fields, found {len(values)}"
            )
        rows.append((line, dict(zip(header, values, strict=True))))
    return rows


def parse_team_csv(text: str) -> list[PersonRecord]:
    people = []
    for line, row in _csv_rows(text, TEAM_COLUMNS, "team"):
        fields = {name: row.get(name, "") for name in PERSON_FIELDS}
        extra = {k: v for k, v in row.items() if k not in PERSON_FIELDS}
        people.append(_validated(PersonRecord(**fields, extra=extra), f"team CSV line {line}"))
    return _unique(people)


def parse_team_toml(text: str) -> list[PersonRecord]:
    """``[[people]]`` tables (or ``[people.<username>]``) with the person fields."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"team TOML: {exc}") from None
    entries = data.get("people", data.get("person"))
    if isinstance(entries, dict):
        entries = [{"username": key, **value} for key, value in entries.items()]
    if not isinstance(entries, list):
        raise BadInput("team TOML: expected [[people]] tables")
    people = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "username" not in entry:
            raise BadInput(f"team TOML: person #{index} has no username")
        fields = {k: str(entry.get(k, "")) for k in PERSON_FIELDS}
        extra = {k: str(v) for k, v in entry.items() if k not in PERSON_FIELDS}
        people.append(_validated(PersonRecord(**fields, extra=extra), f"team TOML person #{index}"))
    return _unique(people)


def _validated(record: PersonRecord, where: str) -> PersonRecord:
    try:
        return record.validated()
    except BadInput as exc:
        raise BadInput(f"{where}: {exc}") from None


def _unique(people: list[PersonRecord]) -> list[PersonRecord]:
    seen: set[str] = set()
    for person in people:
        if person.username in seen:
            raise BadInput(f"username {person.username!r} appears twice in the file")
        seen.add(person.username)
    return people


def checked_period(username: str, start: date, end: date, reason: str = "") -> AwayPeriod:
    check_username(username)
    if end < start:
        raise BadInput(f"end {end.isoformat()} is before start {start.isoformat()}")
    return AwayPeriod(username, start, end, reason.strip())


def parse_away_csv(text: str) -> list[AwayPeriod]:
    periods = []
    for line, row in _csv_rows(text, AWAY_COLUMNS[:3], "away"):
        where = f"away CSV line {line}"
        try:
            start = date.fromisoformat(row["start"].strip())
            end = date.fromisoformat(row["end"].strip())
        except ValueError:
            raise BadInput(f"{where}: dates must be YYYY-MM-DD") from None
        try:
            periods.append(
                checked_period(row["username"].strip(), start, end, row.get("reason", ""))
            )
        except BadInput as exc:
            raise BadInput(f"{where}: {exc}") from None
    return periods


def parse_away_ics(data: bytes, people: Sequence[PersonRecord]) -> list[AwayPeriod]:
    """Away periods from a team calendar: each event whose attendee e-mail, or whose summary
    (by username or full name), names a team member. Unmatched events are ignored."""
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise BadInput(f"not a valid iCalendar file: {exc}") from None
    by_email = {p.email.lower(): p.username for p in people if p.email}
    periods = []
    for event in calendar.walk("VEVENT"):
        summary = str(event.get("SUMMARY", ""))
        names = _attendees(event, by_email) or _named_in(summary, people)
        if not names or event.get("DTSTART") is None:
            continue
        start, end = _event_days(event)
        for username in sorted(names):
            periods.append(AwayPeriod(username, start, end, summary.strip()[:200]))
    return periods


def _attendees(event: icalendar.Event, by_email: dict[str, str]) -> set[str]:
    raw = event.get("ATTENDEE", [])
    attendees = raw if isinstance(raw, list) else [raw]
    found = set()
    for attendee in attendees:
        address = str(attendee).lower().removeprefix("mailto:")
        if address in by_email:
            found.add(by_email[address])
    return found


def _named_in(summary: str, people: Sequence[PersonRecord]) -> set[str]:
    text = summary.lower()
    found = set()
    for person in people:
        names = [person.username] + ([person.name] if person.name else [])
        if any(re.search(rf"(?<![\w.-]){re.escape(n.lower())}(?![\w-])", text) for n in names):
            found.add(person.username)
    return found


def _event_days(event: icalendar.Event) -> tuple[date, date]:
    start = event.decoded("DTSTART")
    if event.get("DTEND") is not None:
        end = event.decoded("DTEND")
    elif event.get("DURATION") is not None:
        end = start + event.decoded("DURATION")
    else:
        end = start
    all_day = not isinstance(start, datetime)
    start_day = start if all_day else start.date()
    if all_day:  # DTEND of an all-day event is exclusive
        end_day = max(start_day, end - timedelta(days=1))
    else:
        end_day = max(start_day, (end - timedelta(microseconds=1)).date())
    return start_day, end_day
