"""A restore cannot destroy (issue 29): the backup is restored beside the store and checked
there, and only then swapped in, the previous store kept; a backup with rows missing, of a
future schema, or carrying anything opsweek's schema does not define (a trigger that would
plant an API token, an extra table or view) is refused with the store untouched; no restore
while a server runs; backups are private files, never written through a link. On SQLite and
on a real PostgreSQL."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.backup import backup, manifest_path, table_counts
from opsweek.db.leadership import Serving
from opsweek.db.restore import restore
from opsweek.db.session import Store, make_engine, open_store
from opsweek.demo import seed
from opsweek.errors import BadInput
from opsweek.tokens import Tokens

TRIGGERS = {
    "sqlite": "CREATE TRIGGER plant AFTER INSERT ON sal_entries BEGIN "
    "INSERT INTO api_tokens (username, name, token_hash, created_at) "
    "VALUES ('mallory', 'planted', 'x', '2026-01-01'); END",
    "postgresql": "CREATE FUNCTION plant() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO api_tokens (username, name, token_hash, created_at) "
    "VALUES ('mallory', 'planted', 'x', now()); RETURN NEW; END $$; "
    "CREATE TRIGGER plant AFTER INSERT ON sal_entries FOR EACH ROW EXECUTE FUNCTION plant()",
}


@pytest.fixture
def engine(store: Store, now: datetime) -> Iterator[Engine]:
    """The demo's store, closed (as a person stops opsweek before a restore); its engine."""
    with store.writing() as session:
        seed(AlertChanges(store), session, App(load_settings(env={})).rotation_config, now)
    url = store.engine.url.render_as_string(hide_password=False)
    store.close()
    engine = make_engine(url)
    yield engine
    engine.dispose()


def rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return table_counts(connection)


def execute(engine: Engine, statements: str) -> None:
    if engine.dialect.name == "sqlite":
        with sqlite3.connect(engine.url.database or "") as connection:
            connection.executescript(statements)
        return
    with engine.begin() as connection:
        connection.execute(text(statements))


def refused(engine: Engine, path: Path, match: str) -> None:
    """``path`` is refused, saying ``match``, and the store is as it was and opens."""
    before = rows(engine)
    with pytest.raises(BadInput, match=match):
        restore(engine, path)
    assert rows(engine) == before and before["alerts"] > 0
    url = engine.url.render_as_string(hide_password=False)
    open_store(url).close()  # usable: at its schema, upgradable, nothing half-restored
    if engine.dialect.name == "sqlite":
        folder = Path(engine.url.database or "").parent
        assert not list(folder.glob("*.restore-*")), "a staged copy was left behind"
    else:
        with engine.connect() as connection:
            names = connection.execute(text("SELECT datname FROM pg_database")).scalars()
            staged = [
                n for n in names if "_schema_" in n or ("_restore_" in n and "_before_" not in n)
            ]
            assert not staged, "a staged copy was left behind"


def test_a_restore_swaps_in_a_checked_copy_and_keeps_the_store_as_it_was(
    engine: Engine, tmp_path: Path
) -> None:
    target = tmp_path / "store.backup"
    manifest = backup(engine, target)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alert_events"))
    restored = restore(engine, target)
    assert rows(engine) == manifest.counts
    if engine.dialect.name == "sqlite":
        previous = Path(restored.previous)
        assert previous.parent == Path(engine.url.database or "").parent
        assert stat.S_IMODE(previous.stat().st_mode) == 0o600
        kept = make_engine(f"sqlite:///{previous}")
    else:
        kept = make_engine(engine.url.set(database=restored.previous).render_as_string(False))
    assert rows(kept)["alert_events"] == 0  # the store as it was just before
    kept.dispose()


def test_a_backup_with_rows_missing_is_refused_and_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    full, fewer = tmp_path / "full.backup", tmp_path / "fewer.backup"
    backup(engine, full)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alert_events"))
        connection.execute(text("DELETE FROM alerts"))
    backup(engine, fewer)
    restore(engine, full)  # the store has its alerts back
    os.chmod(manifest_path(fewer), 0o600)
    manifest_path(fewer).write_text(manifest_path(full).read_text())  # the manifest unchanged
    refused(engine, fewer, "does not match its manifest: alert_events: 0 rows")


def test_a_backup_of_a_future_schema_is_refused_and_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    current, future = tmp_path / "current.backup", tmp_path / "future.backup"
    backup(engine, current)
    execute(engine, "UPDATE alembic_version SET version_num = '9999'")
    backup(engine, future)
    execute(engine, f"UPDATE alembic_version SET version_num = '{_revision(current)}'")
    refused(engine, future, "newer than this opsweek knows")
    manifest_path(future).write_text(manifest_path(current).read_text())  # it says it is not
    refused(engine, future, "at schema 9999, its manifest says")


@pytest.mark.parametrize(
    ("planted", "said"),
    [
        ("trigger", "trigger plant that opsweek's schema does not define"),
        ("CREATE TABLE extra (x integer)", "table extra that opsweek's schema does not define"),
        ("CREATE VIEW tokens AS SELECT * FROM api_tokens", "table tokens|view tokens"),
    ],
)
def test_a_backup_carrying_what_opsweek_does_not_define_is_refused(
    engine: Engine, tmp_path: Path, planted: str, said: str
) -> None:
    """A restored backup with a planted trigger inserted an API token that the API then
    accepted: now it never becomes the store, and nothing of it runs."""
    clean, carrying = tmp_path / "clean.backup", tmp_path / "carrying.backup"
    backup(engine, clean)
    execute(engine, TRIGGERS[engine.dialect.name] if planted == "trigger" else planted)
    backup(engine, carrying)
    restore(engine, clean)  # the store without it
    refused(engine, carrying, said)
    store = Store(engine)
    with store.session() as session:  # an insert now plants nothing
        from opsweek.sal.log import SalLog

        SalLog(session).append("ann", "after the refused restore", source="cli")
        assert [t.username for t in Tokens(session).list()] == []


def test_no_restore_while_a_server_runs(engine: Engine, tmp_path: Path) -> None:
    target = tmp_path / "store.backup"
    backup(engine, target)
    server = Serving(make_engine(engine.url.render_as_string(hide_password=False)))
    server.hold_shared()  # what every `opsweek serve` holds while it runs
    try:
        refused(engine, target, "opsweek serve is running on this store")
    finally:
        server.release()
    restore(engine, target)  # once it stopped


def test_backups_are_private_files_never_written_through_a_link(
    engine: Engine, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "victim"
    elsewhere.write_text("not yours")
    for link in ("b1.backup.json", "b2.backup.partial"):
        (tmp_path / link).symlink_to(elsewhere)
    for name in ("b1.backup", "b2.backup"):
        with pytest.raises(BadInput, match="exists already"):
            backup(engine, tmp_path / name)
    assert elsewhere.read_text() == "not yours"
    made = tmp_path / "b3.backup"
    backup(engine, made)
    for path in (made, manifest_path(made)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _revision(path: Path) -> str:
    return str(json.loads(manifest_path(path).read_text())["revision"])
