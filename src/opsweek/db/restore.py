"""Restoring a backup without risking the store: the backup is restored beside the store (a new
SQLite file, or a new PostgreSQL database), checked there, and only then swapped in, the
previous store kept beside it; no server may run meanwhile.

The check, before anything of the backup runs or is written to:
- integrity (SQLite's ``integrity_check``);
- the schema: the revision the copy says is the manifest's, one this opsweek knows, and the
  copy holds exactly the tables, columns, indexes, views and triggers (PostgreSQL: functions,
  rules and schemas too) that opsweek's own migrations make at that revision, nothing more: a
  backup could carry a trigger that writes an API token on the first insert;
- the rows: each table holds what the manifest counted.

A backup of an older schema is upgraded after the swap (`opsweek db restore` does it), as a
store opsweek made itself."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from opsweek.db.backup import (
    PG_DUMP,
    SQLITE,
    Manifest,
    _libpq,
    _pg_tool,
    _revision,
    private_new_file,
    read_manifest,
    table_counts,
)
from opsweek.db.leadership import Serving
from opsweek.db.session import alembic_config, newest_revision, revisions, sqlite_file
from opsweek.errors import BadInput, ConfigError, Unavailable

Inventory = dict[str, object]  # "<kind> <name>": what defines it (columns, normalised SQL)


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    previous: str  # where the store as it was before is kept


def restore(engine: Engine, path: Path) -> Restored:
    """Replace the store with the backup at ``path``, checked first; the previous store kept."""
    if not path.is_file():
        raise BadInput(f"{path}: no such backup")
    manifest = read_manifest(path)
    if manifest.revision is not None and manifest.revision not in revisions():
        raise BadInput(
            f"{path} holds a store of schema {manifest.revision}, newer than this opsweek "
            f"knows ({newest_revision()}): upgrade opsweek first"
        )
    database = sqlite_file(engine)
    postgres = engine.url.get_backend_name() == "postgresql"
    if not (
        (database is not None and manifest.format == SQLITE)
        or (postgres and manifest.format == PG_DUMP)
    ):
        store = "SQLite" if database is not None else engine.url.get_backend_name()
        raise BadInput(f"{path} is a {manifest.format} backup: it cannot restore a {store} store")
    serving = Serving(engine)
    if not serving.try_exclusive():
        raise BadInput(
            "opsweek serve is running on this store: stop every server first (what it "
            "acknowledged meanwhile would be lost)"
        )
    try:
        engine.dispose()  # no connection of ours in the way
        if database is not None:
            return Restored(manifest, _restore_sqlite(path, database, manifest))
        return Restored(manifest, _restore_postgres(engine, path, manifest, serving))
    finally:
        serving.release()


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def check_copy(
    connection: Connection, manifest: Manifest, reference: Inventory, found: Inventory
) -> None:
    """The restored copy is what the manifest says, in opsweek's own schema; BadInput if not."""
    revision = _revision(connection)
    if revision != manifest.revision:
        raise BadInput(
            f"the backup's store is at schema {revision}, its manifest says {manifest.revision}"
        )
    extra = sorted(set(found) - set(reference), key=_columns_last)
    changed = sorted(
        (k for k in set(found) & set(reference) if found[k] != reference[k]), key=_columns_last
    )
    missing = sorted(set(reference) - set(found), key=_columns_last)
    if extra or changed or missing:
        said = [f"{k} that opsweek's schema does not define" for k in extra[:5]]
        said += [f"{k} unlike opsweek's" for k in changed[:5]]
        said += [f"no {k}" for k in missing[:5]]
        raise BadInput(f"the backup is not an opsweek store as made by opsweek: {'; '.join(said)}")
    counts = table_counts(connection)
    wrong = {t: (n, counts.get(t)) for t, n in manifest.counts.items() if counts.get(t) != n}
    if wrong:
        details = ", ".join(f"{t}: {got} rows, the backup had {n}" for t, (n, got) in wrong.items())
        raise BadInput(f"the backup does not match its manifest: {details}")


def _columns_last(key: str) -> tuple[bool, str]:
    """Whole objects (tables, views, triggers) are named before the columns they have."""
    return (key.startswith("column "), key)


def _migrated(engine: Engine, revision: str | None) -> None:
    if revision is not None:
        from alembic import command

        command.upgrade(alembic_config(engine), revision)


# --- SQLite -----------------------------------------------------------------------------
def sqlite_inventory(connection: sqlite3.Connection) -> Inventory:
    found: Inventory = {}
    rows = connection.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    ).fetchall()
    for kind, name, table, sql in rows:
        if kind == "table":
            columns = connection.execute(f'PRAGMA table_xinfo("{name}")').fetchall()
            found[f"table {name}"] = tuple((c[1], c[2].upper(), c[5]) for c in columns)
        elif kind == "index":
            found[f"index {name}"] = table
        else:  # views and triggers run SQL: theirs must be opsweek's, word for word
            found[f"{kind} {name}"] = " ".join(re.sub(r"\s+", " ", sql or "").split())
    return found


def _sqlite_reference(revision: str | None) -> Inventory:
    with tempfile.TemporaryDirectory(prefix="opsweek-schema-") as folder:
        engine = create_engine(f"sqlite:///{folder}/reference.db")
        try:
            _migrated(engine, revision)
        finally:
            engine.dispose()
        connection = sqlite3.connect(f"{folder}/reference.db")
        try:
            return sqlite_inventory(connection)
        finally:
            connection.close()


def _restore_sqlite(path: Path, database: str, manifest: Manifest) -> str:
    live = Path(database)
    staged = live.with_name(f"{live.name}.restore-{_stamp()}")
    private_new_file(staged)
    try:
        _copy_sqlite(path, staged)
        connection = sqlite3.connect(f"file:{staged}?mode=ro", uri=True)
        try:
            found = sqlite_inventory(connection)
        finally:
            connection.close()
        copy = create_engine(f"sqlite:///file:{staged}?mode=ro&uri=true")
        try:
            with copy.connect() as reading:
                check_copy(reading, manifest, _sqlite_reference(manifest.revision), found)
        finally:
            copy.dispose()
        return _swap_sqlite(live, staged)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def _copy_sqlite(path: Path, staged: Path) -> None:
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BadInput(f"{path} is damaged: not restored")
            target = sqlite3.connect(staged)
            try:
                source.backup(target)
                # one self-contained file: no log beside it to lose or leave behind
                target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.DatabaseError as exc:
        raise BadInput(f"{path}: not an SQLite backup ({exc})") from None


def _swap_sqlite(live: Path, staged: Path) -> str:
    """The checked copy becomes the store in one rename; the store as it was is kept."""
    previous = live.with_name(f"{live.name}.before-restore-{_stamp()}")
    if live.exists():
        with contextlib.closing(sqlite3.connect(live)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the file
        try:
            os.link(live, previous)
        except OSError:
            shutil.copy2(live, previous)
        os.chmod(previous, 0o600)
    os.replace(staged, live)
    for suffix in ("-wal", "-shm"):  # the previous store's: they would not fit the new one
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    return str(previous)


# --- PostgreSQL ---------------------------------------------------------------------------
PG_INVENTORY = {
    "table": "SELECT table_name, table_type FROM information_schema.tables "
    "WHERE table_schema = 'public'",
    "column": "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
    "WHERE table_schema = 'public'",
    "index": "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = 'public'",
    "trigger": "SELECT tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT tgisinternal",
    "function": "SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', "
    "md5(p.prosrc) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')",
    "rule": "SELECT schemaname || '.' || rulename, definition FROM pg_rules "
    "WHERE schemaname NOT IN ('pg_catalog')",
    "schema": "SELECT nspname, '' FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
    "AND nspname NOT IN ('information_schema', 'public')",
    "extension": "SELECT extname, '' FROM pg_extension WHERE extname <> 'plpgsql'",
}


def postgres_inventory(connection: Connection) -> Inventory:
    found: Inventory = {}
    for kind, query in PG_INVENTORY.items():
        for name, definition in connection.execute(text(query)):
            found[f"{kind} {name}"] = definition
    return found


def _admin(engine: Engine, statement: str) -> None:
    """A statement on no database of opsweek's (one cannot create, drop or rename a database
    from a session on it, nor rename one any session is on)."""
    admin = create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


@contextlib.contextmanager
def _database(engine: Engine, name: str) -> Iterator[Engine]:
    """A new, empty database beside the store's."""
    try:
        _admin(engine, f'CREATE DATABASE "{name}"')
    except Exception as exc:
        raise ConfigError(
            f"cannot create a database to restore into ({exc.__class__.__name__}): the "
            "store's role needs CREATEDB for a restore"
        ) from None
    created = create_engine(engine.url.set(database=name))
    try:
        yield created
    finally:
        created.dispose()


def _drop(engine: Engine, name: str) -> None:
    _admin(engine, f'DROP DATABASE IF EXISTS "{name}"')


def _restore_postgres(engine: Engine, path: Path, manifest: Manifest, serving: Serving) -> str:
    live = make_url(engine.url).database or "postgres"
    stamp = _stamp().lower()
    staged, previous = f"{live}_restore_{stamp}", f"{live}_before_restore_{stamp}"
    expected = _postgres_reference(engine, f"{live}_schema_{stamp}", manifest.revision)
    try:
        with _database(engine, staged) as copy:
            _pg_restore(copy, path)
            with copy.connect() as connection:
                check_copy(connection, manifest, expected, postgres_inventory(connection))
        serving.release()  # its connection is to the store: a rename needs none there
        _swap_databases(engine, live, staged, previous)
    except BaseException:
        _drop(engine, staged)
        raise
    return previous


def _postgres_reference(engine: Engine, name: str, revision: str | None) -> Inventory:
    """What opsweek's migrations make at ``revision``, in a database made for the purpose."""
    try:
        with _database(engine, name) as reference:
            _migrated(reference, revision)
            with reference.connect() as connection:
                return postgres_inventory(connection)
    finally:
        _drop(engine, name)


def _pg_restore(engine: Engine, path: Path) -> None:
    options, environment = _libpq(engine)
    done = subprocess.run(
        [
            _pg_tool("pg_restore"),
            *options,
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            f"--dbname={make_url(engine.url).database}",
            str(path),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise BadInput(f"{path}: pg_restore refused it: {done.stderr.strip()[-500:]}")


def _swap_databases(engine: Engine, live: str, staged: str, previous: str) -> None:
    """The checked copy becomes the store: two renames, the first undone when the second
    fails."""
    try:
        _admin(engine, f'ALTER DATABASE "{live}" RENAME TO "{previous}"')
    except Exception as exc:
        raise Unavailable(
            f"could not set the store aside ({exc.__class__.__name__}): is another session "
            "connected to it?"
        ) from None
    try:
        _admin(engine, f'ALTER DATABASE "{staged}" RENAME TO "{live}"')
    except Exception as exc:
        _admin(engine, f'ALTER DATABASE "{previous}" RENAME TO "{live}"')
        raise Unavailable(
            f"could not swap the restored copy in ({exc.__class__.__name__}); the store is "
            "as it was"
        ) from None
