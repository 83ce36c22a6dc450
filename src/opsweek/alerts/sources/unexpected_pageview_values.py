"""Pageview allowlist checks: ``Unexpected found in pageview hourly <check> <date>``.
The body may list the unexpected values (field, value, view count)."""

from __future__ import annotations

import re

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, clean_text, digest, expect

KIND = "unexpected_pageview_values"
SUBJECT = re.compile(
    r"Unexpected (?:values )?found in pageview[\w ]*?(?P<check>\w+_check)?\s+"
    r"(?P<date>\d{4}-\d\d-\d\d)",
    re.I,
)
VALUE = re.compile(
    r"^\s*(?P<field>project|agent_type|access_method)[\t ,|]+(?P<value>[^\t ,|]+)"
    r"(?:[\t ,|]+(?P<count>\d+))?\s*$",
    re.MULTILINE,
)


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(
        SUBJECT.search(mail.subject), "subject is not an unexpected pageview values report"
    )
    values = [
        {
            "field_name": m["field"],
            "value": m["value"],
            "view_count": int(m["count"]) if m["count"] else None,
        }
        for m in VALUE.finditer(mail.text)
    ]
    date = subject["date"]
    projects = [v["value"] for v in values if v["field_name"] == "project"]
    named = f": {', '.join(projects[:5])}" if projects else ""
    return [
        ParsedAlert(
            kind=KIND,
            source="airflow",
            title=clean_text(f"unexpected pageview values on {date}{named}"),
            fingerprint=digest(KIND, date),
            severity="warning",
            details={
                "date": date,
                "check": subject["check"] or "pageview_allowlist_check",
                "values": values,
                "projects": projects,
            },
            group_key=digest(KIND),
            occurred_at=mail.date,
        )
    ]
