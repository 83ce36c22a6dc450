"""Reading alerts by when they were last seen: every list of alerts is read here, so no other
module needs to know how they are indexed.

Alerts are indexed by last_seen in two partial indexes, one of the open alerts (firing or
acknowledged) and one of the resolved ones: a repeat of a firing alert then rewrites an entry
of the small open index only, not of an index of a year of alerts. A query reads each part it
needs from its own index, and the parts are merged here. For SQLite to take those indexes, the
condition must be the index's own, written as a literal, and wrapped in ``likely()``: without
statistics, SQLite's planner takes any equality on the indexed status column as selective and
would read the status index and sort a year of resolved alerts instead."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.sqltypes import NullType

from opsweek.db.models import Alert

OPEN = "open"  # a status filter meaning firing or acknowledged
_RESOLVED = "resolved"
_PARTS = {  # the conditions of ix_alerts_open_last_seen and ix_alerts_resolved_last_seen
    OPEN: Alert.status != literal_column("'resolved'"),
    _RESOLVED: Alert.status == literal_column("'resolved'"),
}


class _Likely(FunctionElement[bool]):
    """A condition most rows meet: SQLite's ``likely(X)``, plain ``X`` elsewhere."""

    # not Boolean: on SQLite, Core writes a Boolean condition as "X = 1", which no longer
    # names the partial index's condition
    type = NullType()
    inherit_cache = True


@compiles(_Likely)
def _likely(element: _Likely, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)})"


@compiles(_Likely, "sqlite")
def _likely_on_sqlite(element: _Likely, compiler: SQLCompiler, **kw: Any) -> str:
    return f"likely({compiler.process(element.clauses, **kw)})"


def _in_parts(query: Select[Any], status: str | None) -> list[Select[Any]]:
    """``query`` once per index part that holds ``status`` (None: every alert)."""
    parts = {None: [OPEN, _RESOLVED], _RESOLVED: [_RESOLVED]}.get(status, [OPEN])
    single = status if status not in (None, OPEN, _RESOLVED) else None
    found = []
    for part in parts:
        narrowed = query.where(_Likely(_PARTS[part]))
        found.append(narrowed.where(_Likely(Alert.status == single)) if single else narrowed)
    return found


def newest_alerts(
    session: Session,
    *conditions: ColumnElement[bool],
    status: str | None = None,
    limit: int | None = None,
) -> list[Alert]:
    """Alerts meeting ``conditions``, newest first (by last_seen, then id). ``status``: one
    status, or `OPEN` for firing and acknowledged; ``limit``: at most that many."""
    query = select(Alert).where(*conditions).order_by(Alert.last_seen.desc(), Alert.id.desc())
    if limit is not None:
        query = query.limit(limit)
    found: list[Alert] = []
    for part in _in_parts(query, status):
        found += session.scalars(part)
    found.sort(key=lambda alert: (alert.last_seen, alert.id), reverse=True)
    return found if limit is None else found[:limit]


def alert_rows(session: Session, columns: list[Any], *conditions: ColumnElement[bool]) -> list[Any]:
    """``columns`` of every alert meeting ``conditions``, as rows, in no order: what reports
    read by the thousand without building an object per alert."""
    found: list[Any] = []
    for part in _in_parts(select(*columns).where(*conditions), None):
        found += session.execute(part).all()
    return found


def open_alert_rows(
    connection: Connection, columns: list[Any], *conditions: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """``columns`` of the open alerts meeting ``conditions``, as dicts (for the intake)."""
    (query,) = _in_parts(select(*columns).where(*conditions), OPEN)
    return [dict(row._mapping) for row in connection.execute(query)]
