"""The page cache: reuse while nothing was committed and the page is young; one rendering for
many readers; the previous page while a new one is rendered."""

from __future__ import annotations

import asyncio
import time

from starlette.responses import Response

from opsweek.db.commit_marker import ChangeMarker
from opsweek.web.page_cache import PageCache


class Marker(ChangeMarker):
    """A marker whose version the test sets: a commit is ``version += 1``."""

    def __init__(self) -> None:
        self.version: object | None = 1

    def current(self) -> object | None:
        return self.version


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Renderer:
    """Renders "page N" for the Nth rendering; can be held to simulate a slow one."""

    def __init__(self, status: int = 200) -> None:
        self.count = 0
        self.status = status
        self.gate: asyncio.Event | None = None

    async def __call__(self) -> Response:
        self.count += 1
        number = self.count
        if self.gate is not None:
            await self.gate.wait()
        return Response(f"page {number}", self.status, media_type="text/html")


def body(response: Response) -> str:
    return bytes(response.body).decode()


def test_a_page_is_reused_until_a_commit_or_max_age() -> None:
    marker, clock, render = Marker(), Clock(), Renderer()
    cache = PageCache(marker, max_age=10, clock=clock)

    async def scenario() -> list[str]:
        seen = [body(await cache.page("/", render)), body(await cache.page("/", render))]
        seen.append(body(await cache.page("/inbox", render)))  # another key
        marker.version = 2  # something was committed
        seen.append(body(await cache.page("/", render)))
        clock.now = 10.5  # too old, though nothing changed
        seen.append(body(await cache.page("/", render)))
        return seen

    assert asyncio.run(scenario()) == ["page 1", "page 1", "page 2", "page 3", "page 4"]
    assert (cache.hits, cache.renders) == (1, 4)


def test_nothing_is_kept_without_a_marker_or_when_disabled() -> None:
    marker, render = Marker(), Renderer()
    marker.version = None
    cache = PageCache(marker)

    async def twice(cache: PageCache) -> list[str]:
        return [body(await cache.page("/", render)) for _ in range(2)]

    assert asyncio.run(twice(cache)) == ["page 1", "page 2"]
    assert asyncio.run(twice(PageCache(Marker(), max_age=0))) == ["page 3", "page 4"]


def test_errors_are_not_kept() -> None:
    render = Renderer(status=404)
    cache = PageCache(Marker())

    async def twice() -> list[int]:
        return [(await cache.page("/alerts/9", render)).status_code for _ in range(2)]

    assert asyncio.run(twice()) == [404, 404]
    assert render.count == 2


def test_readers_share_one_rendering_and_get_the_previous_page_meanwhile() -> None:
    marker, render = Marker(), Renderer()
    cache = PageCache(marker)

    async def scenario() -> tuple[list[str], list[str]]:
        render.gate = asyncio.Event()
        first = [asyncio.create_task(cache.page("/", render)) for _ in range(5)]
        await asyncio.sleep(0)
        render.gate.set()  # the first rendering finishes: all five get it
        shared = [body(r) for r in await asyncio.gather(*first)]
        marker.version = 2
        render.gate = asyncio.Event()
        leader = asyncio.create_task(cache.page("/", render))
        await asyncio.sleep(0)
        meanwhile = [body(await cache.page("/", render)) for _ in range(3)]
        render.gate.set()
        after = [body(await leader), body(await cache.page("/", render))]
        return shared, meanwhile + after

    shared, later = asyncio.run(scenario())
    assert shared == ["page 1"] * 5  # one rendering for five readers
    assert later == ["page 1", "page 1", "page 1", "page 2", "page 2"]
    assert render.count == 2


def test_the_least_recently_used_pages_go_beyond_max_bytes() -> None:
    render = Renderer()
    cache = PageCache(Marker(), max_bytes=20)  # "page N" is 6 bytes: three fit

    async def scenario() -> list[str]:
        for key in ("/a", "/b", "/c"):
            await cache.page(key, render)
        await cache.page("/a", render)  # used again: /b is now the least recent
        await cache.page("/d", render)
        return [body(await cache.page(key, render)) for key in ("/a", "/c", "/d", "/b")]

    assert asyncio.run(scenario()) == ["page 1", "page 3", "page 4", "page 5"]
    assert cache.kept_bytes <= 20


async def settle(cache: PageCache) -> None:
    """Until the renderings in the background are done."""
    while cache._background:
        await asyncio.sleep(0)


def test_a_live_part_never_gets_the_page_from_before_the_change() -> None:
    """A live part fetched because of a change seen at some time gets a page whose rendering
    began after it: one under way (shared), or the next (shared too); never an older one."""
    marker, render = Marker(), Renderer()
    cache = PageCache(marker)

    async def scenario() -> list[str]:
        await cache.page("/", render)  # page 1, kept
        marker.version = 2
        render.gate = asyncio.Event()
        leader = asyncio.create_task(cache.page("/", render))  # page 2, begun now
        await asyncio.sleep(0)
        seen = time.time()  # a change seen after page 2 began
        marker.version = 3
        late = [asyncio.create_task(cache.page("/", render, since=seen)) for _ in range(4)]
        stale = body(await cache.page("/", render))  # a page load: the previous page will do
        await asyncio.sleep(0)
        render.gate.set()
        shown = [stale, body(await leader), *[body(await f) for f in late]]
        marker.version = 4  # a commit after page 3 began, but seen before it: page 3 will do
        shown.append(body(await cache.page("/", render, since=seen)))
        return shown

    assert asyncio.run(scenario()) == ["page 1", "page 2", *["page 3"] * 4, "page 3"]
    assert render.count == 3  # the four live parts shared one rendering


def test_while_commits_keep_coming_nobody_waits_for_a_rendering() -> None:
    """An alert storm: a page load gets the page as it was, rendered again in the background
    (once at a time), instead of waiting for a rendering after every commit."""
    marker, clock, render = Marker(), Clock(), Renderer()
    cache = PageCache(marker, clock=clock)

    async def scenario() -> list[str]:
        shown = []
        for version in range(1, 6):  # a commit every 0.2 s
            marker.version = version
            clock.now += 0.2
            render.gate = asyncio.Event()
            waiting = asyncio.create_task(cache.page("/", render))
            await asyncio.sleep(0)
            if not waiting.done():  # it waits for a rendering: let that one finish
                render.gate.set()
            shown.append(body(await waiting))
            render.gate.set()
            await settle(cache)
        return shown

    shown = asyncio.run(scenario())
    assert shown[:2] == ["page 1", "page 2"]  # each waited: not busy yet
    assert shown[2:] == ["page 2", "page 3", "page 4"]  # busy: the previous page, at once
    assert cache.stale == 3 and render.count == 5
