"""Prometheus Alertmanager: webhook payloads (version 4) and its notification e-mails
(``[FIRING:1] <alertname> <label values>``). Known alert names get their own runbook steps."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import (
    FIRING,
    RESOLVED,
    ParsedAlert,
    ParseError,
    clean_text,
    digest,
    expect,
)

KIND = "alertmanager"
SUBJECT = re.compile(
    r"\[(?P<status>FIRING|RESOLVED)(?::(?P<count>\d+))?\]\s+(?P<name>\S+)\s*"
    r"(?P<rest>.*)$"
)
TOPICS = (  # (alertname pattern, runbook topic)
    (re.compile(r"HdfsCorruptBlocks", re.I), "hdfs_corrupt_blocks"),
    (re.compile(r"Systemd", re.I), "systemd_unit"),
    (re.compile(r"Eventgate.*Validation", re.I), "eventgate_validation"),
    (re.compile(r"Flink.*Operator|FlinkKubernetes", re.I), "flink_operator"),
    (re.compile(r"PageContentChange|Enrich|SLO", re.I), "enrichment_slo"),
    (
        re.compile(
            r"(Namenode|Datanode|HiveServer|HiveMetastore|Yarn|ResourceManager|Druid|Presto|"
            r"Jvm|Java).*",
            re.I,
        ),
        "java_daemon",
    ),
)
SEVERITY = {
    "critical": "critical",
    "page": "critical",
    "error": "error",
    "warning": "warning",
    "warn": "warning",
    "info": "info",
    "task": "warning",
}


@lru_cache(maxsize=1024)
def topic(alertname: str) -> str:
    return next((name for pattern, name in TOPICS if pattern.search(alertname)), "")


def parse_webhook(payload: Any) -> list[ParsedAlert]:
    if not isinstance(payload, dict):
        raise ParseError("webhook body is not a JSON object")
    version = payload.get("version")
    if version != "4":
        raise ParseError(f"unsupported Alertmanager webhook version {version!r} (expected '4')")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise ParseError("webhook has no alerts")
    group = digest(KIND, payload.get("groupKey", ""))
    return [_alert(entry, payload, group) for entry in alerts]


def _alert(entry: Any, payload: dict[str, Any], group: str) -> ParsedAlert:
    if not isinstance(entry, dict) or not isinstance(entry.get("labels"), dict):
        raise ParseError("an alert in the webhook has no labels")
    labels = {str(k): str(v) for k, v in entry["labels"].items()}
    annotations = {str(k): str(v) for k, v in (entry.get("annotations") or {}).items()}
    alertname = labels.get("alertname", "")
    alert_topic = topic(alertname)
    source_fingerprint = str(entry.get("fingerprint") or "")
    summary = annotations.get("summary") or annotations.get("description") or ""
    where = labels.get("name") or labels.get("instance") or labels.get("job", "")
    details = {
        "alertname": alertname,
        "topic": alert_topic,
        "labels": labels,
        "annotations": annotations,
        "generator_url": str(entry.get("generatorURL") or ""),
        "source_fingerprint": source_fingerprint,
        "starts_at": entry.get("startsAt"),
        "ends_at": entry.get("endsAt"),
        "receiver": payload.get("receiver"),
        "external_url": payload.get("externalURL"),
        "unit": labels.get("name", "") if alert_topic == "systemd_unit" else "",
        "instance": labels.get("instance", ""),
        "stream": labels.get("stream", ""),
    }
    title = " ".join(part for part in (alertname, where, summary and f"- {summary}") if part)
    return ParsedAlert(
        kind=KIND,
        source="alertmanager",
        title=clean_text(title or "alert without a name"),
        fingerprint=digest(KIND, source_fingerprint or sorted(labels.items())),
        severity=SEVERITY.get(labels.get("severity", "").lower(), "warning"),
        status=RESOLVED if entry.get("status") == "resolved" else FIRING,
        details=details,
        group_key=group,
    )


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.raw_subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(
        SUBJECT.search(mail.raw_subject), "subject is not an Alertmanager notification"
    )
    alertname, rest = subject["name"], subject["rest"].strip()
    label_values = rest.strip("()").replace("(", " ").replace(")", " ").split()
    details = {
        "alertname": alertname,
        "topic": topic(alertname),
        "label_values": label_values,
        "firing_count": int(subject["count"]) if subject["count"] else None,
        "labels": {},
        "annotations": {},
        "generator_url": _first_url(mail.text, "graph"),
        "source_fingerprint": "",
        "stream": next(
            (v for v in label_values if v.startswith(("eventlogging_", "mediawiki."))), ""
        ),
        "unit": next((v for v in label_values if v.endswith((".service", ".timer"))), ""),
        "instance": "",
    }
    return [
        ParsedAlert(
            kind=KIND,
            source="alertmanager",
            title=clean_text(f"{alertname} {rest}"),
            fingerprint=digest(KIND, alertname, *label_values),
            severity=next((SEVERITY[v] for v in label_values if v in SEVERITY), "warning"),
            status=RESOLVED if subject["status"] == "RESOLVED" else FIRING,
            details=details,
            group_key=digest(KIND, alertname, rest),
            occurred_at=mail.date,
        )
    ]


def _first_url(text: str, containing: str) -> str:
    match = re.search(rf"https?://\S*{containing}\S*", text)
    return match.group(0).rstrip(").,") if match else ""
