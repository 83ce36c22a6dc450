"""The SAL over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_post_needs_token_and_valid_body(client: TestClient, token: str) -> None:
    assert client.post("/api/v1/sal", json={"message": "x"}).status_code == 401
    bad = client.post(
        "/api/v1/sal", json={"message": ""}, headers={"Authorization": f"Bearer {token}"}
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    created = client.post(
        "/api/v1/sal",
        json={"message": "reran refine_event <script>"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["nick"], body["source"], body["message"]) == (
        "alertbot",
        "web",
        "reran refine_event <script>",
    )
    assert (
        client.get("/api/v1/sal", params={"q": "refine_event"}).json()["entries"][0]["id"]
        == body["id"]
    )
    assert client.get("/api/v1/sal").json()["entries"][0]["id"] == body["id"]
