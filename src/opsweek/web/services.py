"""Services built for a request by the app's composition root (`opsweek.app.App`)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from opsweek.alerts.service import Inbox
from opsweek.duties.service import Duties
from opsweek.handoff.service import HandoffService
from opsweek.rotation.service import Rotation
from opsweek.sal.log import SalLog


def rotation_for(request: Request, session: Session, actor: str = "web") -> Rotation:
    return request.app.state.opsweek.rotation(session, actor)  # type: ignore[no-any-return]


def duties_for(request: Request, session: Session, actor: str = "web") -> Duties:
    return request.app.state.opsweek.duties(session, actor)  # type: ignore[no-any-return]


def handoff_for(request: Request, session: Session) -> HandoffService:
    """The handoff from what the store knows; pages never wait on the tracker or chat (the
    CLI's `opsweek handoff` and `today` read those)."""
    ops = request.app.state.opsweek
    return ops.handoff(session, "web", outside=False)  # type: ignore[no-any-return]


def inbox_for(request: Request, session: Session) -> Inbox:
    return request.app.state.opsweek.inbox(session)  # type: ignore[no-any-return]


def sal_for(request: Request, session: Session) -> SalLog:
    return request.app.state.opsweek.sal(session)  # type: ignore[no-any-return]
