"""Who is using the web pages: a login session (signed cookie) and a CSRF token per session.
A form that changes something needs both, and a same-site Origin when the browser sends one."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import urlparse

from fastapi import HTTPException, Request

from opsweek.config import Settings


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept (mode 0600) in the data directory."""
    if settings.get("web.secret_key"):
        return str(settings.get("web.secret_key"))
    path = Path(settings.data_dir) / "web-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def current_user(request: Request) -> str | None:
    user = request.session.get("user")
    return user if isinstance(user, str) else None


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_form(request: Request, submitted: str | None, login_required: bool = True) -> str:
    """The logged-in user for a state-changing form, or 401/403."""
    user = current_user(request)
    if login_required and user is None:
        raise HTTPException(401, "log in first")
    origin = request.headers.get("origin")
    if origin and urlparse(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(403, "cross-site request refused")
    expected = request.session.get("csrf")
    if (
        not isinstance(expected, str)
        or not submitted
        or not hmac.compare_digest(expected, submitted)
    ):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page")
    return user or ""
