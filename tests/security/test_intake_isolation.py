"""One input cannot fail another: a webhook nested hundreds of levels deep, or an input whose
parsed details cannot be stored, is kept (unparsed, with the reason) and every other input of
its batch is stored as usual."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import ALERTMANAGER
from opsweek.alerts.model import UNPARSED, ParsedAlert, RawInput
from opsweek.alerts.parse import ParseOutcome, parse_raw
from opsweek.db.models import Alert, RawInputRow
from opsweek.db.session import Store
from tests.alerts.helpers import ALERT_FIXTURES

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
GOOD = (ALERT_FIXTURES / "alertmanager_firing.json").read_bytes()


def deep(depth: int, where: str) -> bytes:
    nested = "[" * depth + "]" * depth
    payload = {
        "version": "4",
        "groupKey": "g",
        "alerts": [{"labels": {"alertname": f"Deep{depth}{where}"}, "fingerprint": where}],
    }
    text = json.dumps(payload)
    if where in ("receiver", "externalURL"):  # values of the whole webhook
        return text[:-1].encode() + f', "{where}": {nested}}}'.encode()
    return text.replace('"fingerprint"', f'"{where}": {nested}, "fingerprint"').encode()


def test_a_batch_member_that_cannot_be_stored_fails_alone(store: Store) -> None:
    changes = AlertChanges(store)
    good = [RawInput(GOOD, ALERTMANAGER, NOW) for _ in range(2)]
    poison_raw = RawInput(b'{"poison": true}', ALERTMANAGER, NOW)
    poison = ParseOutcome(
        [ParsedAlert("alertmanager", "alertmanager", "poison", "fp-poison", details={"x": {1, 2}})]
    )
    raws = [good[0], poison_raw, good[1]]
    results = changes.store_each(raws, [parse_raw(good[0]), poison, parse_raw(good[1])])
    assert not any(isinstance(r, Exception) for r in results)
    assert [r.unparsed for r in results] == [0, 1, 0]  # type: ignore[union-attr]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(RawInputRow)) == 3
        kept = session.scalar(select(Alert).where(Alert.kind == UNPARSED))
        assert kept is not None and "could not be stored as parsed" in kept.details["reason"]
        assert session.scalar(select(func.count()).select_from(Alert)) == 4  # 3 + the unparsed


def test_deep_webhooks_do_not_take_their_batch_down(client: TestClient, token: str) -> None:
    """Webhooks nested 255 to 2,000 levels deep, sent at once with ordinary ones: every one is
    answered 200 and stored; the ordinary ones as parsed alerts."""
    places = ("receiver", "externalURL", "startsAt", "endsAt", "annotations", "generatorURL")
    bodies = [GOOD] * 20 + [deep(d, w) for d in (255, 600, 1024, 2000) for w in places]
    auth = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=client.app)

    async def send_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await asyncio.gather(
                *(http.post("/api/v1/intake/alertmanager", content=b, headers=auth) for b in bodies)
            )

    answers = asyncio.run(send_all())
    assert [a.status_code for a in answers] == [200] * len(bodies)
    assert all(a.json()["received"] >= 1 for a in answers)
    assert all(a.json()["unparsed"] == 0 for a in answers[:20])


def test_a_lone_surrogate_in_one_alert_leaves_its_batch_mates_parsed(store: Store) -> None:
    """Issue 29: a label holding a lone surrogate escape ("\\ud800", which strict JSON readers
    refuse) made the whole webhook one unparsed input; its other alerts were lost to triage."""
    payload = json.loads(GOOD)
    names = [a["labels"]["alertname"] for a in payload["alerts"]]
    payload["alerts"][0]["labels"]["alertname"] += "SURROGATE"
    body = json.dumps(payload).replace("SURROGATE", "\\ud800").encode()
    outcome = parse_raw(RawInput(body, ALERTMANAGER, NOW, "test"))
    assert outcome.error is None
    titles = [a.title for a in outcome.alerts]
    assert len(titles) == len(names) and titles[0].startswith(names[0] + "\ufffd")
    AlertChanges(store).ingest([RawInput(body, ALERTMANAGER, NOW, "test")])
    with store.session() as session:
        kinds = set(session.scalars(select(Alert.kind)))
    assert UNPARSED not in kinds
