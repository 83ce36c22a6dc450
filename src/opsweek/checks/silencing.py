"""Acknowledgements and silences, both ways with the team's Alertmanager.

- Acknowledging an Alertmanager alert in opsweek queues a silence (`opsweek.alerts.acks`,
  in the acknowledgement's own transaction, like the SAL's outbox). Unacknowledging expires
  it.
- `Silencing.sync` (every ``alertmanager.sync_seconds`` in `opsweek serve`, and right after a
  change made here): sends what waits (an unreachable Alertmanager keeps it waiting, with the
  error the alert's page shows); notes on open alerts the silences made elsewhere that cover
  them (a Karma ``ACK!`` acknowledges the alert, by whom it says); keeps an acknowledgement's
  silence while one of the alerts it covers is open ("until resolved": extended before it
  ends) and expires it once none is; resolves an alert that Alertmanager no longer holds
  while a silence covers it (a silenced alert's resolution sends no notification).
- opsweek changes only the silences it made; a person may expire any (`expire`), and every
  silence created or expired from opsweek is logged to the SAL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.adapters.alertmanager import AlertmanagerCluster
from opsweek.alerts.acks import (
    ACTIVE,
    ELSEWHERE,
    EXPIRED,
    EXPIRING,
    KIND,
    OURS,
    PENDING,
    AckPolicy,
)
from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.model import ACKNOWLEDGED, RESOLVED
from opsweek.alerts.silences import Matcher, ack_of, covers
from opsweek.db.models import Alert, Silence
from opsweek.db.session import Store
from opsweek.errors import BadInput, NotFound, OpsweekError
from opsweek.sal.log import record_action
from opsweek.timeutil import utcnow

log = logging.getLogger(__name__)
RETRY_FIRST, RETRY_MOST = timedelta(seconds=15), timedelta(minutes=10)


@dataclass
class SyncRun:
    sent: int = 0  # silences created or extended
    expired: int = 0
    noted: int = 0  # silences made elsewhere noted on alerts
    resolved: int = 0  # alerts Alertmanager no longer holds, resolved here
    waiting: dict[str, str] = field(default_factory=dict)  # cluster: why it waits

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


class Silencing:
    def __init__(
        self,
        store: Store,
        changes: AlertChanges,
        clusters: dict[str, AlertmanagerCluster],
        minutes: int,
        policy: AckPolicy | None = None,
        now: Callable[[], datetime] = utcnow,
        gone_after: timedelta = timedelta(minutes=1),
    ) -> None:
        self.store = store
        self.changes = changes
        self.clusters = clusters
        self.minutes = minutes
        self.policy = policy
        self.now = now
        self.gone_after = gone_after  # an alert missing this long from Alertmanager ended
        self._missing: dict[str, datetime] = {}  # Alertmanager fingerprint: first missed

    # --- asked by a person ----------------------------------------------------------------
    def add(
        self,
        matchers: list[Matcher],
        minutes: int,
        comment: str,
        actor: str,
        cluster: str = "",
    ) -> Silence:
        """A silence for ``minutes``, sent at once when its cluster answers."""
        name = self._cluster(cluster)
        if not matchers:
            raise BadInput("a silence needs at least one matcher (name=value)")
        if not any(m.equal and not (m.regex and m.matches({})) for m in matchers):
            raise BadInput("a silence needs a matcher that does not match everything")
        if not comment.strip():
            raise BadInput("say why: --comment TEXT")
        if minutes < 1:
            raise BadInput("a silence lasts at least a minute")
        at = self.now()
        with self.store.writing() as session:
            row = Silence(
                cluster=name,
                origin=OURS,
                matchers=[m.as_api() for m in matchers],
                created_by=actor,
                comment=comment.strip(),
                starts_at=at,
                ends_at=at + timedelta(minutes=minutes),
                until_resolved=False,
                state=PENDING,
                attempts=0,
                next_attempt_at=at,
                updated_at=at,
            )
            session.add(row)
            said = " ".join(str(m) for m in matchers)
            record_action(
                session,
                actor,
                f"silenced {said} for {_duration(minutes)} on alertmanager {name}: {comment}",
                at,
            )
        self.sync()
        return self._row(row.id)

    def expire(self, silence_id: str, actor: str, cluster: str = "") -> None:
        """Expire a silence by its Alertmanager id (or ``pending-N``, one not sent yet)."""
        name = self._cluster(cluster)
        at = self.now()
        with self.store.writing() as session:
            if silence_id.startswith("pending-"):
                row = session.get(Silence, int(silence_id.removeprefix("pending-") or 0))
                if row is None or row.state != PENDING:
                    raise NotFound(f"no silence {silence_id} waiting to be sent")
                row.state, row.updated_at = EXPIRED, at
            else:
                row = session.scalar(
                    select(Silence).where(
                        Silence.cluster == name,
                        Silence.silence_id == silence_id,
                        Silence.origin == OURS,
                    )
                )
                if row is None:  # one made elsewhere: expired as asked, remembered as ours
                    row = Silence(
                        cluster=name,
                        silence_id=silence_id,
                        origin=OURS,
                        matchers=[],
                        created_by=actor,
                        comment="expired from opsweek",
                        starts_at=at,
                        ends_at=at,
                        until_resolved=False,
                        attempts=0,
                        updated_at=at,
                        state=EXPIRING,
                    )
                    session.add(row)
                row.state, row.next_attempt_at, row.updated_at = EXPIRING, at, at
            record_action(
                session, actor, f"expired silence {silence_id} on alertmanager {name}", at
            )
        self.sync()

    def listed(self, cluster: str = "") -> list[dict[str, Any]]:
        """The silences of a cluster (every cluster by default) that are active or waiting to
        start, as Alertmanager has them, then those opsweek has not sent yet."""
        found: list[dict[str, Any]] = []
        names = [self._cluster(cluster)] if cluster else list(self.clusters)
        for name in names:
            for silence in self.clusters[name].silences():
                state = (silence.get("status") or {}).get("state")
                if state in ("active", "pending"):
                    found.append({**silence, "cluster": name})
        with self.store.session() as session:
            waiting = session.scalars(
                select(Silence).where(Silence.state == PENDING, Silence.cluster.in_(names))
            ).all()
            found += [_pending_json(row) for row in waiting]
        return found

    def for_alert(self, alert_id: int) -> list[Silence]:
        """What opsweek knows of an alert's silences: its acknowledgement's (sent, or waiting
        with why) and those made elsewhere that cover it."""
        with self.store.session() as session:
            return list(
                session.scalars(
                    select(Silence)
                    .where(Silence.alert_id == alert_id, Silence.state != EXPIRED)
                    .order_by(Silence.id)
                )
            )

    # --- the round with each cluster ------------------------------------------------------
    def sync(self) -> SyncRun:
        run = SyncRun()
        for name, cluster in self.clusters.items():
            try:
                self._send(name, cluster, run)
                silences = cluster.silences()
                held = {str(a.get("fingerprint")) for a in cluster.alerts()}
            except OpsweekError as exc:
                run.waiting[name] = str(exc)
                continue
            self._note_elsewhere(name, silences, run)
            self._gone(name, silences, held, run)
            self._keep_acks(name, cluster, run)
        return run

    def _send(self, name: str, cluster: AlertmanagerCluster, run: SyncRun) -> None:
        """Create what waits, expire what waits to be expired; an unreachable cluster leaves
        them waiting, with the error and a later attempt."""
        at = self.now()
        with self.store.writing() as session:
            rows = session.scalars(
                select(Silence)
                .where(
                    Silence.cluster == name,
                    Silence.state.in_((PENDING, EXPIRING)),
                    Silence.next_attempt_at <= at,
                )
                .order_by(Silence.id)
            ).all()
            for row in rows:
                try:
                    if row.state == PENDING:  # from now, for as long as it was asked
                        row.ends_at = at + (row.ends_at - row.starts_at)
                        row.starts_at = at
                        row.silence_id = cluster.create(
                            row.matchers, at, row.ends_at, row.created_by, row.comment
                        )
                        row.state = ACTIVE
                        run.sent += 1
                        if row.alert_id is not None:
                            self._history(session, row.alert_id, "silenced", _said(row))
                    else:
                        cluster.expire(str(row.silence_id))
                        row.state = EXPIRED
                        run.expired += 1
                    row.error, row.next_attempt_at, row.updated_at = None, None, at
                except OpsweekError as exc:
                    row.attempts += 1
                    row.error = str(exc)
                    wait = min(RETRY_FIRST * 2 ** (row.attempts - 1), RETRY_MOST)
                    row.next_attempt_at, row.updated_at = at + wait, at
                    run.waiting[name] = str(exc)
                    break  # the cluster is down: the rest wait too

    def _open(self, session: Session, name: str) -> list[Alert]:
        """The open Alertmanager alerts that cluster ``name`` sent."""
        alerts = session.scalars(
            select(Alert).where(Alert.kind == KIND, Alert.status != RESOLVED)
        ).all()
        if self.policy is None or len(self.clusters) == 1:
            return list(alerts)
        return [a for a in alerts if self.policy.cluster_of(a.details) == name]

    def _note_elsewhere(self, name: str, silences: list[dict[str, Any]], run: SyncRun) -> None:
        """Silences made elsewhere that cover open alerts: noted once on each, and a Karma
        acknowledgement acknowledges it."""
        at = self.now()
        with self.store.writing() as session:
            ours = set(
                session.scalars(
                    select(Silence.silence_id).where(
                        Silence.cluster == name, Silence.origin == OURS
                    )
                )
            )
            noted = {
                (silence_id, alert_id)
                for silence_id, alert_id in session.execute(
                    select(Silence.silence_id, Silence.alert_id).where(
                        Silence.cluster == name, Silence.origin == ELSEWHERE
                    )
                )
            }
            alerts = self._open(session, name)
            for silence in silences:
                if _state(silence) != "active" or silence["id"] in ours:
                    continue
                matchers = [Matcher.from_api(m) for m in silence.get("matchers") or []]
                for alert in alerts:
                    labels = alert.details.get("labels")
                    if not isinstance(labels, dict) or (silence["id"], alert.id) in noted:
                        continue
                    if not covers(matchers, labels):
                        continue
                    row = _elsewhere(name, silence, alert.id, at)
                    session.add(row)
                    self._history(session, alert.id, "silenced", _said(row), row.created_by)
                    acked = ack_of(row.comment, row.created_by)
                    if acked and alert.status != ACKNOWLEDGED:
                        who, note = acked
                        self.changes.ack(
                            alert.id, who, at, session, f"in Alertmanager: {note}", silence=False
                        )
                    run.noted += 1

    def _gone(
        self, name: str, silences: list[dict[str, Any]], held: set[str], run: SyncRun
    ) -> None:
        """Open alerts under a silence that Alertmanager has not held for `gone_after`:
        they resolved while silenced (Alertmanager sends nothing then)."""
        at = self.now()
        active = [
            [Matcher.from_api(m) for m in s.get("matchers") or []]
            for s in silences
            if _state(s) == "active"
        ]
        with self.store.writing() as session:
            for alert in self._open(session, name):
                fingerprint = str(alert.details.get("source_fingerprint") or "")
                labels = alert.details.get("labels")
                if not fingerprint or not isinstance(labels, dict):
                    continue
                if fingerprint in held or not any(covers(m, labels) for m in active):
                    self._missing.pop(fingerprint, None)
                    continue
                since = self._missing.setdefault(fingerprint, at)
                if at - since < self.gone_after:
                    continue
                note = "Alertmanager no longer holds it: it resolved while silenced"
                self.changes.resolve_by_check(alert.id, "source:alertmanager", note, at, session)
                self._missing.pop(fingerprint, None)
                run.resolved += 1

    def _keep_acks(self, name: str, cluster: AlertmanagerCluster, run: SyncRun) -> None:
        """Acknowledgement silences: extended while an alert they cover is open, expired once
        none is (so the next firing alerts again)."""
        at = self.now()
        with self.store.writing() as session:
            rows = session.scalars(
                select(Silence).where(
                    Silence.cluster == name,
                    Silence.origin == OURS,
                    Silence.until_resolved.is_(True),
                    Silence.state == ACTIVE,
                )
            ).all()
            if not rows:
                return
            alerts = self._open(session, name)
            for row in rows:
                matchers = [Matcher.from_api(m) for m in row.matchers]
                still = [a for a in alerts if covers(matchers, a.details.get("labels") or {})]
                try:
                    if not still:
                        cluster.expire(str(row.silence_id))
                        row.state = EXPIRED
                        run.expired += 1
                        message = f"expired silence {row.silence_id} on alertmanager {name}"
                        record_action(session, "opsweek", f"{message}: its alerts resolved", at)
                    elif row.ends_at - at < timedelta(minutes=self.minutes) / 2:
                        row.ends_at = at + timedelta(minutes=self.minutes)
                        row.silence_id = cluster.create(
                            row.matchers,
                            row.starts_at,
                            row.ends_at,
                            row.created_by,
                            row.comment,
                            row.silence_id,
                        )
                        run.sent += 1
                    row.updated_at = at
                except OpsweekError as exc:
                    row.error = str(exc)
                    run.waiting[name] = str(exc)
                    return

    def _history(
        self, session: Session, alert_id: int, action: str, note: str, actor: str = "opsweek"
    ) -> None:
        self.changes.record(alert_id, actor, action, note, "", self.now(), session=session)

    def _cluster(self, name: str) -> str:
        if not self.clusters:
            raise BadInput("no Alertmanager configured ([[alertmanager.instances]])")
        if not name:
            return next(iter(self.clusters))
        if name not in self.clusters:
            raise BadInput(f"no Alertmanager cluster {name!r}: {', '.join(self.clusters)}")
        return name

    def _row(self, row_id: int) -> Silence:
        with self.store.session() as session:
            row = session.get(Silence, row_id)
            assert row is not None
            return row


def _state(silence: dict[str, Any]) -> str:
    return str((silence.get("status") or {}).get("state") or "")


def _elsewhere(name: str, silence: dict[str, Any], alert_id: int, at: datetime) -> Silence:
    return Silence(
        cluster=name,
        silence_id=str(silence["id"]),
        alert_id=alert_id,
        origin=ELSEWHERE,
        matchers=list(silence.get("matchers") or []),
        created_by=str(silence.get("createdBy") or "someone"),
        comment=str(silence.get("comment") or ""),
        starts_at=_moment(silence.get("startsAt"), at),
        ends_at=_moment(silence.get("endsAt"), at),
        until_resolved=False,
        state=ACTIVE,
        attempts=0,
        updated_at=at,
    )


def _moment(text: object, default: datetime) -> datetime:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return default


def _said(row: Silence) -> str:
    """A silence as the alert's history says it."""
    matchers = " ".join(str(Matcher.from_api(m)) for m in row.matchers)
    until = f"until {row.ends_at:%Y-%m-%d %H:%M} UTC"
    if row.until_resolved:
        until = "until the alert resolves"
    ident = f"silence {row.silence_id}" if row.silence_id else "silence"
    return f"{ident} {until} ({matchers}): {row.comment}"


def _pending_json(row: Silence) -> dict[str, Any]:
    return {
        "id": f"pending-{row.id}",
        "cluster": row.cluster,
        "matchers": row.matchers,
        "createdBy": row.created_by,
        "comment": row.comment,
        "startsAt": row.starts_at.isoformat(),
        "endsAt": row.ends_at.isoformat(),
        "status": {"state": "waiting"},
        "error": row.error,
    }


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if hours and rest else f"{hours} h" if hours else f"{rest} min"
