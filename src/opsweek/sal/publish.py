"""The team's real SAL: opsweek's entries published to its wiki page (from the outbox), and
entries logged there by anyone read back into opsweek's SAL.

Publishing never blocks an action: it runs from `opsweek serve` (or `opsweek sal publish`),
after the entries are committed. An edit conflict reads the page again and redoes the
change; an unreachable wiki leaves the entries waiting with their error and a later retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from opsweek.db.models import OutsideReading
from opsweek.db.session import Store
from opsweek.errors import Unavailable
from opsweek.sal import outbox
from opsweek.sal.log import SalLog
from opsweek.sal.relay import RELAYED
from opsweek.sal.wiki import WikiEntry, add_entries, parse, same_entry_key
from opsweek.timeutil import utcnow


class WikiUnavailable(Unavailable):
    """The wiki could not be reached, refused the login, or refused the edit."""


class EditConflict(Exception):
    """Someone saved the page since it was read: read it again and redo the change."""


@dataclass(frozen=True)
class Revision:
    text: str
    revid: int  # 0: the page does not exist yet
    timestamp: str  # the revision's, as the wiki gives it ("" for a missing page)


@dataclass(frozen=True)
class Saved:
    revid: int
    parent: int  # the revision it was saved on top of: not the base when the wiki missed a
    # conflict (edits by one account, or MediaWiki's one-second timestamps)
    timestamp: str


class WikiPage(Protocol):
    """The SAL page (opsweek.adapters.mediawiki)."""

    def read(self, to_edit: bool = True) -> Revision:
        """The newest revision; ``to_edit``: one old enough that the wiki can tell a later
        edit from it."""
        ...

    def revision(self, revid: int) -> Revision: ...

    def save(self, text: str, base: Revision, summary: str) -> Saved:
        """Save ``text`` on top of ``base``, or raise EditConflict when the wiki sees it is
        no longer the newest revision."""
        ...


CONFLICT_RETRIES = 5
BATCHES = 20  # at most this many batches of due entries in one run
READING = "sal_wiki"  # the OutsideReading of the last sync


@dataclass
class Published:
    added: int = 0  # lines added to the page
    already: int = 0  # entries found on the page already (a retry after a lost answer)
    failed: int = 0  # entries left waiting for a retry
    conflicts: int = 0  # edit conflicts met (and resolved by reading the page again)
    stopped: int = 0  # entries given up on: the page never showed them (flagged)
    error: str | None = None


def publish_to_wiki(store: Store, page: WikiPage, now: datetime | None = None) -> Published:
    """Publish every due wiki row of the outbox, in batches of one edit each. A row is marked
    published once the page, read again after the edit, shows its entry: MediaWiki does not
    call two edits by the same account a conflict, so another publisher with the same bot
    password may have saved over it (it is then added again after a short wait)."""
    result = Published()
    for _ in range(BATCHES):
        rows = outbox.claim(store, "wiki", now or utcnow())
        if not rows:
            break
        entries = [WikiEntry(r.logged_at, r.nick, r.message) for r in rows]
        try:
            added = _add_to_page(page, entries, result)
            shown = {same_entry_key(e) for e in parse(page.read(False).text, strict=False)}
        except (WikiUnavailable, EditConflict) as exc:
            outbox.mark_failed(store, rows, now or utcnow(), str(exc))
            result.failed += len(rows)
            result.error = str(exc)
            break
        on_page = [r for r, e in zip(rows, entries, strict=True) if same_entry_key(e) in shown]
        missing = [r for r in rows if r not in on_page]
        outbox.mark_published(store, on_page, now or utcnow())
        if missing:
            why = "not on the page when read again (saved over, or changed by the wiki)"
            result.stopped += outbox.mark_missed(store, missing, now or utcnow(), why)
            result.failed += len(missing)
        result.added += added
        result.already += len(on_page) - min(added, len(on_page))
    return result


def _add_to_page(page: WikiPage, entries: list[WikiEntry], result: Published) -> int:
    """Add the entries to the newest text of the page; how many it did not show already."""
    lost: list[WikiEntry] = []  # lines of a revision an edit of ours replaced unseen
    first_added: int | None = None
    for _ in range(CONFLICT_RETRIES):
        base = page.read()
        text, added = add_entries(base.text, entries + lost)
        first_added = added if first_added is None else first_added
        if not added:
            return first_added
        plural = "entry" if added == 1 else "entries"
        try:
            saved = page.save(text, base, f"opsweek: {added} SAL {plural}")
        except EditConflict:
            result.conflicts += 1
            continue
        if base.revid and saved.parent != base.revid:
            # the wiki took our text over an edit it did not call a conflict: its lines are
            # added again to the page as it is now (nothing on it is dropped)
            result.conflicts += 1
            lost = parse(page.revision(saved.parent).text, strict=False)
            continue
        return first_added
    raise EditConflict(f"the page changed under {CONFLICT_RETRIES} edits in a row")


@dataclass(frozen=True)
class Synced:
    revid: int
    read: int  # entries on the page
    added: int  # of them, not known before
    unchanged: bool  # the page had no new revision since the last sync


def sync_from_wiki(
    store: Store,
    page: WikiPage,
    project: str,
    relay_nicks: tuple[str, ...] = (),
    now: datetime | None = None,
) -> Synced:
    """Import the page's entries that opsweek does not know yet (by minute, nick and
    message). A line of a relay nick in ``user@host message`` form credits the user."""
    now = now or utcnow()
    try:
        revision = page.read(to_edit=False)
    except WikiUnavailable as exc:
        with store.writing() as session:
            _remember(session, now, None, str(exc))
        raise
    with store.session() as session:
        last = session.get(OutsideReading, READING)
        seen = (last.items or [{}])[0].get("revid") if last is not None and last.items else None
    if revision.revid and seen == revision.revid:
        with store.writing() as session:
            _remember(session, now, {"revid": revision.revid}, None)
        return Synced(revision.revid, 0, 0, unchanged=True)
    relays = {n.lower() for n in relay_nicks}
    entries = [_credited(e, relays) for e in parse(revision.text, strict=False)]
    with store.writing() as session:
        added = SalLog(session, now).import_entries(entries, source="wiki", project=project)
        _remember(session, now, {"revid": revision.revid}, None)
    return Synced(revision.revid, len(entries), added, unchanged=False)


def _credited(entry: WikiEntry, relays: set[str]) -> WikiEntry:
    relayed = RELAYED.match(entry.message) if entry.nick.lower() in relays else None
    if relayed is None:
        return entry
    return WikiEntry(entry.logged_at, relayed.group(1), relayed.group(3))


def _remember(
    session: Session, now: datetime, state: dict[str, int] | None, error: str | None
) -> None:
    reading = session.get(OutsideReading, READING)
    if reading is None:
        reading = OutsideReading(name=READING, read_at=now)
        session.add(reading)
    reading.read_at = now
    if state is not None:
        reading.items = [state]
    reading.error = error
