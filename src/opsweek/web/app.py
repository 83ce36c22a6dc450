"""The FastAPI application factory."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from opsweek import __version__
from opsweek.alerts.triage import FlapRule
from opsweek.config import Settings
from opsweek.db.session import Store
from opsweek.web import problems
from opsweek.web.auth import TokenCache
from opsweek.web.metrics import Metrics
from opsweek.web.routes import intake


def create_app(settings: Settings, store: Store) -> FastAPI:
    app = FastAPI(
        title="opsweek",
        version=__version__,
        description="The ops-week assistant: alert intake, inbox, rotation, SAL.",
    )
    app.state.settings = settings
    app.state.store = store
    app.state.tokens = TokenCache()
    app.state.metrics = Metrics()
    app.state.flap = FlapRule(
        settings.get("alerts.flap_threshold"),
        timedelta(minutes=settings.get("alerts.flap_window_minutes")),
    )
    problems.install(app)
    app.include_router(intake.router)

    @app.middleware("http")
    async def timing(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        began = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        app.state.metrics.latency.labels(path, request.method).observe(time.perf_counter() - began)
        return response

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["meta"], include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
