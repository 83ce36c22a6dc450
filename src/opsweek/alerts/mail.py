"""Reading alert e-mails: headers decoded, the text of the body found (plain, HTML or
quoted-printable), tolerant of broken MIME. A forwarded mail is read as its original (the one
attached, or quoted inline: opsweek.alerts.mail_shapes), with who forwarded it; a reply is
marked as one, with what its author wrote. Pure: bytes in, values out."""

from __future__ import annotations

import email
import email.header
import email.utils
import html
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import Message

from opsweek.alerts.mail_shapes import (
    Forwarded,
    inline_forward,
    message_ids,
    reply_parts,
    strip_subject,
)
from opsweek.alerts.model import clean_text

FORWARD_DEPTH = 3  # a forward of a forward of a forward is read; deeper ones as they are
BREAKS = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h\d|/pre)\s*/?\s*>", re.IGNORECASE)
TAGS = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--.*?-->", re.DOTALL)
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
    forwarded_by: str = ""  # who forwarded it, when it arrived forwarded (read: the original)
    reply: bool = False  # a reply to a mail: ``said`` is what its author wrote
    said: str = ""
    quoted: str = ""  # a reply's quoted original, quoting removed
    in_reply_to: tuple[str, ...] = ()  # Message-IDs it answers (In-Reply-To, References)


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
    return _read(email.message_from_bytes(data), FORWARD_DEPTH)


def _read(message: Message, depth: int) -> MailMessage:
    mail = _as_sent(message)
    shape = strip_subject(mail.subject)
    attached = _attached_original(message) if depth else None
    if attached is not None and not shape.reply:
        return replace(_read(attached, depth - 1), forwarded_by=mail.sender)
    if shape.forwarded and depth:
        inline = inline_forward(mail.text)
        if inline is not None:
            original = _from_quoted(inline, mail)
            return replace(original, forwarded_by=mail.sender)
        return replace(mail, subject=shape.text, forwarded_by=mail.sender)
    if shape.reply:
        parts = reply_parts(mail.text)
        ids = message_ids(str(message.get("References", "")), str(message.get("In-Reply-To", "")))
        return replace(
            mail,
            subject=shape.text,
            reply=True,
            said=parts.said,
            quoted=parts.quoted,
            in_reply_to=ids,
        )
    return replace(mail, subject=shape.text)


def _attached_original(message: Message) -> Message | None:
    """The mail a forward carries as a ``message/rfc822`` attachment."""
    for part in message.walk() if message.is_multipart() else []:
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                return inner
    return None


def _from_quoted(inline: Forwarded, forward: MailMessage) -> MailMessage:
    """The original of an inline forward, from its quoted headers (what they do not say is
    the forward's own: its date, when the quoted one cannot be read)."""
    shape = strip_subject(clean_text(decode_header(inline.subject), 1000))
    body = inline.body
    markup = ""
    if re.search(r"<br\s*/?>|</(p|div|pre|a)>", body, re.IGNORECASE):
        markup, body = body, html_to_text(body)
    return MailMessage(
        subject=shape.text,
        raw_subject=clean_text(decode_header(inline.subject), 1000),
        sender=decode_header(inline.sender),
        message_id=inline.headers.get("message-id", ""),
        date=inline.date or forward.date,
        text=body,
        html=markup,
        defects=forward.defects,
        origin_host=origin_host(inline.received),
    )


def _as_sent(message: Message) -> MailMessage:
    """The mail as it is, its subject only cleaned of control characters."""
    raw_subject = decode_header(message.get("Subject"))
    plain, markup = [], []
    for part in message.walk() if message.is_multipart() else [message]:
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            continue
        if ctype == "text/html":
            markup.append(_payload_text(part))
        elif ctype.startswith("text/") or not message.is_multipart():
            plain.append(_payload_text(part))
    html_body = "\n".join(markup)
    text = "\n".join(plain) if any(p.strip() for p in plain) else html_to_text(html_body)
    if not markup and re.search(r"<br\s*/?>|</(p|div|pre|a)>", text, re.IGNORECASE):
        html_body, text = text, html_to_text(text)  # HTML sent as text/plain
    return MailMessage(
        subject=clean_text(raw_subject, 1000),
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
