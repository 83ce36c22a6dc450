"""Findings of opsweek's own checks (new wikis, the MediaWiki history snapshot, canary events,
partition drift), sent through the same intake as every other source."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from opsweek.alerts.model import FIRING, RESOLVED, SEVERITIES, ParsedAlert, ParseError, digest

SOURCE = "opsweek"
# the kinds opsweek's own checks emit, and the check that emits each
CHECK_KINDS = {
    "new_wiki_candidates": "new-wikis",
    "mediawiki_history_available": "mw-history",
    "mediawiki_history_late": "mw-history",
    "mediawiki_history_checker_error": "mw-history",
    "canary_schema_problem": "canary",
    "partition_drift": "partitions",
    "dumps_job_failed": "dumps",
    "dumps_wiki_stalled": "dumps",
    "dumps_run_late": "dumps",
    "dumps_file_shrunk": "dumps",
}


def finding(
    check: str,
    kind: str,
    title: str,
    key: str,
    details: dict[str, Any],
    severity: str = "warning",
    resolved: bool = False,
    subject: Sequence[str] = (),
) -> bytes:
    """The raw input for one finding. ``key`` names what it is about (a table, a month), so
    the same situation found again is the same alert, and a clean run resolves it.
    ``subject``, when given, is what the alert is about in the terms another source uses for
    the same kind (a snapshot, a table): the finding and that source's alert are then one
    alert (same fingerprint)."""
    data = {
        "check": check,
        "kind": kind,
        "title": title,
        "key": key,
        "severity": severity,
        "status": RESOLVED if resolved else FIRING,
        "details": details,
    }
    if subject:
        data["subject"] = list(subject)
    return json.dumps(data, sort_keys=True).encode()


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
    subject = data.get("subject")
    if isinstance(subject, list) and subject and all(isinstance(s, str) for s in subject):
        fingerprint = digest(data["kind"], *subject)  # the form the other sources use
    else:
        fingerprint = digest(SOURCE, data["kind"], data["key"])
    return ParsedAlert(
        kind=data["kind"],
        source=SOURCE,
        title=data["title"][:500],
        fingerprint=fingerprint,
        severity=severity,
        status=RESOLVED if data.get("status") == RESOLVED else FIRING,
        details={**details, "check": data["check"]},
        group_key=digest(SOURCE, data["check"]),
        occurred_at=received_at,
    )
