"""The SAL's wiki form: ``== YYYY-MM-DD ==`` headings, newest first, and lines
``* HH:MM nick: message``. Pure: render entries, parse text back."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from opsweek.errors import BadInput

HEADING = re.compile(r"^==\s*(\d{4}-\d\d-\d\d)\s*==\s*\Z")
LINE = re.compile(r"^\*\s*(\d{1,2}:\d\d)\s+([^\s:]+):\s?(.*)\Z")


@dataclass(frozen=True)
class WikiEntry:
    logged_at: datetime  # UTC
    nick: str
    message: str


def render(entries: Iterable[WikiEntry]) -> str:
    ordered = sorted(entries, key=lambda e: e.logged_at, reverse=True)
    lines: list[str] = []
    day: date | None = None
    for entry in ordered:
        moment = entry.logged_at.astimezone(UTC)
        if moment.date() != day:
            day = moment.date()
            if lines:
                lines.append("")
            lines.append(f"== {day.isoformat()} ==")
        message = " ".join(entry.message.split())  # one line per entry
        lines.append(f"* {moment:%H:%M} {entry.nick}: {message}")
    return "\n".join(lines) + ("\n" if lines else "")


def parse(text: str) -> list[WikiEntry]:
    """Entries of a wiki-form SAL, oldest first. A line that is neither a heading nor an entry
    under a heading is an error naming its line number."""
    entries: list[WikiEntry] = []
    day: date | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        heading = HEADING.match(line)
        if heading:
            day = date.fromisoformat(heading.group(1))
            continue
        entry = LINE.match(line)
        if entry is None or day is None:
            what = (
                "no == YYYY-MM-DD == heading before it" if entry else "not '* HH:MM nick: message'"
            )
            raise BadInput(f"SAL line {number}: {what}")
        hour, minute = (int(part) for part in entry.group(1).split(":"))
        if hour > 23 or minute > 59:
            raise BadInput(f"SAL line {number}: invalid time {entry.group(1)}")
        moment = datetime.combine(day, time(hour, minute), tzinfo=UTC)
        entries.append(WikiEntry(moment, entry.group(2), entry.group(3)))
    return sorted(entries, key=lambda e: e.logged_at)
