"""Sending the checks' findings into the alert inbox through the intake, like any source. A
"resolved" finding (the situation is gone) is sent only when its alert is open and was last
reported by a check: clean runs do not fill the inbox with resolved alerts, and a check does
not resolve what another source (an Airflow mail about the same snapshot) still reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import CHECK
from opsweek.alerts.intake import IngestCounts
from opsweek.alerts.model import RESOLVED, RawInput
from opsweek.alerts.sources.opsweek_check import SOURCE, parse
from opsweek.db.models import Alert
from opsweek.timeutil import utcnow


def emit(
    changes: AlertChanges,
    session: Session,
    findings: Iterable[bytes],
    now: datetime | None = None,
) -> IngestCounts:
    """Store ``findings`` in ``session``, a writing session (`Store.writing`)."""
    at = now or utcnow()
    wanted = []
    for content in findings:
        parsed = parse(content, at)
        if parsed.status == RESOLVED:
            open_alert = session.scalar(
                select(Alert.id).where(
                    Alert.fingerprint == parsed.fingerprint,
                    Alert.status != RESOLVED,
                    Alert.source == SOURCE,
                )
            )
            if open_alert is None:
                continue
        wanted.append(RawInput(content, CHECK, at, "opsweek check"))
    return changes.ingest(wanted, at, session)
