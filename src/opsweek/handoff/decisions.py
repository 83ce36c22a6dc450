"""Decisions taken with part of the team, recorded and mailed to the alerts list, as the
runbook asks ("deployments not happening", "won't fix X")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.adapters.mailer import SmtpMailer
from opsweek.db.models import Decision
from opsweek.errors import BadInput, ConfigError, NotFound, Unavailable
from opsweek.handoff.publish import Publisher
from opsweek.sal.log import clean_message, record_action
from opsweek.timeutil import iso, utcnow

MAX_TEXT = 4000


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "id": decision.id,
        "at": iso(decision.at),
        "by": decision.actor,
        "text": decision.text,
        "mailed_at": iso(decision.mailed_at) if decision.mailed_at else None,
        "mail_error": decision.mail_error,
    }


class Decisions:
    def __init__(self, session: Session, actor: str, now: datetime | None = None) -> None:
        self.session = session
        self.actor = actor
        self.now = now or utcnow()

    def record(self, text: str) -> Decision:
        cleaned = clean_message(text)
        if not cleaned:
            raise BadInput("the decision is empty")
        if len(cleaned) > MAX_TEXT:
            raise BadInput(f"a decision is at most {MAX_TEXT} characters; link to details")
        decision = Decision(at=self.now, actor=self.actor, text=cleaned)
        self.session.add(decision)
        self.session.flush()
        record_action(self.session, self.actor, f"decision #{decision.id}: {cleaned}", self.now)
        return decision

    def get(self, decision_id: int) -> Decision:
        decision = self.session.get(Decision, decision_id) if 0 < decision_id < 2**63 else None
        if decision is None:
            raise NotFound(f"no decision {decision_id}")
        return decision

    def list(self, since: datetime | None = None, until: datetime | None = None) -> list[Decision]:
        query = select(Decision).order_by(Decision.at, Decision.id)
        if since is not None:
            query = query.where(Decision.at >= since)
        if until is not None:
            query = query.where(Decision.at < until)
        return list(self.session.scalars(query))

    def mail(self, decision: Decision, mailer: SmtpMailer, to: str) -> bool:
        """Mail it to the list once; returns whether it was sent now. A failure is kept on the
        decision (shown in the handoff) and raised as one line."""
        if not to:
            raise ConfigError("mail.alerts_list is not set: nowhere to mail the decision")
        first_line = decision.text if len(decision.text) <= 70 else decision.text[:67] + "..."
        body = (
            f"{decision.text}\n\nDecided by {decision.actor} on {iso(decision.at)} "
            f"(opsweek decision #{decision.id}).\n"
        )
        try:
            _, sent = Publisher(self.session, self.now).once(
                f"decision:{decision.id}:mail:{to}",
                lambda: mailer.send(
                    [to],
                    f"[ops week] Decision: {first_line}",
                    body,
                    message_id=f"<opsweek-decision-{decision.id}-{int(decision.at.timestamp())}"
                    f"@{mailer.sender.rpartition('@')[2] or 'opsweek'}>",
                ),
            )
        except Unavailable as exc:
            decision.mail_error = str(exc)
            self.session.commit()
            raise
        decision.mailed_at = decision.mailed_at or self.now
        decision.mail_error = None
        return sent
