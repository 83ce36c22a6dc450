"""Parsers on hostile input: every input either parses or becomes an unparsed alert; none
raises, none is lost."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from opsweek.alerts.formats import ALERTMANAGER, EMAIL, LOG
from opsweek.alerts.model import UNPARSED, RawInput
from opsweek.alerts.parse import parse_raw
from tests.alerts.helpers import ALERT_FIXTURES

NOW = datetime(2024, 1, 12, 20, 0, tzinfo=UTC)
SAMPLES = [p.read_bytes() for p in sorted(ALERT_FIXTURES.iterdir())]


def check(raw: RawInput) -> None:
    result = parse_raw(raw)
    assert result.alerts or result.recoveries, "input lost"
    if result.error is not None:
        assert [a.kind for a in result.alerts] == [UNPARSED]
        assert result.alerts[0].details["reason"] == result.error
    for alert in result.alerts:
        assert alert.fingerprint and alert.kind
        assert all(ch.isprintable() for ch in alert.title)


@given(st.binary(max_size=3000), st.sampled_from([EMAIL, ALERTMANAGER, LOG]))
def test_random_bytes(data: bytes, fmt: str) -> None:
    check(RawInput(data, fmt, NOW))


@given(st.sampled_from(SAMPLES), st.data())
def test_mutated_fixtures(sample: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(sample)))
    junk = data.draw(st.binary(max_size=200))
    mutated = sample[:cut] + junk + sample[cut + data.draw(st.integers(0, 50)) :]
    for fmt in (EMAIL, ALERTMANAGER, LOG):
        check(RawInput(mutated, fmt, NOW))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.dictionaries(
        st.sampled_from(["version", "alerts", "groupKey", "status", "labels"]),
        json_values,
        max_size=5,
    ),
    st.lists(
        st.dictionaries(
            st.sampled_from(["labels", "annotations", "status", "fingerprint", "generatorURL"]),
            json_values,
            max_size=5,
        ),
        max_size=4,
    ),
)
def test_odd_webhooks(payload: dict, alerts: list) -> None:
    payload = {**payload, "version": "4", "alerts": alerts} if alerts else payload
    check(RawInput(json.dumps(payload).encode(), ALERTMANAGER, NOW))


@given(st.text(max_size=300))
def test_odd_subjects(subject: str) -> None:
    header = subject.replace("\r", " ").replace("\n", " ")
    mail = f"From: x@example.org\nSubject: {header}\n\nbody\n".encode("utf-8", "surrogatepass")
    check(RawInput(mail, EMAIL, NOW))
