"""Offboarding that starts itself: an SRE offboarding task appearing in the tracker's ops-week
column (its title matching ``offboard.task_pattern``, whose ``user`` group names the login)
opens the user's offboarding duty, once per task, with the task noted on it so the report can
be posted there (`opsweek offboard check USER --post`)."""

from __future__ import annotations

import re

from sqlalchemy import select

from opsweek.adapters.tracker import Task
from opsweek.db.models import DutyInstance
from opsweek.duties.service import Duties
from opsweek.errors import ConfigError
from opsweek.offboard.rules import USER

KEY = "offboarding"


def compile_pattern(text: str) -> re.Pattern[str] | None:
    """The configured pattern; None when empty (offboarding starts by hand only)."""
    if not text:
        return None
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise ConfigError(f"offboard.task_pattern is not a regular expression: {exc}") from None
    if "user" not in pattern.groupindex:
        raise ConfigError("offboard.task_pattern needs a (?P<user>...) group")
    return pattern


def departures(tasks: list[Task], pattern: re.Pattern[str]) -> list[tuple[str, Task]]:
    """The users the tasks ask to offboard, each with its task (pure)."""
    found = []
    for task in tasks:
        match = pattern.search(task.title)
        user = match["user"] if match else ""
        if user and USER.match(user):
            found.append((user, task))
    return found


def start_offboarding(duties: Duties, tasks: list[Task], pattern: re.Pattern[str]) -> list[int]:
    """Open the offboarding duty of each task not seen before; the ids of those opened."""
    seen = {
        str((detail or {}).get("task") or "")
        for detail in duties.session.scalars(
            select(DutyInstance.detail).where(DutyInstance.duty_key == KEY)
        )
    }
    opened = []
    for user, task in departures(tasks, pattern):
        if task.ref in seen:
            continue
        instance, _ = duties.ensure_open(KEY, {"user": user}, f"offboarding {user}")
        instance.detail = {**instance.detail, "task": task.ref, "task_url": task.url}
        seen.add(task.ref)
        opened.append(instance.id)
    return opened
