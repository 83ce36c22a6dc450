"""Parsing and converting dates, times and timezones. Times are stored in UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from opsweek.errors import BadInput

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def zone(name: str) -> ZoneInfo:
    """The IANA timezone called ``name``; ValueError if there is none."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        raise ValueError(f"unknown timezone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r} (expected an IANA name like 'Europe/Paris')"
        ) from None


def parse_weekday(name: str) -> int:
    """Monday is 0. Accepts full names and three-letter abbreviations."""
    key = name.strip().lower()
    for index, day in enumerate(WEEKDAYS):
        if key in (day, day[:3]):
            return index
    raise ValueError(f"unknown weekday {name!r}")


def parse_weekdays(text: str) -> frozenset[int]:
    return frozenset(parse_weekday(part) for part in text.split(",") if part.strip())


def parse_clock(text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected a time like 09:00, not {text!r}") from None


def parse_date(text: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"invalid {what} {text!r}: expected YYYY-MM-DD") from None


def parse_instant(text: str, default_tz: ZoneInfo) -> datetime:
    """A moment from ISO 8601 text; a date or naive time is read in ``default_tz``."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            moment = datetime.combine(date.fromisoformat(raw), time())
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(
            f"invalid time {text!r}: expected ISO 8601 like "
            "2026-01-08T09:00 or 2026-01-08T09:00+01:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    return moment.astimezone(UTC)


AGE = re.compile(r"^\s*(\d{1,5})\s*([mhdw])\s*\Z")
AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, default_tz: ZoneInfo, now: datetime | None = None) -> datetime:
    """A starting moment: ISO 8601 (read like `parse_instant`), or an age before ``now``:
    30m, 24h, 7d, 2w."""
    age = AGE.match(text)
    if age is None:
        return parse_instant(text, default_tz)
    amount, unit = int(age.group(1)), AGE_UNITS[age.group(2)]
    return (now or utcnow()) - timedelta(**{unit: amount})


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
