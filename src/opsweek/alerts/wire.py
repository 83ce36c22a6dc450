"""How an input travels from a web worker to the intake hub (`opsweek.alerts.writer_hub`), and
its counts back: frames of a 4-byte length and a pickle of plain values only (tuples, lists,
dicts, text, bytes, numbers, None).

- The unpickler refuses every class, so no frame can make the hub run code. Datetimes travel
  as ISO text; an alert's details are plain JSON values already (`parse_raw` makes them so).
- A parse outcome that plain values cannot carry is left out; the hub parses the raw input
  again, so nothing is lost."""

from __future__ import annotations

import io
import pickle
import struct
from datetime import datetime, timedelta
from typing import Any

from opsweek.alerts.intake import IngestCounts
from opsweek.alerts.model import ParsedAlert, RawInput, Recovery
from opsweek.alerts.parse import ParseOutcome

HEADER = struct.Struct("!I")


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name}: intake frames carry plain values only")


def loads(data: bytes) -> Any:
    return _PlainUnpickler(io.BytesIO(data)).load()


def frame(value: Any) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def split_frames(buffer: bytearray) -> list[bytes]:
    """Take every complete frame off the front of ``buffer`` (without their headers)."""
    frames = []
    while len(buffer) >= HEADER.size:
        (size,) = HEADER.unpack_from(buffer)
        if len(buffer) < HEADER.size + size:
            break
        frames.append(bytes(buffer[HEADER.size : HEADER.size + size]))
        del buffer[: HEADER.size + size]
    return frames


def encode_request(number: int, raw: RawInput, outcome: ParseOutcome) -> bytes:
    try:
        parsed: tuple[Any, ...] | None = _outcome_values(outcome)
    except (TypeError, ValueError, AttributeError):
        parsed = None  # the hub parses the raw input again
    values = (raw.content, _text(raw.format), raw.received_at.isoformat(), _text(raw.origin))
    return frame((number, values, parsed))


def decode_request(data: bytes) -> tuple[int, RawInput, ParseOutcome | None]:
    """The request's number, raw input and parse outcome (None: parse it again). Raises
    ValueError, TypeError or `pickle.UnpicklingError` for a frame that is not a request."""
    number, (content, format_, received_at, origin), parsed = loads(data)
    if not isinstance(number, int) or not isinstance(content, bytes):
        raise TypeError("not an intake request")
    raw = RawInput(content, _text(format_), datetime.fromisoformat(received_at), _text(origin))
    try:
        outcome = None if parsed is None else _outcome(parsed)
    except (TypeError, ValueError):
        outcome = None
    return number, raw, outcome


def encode_answer(number: int, counts: IngestCounts | None, error: str | None) -> bytes:
    return frame((number, None if counts is None else counts.as_json(), error))


def decode_answer(data: bytes) -> tuple[int, IngestCounts | None, str | None]:
    number, counts, error = loads(data)
    return number, None if counts is None else IngestCounts(**counts), error


def _outcome_values(outcome: ParseOutcome) -> tuple[Any, ...]:
    alerts = [
        (
            _text(a.kind),
            _text(a.source),
            _text(a.title),
            _text(a.fingerprint),
            _text(a.severity),
            _text(a.status),
            a.details,
            _text(a.group_key),
            None if a.occurred_at is None else a.occurred_at.isoformat(),
            _text(a.note),
        )
        for a in outcome.alerts
    ]
    recoveries = [
        (_text(r.kind), r.at.isoformat(), _delta_values(r.within), _text(r.note))
        for r in outcome.recoveries
    ]
    return None if outcome.error is None else _text(outcome.error), alerts, recoveries


def _outcome(values: tuple[Any, ...]) -> ParseOutcome:
    error, alerts, recoveries = values
    return ParseOutcome(
        [_alert(*alert) for alert in alerts],
        [
            Recovery(_text(kind), datetime.fromisoformat(at), timedelta(*within), _text(note))
            for kind, at, within, note in recoveries
        ],
        None if error is None else _text(error),
    )


def _alert(
    kind: str,
    source: str,
    title: str,
    fingerprint: str,
    severity: str,
    status: str,
    details: Any,
    group_key: str,
    occurred_at: str | None,
    note: str,
) -> ParsedAlert:
    return ParsedAlert(
        _text(kind),
        _text(source),
        _text(title),
        _text(fingerprint),
        _text(severity),
        _text(status),
        _mapping(details),
        _text(group_key),
        None if occurred_at is None else datetime.fromisoformat(occurred_at),
        _text(note),
    )


def _delta_values(delta: timedelta) -> tuple[int, int, int]:
    return delta.days, delta.seconds, delta.microseconds


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected details as a dict, got {type(value).__name__}")
    return value


def _text(value: Any) -> str:
    """``value`` as plain text (a subclass of str would travel as a class, and be refused)."""
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return str(value)
