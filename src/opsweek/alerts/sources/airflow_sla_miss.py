"""Airflow SLA miss e-mails: ``[airflow] SLA miss on DAG=<dag_id>``."""

from __future__ import annotations

import re

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, clean_text, digest, expect, unknown

KIND = "airflow_sla_miss"
SUBJECT = re.compile(r"SLA\s+miss(?:ed)?\s+on\s+DAG\s*[=:]?\s*(?P<dag_id>[\w.-]+)", re.I)
# a task's line; a mail program's rendering may run the first onto the heading's line
TASK_LINE = re.compile(
    r"(?:^|:)[ \t]*(?P<task_id>[\w.-]+) on (?P<date>\d{4}-\d\d-\d\dT\S+)[ \t]*$", re.MULTILINE
)
WEB_URL = re.compile(r"Airflow Webserver URL:\s*(?P<url>\S+)")


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(SUBJECT.search(mail.subject), "subject is not an Airflow SLA miss")
    missed_part, _, blocking_part = mail.text.partition("Blocking tasks:")
    missed = _tasks(missed_part)
    web = WEB_URL.search(mail.text)
    dag_id = subject["dag_id"]
    details = {
        "dag_id": dag_id,
        "missed": missed,
        "blocking": _tasks(blocking_part.split("Airflow Webserver URL:")[0]),
        "base_url": web["url"].rstrip("/") if web else "",
    }
    if missed:
        first = missed[0]
        title = f"SLA miss on {dag_id}: {len(missed)} task(s) from {first['execution_date']}"
    else:
        title = f"SLA miss on {dag_id}: late tasks not listed"
        details["unknown"] = [
            unknown("which tasks missed their SLA", "the DAG's SLA misses in the Airflow UI")
        ]
    return [
        ParsedAlert(
            kind=KIND,
            source="airflow",
            title=clean_text(title),
            fingerprint=fingerprint(dag_id, missed) if missed else digest(KIND, dag_id, mail.date),
            severity="warning",
            details=details,
            group_key=digest(KIND, dag_id),
            occurred_at=mail.date,
        )
    ]


def fingerprint(dag_id: str, missed: list[dict[str, str]]) -> str:
    """One SLA miss: its DAG and its late tasks (the e-mail's, or the poll's with states)."""
    return digest(KIND, dag_id, *(f"{t['task_id']}@{t['execution_date']}" for t in missed))


def _tasks(text: str) -> list[dict[str, str]]:
    return [
        {"task_id": m["task_id"], "execution_date": m["date"]} for m in TASK_LINE.finditer(text)
    ]
