"""The schedule solver: who takes each ops week. Pure: values in, values out.

Hard rules
  * nobody takes a week in which they are unavailable;
  * nobody takes two weeks in a row unless nobody else is available for that week.
Fairness
  * the week goes to the available person with the fewest weeks, counting the look-back history,
    the fixed (published) weeks and the weeks planned so far; so among people available for the
    same weeks the most and least loaded differ by at most one week (given a balanced start);
  * ties go to whoever has been off duty longest (never on duty counts as longest);
  * soft preference: on a remaining tie, someone whose UTC offset differs from the previous
    week's person, so early time zones do not carry consecutive weeks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from opsweek.errors import Conflict

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Candidate:
    username: str
    utc_offset: float = 0.0  # hours, used only for the soft timezone preference


class NoEligiblePerson(Conflict):
    def __init__(self, week: date, reason: str) -> None:
        super().__init__(f"no eligible person for the week of {week.isoformat()}: {reason}")
        self.week = week
        self.reason = reason


def plan_weeks(
    weeks: Sequence[date],
    people: Sequence[Candidate],
    available: Mapping[date, frozenset[str]],
    history: Mapping[date, str],
    fixed: Mapping[date, str] | None = None,
) -> dict[date, str]:
    """Assign every week in ``weeks`` (ascending, 7 days apart).

    ``history`` holds earlier assignments that count towards load (the look-back window);
    ``fixed`` holds weeks inside ``weeks`` that must keep their person. Returns every week of
    ``weeks`` with its person, fixed ones included. Raises NoEligiblePerson naming the first
    week nobody can take; nothing is returned partially.
    """
    fixed = dict(fixed or {})
    offsets = {p.username: p.utc_offset for p in people}
    team = set(offsets)
    load: Counter[str] = Counter({name: 0 for name in team})
    last_on_duty: dict[str, date] = {}
    for week, name in sorted(history.items()):
        if name in team:
            load[name] += 1
            last_on_duty[name] = week
    for name in fixed.values():
        if name in team:
            load[name] += 1

    result: dict[date, str] = {}
    for week in weeks:
        if week in fixed:
            result[week] = fixed[week]
            last_on_duty[fixed[week]] = week
            continue
        free = [name for name in sorted(available.get(week, frozenset()) & team)]
        if not free:
            raise NoEligiblePerson(week, _why_nobody(team))
        neighbours = {_assigned(week - WEEK, result, history), fixed.get(week + WEEK)}
        not_in_a_row = [name for name in free if name not in neighbours]
        pool = not_in_a_row or free
        previous = _assigned(week - WEEK, result, history)
        previous_offset = offsets.get(previous) if previous else None

        chosen = min(
            pool,
            key=lambda name: (
                load[name],
                last_on_duty.get(name, date.min),  # off duty longest first
                int(previous_offset is not None and offsets[name] == previous_offset),
                name,
            ),
        )
        result[week] = chosen
        load[chosen] += 1
        last_on_duty[chosen] = week
    return result


def _assigned(week: date, planned: Mapping[date, str], history: Mapping[date, str]) -> str | None:
    return planned.get(week) or history.get(week)


def _why_nobody(team: set[str]) -> str:
    if not team:
        return "the team has no active members"
    if len(team) == 1:
        return f"the only team member ({next(iter(team))}) is away"
    return f"all {len(team)} team members are away"


@dataclass(frozen=True)
class Suggestion:
    """A way to fix a conflict: swap with another week, or have someone cover."""

    action: str  # "swap" or "cover"
    week: date
    other_week: date | None
    username: str

    def describe(self) -> str:
        if self.action == "swap" and self.other_week is not None:
            return (
                f"opsweek rotation swap {self.week.isoformat()} "
                f"{self.other_week.isoformat()}  # {self.username} takes this week"
            )
        return f"opsweek rotation cover {self.week.isoformat()} --by {self.username}"


def suggest_fix(
    week: date,
    assignments: Mapping[date, str],
    available: Mapping[date, frozenset[str]],
    candidates: Sequence[str],
) -> Suggestion | None:
    """A swap (preferred, closest week first) or a cover for ``week``, or None.

    ``assignments`` are the known weeks (past and future) used for the consecutive-week rule;
    ``available`` must cover ``week`` and the weeks considered for a swap.
    """
    person = assignments.get(week)

    def in_a_row(name: str, target: date, moved: Mapping[date, str]) -> bool:
        return name in (moved.get(target - WEEK), moved.get(target + WEEK))

    others = sorted(
        (w for w in assignments if w != week and w in available),
        key=lambda w: (abs((w - week).days), w),
    )
    for other in others:
        mate = assignments[other]
        if mate == person or mate not in available.get(week, frozenset()):
            continue
        if person is not None and person not in available[other]:
            continue
        moved = {**assignments, week: mate}
        if person is not None:
            moved[other] = person
        if in_a_row(mate, week, moved) or (person is not None and in_a_row(person, other, moved)):
            continue
        return Suggestion("swap", week, other, mate)
    load = Counter(assignments.values())
    free = [
        name
        for name in candidates
        if name in available.get(week, frozenset())
        and name != person
        and not in_a_row(name, week, assignments)
    ]
    if free:
        return Suggestion("cover", week, None, min(free, key=lambda n: (load[n], n)))
    return None
