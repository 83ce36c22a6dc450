"""Has anything been committed to the store since I last looked? Pages rendered from the store
can be reused until the answer is yes, whichever process wrote (the web app, the CLI, the IRC
bot, a cron job).

- SQLite: ``PRAGMA data_version`` on a connection of our own, which never writes: its value
  changes whenever any other connection, in any process, commits.
- PostgreSQL: the current WAL position, which moves with every committed write (also with
  writes elsewhere in the cluster and with vacuum: that only makes a cached page be rendered
  again, never shown stale).
- Anything else: unknown (the base `ChangeMarker`), nothing is cached.
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from opsweek.db.session import sqlite_file


class ChangeMarker:
    """The marker of a store whose changes cannot be seen: it never answers, so nothing is
    cached. The others below say when something was committed."""

    cheap = True  # answers without a round trip to a server (may be asked on an event loop)

    def current(self) -> object | None:
        """A value that differs after any commit; None when it cannot be known."""
        return None

    def close(self) -> None:
        """Let go of a connection opened to answer; this marker opened none."""


class SqliteChanges(ChangeMarker):
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


class PostgresChanges(ChangeMarker):
    """Asks through the store's engine, whose connections the store closes."""

    cheap = False

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def current(self) -> object | None:
        try:
            with self._engine.connect() as connection:
                return connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar()
        except SQLAlchemyError:
            return None


def change_marker(engine: Engine) -> ChangeMarker:
    database = sqlite_file(engine)
    if database is not None:
        return SqliteChanges(database)
    if engine.url.get_backend_name() == "postgresql":
        return PostgresChanges(engine)
    return ChangeMarker()
