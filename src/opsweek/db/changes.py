"""Has anything been committed to the store since I last looked? Pages rendered from the store
can be reused until the answer is yes, whichever process wrote (the web app, the CLI, the IRC
bot, a cron job).

- SQLite: ``PRAGMA data_version`` on a connection of our own, which never writes: its value
  changes whenever any other connection, in any process, commits.
- PostgreSQL: the current WAL position, which moves with every committed write (also with
  writes elsewhere in the cluster and with vacuum: that only makes a cached page be rendered
  again, never shown stale).
- Anything else: unknown, nothing is cached.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Protocol

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError


class ChangeMarker(Protocol):
    cheap: bool  # answers without a round trip to a server (may be asked on an event loop)

    def current(self) -> object | None:
        """A value that differs after any commit; None when it cannot be known."""

    def close(self) -> None:
        """Let go of what was opened to answer."""


class SqliteChanges:
    cheap = True

    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()

    def current(self) -> object | None:
        with self._lock:
            try:
                return self._connection.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                return None

    def close(self) -> None:
        self._connection.close()


class PostgresChanges:
    cheap = False

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def current(self) -> object | None:
        try:
            with self._engine.connect() as connection:
                return connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar()
        except SQLAlchemyError:
            return None

    def close(self) -> None:
        pass  # the engine's connections are the store's


class Unknown:
    cheap = True

    def current(self) -> object | None:
        return None

    def close(self) -> None:
        pass


def change_marker(engine: Engine) -> ChangeMarker:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            return Unknown()
        return SqliteChanges(database)
    if url.get_backend_name() == "postgresql":
        return PostgresChanges(engine)
    return Unknown()
