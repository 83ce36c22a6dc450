"""Reading the alert fixtures as the intake does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from opsweek.alerts.inputs import from_path
from opsweek.alerts.model import ParsedAlert, RawInput
from opsweek.alerts.parse import ParseOutcome, parse_raw

ALERT_FIXTURES = Path(__file__).parents[1] / "fixtures" / "alerts"
RECEIVED = datetime(2024, 1, 12, 20, 0, tzinfo=UTC)


def raw_inputs(name: str, received: datetime = RECEIVED) -> list[RawInput]:
    return list(from_path(ALERT_FIXTURES / name, "auto", received))


def outcome(name: str) -> ParseOutcome:
    (raw,) = raw_inputs(name)
    return parse_raw(raw)


def parsed(name: str) -> list[ParsedAlert]:
    result = outcome(name)
    assert result.error is None, result.error
    return result.alerts
