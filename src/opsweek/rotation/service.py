"""The rotation service: plan, swap, cover, who is on duty. Glue between store and solver."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.db.models import Person, RotationChange, RotationWeek
from opsweek.errors import BadInput, Conflict, NotFound
from opsweek.rotation.availability import AwayPeriod, available_by_week
from opsweek.rotation.ics import WeekEvent, rotation_calendar
from opsweek.rotation.on_duty import on_duty
from opsweek.rotation.solver import WEEK, Candidate, plan_weeks, suggest_fix
from opsweek.rotation.team import Team
from opsweek.rotation.views import ConflictView, OnDuty, PlanResult, RotationConfig, WeekView
from opsweek.sal.log import record_action
from opsweek.timeutil import utcnow, zone


class Rotation:
    def __init__(
        self, session: Session, config: RotationConfig, actor: str, now: datetime | None = None
    ) -> None:
        self.session = session
        self.config = config
        self.actor = actor
        self.now = now or utcnow()
        self.team = Team(session, self.now)

    # --- reading -----------------------------------------------------------------------
    @property
    def current_week(self) -> date:
        return self.config.rule.containing(self.now)

    @property
    def published_until(self) -> date:
        """First week that is not published (weeks before it stay fixed)."""
        return self.config.published_until(self.now)

    def _rows(self, start: date | None = None, end: date | None = None) -> list[RotationWeek]:
        query = select(RotationWeek).order_by(RotationWeek.week)
        if start is not None:
            query = query.where(RotationWeek.week >= start)
        if end is not None:
            query = query.where(RotationWeek.week < end)
        return list(self.session.scalars(query))

    def _view(self, row: RotationWeek) -> WeekView:
        person = row.person
        return self.config.view(
            row.week, row.starts_at, row.ends_at, person.username, row.origin, self.now, person.name
        )

    def weeks(self, start: date | None = None, end: date | None = None) -> list[WeekView]:
        return [self._view(row) for row in self._rows(start, end)]

    def load(self) -> tuple[dict[str, int], dict[str, int]]:
        """Weeks on duty per person over the planner's lookback window (up to the current
        week), and weeks planned for each after it."""
        current = self.current_week
        done: dict[str, int] = {}
        ahead: dict[str, int] = {}
        for week in self.weeks(current - WEEK * self.config.lookback_weeks):
            if week.username:
                counts = done if week.week <= current else ahead
                counts[week.username] = counts.get(week.username, 0) + 1
        return done, ahead

    def who(self, at: datetime | None = None) -> OnDuty:
        return on_duty(self.session.connection(), self.config, self.now, at)

    # --- planning ----------------------------------------------------------------------
    def plan(self, count: int, start: date | None = None, dry_run: bool = False) -> PlanResult:
        if count < 1:
            raise BadInput("--weeks must be at least 1")
        first = self.config.rule.normalize(start) if start else self.current_week
        if first < self.current_week:
            raise BadInput(
                f"cannot plan the week of {first.isoformat()}: it is over "
                f"(the current week began {self.current_week.isoformat()})"
            )
        weeks = self.config.rule.following(first, count)
        rows = {row.week: row for row in self._rows(first - WEEK * self.config.lookback_weeks)}
        assigned = {week: row.person.username for week, row in rows.items()}
        fixed = {w: assigned[w] for w in weeks if w in assigned and w < self.published_until}
        history = {w: name for w, name in assigned.items() if w < first}
        members = self.team.members()
        periods = self.team.away_periods()
        available = available_by_week(
            weeks, [p.username for p in members], periods, self.config.policy
        )
        candidates = [Candidate(p.username, _utc_offset(p.timezone, self.now)) for p in members]
        plan = plan_weeks(weeks, candidates, available, history, fixed)

        changed = [w for w in weeks if w not in fixed and assigned.get(w) != plan[w]]
        if not dry_run and changed:
            people = {p.username: p for p in members}
            for week in changed:
                self._assign(rows.get(week), week, people[plan[week]], "plan")
            self._record(
                "plan",
                f"planned {len(weeks)} weeks from {first.isoformat()}, {len(changed)} changed",
                {"weeks": {w.isoformat(): plan[w] for w in changed}},
            )
            self.session.flush()
        views = [
            self.config.view(
                w, *self.config.rule.bounds(w), plan[w], "fixed" if w in fixed else "plan", self.now
            )
            for w in weeks
        ]
        return PlanResult(views, changed, self.conflicts())

    def conflicts(self) -> list[ConflictView]:
        """Published weeks whose person is away or has left the team, each with a fix."""
        start, end = self.current_week, self.published_until
        rows = self._rows(start - WEEK, end + WEEK * self.config.published_weeks)
        if not rows:
            return []
        assignments = {row.week: row.person.username for row in rows}
        members = [p.username for p in self.team.members()]
        periods = self.team.away_periods()
        weeks = sorted(assignments)
        available = available_by_week(weeks, members, periods, self.config.policy)
        found = []
        for row in rows:
            if not start <= row.week < end:
                continue
            name = row.person.username
            if name in available[row.week]:
                continue
            reason = (
                self._away_reason(row.week, name, periods)
                if row.person.active
                else "no longer on the team"
            )
            swappable = {w: n for w, n in assignments.items() if w == row.week or (w >= start)}
            fix = suggest_fix(row.week, swappable, available, members)
            found.append(ConflictView(row.week, name, reason, fix))
        return found

    def _away_reason(self, week: date, username: str, periods: Sequence[AwayPeriod]) -> str:
        mine = [p for p in periods if p.username == username]
        days = self.config.policy.away_days(week, mine)
        why = sorted({p.reason for p in mine if any(p.start <= d <= p.end for d in days)} - {""})
        text = f"away {len(days)} working day(s) from {days[0].isoformat()}" if days else "away"
        return text + (f" ({', '.join(why)})" if why else "")

    # --- changes -----------------------------------------------------------------------
    def swap(self, week_a: date, week_b: date, allow_consecutive: bool = False) -> list[WeekView]:
        a, b = self.config.rule.normalize(week_a), self.config.rule.normalize(week_b)
        if a == b:
            raise BadInput("both dates fall in the same ops week")
        row_a, row_b = self._existing(a), self._existing(b)
        person_a, person_b = row_a.person, row_b.person
        self._check_can_take(person_b, a, allow_consecutive, ignore={b})
        self._check_can_take(person_a, b, allow_consecutive, ignore={a})
        row_a.person, row_b.person = person_b, person_a
        for row in (row_a, row_b):
            row.origin, row.updated_by, row.updated_at = "swap", self.actor, self.now
        self._record(
            "swap",
            f"swapped {a.isoformat()} ({person_a.username}) with "
            f"{b.isoformat()} ({person_b.username})",
            {"weeks": {a.isoformat(): person_b.username, b.isoformat(): person_a.username}},
        )
        self.session.flush()
        return [self._view(row_a), self._view(row_b)]

    def cover(self, week: date, username: str, allow_consecutive: bool = False) -> WeekView:
        target = self.config.rule.normalize(week)
        person = self.team.get(username)
        row = self.session.scalar(select(RotationWeek).where(RotationWeek.week == target))
        previous = row.person.username if row else None
        if previous == username:
            raise BadInput(f"{username} is already on duty the week of {target.isoformat()}")
        self._check_can_take(person, target, allow_consecutive, ignore={target})
        row = self._assign(row, target, person, "cover")
        self._record(
            "cover",
            f"{username} covers the week of {target.isoformat()}"
            + (f" for {previous}" if previous else ""),
            {"week": target.isoformat(), "person": username, "previous": previous},
        )
        self.session.flush()
        return self._view(row)

    def _existing(self, week: date) -> RotationWeek:
        row = self.session.scalar(select(RotationWeek).where(RotationWeek.week == week))
        if row is None:
            raise NotFound(
                f"the week of {week.isoformat()} has nobody assigned "
                "(plan it first: opsweek rotation plan)"
            )
        return row

    def _check_can_take(
        self, person: Person, week: date, allow_consecutive: bool, ignore: set[date]
    ) -> None:
        if not person.active:
            raise Conflict(f"{person.username} is no longer on the team")
        mine = [p for p in self.team.away_periods() if p.username == person.username]
        if self.config.policy.blocks(week, mine):
            raise Conflict(
                f"{person.username} cannot take the week of {week.isoformat()}: "
                f"{self._away_reason(week, person.username, mine)}"
            )
        if allow_consecutive:
            return
        for neighbour in (week - WEEK, week + WEEK):
            if neighbour in ignore:
                continue
            row = self.session.scalar(select(RotationWeek).where(RotationWeek.week == neighbour))
            if row is not None and row.person_id == person.id:
                raise Conflict(
                    f"{person.username} would be on duty two weeks in a row "
                    f"({neighbour.isoformat()} and {week.isoformat()}); "
                    "use --allow-consecutive if that is intended"
                )

    def _assign(
        self, row: RotationWeek | None, week: date, person: Person, origin: str
    ) -> RotationWeek:
        starts_at, ends_at = self.config.rule.bounds(week)
        if row is None:
            row = RotationWeek(week=week)
            self.session.add(row)
        row.starts_at, row.ends_at, row.person = starts_at, ends_at, person
        row.origin, row.updated_at, row.updated_by = origin, self.now, self.actor
        return row

    def _record(self, action: str, summary: str, detail: dict[str, Any]) -> None:
        record_action(self.session, self.actor, f"rotation: {summary}", self.now)
        self.session.add(
            RotationChange(
                at=self.now, actor=self.actor, action=action, summary=summary, detail=detail
            )
        )

    def changes(self, limit: int = 50) -> list[RotationChange]:
        return list(
            self.session.scalars(
                select(RotationChange).order_by(RotationChange.id.desc()).limit(limit)
            )
        )

    # --- calendar ----------------------------------------------------------------------
    def calendar(self, username: str | None = None, title: str = "Ops week") -> bytes:
        if username:
            self.team.get(username, include_inactive=True)
        rows = [row for row in self._rows() if username is None or row.person.username == username]
        events = [
            WeekEvent(
                row.week,
                row.starts_at,
                row.ends_at,
                row.person.username,
                row.person.name,
                row.person.email,
                row.updated_at,
            )
            for row in rows
        ]
        return rotation_calendar(events, self.config.rule.tz, title)


def _utc_offset(timezone: str, at: datetime) -> float:
    offset = at.astimezone(zone(timezone)).utcoffset() or timedelta()
    return offset.total_seconds() / 3600
