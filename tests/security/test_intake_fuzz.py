"""Both intake endpoints under arbitrary bodies: every request is answered 200 and its input
ends stored, parsed or unparsed (inputs in = inputs stored; an e-mail sent again byte for byte
counts as a duplicate delivery, stored once)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from opsweek.db.models import RawInputRow
from opsweek.db.session import Store
from tests.alerts.helpers import ALERT_FIXTURES

SAMPLES = [p.read_bytes() for p in sorted(ALERT_FIXTURES.iterdir()) if p.is_file()]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=2000),
    st.sampled_from(SAMPLES),
    st.builds(
        lambda sample, cut, junk: sample[:cut] + junk,
        st.sampled_from(SAMPLES),
        st.integers(0, 3000),
        st.binary(max_size=100),
    ),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(
        lambda alerts: json.dumps({"version": "4", "alerts": alerts}).encode(),
        st.lists(json_values, max_size=3),
    ),
)


def stored(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(RawInputRow)) or 0


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, path=st.sampled_from(["alertmanager", "email"]))
def test_every_body_is_answered_and_stored(
    client: TestClient, web_store: Store, token: str, body: bytes, path: str
) -> None:
    before = stored(web_store)
    answer = client.post(
        f"/api/v1/intake/{path}", content=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    counts = answer.json()
    assert counts["inputs"] == 1
    assert stored(web_store) - before == 1 - counts["duplicates"]
    assert counts["received"] >= (0 if counts["duplicates"] else 1)  # parsed or unparsed
