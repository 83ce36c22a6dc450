"""HTTP intake: token-protected, every body kept, oversize refused with 413."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from opsweek.db.models import Alert, RawInputRow
from opsweek.db.session import Store
from tests.alerts.helpers import ALERT_FIXTURES

WEBHOOK = "/api/v1/intake/alertmanager"
EMAIL = "/api/v1/intake/email"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def count(store: Store, model: type) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_webhook_needs_a_token(client: TestClient, web_store: Store, token: str) -> None:
    body = (ALERT_FIXTURES / "alertmanager_firing.json").read_bytes()
    for headers in ({}, auth("ow_wrong"), {"Authorization": token}):
        response = client.post(WEBHOOK, content=body, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 401
        assert response.headers["content-length"] == str(len(response.content))
    assert count(web_store, RawInputRow) == 0


def test_webhook_firing_then_resolved(client: TestClient, web_store: Store, token: str) -> None:
    firing = (ALERT_FIXTURES / "alertmanager_firing.json").read_bytes()
    response = client.post(WEBHOOK, content=firing, headers=auth(token))
    assert response.status_code == 200
    # a length, not chunks: simple clients (and keep-alive load generators) read it exactly
    assert response.headers["content-length"] == str(len(response.content))
    assert response.json() | {} == {
        "received": 3,
        "new": 3,
        "updated": 0,
        "unparsed": 0,
        "resolved": 0,
        "inputs": 1,
        "duplicates": 0,
        "replies": 0,
    }
    resolved = (ALERT_FIXTURES / "alertmanager_resolved.json").read_bytes()
    assert client.post(WEBHOOK, content=resolved, headers=auth(token)).json()["resolved"] == 2


def test_bad_bodies_are_kept_as_unparsed(client: TestClient, web_store: Store, token: str) -> None:
    bodies = [b"{not json", b'{"version": "3", "alerts": []}', b"", "\x00\x01 \u202e".encode()]
    for body in bodies:
        response = client.post(WEBHOOK, content=body, headers=auth(token))
        assert response.status_code == 200
        assert response.json()["unparsed"] == 1
    assert count(web_store, RawInputRow) == len(bodies)
    assert count(web_store, Alert) == len(bodies)


def test_oversize_body_is_413(client: TestClient, web_store: Store, token: str) -> None:
    big = b"x" * (1024 * 1024 + 1)
    response = client.post(EMAIL, content=big, headers=auth(token))
    assert response.status_code == 413
    assert response.json()["title"].startswith("body larger than")
    assert count(web_store, RawInputRow) == 0


def test_email_endpoint(client: TestClient, token: str) -> None:
    mail = (ALERT_FIXTURES / "refine_failure_qp_crlf.eml").read_bytes()
    response = client.post(
        EMAIL, content=mail, headers=auth(token) | {"Content-Type": "message/rfc822"}
    )
    assert response.status_code == 200 and response.json()["new"] == 3


def test_healthz_and_metrics(client: TestClient, token: str) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    client.post(
        WEBHOOK,
        content=(ALERT_FIXTURES / "alertmanager_firing.json").read_bytes(),
        headers=auth(token),
    )
    text = client.get("/metrics").text
    assert 'opsweek_intake_alerts_total{format="alertmanager",outcome="new"} 3.0' in text
    assert "opsweek_http_request_seconds_bucket" in text


def test_oversize_chunked_body_is_413_without_a_length(
    client: TestClient, web_store: Store, token: str
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"x" * (300 * 1024)

    response = client.post(WEBHOOK, content=chunks(), headers=auth(token))
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert count(web_store, RawInputRow) == 0


def test_store_failure_is_503_and_the_sender_retries(
    client: TestClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(_raw: object) -> object:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    changes = client.app.state.opsweek.alert_changes  # type: ignore[attr-defined]
    monkeypatch.setattr(changes, "take", failing)
    body = (ALERT_FIXTURES / "alertmanager_firing.json").read_bytes()
    response = client.post(WEBHOOK, content=body, headers=auth(token))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "retry" in response.json()["title"]


def test_intake_is_documented_and_other_methods_pass_through(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in (WEBHOOK, EMAIL):
        operation = schema["paths"][path]["post"]
        assert operation["security"] == [{"bearer": []}]
        assert {"200", "401", "413", "503"} <= set(operation["responses"])
        assert client.get(path).status_code in (404, 405)
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
