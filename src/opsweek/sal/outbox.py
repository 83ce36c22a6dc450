"""The SAL outbox: the entries opsweek makes wait here, one row per place to publish them
(`sal.publish`: the wiki page, the IRC channel), until they went out.

- Written in the entry's own transaction (``enqueue``), so an entry is never made without
  its rows, whatever happens after the commit.
- A publisher ``claim``s due rows for a lease (committed at once, so two publishers never
  hold the same row), sends them, then marks them ``published`` or ``failed``; a failed row
  waits longer after each attempt (30 s doubling to an hour), and a publisher that died
  leaves its rows due again when the lease ends. At least once: the wiki side finds an
  entry already on the page and does not add it twice (opsweek.sal.wiki.add_entries).
- An entry the page does not show after an edit that added it (the wiki changed it, another
  publisher saved over it) is ``missed``; after ``MAX_MISSES`` such edits its row stops and
  says so (`opsweek sal publish` lists it) rather than being added again for ever."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from opsweek.db.models import SalEntry, SalOutbox
from opsweek.db.session import SAL_PUBLISH, Store
from opsweek.timeutil import iso

# entries opsweek makes (its actions, `opsweek log`, the web form and API); those from IRC
# and the wiki are already where the team's SAL is
PUBLISHED_SOURCES = frozenset({"opsweek", "cli", "web"})
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=2)
MAX_ERROR = 1000
MAX_MISSES = 3


@dataclass(frozen=True)
class Pending:
    outbox_id: int
    entry_id: int
    logged_at: datetime
    nick: str
    message: str
    project: str
    host: str
    attempts: int
    misses: int = 0


def enqueue(session: Session, entry: SalEntry) -> None:
    """Rows for ``entry`` in the session's transaction, one per target the store publishes
    to; nothing for an entry that came from IRC or the wiki."""
    if entry.source not in PUBLISHED_SOURCES:
        return
    for target in session.info.get(SAL_PUBLISH, ()):
        session.add(
            SalOutbox(entry_id=entry.id, target=target, attempts=0, next_attempt_at=entry.logged_at)
        )


def retry_after(attempts: int) -> timedelta:
    """How long a row waits after its ``attempts``-th failed attempt."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def claim(store: Store, target: str, now: datetime, limit: int = 50) -> list[Pending]:
    """The due rows of ``target``, oldest entry first, held for ``LEASE``. Nothing due (the
    usual answer, asked every few seconds): a read only, without the writing lock."""
    due = (
        SalOutbox.target == target,
        SalOutbox.published_at.is_(None),
        SalOutbox.stopped_at.is_(None),
        SalOutbox.next_attempt_at <= now,
    )
    with store.session() as session:
        if session.scalar(select(SalOutbox.id).where(*due).limit(1)) is None:
            return []
    with store.writing() as session:
        rows = session.execute(
            select(SalOutbox, SalEntry)
            .join(SalEntry, SalEntry.id == SalOutbox.entry_id)
            .where(*due)
            .order_by(SalOutbox.entry_id)
            .limit(limit)
        ).all()
        for outbox, _entry in rows:
            outbox.next_attempt_at = now + LEASE
        return [
            Pending(
                outbox.id,
                entry.id,
                entry.logged_at,
                entry.nick,
                entry.message,
                entry.project,
                entry.host,
                outbox.attempts,
                outbox.misses,
            )
            for outbox, entry in rows
        ]


def mark_published(store: Store, rows: Sequence[Pending], now: datetime) -> None:
    if rows:
        with store.writing() as session:
            session.execute(
                update(SalOutbox)
                .where(SalOutbox.id.in_([r.outbox_id for r in rows]))
                .values(published_at=now, error=None)
            )


def mark_failed(store: Store, rows: Sequence[Pending], now: datetime, error: str) -> None:
    with store.writing() as session:
        for row in rows:
            attempts = row.attempts + 1
            session.execute(
                update(SalOutbox)
                .where(SalOutbox.id == row.outbox_id)
                .values(
                    attempts=attempts,
                    next_attempt_at=now + retry_after(attempts),
                    error=error[:MAX_ERROR],
                )
            )


def mark_missed(store: Store, rows: Sequence[Pending], now: datetime, error: str) -> int:
    """Rows whose entry the page did not show after an edit: tried again later, or stopped
    after ``MAX_MISSES`` such edits. How many stopped."""
    stopped = 0
    with store.writing() as session:
        for row in rows:
            attempts, misses = row.attempts + 1, row.misses + 1
            values: dict[str, Any] = {
                "attempts": attempts,
                "misses": misses,
                "next_attempt_at": now + retry_after(attempts),
                "error": error[:MAX_ERROR],
            }
            if misses >= MAX_MISSES:
                stopped += 1
                values.update(
                    stopped_at=now,
                    error=f"stopped: the page did not show it after {misses} edits ({error})"[
                        :MAX_ERROR
                    ],
                )
            session.execute(update(SalOutbox).where(SalOutbox.id == row.outbox_id).values(**values))
    return stopped


def release(store: Store, rows: Sequence[Pending], now: datetime) -> None:
    """Rows claimed but not tried (the publisher stopped): due again at once."""
    if rows:
        with store.writing() as session:
            session.execute(
                update(SalOutbox)
                .where(SalOutbox.id.in_([r.outbox_id for r in rows]))
                .values(next_attempt_at=now)
            )


def summary(session: Session) -> dict[str, dict[str, Any]]:
    """Per target: how many went out and how many wait; of those waiting, the oldest entry,
    the most attempts, the next attempt and the newest error."""
    result: dict[str, dict[str, Any]] = {}
    counts = select(
        SalOutbox.target,
        func.count(SalOutbox.published_at),
        func.count() - func.count(SalOutbox.published_at) - func.count(SalOutbox.stopped_at),
        func.count(SalOutbox.stopped_at),
    ).group_by(SalOutbox.target)
    for target, published, waiting, stopped in session.execute(counts):
        state: dict[str, Any] = {"published": published, "waiting": waiting, "stopped": stopped}
        state["stopped_entries"] = [
            {"entry": r.entry_id, "error": r.error}
            for r in session.scalars(
                select(SalOutbox)
                .where(SalOutbox.target == target, SalOutbox.stopped_at.is_not(None))
                .order_by(SalOutbox.entry_id)
                .limit(20)
            )
        ]
        pending = select(SalOutbox).where(
            SalOutbox.target == target,
            SalOutbox.published_at.is_(None),
            SalOutbox.stopped_at.is_(None),
        )
        rows = list(session.scalars(pending.order_by(SalOutbox.entry_id).limit(1000)))
        failing = [r for r in rows if r.error]
        state["oldest_entry"] = rows[0].entry_id if rows else None
        state["attempts"] = max((r.attempts for r in rows), default=0)
        state["next_attempt_at"] = iso(min(r.next_attempt_at for r in rows)) if rows else None
        state["error"] = failing[-1].error if failing else None
        result[target] = state
    return result
