"""Live updates: every open page is told what changed in the store, as it is committed, and
fetches again only the parts that show it (server-sent events; htmx does the fetching).

One watcher per web process looks at the store's change marker every ``interval`` (a commit
by any process moves it: the web app, the intake, the CLI, the bot), reads what changed since
it last looked from the tables' newest ids, and tells each open page:

    event: change
    data: {"topics": ["alerts", "alert-12"], "unacked": 3, "new": [...], "on_duty": "ann",
           "at": 1796220000.25}

Topics: ``alerts`` (an alert was created, re-fired, acknowledged, resolved or noted), one
``alert-<id>`` per changed alert (up to ``MAX_ALERT_TOPICS``; more: ``alert-unnamed``),
``sal`` (a SAL entry: every action through opsweek logs one, a duty done or skipped too).
Events are spaced at least ``min_gap`` apart (``storm_gap`` while commits keep coming),
carrying everything that changed meanwhile, so a page fetches its parts twice a second at
most whatever the rate of commits. A page fetches its parts saying ``at`` (when the change
was seen), and gets them as rendered after it, never before (opsweek.web.page_cache)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from opsweek.db.change_feed import (
    alert_events_since,
    firing_count,
    newest_event_id,
    newest_sal_id,
    still_firing,
)
from opsweek.db.commit_marker import ChangeMarker
from opsweek.db.session import Store

log = logging.getLogger(__name__)
MAX_ALERT_TOPICS = 50  # more changed alerts at once: pages showing one alert fetch it anyway
MAX_NEW = 5  # new firing alerts named in one event (for browser notifications)
QUEUE_SIZE = 16  # events waiting for a slow page; past that it is told to fetch everything
RECHECK_SECONDS = 15.0  # how often an idle stream asks whether its reader may still read
STORM_LOOKS, STORM_CHANGED = 10, 8  # of the last 10 looks at the store, 8 saw a change: a storm


@dataclass
class Cursor:
    """The newest ids seen: what is newer changed."""

    event: int = 0
    sal: int = 0


@dataclass
class Change:
    topics: set[str] = field(default_factory=set)
    unacked: int | None = None
    new: list[dict[str, Any]] = field(default_factory=list)
    at: float = 0.0  # wall-clock time it was seen: a page rendered after it shows it

    def merge(self, other: Change) -> None:
        self.at = max(self.at, other.at)
        self.topics |= other.topics
        if other.unacked is not None:
            self.unacked = other.unacked
        self.new = (self.new + other.new)[-MAX_NEW:]

    def data(self, on_duty: str | None) -> str:
        return json.dumps(
            {
                "topics": sorted(self.topics),
                "unacked": self.unacked,
                "new": self.new,
                "on_duty": on_duty,
                "at": self.at,
            }
        )


def newest(store: Store) -> Cursor:
    with store.session() as session:
        return Cursor(newest_event_id(session), newest_sal_id(session))


def read_change(store: Store, cursor: Cursor) -> tuple[Cursor, Change]:
    """What changed since ``cursor``: each read is a range of a primary key."""
    change = Change()
    with store.session() as session:
        events = alert_events_since(session, cursor.event, 10_000)
        sal = newest_sal_id(session)
        if events:
            changed = {alert_id for _, alert_id, _ in events}
            change.topics.add("alerts")
            if len(changed) <= MAX_ALERT_TOPICS:
                change.topics |= {f"alert-{alert_id}" for alert_id in changed}
            else:  # too many to name: every open Alert page fetches itself
                change.topics.add("alert-unnamed")
            fired = [a for _, a, action in events if action in ("created", "refired")][-MAX_NEW:]
            if fired:
                rows = still_firing(session, fired)
                change.new = [{"id": i, "title": t[:200], "kind": k} for i, t, k in rows]
        if sal > cursor.sal:
            change.topics.add("sal")
    return Cursor(events[-1][0] if events else cursor.event, max(sal, cursor.sal)), change


class LiveChanges:
    def __init__(
        self,
        store: Store,
        marker: ChangeMarker,
        on_duty: Callable[[], str | None] = lambda: None,
        saw: Callable[[object], None] = lambda version: None,
        interval: float = 0.1,
        min_gap: float = 0.5,
        storm_gap: float = 1.5,
    ) -> None:
        self.store, self.marker, self.on_duty, self.saw = store, marker, on_duty, saw
        self.interval, self.min_gap, self.storm_gap = interval, min_gap, storm_gap
        self._looks: deque[bool] = deque(maxlen=STORM_LOOKS)  # did each of the last looks
        # at the store see a change?
        self._pages: set[asyncio.Queue[str | None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._on_duty: str | None = None
        self.sent = 0
        self.changed_at = time.time()  # the last change seen (when watching began: unknown)

    @property
    def pages(self) -> int:
        return len(self._pages)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        for queue in self._pages:
            _offer(queue, None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        version = await self._version()
        cursor = await run_in_threadpool(newest, self.store)
        pending: Change | None = None
        last_sent = 0.0
        while True:
            await asyncio.sleep(self.interval)
            try:
                now_version = await self._version()
                self.saw(now_version)
                self._looks.append(now_version is not None and now_version != version)
                if now_version is None or now_version != version:
                    version, seen = now_version, time.time()
                    cursor, change = await run_in_threadpool(read_change, self.store, cursor)
                    change.at = seen
                    if change.topics:
                        pending = change if pending is None else _merged(pending, change)
                        self.changed_at = seen
                if pending is not None and time.monotonic() - last_sent >= self._gap():
                    await run_in_threadpool(self._complete, pending)
                    self._tell(pending.data(self._on_duty))
                    pending, last_sent = None, time.monotonic()
            except Exception:  # the store went away for a moment: pages keep polling
                log.exception("live updates: could not read what changed")

    async def _version(self) -> object | None:
        if self.marker.cheap:
            return self.marker.current()
        return await run_in_threadpool(self.marker.current)

    def _gap(self) -> float:
        """``min_gap``; ``storm_gap`` while commits keep coming (most of the last looks at the
        store saw one, as in an alert storm): nobody reads faster, and each event has the
        pages render their parts again on the cores the storm's intake needs."""
        storm = sum(self._looks) >= STORM_CHANGED
        return self.storm_gap if storm else self.min_gap

    def _complete(self, change: Change) -> None:
        """What an event says besides its topics, read once per event (not per commit)."""
        self._on_duty = self.on_duty() if change.new else None
        if "alerts" in change.topics:
            with self.store.session() as session:
                change.unacked = firing_count(session)

    def _tell(self, data: str) -> None:
        self.sent += 1
        for queue in self._pages:
            _offer(queue, data)

    async def events(
        self, allowed: Callable[[], bool] = lambda: True, recheck: float = RECHECK_SECONDS
    ) -> AsyncIterator[dict[str, str]]:
        """The events of one open page, until it goes away, the app stops or ``allowed`` says
        the reader may no longer read (asked before each event, and every ``recheck``
        seconds while none comes: a stream ends soon after a logout or a revoked token)."""
        queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_SIZE)
        self._pages.add(queue)
        try:
            # a page rendered before the last change (which it may not show) fetches its parts
            yield {"event": "hello", "data": json.dumps({"changed_at": self.changed_at})}
            while True:
                try:
                    data = await asyncio.wait_for(queue.get(), recheck)
                except TimeoutError:
                    data = ""
                if data is None or not await run_in_threadpool(allowed):
                    return
                if data:
                    yield {"event": "change", "data": data}
        finally:
            self._pages.discard(queue)


def _merged(first: Change, second: Change) -> Change:
    first.merge(second)
    return first


def _offer(queue: asyncio.Queue[str | None], data: str | None) -> None:
    """Queue ``data`` for a page; a page too slow to take its events is told to fetch every
    live part instead (the events it missed are then of no use)."""
    try:
        queue.put_nowait(data)
    except asyncio.QueueFull:
        while not queue.empty():
            queue.get_nowait()
        everything = json.dumps({"topics": ["*"], "unacked": None, "new": [], "on_duty": None})
        queue.put_nowait(None if data is None else everything)
