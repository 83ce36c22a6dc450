"""The collaboration channel rule: every question gets a reply from the team within a day
(pure). A question shows as soon as it is asked, with the time left to answer it, so the
person on duty can act before the deadline, not after."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from opsweek.adapters.chat import Question


def unanswered(
    questions: Iterable[Question], team: Collection[str], now: datetime, answer_hours: int
) -> list[Question]:
    """Questions that nobody of the team answered in their thread, each with the time its
    answer is due (``answer_hours`` after it was asked), the most urgent first. A question from
    a team member needs a reply from someone else of the team; when the team's chat ids are
    unknown, any reply from someone other than the asker counts."""
    found = []
    for question in questions:
        if question.asked_at > now:
            continue
        repliers = set(question.reply_users) - {question.user}
        if team:
            repliers &= set(team)
        if not repliers:
            due = question.asked_at + timedelta(hours=answer_hours)
            found.append(replace(question, answer_due_at=due))
    return sorted(found, key=lambda q: (q.answer_due_at or q.asked_at, q.ts))


def answer_status(due_at: datetime | None, now: datetime) -> str:
    """``overdue by 3 h`` or ``19 h left`` (minutes under an hour)."""
    if due_at is None:
        return ""
    seconds = (due_at - now).total_seconds()
    amount = abs(seconds)
    span = f"{int(amount // 3600)} h" if amount >= 3600 else f"{max(int(amount // 60), 1)} min"
    return f"overdue by {span}" if seconds < 0 else f"{span} left"


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and due_at <= now
