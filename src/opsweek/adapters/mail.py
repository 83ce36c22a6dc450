"""Alert e-mails arriving by SMTP (an aiosmtpd listener the alerts list forwards to) and by
IMAP polling (imapclient). Both hand every message to the same intake function."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.exc import OperationalError

from opsweek.alerts.formats import EMAIL
from opsweek.alerts.model import RawInput
from opsweek.timeutil import utcnow

log = logging.getLogger(__name__)
Sink = Callable[[RawInput], object]
# how long the listener waits for a message to be stored before answering "try again": well
# within the 10 minutes a sender waits for the answer to DATA (RFC 5321, 4.5.3.2.6)
ANSWER_SECONDS = 60.0


class _Handler:
    def __init__(self, sink: Sink, max_bytes: int, answer_seconds: float) -> None:
        self.sink = sink
        self.max_bytes = max_bytes
        self.answer_seconds = answer_seconds

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        if len(content) > self.max_bytes:
            return "552 Message exceeds fixed maximum message size"
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        raw = RawInput(content, EMAIL, utcnow(), f"smtp:{peer}")
        try:
            await asyncio.wait_for(self._store(raw), timeout=self.answer_seconds)
        except TimeoutError:  # maybe stored after all: a retry is recognised, not stored twice
            log.warning("an e-mail received by SMTP was not stored in %.0f s", self.answer_seconds)
            return "451 Requested action aborted: try again later"
        except Exception:  # the sender retries on 4xx; never drop the message silently
            log.exception("could not store an e-mail received by SMTP")
            return "451 Requested action aborted: local error in processing"
        return "250 Message accepted for delivery"

    async def _store(self, raw: RawInput) -> None:
        """Store in a thread, not on the listener's event loop: other senders are answered
        meanwhile."""
        await asyncio.get_running_loop().run_in_executor(None, self.sink, raw)


class SmtpListener:
    """An SMTP server on ``host:port`` that hands every message to ``sink`` (in a thread) and
    answers once it returns: stored."""

    def __init__(
        self,
        host: str,
        port: int,
        sink: Sink,
        max_bytes: int,
        answer_seconds: float = ANSWER_SECONDS,
    ) -> None:
        self.controller = Controller(
            _Handler(sink, max_bytes, answer_seconds),
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
    ``sink`` and flags it as seen only after it was stored. A message larger than
    ``max_bytes`` is kept by its headers, with a note; a message the intake refuses for any
    other reason than the store being away is set aside (flagged OpsweekSetAside, still
    unseen), so one message never blocks the mailbox."""

    SET_ASIDE = "OpsweekSetAside"

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
        max_bytes: int = 10 * 1024 * 1024,
        on_poll: Callable[[str | None], object] | None = None,
    ) -> None:
        """``on_poll``: told how each poll went (None: it worked; else why not)."""
        self.options: dict[str, Any] = {"host": host, "port": port, "ssl": ssl}
        self.on_poll = on_poll
        self.user, self.password, self.folder = user, password, folder
        self.interval, self.sink = interval, sink
        self.max_bytes = max_bytes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        from imapclient import IMAPClient

        stored = 0
        with IMAPClient(timeout=30, **self.options) as client:
            client.login(self.user, self.password)
            client.select_folder(self.folder)
            uids = client.search(["UNSEEN", "UNKEYWORD", self.SET_ASIDE])
            sizes = client.fetch(uids, ["RFC822.SIZE"]) if uids else {}
            for uid in uids:
                size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
                content = self._content(client, uid, size)
                if content is None:
                    continue
                origin = f"imap:{self.folder}/{uid}"
                try:
                    self.sink(RawInput(content, EMAIL, utcnow(), origin))
                except (OperationalError, TimeoutError):
                    raise  # the store is away: this message and the rest wait for the next poll
                except Exception:
                    log.exception("IMAP message %s was refused; setting it aside", uid)
                    client.add_flags([uid], [self.SET_ASIDE.encode()])
                    continue
                client.add_flags([uid], [b"\\Seen"])
                stored += 1
        return stored

    def _content(self, client: Any, uid: int, size: int) -> bytes | None:
        if size <= self.max_bytes:
            fetched = client.fetch([uid], ["BODY.PEEK[]"])
            content = fetched.get(uid, {}).get(b"BODY[]")
            return None if content is None else bytes(content)
        fetched = client.fetch([uid], ["BODY.PEEK[HEADER]"])
        header = bytes(fetched.get(uid, {}).get(b"BODY[HEADER]") or b"")
        note = (
            f"\r\n[opsweek: this message has {size} bytes, over intake.max_body_bytes "
            f"({self.max_bytes}); only its headers were kept. It is still in {self.folder}.]\r\n"
        )
        return header.rstrip(b"\r\n") + b"\r\n" + note.encode()

    def _run(self) -> None:
        while not self._stop.is_set():
            error: str | None = None
            try:
                self.poll_once()
            except Exception as exc:  # a mail server that is away is retried next time
                log.warning("IMAP poll of %s failed: %s", self.options["host"], exc)
                error = f"{self.options['host']}: {exc}"
            if self.on_poll is not None:
                try:
                    self.on_poll(error)
                except Exception:
                    log.exception("could not keep how the IMAP poll went")
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="imap-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
