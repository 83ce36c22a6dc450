"""Services built for a request from what the app prepared once at start."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from opsweek.duties.handoff_service import HandoffService, Outside
from opsweek.duties.service import Duties
from opsweek.rotation.service import Rotation
from opsweek.timeutil import zone


def rotation_for(request: Request, session: Session, actor: str = "web") -> Rotation:
    """The rotation service for a request; its config is parsed once, when the app starts."""
    return Rotation(session, request.app.state.rotation_config, actor)


def duties_for(request: Request, session: Session, actor: str = "web") -> Duties:
    """The duties service for a request; the duty definitions are parsed once, at start."""
    settings = request.app.state.settings
    return Duties(session, request.app.state.duty_book, zone(settings.team_timezone), actor)


def handoff_for(request: Request, session: Session) -> HandoffService:
    """The handoff from what the store knows; pages never wait on the tracker or chat (the
    CLI's `opsweek handoff` and `today` read those)."""
    return HandoffService(session, request.app.state.settings, Outside(), actor="web")
