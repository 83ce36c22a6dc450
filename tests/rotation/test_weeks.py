"""Ops-week boundaries in the team timezone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opsweek.rotation.availability import AvailabilityPolicy, AwayPeriod, available_by_week
from opsweek.rotation.weeks import WeekRule

PARIS = WeekRule(ZoneInfo("Europe/Paris"), weekday=3, at=time(9, 0))


def test_week_spanning_spring_forward_is_an_hour_short() -> None:
    start, end = PARIS.bounds(date(2026, 3, 26))  # DST begins Sunday 2026-03-29
    assert start == datetime(2026, 3, 26, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert end == datetime(2026, 4, 2, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert end - start == timedelta(hours=167)


def test_week_spanning_fall_back_is_an_hour_long() -> None:
    start, end = PARIS.bounds(date(2026, 10, 22))  # DST ends Sunday 2026-10-25
    assert end - start == timedelta(hours=169)
    assert end.astimezone(PARIS.tz).time() == time(9, 0)


def test_containing_uses_the_local_handoff_time() -> None:
    just_before = datetime(2026, 4, 2, 6, 59, tzinfo=UTC)  # 08:59 in Paris, Thursday
    just_after = datetime(2026, 4, 2, 7, 0, tzinfo=UTC)
    assert PARIS.containing(just_before) == date(2026, 3, 26)
    assert PARIS.containing(just_after) == date(2026, 4, 2)


def test_normalize_any_day_to_its_week() -> None:
    assert PARIS.normalize(date(2026, 4, 1)) == date(2026, 3, 26)  # a Wednesday
    assert PARIS.normalize(date(2026, 4, 2)) == date(2026, 4, 2)
    monday_rule = WeekRule(ZoneInfo("UTC"), weekday=0)
    assert monday_rule.normalize(date(2026, 4, 5)) == date(2026, 3, 30)


def test_away_on_a_working_day_blocks_the_week() -> None:
    week = date(2026, 1, 1)  # Thursday; days Thu..Wed
    policy = AvailabilityPolicy()
    weekend = AwayPeriod("ann", date(2026, 1, 3), date(2026, 1, 4))  # Sat-Sun
    monday = AwayPeriod("bob", date(2026, 1, 5), date(2026, 1, 5))
    available = available_by_week([week], ["ann", "bob", "cid"], [weekend, monday], policy)
    assert available[week] == {"ann", "cid"}


def test_max_away_days_tolerates_a_short_absence() -> None:
    week = date(2026, 1, 1)
    policy = AvailabilityPolicy(max_away_days=1)
    one_day = AwayPeriod("bob", date(2026, 1, 5), date(2026, 1, 5))
    two_days = AwayPeriod("cid", date(2026, 1, 5), date(2026, 1, 6))
    available = available_by_week([week], ["bob", "cid"], [one_day, two_days], policy)
    assert available[week] == {"bob"}
