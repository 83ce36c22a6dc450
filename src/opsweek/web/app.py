"""The FastAPI application factory."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import js_lib_htmx
from fastapi import Depends, FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware.sessions import SessionMiddleware

from opsweek import __version__
from opsweek.app import App
from opsweek.db.commit_marker import change_marker
from opsweek.web import problems
from opsweek.web.auth import TokenCache
from opsweek.web.live import LiveChanges
from opsweek.web.login_guard import LoginGuard
from opsweek.web.metrics import LatencyMiddleware, Metrics
from opsweek.web.page_cache import PageCache
from opsweek.web.routes import api, forms, intake, live, pages, sal
from opsweek.web.session_auth import read_access, secret_key


def create_app(ops: App) -> FastAPI:
    """The web app of ``ops``."""
    settings, store = ops.settings, ops.store

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.live.stop()
        app.state.pages.marker.close()

    app = FastAPI(
        title="opsweek",
        version=__version__,
        lifespan=lifespan,
        description="The ops-week assistant: alert intake, inbox, rotation, SAL.",
        docs_url=None,  # served below, behind the same read access as the pages
        redoc_url=None,
        openapi_url=None,
    )
    app.state.opsweek = ops
    app.state.settings = settings
    app.state.store = store
    app.state.tokens = TokenCache()
    app.state.login_guard = LoginGuard(store)
    app.state.streams = Counter()  # open /events streams per client address
    app.state.metrics = Metrics(store)
    app.state.pages = PageCache(
        change_marker(store.engine), max_age=settings.web.page_cache_seconds
    )
    app.state.live = LiveChanges(
        store, app.state.pages.marker, lambda: on_duty(ops), saw=app.state.pages.saw
    )
    problems.install(app)
    app.include_router(intake.router)
    app.include_router(live.router)
    app.include_router(sal.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(forms.router)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings.web.secret_key, settings.data_dir),
        session_cookie="opsweek_session",
        same_site="lax",
        https_only=settings.web.base_url.startswith("https://"),
    )
    app.mount("/static/htmx", StaticFiles(directory=htmx_directory()), name="htmx")
    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static"
    )

    app.add_middleware(LatencyMiddleware, metrics=app.state.metrics)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    readers = [Depends(read_access)]  # open, or a login or token when web.public_read is off

    @app.get("/metrics", tags=["meta"], include_in_schema=False, dependencies=readers)
    def metrics() -> Response:
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/openapi.json", include_in_schema=False, dependencies=readers)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=readers)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="opsweek API")

    return app


def on_duty(ops: App) -> str | None:
    """Who is on duty now, for the pages' notifications of new alerts."""
    with ops.session() as session:
        current = ops.rotation(session, "web").who().current
        return current.username if current else None


def htmx_directory() -> str:
    """htmx, served from the package that ships it (no JavaScript build step)."""
    return str(Path(js_lib_htmx.__file__).with_name("static") / "htmx")
