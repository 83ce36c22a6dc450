"""SQLite WAL checkpoints off the write path, and a write-ahead log that stays bounded.

By default the connection whose commit makes the WAL pass 1,000 pages copies it back into the
database and syncs the file, inside that commit; under a stream of webhooks that stalls every
writer. `opsweek serve` turns that off for its own connections and checkpoints four times a
second from a thread instead (PASSIVE: it never waits for or blocks readers and writers).
Other processes (the CLI) keep SQLite's automatic checkpoints.

A passive checkpoint never lets the log start again from its beginning while writers keep
writing and readers keep old snapshots: the log only grows (to 963 MB in 40 s under four
senders). So the thread also checkpoints in RESTART mode, which waits for the writers and
readers of the moment and has the next commit write from the log's start, when the log passes
``wal_limit``; and in TRUNCATE mode, which empties the file, once writes pause. Every
connection sets ``journal_size_limit``, so a log that starts again is cut back to that size.
Both modes take the store's writing lock first (`Store.writing`), so writers queue on it
instead of on SQLite's busy polling.

Why four times a second: each checkpoint ends by syncing the database file, and while the
file system flushes, the intake's writes to the WAL wait; the fewer pages a sync carries, the
shorter that wait. When nothing was written, a checkpoint does nothing."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

log = logging.getLogger(__name__)
CHECKPOINT_INTERVAL = 0.25  # seconds between checkpoints: see above
WAL_LIMIT = 64 * 1024 * 1024  # bytes: past this the log starts again (and is cut back to it)


def no_automatic_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class WalCheckpointer(threading.Thread):
    def __init__(
        self,
        database: str,
        interval: float = CHECKPOINT_INTERVAL,
        wal_limit: int = WAL_LIMIT,
        writing: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        super().__init__(name="wal-checkpoints", daemon=True)
        self.database = database
        self.interval = interval
        self.wal_limit = wal_limit
        self.writing = writing  # the store's writing lock
        self.stopping = threading.Event()
        self.checkpoints = 0
        self.restarts = 0
        self._frames = -1  # the log's frames at the last look: unchanged means writes paused

    def run(self) -> None:
        connection = sqlite3.connect(self.database, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout=5000")
            connection.execute(f"PRAGMA journal_size_limit={self.wal_limit}")
            while not self.stopping.wait(self.interval):
                self.checkpoint(connection)
            self.checkpoint(connection)  # what is left when the server stops
            self._checkpoint(connection, "TRUNCATE")
        finally:
            connection.close()

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        result = self._checkpoint(connection, "PASSIVE")
        if result is None:
            return
        self.checkpoints += 1
        _busy, frames, _copied = result
        paused = frames == self._frames
        self._frames = frames
        size = self._wal_size()
        if paused and size > 0:
            self._checkpoint(connection, "TRUNCATE")
        elif size > self.wal_limit:
            self._checkpoint(connection, "RESTART")

    def _checkpoint(self, connection: sqlite3.Connection, mode: str) -> tuple[int, int, int] | None:
        try:
            if mode == "PASSIVE":
                return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            with self.writing():
                result = connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            self.restarts += 1
            return result
        except sqlite3.Error as exc:  # busy or locked: the next round catches up
            log.warning("WAL checkpoint (%s) skipped: %s", mode, exc)
            return None

    def _wal_size(self) -> int:
        try:
            return os.stat(self.database + "-wal").st_size
        except OSError:
            return 0

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
