"""Backups and restores of the store, on SQLite and on a real PostgreSQL: consistent while
written to, every row back, checked against the manifest; refused when they cannot be right."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.backup import backup, manifest_path, table_counts
from opsweek.db.restore import restore
from opsweek.db.session import Store, make_engine, open_store
from opsweek.demo import seed
from opsweek.errors import BadInput
from opsweek.sal.log import SalLog
from tests.conftest import Cli


def demo(store: Store, now: datetime) -> None:
    ops = App(load_settings(env={}))
    with store.writing() as session:
        seed(AlertChanges(store), session, ops.rotation_config, now)


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return table_counts(connection)
    finally:
        engine.dispose()


def test_a_backup_while_written_to_restores_every_row(
    database_url: str, store: Store, tmp_path: Path, now: datetime
) -> None:
    demo(store, now)
    stop = threading.Event()

    def write() -> None:  # another process logging to the SAL all along
        number = 0
        while not stop.is_set():
            number += 1
            with store.session() as session:
                SalLog(session).append("ann", f"reran refine hour {number}", source="cli")

    writer = threading.Thread(target=write)
    writer.start()
    try:
        target = tmp_path / "backups" / "store.backup"
        target.parent.mkdir()
        engine = make_engine(database_url)
        manifest = backup(engine, target)
        engine.dispose()
    finally:
        stop.set()
        writer.join()
    assert manifest.revision == store_revision(database_url)
    assert manifest.counts["alerts"] > 0 and manifest.counts["sal_entries"] > 0
    assert json.loads(manifest_path(target).read_text())["counts"] == manifest.counts
    after = counts(database_url)
    assert after["sal_entries"] >= manifest.counts["sal_entries"]  # written on meanwhile

    with store.session() as session:  # a change after the backup: gone once restored
        SalLog(session).append("ann", "after the backup", source="cli")
    store.close()
    engine = make_engine(database_url)
    restored = restore(engine, target)
    engine.dispose()
    assert restored.manifest == manifest and counts(database_url) == manifest.counts
    again = open_store(database_url)
    with again.session() as session:
        assert SalLog(session).search("after the backup") == []
        assert SalLog(session).search("reran refine")  # the full-text search works
    again.close()


def store_revision(url: str) -> str | None:
    from opsweek.db.session import stored_revision

    engine = make_engine(url)
    try:
        return stored_revision(engine)
    finally:
        engine.dispose()


def test_a_restore_refuses_what_cannot_be_right(tmp_path: Path, now: datetime) -> None:
    source = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    demo(source, now)
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    target = tmp_path / "a.backup"
    backup(engine, target)
    with pytest.raises(BadInput, match="exists already"):
        backup(engine, target)
    engine.dispose()
    source.close()
    data = json.loads(manifest_path(target).read_text())
    newer = tmp_path / "newer.backup"
    newer.write_bytes(target.read_bytes())
    manifest_path(newer).write_text(json.dumps({**data, "revision": "9999"}))
    fresh = create_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with pytest.raises(BadInput, match="newer than this opsweek knows"):
        restore(fresh, newer)
    broken = tmp_path / "broken.backup"
    broken.write_bytes(b"not a database at all" * 100)
    manifest_path(broken).write_text(json.dumps(data))
    with pytest.raises(BadInput, match="not an SQLite backup"):
        restore(fresh, broken)
    dump = tmp_path / "dump.backup"
    dump.write_bytes(b"PGDMP")
    manifest_path(dump).write_text(json.dumps({**data, "format": "pg_dump"}))
    with pytest.raises(BadInput, match="a pg_dump backup: it cannot restore a SQLite store"):
        restore(fresh, dump)
    fresh.dispose()


def test_the_commands_say_what_they_did_and_ask_before_replacing(cli: Cli, tmp_path: Path) -> None:
    cli.ok("log", "before the backup")
    made = cli.json("db", "backup", str(tmp_path / "one.backup"))
    assert made["format"] == "sqlite" and made["counts"]["sal_entries"] == 1
    cli.ok("log", "after the backup")
    asked = cli("db", "restore", str(tmp_path / "one.backup"))
    assert asked.exit_code == 2 and "run again with --yes" in asked.stderr
    assert len(cli.json("sal", "list")["entries"]) == 2  # nothing replaced
    done = cli.json("db", "restore", str(tmp_path / "one.backup"), "--yes")
    assert done["counts"] == made["counts"]
    assert [e["message"] for e in cli.json("sal", "list")["entries"]] == ["before the backup"]
    missing = cli("db", "restore", str(tmp_path / "none.backup"), "--yes")
    assert missing.exit_code == 2 and "no such backup" in missing.stderr
