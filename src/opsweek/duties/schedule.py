"""When duties fall due: cron expressions evaluated in the team timezone (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from opsweek.duties.definitions import DutyDef
from opsweek.timeutil import zone


@dataclass(frozen=True)
class Occurrence:
    duty: DutyDef
    due_at: datetime  # UTC

    @property
    def overdue_at(self) -> datetime:
        return self.due_at + timedelta(hours=self.duty.grace_hours)


def occurrences(duty: DutyDef, start: datetime, end: datetime, tz: ZoneInfo) -> list[Occurrence]:
    """Occurrences of a recurring duty due in [start, end), local times taken in the duty's own
    timezone, else ``tz`` (the team's): a 9:00 duty stays at 9:00 across DST changes."""
    if duty.on_demand or end <= start:
        return []
    if duty.timezone:
        tz = zone(duty.timezone)
    found = []
    cursor = croniter(duty.cron, (start - timedelta(seconds=1)).astimezone(tz))
    while True:
        due = cursor.get_next(datetime).astimezone(UTC)
        if due >= end:
            return found
        if due >= start:
            found.append(Occurrence(duty, due))


def all_occurrences(
    duties: Iterable[DutyDef], start: datetime, end: datetime, tz: ZoneInfo
) -> list[Occurrence]:
    found = [o for duty in duties for o in occurrences(duty, start, end, tz)]
    return sorted(found, key=lambda o: (o.due_at, o.duty.key))
