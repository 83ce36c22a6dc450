"""Rendered pages kept until the store changes. A page is rendered from the store, so it is
reused while nothing has been committed since (the change marker says so, whoever wrote) and it
is younger than ``max_age`` (pages show times relative to now: overdue duties, alert ages). The
key holds everything else a page depends on: its URL, the user and their CSRF token.

When a page must be rendered again, the first request asking renders it, and waits for it. The
requests asking for the same page meanwhile get the page as it was until that rendering is done
(stale-while-revalidate, RFC 5861: a page that was right a moment ago, never older than one
rendering), or, when there is none yet, wait for the rendering instead of each doing it again.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from opsweek.db.commit_marker import ChangeMarker


@dataclass(frozen=True)
class _Page:
    body: bytes
    status: int
    media_type: str | None
    version: object
    made_at: float

    def response(self) -> Response:
        return Response(self.body, self.status, media_type=self.media_type)


@dataclass
class _Rendering:
    version: object
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

    async def page(self, key: Hashable, render: Callable[[], Awaitable[Response]]) -> Response:
        """The page for ``key``: the kept one if still valid, else ``render()`` (kept if 200).
        Runs on the event loop (so needs no lock); ``render`` is awaited."""
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
            if kept.version == version and now - kept.made_at < self.max_age:
                self.hits += 1
                return kept.response()
        rendering = self._renderings.get(key)
        if rendering is not None:
            if kept is not None:  # until the rendering under way is done
                self.stale += 1
                return kept.response()
            if rendering.version == version:
                await rendering.done.wait()
                if rendering.page is not None:
                    self.hits += 1
                    return rendering.page.response()
            return await render()  # no page to share: render on our own
        return await self._lead(key, version, now, render)

    async def _lead(
        self,
        key: Hashable,
        version: object,
        now: float,
        render: Callable[[], Awaitable[Response]],
    ) -> Response:
        rendering = self._renderings[key] = _Rendering(version)
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
                )
                self._keep(key, rendering.page)
            return response
        finally:
            del self._renderings[key]
            rendering.done.set()

    def _keep(self, key: Hashable, page: _Page) -> None:
        """Keep ``page``, dropping the least recently used ones beyond ``max_bytes``."""
        replaced = self._pages.pop(key, None)
        self.kept_bytes += len(page.body) - (len(replaced.body) if replaced else 0)
        self._pages[key] = page
        while self.kept_bytes > self.max_bytes and len(self._pages) > 1:
            _, dropped = self._pages.popitem(last=False)
            self.kept_bytes -= len(dropped.body)
