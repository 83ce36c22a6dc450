"""Alert intake over HTTP: the Alertmanager webhook and raw RFC 822 e-mails."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.exc import SQLAlchemyError

from opsweek.alerts.model import ALERTMANAGER, EMAIL, RawInput
from opsweek.timeutil import utcnow
from opsweek.web.auth import require_token

router = APIRouter(prefix="/api/v1/intake", tags=["intake"])
Caller = Annotated[str, Depends(require_token)]


async def read_body(request: Request) -> bytes:
    """The request body, or 413 when it is larger than intake.max_body_bytes."""
    limit = request.app.state.settings.get("intake.max_body_bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _ingest(request: Request, raw: RawInput) -> dict[str, Any]:
    """Hand the input to the app's single intake writer and wait until it is stored."""
    try:
        counts = await asyncio.wrap_future(request.app.state.writer.submit(raw))
    except SQLAlchemyError:
        raise HTTPException(503, "the store is unavailable; retry later") from None
    request.app.state.metrics.intake(raw.format, counts)
    return counts.as_json()


@router.post("/alertmanager", summary="Alertmanager webhook (version 4)")
async def alertmanager(request: Request, caller: Caller) -> dict[str, Any]:
    """Point an Alertmanager webhook receiver here (with a bearer token). Every body is
    kept; one that is not a version 4 payload becomes an unparsed alert."""
    body = await read_body(request)
    raw = RawInput(body, ALERTMANAGER, utcnow(), f"http:{caller}")
    return await _ingest(request, raw)


@router.post("/email", summary="One raw RFC 822 e-mail")
async def email(request: Request, caller: Caller) -> dict[str, Any]:
    """POST the raw message (for instance from a mail filter or procmail)."""
    body = await read_body(request)
    raw = RawInput(body, EMAIL, utcnow(), f"http:{caller}")
    return await _ingest(request, raw)
