"""The rotation as a month calendar (Monday first): who is on duty each day (at noon, team
time: the handoff day shows who takes over), who is away, and the handoff days. Pure."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opsweek.rotation.availability import AwayPeriod
from opsweek.rotation.views import WeekView


@dataclass(frozen=True)
class CalendarDay:
    day: date
    on_duty: str | None
    away: tuple[str, ...]
    handoff: bool  # a rotation week begins this day
    in_month: bool
    today: bool


@dataclass(frozen=True)
class Month:
    title: str  # "December 2026"
    weeks: list[list[CalendarDay]]


def month_grid(
    first: date,
    months: int,
    weeks: Sequence[WeekView],
    away: Sequence[AwayPeriod],
    today: date,
    tz: ZoneInfo,
) -> list[Month]:
    """``months`` months from the one holding ``first``."""
    found = []
    year, month = first.year, first.month
    for _ in range(months):
        rows = []
        for row in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            rows.append([_day(day, month, weeks, away, today, tz) for day in row])
        found.append(Month(f"{calendar.month_name[month]} {year}", rows))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def _day(
    day: date,
    month: int,
    weeks: Sequence[WeekView],
    away: Sequence[AwayPeriod],
    today: date,
    tz: ZoneInfo,
) -> CalendarDay:
    noon = datetime.combine(day, time(12), tzinfo=tz)
    on_duty = next((w.username for w in weeks if w.starts_at <= noon < w.ends_at), None)
    start_of_day = datetime.combine(day, time(), tzinfo=tz)
    handoff = any(start_of_day <= w.starts_at < start_of_day + timedelta(days=1) for w in weeks)
    gone = tuple(sorted({a.username for a in away if a.start <= day <= a.end}))
    return CalendarDay(day, on_duty, gone, handoff, day.month == month, day == today)
