"""The HTTP intake (the Alertmanager webhook, raw RFC 822 e-mails) as a plain ASGI app in front
of FastAPI.

A webhook does one thing: check the bearer token, read the body (413 past
``intake.max_body_bytes``), hand it to the app's single intake writer and answer with the
counts. FastAPI's routing, dependency solving and session middleware would cost as much
Python per request as parsing and storing the alerts; here it costs little. Every other
request passes through to FastAPI untouched, and the two endpoints are still described in the
OpenAPI document (`document`), so the docs and the API tests see them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Receive, Scope, Send

from opsweek.alerts.formats import ALERTMANAGER, EMAIL
from opsweek.alerts.model import RawInput
from opsweek.alerts.writer import IntakeUnavailable, Submitter
from opsweek.db.session import Store
from opsweek.timeutil import utcnow
from opsweek.web.auth import TokenCache, bearer_token
from opsweek.web.metrics import Metrics
from opsweek.web.problems import MEDIA_TYPE, problem_body

PATHS = {"/api/v1/intake/alertmanager": ALERTMANAGER, "/api/v1/intake/email": EMAIL}


class Refused(Exception):
    """An intake request answered with an error (a JSON problem) instead of being stored."""

    def __init__(self, status: int, title: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.headers = headers or {}


class IntakeEndpoints:
    def __init__(
        self,
        app: ASGIApp,
        store: Store,
        writer: Submitter,
        tokens: TokenCache,
        metrics: Metrics,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.store = store
        self.writer = writer
        self.tokens = tokens
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fmt = PATHS.get(scope["path"]) if scope["type"] == "http" else None
        if fmt is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        extra: dict[str, str] = {}
        try:
            caller = self._caller(headers.get("authorization", ""))
            body = await self._body(headers.get("content-length", ""), receive)
            status, answer, media = 200, await self._ingest(fmt, body, caller), "application/json"
        except Refused as refused:
            status, media, extra = refused.status, MEDIA_TYPE, refused.headers
            answer = problem_body(status, refused.title, refused.title)
        body = orjson.dumps(answer)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", media.encode()),
                    (b"content-length", str(len(body)).encode()),
                    *((k.encode(), v.encode()) for k, v in extra.items()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        self.metrics.latency.labels(scope["path"], "POST").observe(time.perf_counter() - began)

    def _caller(self, authorization: str) -> str:
        token = bearer_token(authorization)
        user = self.tokens.user_for(self.store, token) if token else None
        if user is None:
            raise Refused(401, "a valid API token is required", {"WWW-Authenticate": "Bearer"})
        return user

    async def _body(self, declared: str, receive: Receive) -> bytes:
        limit = self.max_body_bytes
        too_large = Refused(413, f"body larger than {limit} bytes")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refused(400, "the client went away before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _ingest(self, fmt: str, body: bytes, caller: str) -> dict[str, Any]:
        raw = RawInput(body, fmt, utcnow(), f"http:{caller}")
        try:
            counts = await self.writer.accept(raw)
        except (SQLAlchemyError, IntakeUnavailable):
            raise Refused(503, "the store is unavailable; retry later") from None
        self.metrics.intake(fmt, counts)
        return counts.as_json()


def _operation(summary: str, description: str, content: dict[str, Any]) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": {"type": "object"}}}
    return {
        "post": {
            "tags": ["intake"],
            "summary": summary,
            "description": description,
            "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": content},
            "responses": {
                "200": {
                    "description": "Stored: how many alerts were received, new, updated, "
                    "unparsed and resolved",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "401": {"description": "No valid API token", "content": problem},
                "413": {
                    "description": "Body larger than intake.max_body_bytes",
                    "content": problem,
                },
                "503": {"description": "The store is unavailable; retry", "content": problem},
            },
        }
    }


OPENAPI_PATHS = {
    "/api/v1/intake/alertmanager": _operation(
        "Alertmanager webhook (version 4)",
        "Point an Alertmanager webhook receiver here (with a bearer token). Every body is "
        "kept; one that is not a version 4 payload becomes an unparsed alert.",
        {"application/json": {"schema": {"type": "object"}}},
    ),
    "/api/v1/intake/email": _operation(
        "One raw RFC 822 e-mail",
        "POST the raw message (for instance from a mail filter or procmail); the content "
        "type is not checked (message/rfc822 is the usual one).",
        {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    ),
}


def document(app: FastAPI) -> None:
    """Add the intake endpoints (served by `IntakeEndpoints`) to the app's OpenAPI document."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema["paths"] = OPENAPI_PATHS | schema.get("paths", {})
            components = schema.setdefault("components", {})
            components.setdefault("securitySchemes", {})["bearer"] = {
                "type": "http",
                "scheme": "bearer",
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
