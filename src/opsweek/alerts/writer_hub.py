"""One intake writer for several web worker processes (`opsweek serve --workers N`).

Storing is one writer's job (the store has one writer at a time), and it is best done by one
process: its page cache stays warm, and concurrent webhooks from every worker share one
commit, where workers taking the lock one after the other would each begin by rereading what
the other changed.

So the parent process of `opsweek serve` runs the hub: a Unix socket in a private directory,
storing through the `IntakeWriter` the SMTP listener and IMAP poller use.
A worker parses what it receives (parsing is pure and takes the most Python time besides
storing, so the workers share it) and sends the raw input with its parse outcome; the hub
answers with the counts. Only the hub's own user can reach the socket (a 0700 directory); what
travels on it is described in `opsweek.alerts.wire`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import selectors
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from opsweek.alerts.intake import IngestCounts
from opsweek.alerts.model import RawInput
from opsweek.alerts.parse import ParseOutcome, parse_raw
from opsweek.alerts.wire import (
    HEADER,
    decode_answer,
    decode_request,
    encode_answer,
    encode_request,
    split_frames,
)
from opsweek.alerts.writer import IntakeUnavailable, IntakeWriter, batches

log = logging.getLogger(__name__)

SOCKET_ENV = "OPSWEEK_INTAKE_SOCKET"  # where `opsweek serve` tells its workers the hub is


PREFIX = "opsweek-intake-"


def private_socket_path() -> Path:
    """A socket path in a new directory only this user can enter (short enough for the
    108-byte limit of Unix socket paths, wherever the data directory is). Directories left by
    a serve process that was killed are removed first."""
    remove_stale_sockets()
    return Path(tempfile.mkdtemp(prefix=PREFIX)) / "writer.sock"


def remove_stale_sockets() -> list[Path]:
    """This user's hub directories whose socket nobody listens on any more: left behind by a
    `opsweek serve` that was killed. Another serve's live socket is left alone."""
    removed = []
    for directory in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            if directory.stat().st_uid != os.getuid():
                continue
            sock = directory / "writer.sock"
            if not sock.exists() and time.time() - directory.stat().st_mtime < 60:
                continue  # a serve starting now: its hub has not bound the socket yet
            if sock.exists():
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                    probe.settimeout(1)
                    probe.connect(str(sock))  # someone listens: a live hub
                continue
        except (ConnectionRefusedError, FileNotFoundError):
            pass  # nobody listens on it: a killed serve's directory, removed below
        except OSError:
            continue
        with contextlib.suppress(OSError):
            (directory / "writer.sock").unlink(missing_ok=True)
            directory.rmdir()
            removed.append(directory)
    return removed


@dataclass
class _Request:
    sock: socket.socket
    number: int
    raw: RawInput
    parsed: ParseOutcome


class IntakeHub(threading.Thread):
    """The hub, in `opsweek serve`'s parent process. One thread does it all, with no hand-over
    between threads: wait for requests, read every request that has arrived from any worker,
    store them in one transaction (`IntakeWriter.write_each`, shared with the SMTP and IMAP
    intake), answer each worker with one write; again. What arrives while a batch is being
    stored makes the next batch (group commit)."""

    def __init__(self, writer: IntakeWriter, path: Path) -> None:
        super().__init__(name="intake-hub", daemon=True)
        self.writer = writer
        self.path = path
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        os.chmod(path, 0o600)
        self._listener.listen()
        self._stopping = threading.Event()

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        buffers: dict[socket.socket, bytearray] = {}

        def forget(sock: socket.socket) -> None:
            if buffers.pop(sock, None) is not None:
                selector.unregister(sock)
                sock.close()

        try:
            while not self._stopping.is_set():
                requests: list[_Request] = []
                for key, _ in selector.select(timeout=0.5):
                    sock: socket.socket = key.fileobj  # type: ignore[assignment]
                    if sock is self._listener:
                        try:
                            connection, _ = sock.accept()
                        except OSError as exc:  # out of descriptors, say: the worker retries
                            log.warning("cannot accept a web worker: %s", exc)
                            continue
                        connection.settimeout(10)  # a worker that stops reading is dropped
                        selector.register(connection, selectors.EVENT_READ)
                        buffers[connection] = bytearray()
                        continue
                    data = b""
                    with contextlib.suppress(OSError):
                        data = sock.recv(1 << 20)
                    if not data:
                        forget(sock)
                        continue
                    buffers[sock] += data
                    try:
                        requests += [self._read(f, sock) for f in split_frames(buffers[sock])]
                    except Exception:  # a worker's bug: close it; it fails its requests, reconnects
                        log.exception("unreadable request from a web worker")
                        requests = [r for r in requests if r.sock is not sock]
                        forget(sock)
                for batch in batches(
                    requests,
                    lambda r: len(r.raw.content),
                    self.writer.max_batch,
                    self.writer.max_batch_bytes,
                ):
                    for gone in self._store(batch):
                        forget(gone)
        finally:
            for sock in [*buffers, self._listener]:
                sock.close()
            selector.close()

    def _read(self, request: bytes, sock: socket.socket) -> _Request:
        number, raw, parsed = decode_request(request)
        if parsed is None:
            log.warning("a worker's parse outcome could not travel; parsing again here")
            parsed = parse_raw(raw)
        return _Request(sock, number, raw, parsed)

    def _store(self, requests: list[_Request]) -> list[socket.socket]:
        """Store ``requests`` and answer them; the connections that could not be answered."""
        results = self.writer.write_each([r.raw for r in requests], [r.parsed for r in requests])
        answers = [  # an error for a request alone: its worker answers 503, its sender retries
            encode_answer(r.number, None, str(c))
            if isinstance(c, Exception)
            else encode_answer(r.number, c, None)
            for r, c in zip(requests, results, strict=True)
        ]
        replies: dict[socket.socket, list[bytes]] = {}
        for request, answer in zip(requests, answers, strict=True):
            replies.setdefault(request.sock, []).append(answer)
        gone = []
        for sock, frames in replies.items():
            try:
                sock.sendall(b"".join(frames))
            except OSError:  # a worker gone or stuck: it fails what it waits for, reconnects
                gone.append(sock)
        return gone

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)
        with contextlib.suppress(OSError):
            self.path.unlink()
            self.path.parent.rmdir()


class RemoteWriter:
    """A web worker's side, on the worker's event loop: `accept` parses the input here and
    waits for the hub to store it. A lost connection fails what was in flight (HTTP 503:
    Alertmanager and the mail relays retry) and the next input connects again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: asyncio.StreamWriter | None = None
        self._connecting = asyncio.Lock()
        self._pending: dict[int, asyncio.Future[IngestCounts]] = {}
        self._numbers = itertools.count()

    async def accept(self, raw: RawInput) -> IngestCounts:
        number = next(self._numbers)
        request = encode_request(number, raw, parse_raw(raw))
        try:
            writer = await self._connected()
        except OSError as exc:
            raise IntakeUnavailable(f"cannot reach the intake writer: {exc}") from None
        result = asyncio.get_running_loop().create_future()
        self._pending[number] = result
        writer.write(request)
        return await result

    async def _connected(self) -> asyncio.StreamWriter:
        async with self._connecting:
            if self._writer is None or self._writer.is_closing():
                reader, self._writer = await asyncio.open_unix_connection(str(self.path))
                asyncio.get_running_loop().create_task(self._read(reader, self._writer))
            return self._writer

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reason = "the intake writer closed the connection"
        try:
            while True:
                header = await reader.readexactly(HEADER.size)
                answer = await reader.readexactly(HEADER.unpack(header)[0])
                number, counts, error = decode_answer(answer)
                result = self._pending.pop(number, None)
                if result is None or result.done():
                    continue
                if counts is not None:
                    result.set_result(counts)
                else:
                    result.set_exception(IntakeUnavailable(error or "no counts"))
        except (asyncio.IncompleteReadError, OSError) as exc:
            reason = f"{reason} ({type(exc).__name__})"
        finally:
            writer.close()
            if self._writer is writer:
                self._writer = None
            pending, self._pending = self._pending, {}
            for result in pending.values():
                if not result.done():
                    result.set_exception(IntakeUnavailable(reason))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
