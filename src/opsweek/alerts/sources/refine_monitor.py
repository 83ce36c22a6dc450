"""RefineMonitor e-mails: ``RefineMonitor problem report for job <job>``, listing
``Targets with failures:`` and ``Targets needing refinement*:``."""

from __future__ import annotations

import re

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, ParseError, clean_text, digest, expect

KIND = "refine_monitor"
SUBJECT = re.compile(r"RefineMonitor problem report for job (?P<job>[\w.-]+)")
SECTIONS = {"failed_targets": "Targets with failures", "unrefined_targets": "Targets needing"}


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(SUBJECT.search(mail.subject), "subject is not a RefineMonitor report")
    job = subject["job"]
    sections = _sections(mail.text)
    if not any(sections.values()):
        raise ParseError("no target listed in the RefineMonitor report")
    details = {"job": job, **sections, "tables": sorted(_tables(sections))}
    failed, unrefined = len(sections["failed_targets"]), len(sections["unrefined_targets"])
    return [
        ParsedAlert(
            kind=KIND,
            source="refine",
            title=clean_text(
                f"{job}: {failed} target(s) with failures, {unrefined} needing refinement"
            ),
            fingerprint=digest(KIND, job),
            severity="error" if failed else "warning",
            details=details,
            group_key=digest(KIND, job),
            occurred_at=mail.date,
        )
    ]


def _sections(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {key: [] for key in SECTIONS}
    current = None
    for line in text.split("\n"):
        stripped = line.strip()
        heading = next((k for k, v in SECTIONS.items() if stripped.startswith(v)), None)
        if heading:
            current = heading
            continue
        if not stripped or stripped.startswith("*"):
            if not stripped and current and found[current]:
                current = None
            continue
        if current and line[:1] in ("\t", " "):
            found[current].append(stripped)
    return found


def _tables(sections: dict[str, list[str]]) -> set[str]:
    tables = set()
    for line in (*sections["failed_targets"], *sections["unrefined_targets"]):
        match = re.search(r"`([^`]+)`\.`([^`]+)`", line)
        if match:
            tables.add(f"{match[1]}.{match[2]}")
    return tables
