"""produce_canary_events job log lines carrying EventGate's answer:
``HttpResult(failure) status: 207 message: Multi-Status. body: {...}``.
A later ``HttpResult(success)`` line is a recovery: failures followed by a success within the
hour resolve themselves (the runbook's canary rule)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from opsweek.alerts.model import ParsedAlert, ParseError, Recovery, clean_text, digest

KIND = "canary_failure"
RECOVERY_WINDOW = timedelta(hours=1)
SYSLOG = re.compile(
    r"^(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*)\s+"
    r"(?P<host>\S+)\s+(?P<program>[\w.-]+)(?:\[(?P<pid>\d+)\])?:\s*(?P<message>.*)$"
)
RESULT = re.compile(
    r"HttpResult\((?P<result>\w+)\)\s+status:\s*(?P<status>\d+)\s+"
    r"message:\s*(?P<message>.*?)\.?\s*(?:body:\s*(?P<body>.*))?$"
)


def recognises(line: str) -> bool:
    return "HttpResult(" in line


def parse_line(line: str, received_at: datetime) -> tuple[list[ParsedAlert], list[Recovery]]:
    prefix = SYSLOG.match(line.strip())
    message = prefix["message"] if prefix else line.strip()
    result = RESULT.search(message)
    if result is None:
        raise ParseError("log line has no HttpResult")
    at = _timestamp(prefix["ts"], received_at) if prefix else received_at
    status = int(result["status"])
    if result["result"] == "success" and status in (201, 202):
        return [], [Recovery(KIND, at, RECOVERY_WINDOW, f"canary events produced (HTTP {status})")]
    body = _body(result["body"])
    context = {
        "http_status": status,
        "http_message": result["message"],
        "host": prefix["host"] if prefix else "",
        "program": prefix["program"] if prefix else "",
        "logged_at": at.isoformat(),
        "log_file": "/var/log/refinery/produce_canary_events/produce_canary_events.log",
    }
    failed = [*body.get("invalid", []), *body.get("error", [])] if isinstance(body, dict) else []
    group = digest(KIND, line)
    if not failed:
        return [
            ParsedAlert(
                kind=KIND,
                source="canary",
                severity="error",
                group_key=group,
                occurred_at=at,
                title=clean_text(f"canary events failed: HTTP {status} {result['message']}"),
                fingerprint=digest(KIND, "http", status),
                details={**context, "events": []},
            )
        ], []
    alerts = []
    for entry in failed:
        event = _event_info(entry)
        signature = [(e["keyword"], e["data_path"], e["missing_property"]) for e in event["errors"]]
        what = event["errors"][0]["message"] if event["errors"] else event["error_message"]
        alerts.append(
            ParsedAlert(
                kind=KIND,
                source="canary",
                title=clean_text(f"canary {event['stream'] or '?'} {event['status']}: {what}"),
                fingerprint=digest(
                    KIND, event["stream"], event["schema"], signature, event["error_message"]
                ),
                severity="error",
                details={**context, **event},
                group_key=group,
                occurred_at=at,
            )
        )
    return alerts, []


def _body(text: str | None) -> Any:
    if not text or not text.strip():
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"EventGate body is not valid JSON: {exc}") from None


def _event_info(entry: Any) -> dict[str, Any]:
    entry = entry if isinstance(entry, dict) else {}
    event = entry.get("event") if isinstance(entry.get("event"), dict) else {}
    meta = event.get("meta") if isinstance(event.get("meta"), dict) else {}
    context = entry.get("context") if isinstance(entry.get("context"), dict) else {}
    errors = []
    for error in context.get("errors") or []:
        if not isinstance(error, dict):
            continue
        params = error.get("params") if isinstance(error.get("params"), dict) else {}
        errors.append(
            {
                "keyword": str(error.get("keyword", "")),
                "data_path": str(error.get("dataPath", error.get("instancePath", ""))),
                "schema_path": str(error.get("schemaPath", "")),
                "message": str(error.get("message", "")),
                "missing_property": str(params.get("missingProperty", "")),
            }
        )
    return {
        "status": str(entry.get("status", "")),
        "stream": str(meta.get("stream", "")),
        "schema": str(event.get("$schema", "")),
        "errors": errors,
        "errors_text": str(context.get("errorsText", "")),
        "error_message": "" if errors else str(context.get("message", "")),
        "missing_properties": [e["missing_property"] for e in errors if e["missing_property"]],
    }


def _timestamp(text: str, received_at: datetime) -> datetime:
    if text[:4].isdigit():
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    moment = datetime.strptime(f"{received_at.year} {text}", "%Y %b %d %H:%M:%S")
    moment = moment.replace(tzinfo=UTC)
    if moment - received_at > timedelta(days=2):  # syslog has no year: December in January
        moment = moment.replace(year=moment.year - 1)
    return moment
