"""Data loss e-mails (webrequest sequence statistics): ``Data Loss ERROR - ...`` or
``Data Loss Warning - ...`` with the tab-separated figures of an hour of one webrequest source.
The partition (source, year, month, day, hour) is read from the subject or the body, so the
steps can query exactly that partition of ``wmf_raw.webrequest_sequence_stats_hourly``: the
source also from a DAG or job name (``webrequest_text_load`` is ``text``), the hour from
whichever names it. What neither names is marked unknown, and the steps say where to look."""

from __future__ import annotations

import re
from typing import Any

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, clean_text, digest, expect

KIND = "data_loss"
SUBJECT = re.compile(r"Data Loss (?P<level>ERROR|Warning|WARNING)\s*-\s*(?P<what>.+)$", re.I)
FIGURES = re.compile(
    r"(?P<bad>\d+)\s+bad-requests\s+(?P<bad_pct>[\d.]+)%\s+bad-requests to total\s+"
    r"(?P<lost>-?\d+)\s+lost requests\s+(?P<lost_pct>-?[\d.]+)%\s+lost request",
)
DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?:[T -](?P<hour>\d{1,2}))?")
SOURCE = re.compile(
    r"webrequest_source\s*=\s*'?(?P<a>[a-z_]+)"
    r"|(?:wf|webrequest)[-_ ](?:source[-_ ])?(?P<b>text|upload)(?![a-z])",
    re.I,
)


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
    ][:200]
    level = "error" if subject["level"].upper() == "ERROR" else "warning"
    date = _date(what, mail.text)
    workflow = DATE.sub("", what).strip(" -_") or what
    worst = max(rows, key=lambda r: r["lost_percent"]) if rows else None
    details: dict[str, Any] = {
        "workflow": workflow,
        "subject_detail": what,
        "date": date.group(0) if date else "",
        "webrequest_source": _source(what) or _source(mail.text),
        **_partition(date),
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


def _date(subject: str, body: str) -> re.Match[str] | None:
    """The partition's date: the first that names its hour, the subject's before the body's;
    else the first date at all."""
    found = [*DATE.finditer(subject), *DATE.finditer(body)]
    return next((m for m in found if m["hour"] is not None), found[0] if found else None)


def _source(text: str) -> str:
    match = SOURCE.search(text)
    return (match["a"] or match["b"] or "").lower() if match else ""


def _partition(date: re.Match[str] | None) -> dict[str, int | None]:
    if date is None:
        return {"year": None, "month": None, "day": None, "hour": None}
    return {
        "year": int(date["year"]),
        "month": int(date["month"]),
        "day": int(date["day"]),
        "hour": int(date["hour"]) if date["hour"] is not None else None,
    }


def _context(text: str, position: int) -> str:
    """The line before the figures, which usually names the host and hour."""
    before = text[:position].rstrip("\t ").split("\n")
    line = before[-1].strip() if before else ""
    if not line and len(before) > 1:
        line = before[-2].strip()
    return line[:200]
