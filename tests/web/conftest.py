"""The web app on a fresh SQLite store, with a token."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store, open_store
from opsweek.tokens import Tokens
from opsweek.web import create_app


@pytest.fixture
def web_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'web.db'}")
    yield store
    store.close()


@pytest.fixture
def token(web_store: Store) -> str:
    with web_store.session() as session:
        return Tokens(session).create("alertbot", "tests")[1]


@pytest.fixture
def client(web_store: Store) -> Iterator[TestClient]:
    settings = load_settings(env={**os.environ, "OPSWEEK_INTAKE_MAX_BODY_BYTES": str(1024 * 1024)})
    with TestClient(create_app(App(settings, store=web_store))) as test_client:
        yield test_client
