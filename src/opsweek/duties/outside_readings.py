"""What the outside systems said when last read: the tasks on the tracker's ops-week column
and the collaboration channel's unanswered questions. `opsweek today` reads them live and
keeps the reading; `opsweek serve` reads them every `web.outside_refresh_minutes`; pages show
the last reading, with its time, and never wait on those systems."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.adapters.chat import Question
from opsweek.adapters.tracker import Task
from opsweek.config import Settings
from opsweek.db.models import OutsideReading
from opsweek.db.session import Store
from opsweek.duties.collab import unanswered
from opsweek.duties.handoff_service import HandoffService, Outside
from opsweek.errors import Unavailable
from opsweek.timeutil import utcnow

log = logging.getLogger(__name__)
TRACKER, CHAT = "tracker", "chat"


@dataclass
class OutsideNow:
    """One reading: None where a system is not configured or could not be read."""

    tasks: list[Task] | None = None
    questions: list[Question] | None = None
    unavailable: dict[str, str] = field(default_factory=dict)  # system -> why


def read_outside(
    session: Session, settings: Settings, outside: Outside, now: datetime
) -> OutsideNow:
    found = OutsideNow()
    if outside.tracker is not None:
        try:
            found.tasks = outside.tracker.ops_tasks()
        except Unavailable as exc:
            found.unavailable[TRACKER] = str(exc)
    if outside.chat is not None:
        channel = settings.get("chat.collab_channel")
        try:
            if not channel:
                raise Unavailable("chat.collab_channel is not set")
            asked = outside.chat.questions(channel, now - timedelta(days=7))
            team = HandoffService(session, settings, outside, now=now).team_chat_ids()
            found.questions = unanswered(asked, team, now, settings.get("chat.answer_hours"))
        except Unavailable as exc:
            found.unavailable[CHAT] = str(exc)
    return found


def keep(session: Session, reading: OutsideNow, now: datetime) -> None:
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


def last_readings(session: Session) -> dict[str, OutsideReading]:
    return {r.name: r for r in session.scalars(select(OutsideReading))}


class OutsideWatch(threading.Thread):
    """Reads the outside systems every ``minutes`` and keeps the reading, until stopped."""

    def __init__(self, store: Store, settings: Settings, outside: Outside, minutes: int) -> None:
        super().__init__(name="outside-watch", daemon=True)
        self.store = store
        self.settings = settings
        self.outside = outside
        self.seconds = minutes * 60
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                now = utcnow()
                with self.store.session() as session:
                    keep(session, read_outside(session, self.settings, self.outside, now), now)
            except Exception:  # one failed reading must not stop the next ones
                log.exception("reading the tracker and chat failed")
            self.stopping.wait(self.seconds)

    def stop(self) -> None:
        self.stopping.set()
