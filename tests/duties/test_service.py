"""Duty occurrences in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from opsweek.db.models import DutyInstance, SalEntry
from opsweek.db.session import Store
from opsweek.duties.definitions import DutyBook, default_duties
from opsweek.duties.service import Duties, status
from opsweek.errors import BadInput, NotFound

UTC_TZ = ZoneInfo("UTC")
BOOK = DutyBook(default_duties(3, time(9, 0)))
WEEK_START = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # a Thursday handoff
TUESDAY_EVENING = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def duties(session, now=TUESDAY_EVENING, actor="ana") -> Duties:  # type: ignore[no-untyped-def]
    return Duties(session, BOOK, UTC_TZ, actor, now)


def test_sync_stores_each_occurrence_once(store: Store) -> None:
    with store.session() as session:
        first = duties(session).sync(WEEK_START, WEEK_START + timedelta(days=7))
        again = duties(session).sync(WEEK_START, WEEK_START + timedelta(days=7))
        keys = [i.duty_key for i in duties(session).list(WEEK_START, TUESDAY_EVENING)]
    # Thu, Fri, Mon, Tue: 4 daily duties each; the train on Tuesday 17:00; nothing later
    assert first == 17
    assert again == 0
    assert keys.count("alarms") == 4
    assert keys.count("deployment-train") == 1
    assert "handoff" not in keys  # due next Thursday 05:00, not yet


def test_done_skip_and_steps_leave_sal_entries(store: Store) -> None:
    with store.session() as session:
        service = duties(session)
        service.sync(WEEK_START, TUESDAY_EVENING)
        train = service.get("deployment-train")
        service.tick("deployment-train", 1)
        with pytest.raises(BadInput, match="already done"):
            service.tick(str(train.id), 1)
        with pytest.raises(BadInput, match="steps 1 to 2"):
            service.tick(str(train.id), 4)
        service.done(str(train.id), "deployed refinery", alert_ids=[7, 7, 3])
        with pytest.raises(BadInput, match="already done"):
            service.done(str(train.id))
        with pytest.raises(BadInput, match="say why"):
            service.skip("irc", "  ")
        skipped = service.skip("irc", "IRC bouncer down")
        messages = list(session.scalars(select(SalEntry.message).order_by(SalEntry.id)))
        assert train.state == "done" and train.closed_by == "ana"
        assert train.alert_ids == [3, 7]
        assert train.steps[0]["done_by"] == "ana"
        assert skipped.state == "skipped" and skipped.note == "IRC bouncer down"
        # the newest open irc occurrence was the one skipped
        assert skipped.due_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert messages == [
        f"duty #{train.id} Deployment train: deploy what has changes pending: step 1 done: "
        "See what changed since each project's last deploy",
        f"duty #{train.id} done: Deployment train: deploy what has changes pending: "
        "deployed refinery",
        f"duty #{skipped.id} skipped: Check #wikimedia-analytics for anything that needs you: "
        "IRC bouncer down",
    ]


def test_overdue_and_today(store: Store) -> None:
    with store.session() as session:
        service = duties(session)
        today = service.today(WEEK_START)
        shown = {i.duty_key: (status(i, service.now), missed) for i, missed in today.open}
    # Tuesday 09:00 daily duties are overdue at 17:00 (8 hours of grace); the train is due
    assert shown["alarms"] == ("overdue", 3)  # Thu, Fri, Mon were missed too
    assert shown["deployment-train"] == ("due", 0)
    assert today.later_today == []  # nothing else before midnight


def test_on_demand_duties(store: Store) -> None:
    with store.session() as session:
        service = duties(session)
        with pytest.raises(BadInput, match="not an on-demand duty"):
            service.open("alarms")
        started = service.open("offboarding", {"user": "elvis"}, note="T341234", alert_ids=[2])
        assert started.steps[0]["command"] == "opsweek offboard check elvis"
        assert service.get("offboarding").id == started.id
        assert [i.id for i in service.open_on_demand()] == [started.id]
        with pytest.raises(BadInput, match="unknown duty"):
            service.get("nope")
        with pytest.raises(NotFound):
            service.get("99999")
        with pytest.raises(NotFound, match="nothing of 'new-wiki' is open"):
            service.get("new-wiki")
        count = session.scalar(select(func.count()).select_from(DutyInstance))
    assert count == 1


def test_ensure_open_starts_an_on_demand_duty_once_per_subject(store: Store) -> None:
    with store.session() as session:
        service = duties(session)
        first, started = service.ensure_open("offboarding", {"user": "elvis"}, "T341234")
        again, started_again = service.ensure_open("offboarding", {"user": "elvis"})
        other, started_other = service.ensure_open("offboarding", {"user": "priscilla"})
    assert (started, started_again, started_other) == (True, False, True)
    assert again.id == first.id != other.id
    # started at the same moment, as one check run finding two new wikis does
    with store.session() as session:
        service = duties(session)
        azy, _ = service.ensure_open("new-wiki", {"wiki": "azywiki"})
        tly, _ = service.ensure_open("new-wiki", {"wiki": "tlywiki"})
    assert azy.due_at == tly.due_at and azy.id != tly.id
