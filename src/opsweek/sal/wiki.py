"""The SAL's wiki form: ``== YYYY-MM-DD ==`` headings, newest first, and lines
``* HH:MM nick: message`` (UTC), newest first under each heading, as the team's SAL bot
writes them. Pure: render entries, parse text back, add entries to a page's text.

A message and a nick are wikitext-quoted when written (opsweek.quoting.wikitext; a nick's
``:`` and spaces too, as they end it) and unquoted when read, so what someone logged, and who,
is shown, never interpreted by the wiki. Entries are compared as MediaWiki keeps text
(Unicode NFC), so an entry reads back as the same entry after the wiki saved it."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from opsweek.errors import BadInput
from opsweek.quoting import CONTROL, wikitext

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
        lines.append(entry_line(entry))
    return "\n".join(lines) + ("\n" if lines else "")


def entry_line(entry: WikiEntry) -> str:
    moment = entry.logged_at.astimezone(UTC)
    return f"* {moment:%H:%M} {wiki_nick(entry.nick)}: {wikitext(entry.message)}"


def wiki_nick(nick: str) -> str:
    """A nick as one word of the line: quoted as text, its ``:`` and spaces too."""
    return wikitext(nick).replace(":", "&#58;").replace(" ", "&#32;") or "&#63;"


def same_entry_key(entry: WikiEntry) -> tuple[datetime, str, str]:
    """What makes two entries the same on the page: the minute (the page shows no seconds),
    the nick and the message's words, as MediaWiki keeps them (NFC)."""
    minute = entry.logged_at.astimezone(UTC).replace(second=0, microsecond=0)
    return minute, _kept(entry.nick), _kept(entry.message)


def _kept(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(CONTROL.sub(" ", text).split()))


def add_entries(text: str, entries: Iterable[WikiEntry]) -> tuple[str, int]:
    """``text`` with the entries not already on it, each in its day's section at its time
    (a new section goes where its day falls among the headings); whatever else the page holds
    is kept as it is. Returns the new text and how many were added."""
    lines = text.splitlines()
    present = {same_entry_key(e) for e in parse(text, strict=False)}
    added = 0
    for entry in sorted(entries, key=lambda e: e.logged_at):
        key = same_entry_key(entry)
        if key in present:
            continue
        present.add(key)
        _insert(lines, entry)
        added += 1
    return ("\n".join(lines) + "\n" if lines else ""), added


def _insert(lines: list[str], entry: WikiEntry) -> None:
    moment = entry.logged_at.astimezone(UTC)
    day, clock = moment.date(), (moment.hour, moment.minute)
    line = entry_line(entry)
    for index, raw in enumerate(lines):
        heading_day = _day(raw)
        if heading_day is None:  # not a heading, or one whose date is no date (2024-02-30)
            continue
        if heading_day == day:
            position = index + 1
            while position < len(lines) and _clock(lines[position]) > clock:
                position += 1
            lines.insert(position, line)
            return
        if heading_day < day:
            lines[index:index] = [f"== {day.isoformat()} ==", line, ""]
            return
    if lines and lines[-1].strip():
        lines.append("")
    lines += [f"== {day.isoformat()} ==", line]


def _day(raw: str) -> date | None:
    heading = HEADING.match(raw.strip())
    try:
        return date.fromisoformat(heading.group(1)) if heading else None
    except ValueError:
        return None


def _clock(raw: str) -> tuple[int, int]:
    """The time of an entry line, (-1, -1) for any other line."""
    entry = LINE.match(raw.strip())
    if entry is None:
        return (-1, -1)
    hour, minute = entry.group(1).split(":")
    return int(hour), int(minute)


def parse(text: str, strict: bool = True) -> list[WikiEntry]:
    """Entries of a wiki-form SAL, oldest first. Strict (a file to import): a line that is
    neither a heading nor an entry under a heading is an error naming its line number. Not
    strict (a live wiki page, with its templates, archive links and other headings): such
    lines are skipped, and only entries under a day heading count."""
    entries: list[WikiEntry] = []
    day: date | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        heading = HEADING.match(line)
        if heading:
            try:
                day = date.fromisoformat(heading.group(1))
            except ValueError:
                if strict:
                    raise BadInput(f"SAL line {number}: invalid date {heading.group(1)}") from None
                day = None
            continue
        if line.startswith("="):  # another heading: what follows is not under a day
            day = None
        entry = LINE.match(line)
        if not strict and (entry is None or day is None):
            continue
        if entry is None or day is None:
            what = (
                "no == YYYY-MM-DD == heading before it" if entry else "not '* HH:MM nick: message'"
            )
            raise BadInput(f"SAL line {number}: {what}")
        hour, minute = (int(part) for part in entry.group(1).split(":"))
        if hour > 23 or minute > 59:
            if not strict:
                continue
            raise BadInput(f"SAL line {number}: invalid time {entry.group(1)}")
        moment = datetime.combine(day, time(hour, minute), tzinfo=UTC)
        message = " ".join(html.unescape(entry.group(3)).split())
        if message:
            entries.append(WikiEntry(moment, html.unescape(entry.group(2)), message))
    return sorted(entries, key=lambda e: e.logged_at)
