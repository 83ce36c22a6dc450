"""POST /api/v1/sal records the token's user as who wrote, and shows another nick only for
tokens allowed to relay; an unknown project is refused."""

from __future__ import annotations

import os

from fastapi.testclient import TestClient

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store
from opsweek.tokens import Tokens
from opsweek.web import create_app


def test_a_token_logs_as_its_user_unless_it_may_relay(web_store: Store) -> None:
    with web_store.session() as session:
        mallory = Tokens(session).create("mallory", "laptop")[1]
        relay = Tokens(session).create("logmsgbot", "relay")[1]
    settings = load_settings(env={**os.environ, "OPSWEEK_SAL_RELAY_USERS": "logmsgbot"})
    client = TestClient(create_app(App(settings, store=web_store)))

    def post(token: str, **body: str) -> object:
        return client.post("/api/v1/sal", json=body, headers={"Authorization": f"Bearer {token}"})

    refused = post(mallory, message="dropped the prod db", nick="alice")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    mine = post(mallory, message="restarted hive").json()  # type: ignore[attr-defined]
    assert (mine["nick"], mine["actor"]) == ("mallory", "mallory")
    relayed = post(relay, message="reran refine", nick="alice").json()  # type: ignore[attr-defined]
    assert (relayed["nick"], relayed["actor"]) == ("alice", "logmsgbot")
    bad = post(mallory, message="x", project="evil")
    assert bad.status_code == 400  # type: ignore[attr-defined]
