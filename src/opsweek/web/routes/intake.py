"""The intake over HTTP: the Alertmanager webhook and raw RFC 822 e-mails. A body is read up to
``intake.max_body_bytes`` (413 beyond), parsed and stored by the worker that received it, and
only then answered with its counts: an answered input is stored. A store that cannot be
written answers 503 and the sender retries (Alertmanager does)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from opsweek.alerts.formats import ALERTMANAGER, EMAIL
from opsweek.alerts.model import RawInput
from opsweek.timeutil import utcnow
from opsweek.web.auth import require_token

# the bearer scheme, for the OpenAPI document (require_token checks the token itself)
BEARER = HTTPBearer(auto_error=False, scheme_name="bearer")
router = APIRouter(prefix="/api/v1/intake", tags=["intake"], dependencies=[Depends(BEARER)])
Caller = Annotated[str, Depends(require_token)]

PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API token", "content": PROBLEM},
    413: {"description": "Body larger than intake.max_body_bytes", "content": PROBLEM},
    503: {"description": "The store is unavailable; retry", "content": PROBLEM},
}


def _body_of(media: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {media: {"schema": schema}}}}


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"body larger than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise HTTPException(400, "the client went away before sending the whole body") from None
    return b"".join(chunks)


async def _take(request: Request, fmt: str, caller: str) -> dict[str, Any]:
    state = request.app.state
    body = await _read(request, state.settings.intake.max_body_bytes)
    raw = RawInput(body, fmt, utcnow(), f"http:{caller}")
    try:
        counts = await run_in_threadpool(state.opsweek.alert_changes.take, raw)
    except SQLAlchemyError:
        raise HTTPException(
            503, "the store is unavailable; retry later", headers={"Retry-After": "30"}
        ) from None
    state.metrics.intake(fmt, counts)
    return counts.as_json()


@router.post(
    "/alertmanager",
    summary="Alertmanager webhook (version 4)",
    description="Point an Alertmanager webhook receiver here (with a bearer token). Every "
    "body is kept; one that is not a version 4 payload becomes an unparsed alert. Answered "
    "once stored: how many alerts were received, new, updated, unparsed and resolved.",
    responses=RESPONSES,
    openapi_extra=_body_of("application/json", {"type": "object"}),
)
async def alertmanager(request: Request, caller: Caller) -> dict[str, Any]:
    return await _take(request, ALERTMANAGER, caller)


@router.post(
    "/email",
    summary="One raw RFC 822 e-mail",
    description="POST the raw message (from a mail filter or procmail); the content type is "
    "not checked (message/rfc822 is the usual one). Answered once stored.",
    responses=RESPONSES,
    openapi_extra=_body_of("application/octet-stream", {"type": "string", "format": "binary"}),
)
async def email(request: Request, caller: Caller) -> dict[str, Any]:
    return await _take(request, EMAIL, caller)
