"""The SAL service: append entries (with their references), list, search, related entries."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from opsweek.db.models import SalEntry, SalRef
from opsweek.errors import BadInput, NotFound
from opsweek.sal.refs import extract_refs
from opsweek.timeutil import iso, utcnow

MAX_ID = 2**63 - 1  # ids are 64-bit integers in every store
MAX_MESSAGE = 65_536  # characters in one message; longer ones are refused, never cut
IRC_FORMATTING = re.compile(r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]")
NICK = re.compile(r"^[^\s\x00-\x1f]{1,64}$")
PG_SPLIT = "._/-:@"
PG_TABLE = str.maketrans(PG_SPLIT, " " * len(PG_SPLIT))


def clean_message(message: str) -> str:
    """IRC colour and formatting codes removed, other control characters made spaces, one
    line. Stored as text; escaped wherever shown."""
    text = IRC_FORMATTING.sub("", message)
    text = "".join(ch if ch.isprintable() or ch == " " else " " for ch in text)
    return " ".join(text.split())


def entry_json(entry: SalEntry, refs: Sequence[SalRef] = ()) -> dict[str, Any]:
    return {
        "id": entry.id,
        "logged_at": iso(entry.logged_at),
        "nick": entry.nick,
        "message": entry.message,
        "channel": entry.channel,
        "project": entry.project,
        "host": entry.host,
        "source": entry.source,
        "corrects": entry.corrects_id,
        "refs": [{"kind": r.kind, "value": r.value} for r in refs],
    }


@dataclass(frozen=True)
class SalFilter:
    since: datetime | None = None
    until: datetime | None = None
    nick: str | None = None
    limit: int = 100


class SalLog:
    def __init__(self, session: Session, now: datetime | None = None) -> None:
        self.session = session
        self.now = now or utcnow()

    def append(
        self,
        nick: str,
        message: str,
        *,
        channel: str = "",
        project: str = "",
        host: str = "",
        source: str = "cli",
        corrects: int | None = None,
        at: datetime | None = None,
    ) -> SalEntry:
        nick = nick.strip()
        if not NICK.match(nick):
            raise BadInput(f"invalid nick {nick!r}")
        cleaned = clean_message(message)
        if not cleaned:
            raise BadInput("the SAL message is empty")
        if len(cleaned) > MAX_MESSAGE:
            raise BadInput(
                f"the SAL message is {len(cleaned)} characters long; at most "
                f"{MAX_MESSAGE} are accepted (log a summary and a link instead)"
            )
        if corrects is not None:
            self.get(corrects)
        entry = SalEntry(
            logged_at=at or self.now,
            nick=nick,
            message=cleaned,
            channel=channel[:64],
            project=project[:64],
            host=host[:255],
            source=source,
            corrects_id=corrects,
        )
        self.session.add(entry)
        self.session.flush()
        refs = extract_refs(cleaned)
        if refs:
            self.session.execute(
                insert(SalRef),
                [
                    {
                        "entry_id": entry.id,
                        "kind": r.kind,
                        "value": r.value,
                        "logged_at": entry.logged_at,
                    }
                    for r in refs
                ],
            )
        return entry

    def get(self, entry_id: int) -> SalEntry:
        entry = self.session.get(SalEntry, entry_id) if 0 < entry_id <= MAX_ID else None
        if entry is None:
            raise NotFound(f"no SAL entry {entry_id}")
        return entry

    def refs(self, entry_ids: Collection[int]) -> dict[int, list[SalRef]]:
        found: dict[int, list[SalRef]] = {i: [] for i in entry_ids}
        if entry_ids:
            for ref in self.session.scalars(
                select(SalRef)
                .where(SalRef.entry_id.in_(list(entry_ids)))
                .order_by(SalRef.kind, SalRef.value)
            ):
                found[ref.entry_id].append(ref)
        return found

    def list(self, flt: SalFilter) -> list[SalEntry]:
        query = select(SalEntry)
        if flt.since:
            query = query.where(SalEntry.logged_at >= flt.since)
        if flt.until:
            query = query.where(SalEntry.logged_at < flt.until)
        if flt.nick:
            query = query.where(SalEntry.nick == flt.nick)
        query = query.order_by(SalEntry.logged_at.desc(), SalEntry.id.desc()).limit(flt.limit)
        return list(self.session.scalars(query))

    def search(self, query: str, limit: int = 50) -> list[SalEntry]:
        """Full-text search (every word must appear), newest entries first."""
        words = [w for w in re.findall(r"[\w.@:/-]+", query.lower()) if w]
        if not words:
            raise BadInput("the search query has no words")
        if self.session.get_bind().dialect.name == "sqlite":
            match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
            ids = (
                self.session.execute(
                    text(
                        "SELECT rowid FROM sal_fts WHERE sal_fts MATCH :match ORDER BY rowid DESC "
                        "LIMIT :limit"
                    ),
                    {"match": match, "limit": limit},
                )
                .scalars()
                .all()
            )
            if not ids:
                return []
            rows = self.session.scalars(select(SalEntry).where(SalEntry.id.in_(ids)))
            by_id = {row.id: row for row in rows}
            return [by_id[i] for i in ids if i in by_id]
        # PostgreSQL: the expression of the GIN index in migration 0003; each word a phrase
        document = func.to_tsvector(
            "simple", func.translate(SalEntry.message, PG_SPLIT, " " * len(PG_SPLIT))
        )
        phrases = [func.phraseto_tsquery("simple", w.translate(PG_TABLE)) for w in words]
        tsquery = phrases[0]
        for phrase in phrases[1:]:
            tsquery = tsquery.op("&&")(phrase)
        return list(
            self.session.scalars(
                select(SalEntry)
                .where(document.op("@@")(tsquery.self_group()))
                .order_by(SalEntry.id.desc())
                .limit(limit)
            )
        )

    def related(self, values: Collection[str], since: datetime, limit: int = 10) -> list[SalEntry]:
        """Entries since ``since`` that share a reference value, newest first."""
        if not values:
            return []
        ids = (
            self.session.execute(
                select(SalRef.entry_id, func.max(SalRef.logged_at).label("at"))
                .where(SalRef.value.in_(list(values)), SalRef.logged_at >= since)
                .group_by(SalRef.entry_id)
                .order_by(text("at DESC"), SalRef.entry_id.desc())
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if not ids:
            return []
        by_id = {
            e.id: e for e in self.session.scalars(select(SalEntry).where(SalEntry.id.in_(ids)))
        }
        return [by_id[i] for i in ids]

    def latest_by_value(self, values: Collection[str]) -> dict[str, datetime]:
        """When each reference value was last logged (for marking alerts in a list)."""
        found: dict[str, datetime] = {}
        ordered = list(values)
        for start in range(0, len(ordered), 500):
            rows = self.session.execute(
                select(SalRef.value, func.max(SalRef.logged_at))
                .where(SalRef.value.in_(ordered[start : start + 500]))
                .group_by(SalRef.value)
            )
            found.update({value: at for value, at in rows})
        return found


def record_action(
    session: Session, actor: str, message: str, now: datetime | None = None
) -> SalEntry:
    """The SAL entry every state change made through opsweek leaves, with its actor."""
    return SalLog(session, now).append(actor, message, source="opsweek")
