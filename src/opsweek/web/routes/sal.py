"""The SAL over HTTP: read and search it; log an entry (token required)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from opsweek.sal.log import MAX_MESSAGE, SalFilter, entry_json
from opsweek.web.auth import require_token
from opsweek.web.services import sal_for
from opsweek.web.session_auth import read_access

router = APIRouter(prefix="/api/v1/sal", tags=["sal"], dependencies=[Depends(read_access)])
Caller = Annotated[str, Depends(require_token)]


class NewEntry(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    nick: str | None = Field(
        default=None,
        max_length=64,
        description="Shown under this nick instead of the token's user: only for the users "
        "named in sal.relay_users (a relay bot logging for others).",
    )
    project: str | None = Field(
        default=None, max_length=64, description="One of sal.project and sal.projects."
    )
    corrects: int | None = Field(default=None, ge=1)


@router.post("", status_code=201, summary="Log an entry")
async def create(entry: NewEntry, request: Request, caller: Caller) -> dict[str, Any]:
    """The entry is recorded as the token's user (its ``actor``); the nick it is shown under
    is that user's, unless the token's user may relay for others."""
    settings = request.app.state.settings
    relays = set(settings.sal.relay_users)
    if entry.nick and entry.nick != caller and caller not in relays:
        raise HTTPException(403, f"{caller} may log only as {caller} (see sal.relay_users)")
    projects = {settings.sal.project, *settings.sal.projects}
    if entry.project and entry.project not in projects:
        raise HTTPException(400, f"unknown project {entry.project!r}: one of {sorted(projects)}")

    def write() -> dict[str, Any]:
        with request.app.state.store.session() as session:
            sal = sal_for(request, session)
            row = sal.append(
                entry.nick or caller,
                entry.message,
                source="web",
                project=entry.project or settings.sal.project,
                corrects=entry.corrects,
                actor=caller,
            )
            return entry_json(row, sal.refs([row.id])[row.id])

    return await run_in_threadpool(write)


@router.get("", summary="The newest entries, or a full-text search")
def read(
    request: Request,
    q: Annotated[str | None, Query(max_length=500)] = None,
    nick: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    with request.app.state.store.session() as session:
        sal = sal_for(request, session)
        entries = sal.search(q, limit) if q else sal.list(SalFilter(nick=nick, limit=limit))
        refs = sal.refs([e.id for e in entries])
        return {"entries": [entry_json(e, refs[e.id]) for e in entries]}
