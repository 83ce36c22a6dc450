"""Triage decisions, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opsweek.alerts.model import FIRING, RESOLVED, ParsedAlert, Recovery
from opsweek.alerts.triage import FlapRule, apply, recovers

T0 = datetime(2024, 1, 12, 19, 0, tzinfo=UTC)


def alert(status: str = FIRING, at: datetime = T0) -> ParsedAlert:
    return ParsedAlert("canary_failure", "canary", "t", "fp1", status=status, occurred_at=at)


def test_new_then_repeated_counts_without_history() -> None:
    new = apply(None, alert(), T0, 1)
    assert (new.outcome, new.state["status"], new.action) == ("new", FIRING, "created")
    again = apply(new.state, alert(at=T0 + timedelta(minutes=5)), T0, 2)
    assert (again.outcome, again.action) == ("repeated", None)
    assert again.state["count"] == 2 and again.state["raw_id"] == 2
    assert again.state["last_seen"] == T0 + timedelta(minutes=5)
    assert again.state["first_seen"] == T0


def test_resolved_by_source_then_refired_clears_ack() -> None:
    state = apply(None, alert(), T0, 1).state | {"status": "acknowledged", "acked_by": "ann"}
    done = apply(state, alert(RESOLVED), T0, 2)
    assert (done.outcome, done.state["resolved_by"]) == ("resolved", "source:canary")
    again = apply(done.state, alert(at=T0 + timedelta(hours=2)), T0, 3)
    assert again.outcome == "refired"
    assert again.state["status"] == FIRING and again.state["acked_by"] is None
    assert again.state["fire_count"] == 2 and again.state["resolved_by"] is None


def test_flapping_after_three_refires_in_the_window() -> None:
    rule = FlapRule(3, timedelta(hours=1))
    state = apply(None, alert(), T0, 1).state
    flags = []
    for minute in (10, 20, 30):
        state = apply(state, alert(RESOLVED, T0 + timedelta(minutes=minute)), T0, 1).state
        result = apply(state, alert(at=T0 + timedelta(minutes=minute + 1)), T0, 1, rule)
        state = result.state
        flags.append(state["flapping"])
    assert flags == [False, False, True]
    later = apply(state, alert(RESOLVED, T0 + timedelta(hours=5)), T0, 1).state
    calm = apply(later, alert(at=T0 + timedelta(hours=5, minutes=1)), T0, 1, rule).state
    assert calm["flapping"] is False


def test_unknown_alert_arriving_resolved_is_kept() -> None:
    result = apply(None, alert(RESOLVED), T0, 1)
    assert result.state["status"] == RESOLVED and result.outcome == "new"


def test_canary_recovery_window() -> None:
    state = apply(None, alert(at=T0), T0, 1).state
    within = Recovery("canary_failure", T0 + timedelta(minutes=45), timedelta(hours=1), "ok")
    too_late = Recovery("canary_failure", T0 + timedelta(minutes=61), timedelta(hours=1), "ok")
    earlier = Recovery("canary_failure", T0 - timedelta(minutes=1), timedelta(hours=1), "ok")
    assert recovers(state, within)
    assert not recovers(state, too_late)
    assert not recovers(state, earlier)
