"""Every change of alert state goes through `AlertChanges`: what arrives (webhooks, e-mails,
files, the checks' findings, recoveries), acknowledgements, resolutions and notes.

Each change runs in the store's writing transaction (`Store.writing`: one writer at a time,
across threads and processes) and reads the alert inside it, so no change can overwrite
another, whichever process makes it, and no caller has to remember a lock. A caller that
changes other things in the same transaction (a check opening a duty beside its findings, the
CLI logging what it ingested) passes its own writing session; any other session is refused."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from opsweek.alerts.acks import AckPolicy, expire_acks, queue_ack
from opsweek.alerts.intake import IngestCounts, Intake
from opsweek.alerts.model import ACKNOWLEDGED, FIRING, RESOLVED, RawInput
from opsweek.alerts.parse import ParseOutcome, parse_raw, unparsed
from opsweek.alerts.service import Inbox
from opsweek.alerts.triage import FlapRule
from opsweek.db.models import Alert, AlertEvent
from opsweek.db.session import WRITING, Store
from opsweek.errors import BadInput
from opsweek.sal.log import record_action
from opsweek.timeutil import utcnow

log = logging.getLogger(__name__)


class AlertChanges:
    def __init__(
        self, store: Store, flap: FlapRule = FlapRule(), acks: AckPolicy | None = None
    ) -> None:
        self.store = store
        self.flap = flap
        self.acks = acks  # acknowledgements are Alertmanager silences too (None: not)

    @contextmanager
    def _writing(self, session: Session | None) -> Iterator[Session]:
        if session is None:
            with self.store.writing() as writing:
                yield writing
            return
        if not session.info.get(WRITING):
            raise RuntimeError("alert state changes only in a session of Store.writing")
        yield session

    # --- what arrives ---------------------------------------------------------------------
    def ingest(
        self,
        inputs: Iterable[RawInput],
        at: datetime | None = None,
        session: Session | None = None,
    ) -> IngestCounts:
        """Parse and store ``inputs`` in one transaction; their counts together."""
        raws = list(inputs)
        total = IngestCounts()
        for counts in self.store_parsed(raws, [parse_raw(r) for r in raws], at, session):
            total.add(counts)
        return total

    def store_parsed(
        self,
        raws: Sequence[RawInput],
        outcomes: Sequence[ParseOutcome],
        at: datetime | None = None,
        session: Session | None = None,
    ) -> list[IngestCounts]:
        """Store inputs parsed beforehand (parsing is pure: it happens before the writing
        lock is taken) in one transaction; the counts of each input, in order."""
        if not raws:
            return []
        with self._writing(session) as writing:
            intake = Intake(writing.connection(), at or utcnow(), self.flap)
            return intake.store(raws, outcomes)

    def take(self, raw: RawInput) -> IngestCounts:
        """One input whose sender waits for the answer (a webhook, an SMTP or IMAP message):
        parsed, then stored before the answer. Raises only when the store cannot be written
        at all; the sender retries."""
        try:
            outcome = parse_raw(raw)
        except Exception as exc:  # parse_raw never raises; if it did, the input is kept
            outcome = unparsed(raw, f"parser error: {exc}")
        result = self.store_each([raw], [outcome])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def store_each(
        self, raws: Sequence[RawInput], outcomes: Sequence[ParseOutcome]
    ) -> list[IngestCounts | Exception]:
        """Store a batch; when the batch fails, each input on its own, so one input can never
        fail another's. An input that cannot be stored as parsed is stored as an unparsed
        one, with the reason; only a store that cannot be written at all (gone, read-only,
        full) fails them, and the senders retry."""
        try:
            return list(self.store_parsed(raws, outcomes))
        except OperationalError as exc:  # the store itself: nothing can be written now
            log.exception("intake batch of %d inputs failed", len(raws))
            return [exc] * len(raws)
        except Exception:
            if len(raws) > 1:
                log.exception("intake batch of %d inputs failed; storing each alone", len(raws))
        results: list[IngestCounts | Exception] = []
        for raw, outcome in zip(raws, outcomes, strict=True):
            try:
                results += self.store_parsed([raw], [outcome])
                continue
            except OperationalError as exc:
                results.append(exc)
                continue
            except Exception as exc:
                log.exception("an input could not be stored as parsed; keeping it unparsed")
                reason = f"could not be stored as parsed: {type(exc).__name__}: {exc}"[:500]
            try:
                results += self.store_parsed([raw], [unparsed(raw, reason)])
            except Exception as exc:
                results.append(exc)
        return results

    # --- what people do -------------------------------------------------------------------
    def ack(
        self,
        alert_id: int,
        actor: str,
        at: datetime | None = None,
        session: Session | None = None,
        note: str = "",
        silence: bool = True,
    ) -> Alert:
        """Acknowledge an alert; an Alertmanager alert's acknowledgement is a silence there
        too (`opsweek.alerts.acks`, sent by `opsweek.checks.silencing`), unless ``silence``
        is false (an acknowledgement made there: Karma's)."""
        at = at or utcnow()
        with self._writing(session) as writing:
            alert = self._ack(writing, Inbox(writing).get(alert_id), actor, at, note)
            if silence:
                queue_ack(writing, self.acks, [alert], actor, note, at)
            return alert

    def ack_all(
        self, alert_ids: list[int], actor: str, note: str = "", at: datetime | None = None
    ) -> list[Alert]:
        """Acknowledge the firing ones of ``alert_ids`` (a group in the Inbox), with one
        silence for those of Alertmanager (the labels they share)."""
        at = at or utcnow()
        with self._writing(None) as writing:
            inbox = Inbox(writing)
            firing = [
                alert
                for alert in (inbox.get(alert_id) for alert_id in dict.fromkeys(alert_ids))
                if alert.status not in (ACKNOWLEDGED, RESOLVED)
            ]
            if not firing:
                raise BadInput("none of these alerts waits for an acknowledgement")
            acked = [self._ack(writing, alert, actor, at, note) for alert in firing]
            queue_ack(writing, self.acks, acked, actor, note, at)
            return acked

    @staticmethod
    def _ack(session: Session, alert: Alert, actor: str, at: datetime, note: str) -> Alert:
        if alert.status == ACKNOWLEDGED:
            raise BadInput(f"alert {alert.id} is already acknowledged by {alert.acked_by}")
        if alert.status == RESOLVED:
            raise BadInput(f"alert {alert.id} is resolved; nothing to acknowledge")
        alert.status, alert.acked_by, alert.acked_at = ACKNOWLEDGED, actor, at
        _record(session, alert, actor, at, "acked", note.strip())
        said = f": {note.strip()}" if note.strip() else ""
        message = f"acked alert {alert.id} ({alert.kind} {alert.title}){said}"
        record_action(session, actor, message, at)
        return alert

    def unack(self, alert_id: int, actor: str, at: datetime | None = None) -> Alert:
        """Take an acknowledgement back: the alert fires again, and its acknowledgement's
        silence is expired."""
        at = at or utcnow()
        with self._writing(None) as writing:
            alert = Inbox(writing).get(alert_id)
            if alert.status != ACKNOWLEDGED:
                raise BadInput(f"alert {alert_id} is not acknowledged")
            alert.status, alert.acked_by, alert.acked_at = FIRING, None, None
            expired = expire_acks(writing, alert.id, at)
            said = " (its silence expired)" if expired else ""
            _record(writing, alert, actor, at, "unacked", said.strip(" ()"))
            record_action(writing, actor, f"unacked alert {alert.id}{said}", at)
            return alert

    def resolve(
        self,
        alert_id: int,
        actor: str,
        note: str,
        at: datetime | None = None,
        session: Session | None = None,
    ) -> Alert:
        at = at or utcnow()
        note = note.strip()
        with self._writing(session) as writing:
            alert = Inbox(writing).get(alert_id)
            if not note:
                raise BadInput("say how the alert was treated: --note TEXT")
            if alert.status == RESOLVED:
                raise BadInput(f"alert {alert_id} is already resolved by {alert.resolved_by}")
            if alert.acked_by is None:
                alert.acked_by, alert.acked_at = actor, at
            alert.status, alert.resolved_by, alert.resolved_at = RESOLVED, actor, at
            alert.resolution_note = note
            _record(writing, alert, actor, at, "resolved", note)
            message = f"resolved alert {alert.id} ({alert.kind} {alert.title}): {note}"
            record_action(writing, actor, message, at)
            return alert

    def record(
        self,
        alert_id: int,
        actor: str,
        action: str,
        note: str,
        sal_message: str,
        at: datetime | None = None,
        learned: dict[str, Any] | None = None,
        session: Session | None = None,
    ) -> Alert:
        """Record what someone did about an alert elsewhere (cleared its task in Airflow, say):
        a history line with ``action`` and ``note``, and ``sal_message`` in the SAL (none when
        it is empty: what only looked changes nothing to log).
        ``learned``: what acting taught about the alert, kept in its details (a rerun's YARN
        application ids)."""
        at = at or utcnow()
        with self._writing(session) as writing:
            alert = Inbox(writing).get(alert_id)
            if learned:
                alert.details = {**alert.details, **learned}
            _record(writing, alert, actor, at, action, note)
            if sal_message:
                record_action(writing, actor, sal_message, at)
            return alert

    def resolve_by_check(
        self,
        alert_id: int,
        actor: str,
        note: str,
        at: datetime | None = None,
        session: Session | None = None,
    ) -> bool:
        """Resolve an alert because a check saw its problem gone (``actor``: ``check:<name>``,
        or the source that says so); nobody acknowledged it. False when it was resolved
        already."""
        at = at or utcnow()
        with self._writing(session) as writing:
            alert = Inbox(writing).get(alert_id)
            if alert.status == RESOLVED:
                return False
            alert.status, alert.resolved_by, alert.resolved_at = RESOLVED, actor, at
            alert.resolution_note = note
            _record(writing, alert, actor, at, "resolved", note)
            return True

    def note(
        self,
        alert_id: int,
        actor: str,
        text: str,
        at: datetime | None = None,
        session: Session | None = None,
    ) -> Alert:
        at = at or utcnow()
        text = text.strip()
        with self._writing(session) as writing:
            alert = Inbox(writing).get(alert_id)
            if not text:
                raise BadInput("the note is empty")
            _record(writing, alert, actor, at, "note", text)
            message = f"note on alert {alert.id} ({alert.kind} {alert.title}): {text}"
            record_action(writing, actor, message, at)
            return alert


def _record(
    session: Session, alert: Alert, actor: str, at: datetime, action: str, note: str
) -> None:
    alert.updated_at = at
    session.add(AlertEvent(alert_id=alert.id, at=at, actor=actor, action=action, note=note))
