"""Engine, sessions and migrations. The schema is brought to the newest revision on first use."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import ArgumentError, OperationalError

from opsweek.db.checkpoints import (
    CHECKPOINT_INTERVAL,
    WAL_LIMIT,
    WalCheckpointer,
    no_automatic_checkpoints,
)
from opsweek.errors import ConfigError
from opsweek.jsontext import encode_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = str(Path(__file__).with_name("migrations"))
JSON_CODEC: dict[str, Any] = {"json_serializer": encode_json, "json_deserializer": orjson.loads}


SYNCHRONOUS = ("NORMAL", "FULL")


def _sqlite_pragmas(synchronous: str) -> Callable[[Any, Any], None]:
    """Pragmas of every SQLite connection. WAL + NORMAL (the default): no fsync per commit; a
    crash of the process keeps every acknowledged commit, a power cut may lose the last ones.
    FULL syncs every commit: power cuts lose nothing acknowledged, at the cost of a sync."""

    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")  # a log that restarts is cut
        cursor.close()

    return set_pragmas


def private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (0600), in a directory only the owner can
    enter (0700) when opsweek makes it: the store holds password hashes and tokens' hashes.
    SQLite gives its -wal and -shm files the database file's permissions."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(descriptor)


def make_engine(url: str, synchronous: str = "NORMAL") -> Engine:
    if synchronous.upper() not in SYNCHRONOUS:
        raise ConfigError(f"database.sqlite_synchronous must be one of {', '.join(SYNCHRONOUS)}")
    try:
        if url.startswith("sqlite"):
            database = url.split("///", 1)[-1]
            if database and database != ":memory:" and not database.startswith("file:"):
                private_file(Path(database))
            engine = create_engine(url, **JSON_CODEC)
            event.listen(engine, "connect", _sqlite_pragmas(synchronous.upper()))
            return engine
        return create_engine(url, pool_pre_ping=True, **JSON_CODEC)
    except (ArgumentError, ModuleNotFoundError) as exc:
        raise ConfigError(f"cannot use database URL: {exc}") from None


def revisions() -> list[str]:
    """The revisions of the migrations, oldest first, from the migration files' names
    (revision ``NNNN`` is ``versions/NNNN_what.py``), without importing Alembic."""
    names = (Path(MIGRATIONS) / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    return sorted(path.name[:4] for path in names)


def newest_revision() -> str:
    """The revision of the newest migration: a command on a current store pays nothing for
    migrations."""
    return revisions()[-1]


def stored_revision(engine: Engine) -> str | None:
    """The revision the store is at (Alembic's ``alembic_version`` table); None when new."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply pending migrations; returns (revision before, revision after). A store of a
    schema this opsweek does not know (a newer opsweek wrote it) is left alone: there are no
    downgrades."""
    before, newest = stored_revision(engine), newest_revision()
    if before is not None and before not in revisions():
        raise ConfigError(
            f"the store is at schema {before}, newer than this opsweek knows ({newest}): "
            "run the opsweek that wrote it, or a newer one (stores are never downgraded)"
        )
    if before != newest:
        from alembic import command

        command.upgrade(alembic_config(engine), "head")
    return before, newest


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["engine"] = engine
    return config


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # where the SAL entries opsweek makes are published (`sal.publish`): every session
        # carries it, so an entry and its outbox rows are written in one transaction
        self.sal_publish: tuple[str, ...] = ()
        self._sessions: sessionmaker[Session] | None = None  # the ORM, loaded when first used

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        if self._sessions is None:
            from sqlalchemy.orm import sessionmaker

            self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        with self._sessions() as session:
            session.info[SAL_PUBLISH] = self.sal_publish
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def checkpoint_in_background(
        self, interval: float = CHECKPOINT_INTERVAL, wal_limit: int = WAL_LIMIT
    ) -> WalCheckpointer | None:
        """For a long-running writer (`opsweek serve`): WAL checkpoints from a thread instead
        of inside commits, and a log kept under about ``wal_limit`` (see
        opsweek.db.checkpoints). None when the store is not a SQLite file."""
        database = sqlite_file(self.engine)
        if database is None:
            return None
        event.listen(self.engine, "connect", no_automatic_checkpoints)
        self.engine.dispose()  # pooled connections open again, without automatic checkpoints
        checkpointer = WalCheckpointer(database, interval, wal_limit, self._process_lock)
        checkpointer.start()
        return checkpointer

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session for a change that reads what it changes first (every change of alert
        state, see opsweek.alerts.changes), one at a time across every thread and process
        using the store: `opsweek serve`, the CLI, the bot, the checks.
        SQLite: an exclusive lock on a file beside the database, taken before the transaction
        begins (waiting on it wakes at once, unlike SQLite's busy polling); PostgreSQL: a
        transaction-scoped advisory lock. The session says it holds the lock:
        ``session.info[WRITING]``."""
        with self._process_lock(), self.session() as session:
            self._lock_in_transaction(session.connection())
            session.info[WRITING] = True
            yield session

    def _process_lock(self) -> AbstractContextManager[None]:
        database = sqlite_file(self.engine)
        return _file_lock(Path(database + "-writer.lock")) if database else nullcontext()

    def _lock_in_transaction(self, connection: Connection) -> None:
        if self.engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK})

    def close(self) -> None:
        self.engine.dispose()


def sqlite_file(engine: Engine) -> str | None:
    """The path of the engine's SQLite database file; None for another database, an
    in-memory one or a `file:` URI."""
    database = engine.url.database or ""
    if engine.url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return None if database.startswith("file:") else database


SAL_PUBLISH = "opsweek.sal_publish"  # in every session's info: see Store.sal_publish
WRITING = "opsweek.writing"  # in the info of a session that holds the writing lock
WRITER_LOCK = 0x6F70737765656B  # "opsweek": the advisory lock key of `Store.writing`
_LOCAL = threading.Lock()  # flock locks a file per process, not per thread


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with _LOCAL, path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_store(url: str, migrate: bool = True, synchronous: str = "NORMAL") -> Store:
    engine = make_engine(url, synchronous)
    if migrate:
        try:
            upgrade(engine)
        except OperationalError as exc:
            engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConfigError(f"cannot open the database: {reason}") from None
    return Store(engine)
