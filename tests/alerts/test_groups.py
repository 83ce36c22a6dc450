"""Grouping alerts as they arrived, and reading "since" as a moment or an age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from opsweek.alerts.groups import group_alerts
from opsweek.errors import BadInput
from opsweek.timeutil import parse_since, zone

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@dataclass
class A:
    id: int
    group_key: str
    status: str = "firing"
    kind: str = "refine_failure"
    source: str = "refine"
    title: str = "t"
    first_seen: datetime = T0
    last_seen: datetime = T0


def test_groups_keep_the_given_order_and_sum_up() -> None:
    alerts = [
        A(1, "mail-1", title="event.a 03"),
        A(2, "mail-2", status="resolved", kind="data_loss", source="airflow"),
        A(3, "mail-1", status="acknowledged", last_seen=T0 + timedelta(hours=2)),
        A(4, "", status="resolved"),  # no group: a group of its own
        A(5, "mail-1", status="resolved", kind="refine_monitor", first_seen=T0 - timedelta(1)),
    ]
    groups = group_alerts(alerts)
    assert [g.key for g in groups] == ["mail-1", "mail-2", "alert:4"]
    mail = groups[0]
    assert [a.id for a in mail.alerts] == [1, 3, 5]
    assert mail.counts == {"firing": 1, "acknowledged": 1, "resolved": 1}
    assert (mail.status, mail.title) == ("firing", "event.a 03 (+2 more)")
    assert mail.kinds == ["refine_failure", "refine_monitor"]
    assert (mail.first_seen, mail.last_seen) == (T0 - timedelta(1), T0 + timedelta(hours=2))
    assert groups[1].status == "resolved" and groups[1].title == "t"
    assert group_alerts([A(6, "g", status="acknowledged"), A(7, "g", "resolved")])[0].status == (
        "acknowledged"
    )
    assert mail.to_json()["alert_ids"] == [1, 3, 5]


def test_since_is_a_moment_or_an_age() -> None:
    berlin = zone("Europe/Berlin")
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert parse_since("24h", berlin, now) == now - timedelta(hours=24)
    assert parse_since(" 7d ", berlin, now) == now - timedelta(days=7)
    assert parse_since("2w", berlin, now) == now - timedelta(weeks=2)
    assert parse_since("90m", berlin, now) == now - timedelta(minutes=90)
    assert parse_since("2026-11-01", berlin, now) == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    with pytest.raises(BadInput, match="ISO 8601"):
        parse_since("7 days", berlin, now)
