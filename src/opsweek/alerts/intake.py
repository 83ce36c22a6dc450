"""Storing parsed inputs: keep each raw input, triage each parsed alert against the stored
alert with its fingerprint, apply recoveries. It runs inside the store's writing transaction,
on its connection: only `opsweek.alerts.changes.AlertChanges` uses it.

A batch of inputs costs a few statements, not a few per alert: one insert of the raw inputs,
one lookup of the fingerprints, one insert and one or two updates of the alerts, one insert
of history. Recoveries (a canary success) split a batch, since they must see the failures
that came before them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from opsweek.alerts.model import (
    RESOLVED,
    UNPARSED,
    ParsedAlert,
    RawInput,
    Recovery,
    Reply,
    content_key,
)
from opsweek.alerts.parse import ParseOutcome, unparsed
from opsweek.alerts.triage import FlapRule, Outcome, apply, recovers
from opsweek.db.alert_reads import open_alert_rows
from opsweek.db.models import Alert, AlertEvent, RawInputRow

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
STATE = [
    ALERTS.c[name]
    for name in ("id", "fingerprint", "kind", "group_key", *MUTABLE)
    if name != "details"
]
LOOKUP_CHUNK = 500  # fingerprints per lookup, well under every database's parameter limit


def _update(columns: tuple[str, ...]) -> Any:
    return (
        update(ALERTS)
        .where(ALERTS.c.id == bindparam("alert_id"))
        .values({name: bindparam(name) for name in columns})
    )


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
    replies: int = 0  # replies to alert mails, noted on their alerts

    def add(self, other: IngestCounts) -> None:
        self.received += other.received
        self.new += other.new
        self.updated += other.updated
        self.unparsed += other.unparsed
        self.resolved += other.resolved
        self.inputs += other.inputs
        self.duplicates += other.duplicates
        self.replies += other.replies

    def as_json(self) -> dict[str, int]:
        return dict(vars(self))  # flat ints: what dataclasses.asdict gives, without its walk


class Intake:
    def __init__(self, connection: Connection, at: datetime, flap: FlapRule = FlapRule()) -> None:
        self.connection = connection
        self.at = at
        self.flap = flap

    def store(
        self, raws: Sequence[RawInput], outcomes: Sequence[ParseOutcome]
    ) -> list[IngestCounts]:
        """Store each input and its parse outcome; the counts of each, in order. An e-mail
        stored before (a sender's retry: same Message-ID and bytes) is counted, not stored."""
        counts = [IngestCounts(inputs=1) for _ in raws]
        keys = [content_key(raw) for raw in raws]
        seen = self._known_keys([key for key in keys if key])
        fresh = []
        for index, key in enumerate(keys):
            if key is not None and key in seen:
                counts[index].duplicates = 1
                continue
            if key is not None:
                seen.add(key)
            fresh.append(index)
        if not fresh:
            return counts
        rows = [
            {
                "received_at": raws[i].received_at,
                "format": raws[i].format,
                "origin": raws[i].origin[:500],
                "size": len(raws[i].content),
                "content": raws[i].content,
                "parse_error": outcomes[i].error,
                "content_key": keys[i],
            }
            for i in fresh
        ]
        raw_ids = self._insert_raw(rows)
        batch: list[tuple[ParsedAlert, int, IngestCounts]] = []
        for index, raw_id in zip(fresh, raw_ids, strict=True):
            outcome = outcomes[index]
            batch += [(alert, raw_id, counts[index]) for alert in outcome.alerts]
            for reply in outcome.replies:
                if self._note_reply(reply, raw_id):
                    counts[index].replies += 1
                    continue
                why = f"a reply to a mail opsweek has no alert for: {reply.subject}"
                (kept,) = unparsed(raws[index], why, f"Re: {reply.subject}").alerts
                batch.append((kept, raw_id, counts[index]))
            if outcome.recoveries:  # they must see the failures that came before them
                self._triage(batch)
                batch = []
                for recovery in outcome.recoveries:
                    counts[index].resolved += self._recover(recovery)
        self._triage(batch)
        return counts

    def _insert_raw(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert raw inputs; their new ids, in the same order (a few per batch: SQLite
        inserts them one by one to keep that order)."""
        statement = insert(RAW).returning(RAW.c.id, sort_by_parameter_order=True)
        return list(self.connection.execute(statement, rows).scalars())

    def _insert_alerts(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Insert new alerts, many rows per statement; their ids by fingerprint."""
        if not rows:
            return {}
        statement = insert(ALERTS).returning(ALERTS.c.fingerprint, ALERTS.c.id)
        return {
            fingerprint: alert_id
            for fingerprint, alert_id in self.connection.execute(statement, rows)
        }

    def _known_keys(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` belong to e-mails stored already."""
        if not keys:
            return set()
        query = select(RAW.c.content_key).where(RAW.c.content_key.in_(keys))
        return set(self.connection.execute(query).scalars())

    def _triage(self, batch: list[tuple[ParsedAlert, int, IngestCounts]]) -> None:
        if not batch:
            return
        states = self._load(list(dict.fromkeys(alert.fingerprint for alert, _, _ in batch)))
        stored = set(states)
        changes: list[tuple[str, Outcome]] = []
        for parsed, raw_id, count in batch:
            result = apply(states.get(parsed.fingerprint), parsed, self.at, raw_id, self.flap)
            count.received += 1
            count.unparsed += parsed.kind == UNPARSED
            count.new += result.outcome == "new"
            count.updated += result.outcome not in ("new", "unchanged")
            count.resolved += result.outcome == "resolved" or (
                result.outcome == "new" and result.state["status"] == RESOLVED
            )
            states[parsed.fingerprint] = result.state
            changes.append((parsed.fingerprint, result))
        self._write(states, stored, changes)

    def _load(self, fingerprints: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(fingerprints), LOOKUP_CHUNK):
            chunk = fingerprints[start : start + LOOKUP_CHUNK]
            query = select(*STATE).where(ALERTS.c.fingerprint.in_(chunk))
            for row in self.connection.execute(query):
                found[row.fingerprint] = dict(row._mapping)
        return found

    def _write(
        self,
        states: dict[str, dict[str, Any]],
        stored: set[str],
        changes: list[tuple[str, Outcome]],
    ) -> None:
        fresh = [fp for fp in states if fp not in stored]
        for fp, alert_id in self._insert_alerts([states[fp] for fp in fresh]).items():
            states[fp]["id"] = alert_id
        last = {fp: result.outcome for fp, result in changes}
        transitions = {
            fp for fp, result in changes if result.outcome not in ("unchanged", "repeated")
        }
        repeats = {fp for fp, outcome in last.items() if outcome == "repeated"} - transitions
        for statement, columns, which in (
            (UPDATE_ALERT, MUTABLE, transitions & stored),
            (UPDATE_REPEATED, REPEATED, repeats & stored),
        ):
            rows = [
                {"alert_id": states[fp]["id"], **{name: states[fp][name] for name in columns}}
                for fp in which
            ]
            if rows:
                self.connection.execute(statement, rows)
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
            self.connection.execute(insert(EVENTS), events)

    def _note_reply(self, reply: Reply, raw_id: int) -> bool:
        """Note ``reply`` on the alerts of the mail it answers; False when there are none.
        A reply never changes an alert's state, even one saying it is done."""
        alert_ids = self._replied_to(reply)
        if not alert_ids:
            return False
        action = "reply: says handled" if reply.handled else "reply"
        note = reply.said or "(a reply with no words of its own)"
        for alert_id in alert_ids:
            self.connection.execute(
                update(ALERTS).where(ALERTS.c.id == alert_id).values(updated_at=self.at)
            )
        self.connection.execute(
            insert(EVENTS),
            [
                {
                    "alert_id": alert_id,
                    "at": self.at,
                    "actor": reply.author or "someone by mail",
                    "action": action,
                    "note": note[:2000],
                }
                for alert_id in alert_ids
            ],
        )
        return True

    def _replied_to(self, reply: Reply) -> list[int]:
        """The alerts a reply answers: those the answered mail made (its Message-ID), else
        those its quoted original parses to, else the newest alerts of its subject."""
        for message_id in reply.message_ids:
            raw_ids = select(RAW.c.id).where(
                RAW.c.content_key.startswith(f"{message_id}#", autoescape=True)
            )
            found = self.connection.execute(
                select(ALERTS.c.id).where(ALERTS.c.raw_id.in_(raw_ids), ALERTS.c.kind != UNPARSED)
            ).scalars()
            ids = sorted(set(found))
            if ids:
                return ids
        if reply.fingerprints:
            query = select(ALERTS.c.id).where(ALERTS.c.fingerprint.in_(reply.fingerprints))
            ids = sorted(set(self.connection.execute(query).scalars()))
            if ids:
                return ids
        return self._by_subject(reply.subject)

    def _by_subject(self, subject: str) -> list[int]:
        """The alerts of the newest mail with this subject, among the last 200 alerts."""
        recent = self.connection.execute(
            select(ALERTS.c.id, ALERTS.c.details, ALERTS.c.group_key)
            .where(ALERTS.c.kind != UNPARSED)
            .order_by(ALERTS.c.id.desc())
            .limit(200)
        ).all()
        group = next(
            (g for _, details, g in recent if (details or {}).get("subject") == subject), None
        )
        return sorted(i for i, _, g in recent if group is not None and g == group)

    def _recover(self, recovery: Recovery) -> int:
        conditions = (
            ALERTS.c.kind == recovery.kind,
            ALERTS.c.last_seen >= recovery.at - recovery.within,
        )
        resolved = [
            state
            for state in open_alert_rows(self.connection, STATE, *conditions)
            if recovers(state, recovery)
        ]
        actor = f"source:{recovery.kind}"
        for state in resolved:
            self.connection.execute(
                update(ALERTS)
                .where(ALERTS.c.id == state["id"])
                .values(
                    status=RESOLVED,
                    resolved_by=actor,
                    resolved_at=recovery.at,
                    resolution_note=recovery.note,
                    updated_at=self.at,
                )
            )
            self.connection.execute(
                insert(EVENTS).values(
                    alert_id=state["id"],
                    at=self.at,
                    actor=actor,
                    action="resolved",
                    note=f"recovered within the hour: {recovery.note}",
                )
            )
        return len(resolved)
