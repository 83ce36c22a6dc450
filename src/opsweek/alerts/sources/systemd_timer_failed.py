"""systemd timer e-mails from SYSTEMDTIMER: ``FAIL: <timer>`` (``PASS:`` resolves it).
Deletion scripts (refinery-drop-...) name the tables and paths out of the allowed interval."""

from __future__ import annotations

import re

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import (
    FIRING,
    RESOLVED,
    ParsedAlert,
    clean_text,
    digest,
    expect,
)

KIND = "systemd_timer_failed"
SUBJECT = re.compile(r"^(?P<state>FAIL|PASS):\s*(?P<title>.+)\Z")
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
    failed = subject["state"] == "FAIL"
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


def _unit(title: str, command: str) -> str:
    match = UNIT.search(title)
    if match:
        return match["unit"]
    bare = re.fullmatch(r"(?:Timer\s+)?([\w@.-]+)", title.strip())
    if bare:
        return f"{bare.group(1)}.service"
    match = UNIT.search(command)
    return match["unit"] if match else ""
