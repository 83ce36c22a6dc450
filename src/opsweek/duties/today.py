"""Today, for the person on duty: who is on duty and until when, what is due and overdue,
what is firing, tracker tasks on the ops-week column, unanswered channel questions, and the
IRC channel's lines that matter to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opsweek.adapters.chat import Question
from opsweek.adapters.tracker import Task
from opsweek.alerts.areas import AREAS, DUMPS, PIPELINES, area_of
from opsweek.alerts.model import FIRING
from opsweek.alerts.service import AlertFilter, Inbox, inbox_order
from opsweek.db.models import Alert, DutyInstance
from opsweek.duties.schedule import Occurrence
from opsweek.duties.service import Duties, instance_json
from opsweek.rotation.service import Rotation
from opsweek.rotation.views import OnDuty
from opsweek.sal.refs import alert_refs
from opsweek.timeutil import iso
from opsweek.watch.channel import Mention, mentions, recent_lines
from opsweek.watch.readings import AirflowPoll, Connection, Reading

FIRING_SHOWN = 10  # opsweek today prints the first firing alerts
OPEN_SHOWN = 100  # the page shows the first open ones


def todays_alerts(inbox: Inbox) -> list[Alert]:
    """The open alerts Today shows, unacknowledged first (`inbox_order`): the one read of
    them for the page, its live part and `opsweek today`."""
    return inbox_order(inbox.list(AlertFilter(status="open", limit=OPEN_SHOWN)))


@dataclass
class TodayView:
    now: datetime
    on_duty: OnDuty
    handoff_at: datetime
    duties: list[tuple[DutyInstance, int]]
    later_today: list[Occurrence]
    alert_counts: dict[str, int]
    open_alerts: list[Alert]  # todays_alerts
    tasks: list[Task] | None = None
    questions: list[Question] | None = None
    unavailable: list[str] = field(default_factory=list)
    mentions: list[Mention] | None = None  # None: no IRC bot configured
    areas: dict[str, int] = field(default_factory=dict)  # open alerts per responsibility
    airflow: list[AirflowPoll] | None = None  # None: no [[airflow.instances]]
    connections: list[Connection] = field(default_factory=list)  # configured ones

    @property
    def firing(self) -> list[Alert]:
        """The first firing alerts, not acknowledged."""
        return [a for a in self.open_alerts if a.status == FIRING][:FIRING_SHOWN]

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
            "open_by_area": self.areas,
            "channel_mentions": (
                None if self.mentions is None else [m.as_json() for m in self.mentions]
            ),
            "airflow": None if self.airflow is None else [p.as_json() for p in self.airflow],
            "connections": [c.as_json() for c in self.connections],
        }


@dataclass(frozen=True)
class ChannelWatch:
    """What Today needs to pick the channel's lines that matter."""

    since: timedelta  # how far back
    words: tuple[str, ...]
    nicks: dict[str, list[str]]  # username: IRC nicks
    own_nicks: tuple[str, ...]  # the bot's


def gather_today(
    rotation: Rotation,
    duties: Duties,
    inbox: Inbox,
    reading: Reading,
    now: datetime,
    channel: ChannelWatch | None = None,
    dumps_instances: frozenset[str] = frozenset(),
) -> TodayView:
    rule = rotation.config.rule
    week_start, handoff_at = rule.bounds(rule.containing(now))
    today = duties.today(week_start)
    on_duty = rotation.who(now)
    said = channel_mentions(inbox, on_duty, channel, now) if channel is not None else None
    areas = open_by_area(inbox, dumps_instances)
    return TodayView(
        now=now,
        on_duty=on_duty,
        handoff_at=handoff_at,
        duties=today.open,
        later_today=today.later_today,
        alert_counts=inbox.counts(),
        open_alerts=todays_alerts(inbox),
        tasks=reading.tasks,
        questions=reading.questions,
        unavailable=[f"{name}: {why}" for name, why in reading.unavailable.items()],
        mentions=said,
        areas=areas,
    )


def channel_mentions(
    inbox: Inbox, on_duty: OnDuty, channel: ChannelWatch, now: datetime
) -> list[Mention]:
    """The channel's lines of the last hours that matter to the person on duty."""
    open_alerts = inbox.list(AlertFilter(status="open", limit=500))
    refs = {
        value: alert.id
        for alert in reversed(open_alerts)  # the newest alert wins a shared reference
        for value in alert_refs(alert.id, alert.title, alert.details)
        if not value.startswith("alert:")
    }
    person = on_duty.current.username if on_duty.current else ""
    names = [person, *channel.nicks.get(person, [])] if person else []
    lines = recent_lines(inbox.session, now - channel.since)
    return mentions(lines, names, refs, channel.words, channel.own_nicks)


def open_by_area(
    inbox: Inbox,
    dumps_instances: frozenset[str],
    open_counts: dict[tuple[str, str], int] | None = None,
) -> dict[str, int]:
    """Open alerts of each of the two responsibilities: the data pipelines and the Dumps
    (from ``open_counts`` when read already)."""
    counts = dict.fromkeys(AREAS, 0)
    by_kind: dict[str, int] = {}
    for (_, kind), count in (inbox.open_counts() if open_counts is None else open_counts).items():
        by_kind[kind] = by_kind.get(kind, 0) + count
    for kind, count in by_kind.items():
        counts[area_of(kind, {}, ())] += count
    if dumps_instances:  # alerts of Airflow instances that run dumps: their details say which
        polled = [kind for kind in by_kind if kind.startswith("airflow")]
        for details in inbox.open_details(polled) if polled else []:
            if area_of("", details, dumps_instances) == DUMPS:
                counts[PIPELINES] -= 1
                counts[DUMPS] += 1
    return counts
