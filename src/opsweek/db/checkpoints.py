"""SQLite WAL checkpoints off the write path. By default the connection whose commit makes the
WAL pass 1,000 pages copies it back into the database and syncs the file, inside that commit;
under a stream of webhooks that stalls every writer. `opsweek serve` turns that off for its own
connections and checkpoints four times a second from a thread instead (PASSIVE: it never waits
for or blocks readers and writers). Other processes (the CLI) keep SQLite's automatic
checkpoints, so the WAL stays bounded when no server runs.

Why four times a second: each checkpoint ends by syncing the database file, and while the
file system flushes, the intake's writes to the WAL wait; the fewer pages a sync carries, the
shorter that wait. When nothing was written, a checkpoint does nothing."""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

log = logging.getLogger(__name__)
CHECKPOINT_INTERVAL = 0.25  # seconds between checkpoints: see above


def no_automatic_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class WalCheckpointer(threading.Thread):
    def __init__(self, database: str, interval: float = CHECKPOINT_INTERVAL) -> None:
        super().__init__(name="wal-checkpoints", daemon=True)
        self.database = database
        self.interval = interval
        self.stopping = threading.Event()
        self.checkpoints = 0

    def run(self) -> None:
        connection = sqlite3.connect(self.database, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout=5000")
            while not self.stopping.wait(self.interval):
                self.checkpoint(connection)
            self.checkpoint(connection)  # what is left when the server stops
        finally:
            connection.close()

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
        except sqlite3.Error as exc:  # busy or locked: the next round catches up
            log.warning("WAL checkpoint skipped: %s", exc)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
