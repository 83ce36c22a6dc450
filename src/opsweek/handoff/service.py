"""Gathers one ops week from the store and the outside systems into a handoff report, posts
and mails it once, and reminds the current and next person before the handoff."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.adapters.chat import Chat
from opsweek.adapters.mailer import SmtpMailer
from opsweek.adapters.tracker import TaskChange, Tracker
from opsweek.alerts.areas import area_of
from opsweek.db.alert_reads import alert_rows
from opsweek.db.models import Alert, DutyInstance, Person
from opsweek.duties.service import Duties, status
from opsweek.errors import BadInput, ConfigError, OpsweekError, Unavailable
from opsweek.handoff.decisions import Decisions
from opsweek.handoff.pictures import pictures
from opsweek.handoff.publish import Publisher
from opsweek.handoff.render import figures_line, to_html, to_markdown, to_slack
from opsweek.handoff.report import (
    AlertLine,
    DecisionLine,
    DutyLine,
    HandoffInputs,
    HandoffReport,
    SalLine,
    StepNote,
    build_handoff,
    job_of,
)
from opsweek.handoff.task_changes import plan
from opsweek.quoting import slack_mention, slack_text
from opsweek.rotation.service import Rotation
from opsweek.rotation.team import Team
from opsweek.sal.log import SalFilter, SalLog, record_action
from opsweek.timeutil import utcnow
from opsweek.watch.answers import unanswered

log = logging.getLogger(__name__)
WEEK = timedelta(days=7)
SAL_LIMIT = 1000
SLACK_TEXT_LIMIT = 39_000
TARGETS = ("slack", "email")
DUTY_BOOKKEEPING = ("duty #", "started duty #")  # SAL entries the Duties section already shows


LINE_COLUMNS = [
    Alert.id,
    Alert.kind,
    Alert.title,
    Alert.count,
    Alert.status,
    Alert.first_seen,
    Alert.last_seen,
    Alert.acked_by,
    Alert.acked_at,
    Alert.resolved_by,
    Alert.resolved_at,
    Alert.resolution_note,
    Alert.details,
]


def alert_line(row: Any, dumps_instances: frozenset[str] = frozenset()) -> AlertLine:
    """A line of the report from an alert's row (`LINE_COLUMNS`)."""
    details = row.details or {}
    return AlertLine(
        id=row.id,
        kind=row.kind,
        title=row.title,
        count=row.count,
        status=row.status,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        acked_by=row.acked_by,
        acked_at=row.acked_at,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        note=row.resolution_note,
        job=job_of(details, row.title),
        area=area_of(row.kind, details, dumps_instances),
    )


@dataclass(frozen=True)
class HandoffConfig:
    timezone: ZoneInfo
    noise_weeks: int  # handoff.noise_weeks
    reminder_hours: int  # duties.reminder_hours
    collab_channel: str  # chat.collab_channel: its unanswered questions are in the report
    answer_hours: int  # chat.answer_hours
    team_channel: str  # chat.team_channel: where the report and reminders are posted
    alerts_list: str  # mail.alerts_list: where the report is mailed
    dumps_instances: frozenset[str] = frozenset()  # Airflow instances of the Dumps area


class HandoffService:
    """The handoff of one ops week: the report (from the store, and from the tracker and the
    chat when given), posting and mailing it once, and the reminders before the handoff."""

    def __init__(
        self,
        session: Session,
        rotation: Rotation,
        duties: Duties,
        config: HandoffConfig,
        tracker: Tracker | None = None,
        chat: Chat | None = None,
        mailer: SmtpMailer | None = None,
        actor: str = "opsweek",
        now: datetime | None = None,
    ) -> None:
        self.session = session
        self.rotation = rotation
        self.duties = duties
        self.config = config
        self.tracker, self.chat, self.mailer = tracker, chat, mailer
        self.actor = actor
        self.now = now or utcnow()
        self.tz = config.timezone
        self.rule = rotation.config.rule

    def default_week(self) -> date:
        """The week being handed off: the current one, or the one that just ended when the
        handoff was less than a day ago."""
        current = self.rule.containing(self.now)
        if self.now - self.rule.start_of(current) < timedelta(days=1):
            return current - WEEK
        return current

    def _person(self, week: date) -> str | None:
        rows = self.rotation.weeks(week, week + timedelta(days=1))
        return rows[0].username if rows else None

    def _manual_done(self, since: datetime, until: datetime) -> list[tuple[str, int]]:
        """Each manual maintenance duty, and how often it was done in [since, until)."""
        keys = {d.key: d.title for d in self.duties.book.duties if d.manual}
        if not keys:
            return []
        done = Counter(
            self.session.scalars(
                select(DutyInstance.duty_key).where(
                    DutyInstance.duty_key.in_(list(keys)),
                    DutyInstance.state == "done",
                    DutyInstance.due_at >= since,
                    DutyInstance.due_at < until,
                )
            )
        )
        return [(title, done[key]) for key, title in keys.items()]

    def _alerts_seen(self, since: datetime, until: datetime) -> list[AlertLine]:
        """Alerts seen between ``since`` and ``until``, open and resolved, oldest first."""
        rows = alert_rows(
            self.session, LINE_COLUMNS, Alert.first_seen < until, Alert.last_seen >= since
        )
        dumps = self.config.dumps_instances
        return [alert_line(row, dumps) for row in sorted(rows, key=lambda row: row.id)]

    def inputs(self, week: date | None = None) -> HandoffInputs:
        week = self.rule.normalize(week) if week else self.default_week()
        start, end = self.rule.bounds(week)
        if start > self.now:
            raise BadInput(f"the week of {week.isoformat()} has not started yet")
        unavailable: list[str] = []
        noise_weeks = self.config.noise_weeks
        since = min(end - WEEK * max(noise_weeks, 1), start)
        noise = self._alerts_seen(since, end)  # the week's alerts are among them: read once
        alerts = [a for a in noise if a.first_seen < end and a.last_seen >= start]
        duties = self.duties
        manual = self._manual_done(end - WEEK * max(noise_weeks, 1), end)
        week_duties = duties.list(start, end)
        noted = [
            StepNote(str(s.get("done_at")), str(s.get("done_by")), i.title, s["text"], s["note"])
            for i in week_duties
            for s in i.steps
            if s.get("note")
        ]
        carried = [i for i in duties.open_on_demand() if i.due_at < start]
        duty_lines = [
            DutyLine(i.id, i.duty_key, i.title, i.due_at, status(i, self.now), i.closed_by, i.note)
            for i in carried + week_duties
        ]
        sal = [
            SalLine(e.logged_at, e.nick, e.message)
            for e in reversed(
                SalLog(self.session).list(SalFilter(since=start, until=end, limit=SAL_LIMIT))
            )
            if not (e.source == "opsweek" and e.message.startswith(DUTY_BOOKKEEPING))
        ]
        decisions = [
            DecisionLine(d.id, d.at, d.actor, d.text, d.mailed_at is not None)
            for d in Decisions(self.session, self.actor, self.now).list(start, end)
        ]
        tasks = None
        if self.tracker is not None:
            try:
                tasks = self.tracker.ops_tasks()
            except Unavailable as exc:
                unavailable.append(f"tracker: {exc}")
        questions = None
        if self.chat is not None:
            channel = self.config.collab_channel
            if not channel:
                unavailable.append("chat: chat.collab_channel is not set")
            else:
                try:
                    asked = self.chat.questions(channel, start)
                    questions = unanswered(
                        asked,
                        Team(self.session).chat_ids(),
                        min(end, self.now),
                        self.config.answer_hours,
                    )
                except Unavailable as exc:
                    unavailable.append(f"chat: {exc}")
        return HandoffInputs(
            week=week,
            start=start,
            end=end,
            now=self.now,
            from_person=self._person(week),
            to_person=self._person(week + WEEK),
            alerts=alerts,
            duties=duty_lines,
            sal=sal,
            decisions=decisions,
            noise_alerts=noise,
            noise_weeks=noise_weeks,
            tasks=tasks,
            manual=manual,
            noted=noted,
            questions=questions,
            unavailable=unavailable,
        )

    def report(self, week: date | None = None) -> HandoffReport:
        return build_handoff(self.inputs(week))

    # --- publishing ------------------------------------------------------------------------
    def publish(self, report: HandoffReport, targets: set[str]) -> list[dict[str, Any]]:
        """Post the report as a thread in the team channel and/or mail it to the alerts list.
        Each part is sent once: a retry sends only what failed. Returns one result per
        target; failures are reported there, not raised, so one target cannot stop the
        other."""
        unknown = targets - set(TARGETS)
        if unknown:
            raise BadInput(f"cannot publish to {', '.join(sorted(unknown))}; use slack,email")
        senders = {"slack": self._post_report, "email": self._mail_report}
        publisher = Publisher(self.session, self.now)
        return [
            _attempt(target, lambda send=senders[target]: send(report, publisher))
            for target in TARGETS
            if target in targets
        ]

    def _post_report(self, report: HandoffReport, publisher: Publisher) -> tuple[str, bool]:
        chat, channel = self._chat_channel()
        key = f"handoff:{report.inputs.week.isoformat()}:slack:{channel}"
        summary = (
            f"*{slack_text(report.title)}*\n{slack_text(figures_line(report))}\n"
            "Details in this thread."
        )
        parent, sent = publisher.once(key, lambda: chat.post(channel, summary))
        thread = _slack_text(to_slack(report, self.tz))
        _, sent_thread = publisher.once(
            key + ":thread", lambda: chat.post(channel, thread, thread=parent)
        )
        week = report.inputs.week.isoformat()
        for picture in pictures(report, self.tz):  # a picture that fails fails nothing else
            try:
                _, shared = publisher.once(
                    f"{key}:{picture.name}-chart",
                    lambda p=picture: chat.upload(
                        channel, parent, f"ops-week-{week}-{p.name}.png", p.png, p.title
                    ),
                )
            except OpsweekError as exc:
                log.warning("the handoff's %s chart was not shared: %s", picture.name, exc)
                continue
            sent_thread = sent_thread or shared
        return parent, sent or sent_thread

    def _mail_report(self, report: HandoffReport, publisher: Publisher) -> tuple[str, bool]:
        mailer, to = self._mailer_to()
        week = report.inputs.week.isoformat()
        domain = _domain(mailer)
        shown = {
            p.name: (f"{p.name}-chart-{week}@{domain}", p.png) for p in pictures(report, self.tz)
        }
        return publisher.once(
            f"handoff:{week}:email:{to}",
            lambda: mailer.send(
                [to],
                f"[ops week] {report.title}",
                to_markdown(report, self.tz),
                to_html(report, self.tz, images={n: f"cid:{c}" for n, (c, _) in shown.items()}),
                message_id=f"<opsweek-handoff-{week}@{domain}>",
                images=list(shown.values()),
            ),
        )

    def _chat_channel(self) -> tuple[Chat, str]:
        channel = self.config.team_channel
        if self.chat is None:
            raise ConfigError("no chat configured (chat.kind)")
        if not channel:
            raise ConfigError("chat.team_channel is not set")
        return self.chat, channel

    def _mailer_to(self) -> tuple[SmtpMailer, str]:
        if self.mailer is None:
            raise ConfigError("mail.smtp_host is not set")
        to = self.config.alerts_list
        if not to:
            raise ConfigError("mail.alerts_list is not set")
        return self.mailer, to

    # --- the tracker ------------------------------------------------------------------------
    def task_changes(self, week: date | None = None) -> list[TaskChange]:
        """What the handoff does to the outgoing person's tasks in the ops-week column."""
        if self.tracker is None:
            raise ConfigError("no tracker configured: set tracker.kind and tracker.url")
        week = self.rule.normalize(week) if week else self.default_week()
        tasks = self.tracker.ops_tasks()  # Unavailable when it does not answer
        return plan(tasks, self._person(week), self._person(week + WEEK))

    def apply_task_changes(self, changes: list[TaskChange]) -> list[tuple[TaskChange, str]]:
        """Make each change (a task changed since it was read is left alone, and named);
        each one made goes to the SAL."""
        assert self.tracker is not None  # task_changes() said so
        done = []
        for change in changes:
            outcome = self.tracker.apply(change)
            if outcome == "applied":
                record_action(self.session, self.actor, f"handoff: {change.describe()}", self.now)
            done.append((change, outcome))
        return done

    # --- reminders -------------------------------------------------------------------------
    def reminder_due(self) -> Reminder | None:
        """The reminder to send when the handoff is within the reminder lead time."""
        week = self.rule.containing(self.now)
        _, handoff_at = self.rule.bounds(week)
        lead = timedelta(hours=self.config.reminder_hours)
        if not handoff_at - lead <= self.now < handoff_at:
            return None
        names = (self._person(week), self._person(week + WEEK))
        people = {
            p.username: p
            for p in self.session.scalars(select(Person).where(Person.username.in_(names)))
        }
        current, upcoming = (people.get(n or "") for n in names)
        local = handoff_at.astimezone(self.tz).strftime("%a %d %b %H:%M %Z")
        text = (
            f"Ops week handoff at {local}: {names[0] or 'nobody'} hands over to "
            f"{names[1] or 'nobody'}. Write the handoff (opsweek handoff), unassign tasks not "
            "started, hand over work in progress."
        )
        return Reminder(week, local, text, current, upcoming)

    def remind(
        self, targets: set[str], say_on_irc: Callable[[str], None] | None = None
    ) -> list[dict[str, Any]]:
        """Remind the current and next person of the handoff, once per week and target
        (``slack``, ``email``; ``irc`` through ``say_on_irc`` when the bot runs)."""
        unknown = targets - {"slack", "email", "irc"}
        if unknown:
            raise BadInput(f"cannot remind on {', '.join(sorted(unknown))}; use slack,email")
        reminder = self.reminder_due()
        if reminder is None:
            return []
        publisher = Publisher(self.session, self.now)
        senders: dict[str, Callable[[], str]] = {
            "slack": lambda: self._post_reminder(reminder),
            "email": lambda: self._mail_reminder(reminder),
        }
        if say_on_irc is not None:
            senders["irc"] = lambda: (say_on_irc(reminder.text), "irc")[1]
        results = []
        for target in sorted(targets | ({"irc"} if say_on_irc else set())):
            if target not in senders:
                results.append({"target": target, "error": "the IRC bot is not running"})
                continue
            key = f"reminder:{reminder.week.isoformat()}:{target}"
            results.append(
                _attempt(target, lambda send=senders[target], k=key: publisher.once(k, send))
            )
        return results

    def _post_reminder(self, reminder: Reminder) -> str:
        chat, channel = self._chat_channel()
        mentions = " ".join(slack_mention(p.slack_id) for p in reminder.people if p.slack_id)
        return chat.post(channel, f"{mentions} {slack_text(reminder.text)}".strip())

    def _mail_reminder(self, reminder: Reminder) -> str:
        if self.mailer is None:
            raise ConfigError("mail.smtp_host is not set")
        to = [p.email for p in reminder.people if p.email]
        if not to:
            raise ConfigError("neither person has an e-mail address")
        mailer = self.mailer
        return mailer.send(
            to,
            f"[ops week] Handoff at {reminder.local_time}",
            reminder.text + "\n",
            message_id=f"<opsweek-reminder-{reminder.week}@{_domain(mailer)}>",
        )


@dataclass(frozen=True)
class Reminder:
    week: date
    local_time: str
    text: str
    current: Person | None
    next: Person | None

    @property
    def people(self) -> list[Person]:
        return [p for p in (self.current, self.next) if p is not None]


def _attempt(target: str, send: Callable[[], tuple[str, bool]]) -> dict[str, Any]:
    try:
        ref, sent = send()
    except (Unavailable, ConfigError) as exc:
        return {"target": target, "error": str(exc), "sent": False}
    return {"target": target, "ref": ref, "sent": sent}


def _slack_text(markdown: str) -> str:
    if len(markdown) <= SLACK_TEXT_LIMIT:
        return markdown
    return markdown[:SLACK_TEXT_LIMIT] + "\n… (cut: the full report is in the e-mail)"


def _domain(mailer: SmtpMailer) -> str:
    return mailer.sender.rpartition("@")[2] or "opsweek"
