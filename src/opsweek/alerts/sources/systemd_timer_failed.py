"""systemd timer e-mails from SYSTEMDTIMER: ``FAIL: <timer>`` (``PASS:`` resolves it).
Deletion scripts (refinery-drop-...) name the tables and paths out of the allowed interval;
sqoop timers say which of the three sqoop jobs failed and which snapshot it was making; the
canary producer's own timer is a canary failure (its steps, and its recovers-within-the-hour
rule)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import (
    FIRING,
    RESOLVED,
    ParsedAlert,
    clean_text,
    digest,
    expect,
)
from opsweek.alerts.sources import canary_failure

KIND = "systemd_timer_failed"
SUBJECT = re.compile(r"^(?P<state>FAIL(?:ED)?|PASS(?:ED)?)\s*:\s*(?P<title>.+)\Z", re.I)
COMMAND = re.compile(r"ran the following command:\s*\n\s*\n?(?P<command>.+?)\n\s*\n", re.DOTALL)
RETURN = re.compile(r"Its return value was (?P<rc>-?\d+)")
OUTPUT = re.compile(r"emitted the following output:\s*\n(?P<output>.*)\Z", re.DOTALL)
UNIT = re.compile(r"\b(?P<unit>[\w@.-]+\.(?:service|timer))\b")
DROP_TABLE = re.compile(
    r"Table (?P<table>\S+?) has partitions outside of the allowed drop interval"
)
DROP_PATH = re.compile(r"Path (?P<path>\S+?) has directories outside of the allowed drop interval")


def matches(mail: MailMessage) -> bool:
    return SUBJECT.match(mail.subject) is not None and (
        "SYSTEMDTIMER" in mail.sender.upper() or "Systemd timer ran" in mail.text
    )


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(SUBJECT.match(mail.subject), "subject is not a systemd timer report")
    title = subject["title"].strip()
    command = COMMAND.search(mail.text + "\n\n")
    rc = RETURN.search(mail.text)
    output = OUTPUT.search(mail.text)
    unit = _unit(title, command["command"] if command else "")
    output_text = output["output"].strip() if output else ""
    details = {
        "timer": title,
        "unit": unit,
        "host": mail.origin_host,
        "command": " ".join(command["command"].split()) if command else "",
        "return_value": int(rc["rc"]) if rc else None,
        "output": output_text[-8000:],
        "deletion_script": "refinery-drop" in f"{title} {unit} {command and command['command']}",
        "out_of_interval_tables": sorted(set(DROP_TABLE.findall(output_text))),
        "out_of_interval_paths": sorted(set(DROP_PATH.findall(output_text))),
    }
    failed = subject["state"].upper().startswith("FAIL")
    if unit.startswith("produce_canary_events"):
        return [_canary(mail, unit, details, failed)]
    if "sqoop" in unit:
        details.update(_sqoop(unit, mail))
    return [
        ParsedAlert(
            kind=KIND,
            source="systemd",
            title=clean_text(f"{'failed' if failed else 'passed'}: {unit or title}"),
            fingerprint=digest(KIND, unit or title),
            severity="error",
            status=FIRING if failed else RESOLVED,
            details=details,
            group_key=digest(KIND, unit or title),
            occurred_at=mail.date,
        )
    ]


# the runbook's three sqoop jobs, told apart by their unit's name, with where each writes its
# tables and their _SUCCESS flags ({month}: the snapshot's month)
SQOOP_JOBS = (
    (
        "private",
        "cu_changes (geoeditors), from the production replicas",
        "/wmf/data/raw/mediawiki_private/tables/cu_changes/month={month}/_SUCCESS",
    ),
    (
        "production",
        "production tables such as actor and comment, from the production replicas",
        "/wmf/data/raw/mediawiki_private/tables/*/snapshot={month}/_SUCCESS",
    ),
    (
        "",
        "the mediawiki-history tables, from the labs (cloud) replicas",
        "/wmf/data/raw/mediawiki/tables/*/snapshot={month}/_SUCCESS",
    ),
)


def _sqoop(unit: str, mail: MailMessage) -> dict[str, str]:
    """Which sqoop job failed, and the snapshot it was making: the month before the failure
    (sqoop runs early in a month for the month before)."""
    job, flags = next((label, flags) for key, label, flags in SQOOP_JOBS if key in unit)
    found = {"sqoop_job": job}
    if mail.date is not None:
        month = (mail.date.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        found["sqoop_snapshot"] = month
        found["sqoop_flags"] = flags.format(month=month)
    return found


def _canary(mail: MailMessage, unit: str, details: dict[str, Any], failed: bool) -> ParsedAlert:
    """The canary producer's timer: a canary failure, resolved by its PASS mail or by events
    produced again within the hour."""
    kind = canary_failure.KIND
    return ParsedAlert(
        kind=kind,
        source="systemd",
        title=clean_text(f"canary events job {'failed' if failed else 'passed'}: {unit}"),
        fingerprint=digest(kind, "timer", unit),
        severity="error",
        status=FIRING if failed else RESOLVED,
        details={
            **details,
            "log_file": "/var/log/refinery/produce_canary_events/produce_canary_events.log",
        },
        group_key=digest(kind, "timer", unit),
        occurred_at=mail.date,
    )


def _unit(title: str, command: str) -> str:
    match = UNIT.search(title)
    if match:
        return match["unit"]
    bare = re.fullmatch(r"(?:Timer\s+)?([\w@.-]+)", title.strip())
    if bare:
        return f"{bare.group(1)}.service"
    match = UNIT.search(command)
    return match["unit"] if match else ""
