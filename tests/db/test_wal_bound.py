"""The SQLite write-ahead log stays bounded while webhooks arrive back to back, and shrinks once
they stop (issue 29: with only passive checkpoints, four senders took it to 963 MB in 40 s and
it never shrank). Writers ingest Alertmanager webhooks as the intake does, while a reader
keeps reading as the pages do: readers on old snapshots are what keep a log from restarting."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import ALERTMANAGER
from opsweek.alerts.model import RawInput
from opsweek.db.models import Alert, RawInputRow
from opsweek.db.session import open_store

pytestmark = pytest.mark.slow

LIMIT = 4 * 1024 * 1024  # the log's bound for this test (opsweek's own is 64 MiB)


def webhook(sender: int, number: int, at: datetime) -> RawInput:
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"Load{sender}", "instance": f"host{n}-{number % 100}:9100"},
            "annotations": {"summary": "x" * 400},
            "startsAt": "2026-12-01T10:00:00Z",
        }
        for n in range(10)
    ]
    body = orjson.dumps({"version": "4", "status": "firing", "alerts": alerts})
    return RawInput(body, ALERTMANAGER, at, "test")


def test_a_stream_of_webhooks_keeps_the_log_bounded_and_it_shrinks_after(
    tmp_path: Path, now: datetime
) -> None:
    database = tmp_path / "opsweek.db"
    wal = Path(f"{database}-wal")
    store = open_store(f"sqlite:///{database}")
    checkpointer = store.checkpoint_in_background(wal_limit=LIMIT)
    assert checkpointer is not None
    stop = threading.Event()
    largest = [0]

    def send(sender: int) -> None:
        changes = AlertChanges(store)
        number = 0
        while not stop.is_set():
            changes.ingest([webhook(sender, number, now)])
            number += 1

    def read() -> None:  # a page rendering now and then, on the snapshot it began with
        while not stop.is_set():
            with store.session() as session:
                session.scalar(select(func.count()).select_from(Alert))
                time.sleep(0.05)

    def watch() -> None:
        while not stop.is_set():
            largest[0] = max(largest[0], wal.stat().st_size if wal.exists() else 0)
            time.sleep(0.02)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=read), threading.Thread(target=watch)]
    for thread in threads:
        thread.start()
    time.sleep(12)
    stop.set()
    for thread in threads:
        thread.join()
    with store.session() as session:
        stored = session.scalar(select(func.count()).select_from(RawInputRow))
    assert stored and stored > 1000, stored  # a real stream went through
    # the log starts again at the first look past the limit: what the stream writes until then
    # (some 18 MiB a second here) comes on top. Passive checkpoints alone: 214 MiB in 12 s.
    print(f"{stored} webhooks, the log at most {largest[0] / 2**20:.1f} MiB")
    assert largest[0] < LIMIT + 12 * 2**20, f"the log reached {largest[0] / 2**20:.1f} MiB"
    deadline = time.monotonic() + 5
    while wal.stat().st_size > 0:
        assert time.monotonic() < deadline, f"the log kept {wal.stat().st_size} bytes"
        time.sleep(0.1)
    checkpointer.stop()
    store.close()
