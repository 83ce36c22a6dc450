"""Who can take which week, given away periods (vacation, leave, conference)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from opsweek.rotation.weeks import days_of


@dataclass(frozen=True)
class AwayPeriod:
    username: str
    start: date
    end: date  # inclusive
    reason: str = ""


@dataclass(frozen=True)
class AvailabilityPolicy:
    working_days: frozenset[int] = frozenset(range(5))
    max_away_days: int = 0

    def away_days(self, week: date, periods: Iterable[AwayPeriod]) -> list[date]:
        """Working days of ``week`` covered by any of ``periods``."""
        return [
            day
            for day in days_of(week)
            if day.weekday() in self.working_days and any(p.start <= day <= p.end for p in periods)
        ]

    def blocks(self, week: date, periods: Iterable[AwayPeriod]) -> bool:
        return len(self.away_days(week, periods)) > self.max_away_days


def available_by_week(
    weeks: Sequence[date],
    usernames: Iterable[str],
    periods: Iterable[AwayPeriod],
    policy: AvailabilityPolicy,
) -> dict[date, frozenset[str]]:
    """For each week, the usernames that are not blocked by an away period."""
    if not weeks:
        return {}
    first, last = min(weeks), max(weeks) + timedelta(days=6)
    by_person: dict[str, list[AwayPeriod]] = defaultdict(list)
    for period in periods:
        if period.end >= first and period.start <= last:
            by_person[period.username].append(period)
    names = list(usernames)
    return {
        week: frozenset(
            name
            for name in names
            if not (by_person.get(name) and policy.blocks(week, by_person[name]))
        )
        for week in weeks
    }
