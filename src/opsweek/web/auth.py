"""Who is calling: API tokens (``Authorization: Bearer ow_...``) for scripts and webhooks."""

from __future__ import annotations

import time
from threading import Lock

from fastapi import HTTPException, Request

from opsweek.db.session import Store
from opsweek.tokens import Tokens

CACHE_SECONDS = 30.0


class TokenCache:
    """Token lookups cached briefly, so webhooks do not hit the database per request.
    A revoked token stops working within CACHE_SECONDS."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str | None, float]] = {}
        self._lock = Lock()

    def user_for(self, store: Store, token: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(token)
        if hit and hit[1] > now:
            return hit[0]
        with store.session() as session:
            user = Tokens(session).user_for(token)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[token] = (user, now + CACHE_SECONDS)
        return user


def bearer_token(authorization: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value, else ''."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def bearer(request: Request) -> str:
    return bearer_token(request.headers.get("authorization", ""))


async def require_token(request: Request) -> str:
    """FastAPI dependency: the username of a valid API token, else 401."""
    token = bearer(request)
    user = request.app.state.tokens.user_for(request.app.state.store, token) if token else None
    if user is None:
        raise HTTPException(
            401, "a valid API token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return user
