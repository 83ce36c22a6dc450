"""Triage: what an incoming parsed alert does to the alert with the same fingerprint.
Pure: the current state (a dict of columns, or None) and the parsed alert in, changes out.

    new fingerprint, firing         -> a new alert (status firing), history "created"
    firing again while open         -> count + 1 (deduplicated; no history row, unless another
                                       source reports it: "reported", so the history shows both;
                                       or the source says what is new: "repeated", its note)
    firing after it was resolved    -> re-fired: status firing, ack cleared, history "refired";
                                       flapping when it re-fires `threshold` times in `window`
    source says resolved, open      -> status resolved by the source, history "resolved"
    source says resolved, unknown   -> kept as a resolved alert, so nothing is lost
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opsweek.alerts.model import ACKNOWLEDGED, FIRING, RESOLVED, ParsedAlert, Recovery


@dataclass(frozen=True)
class FlapRule:
    threshold: int = 3
    window: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class Outcome:
    state: dict[str, Any]
    outcome: str  # new, repeated, refired, resolved, unchanged
    action: str | None = None  # history action, if any
    actor: str = ""
    note: str = ""


def apply(
    current: dict[str, Any] | None,
    parsed: ParsedAlert,
    at: datetime,
    raw_id: int | None,
    flap: FlapRule = FlapRule(),
) -> Outcome:
    seen = parsed.occurred_at or at
    source_actor = f"source:{parsed.source}"
    if current is None:
        resolved = parsed.status == RESOLVED
        state = {
            "fingerprint": parsed.fingerprint,
            "kind": parsed.kind,
            "source": parsed.source,
            "title": parsed.title,
            "severity": parsed.severity,
            "status": RESOLVED if resolved else FIRING,
            "group_key": parsed.group_key,
            "first_seen": seen,
            "last_seen": seen,
            "count": 1,
            "fire_count": 1,
            "flapping": False,
            "flap_history": [],
            "details": parsed.details,
            "raw_id": raw_id,
            "acked_by": None,
            "acked_at": None,
            "resolved_by": source_actor if resolved else None,
            "resolved_at": seen if resolved else None,
            "resolution_note": (parsed.note or "resolved by the source") if resolved else None,
            "updated_at": at,
        }
        note = "arrived already resolved" if resolved else parsed.note
        return Outcome(state, "new", "created", source_actor, note)

    state = dict(current)
    state.update(
        title=parsed.title,
        severity=parsed.severity,
        details=parsed.details,
        raw_id=raw_id if raw_id is not None else current["raw_id"],
        updated_at=at,
        last_seen=max(current["last_seen"], seen),
        first_seen=min(current["first_seen"], seen),
    )
    if parsed.status == RESOLVED:
        if current["status"] == RESOLVED:
            return Outcome(state, "unchanged")
        state.update(
            status=RESOLVED,
            resolved_by=source_actor,
            resolved_at=seen,
            resolution_note=parsed.note or current["resolution_note"] or "resolved by the source",
        )
        note = parsed.note or "the source says resolved"
        return Outcome(state, "resolved", "resolved", source_actor, note)

    state["count"] = current["count"] + 1
    state["source"] = parsed.source
    if current["status"] in (FIRING, ACKNOWLEDGED):
        if parsed.source != current["source"]:
            note = f"also reported by {parsed.source} (first by {current['source']})"
            return Outcome(state, "repeated", "reported", source_actor, note)
        if parsed.note:  # what is new, as its source says it ("try 2 of 2 failed")
            return Outcome(state, "repeated", "repeated", source_actor, parsed.note)
        return Outcome(state, "repeated")
    history = [
        t
        for t in current.get("flap_history") or []
        if datetime.fromisoformat(t) > seen - flap.window
    ]
    history.append(seen.isoformat())
    state.update(
        status=FIRING,
        fire_count=current["fire_count"] + 1,
        acked_by=None,
        acked_at=None,
        resolved_by=None,
        resolved_at=None,
        resolution_note=None,
        flap_history=history[-10:],
        flapping=len(history) >= flap.threshold,
    )
    note = "; ".join(filter(None, [parsed.note, "flapping" if state["flapping"] else ""]))
    return Outcome(state, "refired", "refired", source_actor, note)


def recovers(current: dict[str, Any], recovery: Recovery) -> bool:
    """Whether an open alert is resolved by ``recovery`` (last seen within its window)."""
    return (
        current["kind"] == recovery.kind
        and current["status"] != RESOLVED
        and recovery.at - recovery.within <= current["last_seen"] <= recovery.at
    )
