"""Alert e-mails arriving by SMTP (an aiosmtpd listener the alerts list forwards to) and by
IMAP polling (imapclient). Both hand every message to the same intake function."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from opsweek.alerts.model import EMAIL, RawInput
from opsweek.timeutil import utcnow

log = logging.getLogger(__name__)
Sink = Callable[[RawInput], object]


class _Handler:
    def __init__(self, sink: Sink, max_bytes: int) -> None:
        self.sink = sink
        self.max_bytes = max_bytes

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        if len(content) > self.max_bytes:
            return "552 Message exceeds fixed maximum message size"
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        try:
            self.sink(RawInput(content, EMAIL, utcnow(), f"smtp:{peer}"))
        except Exception:  # the sender retries on 4xx; never drop the message silently
            log.exception("could not store an e-mail received by SMTP")
            return "451 Requested action aborted: local error in processing"
        return "250 Message accepted for delivery"


class SmtpListener:
    """An SMTP server on ``host:port`` that feeds every message to ``sink``."""

    def __init__(self, host: str, port: int, sink: Sink, max_bytes: int) -> None:
        self.controller = Controller(
            _Handler(sink, max_bytes),
            hostname=host,
            port=port,
            data_size_limit=max_bytes,
            decode_data=False,
        )

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.port)


class ImapPoller:
    """Fetches unseen messages from one IMAP folder every ``interval`` seconds, feeds each to
    ``sink`` and flags it as seen only after it was stored."""

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        folder: str,
        ssl: bool,
        interval: float,
        sink: Sink,
    ) -> None:
        self.options: dict[str, Any] = {"host": host, "port": port, "ssl": ssl}
        self.user, self.password, self.folder = user, password, folder
        self.interval, self.sink = interval, sink
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        from imapclient import IMAPClient

        stored = 0
        with IMAPClient(timeout=30, **self.options) as client:
            client.login(self.user, self.password)
            client.select_folder(self.folder)
            for uid in client.search(["UNSEEN"]):
                fetched = client.fetch([uid], ["BODY.PEEK[]"])
                content = fetched.get(uid, {}).get(b"BODY[]")
                if content is None:
                    continue
                self.sink(RawInput(bytes(content), EMAIL, utcnow(), f"imap:{self.folder}/{uid}"))
                client.add_flags([uid], [b"\\Seen"])
                stored += 1
        return stored

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # a mail server that is away is retried next time
                log.warning("IMAP poll of %s failed: %s", self.options["host"], exc)
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="imap-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
