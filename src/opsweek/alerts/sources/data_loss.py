"""Data loss e-mails (webrequest sequence statistics): ``Data Loss ERROR - ...`` or
``Data Loss Warning - ...`` with tab-separated figures per host and hour."""

from __future__ import annotations

import re

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, clean_text, digest, expect

KIND = "data_loss"
SUBJECT = re.compile(r"Data Loss (?P<level>ERROR|Warning|WARNING)\s*-\s*(?P<what>.+)$", re.I)
FIGURES = re.compile(
    r"(?P<bad>\d+)\s+bad-requests\s+(?P<bad_pct>[\d.]+)%\s+bad-requests to total\s+"
    r"(?P<lost>-?\d+)\s+lost requests\s+(?P<lost_pct>-?[\d.]+)%\s+lost request",
)
DATE = re.compile(r"(\d{4}-\d\d-\d\d(?:[T-]\d\d)?)")


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(SUBJECT.search(mail.subject), "subject is not a data loss report")
    what = subject["what"].strip()
    rows = [
        {
            "bad_requests": int(m["bad"]),
            "bad_requests_percent": float(m["bad_pct"]),
            "lost": int(m["lost"]),
            "lost_percent": float(m["lost_pct"]),
            "context": _context(mail.text, m.start()),
        }
        for m in FIGURES.finditer(mail.text)
    ]
    level = "error" if subject["level"].upper() == "ERROR" else "warning"
    date = DATE.search(what)
    workflow = DATE.sub("", what).strip(" -_") or what
    worst = max(rows, key=lambda r: r["lost_percent"]) if rows else None
    details = {
        "workflow": workflow,
        "subject_detail": what,
        "date": date.group(1) if date else "",
        "level": level,
        "rows": rows,
        "bad_requests": worst["bad_requests"] if worst else None,
        "bad_requests_percent": worst["bad_requests_percent"] if worst else None,
        "lost": worst["lost"] if worst else None,
        "lost_percent": worst["lost_percent"] if worst else None,
    }
    figure = f", {worst['lost_percent']}% lost" if worst else ""
    return [
        ParsedAlert(
            kind=KIND,
            source="airflow",
            title=clean_text(f"data loss {level}: {what}{figure}"),
            fingerprint=digest(KIND, what),
            severity=level,
            details=details,
            group_key=digest(KIND, workflow),
            occurred_at=mail.date,
        )
    ]


def _context(text: str, position: int) -> str:
    """The line before the figures, which usually names the host and hour."""
    before = text[:position].rstrip("\t ").split("\n")
    line = before[-1].strip() if before else ""
    if not line and len(before) > 1:
        line = before[-2].strip()
    return line[:200]
