"""Rendered pages kept until the store changes. A page is rendered from the store, so it is
reused while nothing has been committed since (the change marker says so, whoever wrote) and it
is younger than ``max_age`` (pages show times relative to now: overdue duties, alert ages). The
key holds everything else a page depends on: its URL, the user and their CSRF token.

When a page must be rendered again, the first request asking renders it, and waits for it, so
a page loaded after a commit shows it. The requests asking for the same page meanwhile get the
page as it was until that rendering is done (stale-while-revalidate, RFC 5861: a page that was
right a moment ago), or, when there is none yet, wait for the rendering instead of each doing it
again. While commits come one after the other (an alert storm), nobody waits: a page load gets
the page as it was while it is rendered again in the background (never older than
``max_age``; an open page learns what changed since it was rendered from its live updates,
opsweek.web.live).
A part of an open page fetched because of a change (live updates) says when the change was
seen: it gets a page whose rendering began after that, kept or under way, or waits for the next
rendering, shared by all who ask meanwhile; never the page from before the change.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from opsweek.db.commit_marker import ChangeMarker

log = logging.getLogger(__name__)
BUSY_COMMITS, BUSY_SECONDS = 2, 1.0  # this many new versions within this time: a busy store


@dataclass(frozen=True)
class _Page:
    body: bytes
    status: int
    media_type: str | None
    version: object
    made_at: float
    begun: float  # wall-clock time its rendering began (before it read the store)

    def response(self) -> Response:
        return Response(self.body, self.status, media_type=self.media_type)


@dataclass
class _Rendering:
    version: object
    begun: float  # wall-clock time
    done: asyncio.Event = field(default_factory=asyncio.Event)
    page: _Page | None = None


class PageCache:
    def __init__(
        self,
        marker: ChangeMarker,
        max_age: float = 10.0,
        max_bytes: int = 32 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.marker = marker
        self.max_age = max_age
        self.max_bytes = max_bytes
        self.kept_bytes = 0
        self.clock = clock
        self.hits = 0
        self.stale = 0
        self.renders = 0
        self._pages: OrderedDict[Hashable, _Page] = OrderedDict()
        self._renderings: dict[Hashable, _Rendering] = {}
        self._background: set[asyncio.Task[Response]] = set()  # renderings nobody waits for
        self._last_version: object = None
        self._changes: deque[float] = deque(maxlen=BUSY_COMMITS)  # when versions were new

    async def page(
        self,
        key: Hashable,
        render: Callable[[], Awaitable[Response]],
        since: float | None = None,
    ) -> Response:
        """The page for ``key``: the kept one if still valid, else ``render()`` (kept if 200).
        ``since``: a wall-clock time (a part of an open page fetched because of a change seen
        then, opsweek.web.live): only a page whose rendering began after it will do; such
        requests share a rendering, or wait for the next one. Runs on the event loop (so needs
        no lock); ``render`` is awaited."""
        while True:
            # read before the store is: a commit after this makes the next request render again
            if self.marker.cheap:
                version = self.marker.current()
            else:
                version = await run_in_threadpool(self.marker.current)
            if version is None or self.max_age <= 0:
                return await render()
            now = self.clock()
            kept = self._pages.get(key)
            if kept is not None:
                self._pages.move_to_end(key)
                if now - kept.made_at < self.max_age and (
                    kept.version == version or (since is not None and kept.begun >= since)
                ):
                    self.hits += 1
                    return kept.response()
            rendering = self._renderings.get(key)
            if since is None and kept is not None and now - kept.made_at < self.max_age:
                if rendering is not None:  # until the rendering under way is done
                    self.stale += 1
                    return kept.response()
                if self._busy(version, now):  # the page as it was; rendered in the background
                    self._revalidate(key, version, now, render)
                    self.stale += 1
                    return kept.response()
            if rendering is None:
                return await self._lead(key, version, now, render)
            if rendering.version == version or (since is not None and rendering.begun >= since):
                await rendering.done.wait()
                if rendering.page is not None:
                    self.hits += 1
                    return rendering.page.response()
                return await render()  # it was not kept (not a 200): render on our own
            if since is None:
                return await render()  # no page to share: render on our own
            await rendering.done.wait()  # begun before the change: then the next one

    async def _lead(
        self,
        key: Hashable,
        version: object,
        now: float,
        render: Callable[[], Awaitable[Response]],
        rendering: _Rendering | None = None,
    ) -> Response:
        if rendering is None:
            rendering = self._renderings[key] = _Rendering(version, time.time())
        try:
            response = await render()
            self.renders += 1
            if response.status_code == 200 and isinstance(response.body, bytes):
                rendering.page = _Page(
                    bytes(response.body),
                    response.status_code,
                    response.media_type,
                    version,
                    now,
                    rendering.begun,
                )
                self._keep(key, rendering.page)
            return response
        finally:
            del self._renderings[key]
            rendering.done.set()

    def saw(self, version: object) -> None:
        """The store is at ``version`` (from a request, or from the live updates' watcher,
        which looks ten times a second: a storm is seen before the pages are asked for)."""
        if version is not None and version != self._last_version:
            self._last_version = version
            self._changes.append(self.clock())

    def _busy(self, version: object, now: float) -> bool:
        """Are commits coming one after the other (``BUSY_COMMITS`` versions seen within
        ``BUSY_SECONDS``, as in an alert storm)?"""
        self.saw(version)
        return len(self._changes) == BUSY_COMMITS and now - self._changes[0] < BUSY_SECONDS

    def _revalidate(
        self,
        key: Hashable,
        version: object,
        now: float,
        render: Callable[[], Awaitable[Response]],
    ) -> None:
        rendering = self._renderings[key] = _Rendering(version, time.time())  # now: one only
        task = asyncio.get_running_loop().create_task(
            self._lead(key, version, now, render, rendering)
        )
        self._background.add(task)
        task.add_done_callback(self._revalidated)

    def _revalidated(self, task: asyncio.Task[Response]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("rendering a page again failed", exc_info=task.exception())

    def _keep(self, key: Hashable, page: _Page) -> None:
        """Keep ``page``, dropping the least recently used ones beyond ``max_bytes``."""
        replaced = self._pages.pop(key, None)
        self.kept_bytes += len(page.body) - (len(replaced.body) if replaced else 0)
        self._pages[key] = page
        while self.kept_bytes > self.max_bytes and len(self._pages) > 1:
            _, dropped = self._pages.popitem(last=False)
            self.kept_bytes -= len(dropped.body)
