"""The handoff report for one ops week, built from what opsweek already knows (pure).

The service gathers the week's alerts, duties, SAL entries, decisions, tracker tasks and
channel questions; this module groups them and computes the figures the next person and the
team lead read first. ``unavailable`` says which sources could not be read, so a report is
always produced and never silently partial.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from opsweek.adapters.chat import Question
from opsweek.adapters.tracker import Task
from opsweek.alerts.areas import AREAS
from opsweek.timeutil import iso

JOB_KEYS = ("dag_id", "job", "job_name", "unit", "timer", "alertname", "stream", "table")


@dataclass(frozen=True)
class AlertLine:
    id: int
    kind: str
    title: str
    count: int
    status: str
    first_seen: datetime
    last_seen: datetime
    acked_by: str | None = None
    acked_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    note: str | None = None
    job: str = ""
    area: str = "pipelines"  # pipelines or dumps: the two responsibilities

    @property
    def time_to_ack(self) -> timedelta | None:
        return self.acked_at - self.first_seen if self.acked_at else None

    @property
    def resolved_without_action(self) -> bool:
        """Went away by itself: resolved by its source and never acknowledged."""
        return (
            self.status == "resolved"
            and self.acked_by is None
            and (self.resolved_by or "").startswith("source:")
        )

    def as_json(self) -> dict[str, Any]:
        ack = self.time_to_ack
        return {
            "id": self.id,
            "kind": self.kind,
            "job": self.job,
            "title": self.title,
            "count": self.count,
            "status": self.status,
            "first_seen": iso(self.first_seen),
            "acked_by": self.acked_by,
            "time_to_ack_minutes": round(ack.total_seconds() / 60, 1) if ack else None,
            "resolved_by": self.resolved_by,
            "resolution_note": self.note,
        }


def job_of(details: dict[str, Any], title: str) -> str:
    """The job, DAG, unit or table an alert is about; empty when it names none (the alert
    then counts for its kind)."""
    for key in JOB_KEYS:
        value = details.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


@dataclass(frozen=True)
class StepNote:
    """A checklist step ticked with a note: a dashboard that looked wrong."""

    at: str
    by: str
    duty: str
    step: str
    note: str


@dataclass(frozen=True)
class DutyLine:
    id: int
    key: str
    title: str
    due_at: datetime
    status: str  # done, skipped, overdue, due
    closed_by: str | None
    note: str


@dataclass(frozen=True)
class DutySummary:
    """The occurrences of one duty in the week: how many in each state, and the ones to read
    one by one (skipped with a reason, missed, on demand, or with a note)."""

    key: str
    title: str
    counts: dict[str, int]
    notable: list[DutyLine]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def summarize_duties(duties: list[DutyLine]) -> list[DutySummary]:
    by_key: dict[str, list[DutyLine]] = defaultdict(list)
    for duty in sorted(duties, key=lambda d: (d.due_at, d.id)):
        by_key[duty.key].append(duty)
    summaries = []
    for key, lines in by_key.items():
        counts = Counter(d.status for d in lines)
        notable = [d for d in lines if d.status != "done" or len(lines) == 1]
        summaries.append(DutySummary(key, lines[0].title, dict(counts), notable))
    return summaries


@dataclass(frozen=True)
class SalLine:
    logged_at: datetime
    nick: str
    message: str


@dataclass(frozen=True)
class DecisionLine:
    id: int
    at: datetime
    actor: str
    text: str
    mailed: bool


@dataclass(frozen=True)
class HandoffInputs:
    week: date
    start: datetime
    end: datetime
    now: datetime
    from_person: str | None
    to_person: str | None
    alerts: list[AlertLine]
    duties: list[DutyLine]
    sal: list[SalLine]
    decisions: list[DecisionLine]
    noise_alerts: list[AlertLine]
    noise_weeks: int
    tasks: list[Task] | None = None  # None: no tracker configured or it was unavailable
    manual: list[tuple[str, int]] = field(default_factory=list)  # manual duties, times done
    noted: list[StepNote] = field(default_factory=list)  # steps ticked with a note
    questions: list[Question] | None = None
    unavailable: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KindGroup:
    kind: str
    alerts: list[AlertLine]

    @property
    def occurrences(self) -> int:
        return sum(a.count for a in self.alerts)


@dataclass(frozen=True)
class NoiseLine:
    kind: str
    job: str
    count: int


@dataclass(frozen=True)
class Figures:
    alerts: int
    occurrences: int
    acknowledged: int
    median_minutes_to_ack: float | None
    still_open: int
    duties_done: int
    duties_skipped: int
    duties_missed: int
    sal_entries: int


@dataclass(frozen=True)
class HandoffReport:
    inputs: HandoffInputs
    groups: list[KindGroup]
    still_open: list[AlertLine]
    figures: Figures
    most_fired: list[NoiseLine]
    resolved_by_itself: list[NoiseLine]

    @property
    def title(self) -> str:
        i = self.inputs
        who = f"{i.from_person or 'nobody'} → {i.to_person or 'nobody'}"
        return f"Ops week handoff, week of {i.week.isoformat()}: {who}"

    def tasks_by_action(self) -> dict[str, list[Task]]:
        grouped: dict[str, list[Task]] = defaultdict(list)
        for task in self.inputs.tasks or []:
            grouped[task.handoff_action].append(task)
        return dict(grouped)

    def by_area(self) -> dict[str, dict[str, int]]:
        """The two responsibilities side by side: alerts seen and still open in each."""
        return {
            area: {
                "alerts": sum(a.area == area for a in self.inputs.alerts),
                "still_open": sum(a.area == area for a in self.still_open),
            }
            for area in AREAS
        }

    def as_json(self) -> dict[str, Any]:
        i, f = self.inputs, self.figures
        return {
            "title": self.title,
            "week": i.week.isoformat(),
            "start": iso(i.start),
            "end": iso(i.end),
            "from": i.from_person,
            "to": i.to_person,
            "figures": {
                "alerts": f.alerts,
                "occurrences": f.occurrences,
                "acknowledged": f.acknowledged,
                "median_minutes_to_ack": f.median_minutes_to_ack,
                "still_open": f.still_open,
                "duties_done": f.duties_done,
                "duties_skipped": f.duties_skipped,
                "duties_missed": f.duties_missed,
                "sal_entries": f.sal_entries,
            },
            "areas": self.by_area(),
            "alerts_by_kind": [
                {
                    "kind": g.kind,
                    "alerts": len(g.alerts),
                    "occurrences": g.occurrences,
                    "items": [a.as_json() for a in g.alerts],
                }
                for g in self.groups
            ],
            "still_open": [a.as_json() for a in self.still_open],
            "duties": [
                {
                    "id": d.id,
                    "duty": d.key,
                    "title": d.title,
                    "due_at": iso(d.due_at),
                    "status": d.status,
                    "closed_by": d.closed_by,
                    "note": d.note,
                }
                for d in i.duties
            ],
            "sal": [
                {"logged_at": iso(s.logged_at), "nick": s.nick, "message": s.message} for s in i.sal
            ],
            "decisions": [
                {"id": d.id, "at": iso(d.at), "by": d.actor, "text": d.text, "mailed": d.mailed}
                for d in i.decisions
            ],
            "tasks": None if i.tasks is None else [t.as_json() for t in i.tasks],
            "unanswered_questions": (
                None if i.questions is None else [q.as_json() for q in i.questions]
            ),
            "noise": {
                "weeks": i.noise_weeks,
                "most_fired": [n.__dict__ for n in self.most_fired],
                "resolved_by_itself": [n.__dict__ for n in self.resolved_by_itself],
                "noted": [n.__dict__ for n in i.noted],
                "manual_maintenance": [{"duty": title, "done": done} for title, done in i.manual],
            },
            "unavailable": list(i.unavailable),
        }


def _median_minutes(alerts: list[AlertLine]) -> float | None:
    waits = [a.time_to_ack.total_seconds() / 60 for a in alerts if a.time_to_ack is not None]
    return round(statistics.median(waits), 1) if waits else None


def _top(counter: Counter[tuple[str, str]], limit: int) -> list[NoiseLine]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return [NoiseLine(kind, job, count) for (kind, job), count in ranked[:limit]]


def build_handoff(inputs: HandoffInputs, noise_limit: int = 5) -> HandoffReport:
    by_kind: dict[str, list[AlertLine]] = defaultdict(list)
    for alert in sorted(inputs.alerts, key=lambda a: (a.first_seen, a.id)):
        by_kind[alert.kind].append(alert)
    groups = sorted(
        (KindGroup(kind, alerts) for kind, alerts in by_kind.items()),
        key=lambda g: (-g.occurrences, g.kind),
    )
    still_open = [a for a in inputs.alerts if a.status != "resolved"]
    statuses = Counter(d.status for d in inputs.duties)
    figures = Figures(
        alerts=len(inputs.alerts),
        occurrences=sum(a.count for a in inputs.alerts),
        acknowledged=sum(1 for a in inputs.alerts if a.acked_by),
        median_minutes_to_ack=_median_minutes(inputs.alerts),
        still_open=len(still_open),
        duties_done=statuses["done"],
        duties_skipped=statuses["skipped"],
        duties_missed=statuses["overdue"],
        sal_entries=len(inputs.sal),
    )
    fired: Counter[tuple[str, str]] = Counter()
    by_itself: Counter[tuple[str, str]] = Counter()
    for alert in inputs.noise_alerts:
        fired[(alert.kind, alert.job)] += alert.count
        if alert.resolved_without_action:
            by_itself[(alert.kind, alert.job)] += 1
    return HandoffReport(
        inputs,
        groups,
        sorted(still_open, key=lambda a: (a.first_seen, a.id)),
        figures,
        _top(fired, noise_limit),
        _top(by_itself, noise_limit),
    )
