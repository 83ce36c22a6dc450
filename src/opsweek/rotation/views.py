"""What the rotation looks like to its readers, and its configuration: plain values, no store
(so `opsweek who` reads the rotation without loading the ORM)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from opsweek.config.areas import RotationSettings
from opsweek.rotation.availability import AvailabilityPolicy
from opsweek.rotation.solver import WEEK, Suggestion
from opsweek.rotation.weeks import WeekRule
from opsweek.timeutil import iso, parse_clock, parse_weekday, parse_weekdays, zone


@dataclass(frozen=True)
class RotationConfig:
    rule: WeekRule
    policy: AvailabilityPolicy
    published_weeks: int = 8
    lookback_weeks: int = 26

    @classmethod
    def from_settings(cls, settings: RotationSettings) -> RotationConfig:
        return cls(
            rule=WeekRule(
                zone(settings.timezone),
                parse_weekday(settings.handoff_weekday),
                parse_clock(settings.handoff_time),
            ),
            policy=AvailabilityPolicy(
                parse_weekdays(settings.working_days), settings.max_away_days
            ),
            published_weeks=settings.published_weeks,
            lookback_weeks=settings.lookback_weeks,
        )

    def published_until(self, now: datetime) -> date:
        """First week that is not published at ``now`` (weeks before it stay fixed)."""
        return self.rule.containing(now) + WEEK * self.published_weeks

    def state(self, week: date, now: datetime) -> str:
        """``past``, ``current``, ``published`` or ``draft``."""
        current = self.rule.containing(now)
        if week < current:
            return "past"
        if week == current:
            return "current"
        return "published" if week < self.published_until(now) else "draft"

    def view(
        self,
        week: date,
        starts_at: datetime,
        ends_at: datetime,
        username: str,
        origin: str,
        now: datetime,
        name: str = "",
    ) -> WeekView:
        return WeekView(
            week,
            starts_at,
            ends_at,
            username,
            origin,
            week < self.published_until(now),
            self.state(week, now),
            name,
        )


@dataclass(frozen=True)
class WeekView:
    week: date
    starts_at: datetime
    ends_at: datetime
    username: str | None
    origin: str = ""
    published: bool = False
    state: str = "draft"  # past, current, published or draft
    name: str = ""  # the person's full name

    def as_json(self) -> dict[str, Any]:
        return {
            "week": self.week.isoformat(),
            "start": iso(self.starts_at),
            "end": iso(self.ends_at),
            "person": self.username,
            "origin": self.origin,
            "published": self.published,
            "state": self.state,
        }


@dataclass(frozen=True)
class ConflictView:
    week: date
    username: str
    reason: str
    suggestion: Suggestion | None

    def as_json(self) -> dict[str, Any]:
        fix = self.suggestion
        return {
            "week": self.week.isoformat(),
            "person": self.username,
            "reason": self.reason,
            "suggestion": None
            if fix is None
            else {
                "action": fix.action,
                "week": fix.week.isoformat(),
                "other_week": fix.other_week.isoformat() if fix.other_week else None,
                "person": fix.username,
                "command": fix.describe(),
            },
        }


@dataclass
class PlanResult:
    weeks: list[WeekView]
    changed: list[date] = field(default_factory=list)
    conflicts: list[ConflictView] = field(default_factory=list)


@dataclass(frozen=True)
class OnDuty:
    current: WeekView | None
    next: WeekView | None

    def as_json(self) -> dict[str, Any]:
        current, upcoming = self.current, self.next
        return {
            "person": current.username if current else None,
            "start": iso(current.starts_at) if current else None,
            "end": iso(current.ends_at) if current else None,
            "next": upcoming.username if upcoming else None,
            "next_start": iso(upcoming.starts_at) if upcoming else None,
        }
