"""The collaboration channel rule: a question gets a reply from the team within a day (pure)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from opsweek.adapters.chat import Question


def unanswered(
    questions: Iterable[Question], team: Collection[str], now: datetime, answer_hours: int
) -> list[Question]:
    """Questions older than ``answer_hours`` that nobody of the team answered in their thread.
    A question from a team member needs a reply from someone else of the team; when the team's
    chat ids are unknown, any reply from someone other than the asker counts."""
    late = now - timedelta(hours=answer_hours)
    found = []
    for question in questions:
        if question.asked_at > late:
            continue
        repliers = set(question.reply_users) - {question.user}
        if team:
            repliers &= set(team)
        if not repliers:
            found.append(question)
    return found
