"""Which one of several `opsweek serve` on one store does a piece of scheduled work (the
reminders, the checks, the polls, the SAL publishing) or holds the IRC bot's connection: the
one holding its lock, so each runs once whatever the number of servers.

- PostgreSQL: a session advisory lock, on a connection of its own. The database lets go of it
  when that connection ends: at once when the process dies (its socket is closed by the
  kernel); when a whole host is gone, once the database server's own TCP keepalives give up
  (`tcp_keepalives_idle`, `_interval`, `_count` in postgresql.conf: 10, 5 and 6 make it about
  40 s; the system's default is two hours). The connection asks for keepalives too, so that a
  server cut off from the database soon sees it lost the lock.
- SQLite (one host): an exclusive lock on a file beside the database, let go by the kernel
  when the process ends.

A server that does not hold a lock tries again each time it asks (its jobs ask every time
they are due), so the work moves to another server within one interval of the job after the
leader died."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from opsweek.db.session import sqlite_file

log = logging.getLogger(__name__)
# libpq's TCP keepalives on the lock's connection: a lost database is noticed in about 40 s
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 6,
}


def lock_key(name: str) -> int:
    """A 64-bit advisory lock key for ``name`` (opsweek's own keys never meet others')."""
    digest = hashlib.sha256(f"opsweek leadership: {name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leadership:
    def __init__(self, engine: Engine, name: str) -> None:
        self.engine, self.name = engine, name
        self._lock = threading.Lock()
        self._connection: Any = None  # PostgreSQL: the connection holding the lock
        self._file: int | None = None  # SQLite: the open lock file

    def held(self) -> bool:
        """Do we hold the lock (taking it when free)? Never raises: a store that cannot be
        asked means not holding it."""
        with self._lock:
            try:
                database = sqlite_file(self.engine)
                if database is not None:
                    return self._held_file(Path(f"{database}-leader-{self.name}.lock"))
                if self.engine.dialect.name == "postgresql":
                    return self._held_postgres()
                return True  # a store of its own: nobody else to share the work with
            except Exception as exc:
                log.warning("leadership of %s: %s", self.name, exc)
                self._drop()
                return False

    def release(self) -> None:
        with self._lock:
            self._drop()

    def _held_postgres(self) -> bool:
        if self._connection is not None:
            self._connection.execute("SELECT 1")  # still there: then the lock is still ours
            return True
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        connection = psycopg.connect(dsn, autocommit=True, **KEEPALIVES)  # type: ignore[arg-type]
        taken = connection.execute(
            "SELECT pg_try_advisory_lock(%s)", (lock_key(self.name),)
        ).fetchone()
        if taken and taken[0]:
            self._connection = connection
            log.info("this server now does %s", self.name)
            return True
        connection.close()
        return False

    def _held_file(self, path: Path) -> bool:
        if self._file is not None:
            return True
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self._file = descriptor
        return True

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception as exc:  # gone already: so is the lock
                log.debug("closing the lock's connection: %s", exc)
            self._connection = None
        if self._file is not None:
            os.close(self._file)
            self._file = None


SERVING = lock_key("serving")  # held shared by every running server, exclusively by a restore


class Serving:
    """Every `opsweek serve` on a store holds this lock, shared, while it runs; a restore takes
    it exclusively, so it is refused while any server runs, and a server starting meanwhile
    waits for the restore to end (SQLite: a shared file lock; PostgreSQL: a shared session
    advisory lock on a connection of its own)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Any = None
        self._file: int | None = None

    def hold_shared(self) -> None:
        """For a server: held until `release` (or the process ends); waits for a restore."""
        database = sqlite_file(self.engine)
        if database is not None:
            self._file = os.open(f"{database}-serving.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._file, fcntl.LOCK_SH)
        elif self.engine.dialect.name == "postgresql":
            self._connection = self._connect()
            self._connection.execute("SELECT pg_advisory_lock_shared(%s)", (SERVING,))

    def try_exclusive(self) -> bool:
        """For a restore: True when no server runs (the lock is then ours until `release`)."""
        database = sqlite_file(self.engine)
        if database is not None:
            self._file = os.open(f"{database}-serving.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.release()
                return False
            return True
        if self.engine.dialect.name == "postgresql":
            self._connection = self._connect()
            row = self._connection.execute("SELECT pg_try_advisory_lock(%s)", (SERVING,)).fetchone()
            if not (row and row[0]):
                self.release()
                return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._file is not None:
            os.close(self._file)
            self._file = None

    def _connect(self) -> Any:
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        return psycopg.connect(dsn, autocommit=True, **KEEPALIVES)  # type: ignore[arg-type]
