"""The Inbox's filter language (Karma's): labels, @state, @age, @kind/@family/@source, words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opsweek.alerts.query import Query, Row, about
from opsweek.errors import BadInput

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def row(**changes: object) -> Row:
    values: dict[str, object] = {
        "kind": "alertmanager",
        "source": "alertmanager",
        "title": "HdfsCorruptBlocks an-master1003 - corrupt blocks",
        "severity": "critical",
        "status": "firing",
        "first_seen": NOW - timedelta(hours=2),
        "labels": {"alertname": "HdfsCorruptBlocks", "team": "data-platform"},
        "family": "hdfs",
        "silenced": False,
    }
    values.update(changes)
    return Row(**values)  # type: ignore[arg-type]


def matches(text: str, **changes: object) -> bool:
    return Query.parse(text).matches(row(**changes), NOW)


def test_labels_as_karma_writes_them() -> None:
    assert matches("team=data-platform")
    assert not matches("team=data-engineering")
    assert matches("severity!=warning")  # every alert has a severity
    assert matches("alertname=~Hdfs.*") and not matches("alertname=~Yarn.*")
    assert matches("alertname!~Yarn.* team=data-platform")
    assert not matches("team=data-platform severity=warning")  # every term must match


def test_states_ages_kinds_and_words() -> None:
    assert matches("@state=active") and not matches("@state=acked")
    assert matches("@state=silenced", silenced=True) and not matches("@state=active", silenced=True)
    assert matches("@state=acked|resolved", status="acknowledged")
    assert matches("@age>1h") and not matches("@age>3h") and matches("@age<3h")
    assert matches("@family=hdfs") and matches("@kind!=refine_failure")
    assert matches("corrupt AN-MASTER1003") and not matches("namenode")
    assert matches('"corrupt blocks"') and matches("data-platform")  # a label's value


def test_a_bad_term_is_one_clear_error() -> None:
    for bad in ("@state=sleeping", "@age>soon", "@color=red", "alertname=~(", '"open'):
        with pytest.raises(BadInput):
            Query.parse(bad)


def test_the_statuses_a_query_allows() -> None:
    assert Query.parse("@state=active|silenced").status == "firing"
    assert Query.parse("@state=active|acked").status == "open"
    assert Query.parse("@state=resolved").status == "resolved"
    assert Query.parse("team=x").status is None


def test_what_an_alert_is_about() -> None:
    assert about("alertmanager", {"family": "java_daemon", "alertname": "X"}) == "Java daemon"
    assert about("alertmanager", {"family": "", "alertname": "PrometheusRuleFailures"}) == (
        "PrometheusRuleFailures"
    )
    assert about("refine_failure", {}) == "refine_failure"
