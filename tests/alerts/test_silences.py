"""Silences as data: amtool's matchers, what a silence covers, an acknowledgement's matchers
and Karma's ACK! comment."""

from __future__ import annotations

import pytest

from opsweek.alerts.silences import Matcher, ack_comment, ack_matchers, ack_of, covers
from opsweek.errors import BadInput

LABELS = {"alertname": "HdfsCorruptBlocks", "team": "data-engineering", "severity": "critical"}


def test_matchers_as_amtool_writes_them() -> None:
    assert Matcher.parse("team=data-engineering") == Matcher("team", "data-engineering")
    assert Matcher.parse('severity!="warning"') == Matcher("severity", "warning", equal=False)
    assert Matcher.parse("alertname=~Hdfs.*") == Matcher("alertname", "Hdfs.*", regex=True)
    assert Matcher.parse("job !~ 'a|b'") == Matcher("job", "a|b", regex=True, equal=False)
    assert str(Matcher.parse("alertname=~Hdfs.*")) == 'alertname=~"Hdfs.*"'
    for bad in ("team", "=x", "a=~(", "1a=b"):
        with pytest.raises(BadInput):
            Matcher.parse(bad)
    api = Matcher.parse("alertname=~Hdfs.*").as_api()
    assert api == {"name": "alertname", "value": "Hdfs.*", "isRegex": True, "isEqual": True}
    assert Matcher.from_api(api) == Matcher("alertname", "Hdfs.*", regex=True)


def test_what_a_silence_covers_as_alertmanager_matches() -> None:
    assert covers([Matcher.parse("alertname=~Hdfs.*")], LABELS)
    assert not covers([Matcher.parse("alertname=~Hdfs")], LABELS)  # anchored
    assert covers(
        [Matcher.parse("severity!=warning"), Matcher.parse("team=data-engineering")], LABELS
    )
    assert not covers([Matcher.parse("cluster=analytics")], LABELS)  # missing: ""
    assert covers([Matcher.parse("cluster!=analytics")], LABELS)
    assert not covers([], LABELS)  # no matcher silences nothing


def test_an_acknowledgement_silences_what_its_alerts_share_never_where_they_ran() -> None:
    one = ack_matchers([{**LABELS, "prometheus": "k8s"}])
    assert {m.name for m in one} == {"alertname", "team", "severity"}
    group = ack_matchers([LABELS, {**LABELS, "severity": "warning", "instance": "an-worker1"}])
    assert group == [Matcher("alertname", "HdfsCorruptBlocks"), Matcher("team", "data-engineering")]
    with pytest.raises(BadInput):
        ack_matchers([{"a": "1"}, {"b": "2"}])


def test_karmas_acknowledgement_comment_both_ways() -> None:
    comment = ack_comment("ana", "fsck running", "https://opsweek.example.org/alerts/7")
    assert comment == "ACK! ana: fsck running (https://opsweek.example.org/alerts/7)"
    assert ack_of(comment, "ana") == ("ana", "fsck running (https://opsweek.example.org/alerts/7)")
    assert ack_of("ACK! looking", "bob") == ("bob", "looking")
    assert ack_of("maintenance window", "bob") is None
    assert ack_comment("ana", "", "") == "ACK! ana: acknowledged in opsweek"
