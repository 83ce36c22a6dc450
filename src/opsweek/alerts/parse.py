"""The one entry point from raw input to parsed alerts. It never raises and never loses input:
what no parser can read becomes an ``unparsed`` alert carrying the reason."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import orjson

from opsweek.alerts.details_cap import NotStorable, capped
from opsweek.alerts.formats import AIRFLOW, ALERTMANAGER, CHECK, EMAIL, LOG
from opsweek.alerts.mail import MailMessage, read_mail
from opsweek.alerts.mail_shapes import HANDLED
from opsweek.alerts.model import (
    UNPARSED,
    ParsedAlert,
    ParseError,
    RawInput,
    Recovery,
    Reply,
    clean_text,
    digest,
)
from opsweek.alerts.sources import (
    EMAIL_PARSERS,
    airflow_api,
    alertmanager,
    canary_failure,
    opsweek_check,
)


@dataclass
class ParseOutcome:
    alerts: list[ParsedAlert] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)
    error: str | None = None  # why the input became an unparsed alert
    replies: list[Reply] = field(default_factory=list)  # notes on alerts, not alerts


def parse_raw(raw: RawInput) -> ParseOutcome:
    """Every input ends as alerts that can be stored: parsed ones, with each alert's details
    capped (`opsweek.alerts.details_cap`), or one unparsed alert saying why."""
    outcome = _parse(raw)
    try:
        alerts = [replace(a, details=capped(a.details)) for a in outcome.alerts]
    except NotStorable as exc:
        return unparsed(raw, str(exc))
    outcome.alerts = alerts
    return outcome


def _parse(raw: RawInput) -> ParseOutcome:
    try:
        if raw.format == EMAIL:
            return _email(raw)
        if raw.format == ALERTMANAGER:
            return _webhook(raw)
        if raw.format == CHECK:
            return ParseOutcome([opsweek_check.parse(raw.content, raw.received_at)])
        if raw.format == AIRFLOW:
            return ParseOutcome([airflow_api.parse(raw.content)])
        if raw.format == LOG:
            alerts, recoveries = canary_failure.parse_line(_text(raw), raw.received_at)
            return ParseOutcome(alerts, recoveries)
        raise ParseError(f"unknown input format {raw.format!r}")
    except ParseError as exc:
        return unparsed(raw, str(exc))
    except Exception as exc:  # a parser bug must not lose the input: keep it, say why
        return unparsed(raw, f"parser error: {type(exc).__name__}: {exc}")


def _text(raw: RawInput) -> str:
    return raw.content.decode("utf-8", errors="replace")


def _email(raw: RawInput) -> ParseOutcome:
    mail = read_mail(raw.content)
    if mail.reply:
        return ParseOutcome(replies=[_reply(mail)])
    alerts = _email_alerts(mail)
    if alerts is None:
        reason = "no parser recognises this e-mail"
        if not mail.subject:
            reason += " (it has no subject" + (
                f"; MIME defects: {', '.join(mail.defects)})" if mail.defects else ")"
            )
        return unparsed(raw, reason, mail.subject)
    said = {"subject": mail.subject[:300]}
    if mail.forwarded_by:
        said["forwarded_by"] = mail.forwarded_by[:300]
    return ParseOutcome([replace(a, details={**a.details, **said}) for a in alerts])


def _email_alerts(mail: MailMessage) -> list[ParsedAlert] | None:
    """The alerts of the first parser that recognises the mail; None when none does."""
    for parser in EMAIL_PARSERS:
        if parser.matches(mail):
            return parser.parse(mail)
    return None


def _reply(mail: MailMessage) -> Reply:
    """A reply, with the fingerprints of the alerts of the mail it answers when the original
    it quotes (or its subject alone) parses to them."""
    original = MailMessage(
        subject=mail.subject,
        raw_subject=mail.subject,
        sender=mail.sender,
        message_id="",
        date=mail.date,
        text=mail.quoted,
        html="",
    )
    try:
        alerts = _email_alerts(original) or []
    except (ParseError, ValueError):
        alerts = []
    return Reply(
        author=mail.sender[:200],
        said=mail.said[:2000],
        handled=HANDLED.search(mail.said) is not None,
        subject=mail.subject[:300],
        message_ids=mail.in_reply_to,
        fingerprints=tuple(dict.fromkeys(a.fingerprint for a in alerts)),
    )


def _webhook(raw: RawInput) -> ParseOutcome:
    try:
        payload = orjson.loads(raw.content)
    except orjson.JSONDecodeError as exc:
        payload = _with_lone_surrogates(raw.content, exc)
    return ParseOutcome(alertmanager.parse_webhook(payload))


def _with_lone_surrogates(content: bytes, error: Exception) -> object:
    """JSON whose only fault is a lone surrogate escape (``"\\ud800"``, which orjson refuses):
    read with each such character as U+FFFD, so one odd label leaves the other alerts of its
    webhook parsed; anything else is not JSON."""
    import json

    try:
        payload = json.loads(content.decode("utf-8", errors="strict"))
    except (ValueError, UnicodeDecodeError):
        raise ParseError(f"webhook body is not valid JSON: {error}") from None
    return _replace_surrogates(payload)


def _replace_surrogates(value: object) -> object:
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    return value


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def unparsed(raw: RawInput, reason: str, subject: str = "") -> ParseOutcome:
    first_line = subject or next(
        (line for line in _text(raw)[:4000].splitlines() if line.strip()), ""
    )
    alert = ParsedAlert(
        kind=UNPARSED,
        source=raw.format,
        title=clean_text(f"unparsed {raw.format}: {first_line or '(empty)'}", 200),
        fingerprint=digest(
            UNPARSED,
            raw.content.hex() if len(raw.content) < 64 else digest(raw.content.decode("latin-1")),
        ),
        severity="warning",
        details={
            "reason": reason,
            "format": raw.format,
            "origin": raw.origin,
            "size": len(raw.content),
            "first_line": clean_text(first_line, 300),
        },
        group_key=digest(UNPARSED, raw.format),
        occurred_at=raw.received_at,
    )
    return ParseOutcome([alert], [], reason)
