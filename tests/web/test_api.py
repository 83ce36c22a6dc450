"""The REST API: reading is open, every change needs a token and records its user."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from opsweek.alerts.changes import AlertChanges
from opsweek.db.session import Store
from tests.alerts.helpers import raw_inputs


def ingest(store: Store, name: str) -> None:
    with store.writing() as session:
        AlertChanges(store).ingest(raw_inputs(name), None, session)  # seen now


def test_every_mutating_route_rejects_anonymous_requests(
    client: TestClient, web_store: Store
) -> None:
    ingest(web_store, "airflow_task_failed.eml")
    paths = client.get("/openapi.json").json()["paths"]
    mutating = [
        (method.upper(), re.sub(r"\{\w+\}", "1", path))
        for path, operations in paths.items()
        for method in operations
        if method in ("post", "put", "patch", "delete") and path != "/login"
    ]
    assert len(mutating) >= 6
    for method, path in mutating:
        response = client.request(method, path, json={"note": "x", "text": "x", "message": "x"})
        assert response.status_code == 401, (method, path)
    assert client.get("/api/v1/alerts/1").json()["status"] == "firing"


def test_ack_note_resolve_through_the_api(client: TestClient, web_store: Store, token: str) -> None:
    ingest(web_store, "refine_failure.eml")
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/alerts", params={"kind": "refine_failure"}).json()["alerts"]
    assert len(listed) == 3
    (group,) = client.get("/api/v1/alerts", params={"group": "true"}).json()["groups"]
    assert (group["counts"]["firing"], len(group["alerts"])) == (3, 3)  # one e-mail
    assert group["alert_ids"] == [a["id"] for a in group["alerts"]]
    old = client.get("/api/v1/alerts", params={"since": "2d"}).json()["alerts"]
    assert old == []  # the fixture's mail is from 2024
    assert client.get("/api/v1/alerts", params={"since": "soon"}).status_code == 400
    assert client.post("/api/v1/alerts/1/ack", headers=auth).json()["acked_by"] == "alertbot"
    again = client.post("/api/v1/alerts/1/ack", headers=auth)
    assert again.status_code == 400 and "already acknowledged" in again.json()["detail"]
    assert (
        client.post("/api/v1/alerts/1/notes", json={"text": "rerunning"}, headers=auth).status_code
        == 200
    )
    assert client.post("/api/v1/alerts/1/resolve", json={}, headers=auth).status_code == 422
    done = client.post(
        "/api/v1/alerts/1/resolve", json={"note": "reran the hour"}, headers=auth
    ).json()
    assert (done["status"], done["resolution_note"]) == ("resolved", "reran the hour")
    shown = client.get("/api/v1/alerts/1").json()
    assert [h["action"] for h in shown["history"]] == ["created", "acked", "note", "resolved"]
    assert shown["runbook"] and shown["related_sal"][0]["nick"] == "alertbot"
    assert client.get("/api/v1/alerts/99").status_code == 404


def test_who_and_rotation_are_readable(client: TestClient) -> None:
    assert client.get("/api/v1/who").json() == {
        "person": None,
        "start": None,
        "end": None,
        "next": None,
        "next_start": None,
    }
    assert client.get("/api/v1/rotation").json() == {"weeks": [], "conflicts": []}
