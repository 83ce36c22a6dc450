"""``GET /events``: what changed in the store, as it is committed (server-sent events), for
the open pages to fetch again the parts that show it (opsweek.web.live)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse

from opsweek.web.live import LiveChanges
from opsweek.web.session_auth import read_access, reader_still_allowed

router = APIRouter(tags=["pages"], dependencies=[Depends(read_access)])
PING_SECONDS = 15  # a comment line now and then, so proxies keep the stream open


@router.get("/events", include_in_schema=False)
async def events(request: Request) -> EventSourceResponse:
    live: LiveChanges = request.app.state.live
    live.start()
    allowed = reader_still_allowed(request)  # checked again before each event it sends
    return EventSourceResponse(
        live.events(allowed),
        ping=PING_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
