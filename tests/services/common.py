"""Helpers shared by the service fixtures."""

from __future__ import annotations

import os
import socket

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
