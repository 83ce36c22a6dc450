"""iCalendar export of the rotation: one event per ops week, in the team timezone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WeekEvent:
    week: date
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    username: str
    name: str
    email: str
    updated_at: datetime


def rotation_calendar(events: Sequence[WeekEvent], tz: ZoneInfo, title: str = "Ops week") -> bytes:
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//opsweek//rotation//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", title)
    calendar.add("x-wr-timezone", tz.key)
    for item in events:
        event = icalendar.Event()
        event.add("uid", f"opsweek-{item.week.isoformat()}@opsweek")
        event.add("summary", f"{title}: {item.name or item.username}")
        event.add("dtstart", item.starts_at.astimezone(tz))
        event.add("dtend", item.ends_at.astimezone(tz))
        event.add("dtstamp", item.updated_at)
        event.add("last-modified", item.updated_at)
        event.add("description", f"{item.username} is on ops-week duty.")
        event.add("transp", "TRANSPARENT")
        if item.email:
            event.add("attendee", f"mailto:{item.email}", parameters={"CN": item.name})
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
