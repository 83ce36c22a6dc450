"""Team chat: the interface the duties and the handoff need (read a channel's questions,
post a message or a thread reply), kept small so another chat fits beside Slack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from opsweek.timeutil import iso


@dataclass(frozen=True)
class Question:
    """A top-level message in a channel, with who replied in its thread."""

    channel: str
    ts: str
    user: str
    text: str
    asked_at: datetime
    reply_users: tuple[str, ...] = ()
    answer_due_at: datetime | None = None  # when the team's reply is due, once known

    def as_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
            "asked_at": iso(self.asked_at),
            "reply_users": list(self.reply_users),
            "answer_due_at": iso(self.answer_due_at) if self.answer_due_at else None,
        }


class Chat(Protocol):
    name: str

    def questions(self, channel: str, since: datetime) -> list[Question]:
        """Top-level human messages posted since ``since``. Raises Unavailable."""
        ...

    def post(self, channel: str, text: str, thread: str | None = None) -> str:
        """Post a message (in a thread when given); returns its id. Raises Unavailable."""
        ...

    def upload(self, channel: str, thread: str, filename: str, content: bytes, title: str) -> str:
        """Share a file (a chart's picture) in a thread; returns its id. Raises Unavailable."""
        ...
