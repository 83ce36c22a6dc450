"""Who is using the web pages: a login session (signed cookie) and a CSRF token per session.
A form that changes something needs both, and a same-site Origin when the browser sends one."""

from __future__ import annotations

import hmac
import math
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from fastapi import HTTPException, Request
from sqlalchemy import select

from opsweek.db.models import Person
from opsweek.web.auth import bearer


def secret_key(configured: str, data_dir: Path) -> str:
    """The configured key, or one generated once and kept (mode 0600) in the data directory."""
    if configured:
        return configured
    path = data_dir / "web-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def current_user(request: Request) -> str | None:
    """The logged-in user, or the user an SSO proxy in front names in the trusted header."""
    return session_user(request) or proxy_user(request)


_UNKNOWN: Any = object()  # not looked up yet in this request


def session_user(request: Request) -> str | None:
    """The user of the login session, while that session is valid: the person is still on the
    team and has not logged out (nor changed password) since. Looked up once per request."""
    cached = getattr(request.state, "session_user", _UNKNOWN)
    if cached is not _UNKNOWN:
        return cached
    user, version = request.session.get("user"), request.session.get("v")
    found = None
    if isinstance(user, str) and isinstance(version, int):
        with request.app.state.store.session() as session:
            current = session.scalar(
                select(Person.session_version).where(
                    Person.username == user, Person.active.is_(True)
                )
            )
        found = user if current == version else None
    if found is None and "user" in request.session:
        request.session.pop("user", None)  # a session that ended: forget it in the cookie
        request.session.pop("v", None)
    request.state.session_user = found
    return found


def start_session(request: Request, username: str) -> None:
    """Log ``username`` in: the session names their current session version, and gets a new
    CSRF token (one seen before the login is no use after it)."""
    with request.app.state.store.session() as session:
        version = session.scalar(select(Person.session_version).where(Person.username == username))
    request.session.clear()
    request.session.update(user=username, v=int(version or 0), csrf=secrets.token_urlsafe(32))
    request.state.session_user = username


def end_sessions(request: Request, username: str) -> None:
    """Log out: every session of ``username`` ends, this one and any cookie kept elsewhere."""
    with request.app.state.store.session() as session:
        person = session.scalar(select(Person).where(Person.username == username))
        if person is not None:
            person.session_version += 1
    request.session.clear()
    request.state.session_user = None


def proxy_user(request: Request) -> str | None:
    """The team member an SSO proxy names, looked up once per request."""
    header = request.app.state.settings.web.trusted_header
    if not header:
        return None
    cached = getattr(request.state, "proxy_user", _UNKNOWN)
    if cached is _UNKNOWN:
        cached = request.state.proxy_user = _lookup_proxy_user(request, header)
    return cached


def trusted_proxies(request: Request) -> set[str]:
    return set(request.app.state.settings.web.trusted_proxies)


def client_address(request: Request) -> str:
    """Who is asking: the connection's address, or, when that is a trusted proxy, the address
    the proxy says it forwards for (the last X-Forwarded-For entry, the one it added)."""
    peer = request.client.host if request.client else ""
    if peer in trusted_proxies(request):
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return peer


def _lookup_proxy_user(request: Request, header: str) -> str | None:
    name = request.headers.get(header, "").strip()
    peer = request.client.host if request.client else ""
    if not name or peer not in trusted_proxies(request):
        return None
    with request.app.state.store.session() as session:
        known = session.scalar(
            select(Person.username).where(Person.username == name, Person.active.is_(True))
        )
    return known


async def read_access(request: Request) -> None:
    """Dependency of every reading route: open unless web.public_read is false; then a login,
    the trusted header or an API token is needed (pages send people to the login form)."""
    if request.app.state.settings.web.public_read or request.url.path == "/login":
        return
    if current_user(request) is not None:
        return
    token = bearer(request)
    if token and request.app.state.tokens.user_for(request.app.state.store, token) is not None:
        return
    if request.url.path.startswith("/api/") or request.url.path == "/events":
        raise HTTPException(
            401, "log in or send an API token", headers={"WWW-Authenticate": "Bearer"}
        )
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    raise HTTPException(303, "log in to read", headers={"Location": f"/login?next={target}"})


def reader_still_allowed(request: Request) -> Callable[[], bool]:
    """For a response that goes on (the event stream): a check, to run before each thing it
    sends, that what let this request read still does: the same login session (not logged
    out, password unchanged, still on the team), the same API token (not revoked), the person
    the SSO proxy named (still on the team); always, when reading is public."""
    if request.app.state.settings.web.public_read:
        return lambda: True
    store, tokens = request.app.state.store, request.app.state.tokens
    user, version = request.session.get("user"), request.session.get("v")
    if session_user(request) is not None:

        def same_session() -> bool:
            with store.session() as session:
                current = session.scalar(
                    select(Person.session_version).where(
                        Person.username == user, Person.active.is_(True)
                    )
                )
            return current is not None and current == version

        return same_session
    named = proxy_user(request)
    if named is not None:

        def still_on_the_team() -> bool:
            with store.session() as session:
                return bool(
                    session.scalar(
                        select(Person.active).where(
                            Person.username == named, Person.active.is_(True)
                        )
                    )
                )

        return still_on_the_team
    token = bearer(request)
    return lambda: bool(token) and tokens.user_for(store, token) is not None


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


CHANGED_AT = "changed_at"  # in the session: when the user last changed something
FRESH_FOR = 60.0  # seconds after a change during which the user's pages must show it


def mark_changed(request: Request) -> None:
    """The user just changed something (a form was applied): their next pages show it."""
    request.session[CHANGED_AT] = time.time()


def changed_since(request: Request) -> float | None:
    """A wall-clock time the page asked for must have been rendered after (opsweek.web
    .page_cache), or None: when a live part asks (X-Opsweek-Since, from the event it fetches
    for), or the user changed something in the last minute. Never later than now."""
    now = time.time()
    header = request.headers.get("X-Opsweek-Since")
    try:
        since = float(header) if header else None
    except ValueError:
        since = None
    if since is None or not math.isfinite(since):
        since = None
    mine = request.session.get(CHANGED_AT) if "session" in request.scope else None
    if isinstance(mine, float) and now - mine < FRESH_FOR:
        since = max(since or 0.0, mine)
    return min(since, now) if since is not None else None
