"""The shapes an alert mail arrives in besides its own: forwarded (inline, the original's
headers quoted in the body, or attached as ``message/rfc822``) and replied to. Pure: text
in, values out; `opsweek.alerts.mail.read_mail` uses it.

The inline forms are those of the common mail programs: Gmail's ``---------- Forwarded
message ---------``, Thunderbird's ``-------- Forwarded Message --------`` (tab-aligned
headers), Outlook's ``From: … Sent: …`` block under a rule, Apple Mail's ``Begin forwarded
message:``, and any of them quoted with ``>``."""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime

FORWARD = re.compile(r"^(?:fwd?|wg|tr|rv|enc)\s*:\s*", re.I)
REPLY = re.compile(r"^(?:re|aw|sv|antw|vs|odp)(?:\[\d+\])?\s*:\s*", re.I)
LIST_TAG = re.compile(r"^\[[^\]]{1,60}\]\s*")
QUOTED_HEADER = re.compile(
    r"^\s*(?P<name>from|date|sent|subject|to|cc|reply-to|message-id|received)\s*:\s*(?P<value>.*)$",
    re.I,
)
MARKERS = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded message|original message)\s*-{2,}|begin forwarded message:"
    r"|_{10,})\s*$",
    re.I,
)
WROTE = re.compile(r"^\s*(?:on\s.+\swrote:|am\s.+\sschrieb.*:|le\s.+\sa écrit\s*:)\s*$", re.I)
# a reply that says the alert is dealt with: shown as such, never resolving it
HANDLED = re.compile(
    r"\b(?:done|fixed|resolved|handled|deployed|rerun|re-ran|reran|restarted|cleared|"
    r"taken care of|on it|looking into it|ack(?:nowledged)?)\b",
    re.I,
)
DATE_FORMS = (
    "%a, %b %d, %Y %I:%M %p",  # Gmail: Mon, Dec 1, 2026 at 10:00 AM ("at" removed)
    "%A, %B %d, %Y %I:%M %p",  # Outlook: Monday, December 1, 2026 10:00 AM
    "%B %d, %Y %H:%M:%S %Z",  # Apple Mail: December 1, 2026 at 10:00:00 GMT
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H:%M",
)


@dataclass(frozen=True)
class Subject:
    text: str  # without list tags and Re:/Fwd: prefixes
    forwarded: bool
    reply: bool


def strip_subject(subject: str) -> Subject:
    """``[list] Re: [list] Fwd: FAIL: x`` -> ``FAIL: x``, and which prefixes it had (the
    first one decides: a reply to a forward is a reply)."""
    text, forwarded, reply = subject.strip(), False, False
    while True:
        tag = LIST_TAG.match(text)
        if tag:
            text = text[tag.end() :]
            continue
        forward = FORWARD.match(text)
        prefix = forward or REPLY.match(text)
        if prefix is None:
            return Subject(text, forwarded, reply)
        if not (forwarded or reply):  # the outermost prefix says what this mail is
            forwarded, reply = forward is not None, forward is None
        text = text[prefix.end() :]


@dataclass(frozen=True)
class Forwarded:
    """The original of an inline forward: its headers as quoted, and its body."""

    headers: dict[str, str]
    body: str

    @property
    def subject(self) -> str:
        return self.headers.get("subject", "")

    @property
    def sender(self) -> str:
        return self.headers.get("from", "")

    @property
    def date(self) -> datetime | None:
        return quoted_date(self.headers.get("date") or self.headers.get("sent") or "")

    @property
    def received(self) -> list[str]:
        return [v for k, v in self.headers.items() if k.startswith("received")]


def unquote(text: str) -> str:
    """Text with the ``>`` quoting of each line removed, when most of its lines have it."""
    lines = text.split("\n")
    quoted = [line for line in lines if line.lstrip().startswith(">")]
    if not lines or len(quoted) * 2 < len([line for line in lines if line.strip()]):
        return text
    return "\n".join(re.sub(r"^\s*>\s?", "", line) for line in lines)


def inline_forward(text: str) -> Forwarded | None:
    """The original mail quoted in a forward's body: a block of headers (From and Subject at
    least) after a forwarding marker or at the top, then its body."""
    text = text.replace("\r\n", "\n")
    for candidate in (text, unquote(text)):
        found = _header_block(candidate.split("\n"))
        if found is not None:
            return found
    return None


def _header_block(lines: list[str]) -> Forwarded | None:
    for start, line in enumerate(lines):
        if not (MARKERS.match(line) or QUOTED_HEADER.match(line)):
            continue
        index = start + 1 if MARKERS.match(line) else start
        while index < len(lines) and not lines[index].strip():
            index += 1
        headers: dict[str, str] = {}
        last = ""
        while index < len(lines) and lines[index].strip():
            match = QUOTED_HEADER.match(lines[index])
            if match:
                last = match["name"].lower()
                if last == "received":
                    last = f"received{len(headers)}"
                headers.setdefault(last, match["value"].strip())
            elif last and lines[index][:1] in (" ", "\t"):  # a folded header line
                headers[last] += " " + lines[index].strip()
            else:
                break
            index += 1
        if "from" in headers and "subject" in headers:
            return Forwarded(headers, "\n".join(lines[index:]).strip("\n"))
    return None


def quoted_date(value: str) -> datetime | None:
    """A date as a mail program writes it in a quoted header; None when it cannot be read."""
    value = " ".join(value.split())
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        moment = None
    if moment is None:
        plain = re.sub(r"\s+at\s+", " ", value)
        for form in DATE_FORMS:
            try:
                moment = datetime.strptime(plain, form)
                break
            except ValueError:
                continue
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True)
class ReplyParts:
    said: str  # what the person wrote, above the quote
    quoted: str  # the mail replied to, quoting removed


def reply_parts(text: str) -> ReplyParts:
    """A reply's own words and the quoted original below them (``> ``-quoted, after an
    "On … wrote:" line, or under an Outlook/original-message header block)."""
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        if line.lstrip().startswith(">") or WROTE.match(line) or MARKERS.match(line):
            rest = lines[index + 1 :] if not line.lstrip().startswith(">") else lines[index:]
            return ReplyParts(_said(lines[:index]), unquote("\n".join(rest)))
        if QUOTED_HEADER.match(line) and _header_block(lines[index:]) is not None:
            return ReplyParts(_said(lines[:index]), "\n".join(lines[index:]))
    return ReplyParts(_said(lines), "")


def _said(lines: list[str]) -> str:
    """The words of a reply, without the signature ("-- " and below)."""
    if "-- " in lines:
        lines = lines[: lines.index("-- ")]
    return "\n".join(lines).strip()


def message_ids(*values: str) -> tuple[str, ...]:
    """The ``<id>``s of In-Reply-To and References headers, newest mentioned first."""
    found: list[str] = []
    for value in values:
        found += re.findall(r"<[^<>\s]{1,250}>", value or "")
    return tuple(dict.fromkeys(reversed(found)))
