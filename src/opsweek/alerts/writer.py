"""One writer for concurrent intake (webhooks, SMTP, IMAP): callers hand over raw inputs and
wait; a single thread takes everything queued so far and ingests it in one transaction
(group commit). SQLite has one writer at a time anyway, and one commit for many webhooks is
what makes thousands of alerts per second possible."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy.exc import OperationalError

from opsweek.alerts.intake import IngestCounts, Intake
from opsweek.alerts.model import RawInput
from opsweek.alerts.parse import ParseOutcome, parse_raw, unparsed
from opsweek.alerts.triage import FlapRule
from opsweek.db.session import Store
from opsweek.errors import IntakeUnavailable

__all__ = ["IntakeUnavailable", "IntakeWriter", "Submitter", "batches"]

log = logging.getLogger(__name__)
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
        self.store = store
        self.flap = flap
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

    def write_now(
        self, raws: Sequence[RawInput], outcomes: Sequence[ParseOutcome]
    ) -> list[IngestCounts]:
        """Store parsed inputs in the calling thread: one transaction, in the store's writing
        turn (see `Store.writing`); the counts of each input, in order."""
        with self.store.writing_connection() as connection:
            return Intake(connection, flap=self.flap).store_parsed(raws, outcomes)

    def write_each(
        self, raws: Sequence[RawInput], outcomes: Sequence[ParseOutcome]
    ) -> list[IngestCounts | Exception]:
        """Store a batch; when the batch fails, each input on its own, so one input can never
        fail another's. An input that cannot be stored as parsed is stored as an unparsed
        one, with the reason; only a store that cannot be written at all (gone, read-only,
        full) fails them, and the senders retry."""
        try:
            return list(self.write_now(raws, outcomes))
        except OperationalError as exc:  # the store itself: nothing can be written now
            log.exception("intake batch of %d inputs failed", len(raws))
            return [exc] * len(raws)
        except Exception:
            if len(raws) > 1:
                log.exception("intake batch of %d inputs failed; storing each alone", len(raws))
        results: list[IngestCounts | Exception] = []
        for raw, outcome in zip(raws, outcomes, strict=True):
            try:
                results += self.write_now([raw], [outcome])
                continue
            except OperationalError as exc:
                results.append(exc)
                continue
            except Exception as exc:
                log.exception("an input could not be stored as parsed; keeping it unparsed")
                reason = f"could not be stored as parsed: {type(exc).__name__}: {exc}"[:500]
            try:
                results += self.write_now([raw], [unparsed(raw, reason)])
            except Exception as exc:
                results.append(exc)
        return results

    def _write(self, jobs: list[_Job]) -> None:
        raws = [j.raw for j in jobs]
        try:
            outcomes = [parse_raw(raw) for raw in raws]  # before our turn to write
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
