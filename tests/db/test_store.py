"""The store on SQLite and on a real PostgreSQL server: migrations, models, UTC round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from opsweek.db.models import Base, Person, RotationChange, RotationWeek
from opsweek.db.session import (
    Store,
    alembic_config,
    newest_revision,
    open_store,
    stored_revision,
    upgrade,
)
from opsweek.errors import BadInput, Conflict, NotFound
from opsweek.rotation.availability import AvailabilityPolicy, AwayPeriod
from opsweek.rotation.people import PersonRecord
from opsweek.rotation.service import Rotation
from opsweek.rotation.team import Team
from opsweek.rotation.views import RotationConfig
from opsweek.rotation.weeks import WeekRule

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # a Friday; DST begins 2026-03-29 in Paris
CONFIG = RotationConfig(WeekRule(ZoneInfo("Europe/Paris"), 3, time(9, 0)), AvailabilityPolicy())


def add_team(store: Store, names: list[str]) -> None:
    with store.session() as session:
        team = Team(session, NOW)
        for name in names:
            team.add(
                PersonRecord(name, name.title(), f"{name}@example.org", name, "", "Europe/Paris")
            )


def test_migrations_are_applied_once(database_url: str) -> None:
    store = open_store(database_url)
    head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
    assert newest_revision() == head  # read from the file names, as Alembic reads the files
    with store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
    assert stored_revision(store.engine) == head
    assert {"people", "away", "rotation_weeks", "rotation_changes"} <= set(
        inspect(store.engine).get_table_names()
    )
    assert upgrade(store.engine)[0] == head  # nothing left to do
    store.close()
    open_store(database_url).close()  # reopening is fine


def test_migrations_build_the_schema_the_models_describe(database_url: str) -> None:
    """A model changed without its migration (or the other way round) shows up here. The SAL's
    full-text search (an FTS5 table on SQLite, an expression index on PostgreSQL) exists in
    the migrations only."""
    store = open_store(database_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": lambda name, _type, _parents: "_fts" not in (name or "")},
        )
        differences = compare_metadata(context, Base.metadata)
    store.close()
    assert differences == []


def test_times_round_trip_as_utc(store: Store) -> None:
    add_team(store, ["ann"])
    with store.session() as session:
        rotation = Rotation(session, CONFIG, "tester", NOW)
        rotation.plan(2)
    with store.session() as session:
        rows = list(session.scalars(select(RotationWeek).order_by(RotationWeek.week)))
        assert rows[0].starts_at == datetime(2026, 3, 19, 8, 0, tzinfo=UTC)
        # the second week spans the DST change: it ends at 09:00 CEST, 07:00 UTC
        assert rows[1].ends_at == datetime(2026, 4, 2, 7, 0, tzinfo=UTC)
        assert rows[0].starts_at.tzinfo is UTC


def test_usernames_are_unique(store: Store) -> None:
    add_team(store, ["ann"])
    with pytest.raises(BadInput, match="already exists"), store.session() as session:
        Team(session, NOW).add(PersonRecord("ann"))
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(
            Person(
                username="ann",
                name="",
                email="",
                irc_nick="",
                slack_id="",
                timezone="UTC",
                active=True,
                created_at=NOW,
            )
        )


def test_plan_swap_cover_are_stored_with_who_asked(store: Store) -> None:
    add_team(store, ["ann", "bob", "cid", "dan"])
    with store.session() as session:
        result = Rotation(session, CONFIG, "lead", NOW).plan(4)
        assert len(result.changed) == 4
    with store.session() as session:
        rotation = Rotation(session, CONFIG, "ann", NOW)
        first, _, third, _ = rotation.weeks()
        rotation.swap(first.week, third.week)
        rotation.cover(third.week + timedelta(days=7), "bob", allow_consecutive=True)
    with store.session() as session:
        rotation = Rotation(session, CONFIG, "x", NOW)
        weeks = rotation.weeks()
        assert weeks[0].username == third.username and weeks[0].origin == "swap"
        assert weeks[2].username == first.username
        assert weeks[3].username == "bob" and weeks[3].origin == "cover"
        changes = session.scalars(select(RotationChange).order_by(RotationChange.id)).all()
        assert [(c.action, c.actor) for c in changes] == [
            ("plan", "lead"),
            ("swap", "ann"),
            ("cover", "ann"),
        ]
        assert changes[1].detail["weeks"][first.week.isoformat()] == third.username


def test_swap_onto_an_away_week_is_refused_and_nothing_changes(store: Store) -> None:
    add_team(store, ["ann", "bob", "cid"])
    with store.session() as session:
        Rotation(session, CONFIG, "lead", NOW).plan(3)
    with store.session() as session:
        weeks = Rotation(session, CONFIG, "x", NOW).weeks()
        away_person = weeks[0].username
        Team(session, NOW).add_away(
            AwayPeriod(away_person, weeks[2].week, weeks[2].week + timedelta(days=6), "vacation")
        )
    with pytest.raises(Conflict, match="cannot take the week"), store.session() as session:
        Rotation(session, CONFIG, "x", NOW).swap(weeks[0].week, weeks[2].week)
    with store.session() as session:
        assert [w.username for w in Rotation(session, CONFIG, "x", NOW).weeks()] == [
            w.username for w in weeks
        ]


def test_published_weeks_stay_and_vacations_become_conflicts(store: Store) -> None:
    add_team(store, ["ann", "bob", "cid", "dan"])
    config = RotationConfig(CONFIG.rule, CONFIG.policy, published_weeks=2)
    with store.session() as session:
        Rotation(session, config, "lead", NOW).plan(6)
    with store.session() as session:
        before = Rotation(session, config, "x", NOW).weeks()
        victim = before[1]  # published
        Team(session, NOW).add_away(
            AwayPeriod(victim.username or "", victim.week, victim.week + timedelta(days=2), "sick")
        )
    with store.session() as session:
        rotation = Rotation(session, config, "lead", NOW)
        result = rotation.plan(6)
        after = rotation.weeks()
    assert after[0].username == before[0].username
    assert after[1].username == victim.username  # never silently reassigned
    assert [c.week for c in result.conflicts] == [victim.week]
    conflict = result.conflicts[0]
    assert "sick" in conflict.reason
    assert conflict.suggestion is not None
    assert conflict.suggestion.username != victim.username


def test_no_eligible_person_writes_nothing(store: Store) -> None:
    add_team(store, ["ann"])
    with store.session() as session:
        Team(session, NOW).add_away(AwayPeriod("ann", date(2026, 4, 2), date(2026, 4, 30)))
    with pytest.raises(Conflict, match="2026-04-02"), store.session() as session:
        Rotation(session, CONFIG, "lead", NOW).plan(6)
    with store.session() as session:
        assert session.scalar(select(RotationWeek.id)) is None
        assert session.scalar(select(RotationChange.id)) is None


def test_who_is_on_duty(store: Store) -> None:
    add_team(store, ["ann", "bob"])
    with store.session() as session:
        Rotation(session, CONFIG, "lead", NOW).plan(3)
    with store.session() as session:
        rotation = Rotation(session, CONFIG, "x", NOW)
        weeks = rotation.weeks()
        duty = rotation.who()
        assert duty.current is not None and duty.next is not None
        assert (duty.current.username, duty.next.username) == (weeks[0].username, weeks[1].username)
        at_handoff = rotation.who(weeks[1].starts_at)
        assert at_handoff.current is not None and at_handoff.current.week == weeks[1].week
        assert rotation.who(weeks[2].ends_at).current is None


def test_removed_person_keeps_history_but_is_not_planned(store: Store) -> None:
    add_team(store, ["ann", "bob", "cid"])
    with store.session() as session:
        Team(session, NOW).remove("cid")
        with pytest.raises(NotFound):
            Team(session, NOW).get("cid")
        assert Team(session, NOW).get("cid", include_inactive=True).removed_at == NOW
        plan = Rotation(session, CONFIG, "lead", NOW).plan(4)
        assert {w.username for w in plan.weeks} == {"ann", "bob"}


def test_each_migration_is_named_after_its_revision() -> None:
    """What lets `newest_revision` read the file names instead of importing Alembic."""
    from pathlib import Path

    from opsweek.db.session import MIGRATIONS

    for path in sorted((Path(MIGRATIONS) / "versions").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert f'revision = "{path.name[:4]}"' in text, path.name
