"""Demo duties: last week handed off properly, this week under way, an offboarding started
and a decision taken, so `opsweek today` and `opsweek handoff` have something to show."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from opsweek.adapters.chat import Question
from opsweek.adapters.tracker import Task
from opsweek.duties.definitions import DutyBook
from opsweek.duties.service import Duties
from opsweek.handoff.decisions import Decisions
from opsweek.rotation.service import Rotation
from opsweek.watch.readings import Reading, keep

NOTES = {
    "alarms": "all acknowledged; two refine re-runs logged",
    "new-wikis": "no unexpected pageview values",
    "deployment-train": "deployed airflow-dags and refinery",
    "handoff": "handoff posted in the team thread",
}
TICKED = {"deployment-train", "handoff"}  # duties whose steps are ticked one by one
SKIPPED = {"irc": "at the team offsite; read the backlog the next morning"}


def seed_duties(
    session: Session, book: DutyBook, tz: ZoneInfo, rotation: Rotation, now: datetime
) -> int:
    rule = rotation.config.rule
    this_week = rule.containing(now)
    handled = 0
    skipped: set[str] = set()
    for week, keep_open in ((this_week - timedelta(days=7), False), (this_week, True)):
        start, end = rule.bounds(week)
        person = next(iter(rotation.weeks(week, week + timedelta(days=1))), None)
        actor = person.username if person and person.username else "demo"
        instances = Duties(session, book, tz, actor, now).list(start, end)
        for instance in instances:
            if keep_open and instance.due_at > now - timedelta(hours=20):
                continue  # today's duties are still to do
            later = Duties(session, book, tz, actor, min(instance.due_at + timedelta(hours=2), now))
            if instance.duty_key in SKIPPED and instance.duty_key not in skipped:
                skipped.add(instance.duty_key)
                later.skip(str(instance.id), SKIPPED[instance.duty_key])
                continue
            if instance.duty_key in TICKED:
                for number in range(1, len(instance.steps) + 1):
                    later.tick(str(instance.id), number)
            later.done(str(instance.id), NOTES.get(instance.duty_key, ""))
            handled += 1
    on_duty = rotation.who(now).current
    actor = on_duty.username if on_duty and on_duty.username else "demo"
    starter = Duties(session, book, tz, actor, now - timedelta(hours=30))
    offboarding = starter.open(
        "offboarding", {"user": "elvis"}, note="T341234: elvis left on Friday"
    )
    starter.tick(str(offboarding.id), 1)
    Decisions(session, actor, now - timedelta(hours=26)).record(
        "Not deploying refinery this week: the Spark 3.5 upgrade is still in review (T358001)"
    )
    seed_outside_reading(session, now)
    return handled


def seed_outside_reading(session: Session, now: datetime) -> None:
    """What a reading of the collaboration channel and the tracker's ops-week column could
    say (the demo reads no real Slack or Phabricator)."""
    read_at = now - timedelta(minutes=4)
    questions = [
        Question(
            "C0DEMO",
            "1732000000.000100",
            "U0PRODUCT",
            "Are the unique devices numbers for 2026-11-24 final? The dashboard shows a dip.",
            now - timedelta(hours=27),
        ),
        Question(
            "C0DEMO",
            "1732000000.000200",
            "U0SEARCH",
            "Could someone rerun the query_clicks hourly job for 2026-11-25T14?",
            now - timedelta(hours=31),
        ),
    ]
    tasks = [
        Task(
            "T358001",
            "Upgrade refinery to Spark 3.5",
            "progress",
            "In Progress",
            "gsato",
            "https://phabricator.example.org/T358001",
            now - timedelta(days=2),
        ),
        Task(
            "T358120",
            "Investigate canary failures for eventlogging_HomepageVisit",
            "open",
            "Open",
            "amartin",
            "https://phabricator.example.org/T358120",
            now - timedelta(days=1),
        ),
    ]
    keep(session, Reading(tasks=tasks, questions=questions), read_at)
