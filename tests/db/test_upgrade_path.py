"""A store made by an early opsweek (schema 0005: the team, the rotation, alerts with their raw
inputs and history, the SAL, duties, decisions) upgraded to today's schema, on SQLite and on
a real PostgreSQL: every row is kept and read by today's code; a store of a schema newer than
this opsweek knows is refused with one clear line, never downgraded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from opsweek.alerts.service import AlertFilter, Inbox
from opsweek.db.backup import table_counts
from opsweek.db.models import DutyInstance, Person, RotationWeek
from opsweek.db.session import alembic_config, make_engine, newest_revision, open_store, upgrade
from opsweek.db.types import UTCDateTime
from opsweek.errors import ConfigError
from opsweek.sal.log import SalLog

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
EARLY = "0005"


def early_tables() -> dict[str, sa.TableClause]:
    """The tables as schema 0005 had them (their columns, from the migrations)."""
    when = UTCDateTime()
    c = sa.column
    return {
        "people": sa.table(
            "people",
            *(c(n) for n in ("id", "username", "name", "email", "irc_nick", "slack_id")),
            *(c(n) for n in ("timezone", "active")),
            c("created_at", when),
            c("removed_at", when),
            c("password_hash"),
        ),
        "away": sa.table(
            "away",
            *(c(n) for n in ("id", "person_id", "start", "end", "reason", "source")),
            c("created_at", when),
        ),
        "rotation_weeks": sa.table(
            "rotation_weeks",
            c("id"),
            c("week"),
            c("starts_at", when),
            c("ends_at", when),
            *(c(n) for n in ("person_id", "origin", "updated_by")),
            c("updated_at", when),
        ),
        "raw_inputs": sa.table(
            "raw_inputs",
            *(c(n) for n in ("id", "intake_key", "format", "origin", "size", "content")),
            c("received_at", when),
            c("parse_error"),
        ),
        "alerts": sa.table(
            "alerts",
            *(c(n) for n in ("id", "fingerprint", "kind", "source", "title", "severity")),
            *(c(n) for n in ("status", "group_key", "count", "fire_count", "flapping")),
            *(c(n, sa.JSON()) for n in ("flap_history", "details")),
            *(c(n) for n in ("raw_id", "acked_by", "resolved_by")),
            *(c(n, when) for n in ("first_seen", "last_seen", "acked_at", "resolved_at")),
            c("resolution_note"),
            c("updated_at", when),
        ),
        "alert_events": sa.table(
            "alert_events",
            c("id"),
            c("alert_id"),
            c("at", when),
            c("actor"),
            c("action"),
            c("note"),
        ),
        "sal_entries": sa.table(
            "sal_entries",
            *(c(n) for n in ("id", "nick", "message", "channel", "project", "host", "source")),
            c("logged_at", when),
            c("corrects_id"),
        ),
        "sal_refs": sa.table(
            "sal_refs", c("id"), c("entry_id"), c("kind"), c("value"), c("logged_at", when)
        ),
        "duty_instances": sa.table(
            "duty_instances",
            *(c(n) for n in ("id", "duty_key", "title", "on_demand", "state")),
            *(c(n, sa.JSON()) for n in ("steps", "alert_ids", "detail")),
            *(c(n) for n in ("note", "created_by", "closed_by")),
            *(c(n, when) for n in ("due_at", "overdue_at", "created_at", "closed_at")),
        ),
        "decisions": sa.table(
            "decisions", c("id"), c("at", when), c("actor"), c("text"), c("mailed_at", when)
        ),
    }


def early_rows() -> dict[str, list[dict[str, object]]]:
    people = [
        {
            "id": n,
            "username": name,
            "name": name.title(),
            "email": f"{name}@example.org",
            "irc_nick": name,
            "slack_id": "",
            "timezone": "Europe/Paris",
            "active": True,
            "created_at": T0,
            "removed_at": None,
            "password_hash": None,
        }
        for n, name in enumerate(["ana", "ben", "cho"], start=1)
    ]
    weeks = [
        {
            "id": n,
            "week": date(2026, 10, 1) + timedelta(days=7 * n),
            "starts_at": T0 + timedelta(days=7 * n),
            "ends_at": T0 + timedelta(days=7 * (n + 1)),
            "person_id": 1 + n % 3,
            "origin": "plan",
            "updated_by": "ana",
            "updated_at": T0,
        }
        for n in range(1, 9)
    ]
    mail = b"From: airflow@example.org\r\nSubject: Airflow alert\r\n\r\nfailed\r\n"
    raws = [
        {
            "id": n,
            "intake_key": f"k{n}",
            "format": "email",
            "origin": "imap",
            "size": len(mail),
            "content": mail,
            "received_at": T0 + timedelta(hours=n),
            "parse_error": None,
        }
        for n in range(1, 6)
    ]
    alerts = [
        {
            "id": n,
            "fingerprint": f"fp{n}",
            "kind": "refine_failure",
            "source": "email",
            "title": f"refine_event: event.page_change 2026-10-01T0{n}",
            "severity": "error",
            "status": "resolved" if n % 2 else "firing",
            "group_key": f"g{n}",
            "count": n,
            "fire_count": 1,
            "flapping": False,
            "flap_history": [],
            "details": {"job": "refine_event", "table": "event.page_change"},
            "raw_id": n,
            "acked_by": "ana" if n % 2 else None,
            "resolved_by": "ana" if n % 2 else None,
            "first_seen": T0 + timedelta(hours=n),
            "last_seen": T0 + timedelta(hours=n, minutes=5),
            "acked_at": T0 + timedelta(hours=n, minutes=9) if n % 2 else None,
            "resolved_at": T0 + timedelta(hours=n + 1) if n % 2 else None,
            "resolution_note": "reran the hour" if n % 2 else None,
            "updated_at": T0 + timedelta(hours=n + 1),
        }
        for n in range(1, 6)
    ]
    events = [
        {"id": n, "alert_id": 1 + n % 5, "at": T0 + timedelta(hours=n), "actor": "ana"}
        | {"action": "created", "note": ""}
        for n in range(1, 11)
    ]
    sal = [
        {
            "id": n,
            "nick": "ana",
            "message": f"reran refine_event hour {n} (T34{n}000)",
            "channel": "#wikimedia-analytics",
            "project": "analytics",
            "host": "",
            "source": "irc",
            "logged_at": T0 + timedelta(hours=n),
            "corrects_id": None,
        }
        for n in range(1, 13)
    ]
    refs = [
        {"id": n, "entry_id": n, "kind": "job", "value": "refine_event"}
        | {"logged_at": T0 + timedelta(hours=n)}
        for n in range(1, 13)
    ]
    duties = [
        {
            "id": n,
            "duty_key": "daily-alarms",
            "title": "Look at the alarms",
            "on_demand": False,
            "state": "done" if n < 4 else "due",
            "steps": [{"text": "Acknowledge every firing alert"}],
            "alert_ids": [],
            "detail": {},
            "note": "",
            "created_by": "opsweek",
            "closed_by": "ana" if n < 4 else None,
            "due_at": T0 + timedelta(days=n),
            "overdue_at": T0 + timedelta(days=n, hours=8),
            "created_at": T0 + timedelta(days=n),
            "closed_at": T0 + timedelta(days=n, hours=1) if n < 4 else None,
        }
        for n in range(1, 5)
    ]
    decisions = [{"id": 1, "at": T0, "actor": "ben", "text": "pause the sqoop timer"}]
    away = [
        {"id": 1, "person_id": 2, "start": date(2026, 11, 2), "end": date(2026, 11, 6)}
        | {"reason": "holiday", "source": "cli", "created_at": T0}
    ]
    return {
        "people": people,
        "away": away,
        "rotation_weeks": weeks,
        "raw_inputs": raws,
        "alerts": alerts,
        "alert_events": events,
        "sal_entries": sal,
        "sal_refs": refs,
        "duty_instances": duties,
        "decisions": [{**d, "mailed_at": None} for d in decisions],
    }


def test_an_early_store_is_upgraded_with_every_row(database_url: str) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), EARLY)
    tables, rows = early_tables(), early_rows()
    with engine.begin() as connection:
        for name, table in tables.items():
            connection.execute(sa.insert(table), rows[name])
        if engine.dialect.name == "sqlite":  # as the early intake wrote some times
            connection.execute(sa.text("UPDATE alerts SET first_seen = substr(first_seen, 1, 19)"))
        else:  # rows written with their ids: the sequences go on after them, as they would have
            for name in tables:
                sequence = f"pg_get_serial_sequence('{name}', 'id')"
                connection.execute(sa.text(f"SELECT setval({sequence}, max(id)) FROM {name}"))
    with engine.connect() as connection:
        before = table_counts(connection)

    assert upgrade(engine) == (EARLY, newest_revision())
    with engine.connect() as connection:
        after = table_counts(connection)
    engine.dispose()
    assert {t: after[t] for t in before} == before  # every row kept
    assert all(after[t] == 0 for t in set(after) - set(before) - {"alembic_version"})

    store = open_store(database_url)
    with store.session() as session:
        alerts = Inbox(session).list(AlertFilter(limit=10))
        assert sorted(a.id for a in alerts) == [1, 2, 3, 4, 5]
        first = Inbox(session).get(1)
        assert first.first_seen == T0 + timedelta(hours=1)  # the short time reads the same
        assert first.details == {"job": "refine_event", "table": "event.page_change"}
        assert Inbox(session).counts(open_only=True) == {"firing": 2, "acknowledged": 0}
        sal = SalLog(session)
        assert len(sal.search("refine_event")) == 12  # the full-text index has them
        assert len(sal.related({"refine_event"}, T0)) == 10
        assert session.query(RotationWeek).count() == 8
        assert {p.username for p in session.query(Person)} == {"ana", "ben", "cho"}
        assert session.query(DutyInstance).filter_by(state="done").count() == 3
        SalLog(session).append("ana", "after the upgrade", source="cli")  # and it takes writes
    store.close()


def test_a_store_of_a_newer_schema_is_refused(database_url: str) -> None:
    store = open_store(database_url)
    store.close()
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ConfigError, match="schema 9999, newer than this opsweek knows"):
        upgrade(engine)
    engine.dispose()
