"""RefineMonitor e-mails: ``RefineMonitor problem report for job <job>``, listing
``Targets with failures:`` and ``Targets needing refinement*:``, one partition per line
(``<input path> -> `db`.`table` <output path>``). Both lists are kept, and the targets are
grouped by table with their hours, so each table gets one backfill."""

from __future__ import annotations

import re
from typing import Any

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, clean_text, digest, expect, unknown

KIND = "refine_monitor"
SUBJECT = re.compile(r"RefineMonitor\s+problem\s+report\s+for\s+(?:job\s+)?(?P<job>[\w.-]+)", re.I)
SECTIONS = {"failed_targets": "Targets with failures", "unrefined_targets": "Targets needing"}
TABLE = re.compile(r"`([^`]+)`\.`([^`]+)`")
PATH_HOUR = re.compile(r"year=(\d{4})/month=(\d{1,2})/day=(\d{1,2})(?:/hour=(\d{1,2}))?")
TARGETS_KEPT = 500


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(SUBJECT.search(mail.subject), "subject is not a RefineMonitor report")
    job = subject["job"]
    sections = _sections(mail.text)
    targets = _targets(sections)
    details: dict[str, Any] = {
        "job": job,
        **{name: lines[:TARGETS_KEPT] for name, lines in sections.items()},
        "tables": sorted(t["table"] for t in targets),
        "targets": targets,
    }
    if not targets:
        details["unknown"] = [
            unknown(
                "which targets failed or need refinement",
                f"the report in the e-mail, or {job}'s log on the launcher",
            )
        ]
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


def _targets(sections: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Targets by table: the hours of each, and whether some failed or only need refining."""
    tables: dict[str, dict[str, Any]] = {}
    for section, lines in sections.items():
        for line in lines:
            match = TABLE.search(line)
            if not match:
                continue
            table = f"{match[1]}.{match[2]}"
            entry = tables.setdefault(table, {"table": table, "hours": [], "failed": False})
            entry["failed"] = entry["failed"] or section == "failed_targets"
            hour = PATH_HOUR.search(line)
            if hour:
                text = f"{int(hour[1]):04d}-{int(hour[2]):02d}-{int(hour[3]):02d}"
                text += f"T{int(hour[4]):02d}" if hour[4] else ""
                if text not in entry["hours"]:
                    entry["hours"].append(text)
    for entry in tables.values():
        entry["hours"].sort()
    return sorted(tables.values(), key=lambda t: t["table"])
