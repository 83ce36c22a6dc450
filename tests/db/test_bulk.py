"""The bulk helpers of the intake's hot path store and read exactly what SQLAlchemy Core
stores and reads, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from opsweek.db.bulk import BulkLookup, BulkStatement, reserve_ids
from opsweek.db.models import Alert
from opsweek.db.session import Store, alembic_config, make_engine, upgrade

ALERTS = Alert.__table__
COLUMNS = ("fingerprint", "kind", "source", "title", "severity", "status", "group_key")
TIMES = ("first_seen", "last_seen", "updated_at")


def row(fingerprint: str, seen: datetime) -> dict[str, object]:
    return {
        **{name: f"{name}-{fingerprint}" for name in COLUMNS},
        "fingerprint": fingerprint,
        "first_seen": seen,
        "last_seen": seen + timedelta(microseconds=1),
        "updated_at": seen,
        "count": 1,
        "fire_count": 1,
        "flapping": True,
        "flap_history": [seen.isoformat()],
        "details": {"labels": {"a": "b"}, "n": [1, 2]},
    }


def raw_rows(store: Store, fingerprints: list[str]) -> list[tuple[object, ...]]:
    """The stored values as the database driver returns them, before any type conversion."""
    names = ", ".join(("fingerprint", *TIMES, "flapping", "flap_history", "details"))
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"SELECT {names} FROM alerts ORDER BY fingerprint").all()
    return [tuple(r[1:]) for r in rows if r[0] in fingerprints]


def test_bulk_insert_stores_what_core_stores(store: Store) -> None:
    seen = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    paris = datetime(2026, 11, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))  # the same instant
    keys = [*COLUMNS, *TIMES, "count", "fire_count", "flapping", "flap_history", "details"]
    statement = BulkStatement(insert(ALERTS), keys)
    with store.session() as session:
        session.execute(insert(ALERTS), [row("core-a", seen), row("core-b", paris)])
        statement.execute(session.connection(), [row("bulk-a", seen), row("bulk-b", paris)])
    assert raw_rows(store, ["core-a", "core-b"]) == raw_rows(store, ["bulk-a", "bulk-b"])


def test_driver_errors_come_out_as_sqlalchemy_errors(store: Store) -> None:
    """The bulk helpers run on the DBAPI cursor; callers still see SQLAlchemy's exceptions
    (the intake answers 503 on any `SQLAlchemyError`)."""
    seen = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    keys = [*COLUMNS, *TIMES, "count", "fire_count", "flapping", "flap_history", "details"]
    statement = BulkStatement(insert(ALERTS), keys)
    with pytest.raises(IntegrityError), store.session() as session:
        statement.execute(session.connection(), [row("twice", seen), row("twice", seen)])
    lookup = BulkLookup([ALERTS.c.id], ALERTS.c.fingerprint)
    with store.session() as session:
        assert lookup.rows(session.connection(), ["twice"]) == []  # nothing half-written


def test_reserved_ids_are_new_and_ordinary_inserts_continue_after_them(store: Store) -> None:
    seen = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    keys = ["id", *COLUMNS, *TIMES, "count", "fire_count", "flapping", "flap_history", "details"]
    with store.writing_connection() as connection:
        assert reserve_ids(connection, ALERTS, 0) == []
        connection.execute(insert(ALERTS), [row("before", seen)])
        ids = reserve_ids(connection, ALERTS, 3)
        rows = [{**row(f"r{i}", seen), "id": i} for i in ids]
        BulkStatement(insert(ALERTS), keys).execute(connection, rows)
        connection.execute(insert(ALERTS), [row("after", seen)])
    with store.engine.connect() as connection:
        stored = dict(connection.execute(select(ALERTS.c.fingerprint, ALERTS.c.id)).all())
    assert len(set(ids)) == 3 and stored["before"] < min(ids) and max(ids) < stored["after"]
    assert [stored[f"r{i}"] for i in ids] == ids


def test_lookup_reads_what_core_reads_for_any_number_of_values(store: Store) -> None:
    seen = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    fingerprints = [f"fp-{i:04d}" for i in range(1100)]
    with store.session() as session:
        session.execute(
            insert(ALERTS),
            [row(fp, seen + timedelta(minutes=i)) for i, fp in enumerate(fingerprints)],
        )
    columns = [
        ALERTS.c.id,
        ALERTS.c.fingerprint,
        *(ALERTS.c[n] for n in TIMES),
        ALERTS.c.flapping,
        ALERTS.c.flap_history,
        ALERTS.c.details,
    ]
    lookup = BulkLookup(columns, ALERTS.c.fingerprint, chunk=512)
    with store.session() as session:
        expected = {r.fingerprint: dict(r._mapping) for r in session.execute(select(*columns))}
        for wanted in (fingerprints[:1], fingerprints[:9], fingerprints[5:1005], ["nowhere"]):
            asked = [*wanted, "nowhere", wanted[0]]  # absent and repeated values too
            found = lookup.rows(session.connection(), asked)
            by_fingerprint = {r["fingerprint"]: r for r in found}
            assert len(found) == len(by_fingerprint)  # padding returns no row twice
            assert by_fingerprint == {fp: expected[fp] for fp in wanted if fp in expected}
    assert found == []
    assert expected["fp-0001"]["first_seen"] == seen + timedelta(minutes=1)
    assert expected["fp-0001"]["first_seen"].tzinfo is UTC


def test_migration_pads_times_stored_by_the_old_bulk_path(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0008")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO alerts (fingerprint, kind, source, title, severity, status, group_key,"
            " first_seen, last_seen, count, fire_count, flapping, flap_history, details,"
            " updated_at) VALUES ('fp', 'k', 's', 't', 'warning', 'firing', 'g',"
            " '2026-11-01 12:00:00', '2026-11-01 12:00:00.250000', 1, 1, 0, '[]', '{}',"
            " '2026-11-01 12:00:00')"
        )
    upgrade(engine)
    with engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT first_seen, last_seen, acked_at, updated_at FROM alerts"
        ).one()
    engine.dispose()
    assert tuple(stored) == (
        "2026-11-01 12:00:00.000000",
        "2026-11-01 12:00:00.250000",
        None,
        "2026-11-01 12:00:00.000000",
    )
