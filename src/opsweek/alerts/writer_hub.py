"""One intake writer for several web worker processes (`opsweek serve --workers N`).

Storing is one writer's job (SQLite has one writer at a time), and it is fastest as one
process: its page cache stays warm, and concurrent webhooks from every worker share one
commit. When workers each wrote in turn, every turn began by rereading what the other had
changed, and each commit held half as many webhooks (benchmarks/README.md, ingest.py).

So the parent process of `opsweek serve` runs the hub: a Unix socket in a private directory,
feeding the same `IntakeWriter` the SMTP listener and IMAP poller use. A worker parses what
it receives (parsing is pure and takes the most Python time besides storing, so the workers
share it) and sends the raw input with its parse outcome; the hub answers with the counts.

Frames are a 4-byte length and a pickle. Only the hub's own user can reach the socket (a
0700 directory), and the unpickler accepts only the value types of an intake, nothing that
could run code. Should a parse outcome hold anything else, the hub parses the raw input
again itself: nothing is lost."""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import os
import pickle
import selectors
import socket
import struct
import tempfile
import threading
from concurrent.futures import Future
from dataclasses import asdict
from pathlib import Path
from typing import Any

from opsweek.alerts.intake import IngestCounts
from opsweek.alerts.model import RawInput
from opsweek.alerts.parse import ParseOutcome, parse_raw
from opsweek.alerts.writer import IntakeUnavailable, IntakeWriter

log = logging.getLogger(__name__)

HEADER = struct.Struct("!I")
SOCKET_ENV = "OPSWEEK_INTAKE_SOCKET"  # where `opsweek serve` tells its workers the hub is
ALLOWED = {
    ("datetime", "datetime"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("opsweek.alerts.model", "RawInput"),
    ("opsweek.alerts.model", "ParsedAlert"),
    ("opsweek.alerts.model", "Recovery"),
    ("opsweek.alerts.parse", "ParseOutcome"),
}


class _IntakeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not an intake value")
        return super().find_class(module, name)


def loads(data: bytes) -> Any:
    return _IntakeUnpickler(io.BytesIO(data)).load()


def frame(value: Any) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def split_frames(buffer: bytearray) -> list[bytes]:
    """Take every complete frame off the front of ``buffer``."""
    frames = []
    while len(buffer) >= HEADER.size:
        (size,) = HEADER.unpack_from(buffer)
        if len(buffer) < HEADER.size + size:
            break
        frames.append(bytes(buffer[HEADER.size : HEADER.size + size]))
        del buffer[: HEADER.size + size]
    return frames


def private_socket_path() -> Path:
    """A socket path in a new directory only this user can enter (short enough for the
    108-byte limit of Unix socket paths, wherever the data directory is)."""
    return Path(tempfile.mkdtemp(prefix="opsweek-intake-")) / "writer.sock"


class IntakeHub(threading.Thread):
    """The hub, in `opsweek serve`'s parent process: one thread reads requests from every
    worker and hands them to ``writer``; replies go out as each batch is stored."""

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
        locks: dict[socket.socket, threading.Lock] = {}
        try:
            while not self._stopping.is_set():
                for key, _ in selector.select(timeout=0.5):
                    sock: socket.socket = key.fileobj  # type: ignore[assignment]
                    if sock is self._listener:
                        connection, _ = sock.accept()
                        selector.register(connection, selectors.EVENT_READ)
                        buffers[connection], locks[connection] = bytearray(), threading.Lock()
                        continue
                    data = b""
                    with contextlib.suppress(OSError):
                        data = sock.recv(1 << 20)
                    if not data:
                        selector.unregister(sock)
                        sock.close()
                        buffers.pop(sock, None)
                        continue
                    buffers[sock] += data
                    try:
                        for request in split_frames(buffers[sock]):
                            self._accept(request, sock, locks[sock])
                    except Exception:  # a worker's bug: close it; it fails its requests, reconnects
                        log.exception("unreadable request from a web worker")
                        selector.unregister(sock)
                        sock.close()
                        buffers.pop(sock, None)
        finally:
            for sock in [*buffers, self._listener]:
                sock.close()
            selector.close()

    def _accept(self, request: bytes, sock: socket.socket, lock: threading.Lock) -> None:
        number, raw_pickle, parsed_pickle = loads(request)
        raw = loads(raw_pickle)
        try:
            parsed = loads(parsed_pickle)
        except (pickle.UnpicklingError, AttributeError, TypeError, ValueError) as exc:
            log.warning("a worker's parse outcome was refused (%s); parsing again here", exc)
            parsed = parse_raw(raw)
        self.writer.submit(raw, parsed).add_done_callback(
            lambda result: self._reply(number, result, sock, lock)
        )

    def _reply(
        self, number: int, result: Future[IngestCounts], sock: socket.socket, lock: threading.Lock
    ) -> None:
        error = result.exception()
        answer = (number, None, str(error)) if error else (number, asdict(result.result()), None)
        with lock, contextlib.suppress(OSError):  # a worker gone: its requests died with it
            sock.sendall(frame(answer))

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)
        with contextlib.suppress(OSError):
            self.path.unlink()
            self.path.parent.rmdir()


class RemoteWriter:
    """A web worker's side: ``submit`` like `IntakeWriter.submit`, parsing here and storing
    through the hub. A lost connection fails what was in flight (HTTP 503: Alertmanager and
    the mail relays retry) and the next input connects again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._pending: dict[int, Future[IngestCounts]] = {}
        self._numbers = itertools.count()

    def submit(self, raw: RawInput, parsed: ParseOutcome | None = None) -> Future[IngestCounts]:
        result: Future[IngestCounts] = Future()
        outcome = parsed if parsed is not None else parse_raw(raw)
        number = next(self._numbers)
        request = frame((number, pickle.dumps(raw), pickle.dumps(outcome)))
        with self._lock:
            try:
                sock = self._connected()
                self._pending[number] = result
                sock.sendall(request)
            except OSError as exc:
                self._pending.pop(number, None)
                self._drop(f"cannot reach the intake writer: {exc}")
                result.set_exception(IntakeUnavailable(f"cannot reach the intake writer: {exc}"))
        return result

    def ingest(self, raw: RawInput, timeout: float = 60) -> IngestCounts:
        return self.submit(raw).result(timeout)

    def _connected(self) -> socket.socket:
        if self._socket is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(self.path))
            self._socket = sock
            threading.Thread(
                target=self._read, args=(sock,), name="intake-replies", daemon=True
            ).start()
        return self._socket

    def _read(self, sock: socket.socket) -> None:
        buffer = bytearray()
        while True:
            try:
                data = sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                with self._lock:
                    if self._socket is sock:
                        self._drop("the intake writer closed the connection")
                return
            buffer += data
            for reply in split_frames(buffer):
                number, counts, error = loads(reply)
                with self._lock:
                    result = self._pending.pop(number, None)
                if result is None:
                    continue
                if error is None:
                    result.set_result(IngestCounts(**counts))
                else:
                    result.set_exception(IntakeUnavailable(error))

    def _drop(self, reason: str) -> None:
        """Close the connection and fail what it carried (with the lock held)."""
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
            self._socket = None
        pending, self._pending = self._pending, {}
        for result in pending.values():
            result.set_exception(IntakeUnavailable(reason))

    def close(self) -> None:
        with self._lock:
            self._drop("the worker is stopping")
