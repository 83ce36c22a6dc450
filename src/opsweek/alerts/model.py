"""Alert values shared by parsers, triage and the store. Pure: no I/O."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opsweek.alerts.formats import AIRFLOW, EMAIL

FIRING, ACKNOWLEDGED, RESOLVED = "firing", "acknowledged", "resolved"
STATUSES = (FIRING, ACKNOWLEDGED, RESOLVED)
SEVERITIES = ("critical", "error", "warning", "info")


UNPARSED = "unparsed"


@dataclass(frozen=True)
class RawInput:
    """One thing that arrived: an e-mail, a webhook body, a log line. Kept as received."""

    content: bytes
    format: str  # one of FORMATS except mbox/maildir, which are split into e-mails first
    received_at: datetime
    origin: str = ""  # file path, "smtp", "imap", "http", ...


@dataclass(frozen=True)
class ParsedAlert:
    kind: str
    source: str
    title: str
    fingerprint: str
    severity: str = "warning"
    status: str = FIRING  # what the source says: firing or resolved
    details: dict[str, Any] = field(default_factory=dict)  # plain JSON values
    group_key: str = ""
    occurred_at: datetime | None = None
    # how the source says it ended, when it says resolved ("succeeded on try 3"); else what
    # this report says is new, for the alert's history ("try 2 of 2 failed")
    note: str = ""


@dataclass(frozen=True)
class Recovery:
    """A source saying things are fine again: resolves open alerts of ``kind`` last seen
    within ``within`` before ``at`` (the runbook's canary rule)."""

    kind: str
    at: datetime
    within: timedelta
    note: str


@dataclass(frozen=True)
class Reply:
    """A reply to an alert's mail: a note on that alert with its author, never a new firing
    (opsweek.alerts.intake finds the alert: by the Message-IDs it answers, else by what the
    original it quotes parses to, else by its subject)."""

    author: str
    said: str  # what the author wrote
    handled: bool  # it says the alert is dealt with ("done", "fixed", "reran"): shown so
    subject: str  # the subject it answers, without Re:
    message_ids: tuple[str, ...] = ()
    fingerprints: tuple[str, ...] = ()


def unknown(field: str, look: str) -> dict[str, str]:
    """A field a parser recognised its kind by but could not read: kept in the alert's
    ``unknown`` details, and its steps say what to look up instead (``look``)."""
    return {"field": field, "look": look}


class ParseError(ValueError):
    """The input was recognised but could not be read; it is kept as an unparsed alert."""


def expect(match: re.Match[str] | None, reason: str) -> re.Match[str]:
    """``match``, or ParseError(reason) when there is none."""
    if match is None:
        raise ParseError(reason)
    return match


def digest(*parts: object) -> str:
    """A short stable fingerprint of ``parts``."""
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def clean_text(text: str, limit: int = 500) -> str:
    """One line without control characters, for titles built from hostile input."""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    cleaned = " ".join(text.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(<[^>\r\n]{1,250}>)", re.IGNORECASE | re.MULTILINE)


def content_key(raw: RawInput) -> str | None:
    """What makes an input the same delivery again: for an e-mail, its Message-ID and a hash
    of its bytes (a retry is byte for byte the same); for a task instance read from Airflow,
    its bytes (the same state of the same try, read by the next poll). None for other inputs,
    which are never merged."""
    if raw.format == AIRFLOW:
        return f"airflow#{hashlib.sha256(raw.content).hexdigest()[:40]}"
    if raw.format != EMAIL:
        return None
    head = raw.content[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = MESSAGE_ID.search(head)
    message_id = found.group(1).decode("ascii", "replace") if found else ""
    return f"{message_id[:150]}#{hashlib.sha256(raw.content).hexdigest()[:40]}"
