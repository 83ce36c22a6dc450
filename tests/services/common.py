"""Helpers shared by the service fixtures."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def missing_service(message: str) -> None:
    """Skip locally, but fail under CI: a skipped integration test checks nothing."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (required when CI=true; scripts/test installs it)")
    pytest.skip(message)


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes], why: Callable[[], str], timeout: float = 20
) -> None:
    """Poll ``url`` until it answers 2xx; raise with ``why()`` (a log tail) if ``process``
    exits or ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(why()) from None
            time.sleep(0.1)
