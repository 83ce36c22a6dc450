"""Writes to a store that cannot be written answer 503 problem+json (retry later), for the
REST API as for the intake; nothing answers a bare 500."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import open_store
from opsweek.tokens import Tokens
from opsweek.web import create_app


def test_read_only_sqlite_answers_503(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    store = open_store(f"sqlite:///{path}")
    with store.session() as session:
        token = Tokens(session).create("bot", "t")[1]
    store.close()
    read_only = open_store(f"sqlite:///file:{path}?mode=ro&uri=true")
    client = TestClient(create_app(App(load_settings(env=dict(os.environ)), store=read_only)))
    auth = {"Authorization": f"Bearer {token}"}
    answer = client.post("/api/v1/sal", json={"message": "reran"}, headers=auth)
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "the store is unavailable; retry later"
    webhook = client.post("/api/v1/intake/alertmanager", content=b"{}", headers=auth)
    assert webhook.status_code == 503
    read_only.close()
