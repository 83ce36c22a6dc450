"""Intake: every source (files, SMTP, IMAP, webhooks) goes through ``Intake.ingest``:
keep the raw input, parse it, triage each parsed alert into the store, apply recoveries.

Inputs are handled in batches: one insert for the raw inputs, one lookup for the
fingerprints, one insert and one update for the alerts, so a burst of webhooks costs a few
statements instead of a few per alert. Recoveries (a canary success) split a batch, since they
must see the failures that came before them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from opsweek.alerts.model import (
    RESOLVED,
    UNPARSED,
    ParsedAlert,
    RawInput,
    Recovery,
    content_key,
)
from opsweek.alerts.parse import ParseOutcome, parse_raw
from opsweek.alerts.triage import FlapRule, Outcome, apply, recovers
from opsweek.db.bulk import BulkLookup, BulkStatement, reserve_ids
from opsweek.db.models import Alert, AlertEvent, RawInputRow, alerts_in_half, ordered_key
from opsweek.timeutil import utcnow

ALERTS: Table = Alert.__table__  # type: ignore[assignment]
EVENTS: Table = AlertEvent.__table__  # type: ignore[assignment]
RAW: Table = RawInputRow.__table__  # type: ignore[assignment]
MUTABLE = (
    "source",
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
    *(ALERTS.c[name] for name in MUTABLE),
]
# what a repeat of an alert that is still firing changes
REPEATED = (
    "source",
    "title",
    "severity",
    "first_seen",
    "last_seen",
    "count",
    "details",
    "raw_id",
    "updated_at",
)
# what triage needs to know of a stored alert: not its details, which every change replaces
LOAD_STATE = BulkLookup(
    [column for column in STATE_COLUMNS if column.key != "details"], ALERTS.c.fingerprint
)
INSERT_COLUMNS = ("id", "fingerprint", "kind", "group_key", *MUTABLE)
RAW_COLUMNS = (
    "id",
    "intake_key",
    "received_at",
    "format",
    "origin",
    "size",
    "content",
    "parse_error",
    "content_key",
)
INSERT_RAW = BulkStatement(insert(RAW), RAW_COLUMNS)
INSERT_ALERT = BulkStatement(insert(ALERTS), INSERT_COLUMNS)
INSERT_EVENT = BulkStatement(insert(EVENTS), ("alert_id", "at", "actor", "action", "note"))


def _update(columns: tuple[str, ...]) -> BulkStatement:
    statement = (
        update(ALERTS)
        .where(ALERTS.c.id == bindparam("alert_id"))
        .values({name: bindparam(name) for name in columns})
    )
    return BulkStatement(statement, ["alert_id", *columns])


UPDATE_ALERT = _update(MUTABLE)
UPDATE_REPEATED = _update(REPEATED)


@dataclass
class IngestCounts:
    received: int = 0  # parsed alerts, unparsed ones included
    new: int = 0
    updated: int = 0
    unparsed: int = 0
    resolved: int = 0
    inputs: int = 0
    duplicates: int = 0  # e-mails received before (a sender's retry): not stored again

    def add(self, other: IngestCounts) -> None:
        self.received += other.received
        self.new += other.new
        self.updated += other.updated
        self.unparsed += other.unparsed
        self.resolved += other.resolved
        self.inputs += other.inputs
        self.duplicates += other.duplicates

    def as_json(self) -> dict[str, int]:
        return dict(vars(self))  # flat ints: what dataclasses.asdict gives, without its walk


class Intake:
    def __init__(
        self,
        db: Session | Connection,
        now: datetime | None = None,
        flap: FlapRule = FlapRule(),
    ) -> None:
        """``db``: a session, or for a writer that needs no ORM a connection in a transaction
        (`Store.writing_connection`); the intake runs Core statements only."""
        self.db = db
        self.now = now
        self.flap = flap

    def ingest(self, inputs: Iterable[RawInput]) -> IngestCounts:
        total = IngestCounts()
        for counts in self.ingest_each(inputs):
            total.add(counts)
        return total

    def ingest_each(self, inputs: Iterable[RawInput]) -> list[IngestCounts]:
        """Ingest ``inputs`` in order; the counts of each input, in the same order."""
        raws = list(inputs)
        return self.store_parsed(raws, [parse_raw(raw) for raw in raws])

    def store_parsed(
        self,
        raws: Sequence[RawInput],
        outcomes: Sequence[ParseOutcome],
        checked: bool = False,
    ) -> list[IngestCounts]:
        """Store inputs parsed beforehand (parsing is pure: it may happen before a writer
        takes its turn, see `Store.writing`); the counts of each, in order."""
        at = self.now or utcnow()
        counts = [IngestCounts(inputs=1) for _ in raws]
        if not raws:
            return counts
        connection = self._connection()
        keys = [content_key(raw) for raw in raws]
        seen = set() if checked else self._known_keys(connection, [k for k in keys if k])
        fresh = []
        for index, key in enumerate(keys):
            if key is not None and key in seen:
                counts[index].duplicates = 1  # a retried delivery: stored already
                continue
            if key is not None:
                seen.add(key)
            fresh.append(index)
        if len(fresh) < len(raws):
            stored = self.store_parsed(
                [raws[i] for i in fresh], [outcomes[i] for i in fresh], checked=True
            )
            for index, count in zip(fresh, stored, strict=True):
                counts[index] = count
            return counts
        # every input kept as received: one executemany, with ids reserved beforehand
        raw_ids = reserve_ids(connection, RAW, len(raws))
        rows = [
            {
                "id": raw_id,
                "intake_key": ordered_key(),
                "received_at": raw.received_at,
                "format": raw.format,
                "origin": raw.origin[:500],
                "size": len(raw.content),
                "content": raw.content,
                "parse_error": outcome.error,
                "content_key": key,
            }
            for raw_id, raw, outcome, key in zip(raw_ids, raws, outcomes, keys, strict=True)
        ]
        INSERT_RAW.execute(connection, rows)
        start = 0
        for index, outcome in enumerate(outcomes):
            if outcome.recoveries:
                self._triage(
                    outcomes[start : index + 1],
                    raw_ids[start : index + 1],
                    counts[start : index + 1],
                    at,
                )
                for recovery in outcome.recoveries:
                    counts[index].resolved += self._recover(recovery, at)
                start = index + 1
        self._triage(outcomes[start:], raw_ids[start:], counts[start:], at)
        return counts

    def _triage(
        self,
        outcomes: Sequence[ParseOutcome],
        raw_ids: Sequence[int],
        counts: Sequence[IngestCounts],
        at: datetime,
    ) -> None:
        batch: list[tuple[ParsedAlert, int, IngestCounts]] = [
            (alert, raw_id, count)
            for outcome, raw_id, count in zip(outcomes, raw_ids, counts, strict=True)
            for alert in outcome.alerts
        ]
        if not batch:
            return
        states = self._load(list(dict.fromkeys(alert.fingerprint for alert, _, _ in batch)))
        changes: list[tuple[str, Outcome]] = []
        for parsed, raw_id, count in batch:
            result = apply(states.get(parsed.fingerprint), parsed, at, raw_id, self.flap)
            count.received += 1
            count.unparsed += parsed.kind == UNPARSED
            count.new += result.outcome == "new"
            count.updated += result.outcome not in ("new", "unchanged")
            count.resolved += result.outcome == "resolved" or (
                result.outcome == "new" and result.state["status"] == RESOLVED
            )
            states[parsed.fingerprint] = result.state
            changes.append((parsed.fingerprint, result))
        self._write(states, changes)

    @staticmethod
    def _known_keys(connection: Connection, keys: list[str]) -> set[str]:
        """Which of ``keys`` belong to e-mails stored already."""
        if not keys:
            return set()
        found = connection.execute(
            select(RAW.c.content_key).where(RAW.c.content_key.in_(keys))
        ).scalars()
        return set(found)

    def _load(self, fingerprints: list[str]) -> dict[str, dict[str, Any]]:
        rows = LOAD_STATE.rows(self._connection(), fingerprints)
        return {row["fingerprint"]: row for row in rows}

    def _write(self, states: dict[str, dict[str, Any]], changes: list[tuple[str, Outcome]]) -> None:
        connection = self._connection()
        fresh = [fp for fp, state in states.items() if "id" not in state]
        for fp, alert_id in zip(fresh, reserve_ids(connection, ALERTS, len(fresh)), strict=True):
            states[fp]["id"] = alert_id
        INSERT_ALERT.execute(connection, [states[fp] for fp in fresh])
        last = {fp: result.outcome for fp, result in changes}
        transitions = {
            fp for fp, result in changes if result.outcome not in ("unchanged", "repeated")
        }
        repeats = {fp for fp, outcome in last.items() if outcome == "repeated"} - transitions
        for statement, columns, which in (
            (UPDATE_ALERT, MUTABLE, transitions),
            (UPDATE_REPEATED, REPEATED, repeats),
        ):
            statement.execute(
                connection,
                [
                    {"alert_id": states[fp]["id"], **{n: states[fp][n] for n in columns}}
                    for fp in which - set(fresh)
                ],
            )
        INSERT_EVENT.execute(
            connection,
            [
                {
                    "alert_id": states[fp]["id"],
                    "at": result.state["updated_at"],
                    "actor": result.actor,
                    "action": result.action,
                    "note": result.note,
                }
                for fp, result in changes
                if result.action
            ],
        )

    def _connection(self) -> Connection:
        return self.db.connection() if isinstance(self.db, Session) else self.db

    def _recover(self, recovery: Recovery, at: datetime) -> int:
        connection = self._connection()
        query = select(*STATE_COLUMNS).where(
            ALERTS.c.kind == recovery.kind, ALERTS.c.last_seen >= recovery.at - recovery.within
        )
        rows = connection.execute(alerts_in_half(query, "open")).all()
        resolved = [dict(row._mapping) for row in rows if recovers(dict(row._mapping), recovery)]
        for state in resolved:
            connection.execute(
                update(ALERTS)
                .where(ALERTS.c.id == state["id"])
                .values(
                    status=RESOLVED,
                    resolved_by=f"source:{recovery.kind}",
                    resolved_at=recovery.at,
                    resolution_note=recovery.note,
                    updated_at=at,
                )
            )
            connection.execute(
                insert(EVENTS).values(
                    alert_id=state["id"],
                    at=at,
                    actor=f"source:{recovery.kind}",
                    action="resolved",
                    note=f"recovered within the hour: {recovery.note}",
                )
            )
        return len(resolved)
