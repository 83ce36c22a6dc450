"""Sending mail (decisions, handoff reports, reminders) through an SMTP server."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from opsweek.errors import ConfigError, Unavailable
from opsweek.quoting import header_text


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int = 25
    starttls: bool = False
    user: str = ""
    password: str = ""
    sender: str = "opsweek@localhost"
    timeout: float = 15.0

    def send(
        self,
        to: list[str],
        subject: str,
        text: str,
        html: str | None = None,
        message_id: str | None = None,
        images: Sequence[tuple[str, bytes]] = (),
    ) -> str:
        """Send one message; returns its Message-ID. A stable ``message_id`` lets lists and
        readers drop a copy sent again. ``images``: PNG pictures the HTML shows as
        ``cid:<content id>``, by content id (multipart/related)."""
        if not to:
            raise ConfigError("no recipient to mail to")
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(to)
        message["Subject"] = header_text(subject, 250)
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = message_id or make_msgid("opsweek")
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
            html_part = message.get_body(("html",))
            for content_id, png in images if html_part is not None else ():
                html_part.add_related(png, "image", "png", cid=f"<{content_id}>")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            raise Unavailable(
                f"mail to {', '.join(to)} via {self.host}:{self.port}: {reason}"
            ) from None
        return str(message["Message-ID"])
