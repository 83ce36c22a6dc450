"""Errors as JSON problem details (RFC 9457)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from opsweek.errors import BadInput, Conflict, NotFound, OpsweekError, Unavailable

MEDIA_TYPE = "application/problem+json"


def problem_body(status: int, title: str, detail: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


def problem(status: int, title: str, detail: str = "", **extra: Any) -> JSONResponse:
    body = problem_body(status, title, detail, **extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def _status(exc: OpsweekError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, BadInput):
        return 400
    if isinstance(exc, Unavailable):
        return 503
    return 400


def install(app: FastAPI) -> None:
    @app.exception_handler(OpsweekError)
    async def opsweek_error(_request: Request, exc: OpsweekError) -> JSONResponse:
        status = _status(exc)
        return problem(status, type(exc).__name__, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        response = problem(exc.status_code, str(exc.detail), str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(OperationalError)
    async def store_unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        """The store cannot be written (read-only, full, gone): retry later, like the intake
        answers, rather than a bare 500."""
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        response = problem(503, "the store is unavailable; retry later", reason)
        response.headers["Retry-After"] = "30"
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", "")} for e in exc.errors()]
        return problem(422, "invalid request", "the request does not match the API", errors=errors)
