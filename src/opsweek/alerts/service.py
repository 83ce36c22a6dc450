"""The inbox: list and show alerts, their history, raw input and related SAL entries."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opsweek.alerts.model import ACKNOWLEDGED, FIRING, RESOLVED, STATUSES
from opsweek.alerts.query import Query, Row, about
from opsweek.alerts.runbook import steps_for
from opsweek.db.alert_reads import newest_alerts
from opsweek.db.models import Alert, AlertEvent, RawInputRow, SalEntry
from opsweek.errors import BadInput, NotFound
from opsweek.sal.log import Probe, SalLog
from opsweek.sal.refs import alert_refs
from opsweek.site import DEFAULT_SITE, Site
from opsweek.timeutil import iso

MAX_ID = 2**63 - 1  # ids are 64-bit integers in every store
SEARCH_SCAN = 5000  # alerts a filter reads at most (newest first)
STATUS_SETS = {
    FIRING: frozenset({FIRING}),
    ACKNOWLEDGED: frozenset({ACKNOWLEDGED}),
    RESOLVED: frozenset({RESOLVED}),
    "open": frozenset({FIRING, ACKNOWLEDGED}),
}


def _statuses(status: str | None) -> frozenset[str]:
    """The stored statuses a filter's status (None: any; open) stands for."""
    return STATUS_SETS.get(status or "", frozenset(STATUSES))


SEVERITY_ORDER = {"critical": 0, "error": 1, "warning": 2, "info": 3}


@dataclass(frozen=True)
class AlertFilter:
    status: str | None = None  # a status, or "open" for firing + acknowledged
    kind: str | None = None
    source: str | None = None
    since: datetime | None = None
    limit: int = 200

    def check(self) -> AlertFilter:
        if self.status and self.status not in (*STATUSES, "open"):
            raise BadInput(
                f"unknown status {self.status!r}: expected one of {', '.join((*STATUSES, 'open'))}"
            )
        if self.limit < 1:
            raise BadInput("--limit must be at least 1")
        return self


def alert_json(
    alert: Alert, with_runbook: bool = True, site: Site = DEFAULT_SITE
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": alert.id,
        "source": alert.source,
        "kind": alert.kind,
        "title": alert.title,
        "severity": alert.severity,
        "status": alert.status,
        "fingerprint": alert.fingerprint,
        "group": alert.group_key,
        "count": alert.count,
        "fire_count": alert.fire_count,
        "flapping": alert.flapping,
        "first_seen": iso(alert.first_seen),
        "last_seen": iso(alert.last_seen),
        "acked_by": alert.acked_by,
        "acked_at": iso(alert.acked_at) if alert.acked_at else None,
        "resolved_by": alert.resolved_by,
        "resolved_at": iso(alert.resolved_at) if alert.resolved_at else None,
        "resolution_note": alert.resolution_note,
        "details": alert.details,
        "about": about(alert.kind, alert.details or {}),
    }
    if with_runbook:
        steps = steps_for(
            alert.kind, alert.details, alert.first_seen, alert.last_seen, alert.id, site
        )
        data["runbook"] = [step.as_json() for step in steps]
    return data


def event_json(event: AlertEvent) -> dict[str, Any]:
    return {"at": iso(event.at), "actor": event.actor, "action": event.action, "note": event.note}


class Inbox:
    """Reading alerts; every change goes through `opsweek.alerts.changes.AlertChanges`."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self, flt: AlertFilter) -> list[Alert]:
        """Newest first (by last_seen)."""
        flt.check()
        conditions = []
        if flt.kind:
            conditions.append(Alert.kind == flt.kind)
        if flt.source:
            conditions.append(Alert.source == flt.source)
        if flt.since:
            conditions.append(Alert.last_seen >= flt.since)
        return newest_alerts(self.session, *conditions, status=flt.status, limit=flt.limit)

    def search(
        self, query: Query, flt: AlertFilter, now: datetime, scan: int = SEARCH_SCAN
    ) -> list[Alert]:
        """The alerts of ``flt`` that ``query`` matches, at most ``flt.limit``: a first cut
        in SQL (the statuses and age both allow), the rest on the newest ``scan``."""
        statuses = _statuses(flt.check().status) & _statuses(query.status)
        if not statuses:  # the query's states and the filter's status exclude each other
            return []
        since = flt.since
        if query.newer_than is not None:
            floor = now - query.newer_than
            since = max(since, floor) if since else floor
        status = next((name for name, s in STATUS_SETS.items() if s == statuses), None)
        candidates = self.list(AlertFilter(status, flt.kind, flt.source, since, scan))
        silenced = self.silenced([a.id for a in candidates]) if query.states else set()
        found = [
            a
            for a in candidates
            if a.status in statuses and query.matches(Row.of(a, a.id in silenced), now)
        ]
        return found[: flt.limit]

    def silenced(self, alert_ids: list[int]) -> set[int]:
        """Which of ``alert_ids`` an active silence covers (as opsweek knows it)."""
        from opsweek.db.models import Silence

        if not alert_ids:
            return set()
        rows = self.session.scalars(
            select(Silence.alert_id).where(
                Silence.state == "active", Silence.alert_id.in_(alert_ids[:5000])
            )
        )
        return {alert_id for alert_id in rows if alert_id is not None}

    def get(self, alert_id: int) -> Alert:
        alert = self.session.get(Alert, alert_id) if 0 < alert_id <= MAX_ID else None
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        return alert

    def history(self, alert_id: int) -> list[AlertEvent]:
        return list(
            self.session.scalars(
                select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
            )
        )

    def raw(self, alert: Alert) -> RawInputRow | None:
        return self.session.get(RawInputRow, alert.raw_id) if alert.raw_id else None

    def counts(
        self, open_only: bool = False, open_counts: dict[tuple[str, str], int] | None = None
    ) -> dict[str, int]:
        """Alerts per status; ``open_only``: firing and acknowledged only, read from the status
        index without counting a year of resolved ones (or from ``open_counts``, read
        already)."""
        if open_only and open_counts is not None:
            found = {FIRING: 0, ACKNOWLEDGED: 0}
            for (status, _), count in open_counts.items():
                found[status] += count
            return found
        query = select(Alert.status, func.count()).group_by(Alert.status)
        if open_only:
            query = query.where(Alert.status.in_([FIRING, ACKNOWLEDGED]))
        found = dict.fromkeys(STATUSES, 0)
        found.update({status: count for status, count in self.session.execute(query)})
        if open_only:
            del found[RESOLVED]
        return found

    def status_kind_counts(self) -> dict[tuple[str, str], int]:
        """Every alert per (status, kind), resolved ones included (the metrics' gauge)."""
        query = select(Alert.status, Alert.kind, func.count()).group_by(Alert.status, Alert.kind)
        return {(status, kind): count for status, kind, count in self.session.execute(query)}

    def open_counts(self) -> dict[tuple[str, str], int]:
        """Open alerts per (status, kind): one scan of the open ones gives both what the
        title counts (firing) and what the areas count (kinds)."""
        query = (
            select(Alert.status, Alert.kind, func.count())
            .where(Alert.status.in_([FIRING, ACKNOWLEDGED]))
            .group_by(Alert.status, Alert.kind)
        )
        return {(status, kind): count for status, kind, count in self.session.execute(query)}

    def seen_since(
        self, since: datetime, limit: int
    ) -> list[tuple[str, datetime, datetime | None]]:
        """(kind, first seen, acknowledged at) of the alerts first seen since ``since``: what
        a chart of the week needs, without loading whole alerts."""
        query = (
            select(Alert.kind, Alert.first_seen, Alert.acked_at)
            .where(Alert.first_seen >= since)
            .limit(limit)
        )
        return [(kind, first, acked) for kind, first, acked in self.session.execute(query)]

    def acknowledged_by(self, since: datetime) -> dict[str, int]:
        """Alerts acknowledged since ``since``, per person."""
        query = (
            select(Alert.acked_by, func.count())
            .where(Alert.acked_at >= since, Alert.acked_by.is_not(None))
            .group_by(Alert.acked_by)
        )
        return {person: count for person, count in self.session.execute(query)}

    def open_details(self, kinds: Collection[str]) -> list[dict[str, Any]]:
        """The details of the open alerts of ``kinds`` (only that column is read)."""
        query = select(Alert.details).where(
            Alert.status.in_([FIRING, ACKNOWLEDGED]), Alert.kind.in_(list(kinds))
        )
        return [details or {} for details in self.session.scalars(query)]

    def related_sal(self, alert: Alert, window: timedelta, limit: int = 10) -> list[SalEntry]:
        """SAL entries about the same job, DAG, table, task or alert while it was open (give or
        take ``window``), newest first."""
        since, until = related_span(alert, window)
        values = alert_refs(alert.id, alert.title, alert.details)
        return SalLog(self.session).related(values, since, until, limit)

    def with_related_sal(self, alerts: list[Alert], window: timedelta) -> set[int]:
        """Ids of the alerts that have related SAL entries (what `related_sal` would list)."""
        probes = []
        for alert in alerts:
            since, until = related_span(alert, window)
            values = frozenset(alert_refs(alert.id, alert.title, alert.details))
            probes.append(Probe(alert.id, values, since, until))
        return SalLog(self.session).any_related(probes)


def related_span(alert: Alert, window: timedelta) -> tuple[datetime, datetime | None]:
    """When SAL entries are about this alert: from ``window`` before it first fired; for a
    resolved alert until ``window`` after it was resolved (or last seen), else open-ended."""
    since = alert.first_seen - window
    if alert.status != RESOLVED:
        return since, None
    return since, (alert.resolved_at or alert.last_seen) + window


def inbox_order(alerts: list[Alert]) -> list[Alert]:
    """Unacknowledged first, then by severity, then oldest first (what to look at first)."""
    return sorted(
        alerts,
        key=lambda a: (
            a.status != FIRING,
            a.status == RESOLVED,
            SEVERITY_ORDER.get(a.severity, 9),
            a.first_seen,
        ),
    )
