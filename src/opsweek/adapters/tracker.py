"""Task trackers: the interface the duties and the handoff need, kept small so a Jira or
GitLab adapter fits beside the Phabricator one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from opsweek.timeutil import iso

NOT_STARTED = frozenset({"open", "to do", "todo", "new"})


@dataclass(frozen=True)
class Task:
    ref: str  # as people write it: T12345
    title: str
    status: str  # the tracker's status key: open, progress, stalled...
    status_name: str
    assignee: str | None  # username
    url: str
    modified: datetime

    @property
    def handoff_action(self) -> str:
        """What the handoff should do with it, as the runbook says: unassign what was not
        started, hand over what is in progress, leave the rest for whoever picks it up."""
        if self.assignee is None:
            return "unassigned"
        return "unassign" if self.status in NOT_STARTED else "hand over"

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "title": self.title,
            "status": self.status,
            "status_name": self.status_name,
            "assignee": self.assignee,
            "url": self.url,
            "modified": iso(self.modified),
            "handoff_action": self.handoff_action,
        }


@dataclass(frozen=True)
class TaskChange:
    """What the handoff does to one task: unassign it, or hand it over (a new owner, or only
    a comment when nobody is known to take it), with a comment saying why."""

    ref: str
    action: str  # unassign, hand over
    owner: str | None  # the new owner's username; None: unassign, or keep (see ``reassign``)
    reassign: bool
    comment: str
    read_modified: datetime  # when the task was last changed as it was read

    def describe(self) -> str:
        if self.action == "unassign":
            return f"{self.ref}: unassign"
        return f"{self.ref}: " + (f"assign to {self.owner}" if self.reassign else "comment only")

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "action": self.action,
            "owner": self.owner,
            "reassign": self.reassign,
            "comment": self.comment,
        }


class Tracker(Protocol):
    name: str

    def ops_tasks(self) -> list[Task]:
        """Open tasks on the ops-week board column. Raises Unavailable."""
        ...

    def apply(self, change: TaskChange) -> str:
        """Make ``change`` unless the task changed since it was read: "applied", or why it
        was left alone. Raises Unavailable."""
        ...

    def comment(self, ref: str, text: str) -> None:
        """Add a comment to a task. Raises Unavailable."""
        ...
