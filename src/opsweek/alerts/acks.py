"""What acknowledging an Alertmanager alert does in the store: a silence waiting to be sent to
its Alertmanager (`opsweek.checks.silencing` sends it), written in the acknowledgement's own
transaction, like the SAL's outbox: its labels as matchers (a group's: the labels its alerts
share), the person as ``createdBy``, Karma's ``ACK! <person>: <note>`` comment with a link
back, for ``alertmanager.ack_minutes``, kept until the alert resolves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.alerts.silences import ack_comment, ack_matchers
from opsweek.db.models import Alert, Silence

KIND = "alertmanager"
OURS, ELSEWHERE = "opsweek", "elsewhere"
PENDING, ACTIVE, EXPIRING, EXPIRED = "pending", "active", "expiring", "expired"


@dataclass(frozen=True)
class AckPolicy:
    """What an acknowledgement does in Alertmanager (`opsweek.alerts.changes.AlertChanges`
    queues its silence)."""

    clusters: tuple[str, ...]  # the first is where an alert of no known cluster goes
    minutes: int
    base_url: str  # opsweek's pages, linked from the silence's comment
    urls: dict[str, str] = field(default_factory=dict)  # an instance's URL -> its cluster

    def cluster_of(self, details: dict[str, Any]) -> str:
        """The cluster that sent an alert (its webhook's ``externalURL``), else the first."""
        url = str(details.get("external_url") or "").rstrip("/")
        return self.urls.get(url, self.clusters[0])


def queue_ack(
    session: Session,
    policy: AckPolicy | None,
    alerts: list[Alert],
    actor: str,
    note: str,
    at: datetime,
) -> Silence | None:
    """The silence of an acknowledgement of ``alerts`` (one alert, or a group: the labels they
    share), waiting to be sent; None when acknowledgements are not silences here or these
    are not Alertmanager's alerts."""
    ours = [a for a in alerts if a.kind == KIND and isinstance(a.details.get("labels"), dict)]
    if policy is None or not ours:
        return None
    first = ours[0]
    link = f"{policy.base_url.rstrip('/')}/alerts/{first.id}" if policy.base_url else ""
    silence = Silence(
        cluster=policy.cluster_of(first.details),
        alert_id=first.id,
        origin=OURS,
        matchers=[m.as_api() for m in ack_matchers(a.details["labels"] for a in ours)],
        created_by=actor,
        comment=ack_comment(actor, note, link),
        starts_at=at,
        ends_at=at + timedelta(minutes=policy.minutes),
        until_resolved=True,
        state=PENDING,
        attempts=0,
        next_attempt_at=at,
        updated_at=at,
    )
    session.add(silence)
    return silence


def expire_acks(session: Session, alert_id: int, at: datetime) -> int:
    """Expire the acknowledgement silences of an alert (it was unacknowledged): those not sent
    yet are dropped, the others wait to be expired. How many."""
    rows = session.scalars(
        select(Silence).where(
            Silence.alert_id == alert_id,
            Silence.origin == OURS,
            Silence.until_resolved.is_(True),
            Silence.state.in_((PENDING, ACTIVE)),
        )
    ).all()
    for row in rows:
        row.state = EXPIRED if row.silence_id is None else EXPIRING
        row.next_attempt_at, row.updated_at = at, at
    return len(rows)
