"""SQLAlchemy models. Times are stored as UTC; dates (weeks, away days) as calendar dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from opsweek.db.types import UTCDateTime


class Base(DeclarativeBase):
    """Base of every opsweek table."""


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    irc_nick: Mapped[str] = mapped_column(String(64), default="")
    slack_id: Mapped[str] = mapped_column(String(64), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # web sessions made at an older version are no longer valid (logout, removal, password)
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    away: Mapped[list[Away]] = relationship(back_populates="person", cascade="all, delete-orphan")


class Away(Base):
    __tablename__ = "away"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(32), default="cli")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(back_populates="away")


class RotationWeek(Base):
    """One ops week and who is on duty. ``week`` is the local date the week starts on."""

    __tablename__ = "rotation_weeks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[date] = mapped_column(Date, unique=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    origin: Mapped[str] = mapped_column(String(16), default="plan")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    person: Mapped[Person] = relationship()


class RotationChange(Base):
    """Append-only record of every change to the rotation: who asked, when, what."""

    __tablename__ = "rotation_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RawInputRow(Base):
    """Everything that arrived, kept as received: nothing is ever lost."""

    __tablename__ = "raw_inputs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    format: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(500), default="")
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    parse_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # e-mails: Message-ID and content hash, so a retried delivery is not stored twice
    content_key: Mapped[str | None] = mapped_column(
        String(200), nullable=True, unique=True, index=True
    )


class Alert(Base):
    """One alert per fingerprint: repeats while firing raise ``count``, re-fires after a
    resolution raise ``fire_count``."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(48), index=True)
    source: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    group_key: Mapped[str] = mapped_column(String(64))  # alerts are grouped as listed: no index
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=1)
    fire_count: Mapped[int] = mapped_column(Integer, default=1)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    flap_history: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raw_id: Mapped[int | None] = mapped_column(ForeignKey("raw_inputs.id"), nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # Alerts by last_seen, in two partial indexes, open and resolved (read through
    # opsweek.db.alert_reads): a repeat of a firing alert moves its entry in the small open one
    # only, not in an index of a year of alerts.
    __table_args__ = (
        Index("ix_alerts_status_kind", "status", "kind"),  # counts from the index alone
        Index(
            "ix_alerts_open_last_seen",
            "last_seen",
            "id",
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index(
            "ix_alerts_resolved_last_seen",
            "last_seen",
            "id",
            sqlite_where=text("status = 'resolved'"),
            postgresql_where=text("status = 'resolved'"),
        ),
    )


class AlertEvent(Base):
    """Append-only history of an alert: every change with its actor."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")


class ApiToken(Base):
    """API tokens for scripts and webhooks, stored as SHA-256 hashes (they are random)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SalEntry(Base):
    """A Server Admin Log entry. Append-only: a correction is a new entry pointing at the old."""

    __tablename__ = "sal_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    nick: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(64), default="")
    project: Mapped[str] = mapped_column(String(64), default="")
    host: Mapped[str] = mapped_column(String(255), default="")
    source: Mapped[str] = mapped_column(String(16), default="cli")
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("sal_entries.id"), nullable=True)
    # who recorded it (a token's user, the IRC sender, ...), whatever nick it is shown under
    actor: Mapped[str] = mapped_column(String(64), default="", server_default="")


class SalRef(Base):
    """A reference found in a SAL entry (task, job, table, host, alert id), for lookups."""

    __tablename__ = "sal_refs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("sal_entries.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(200))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_sal_refs_value_logged_at", "value", "logged_at"),)


class StepRun(Base):
    """A step of an alert run by opsweek on request (opsweek.checks.step_runs): the exact
    command, where and as whom, who asked, and what it said (the end of its output, with the
    whole size); ``exit_status`` None while it runs or when it could not run (``error``)."""

    __tablename__ = "step_runs"
    __table_args__ = (Index("ix_step_runs_alert", "alert_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    step: Mapped[str] = mapped_column(String(80))  # its id, #n for the n-th of a repeated one
    command: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255))
    as_whom: Mapped[str] = mapped_column(String(64))
    effect: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    exit_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    output: Mapped[str] = mapped_column(Text, default="")
    output_size: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Silence(Base):
    """An Alertmanager silence (opsweek.checks.silencing): one opsweek made (``origin``
    ``opsweek``: an acknowledgement's, kept until its alert resolves when ``until_resolved``,
    or one asked for), or one made elsewhere that opsweek noted on ``alert_id`` (``origin``
    ``elsewhere``). ``state``: ``pending`` (not sent yet: its cluster was unreachable, see
    ``error``), ``active``, ``expiring`` (its expiry not sent yet), ``expired``.
    ``silence_id``: Alertmanager's id, once it has one."""

    __tablename__ = "silences"
    __table_args__ = (
        Index("ix_silences_state", "state", "next_attempt_at"),
        Index("ix_silences_alert", "alert_id"),
        Index("ix_silences_silence_id", "cluster", "silence_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64))
    silence_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), nullable=True)
    origin: Mapped[str] = mapped_column(String(16))
    matchers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(255))
    comment: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until_resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    """A login attempt counted as failed (``key``: ``user:<name>`` or ``address:<ip>``), from
    before its password is checked until it succeeds: the failed-login limit, shared by every
    worker and server on the store (opsweek.web.login_guard)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SalOutbox(Base):
    """An entry to publish to one place (``wiki`` or ``irc``, see `sal.publish`), written in
    the entry's own transaction; ``published_at`` is set only once it went out."""

    __tablename__ = "sal_outbox"
    __table_args__ = (
        UniqueConstraint("entry_id", "target", name="uq_sal_outbox_entry_target"),
        Index("ix_sal_outbox_due", "target", "published_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("sal_entries.id"))
    target: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    misses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # edits that
    # did not show the entry when the page was read again
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # given
    # up on after MAX_MISSES: flagged for a person


class DutyInstance(Base):
    """One occurrence of a duty (or one on-demand duty) with its own state: ``due``, ``done``
    or ``skipped``; overdue is ``due`` after ``overdue_at``."""

    __tablename__ = "duty_instances"
    __table_args__ = (
        Index(  # recurring occurrences only: on-demand duties may start at the same moment
            "uq_duty_instances_recurring",
            "duty_key",
            "due_at",
            unique=True,
            sqlite_where=text("on_demand = false"),
            postgresql_where=text("on_demand = false"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    duty_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    overdue_at: Mapped[datetime] = mapped_column(UTCDateTime)
    on_demand: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), index=True, default="due")
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    alert_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Decision(Base):
    """A decision taken with part of the team, mailed to the alerts list."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    mail_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class OutsideReading(Base):
    """The last reading of an outside system (``tracker``, ``chat``, ``airflow:<instance>``):
    what it said, or why it could not be read."""

    __tablename__ = "outside_readings"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)
    items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ChannelLine(Base):
    """A line said in a channel the IRC bot sits in, kept for `irc.keep_days` so Today can
    show what mentioned the team's work."""

    __tablename__ = "channel_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[str] = mapped_column(String(64))
    nick: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(512))


class Publication(Base):
    """Something opsweek posted or mailed, by a key naming what and where, so a retry never
    posts it twice."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ref: Mapped[str] = mapped_column(String(200), default="")
