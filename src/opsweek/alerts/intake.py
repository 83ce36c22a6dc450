"""Intake: every source (files, SMTP, IMAP, webhooks) goes through ``Intake.ingest``:
keep the raw input, parse it, triage each parsed alert into the store, apply recoveries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from opsweek.alerts.model import UNPARSED, RawInput
from opsweek.alerts.parse import parse_raw
from opsweek.alerts.triage import FlapRule, Outcome, apply, recovers
from opsweek.db.models import Alert, AlertEvent, RawInputRow
from opsweek.timeutil import utcnow

ALERTS: Table = Alert.__table__  # type: ignore[assignment]
EVENTS: Table = AlertEvent.__table__  # type: ignore[assignment]
RAW: Table = RawInputRow.__table__  # type: ignore[assignment]
MUTABLE = (
    "title",
    "severity",
    "status",
    "first_seen",
    "last_seen",
    "count",
    "fire_count",
    "flapping",
    "flap_history",
    "details",
    "raw_id",
    "acked_by",
    "acked_at",
    "resolved_by",
    "resolved_at",
    "resolution_note",
    "updated_at",
)
STATE_COLUMNS = [
    ALERTS.c.id,
    ALERTS.c.fingerprint,
    ALERTS.c.kind,
    ALERTS.c.group_key,
    ALERTS.c.source,
    *(ALERTS.c[name] for name in MUTABLE),
]


@dataclass
class IngestCounts:
    received: int = 0  # parsed alerts, unparsed ones included
    new: int = 0
    updated: int = 0
    unparsed: int = 0
    resolved: int = 0
    inputs: int = 0

    def as_json(self) -> dict[str, int]:
        return asdict(self)


class Intake:
    def __init__(
        self, session: Session, now: datetime | None = None, flap: FlapRule = FlapRule()
    ) -> None:
        self.session = session
        self.now = now
        self.flap = flap

    def ingest(self, inputs: Iterable[RawInput]) -> IngestCounts:
        counts = IngestCounts()
        for raw in inputs:
            self._one(raw, counts)
        return counts

    def _one(self, raw: RawInput, counts: IngestCounts) -> None:
        at = self.now or utcnow()
        outcome = parse_raw(raw)
        raw_id = self.session.execute(
            insert(RAW).returning(RAW.c.id),
            {
                "received_at": raw.received_at,
                "format": raw.format,
                "origin": raw.origin[:500],
                "size": len(raw.content),
                "content": raw.content,
                "parse_error": outcome.error,
            },
        ).scalar_one()
        counts.inputs += 1
        fingerprints = list(dict.fromkeys(a.fingerprint for a in outcome.alerts))
        states = self._load(fingerprints)
        changes: list[tuple[str, Outcome]] = []
        for parsed in outcome.alerts:
            counts.received += 1
            counts.unparsed += parsed.kind == UNPARSED
            result = apply(states.get(parsed.fingerprint), parsed, at, raw_id, self.flap)
            if result.outcome == "new":
                counts.new += 1
            elif result.outcome != "unchanged":
                counts.updated += 1
            counts.resolved += result.outcome == "resolved" or (
                result.outcome == "new" and result.state["status"] == "resolved"
            )
            states[parsed.fingerprint] = result.state
            changes.append((parsed.fingerprint, result))
        self._write(states, changes)
        for recovery in outcome.recoveries:
            counts.resolved += self._recover(recovery, at)

    def _load(self, fingerprints: list[str]) -> dict[str, dict[str, Any]]:
        if not fingerprints:
            return {}
        rows = self.session.execute(
            select(*STATE_COLUMNS).where(ALERTS.c.fingerprint.in_(fingerprints))
        )
        return {row.fingerprint: dict(row._mapping) for row in rows}

    def _write(self, states: dict[str, dict[str, Any]], changes: list[tuple[str, Outcome]]) -> None:
        fresh = [fp for fp, state in states.items() if "id" not in state]
        if fresh:
            rows = [{k: v for k, v in states[fp].items()} for fp in fresh]
            ids = (
                self.session.execute(
                    insert(ALERTS).returning(ALERTS.c.id, sort_by_parameter_order=True), rows
                )
                .scalars()
                .all()
            )
            for fp, alert_id in zip(fresh, ids, strict=True):
                states[fp]["id"] = alert_id
        changed = {fp for fp, result in changes if result.outcome not in ("new", "unchanged")}
        changed -= set(fresh)
        if changed:
            self.session.execute(
                update(ALERTS)
                .where(ALERTS.c.id == bindparam("alert_id"))
                .values({name: bindparam(name) for name in MUTABLE}),
                [
                    {"alert_id": states[fp]["id"], **{n: states[fp][n] for n in MUTABLE}}
                    for fp in changed
                ],
            )
        events = [
            {
                "alert_id": states[fp]["id"],
                "at": result.state["updated_at"],
                "actor": result.actor,
                "action": result.action,
                "note": result.note,
            }
            for fp, result in changes
            if result.action
        ]
        if events:
            self.session.execute(insert(EVENTS), events)

    def _recover(self, recovery: Any, at: datetime) -> int:
        rows = self.session.execute(
            select(*STATE_COLUMNS).where(
                ALERTS.c.kind == recovery.kind,
                ALERTS.c.status != "resolved",
                ALERTS.c.last_seen >= recovery.at - recovery.within,
            )
        ).all()
        resolved = [dict(row._mapping) for row in rows if recovers(dict(row._mapping), recovery)]
        for state in resolved:
            self.session.execute(
                update(ALERTS)
                .where(ALERTS.c.id == state["id"])
                .values(
                    status="resolved",
                    resolved_by=f"source:{recovery.kind}",
                    resolved_at=recovery.at,
                    resolution_note=recovery.note,
                    updated_at=at,
                )
            )
            self.session.execute(
                insert(EVENTS).values(
                    alert_id=state["id"],
                    at=at,
                    actor=f"source:{recovery.kind}",
                    action="resolved",
                    note=f"recovered within the hour: {recovery.note}",
                )
            )
        return len(resolved)
