"""``GET /events``: what changed in the store, as it is committed (server-sent events), for
the open pages to fetch again the parts that show it (opsweek.web.live).

Each stream holds a connection (a file descriptor) for as long as its page is open, so they
are capped per client address and in total (`web.max_streams_per_client`, `web.max_streams`):
beyond, the stream is answered 503 and the page polls, while every other request is still
served. A stream ends as soon as what let it read no longer does (a logout, a revoked token)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse

from opsweek.web.live import LiveChanges
from opsweek.web.problems import problem
from opsweek.web.session_auth import client_address, read_access, reader_still_allowed

router = APIRouter(tags=["pages"], dependencies=[Depends(read_access)])
PING_SECONDS = 15  # a comment line now and then, so proxies keep the stream open
RETRY_SECONDS = 30


@router.get("/events", include_in_schema=False)
async def events(request: Request) -> Response:
    live: LiveChanges = request.app.state.live
    web = request.app.state.settings.web
    streams: Counter[str] = request.app.state.streams
    client = client_address(request)
    if sum(streams.values()) >= web.max_streams or streams[client] >= web.max_streams_per_client:
        response = problem(503, "too many open live-update streams; the page polls instead")
        response.headers["Retry-After"] = str(RETRY_SECONDS)
        return response
    live.start()
    allowed = reader_still_allowed(request)  # checked again before each event it sends
    streams[client] += 1

    async def counted() -> AsyncIterator[dict[str, str]]:
        try:
            async for event in live.events(allowed):
                yield event
        finally:
            streams[client] -= 1
            if streams[client] <= 0:
                del streams[client]

    return EventSourceResponse(
        counted(),
        ping=PING_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
