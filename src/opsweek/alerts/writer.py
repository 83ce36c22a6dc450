"""One writer for concurrent intake (webhooks, SMTP, IMAP): callers hand over raw inputs and
wait; a single thread takes everything queued so far and stores it in one transaction through
`AlertChanges` (group commit). The store has one writer at a time anyway, and one commit for
many webhooks is what lets a storm of alerts through without a queue of waiting senders."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol, TypeVar

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.intake import IngestCounts
from opsweek.alerts.model import RawInput
from opsweek.alerts.parse import ParseOutcome, parse_raw, unparsed
from opsweek.alerts.triage import FlapRule
from opsweek.db.session import Store
from opsweek.errors import IntakeUnavailable

__all__ = ["IntakeUnavailable", "IntakeWriter", "Submitter", "batches"]

T = TypeVar("T")


class Submitter(Protocol):
    """What the web app hands its intake to: an `IntakeWriter` in this process, or
    `opsweek.alerts.writer_hub.RemoteWriter` in a web worker."""

    async def accept(self, raw: RawInput) -> IngestCounts:
        """Hand over one input and wait (on the event loop) until it is stored."""

    def close(self) -> None:
        """Let go of threads and connections."""


@dataclass
class _Job:
    raw: RawInput
    result: Future[IngestCounts]


MAX_BATCH = 200  # inputs stored in one transaction, at most
MAX_BATCH_BYTES = 1 << 20  # bytes of inputs stored in one transaction, beyond its first input


def batches(
    items: Sequence[T], size: Callable[[T], int], max_count: int, max_bytes: int
) -> Iterator[list[T]]:
    """``items`` in consecutive batches of at most ``max_count`` items and ``max_bytes`` (a
    batch holds at least one item, however large): one large input cannot make the writer
    hold the store for others for long."""
    batch: list[T] = []
    total = 0
    for item in items:
        weight = size(item)
        if batch and (len(batch) >= max_count or total + weight > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += weight
    if batch:
        yield batch


class IntakeWriter:
    def __init__(
        self,
        store: Store,
        flap: FlapRule = FlapRule(),
        max_batch: int = MAX_BATCH,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        self.changes = AlertChanges(store, flap)
        self.max_batch = max_batch
        self.max_batch_bytes = max_batch_bytes
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, raw: RawInput) -> Future[IngestCounts]:
        """Queue ``raw``; the future gives its counts once it is stored."""
        self._ensure_started()
        job = _Job(raw, Future())
        self._queue.put(job)
        return job.result

    async def accept(self, raw: RawInput) -> IngestCounts:
        """Hand over one input and wait (on the event loop) until it is stored."""
        return await asyncio.wrap_future(self.submit(raw))

    def ingest(self, raw: RawInput, timeout: float = 60) -> IngestCounts:
        """Hand over one input and wait until it is stored."""
        return self.submit(raw).result(timeout)

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="intake-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            size = len(first.raw.content)
            stop = False
            while len(jobs) < self.max_batch and size < self.max_batch_bytes:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                jobs.append(job)
                size += len(job.raw.content)
            self._write(jobs)
            if stop:
                return

    def write_each(
        self, raws: Sequence[RawInput], outcomes: Sequence[ParseOutcome]
    ) -> list[IngestCounts | Exception]:
        """Store a batch of parsed inputs now, in the calling thread
        (`AlertChanges.store_each`)."""
        return self.changes.store_each(raws, outcomes)

    def _write(self, jobs: list[_Job]) -> None:
        raws = [j.raw for j in jobs]
        try:
            outcomes = [parse_raw(raw) for raw in raws]  # before taking the lock
        except Exception as exc:  # parse_raw never raises; if it did, nothing is lost yet
            outcomes = [unparsed(raw, f"parser error: {exc}") for raw in raws]
        for job, result in zip(jobs, self.write_each(raws, outcomes), strict=True):
            if isinstance(result, Exception):  # the caller answers with an error; senders retry
                job.result.set_exception(result)
            else:
                job.result.set_result(result)

    def close(self) -> None:
        with self._lock:
            thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout=30)
