"""Guessing passwords is slow and cannot exhaust the server: failed logins are counted per user
and per client address over a window, and past a limit answered 429 without checking the
password; at most a few password hashes (argon2, 64 MiB each) are computed at once.

An attempt is counted as failed before its password is checked (a reservation, taken with
the check of the limit in one writing transaction) and released when it succeeds, so logins
sent all at once cannot pass the limit while the first are being hashed. The counts are kept
in the store, so every worker and every server on it shares one limit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from threading import BoundedSemaphore

from sqlalchemy import delete, select

from opsweek.db.models import LoginFailure
from opsweek.db.session import Store
from opsweek.timeutil import utcnow

WINDOW_SECONDS = 15 * 60
FAILURES_PER_USER = 5
FAILURES_PER_ADDRESS = 20
CONCURRENT_HASHES = 2


@dataclass(frozen=True)
class Reservation:
    """An attempt counted as failed until `LoginGuard.succeeded` releases it."""

    user: str
    ids: tuple[int, ...]


@dataclass
class LoginGuard:
    store: Store
    window: float = WINDOW_SECONDS
    per_user: int = FAILURES_PER_USER
    per_address: int = FAILURES_PER_ADDRESS
    clock: Callable[[], datetime] = utcnow
    # held while a password is hashed (in a worker thread): the others wait
    hashing: BoundedSemaphore = field(default_factory=lambda: BoundedSemaphore(CONCURRENT_HASHES))

    def reserve(self, user: str, address: str) -> Reservation | float:
        """A reservation when a login of ``user`` from ``address`` may be tried now (it counts
        as failed until released), else how many seconds until it may."""
        now = self.clock()
        since = now - timedelta(seconds=self.window)
        limits = (
            (f"user:{user}"[:200], self.per_user),
            (f"address:{address}"[:200], self.per_address),
        )
        with self.store.writing() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.at < since))
            wait = 0.0
            for key, limit in limits:
                times = session.scalars(
                    select(LoginFailure.at)
                    .where(LoginFailure.key == key, LoginFailure.at >= since)
                    .order_by(LoginFailure.at.desc())
                    .limit(limit)
                ).all()
                if len(times) >= limit:  # free again when the oldest of the last few expires
                    wait = max(wait, (times[-1] - since).total_seconds())
            if wait > 0:
                return wait
            rows = [LoginFailure(key=key, at=now) for key, _ in limits]
            session.add_all(rows)
            session.flush()
            return Reservation(user, tuple(row.id for row in rows))

    def succeeded(self, reservation: Reservation) -> None:
        """The password was right: the attempt was no failure, and the user's failures are
        forgotten (the address's stay)."""
        with self.store.writing() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.id.in_(reservation.ids)))
            session.execute(
                delete(LoginFailure).where(LoginFailure.key == f"user:{reservation.user}"[:200])
            )
