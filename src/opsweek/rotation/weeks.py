"""Ops-week boundaries: a week starts on a weekday at a local time in the team timezone.

A week is named by the local date it starts on. Its bounds are computed from local wall-clock
time, so a week that spans a DST change lasts 167 or 169 hours and still starts at 09:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WeekRule:
    tz: ZoneInfo
    weekday: int = 3  # Thursday
    at: time = time(9, 0)

    def start_of(self, week: date) -> datetime:
        """UTC instant at which the week named ``week`` begins."""
        return datetime.combine(week, self.at, tzinfo=self.tz).astimezone(UTC)

    def bounds(self, week: date) -> tuple[datetime, datetime]:
        return self.start_of(week), self.start_of(week + timedelta(days=7))

    def containing(self, moment: datetime) -> date:
        """The week in which ``moment`` (aware) falls."""
        local = moment.astimezone(self.tz)
        week = local.date() - timedelta(days=(local.weekday() - self.weekday) % 7)
        if self.start_of(week) > moment:
            week -= timedelta(days=7)
        return week

    def normalize(self, day: date) -> date:
        """The week whose days include the calendar date ``day``."""
        return day - timedelta(days=(day.weekday() - self.weekday) % 7)

    def following(self, week: date, count: int) -> list[date]:
        return [week + timedelta(days=7 * i) for i in range(count)]


def days_of(week: date) -> list[date]:
    """The seven calendar dates an ops week covers."""
    return [week + timedelta(days=i) for i in range(7)]
