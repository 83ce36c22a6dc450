"""What the tracker and the chat said when last read: the tasks on the tracker's Ops Week
column and the collaboration channel's unanswered questions. `opsweek today` reads them live
and keeps the reading; `opsweek serve` reads them every `web.outside_refresh_minutes`; pages
show the last reading, with its time, and never wait on those systems."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.adapters.chat import Chat, Question
from opsweek.adapters.tracker import Task, Tracker
from opsweek.config.areas import ChatSettings
from opsweek.db.models import OutsideReading
from opsweek.errors import Unavailable
from opsweek.rotation.team import Team
from opsweek.watch.answers import unanswered

TRACKER, CHAT = "tracker", "chat"


@dataclass
class Reading:
    """What the tracker and the chat said at one time: None where a system is not configured
    or could not be read (then ``unavailable`` says why)."""

    tasks: list[Task] | None = None
    questions: list[Question] | None = None
    unavailable: dict[str, str] = field(default_factory=dict)  # system -> why


def read(
    session: Session,
    tracker: Tracker | None,
    chat: Chat | None,
    settings: ChatSettings,
    now: datetime,
) -> Reading:
    """Ask the tracker for the Ops Week column's tasks and the collaboration channel for the
    past week's questions the team has not answered."""
    found = Reading()
    if tracker is not None:
        try:
            found.tasks = tracker.ops_tasks()
        except Unavailable as exc:
            found.unavailable[TRACKER] = str(exc)
    if chat is not None:
        try:
            if not settings.collab_channel:
                raise Unavailable("chat.collab_channel is not set")
            asked = chat.questions(settings.collab_channel, now - timedelta(days=7))
            team = Team(session).chat_ids()
            found.questions = unanswered(asked, team, now, settings.answer_hours)
        except Unavailable as exc:
            found.unavailable[CHAT] = str(exc)
    return found


def keep(session: Session, reading: Reading, now: datetime) -> None:
    """Keep this reading as the last one of each system that was asked."""
    said: dict[str, tuple[list[dict[str, Any]] | None, str | None]] = {}
    if reading.tasks is not None or TRACKER in reading.unavailable:
        tasks = None if reading.tasks is None else [t.as_json() for t in reading.tasks]
        said[TRACKER] = (tasks, reading.unavailable.get(TRACKER))
    if reading.questions is not None or CHAT in reading.unavailable:
        questions = None if reading.questions is None else [q.as_json() for q in reading.questions]
        said[CHAT] = (questions, reading.unavailable.get(CHAT))
    for name, (items, error) in said.items():
        row = session.get(OutsideReading, name)
        if row is None:
            row = OutsideReading(name=name)
            session.add(row)
        if items is None and row.items is not None:
            items = row.items  # a failed reading keeps what was last seen, with the error
        row.read_at, row.items, row.error = now, items, error
    session.flush()


AIRFLOW_PREFIX = "airflow:"  # readings of Airflow instances: airflow:<name>


def keep_airflow_poll(
    session: Session, instance: str, now: datetime, failing: int | None, error: str | None
) -> None:
    """Keep how the last poll of an Airflow instance went: how many failing task instances it
    saw, or why it could not reach the instance (Today names it)."""
    name = AIRFLOW_PREFIX + instance
    row = session.get(OutsideReading, name)
    if row is None:
        row = OutsideReading(name=name)
        session.add(row)
    items = row.items if failing is None else [{"failing": failing}]
    row.read_at, row.items, row.error = now, items, error
    session.flush()


@dataclass(frozen=True)
class AirflowPoll:
    """How the last poll of a configured Airflow instance went (Today shows it)."""

    instance: str
    url: str
    polled_at: datetime | None  # None: not polled yet
    failing: int | None  # failing task instances it saw
    error: str | None  # why it could not poll (unreachable, credentials refused)

    def as_json(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "url": self.url,
            "polled_at": self.polled_at.isoformat() if self.polled_at else None,
            "failing": self.failing,
            "error": self.error,
        }


def airflow_polls(session: Session, instances: dict[str, str]) -> list[AirflowPoll]:
    """The last poll of each configured instance (``instances``: name -> URL)."""
    readings = {
        r.name: r
        for r in session.scalars(
            select(OutsideReading).where(OutsideReading.name.startswith(AIRFLOW_PREFIX))
        )
    }
    polls = []
    for name, url in sorted(instances.items()):
        row = readings.get(AIRFLOW_PREFIX + name)
        failing = int(row.items[0].get("failing", 0)) if row and row.items else None
        polled_at = row.read_at if row else None
        polls.append(AirflowPoll(name, url, polled_at, failing, row.error if row else None))
    return polls


def last_readings(session: Session) -> dict[str, OutsideReading]:
    return {r.name: r for r in session.scalars(select(OutsideReading))}


CONNECTION_PREFIX = "connection:"  # how a connection opsweek uses last went: connection:<name>


def keep_connection(session: Session, name: str, now: datetime, error: str | None) -> None:
    """Keep how opsweek's last use of a connection went (``error`` None: it worked), for the
    connections panel of Today: the last success stays when a later use fails."""
    key = CONNECTION_PREFIX + name
    row = session.get(OutsideReading, key)
    if row is None:
        row = OutsideReading(name=key)
        session.add(row)
    if error is None:
        row.items = [{"ok_at": now.isoformat()}]
    row.read_at, row.error = now, error
    session.flush()


@dataclass(frozen=True)
class Connection:
    """A configured connection as Today shows it."""

    name: str
    ok_at: datetime | None  # its last success
    error: str | None  # its last use failed, why
    used_at: datetime | None  # its last use

    @property
    def failing(self) -> bool:
        return self.error is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok_at": self.ok_at.isoformat() if self.ok_at else None,
            "error": self.error,
            "used_at": self.used_at.isoformat() if self.used_at else None,
        }


def connections(session: Session, names: list[str]) -> list[Connection]:
    """How each configured connection (``names``, as `opsweek.app.App.connection_names`
    gives them) was last used: its own reading, or the one its job keeps (an Airflow
    instance's poll, the tracker's and the chat's readings)."""
    rows = {r.name: r for r in session.scalars(select(OutsideReading))}
    found = []
    for name in names:
        row = rows.get(CONNECTION_PREFIX + name)
        if row is None and name.startswith("airflow "):
            row = rows.get(AIRFLOW_PREFIX + name.removeprefix("airflow "))
        if row is None:
            row = rows.get(name)  # tracker, chat
        if row is None:
            found.append(Connection(name, None, None, None))
            continue
        ok_at = None
        items = row.items or []
        if items and isinstance(items[0], dict) and items[0].get("ok_at"):
            ok_at = datetime.fromisoformat(str(items[0]["ok_at"]))
        elif row.error is None:
            ok_at = row.read_at
        found.append(Connection(name, ok_at, row.error, row.read_at))
    return found


CHECK_PREFIX = "check:"  # a check's last run on request: check:<name>


@dataclass(frozen=True)
class CheckRun:
    """A check run on request (Today's buttons): what it said, whether that needs someone."""

    name: str
    summary: str
    problem: bool
    by: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "problem": self.problem,
            "by": self.by,
            "at": self.at.isoformat(),
        }


def keep_check_run(session: Session, run: CheckRun) -> None:
    key = CHECK_PREFIX + run.name
    row = session.get(OutsideReading, key) or OutsideReading(name=key)
    session.add(row)
    row.read_at, row.error = run.at, None
    row.items = [{"summary": run.summary, "problem": run.problem, "by": run.by}]
    session.flush()


def check_runs(session: Session) -> dict[str, CheckRun]:
    """The last run on request of each check, by its name."""
    rows = session.scalars(
        select(OutsideReading).where(OutsideReading.name.startswith(CHECK_PREFIX))
    )
    found = {}
    for row in rows:
        item = (row.items or [{}])[0]
        name = row.name.removeprefix(CHECK_PREFIX)
        found[name] = CheckRun(
            name,
            str(item.get("summary", "")),
            bool(item.get("problem")),
            str(item.get("by", "")),
            row.read_at,
        )
    return found
