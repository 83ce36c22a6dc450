"""The SAL in the store (SQLite and PostgreSQL): append-only entries, search, related entries,
and the entries every opsweek action leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.service import Inbox
from opsweek.db.models import SalEntry
from opsweek.db.session import Store
from opsweek.errors import BadInput, NotFound
from opsweek.sal.log import SalFilter, SalLog
from tests.alerts.helpers import raw_inputs

T0 = datetime(2024, 1, 2, 19, 0, tzinfo=UTC)


def test_append_cleans_and_keeps_hostile_text(store: Store) -> None:
    with store.session() as session:
        sal = SalLog(session, T0)
        long_tail = "y" * 10_240  # a 10 KB line is kept whole
        entry = sal.append(
            "joal", "\x0304red\x03 <script>alert(1)</script>\x07 done\r\nx" + long_tail
        )
        assert entry.message == "red <script>alert(1)</script> done x" + long_tail
        with pytest.raises(BadInput, match="at most 65536 are accepted"):
            sal.append("joal", "z" * 70_000)
        with pytest.raises(BadInput, match="empty"):
            sal.append("joal", "\x02\x02  ")
        with pytest.raises(BadInput, match="invalid nick"):
            sal.append("jo al", "x")
        with pytest.raises(NotFound):
            sal.append("joal", "fix", corrects=999)
        fix = sal.append("joal", "correction: it was refine_event", corrects=entry.id)
        assert fix.corrects_id == entry.id


def test_search_and_list(store: Store) -> None:
    with store.session() as session:
        sal = SalLog(session)
        for minute, (nick, text) in enumerate(
            [
                ("joal", "reran refine_event for event.mediawiki_foo"),
                ("milimetric", "deployed refinery v0.2.30"),
                ("joal", "reran refine_eventlogging_analytics for contenttranslation"),
                ("btullis", "restarted hive-server2 on an-coord1001 (T123456)"),
            ]
        ):
            sal.append(nick, text, at=T0 + timedelta(minutes=minute))
    with store.session() as session:
        sal = SalLog(session)
        assert [e.nick for e in sal.search("reran")] == ["joal", "joal"]
        assert [e.message for e in sal.search("refine_event mediawiki_foo")] == [
            "reran refine_event for event.mediawiki_foo"
        ]
        assert [e.nick for e in sal.search("T123456")] == ["btullis"]
        assert sal.search("nothing-like-this") == []
        with pytest.raises(BadInput):
            sal.search("  ")
        assert [e.nick for e in sal.list(SalFilter(nick="joal"))] == ["joal", "joal"]
        assert len(sal.list(SalFilter(since=T0 + timedelta(minutes=2)))) == 2


def test_related_entries_of_an_alert(store: Store) -> None:
    with store.writing() as session:
        AlertChanges(store).ingest(raw_inputs("refine_failure.eml"), T0, session)
        sal = SalLog(session)
        sal.append("joal", "reran refine_event for the failed hours", at=T0)
        sal.append("joal", "unrelated: deployed the dashboard", at=T0)
        sal.append("ottomata", "looked at event.navigationtiming", at=T0 + timedelta(minutes=5))
        sal.append("old", "reran refine_event long ago", at=T0 - timedelta(days=30))
    with store.session() as session:
        inbox = Inbox(session)
        alert = inbox.get(1)  # event.mediawiki_foo hour 3
        related = inbox.related_sal(alert, timedelta(hours=72))
        assert [e.message for e in related] == ["reran refine_event for the failed hours"]
        third = inbox.get(3)  # event.navigationtiming
        assert [e.nick for e in inbox.related_sal(third, timedelta(hours=72))] == [
            "ottomata",
            "joal",
        ]
        assert inbox.with_related_sal([alert, third], timedelta(hours=72)) == {1, 3}


def test_a_resolved_alert_is_related_to_what_was_logged_while_it_was_open(store: Store) -> None:
    window = timedelta(hours=72)
    changes = AlertChanges(store)
    changes.ingest(raw_inputs("refine_failure.eml"), T0)
    changes.resolve(3, "joal", "reran it", T0 + timedelta(hours=1))
    with store.session() as session:
        sal = SalLog(session)
        sal.append("joal", "event.navigationtiming looks fine now", at=T0 + timedelta(days=2))
        sal.append("joal", "event.navigationtiming again, weeks later", at=T0 + timedelta(days=30))
        sal.append("ana", "event.mediawiki_foo is still failing", at=T0 + timedelta(days=30))
    with store.session() as session:
        inbox = Inbox(session)
        resolved, still_open = inbox.get(3), inbox.get(1)
        messages = [e.message for e in inbox.related_sal(resolved, window)]
        assert "event.navigationtiming looks fine now" in messages
        assert "event.navigationtiming again, weeks later" not in messages
        # an open alert's span has no end: the entry a month later is about it
        assert "event.mediawiki_foo is still failing" in [
            e.message for e in inbox.related_sal(still_open, window)
        ]
        # with no slack, only the resolution itself was logged while alert 3 was open
        assert [e.nick for e in inbox.related_sal(resolved, timedelta(0))] == ["joal"]
        assert inbox.with_related_sal([resolved, still_open], timedelta(0)) == {1, 3}
        # the marks of a list say exactly which alerts have related entries
        for slack in (timedelta(0), window):
            alerts = [inbox.get(i) for i in (1, 2, 3)]
            assert inbox.with_related_sal(alerts, slack) == {
                a.id for a in alerts if inbox.related_sal(a, slack)
            }


def test_every_alert_action_leaves_an_entry(store: Store) -> None:
    changes = AlertChanges(store)
    changes.ingest(raw_inputs("refine_failure.eml"), T0)
    changes.ack(1, "joal", T0)
    changes.note(1, "joal", "rerunning", T0)
    changes.resolve(1, "joal", "reran the hour", T0)
    with store.session() as session:
        messages = [e.message for e in session.scalars(select(SalEntry).order_by(SalEntry.id))]
    assert messages[0] == (
        "acked alert 1 (refine_failure refine_event: event.mediawiki_foo 2024-01-02T03)"
    )
    assert messages[1].startswith("note on alert 1 ") and messages[1].endswith(": rerunning")
    assert messages[2].endswith(": reran the hour")
    with store.session() as session:
        assert "alert:1" in {r.value for r in SalLog(session).refs([1])[1]}
