"""Posting and mailing at most once: each publication has a key naming what and where; a
retry after a partial failure sends only what is missing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.db.models import Publication
from opsweek.timeutil import utcnow


class Publisher:
    def __init__(self, session: Session, now: datetime | None = None) -> None:
        self.session = session
        self.now = now or utcnow()

    def done(self, key: str) -> Publication | None:
        return self.session.scalar(select(Publication).where(Publication.key == key))

    def once(self, key: str, send: Callable[[], str]) -> tuple[str, bool]:
        """Run ``send`` unless ``key`` was already published; returns (reference, sent now).
        The record is committed right after sending, so a later failure cannot make it
        send again."""
        previous = self.done(key)
        if previous is not None:
            return previous.ref, False
        ref = send()
        self.session.add(Publication(key=key[:200], at=self.now, ref=ref[:200]))
        self.session.commit()
        return ref, True
