"""Services built for a request from what the app prepared once at start."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from opsweek.rotation.service import Rotation


def rotation_for(request: Request, session: Session) -> Rotation:
    """The rotation service for a request; its config is parsed once, when the app starts."""
    return Rotation(session, request.app.state.rotation_config, "web")
