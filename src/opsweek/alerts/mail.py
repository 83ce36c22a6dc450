"""Reading alert e-mails: headers decoded, the text of the body found (plain, HTML or
quoted-printable), tolerant of broken MIME. Pure: bytes in, values out."""

from __future__ import annotations

import email
import email.header
import email.utils
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message

from opsweek.alerts.model import clean_text

LIST_TAG = re.compile(r"^\s*(\[[^\]]{1,60}\]\s*)+(?=\S)")
BREAKS = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h\d|/pre)\s*/?\s*>", re.IGNORECASE)
TAGS = re.compile(r"<[^>]*>")
HREFS = re.compile(
    r"""<a\s[^>]*href\s*=\s*["']([^"']*)["'][^>]*>(.*?)</a>""", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True)
class MailMessage:
    subject: str  # decoded, one line, list tags like "[Data-engineering-alerts]" removed
    raw_subject: str
    sender: str
    message_id: str
    date: datetime | None
    text: str  # the plain-text body, or the HTML body turned into text
    html: str  # the HTML body as sent ("" when there is none)
    defects: tuple[str, ...] = ()
    origin_host: str = ""  # the host the mail was first sent from (its earliest Received)


def decode_header(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and "=?" not in value:  # nothing encoded: the common case
        return " ".join(value.split())
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except (UnicodeError, LookupError, ValueError, email.errors.HeaderParseError):
        return str(value)


def html_to_text(markup: str) -> str:
    """Readable text from an alert's HTML: line breaks kept, links as 'text (url)'."""
    text = HREFS.sub(lambda m: f"{m.group(2)} ({m.group(1)})", markup)
    text = BREAKS.sub("\n", text)
    text = re.sub(r"<\s*(pre|code)\s*>", "\n", text, flags=re.IGNORECASE)
    text = html.unescape(TAGS.sub("", text))
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))


def _payload_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def read_mail(data: bytes) -> MailMessage:
    message = email.message_from_bytes(data)
    raw_subject = decode_header(message.get("Subject"))
    subject = LIST_TAG.sub("", clean_text(raw_subject, 1000))
    plain, markup = [], []
    for part in message.walk() if message.is_multipart() else [message]:
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        ctype = part.get_content_type()
        if ctype == "text/html":
            markup.append(_payload_text(part))
        elif ctype.startswith("text/") or not message.is_multipart():
            plain.append(_payload_text(part))
    html_body = "\n".join(markup)
    text = "\n".join(plain) if any(p.strip() for p in plain) else html_to_text(html_body)
    if not markup and re.search(r"<br\s*/?>|</(p|div|pre|a)>", text, re.IGNORECASE):
        html_body, text = text, html_to_text(text)  # HTML sent as text/plain
    return MailMessage(
        subject=subject,
        raw_subject=raw_subject,
        sender=decode_header(message.get("From")),
        message_id=str(message.get("Message-ID", "")).strip(),
        date=_date(message.get("Date")),
        text=text.replace("\r\n", "\n"),
        html=html_body,
        defects=tuple(type(d).__name__ for d in message.defects),
        origin_host=origin_host(message.get_all("Received") or []),
    )


RECEIVED_FROM = re.compile(r"^\s*from\s+(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9])\b")


def origin_host(received: list[object]) -> str:
    """The host named by the earliest ``Received: from <host>`` header (headers are added on
    top, so the last one is the first hop): where the job that sent the mail runs."""
    for header in reversed(received):
        match = RECEIVED_FROM.match(str(header))
        if match and "." in match["host"] and match["host"].lower() != "localhost":
            return match["host"].lower()
    return ""


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
