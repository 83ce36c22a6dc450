"""The rotation's month calendar: who is on duty each day, handoff days, who is away."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from opsweek.rotation.availability import AwayPeriod
from opsweek.rotation.calendar_grid import month_grid
from opsweek.rotation.views import WeekView

TZ = ZoneInfo("Europe/Paris")


def week(start: date, user: str) -> WeekView:
    begins = datetime.combine(start, datetime.min.time(), tzinfo=TZ).replace(hour=14)
    return WeekView(start, begins, begins + timedelta(days=7), user)


def test_each_day_shows_who_is_on_duty_at_noon_and_who_is_away() -> None:
    weeks = [week(date(2026, 12, 3), "ann"), week(date(2026, 12, 10), "bob")]
    away = [AwayPeriod("cid", date(2026, 12, 9), date(2026, 12, 11), "holiday")]
    (december, january) = month_grid(date(2026, 12, 2), 2, weeks, away, date(2026, 12, 2), TZ)
    assert (december.title, january.title) == ("December 2026", "January 2027")
    days = {d.day: d for row in december.weeks for d in row}
    assert all(len(row) == 7 and row[0].day.weekday() == 0 for row in december.weeks)
    assert days[date(2026, 11, 30)].in_month is False  # the grid starts on a Monday
    assert days[date(2026, 12, 2)].today and days[date(2026, 12, 2)].on_duty is None
    assert days[date(2026, 12, 3)].on_duty is None and days[date(2026, 12, 3)].handoff
    assert days[date(2026, 12, 4)].on_duty == "ann"
    assert days[date(2026, 12, 10)].on_duty == "ann" and days[date(2026, 12, 10)].handoff
    assert days[date(2026, 12, 11)].on_duty == "bob"
    assert [d.away for d in (days[date(2026, 12, n)] for n in (8, 9, 11, 12))] == [
        (),
        ("cid",),
        ("cid",),
        (),
    ]
