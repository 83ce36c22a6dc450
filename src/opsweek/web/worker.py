"""The web app in a uvicorn worker process, when `opsweek serve` runs more than one
(``web.workers``): each worker reads the settings from the environment `opsweek serve` left
(``OPSWEEK_CONFIG`` names its config file) and opens the store itself."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from fastapi import FastAPI

from opsweek.alerts.writer_hub import SOCKET_ENV, RemoteWriter
from opsweek.config import load_settings
from opsweek.db.session import open_store
from opsweek.web.app import create_app

# How uvicorn serves the app. Forwarding headers (X-Forwarded-For, Forwarded) are not read:
# a client is the address its connection comes from, so no header can claim to come from a
# trusted proxy (web.trusted_proxies, which may name the web.trusted_header user).
UVICORN_OPTIONS = {"log_level": "warning", "proxy_headers": False, "server_header": False}


def create() -> FastAPI:
    settings = load_settings()
    store = open_store(
        settings.database_url, synchronous=settings.get("database.sqlite_synchronous")
    )
    store.checkpoint_in_background()  # a daemon thread: it ends with the worker
    hub = os.environ.get(SOCKET_ENV)  # `opsweek serve` stores every worker's intake
    app = create_app(settings, store, RemoteWriter(Path(hub)) if hub else None)
    settle_for_serving()
    return app


def settle_for_serving() -> None:
    """Tune this process for serving, once the app is built.

    - What exists by now (modules, the app, settings) lives as long as the process: keep it out
      of the garbage collector's full passes, which otherwise stall every request in flight
      (measured with benchmarks/web.py: up to 200 ms per pass).
    - Pages are rendered in worker threads while the event loop answers from the page cache:
      hand the interpreter lock over every 0.5 ms instead of 5 ms, so a rendering does not make
      the loop wait 5 ms after each socket call (Python's convoy effect).
    """
    gc.freeze()
    sys.setswitchinterval(0.0005)
