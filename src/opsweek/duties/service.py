"""Duty occurrences in the store: materialised when they fall due, then done or skipped,
step by step. Every change leaves a SAL entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.config.areas import DutySettings, RotationSettings
from opsweek.db.models import Alert, DutyInstance
from opsweek.duties.checklist import fill
from opsweek.duties.dashboards import Dashboard
from opsweek.duties.definitions import DutyBook, DutyDef, default_duties, load_duties
from opsweek.duties.schedule import Occurrence, all_occurrences
from opsweek.errors import BadInput, NotFound
from opsweek.sal.log import record_action
from opsweek.steps import Step
from opsweek.timeutil import iso, parse_clock, parse_weekday, utcnow

STATES = ("due", "done", "skipped")
LINK_WINDOW = timedelta(days=62)


def _last_months_snapshot(due_at: datetime) -> dict[str, str]:
    """The redeploy due in month M deploys the snapshot of month M-1."""
    year, month = (due_at.year, due_at.month - 1) if due_at.month > 1 else (due_at.year - 1, 12)
    return {"snapshot": f"{year:04d}-{month:02d}"}


# alerts that bring the work of a recurring duty: their kind, the duty they name
# (details.duty), and what an alert must say to be that occurrence's (filled into its steps)
ALERT_DUTIES = {"mediawiki_history_available": ("mw-history-deploy", _last_months_snapshot)}


def duty_book(
    rotation: RotationSettings,
    duties: DutySettings,
    entries: Sequence[Mapping[str, Any]],
    dashboards: Sequence[Dashboard] = (),
) -> DutyBook:
    """The runbook's duties (the handoff on the rotation's weekday and time), with the daily
    look at the ``dashboards`` when there are some, changed or extended by the ``[[duties]]``
    ``entries``."""
    defaults = default_duties(
        parse_weekday(rotation.handoff_weekday),
        parse_clock(rotation.handoff_time),
        duties.reminder_hours,
    )
    if dashboards:
        defaults += (
            DutyDef(
                "dashboards",
                "Look at the team's dashboards: tick each one fine, or with a note",
                "0 9 * * mon-fri",
                steps=tuple(d.step() for d in dashboards),
                runbook="Monitor Dashboards",
            ),
        )
    return DutyBook(load_duties(entries, defaults))


def step_row(step: Step) -> dict[str, str]:
    """A checklist step as stored on an occurrence (the command only when there is one)."""
    row = {"text": step.text}
    if step.command:
        row.update(command=step.command, lang=step.lang, host=step.host)
    return row


def status(instance: DutyInstance, now: datetime) -> str:
    """``done``, ``skipped``, ``overdue`` or ``due``."""
    if instance.state == "due" and now >= instance.overdue_at:
        return "overdue"
    return instance.state


def instance_json(instance: DutyInstance, now: datetime) -> dict[str, Any]:
    return {
        "id": instance.id,
        "duty": instance.duty_key,
        "title": instance.title,
        "due_at": iso(instance.due_at),
        "overdue_at": iso(instance.overdue_at),
        "on_demand": instance.on_demand,
        "status": status(instance, now),
        "steps": [
            {
                "number": number,
                "text": step["text"],
                "command": step.get("command", ""),
                "lang": step.get("lang", ""),
                "host": step.get("host", ""),
                "done_by": step.get("done_by"),
                "done_at": step.get("done_at"),
            }
            for number, step in enumerate(instance.steps, start=1)
        ],
        "alerts": list(instance.alert_ids),
        "detail": dict(instance.detail),
        "note": instance.note,
        "closed_by": instance.closed_by,
        "closed_at": iso(instance.closed_at) if instance.closed_at else None,
    }


@dataclass(frozen=True)
class TodayDuties:
    """What the person on duty should look at: the newest open occurrence of each duty (with
    how many earlier ones were missed), on-demand duties still open, and what falls due later
    today."""

    open: list[tuple[DutyInstance, int]]
    later_today: list[Occurrence]


class Duties:
    def __init__(
        self,
        session: Session,
        book: DutyBook,
        tz: ZoneInfo,
        actor: str,
        now: datetime | None = None,
    ) -> None:
        self.session = session
        self.book = book
        self.tz = tz
        self.actor = actor
        self.now = now or utcnow()

    # --- occurrences ---------------------------------------------------------------------
    def sync(self, start: datetime, end: datetime) -> int:
        """Store the occurrences due in [start, min(end, now)); returns how many were new."""
        until = min(end, self.now)
        wanted = all_occurrences(self.book.recurring, start, until, self.tz)
        if not wanted:
            return 0
        existing = {
            (key, due)
            for key, due in self.session.execute(
                select(DutyInstance.duty_key, DutyInstance.due_at).where(
                    DutyInstance.due_at >= start, DutyInstance.due_at < until
                )
            )
        }
        added = 0
        for occurrence in wanted:
            if (occurrence.duty.key, occurrence.due_at) in existing:
                continue
            self.session.add(self._instance(occurrence.duty, occurrence.due_at, {}, "opsweek"))
            added += 1
        self.session.flush()
        return added

    def _instance(
        self, duty: DutyDef, due_at: datetime, values: Mapping[str, str], creator: str
    ) -> DutyInstance:
        return DutyInstance(
            duty_key=duty.key,
            title=duty.title,
            due_at=due_at,
            overdue_at=due_at + timedelta(hours=duty.grace_hours),
            on_demand=duty.on_demand,
            state="due",
            steps=[step_row(step) for step in fill(duty.steps, values)],
            alert_ids=[],
            detail=dict(values),
            note="",
            created_at=self.now,
            created_by=creator,
        )

    def upcoming(self, until: datetime) -> list[Occurrence]:
        return all_occurrences(self.book.recurring, self.now, until, self.tz)

    # --- reading -------------------------------------------------------------------------
    def list(
        self, start: datetime, end: datetime, states: Iterable[str] | None = None
    ) -> list[DutyInstance]:
        """Occurrences due in [start, end), synced first, oldest first."""
        self.sync(start, end)
        query = (
            select(DutyInstance)
            .where(DutyInstance.due_at >= start, DutyInstance.due_at < end)
            .order_by(DutyInstance.due_at, DutyInstance.id)
        )
        if states is not None:
            query = query.where(DutyInstance.state.in_(list(states)))
        return list(self.session.scalars(query))

    def of_week(
        self, start: datetime, end: datetime, status_: str | None = None
    ) -> list[DutyInstance]:
        """An ops week's occurrences as the CLI, the API and the pages list them: the
        on-demand duties still open from before it first, then the week's, oldest first;
        ``status_``: only those in that state (due, done, skipped or overdue)."""
        if status_ is not None and status_ not in (*STATES, "overdue"):
            raise BadInput(f"unknown status {status_!r}: expected due, done, skipped or overdue")
        earlier = [i for i in self.open_on_demand() if i.due_at < start]
        found = earlier + self.list(start, end)
        return [i for i in found if status_ is None or status(i, self.now) == status_]

    def link_alerts(self) -> int:
        """Alerts that name a duty (``details.duty``: a new MediaWiki history snapshot names
        the redeploy) are linked to that duty's open occurrence, whichever source raised them;
        what the duty needs of them (the snapshot) fills in its steps. Returns the links made."""
        linked = 0
        for kind, (key, expected_of) in ALERT_DUTIES.items():
            open_ones = list(
                self.session.scalars(
                    select(DutyInstance)
                    .where(DutyInstance.duty_key == key, DutyInstance.state == "due")
                    .order_by(DutyInstance.due_at.desc())
                )
            )
            if not open_ones:
                continue
            instance = open_ones[0]
            expected = expected_of(instance.due_at)
            alerts = self.session.scalars(
                select(Alert)
                .where(Alert.kind == kind, Alert.last_seen >= instance.due_at - LINK_WINDOW)
                .order_by(Alert.first_seen, Alert.id)
            ).all()
            mine = [
                a
                for a in alerts
                if a.details.get("duty") == key
                and all(str(a.details.get(k, "")) == v for k, v in expected.items())
            ]
            if not mine or {a.id for a in mine} <= set(instance.alert_ids):
                continue
            instance.alert_ids = sorted(set(instance.alert_ids) | {a.id for a in mine})
            self._refill(instance, expected)
            linked += 1
        self.session.flush()
        return linked

    def _refill(self, instance: DutyInstance, values: Mapping[str, str]) -> None:
        """Note ``values`` on an occurrence and fill them into the steps not done yet."""
        instance.detail = {**instance.detail, **values}
        duty = self.book.get(instance.duty_key)
        if duty is None:
            return
        fresh = [step_row(s) for s in fill(duty.steps, instance.detail)]
        if len(fresh) != len(instance.steps):
            return  # the checklist changed since: keep what was ticked as it is
        instance.steps = [
            old if old.get("done_at") else new
            for old, new in zip(instance.steps, fresh, strict=True)
        ]

    def today(self, week_start: datetime) -> TodayDuties:
        self.sync(week_start, self.now)
        self.link_alerts()
        pending = list(
            self.session.scalars(
                select(DutyInstance)
                .where(DutyInstance.state == "due", DutyInstance.due_at <= self.now)
                .where((DutyInstance.due_at >= week_start) | DutyInstance.on_demand)
                .order_by(DutyInstance.due_at.desc(), DutyInstance.id.desc())
            )
        )
        newest: dict[str, DutyInstance] = {}
        missed: dict[str, int] = {}
        shown: list[DutyInstance] = []
        for instance in pending:
            if instance.on_demand:
                shown.append(instance)
            elif instance.duty_key in newest:
                missed[instance.duty_key] += 1
            else:
                newest[instance.duty_key] = instance
                missed[instance.duty_key] = 0
                shown.append(instance)
        shown.sort(key=lambda i: (i.overdue_at, i.id))
        local_now = self.now.astimezone(self.tz)
        end_of_day = (local_now + timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        later = self.upcoming(end_of_day.astimezone(self.now.tzinfo))
        return TodayDuties([(i, missed.get(i.duty_key, 0)) for i in shown], later)

    def open_on_demand(self) -> list[DutyInstance]:
        """On-demand duties not yet done or skipped, oldest first."""
        return list(
            self.session.scalars(
                select(DutyInstance)
                .where(DutyInstance.on_demand.is_(True), DutyInstance.state == "due")
                .order_by(DutyInstance.due_at, DutyInstance.id)
            )
        )

    def get(self, ref: str) -> DutyInstance:
        """An occurrence by id, or the newest open one of a duty key."""
        if ref.isdigit():
            instance = self.session.get(DutyInstance, int(ref)) if len(ref) < 19 else None
            if instance is None:
                raise NotFound(f"no duty occurrence {ref}")
            return instance
        duty = self.book.get(ref)
        if duty is None:
            known = ", ".join(d.key for d in self.book.duties)
            raise BadInput(f"unknown duty {ref!r}; known: {known}")
        if not duty.on_demand:
            self.sync(self.now - timedelta(days=35), self.now)
        instance = self.session.scalar(
            select(DutyInstance)
            .where(
                DutyInstance.duty_key == ref,
                DutyInstance.state == "due",
                DutyInstance.due_at <= self.now,
            )
            .order_by(DutyInstance.due_at.desc(), DutyInstance.id.desc())
            .limit(1)
        )
        if instance is None:
            raise NotFound(f"nothing of {ref!r} is open now")
        return instance

    # --- changing ------------------------------------------------------------------------
    def open(
        self,
        key: str,
        values: Mapping[str, str] | None = None,
        note: str = "",
        alert_ids: Sequence[int] = (),
    ) -> DutyInstance:
        """Start an on-demand duty (an offboarding, a new wiki) now."""
        duty = self.book.get(key)
        if duty is None or not duty.on_demand:
            choices = ", ".join(d.key for d in self.book.duties if d.on_demand)
            raise BadInput(f"{key!r} is not an on-demand duty; on-demand duties: {choices}")
        instance = self._instance(duty, self.now, values or {}, self.actor)
        instance.note = note
        instance.alert_ids = sorted(set(alert_ids))
        self.session.add(instance)
        self.session.flush()
        subject = " ".join(f"{k}={v}" for k, v in (values or {}).items())
        record_action(
            self.session,
            self.actor,
            f"started duty #{instance.id}: {duty.title}" + (f" ({subject})" if subject else ""),
            self.now,
        )
        return instance

    def ensure_open(
        self, key: str, values: Mapping[str, str], note: str = ""
    ) -> tuple[DutyInstance, bool]:
        """The open on-demand duty of ``key`` about ``values`` (the offboarding of this user,
        the new wiki of this name), started when there is none; and whether it was started."""
        for instance in self.open_on_demand():
            if instance.duty_key == key and all(
                instance.detail.get(k) == v for k, v in values.items()
            ):
                return instance, False
        return self.open(key, values, note), True

    def tick(self, ref: str, step: int, note: str = "") -> DutyInstance:
        """Tick a step; ``note``: what was noted doing it (a dashboard that looked wrong)."""
        instance = self._open(ref)
        if not 1 <= step <= len(instance.steps):
            raise BadInput(f"duty #{instance.id} has steps 1 to {len(instance.steps)}")
        steps = [dict(s) for s in instance.steps]
        if steps[step - 1].get("done_at"):
            raise BadInput(f"step {step} of duty #{instance.id} is already done")
        steps[step - 1].update(done_by=self.actor, done_at=iso(self.now))
        if note.strip():
            steps[step - 1]["note"] = note.strip()[:2000]
        instance.steps = steps
        noted = f" (noted: {note.strip()[:200]})" if note.strip() else ""
        record_action(
            self.session,
            self.actor,
            f"duty #{instance.id} {instance.title}: step {step} done: "
            f"{steps[step - 1]['text']}{noted}",
            self.now,
        )
        return instance

    def done(self, ref: str, note: str = "", alert_ids: Sequence[int] = ()) -> DutyInstance:
        instance = self._open(ref)
        self._close(instance, "done", note, alert_ids)
        record_action(
            self.session,
            self.actor,
            f"duty #{instance.id} done: {instance.title}" + (f": {note}" if note else ""),
            self.now,
        )
        return instance

    def skip(self, ref: str, reason: str) -> DutyInstance:
        if not reason.strip():
            raise BadInput("say why the duty is skipped (--reason)")
        instance = self._open(ref)
        self._close(instance, "skipped", reason.strip(), ())
        record_action(
            self.session,
            self.actor,
            f"duty #{instance.id} skipped: {instance.title}: {reason.strip()}",
            self.now,
        )
        return instance

    def _open(self, ref: str) -> DutyInstance:
        instance = self.get(ref)
        if instance.state != "due":
            raise BadInput(f"duty #{instance.id} is already {instance.state}")
        return instance

    def _close(
        self, instance: DutyInstance, state: str, note: str, alert_ids: Sequence[int]
    ) -> None:
        instance.state = state
        instance.closed_by = self.actor
        instance.closed_at = self.now
        if note:
            instance.note = f"{instance.note}\n{note}".strip()
        if alert_ids:
            instance.alert_ids = sorted(set(instance.alert_ids) | set(alert_ids))
        self.session.flush()
