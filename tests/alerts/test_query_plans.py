"""Every query of alerts by last_seen reads an index. Alerts are indexed in two halves, open
and resolved (a repeat of a firing alert moves an entry in the open half only); a query over
all alerts reads both halves. A full scan would read a year of alerts for each inbox page."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.service import AlertFilter, Inbox
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store, open_store
from tests.alerts.helpers import raw_inputs

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday
OPEN_INDEX = "ix_alerts_open_last_seen"
RESOLVED_INDEX = "ix_alerts_resolved_last_seen"


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'plans.db'}")
    changes = AlertChanges(store)
    changes.ingest(
        raw_inputs("refine_failure.eml") + raw_inputs("alertmanager_firing.json"),
        NOW - timedelta(days=1),
    )
    changes.ingest(raw_inputs("alertmanager_resolved.json"), NOW)
    yield store
    store.close()


def plans(store: Store, run: Callable[[], Any]) -> list[str]:
    """The query plan of each SELECT of alerts that ``run`` makes."""
    statements: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        statement, parameters = args[2], args[3]
        if statement.lstrip().upper().startswith("SELECT") and "FROM alerts" in statement:
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    with store.engine.connect() as connection:
        return [
            " / ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {s}", p))
            for s, p in statements
        ]


def assert_no_table_scan(found: list[str]) -> None:
    assert found, "no query of alerts was made"
    for plan in found:
        assert "SCAN alerts" not in plan or "USING" in plan, plan


@pytest.mark.parametrize(
    ("status", "indexes"),
    [
        (None, {OPEN_INDEX, RESOLVED_INDEX}),
        ("open", {OPEN_INDEX}),
        ("firing", {OPEN_INDEX}),
        ("acknowledged", {OPEN_INDEX}),
        ("resolved", {RESOLVED_INDEX}),
    ],
)
def test_the_inbox_reads_the_half_it_lists(
    sqlite_store: Store, status: str | None, indexes: set[str]
) -> None:
    for since in (None, NOW - timedelta(days=2)):
        with sqlite_store.session() as session:
            listing = functools.partial(Inbox(session).list, AlertFilter(status, since=since))
            found = plans(sqlite_store, listing)
        assert_no_table_scan(found)
        assert {i for plan in found for i in (OPEN_INDEX, RESOLVED_INDEX) if i in plan} == indexes
        assert not any("TEMP B-TREE" in plan for plan in found)  # read in order, not sorted


def test_a_list_of_all_alerts_is_newest_first_across_both_halves(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        everything = Inbox(session).list(AlertFilter())
        assert {a.status for a in everything} == {"firing", "resolved"}
        assert [(a.last_seen, a.id) for a in everything] == sorted(
            ((a.last_seen, a.id) for a in everything), reverse=True
        )
        newest_two = Inbox(session).list(AlertFilter(limit=2))
        assert [a.id for a in newest_two] == [a.id for a in everything[:2]]


def test_the_handoff_and_canary_recoveries_read_indexes(sqlite_store: Store) -> None:
    settings = load_settings(env={})
    with sqlite_store.session() as session:
        handoff = App(settings).handoff(session, now=NOW, outside=False)
        found = plans(sqlite_store, handoff.inputs)
    assert_no_table_scan(found)
    assert any(OPEN_INDEX in plan for plan in found)
    assert any(RESOLVED_INDEX in plan for plan in found)
    # canary failures, then a success recovering them
    changes = AlertChanges(sqlite_store)
    found = plans(sqlite_store, lambda: changes.ingest(raw_inputs("canary.log", NOW), NOW))
    assert changes.ingest(raw_inputs("canary.log", NOW), NOW).resolved > 0
    assert_no_table_scan(found)
