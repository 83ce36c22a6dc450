"""Anomaly detection reports: ``Anomaly report <name> <date>``, lines ``<metric>,<deviation>``."""

from __future__ import annotations

import re

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, clean_text, digest, expect

KIND = "anomaly_report"
SUBJECT = re.compile(r"Anomaly\s+report\s+(?P<name>\S+)\s+(?P<date>\d{4}-\d\d-\d\d)", re.I)
METRIC = re.compile(
    r"^[ \t]*(?P<metric>[^,\s][^,\n]*?)[ \t]*,[ \t]*(?P<deviation>[-+]?\d+(?:\.\d+)?)[ \t]*$",
    re.MULTILINE,
)


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(SUBJECT.search(mail.subject), "subject is not an anomaly report")
    metrics = [
        {"metric": m["metric"], "deviation": float(m["deviation"])}
        for m in METRIC.finditer(mail.text)
    ]
    metrics.sort(key=lambda m: -abs(m["deviation"]))
    name, date = subject["name"], subject["date"]
    top = f": {metrics[0]['metric']} {metrics[0]['deviation']:+g}" if metrics else ""
    return [
        ParsedAlert(
            kind=KIND,
            source="airflow",
            title=clean_text(f"anomaly {name} {date} ({len(metrics)} metric(s)){top}"),
            fingerprint=digest(KIND, name, date),
            severity="warning",
            details={"report": name, "date": date, "metrics": metrics, "family": _family(name)},
            group_key=digest(KIND, name),
            occurred_at=mail.date,
        )
    ]


def _family(name: str) -> str:
    """Which of the runbook's three alarm families the report belongs to."""
    if "traffic" in name or "city" in name or "country" in name:
        return "outage_censorship"
    if "mobile" in name or "pageview" in name:
        return "mobile_pageviews"
    return "refine_useragent_entropy"
