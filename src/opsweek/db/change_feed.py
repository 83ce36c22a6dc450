"""What was committed since a point, each read a range of a primary key: the feed of the live
pages (opsweek.web.live), cheap however large the store."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opsweek.db.models import Alert, AlertEvent, SalEntry


def newest_sal_id(session: Session) -> int:
    return session.scalar(select(func.max(SalEntry.id))) or 0


def newest_event_id(session: Session) -> int:
    return session.scalar(select(func.max(AlertEvent.id))) or 0


def alert_events_since(session: Session, event_id: int, limit: int) -> list[tuple[int, int, str]]:
    """(event id, alert id, action) of the alert events after ``event_id``, oldest first."""
    rows = session.execute(
        select(AlertEvent.id, AlertEvent.alert_id, AlertEvent.action)
        .where(AlertEvent.id > event_id)
        .order_by(AlertEvent.id)
        .limit(limit)
    )
    return [(event, alert, action) for event, alert, action in rows]


def still_firing(session: Session, alert_ids: Sequence[int]) -> list[tuple[int, str, str]]:
    """(id, title, kind) of those of ``alert_ids`` that are firing."""
    rows = session.execute(
        select(Alert.id, Alert.title, Alert.kind).where(
            Alert.id.in_(alert_ids), Alert.status == "firing"
        )
    )
    return [(alert, title, kind) for alert, title, kind in rows]


def firing_count(session: Session) -> int:
    query = select(func.count()).select_from(Alert).where(Alert.status == "firing")
    return session.scalar(query) or 0
