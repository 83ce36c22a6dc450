"""Backups of the store, on SQLite and on PostgreSQL (restores: opsweek.db.restore).

- SQLite: SQLite's online backup API, a consistent copy while `opsweek serve` writes.
- PostgreSQL: `pg_dump --format=custom` of a snapshot the row counts are read in too, so the
  counts describe exactly what was dumped.

Each backup has a manifest beside it (``FILE.json``: the schema revision and the rows of each
table). Backups and manifests are new files, readable by their owner only (0600), never
written through a link that is already there. Passwords go to `pg_dump` and `pg_restore` in
their environment, never on their command line."""

from __future__ import annotations

import glob
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url

from opsweek.db.session import sqlite_file
from opsweek.errors import BadInput, ConfigError, Unavailable

MANIFEST_SUFFIX = ".json"
SQLITE, PG_DUMP = "sqlite", "pg_dump"


@dataclass(frozen=True)
class Manifest:
    format: str  # sqlite, pg_dump
    revision: str | None
    counts: dict[str, int]
    taken_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "revision": self.revision,
            "counts": self.counts,
            "taken_at": self.taken_at,
        }


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def read_manifest(path: Path) -> Manifest:
    try:
        data = json.loads(manifest_path(path).read_text(encoding="utf-8"))
        return Manifest(data["format"], data["revision"], dict(data["counts"]), data["taken_at"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"{manifest_path(path)}: not a backup manifest ({exc})") from None


def private_new_file(path: Path) -> int:
    """Create ``path`` as a new file readable by its owner only, and open it for writing;
    BadInput when anything (a file, a link) is there already: nothing is written through it."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise BadInput(f"{path} exists already: name a new file") from None
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}") from None


def backup(engine: Engine, path: Path) -> Manifest:
    """Write a backup of the store to ``path`` (and its manifest beside it)."""
    if path.exists() or path.is_symlink() or manifest_path(path).is_symlink():
        raise BadInput(f"{path} exists already: name a new file")
    database = sqlite_file(engine)
    if database is not None:
        manifest = _backup_sqlite(database, path)
    elif engine.url.get_backend_name() == "postgresql":
        manifest = _backup_postgres(engine, path)
    else:
        raise ConfigError(f"no backup for {engine.url.get_backend_name()} stores")
    with os.fdopen(private_new_file(manifest_path(path)), "w", encoding="utf-8") as handle:
        handle.write(json.dumps(manifest.as_json(), indent=2))
    return manifest


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows of each of opsweek's tables (not SQLite's own, nor the full-text index's)."""
    names = sorted(
        name
        for name in inspect(connection).get_table_names()
        if not name.startswith(("sqlite_", "sal_fts"))
    )
    return {
        name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() or 0)
        for name in names
    }


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


# --- SQLite -----------------------------------------------------------------------------
def _backup_sqlite(database: str, path: Path) -> Manifest:
    partial = path.with_name(path.name + ".partial")
    os.close(private_new_file(partial))
    source = sqlite3.connect(database)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # page by page; a copy as of its end, writers go on
            check = target.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise Unavailable(f"the backup of {database} is damaged: {check}")
        finally:
            target.close()
    finally:
        source.close()
    partial.rename(path)
    return _sqlite_manifest(path)


def _sqlite_manifest(path: Path) -> Manifest:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return Manifest(SQLITE, _revision(connection), table_counts(connection), _now())
    finally:
        engine.dispose()


# --- PostgreSQL ---------------------------------------------------------------------------
def _pg_tool(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise ConfigError(f"{name} not found (Debian package postgresql-client)")
    return found[-1]


def _libpq(engine: Engine) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL tools, and their environment (the password)."""
    url = make_url(engine.url)
    options = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        options += ["--username", url.username]
    environment = {**os.environ}
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    return options, environment


def _backup_postgres(engine: Engine, path: Path) -> Manifest:
    options, environment = _libpq(engine)
    database = make_url(engine.url).database or "postgres"
    partial = path.with_name(path.name + ".partial")
    output = private_new_file(partial)
    # one snapshot for the counts and the dump: the transaction's, exported to pg_dump
    with (
        engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        ) as connection,
        connection.begin(),
    ):
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
        manifest = Manifest(PG_DUMP, _revision(connection), table_counts(connection), _now())
        done = subprocess.run(
            [
                _pg_tool("pg_dump"),
                *options,
                "--format=custom",
                f"--snapshot={snapshot}",
                database,
            ],
            env=environment,
            stdout=output,  # into the file made above, never a path pg_dump opens itself
            stderr=subprocess.PIPE,
            text=True,
            timeout=3600,
        )
    os.close(output)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise Unavailable(f"pg_dump failed: {done.stderr.strip()[-500:]}")
    partial.rename(path)
    return manifest
