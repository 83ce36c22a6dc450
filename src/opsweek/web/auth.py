"""Who is calling: API tokens (``Authorization: Bearer ow_...``) for scripts and webhooks."""

from __future__ import annotations

import time
from threading import Lock

from fastapi import HTTPException, Request

from opsweek.db.session import Store
from opsweek.tokens import Tokens

CACHE_SECONDS = 300.0
EPOCH_SECONDS = 1.0


class TokenCache:
    """Token lookups cached, so webhooks do not hit the database per request. The cache is
    dropped as soon as a token may have stopped being valid (a revocation, a removal from the
    team, read through `Tokens.epoch` at most every EPOCH_SECONDS), so a revoked token or a
    removed member's token stops working within a second, in every process."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str | None, float]] = {}
        self._epoch: tuple[int, int, int] | None = None
        self._epoch_read = float("-inf")
        self._lock = Lock()

    def user_for(self, store: Store, token: str) -> str | None:
        now = time.monotonic()
        if now - self._epoch_read >= EPOCH_SECONDS:
            with store.session() as session:
                epoch = Tokens(session).epoch()
            with self._lock:
                if epoch != self._epoch:
                    self._entries.clear()
                    self._epoch = epoch
                self._epoch_read = now
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
