"""The MediaWiki history denormalize checker's alarm: a mail like
``Data Loss ERROR - Airflow Analytics mediawiki_history_denormalize 2023-10-25`` when a new
snapshot fails its Checker step. It is not webrequest data loss: it has its own steps (assess
the snapshot's quality), and it is the same alert as opsweek's own checker-error finding for
that snapshot."""

from __future__ import annotations

import re

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, clean_text, digest, expect

KIND = "mediawiki_history_checker_error"
SUBJECT = re.compile(
    r"(?:Data Loss|Checker|Check)\b.*\bmediawiki_history(?:_reduced)?_(?:denormalize|check\w*)"
    r"(?:\s+(?P<date>\d{4}-\d{2}-\d{2}))?",
    re.I,
)
SNAPSHOT = re.compile(r"snapshot\s*[=:]?\s*(?P<snapshot>\d{4}-\d{2})\b", re.I)


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(SUBJECT.search(mail.subject), "subject is not a MediaWiki history check")
    snapshot = snapshot_of(mail.text, subject["date"] or "")
    lines = [line.strip() for line in mail.text.split("\n") if line.strip()]
    details = {
        "snapshot": snapshot,
        "date": subject["date"] or "",
        "errors": lines[:20],
        "check": "denormalize",
    }
    what = snapshot or subject["date"] or mail.subject
    return [
        ParsedAlert(
            kind=KIND,
            source="airflow",
            title=clean_text(f"MediaWiki history checker reported errors for {what}"),
            fingerprint=digest(KIND, snapshot) if snapshot else digest(KIND, mail.subject),
            severity="error",
            details=details,
            group_key=digest(KIND, snapshot or mail.subject),
            occurred_at=mail.date,
        )
    ]


def snapshot_of(text: str, date: str) -> str:
    """The snapshot the mail is about: named in the body, or the month of a monthly run's
    logical date (``YYYY-MM-01``) in the subject; "" when neither says."""
    named = SNAPSHOT.search(text)
    if named:
        return named["snapshot"]
    if re.fullmatch(r"\d{4}-\d{2}-01", date):
        return date[:7]
    return ""
