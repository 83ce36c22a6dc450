"""The team service: people and their away periods, in the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.db.models import Away, Person
from opsweek.errors import BadInput, NotFound
from opsweek.rotation.availability import AwayPeriod
from opsweek.rotation.imports import checked_period
from opsweek.rotation.people import PersonRecord, check_username
from opsweek.timeutil import utcnow


@dataclass(frozen=True)
class ImportCounts:
    added: int
    updated: int
    skipped: int = 0


class Team:
    def __init__(self, session: Session, now: datetime | None = None) -> None:
        self.session = session
        self.now = now or utcnow()

    def get(self, username: str, include_inactive: bool = False) -> Person:
        check_username(username)
        person = self.session.scalar(select(Person).where(Person.username == username))
        if person is None or (not person.active and not include_inactive):
            raise NotFound(f"unknown user {username!r} (see: opsweek team list)")
        return person

    def members(self, include_inactive: bool = False) -> list[Person]:
        query = select(Person).order_by(Person.username)
        if not include_inactive:
            query = query.where(Person.active.is_(True))
        return list(self.session.scalars(query))

    def by_irc_nick(self, nick: str) -> Person | None:
        """The active member whose IRC nick is ``nick``."""
        query = select(Person).where(Person.irc_nick == nick, Person.active.is_(True))
        return self.session.scalar(query)

    def irc_nicks(self) -> dict[str, list[str]]:
        """Each member's IRC nick, by username (those who gave one)."""
        rows = self.session.execute(select(Person.username, Person.irc_nick))
        return {username: [nick] for username, nick in rows if nick}

    def chat_ids(self) -> set[str]:
        """The chat (Slack) ids of the team's members: their replies answer a question."""
        return {p.slack_id for p in self.members() if p.slack_id}

    def add(self, record: PersonRecord) -> Person:
        record = record.validated()
        existing = self.session.scalar(select(Person).where(Person.username == record.username))
        if existing is not None and existing.active:
            raise BadInput(f"user {record.username!r} already exists")
        person = existing or Person(username=record.username, created_at=self.now)
        self._apply(person, record)
        person.active, person.removed_at = True, None
        self.session.add(person)
        self.session.flush()
        return person

    def import_people(self, records: Iterable[PersonRecord]) -> ImportCounts:
        added = updated = 0
        for record in records:
            person = self.session.scalar(select(Person).where(Person.username == record.username))
            if person is None:
                self.add(record)
                added += 1
            else:
                self._apply(person, record.validated())
                person.active, person.removed_at = True, None
                updated += 1
        self.session.flush()
        return ImportCounts(added, updated)

    def remove(self, username: str) -> Person:
        """Mark someone as no longer on the team; their past weeks stay in the history."""
        person = self.get(username)
        person.active = False
        person.removed_at = self.now
        person.session_version += 1  # their web sessions end with them
        self.session.flush()
        return person

    def add_away(self, period: AwayPeriod, source: str = "cli") -> Away:
        person = self.get(period.username)
        period = checked_period(period.username, period.start, period.end, period.reason)
        away = Away(
            person=person,
            start=period.start,
            end=period.end,
            reason=period.reason,
            source=source,
            created_at=self.now,
        )
        self.session.add(away)
        self.session.flush()
        return away

    def import_away(self, periods: Iterable[AwayPeriod], source: str) -> ImportCounts:
        """Add periods not yet recorded; unknown users are an error, nothing is imported."""
        periods = list(periods)
        for period in periods:
            self.get(period.username)
        known = {(a.username, a.start, a.end) for a in self.away_periods()}
        added = skipped = 0
        for period in periods:
            key = (period.username, period.start, period.end)
            if key in known:
                skipped += 1
                continue
            known.add(key)
            self.add_away(period, source)
            added += 1
        return ImportCounts(added, 0, skipped)

    def away_periods(self) -> list[AwayPeriod]:
        rows = self.session.execute(
            select(Person.username, Away.start, Away.end, Away.reason)
            .join(Away.person)
            .order_by(Away.start, Person.username)
        )
        return [AwayPeriod(*row) for row in rows]

    def records(self) -> list[PersonRecord]:
        return [
            PersonRecord(p.username, p.name, p.email, p.irc_nick, p.slack_id, p.timezone)
            for p in self.members()
        ]

    @staticmethod
    def _apply(person: Person, record: PersonRecord) -> None:
        person.name = record.name
        person.email = record.email
        person.irc_nick = record.irc_nick
        person.slack_id = record.slack_id
        person.timezone = record.timezone
