"""Who is on duty at a moment, and who is next: read with SQL expressions alone, without the
ORM, since `opsweek who` is the command people type most and should answer at once. The
rotation service's `who` reads the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Date, Integer, String, column, select, table

from opsweek.db.types import UTCDateTime
from opsweek.rotation.views import OnDuty, RotationConfig, WeekView
from opsweek.timeutil import utcnow

# the columns of rotation_weeks and people this reads (opsweek.db.models has the whole tables)
WEEKS = table(
    "rotation_weeks",
    column("week", Date),
    column("starts_at", UTCDateTime),
    column("ends_at", UTCDateTime),
    column("person_id", Integer),
    column("origin", String),
)
PEOPLE = table("people", column("id", Integer), column("username", String), column("name", String))
_SELECT = select(
    WEEKS.c.week,
    WEEKS.c.starts_at,
    WEEKS.c.ends_at,
    WEEKS.c.origin,
    PEOPLE.c.username,
    PEOPLE.c.name,
).join_from(WEEKS, PEOPLE, WEEKS.c.person_id == PEOPLE.c.id)


def on_duty(
    connection: Connection,
    config: RotationConfig,
    now: datetime | None = None,
    at: datetime | None = None,
) -> OnDuty:
    """The week holding ``at`` (default: now) and the one after it."""
    now = now or utcnow()
    moment = at or now
    current = connection.execute(
        _SELECT.where(WEEKS.c.starts_at <= moment, WEEKS.c.ends_at > moment)
    ).first()
    boundary = current.ends_at if current else moment
    upcoming = connection.execute(
        _SELECT.where(WEEKS.c.starts_at >= boundary).order_by(WEEKS.c.starts_at).limit(1)
    ).first()
    return OnDuty(_view(current, config, now), _view(upcoming, config, now))


def _view(row: Any, config: RotationConfig, now: datetime) -> WeekView | None:
    if row is None:
        return None
    return config.view(
        row.week, row.starts_at, row.ends_at, row.username, row.origin, now, row.name
    )
