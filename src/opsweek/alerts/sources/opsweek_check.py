"""Findings of opsweek's own checks (new wikis, the MediaWiki history snapshot, canary events,
partition drift), sent through the same intake as every other source."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from opsweek.alerts.model import FIRING, RESOLVED, SEVERITIES, ParsedAlert, ParseError, digest

SOURCE = "opsweek"


def finding(
    check: str,
    kind: str,
    title: str,
    key: str,
    details: dict[str, Any],
    severity: str = "warning",
    resolved: bool = False,
) -> bytes:
    """The raw input for one finding. ``key`` names what it is about (a table, a month), so
    the same situation found again is the same alert, and a clean run resolves it."""
    return json.dumps(
        {
            "check": check,
            "kind": kind,
            "title": title,
            "key": key,
            "severity": severity,
            "status": RESOLVED if resolved else FIRING,
            "details": details,
        },
        sort_keys=True,
    ).encode()


def parse(content: bytes, received_at: datetime) -> ParsedAlert:
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"check finding is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ParseError("check finding is not a JSON object")
    missing = [k for k in ("check", "kind", "title", "key") if not isinstance(data.get(k), str)]
    if missing:
        raise ParseError(f"check finding lacks {', '.join(missing)}")
    severity = data.get("severity", "warning")
    if severity not in SEVERITIES:
        raise ParseError(f"check finding has an unknown severity {severity!r}")
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
    return ParsedAlert(
        kind=data["kind"],
        source=SOURCE,
        title=data["title"][:500],
        fingerprint=digest(SOURCE, data["kind"], data["key"]),
        severity=severity,
        status=RESOLVED if data.get("status") == RESOLVED else FIRING,
        details={**details, "check": data["check"]},
        group_key=digest(SOURCE, data["check"]),
        occurred_at=received_at,
    )
