"""Today, for the person on duty: who is on duty and until when, what is due and overdue,
what is firing, tracker tasks on the ops-week column and unanswered channel questions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsweek.adapters.chat import Question
from opsweek.adapters.tracker import Task
from opsweek.alerts.service import AlertFilter, Inbox, inbox_order
from opsweek.db.models import Alert, DutyInstance
from opsweek.duties.schedule import Occurrence
from opsweek.duties.service import Duties, instance_json
from opsweek.rotation.service import Rotation
from opsweek.rotation.views import OnDuty
from opsweek.timeutil import iso
from opsweek.watch.readings import Reading

FIRING_SHOWN = 10


@dataclass
class TodayView:
    now: datetime
    on_duty: OnDuty
    handoff_at: datetime
    duties: list[tuple[DutyInstance, int]]
    later_today: list[Occurrence]
    alert_counts: dict[str, int]
    firing: list[Alert]
    tasks: list[Task] | None = None
    questions: list[Question] | None = None
    unavailable: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "now": iso(self.now),
            "on_duty": self.on_duty.as_json(),
            "handoff_at": iso(self.handoff_at),
            "duties": [
                {**instance_json(instance, self.now), "missed_earlier": missed}
                for instance, missed in self.duties
            ],
            "later_today": [
                {"duty": o.duty.key, "title": o.duty.title, "due_at": iso(o.due_at)}
                for o in self.later_today
            ],
            "alerts": self.alert_counts,
            "firing": [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "title": a.title,
                    "severity": a.severity,
                    "first_seen": iso(a.first_seen),
                    "count": a.count,
                }
                for a in self.firing
            ],
            "tasks": None if self.tasks is None else [t.as_json() for t in self.tasks],
            "unanswered_questions": (
                None if self.questions is None else [q.as_json() for q in self.questions]
            ),
            "unavailable": self.unavailable,
        }


def gather_today(
    rotation: Rotation, duties: Duties, inbox: Inbox, reading: Reading, now: datetime
) -> TodayView:
    rule = rotation.config.rule
    week_start, handoff_at = rule.bounds(rule.containing(now))
    today = duties.today(week_start)
    firing = inbox_order(inbox.list(AlertFilter(status="firing", limit=500)))
    return TodayView(
        now=now,
        on_duty=rotation.who(now),
        handoff_at=handoff_at,
        duties=today.open,
        later_today=today.later_today,
        alert_counts=inbox.counts(),
        firing=firing[:FIRING_SHOWN],
        tasks=reading.tasks,
        questions=reading.questions,
        unavailable=[f"{name}: {why}" for name, why in reading.unavailable.items()],
    )
