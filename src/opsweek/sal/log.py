"""The SAL service: append entries (with their references), list, search, related entries."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import TextClause, bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from opsweek.db.models import SalEntry, SalRef
from opsweek.db.types import UTCDateTime
from opsweek.errors import BadInput, NotFound
from opsweek.sal.outbox import enqueue
from opsweek.sal.refs import extract_refs
from opsweek.sal.wiki import WikiEntry, same_entry_key
from opsweek.timeutil import iso, utcnow

MAX_ID = 2**63 - 1  # ids are 64-bit integers in every store
MAX_MESSAGE = 65_536  # characters in one message; longer ones are refused, never cut
IRC_FORMATTING = re.compile(r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]")
NICK = re.compile(r"^[^\s\x00-\x1f]{1,64}\Z")
PG_SPLIT = "._/-:@"
PG_TABLE = str.maketrans(PG_SPLIT, " " * len(PG_SPLIT))
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)  # the end of an open span


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
        "actor": entry.actor,
        "corrects": entry.corrects_id,
        "refs": [{"kind": r.kind, "value": r.value} for r in refs],
    }


@dataclass(frozen=True)
class Probe:
    """Is anything logged about one of ``values`` between ``since`` and ``until`` (open: no
    end)?"""

    key: int
    values: frozenset[str]
    since: datetime
    until: datetime | None


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
        actor: str | None = None,
    ) -> SalEntry:
        """A new entry shown under ``nick``, recorded by ``actor`` (default: the nick)."""
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
            actor=(actor if actor is not None else nick)[:64],
        )
        self.session.add(entry)
        self.session.flush()
        enqueue(self.session, entry)
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

    def import_entries(self, entries: Sequence[WikiEntry], source: str, project: str) -> int:
        """Append the entries not already in the SAL (the same minute, nick and message: a
        page shows no seconds); how many were added."""
        if not entries:
            return 0
        first = min(e.logged_at for e in entries)
        last = max(e.logged_at for e in entries) + timedelta(minutes=1)
        known = {
            same_entry_key(WikiEntry(logged_at, nick, message))
            for logged_at, nick, message in self.session.execute(
                select(SalEntry.logged_at, SalEntry.nick, SalEntry.message).where(
                    SalEntry.logged_at >= first, SalEntry.logged_at < last
                )
            )
        }
        added = 0
        for entry in entries:
            key = same_entry_key(entry)
            if key in known or not NICK.match(entry.nick):
                continue
            known.add(key)
            self.append(
                entry.nick, entry.message, at=entry.logged_at, source=source, project=project
            )
            added += 1
        return added

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

    def related(
        self,
        values: Collection[str],
        since: datetime,
        until: datetime | None = None,
        limit: int = 10,
    ) -> list[SalEntry]:
        """Entries logged between ``since`` and ``until`` that share a reference value, newest
        first. The newest ``limit`` of each value are read from the (value, logged_at) index;
        the newest ``limit`` overall are among them."""
        newest: dict[int, datetime] = {}
        for value in sorted(values):
            query = select(SalRef.entry_id, SalRef.logged_at).where(
                SalRef.value == value, SalRef.logged_at >= since
            )
            if until is not None:
                query = query.where(SalRef.logged_at <= until)
            query = query.order_by(SalRef.logged_at.desc()).limit(limit)
            for entry_id, at in self.session.execute(query):
                newest[entry_id] = max(at, newest.get(entry_id, at))
        ids = sorted(newest, key=lambda i: (newest[i], i), reverse=True)[:limit]
        if not ids:
            return []
        by_id = {
            e.id: e for e in self.session.scalars(select(SalEntry).where(SalEntry.id.in_(ids)))
        }
        return [by_id[i] for i in ids]

    def any_related(self, probes: Sequence[Probe]) -> set[int]:
        """The keys of the probes that have an entry with one of their values in their time
        span: one statement per 50 probes, each value one seek in the (value, logged_at)
        index."""
        found: set[int] = set()
        for start in range(0, len(probes), PROBES_PER_QUERY):
            chunk = [p for p in probes[start : start + PROBES_PER_QUERY] if p.values]
            if not chunk:
                continue
            params: dict[str, Any] = {}
            pairs = [(p.key, value) for p in chunk for value in sorted(p.values)]
            for n, probe in enumerate(chunk):
                params |= {f"k{n}": probe.key, f"lo{n}": probe.since}
                params[f"hi{n}"] = probe.until or FAR_FUTURE
            for n, (key, value) in enumerate(pairs):
                params |= {f"rk{n}": key, f"rv{n}": value}
            found.update(self.session.scalars(_probe_query(len(chunk), len(pairs)), params))
        return found


PROBES_PER_QUERY = 50


@functools.lru_cache(maxsize=512)
def _probe_query(spans: int, pairs: int) -> TextClause:
    """The probe statement for ``spans`` probes with ``pairs`` values in all, as text:
    SQLAlchemy does not cache the compiled form of VALUES constructs with data."""
    span_rows = ", ".join(f"(:k{n}, :lo{n}, :hi{n})" for n in range(spans))
    pair_rows = ", ".join(f"(:rk{n}, :rv{n})" for n in range(pairs))
    return text(
        f"WITH spans (k, lo, hi) AS (VALUES {span_rows}), "
        f"pairs (k, v) AS (VALUES {pair_rows}) "
        "SELECT DISTINCT spans.k FROM spans JOIN pairs ON pairs.k = spans.k "
        "WHERE EXISTS (SELECT 1 FROM sal_refs AS r "
        "WHERE r.value = pairs.v AND r.logged_at >= spans.lo AND r.logged_at <= spans.hi)"
    ).bindparams(
        *(bindparam(f"lo{n}", type_=UTCDateTime()) for n in range(spans)),
        *(bindparam(f"hi{n}", type_=UTCDateTime()) for n in range(spans)),
    )


def record_action(
    session: Session, actor: str, message: str, now: datetime | None = None
) -> SalEntry:
    """The SAL entry every state change made through opsweek leaves, with its actor."""
    return SalLog(session, now).append(actor, message, source="opsweek")
