"""The intake hub: web workers parse, the hub's writer stores, over a Unix socket."""

from __future__ import annotations

import asyncio
import pickle
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opsweek.alerts import writer_hub
from opsweek.alerts.formats import CHECK
from opsweek.alerts.intake import IngestCounts
from opsweek.alerts.model import RawInput
from opsweek.alerts.parse import ParseOutcome, parse_raw
from opsweek.alerts.wire import (
    HEADER,
    decode_request,
    encode_request,
    frame,
    loads,
    split_frames,
)
from opsweek.alerts.writer import IntakeUnavailable, IntakeWriter
from opsweek.alerts.writer_hub import IntakeHub, RemoteWriter, private_socket_path
from opsweek.db.models import Alert, RawInputRow
from opsweek.db.session import Store
from tests.alerts.helpers import raw_inputs


@pytest.fixture
def hub(store: Store) -> Iterator[IntakeHub]:
    writer = IntakeWriter(store)
    hub = IntakeHub(writer, private_socket_path())
    hub.start()
    yield hub
    hub.stop()
    writer.close()


def stored(store: Store) -> tuple[int, int]:
    with store.session() as session:
        alerts = session.scalar(select(func.count()).select_from(Alert)) or 0
        raws = session.scalar(select(func.count()).select_from(RawInputRow)) or 0
    return alerts, raws


def accept(*pairs: tuple[RemoteWriter, RawInput]) -> list[IngestCounts]:
    """Each worker's inputs handed over concurrently, on one event loop."""

    async def all_of() -> list[IngestCounts]:
        return list(await asyncio.gather(*(remote.accept(raw) for remote, raw in pairs)))

    return asyncio.run(all_of())


def test_workers_parse_and_the_hub_stores(hub: IntakeHub, store: Store) -> None:
    first, second = RemoteWriter(hub.path), RemoteWriter(hub.path)
    inputs = raw_inputs("alertmanager_firing.json") + raw_inputs("refine_failure_qp_crlf.eml")
    counts = accept(*((first, raw) for raw in inputs))
    counts += accept(*((second, raw) for raw in inputs))
    assert [c.received for c in counts] == [3, 3, 3, 0]
    assert [c.new for c in counts] == [3, 3, 0, 0]  # the second worker's inputs are repeats
    assert [c.duplicates for c in counts] == [0, 0, 0, 1]  # the same e-mail delivered again
    assert stored(store) == (6, 3)
    with store.session() as session:  # details arrive encoded, and are stored as parsed
        details = {a.fingerprint: a.details for a in session.scalars(select(Alert))}
    assert details == {
        alert.fingerprint: alert.details for raw in inputs for alert in parse_raw(raw).alerts
    }


def test_an_outcome_that_cannot_travel_is_parsed_again(
    hub: IntakeHub, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames carry plain values only; an outcome holding anything else (here a class the
    hub does not know) is left out, and the hub parses the raw input itself: nothing is
    lost."""
    (raw,) = raw_inputs("alertmanager_firing.json")
    foreign = ParseOutcome(parse_raw(raw).alerts, error=Unknown())  # type: ignore[arg-type]
    parses: list[RawInput] = []

    def worker_then_hub(raw: RawInput) -> ParseOutcome:  # the module's parse_raw, both sides
        parses.append(raw)
        return foreign if len(parses) == 1 else parse_raw(raw)

    monkeypatch.setattr(writer_hub, "parse_raw", worker_then_hub)
    (counts,) = accept((RemoteWriter(hub.path), raw))
    assert len(parses) == 2  # the worker's outcome was left out, the hub parsed again
    assert counts.new == 3
    assert stored(store) == (3, 1)


class Unknown:
    """A type outside the intake's values."""


def test_requests_carry_inputs_and_outcomes_unchanged() -> None:
    inputs = [
        *raw_inputs("alertmanager_firing.json"),
        *raw_inputs("refine_failure_qp_crlf.eml"),
        *raw_inputs("canary.log"),
    ]
    for number, raw in enumerate(inputs):
        outcome = parse_raw(raw)
        got_number, got_raw, got_outcome = decode_request(
            encode_request(number, raw, outcome)[HEADER.size :]
        )
        assert (got_number, got_raw) == (number, raw)
        assert got_outcome is not None
        assert got_outcome.recoveries == outcome.recoveries
        assert got_outcome.error == outcome.error
        assert got_outcome.alerts == outcome.alerts  # details too: plain values travel as they are
    assert any(parse_raw(raw).recoveries for raw in inputs)


def test_a_malformed_outcome_is_parsed_again_and_a_malformed_request_refused() -> None:
    (raw,) = raw_inputs("alertmanager_firing.json")
    raw_values = (raw.content, raw.format, raw.received_at.isoformat(), raw.origin)
    for outcome in [("no", "such", "shape", "here"), (None, [("kind", 1)], [])]:
        assert decode_request(frame((7, raw_values, outcome))[HEADER.size :]) == (7, raw, None)
    odd = ParseOutcome([replace(parse_raw(raw).alerts[0], occurred_at="yesterday")])  # type: ignore[arg-type]
    assert decode_request(encode_request(8, raw, odd)[HEADER.size :]) == (8, raw, None)
    for request in [(7, ("text", *raw_values[1:]), None), ("7", raw_values, None), (7,)]:
        with pytest.raises((TypeError, ValueError)):
            decode_request(frame(request)[HEADER.size :])


def test_frames_refuse_every_class() -> None:
    assert loads(pickle.dumps((1, b"x", "2026-01-01T00:00:00+00:00", [None], {"a": 1.5})))
    for value in [Unknown(), Path("/etc/passwd"), datetime(2026, 1, 1, tzinfo=UTC)]:
        with pytest.raises(pickle.UnpicklingError):
            loads(pickle.dumps(value))


def test_frames_split_at_any_boundary() -> None:
    values = [(n, "x" * n) for n in (0, 1, 300, 70_000)]
    stream = b"".join(frame(v) for v in values)
    for cut in (1, 3, 4, 5, 1000):
        buffer, got = bytearray(), []
        for start in range(0, len(stream), cut):
            buffer += stream[start : start + cut]
            got += [loads(f) for f in split_frames(buffer)]
        assert got == values and not buffer


def test_a_store_error_reaches_the_worker(hub: IntakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*_args: object) -> list[IngestCounts]:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(hub.writer.changes, "store_parsed", failing)
    (raw,) = raw_inputs("alertmanager_firing.json")
    with pytest.raises(IntakeUnavailable, match="database is locked"):
        accept((RemoteWriter(hub.path), raw))


def test_no_hub_fails_fast_and_a_new_hub_is_used(store: Store, now: datetime) -> None:
    path = private_socket_path()
    remote = RemoteWriter(path)
    raw = RawInput(b'{"check": "x"}', CHECK, now, "test")

    async def twice() -> IngestCounts:
        with pytest.raises(IntakeUnavailable, match="cannot reach"):
            await remote.accept(raw)
        writer = IntakeWriter(store)
        hub = IntakeHub(writer, path)
        hub.start()
        try:
            return await remote.accept(raw)
        finally:
            hub.stop()
            writer.close()

    assert asyncio.run(twice()).inputs == 1
    assert not path.exists()


def test_broken_or_vanished_workers_do_not_stop_the_hub(hub: IntakeHub, store: Store) -> None:
    (raw,) = raw_inputs("alertmanager_firing.json")
    gone = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # sends, then leaves at once
    gone.connect(str(hub.path))
    gone.sendall(encode_request(1, raw, parse_raw(raw)))
    gone.close()
    garbage = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # not intake values at all
    garbage.connect(str(hub.path))
    garbage.sendall(frame(Unknown()))
    assert garbage.recv(1) == b""  # the hub hung up on it
    garbage.close()
    (counts,) = accept((RemoteWriter(hub.path), raw))
    assert counts.received == 3
    assert stored(store) == (3, 2)  # the vanished worker's input was stored all the same
