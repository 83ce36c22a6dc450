"""Refine failure e-mails: ``Refine failures for job <job>``, one block per output table, each
failed partition on its own line, then the applicationId and the rerun command."""

from __future__ import annotations

import re
from typing import Any

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, ParseError, clean_text, digest, expect

KIND = "refine_failure"
SUBJECT = re.compile(r"Refine failures? (?:report )?for (?:job )?'?(?P<job>[\w.-]+)'?")
HEADER = re.compile(
    r"Refine failures for path (?P<input>\S+) -> database (?P<db>\S+)"
    r"(?: \((?P<output>[^)]*)\))?"
)
TABLE = re.compile(r"dataset partitions? for output table `(?P<db>[^`]+)`\.`(?P<table>[^`]+)`")
FAILURE = re.compile(
    r"Failed refinement of (?P<source>\S+) -> `(?P<db>[^`]+)`\.`(?P<table>[^`]+)`\s*"
    r"(?P<spec>.*?)\s+at\s+(?P<path>\S+?)\.?(?:\s+Original exception:\s*(?P<exc>.*))?$"
)
APP_ID = re.compile(r"applicationId:\s*(?P<id>application_\d+_\d+)")
SPEC_PAIR = re.compile(r'(\w+)="?([^",]*)"?')


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.subject) is not None and "Refine" in mail.subject


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(SUBJECT.search(mail.subject), "subject is not a Refine failure report")
    job = subject["job"]
    header = HEADER.search(mail.text)
    app_id = APP_ID.search(mail.text)
    rerun = rerun_command(mail.text)
    failures = _failures(mail.text)
    if not failures:
        raise ParseError("no failed partition found in the Refine failure e-mail")
    tables: dict[str, list[str]] = {}
    for failure in failures:
        tables.setdefault(failure["table"], []).append(failure["hour"] or failure["spec"])
    common: dict[str, Any] = {
        "job": job,
        "input_path": header["input"] if header else "",
        "output_database": header["db"] if header else "",
        "output_path": (header["output"] or "") if header else "",
        "tables": [{"table": t, "partitions": p} for t, p in tables.items()],
        "application_id": app_id["id"] if app_id else "",
        "rerun_command": rerun,
    }
    group = digest(KIND, job, mail.message_id or mail.text[:2000])
    alerts = []
    for failure in failures:
        details = {
            **common,
            **{
                k: failure[k]
                for k in (
                    "table",
                    "partition",
                    "hour",
                    "partition_path",
                    "source_path",
                    "exception",
                )
            },
        }
        when = failure["hour"] or failure["spec"]
        alerts.append(
            ParsedAlert(
                kind=KIND,
                source="refine",
                title=clean_text(f"{job}: {failure['table']} {when}"),
                fingerprint=digest(KIND, job, failure["table"], failure["spec"]),
                severity="error",
                details=details,
                group_key=group,
                occurred_at=mail.date,
            )
        )
    return alerts


def _failures(text: str) -> list[dict[str, Any]]:
    found = []
    lines = text.split("\n")
    for index, line in enumerate(lines):
        match = FAILURE.search(line)
        if match is None:
            continue
        exception = (match["exc"] or "").strip()
        for follow in lines[index + 1 :]:  # a stack trace may continue on the next lines
            if not follow.strip() or FAILURE.search(follow) or TABLE.search(follow):
                break
            exception += "\n" + follow.strip()
        partition = {k: v for k, v in SPEC_PAIR.findall(match["spec"])}
        found.append(
            {
                "table": f"{match['db']}.{match['table']}",
                "spec": match["spec"].strip(),
                "partition": partition,
                "hour": _hour(partition),
                "partition_path": match["path"],
                "source_path": match["source"],
                "exception": exception[:4000],
            }
        )
    return found


def _hour(partition: dict[str, str]) -> str:
    try:
        parts = [int(partition[k]) for k in ("year", "month", "day")]
    except (KeyError, ValueError):
        return ""
    text = f"{parts[0]:04d}-{parts[1]:02d}-{parts[2]:02d}"
    if partition.get("hour", "").isdigit():
        text += f"T{int(partition['hour']):02d}"
    return text


def rerun_command(text: str) -> str:
    """The rerun command of a Refine e-mail as one line (backslash continuations joined)."""
    _, found, rest = text.partition("To rerun, use the following options:")
    if not found:
        return ""
    lines: list[str] = []
    for line in rest.split("\n"):
        if not line.strip():
            if lines:
                break
            continue
        lines.append(line.strip().removesuffix("\\").strip())
    return " ".join(" ".join(lines).split())
