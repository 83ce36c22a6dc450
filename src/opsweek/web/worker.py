"""The web app in a uvicorn worker process, when `opsweek serve` runs more than one
(``web.workers``): each worker reads the settings from the environment `opsweek serve` left
(``OPSWEEK_CONFIG`` names its config file) and opens the store itself."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import signal
import sys
import threading
import time

from fastapi import FastAPI

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.web.app import create_app

PR_SET_PDEATHSIG = 1
# How uvicorn serves the app. Forwarding headers (X-Forwarded-For, Forwarded) are not read:
# a client is the address its connection comes from, so no header can claim to come from a
# trusted proxy (web.trusted_proxies, which may name the web.trusted_header user).
UVICORN_OPTIONS = {
    "log_level": "warning",
    "proxy_headers": False,
    "server_header": False,
    "timeout_graceful_shutdown": 3,  # open pages' event streams never end by themselves
}


def create() -> FastAPI:
    die_with_parent()
    ops = App(load_settings())
    ops.store.checkpoint_in_background()  # a daemon thread: it ends with the worker
    app = create_app(ops)
    settle_for_serving()
    return app


def settle_for_serving() -> None:
    """Tune this process for serving, once the app is built.

    - What exists by now (modules, the app, settings) lives as long as the process: keep it out
      of the garbage collector's full passes, which otherwise stall every request in flight.
    - Pages are rendered in worker threads while the event loop answers from the page cache:
      hand the interpreter lock over ten times as often as Python's default, so a rendering
      does not make the loop wait a whole switch interval after each socket call (Python's
      convoy effect).
    """
    gc.freeze()
    sys.setswitchinterval(0.0005)


def die_with_parent() -> None:
    """End this worker when `opsweek serve` ends, however it ends (kill -9 included): a worker
    left behind would keep the port and answer 503 for ever. Linux sends SIGTERM on the
    parent's death (prctl PR_SET_PDEATHSIG); a watchdog thread covers the rest."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
