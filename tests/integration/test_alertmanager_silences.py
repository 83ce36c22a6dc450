"""Acknowledgements and silences both ways with real Alertmanagers (Debian's), two clustered on
loopback: an acknowledgement in opsweek is a silence both show, Karma's way; one made with
amtool shows on the alert in opsweek; an acknowledgement's silence lasts until its alert
resolves, and no longer; an Alertmanager down keeps the silence waiting, then it arrives once."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert, AlertEvent, SalEntry, Silence
from opsweek.db.session import Store
from opsweek.tokens import Tokens
from opsweek.web import create_app
from tests.services.alertmanager import alertmanager, alertmanager_pair, get, post_alerts
from tests.services.common import free_port
from tests.services.web import serve_app

pytestmark = pytest.mark.integration


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def firing(name: str, now: datetime, ends_at: datetime | None = None) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "labels": {
            "alertname": name,
            "team": "data-engineering",
            "severity": "critical",
            "prometheus": "k8s",
        },
        "annotations": {"summary": f"{name} on analytics"},
        "startsAt": (now - timedelta(minutes=5)).isoformat(),
    }
    if ends_at:
        alert["endsAt"] = ends_at.isoformat()
    return alert


@dataclass
class Setup:
    ops: App
    store: Store
    urls: tuple[str, ...]

    def alert(self, name: str) -> Alert:
        with self.store.session() as session:
            found = session.scalar(select(Alert).where(Alert.title.like(f"{name}%")))
            assert found is not None
            return found

    def history(self, alert_id: int) -> list[tuple[str, str, str]]:
        with self.store.session() as session:
            return [
                (e.actor, e.action, e.note)
                for e in session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id))
            ]

    def silences(self, url: str) -> list[dict[str, Any]]:
        found = get(url, "/silences")
        assert isinstance(found, list)
        return [s for s in found if s["status"]["state"] == "active"]


def make_app(store: Store, tmp_path: Path, urls: tuple[str, ...], **more: str) -> App:
    config = tmp_path / "opsweek.toml"
    config.write_text(
        '[web]\nbase_url = "https://opsweek.example.org"\n[alertmanager]\nack_minutes = 2\n'
        + "".join(f"{k} = {v}\n" for k, v in more.items())
        + "".join(
            f'[[alertmanager.instances]]\nname = "am{n}"\nurl = "{url}"\ncluster = "eqiad"\n'
            for n, url in enumerate(urls)
        )
    )
    return App(load_settings(config, env={"OPSWEEK_DATA_DIR": str(tmp_path)}), store=store)


@pytest.fixture
def pair(store: Store, tmp_path: Path) -> Iterator[Setup]:
    with store.session() as session:
        token = Tokens(session).create("alertmanager", "webhook")[1]
    receiver = App(load_settings(env=dict(os.environ)), store=store)
    with (
        serve_app(create_app(receiver)) as base,
        alertmanager_pair(f"{base}/api/v1/intake/alertmanager", token) as urls,
    ):
        yield Setup(make_app(store, tmp_path, urls), store, urls)


def test_an_acknowledgement_is_a_silence_both_alertmanagers_show_until_it_resolves(
    pair: Setup, now: datetime
) -> None:
    post_alerts(pair.urls[0], [firing("HdfsCorruptBlocks", now)])
    wait_for(lambda: _exists(pair, "HdfsCorruptBlocks"))
    alert = pair.alert("HdfsCorruptBlocks")
    pair.ops.acknowledge(alert.id, "ana", "fsck running")
    for url in pair.urls:  # written to one, gossiped to the other
        wait_for(lambda url=url: len(pair.silences(url)) == 1, 20)
    (silence,) = pair.silences(pair.urls[1])
    assert silence["createdBy"] == "ana"
    assert silence["comment"] == (
        f"ACK! ana: fsck running (https://opsweek.example.org/alerts/{alert.id})"
    )
    matchers = {(m["name"], m["value"]) for m in silence["matchers"]}
    assert ("alertname", "HdfsCorruptBlocks") in matchers and (
        "team",
        "data-engineering",
    ) in matchers
    assert not any(name == "prometheus" for name, _ in matchers)  # where it was evaluated
    alerts = get(pair.urls[0], "/alerts")
    assert isinstance(alerts, list) and alerts[0]["status"]["silencedBy"] == [silence["id"]]

    # until resolved: extended before it ends while the alert fires
    first_end = silence["endsAt"]
    clock = pair.ops.silencing.now  # the real one: Alertmanager keeps real time
    pair.ops.silencing.now = lambda: clock() + timedelta(seconds=70)
    assert pair.ops.silencing.sync().sent == 1
    wait_for(lambda: pair.silences(pair.urls[1])[0]["endsAt"] > first_end, 20)
    assert len(pair.silences(pair.urls[0])) == 1  # one silence, made longer

    # resolved while silenced (no notification): opsweek sees it gone, resolves, expires
    pair.ops.silencing.now = clock
    pair.ops.silencing.gone_after = timedelta(0)
    post_alerts(pair.urls[0], [firing("HdfsCorruptBlocks", now, ends_at=now)])
    wait_for(lambda: get(pair.urls[0], "/alerts") == [], 20)
    run = pair.ops.silencing.sync()
    assert (run.resolved, run.expired) == (1, 1)
    assert pair.alert("HdfsCorruptBlocks").status == "resolved"
    for url in pair.urls:
        wait_for(lambda url=url: pair.silences(url) == [], 20)
    with pair.store.session() as session:
        sal = list(session.scalars(select(SalEntry.message)))
    assert any(m.startswith(f"acked alert {alert.id}") and "fsck running" in m for m in sal)
    assert any(m.startswith("expired silence") and "its alerts resolved" in m for m in sal)


def test_taking_an_acknowledgement_back_expires_its_silence(pair: Setup, now: datetime) -> None:
    post_alerts(pair.urls[1], [firing("KafkaUnderReplicatedPartitions", now)])
    wait_for(lambda: _exists(pair, "KafkaUnderReplicatedPartitions"))
    alert = pair.alert("KafkaUnderReplicatedPartitions")
    pair.ops.acknowledge(alert.id, "ana")
    wait_for(lambda: len(pair.silences(pair.urls[1])) == 1, 20)
    pair.ops.alert_changes.unack(alert.id, "ana")
    pair.ops.send_silences()
    for url in pair.urls:
        wait_for(lambda url=url: pair.silences(url) == [], 20)
    assert pair.alert("KafkaUnderReplicatedPartitions").status == "firing"
    assert ("ana", "unacked", "its silence expired") in pair.history(alert.id)


def test_a_silence_made_with_amtool_shows_on_the_alert(pair: Setup, now: datetime) -> None:
    amtool = shutil.which("amtool")
    if amtool is None:
        pytest.fail("amtool (Debian package prometheus-alertmanager) not found")
    post_alerts(pair.urls[1], [firing("FlinkOperatorNotRunning", now)])
    wait_for(lambda: _exists(pair, "FlinkOperatorNotRunning"))
    made = subprocess.run(
        [
            amtool,
            f"--alertmanager.url={pair.urls[1]}",
            "silence",
            "add",
            "alertname=FlinkOperatorNotRunning",
            "--author=bob",
            "--comment=ACK! bob: restarting the operator",
            "--duration=10m",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    silence_id = made.stdout.strip()
    pair.ops.silencing.sync()
    alert = pair.alert("FlinkOperatorNotRunning")
    assert (alert.status, alert.acked_by) == ("acknowledged", "bob")
    history = pair.history(alert.id)
    assert ("bob", "acked", "in Alertmanager: restarting the operator") in history
    (silenced,) = [h for h in history if h[1] == "silenced"]
    assert silenced[0] == "bob" and silence_id in silenced[2] and "until 20" in silenced[2]
    assert pair.ops.silencing.sync().noted == 0  # noted once
    # opsweek never changes it: it ends when bob said, whatever the alert does
    with pair.store.session() as session:
        (row,) = session.scalars(select(Silence).where(Silence.silence_id == silence_id))
        assert (row.origin, row.until_resolved) == ("elsewhere", False)


def test_silence_add_list_expire_from_the_cli_go_to_the_sal(pair: Setup) -> None:
    from opsweek.alerts.silences import Matcher

    row = pair.ops.silencing.add(
        [Matcher.parse("alertname=~Hdfs.*"), Matcher.parse('cluster="analytics"')],
        30,
        "namenode maintenance",
        "ana",
    )
    assert row.state == "active" and row.silence_id
    listed = pair.ops.silencing.listed()
    assert [s["id"] for s in listed] == [row.silence_id]
    pair.ops.silencing.expire(row.silence_id, "ana")
    wait_for(lambda: all(pair.silences(url) == [] for url in pair.urls), 20)
    with pair.store.session() as session:
        sal = list(session.scalars(select(SalEntry.message)))
    assert (
        'silenced alertname=~"Hdfs.*" cluster="analytics" for 30 min on alertmanager eqiad: '
        "namenode maintenance" in sal
    )
    assert f"expired silence {row.silence_id} on alertmanager eqiad" in sal


def test_an_alertmanager_down_keeps_the_silence_waiting_then_it_arrives_once(
    store: Store, tmp_path: Path, now: datetime
) -> None:
    with store.session() as session:
        token = Tokens(session).create("alertmanager", "webhook")[1]
    port = free_port()
    receiver = App(load_settings(env=dict(os.environ)), store=store)
    with serve_app(create_app(receiver)) as base:
        hook = f"{base}/api/v1/intake/alertmanager"
        ops = make_app(store, tmp_path, (f"http://127.0.0.1:{port}",))
        with alertmanager(hook, token, port=port) as url:
            post_alerts(url, [firing("HdfsMissingBlocks", now)])
            setup = Setup(ops, store, (url,))
            wait_for(lambda: _exists(setup, "HdfsMissingBlocks"))
        alert = setup.alert("HdfsMissingBlocks")
        ops.acknowledge(alert.id, "ana")  # the Alertmanager is down now
        (waiting,) = ops.silencing.for_alert(alert.id)
        assert waiting.state == "pending" and "Connection refused" in (waiting.error or "")
        with alertmanager(hook, token, port=port) as url:
            post_alerts(url, [firing("HdfsMissingBlocks", now)])
            with store.writing() as session:  # its next attempt is due
                session.get(Silence, waiting.id).next_attempt_at = now - timedelta(minutes=1)
            assert ops.silencing.sync().sent == 1
            assert ops.silencing.sync().sent == 0
            assert len(setup.silences(url)) == 1  # once


def test_acknowledgement_silences_can_be_turned_off(
    pair: Setup, tmp_path: Path, now: datetime
) -> None:
    ops = make_app(pair.store, tmp_path, pair.urls, ack_silences="false")
    post_alerts(pair.urls[0], [firing("YarnNodeManagerDown", now)])
    wait_for(lambda: _exists(pair, "YarnNodeManagerDown"))
    ops.acknowledge(pair.alert("YarnNodeManagerDown").id, "ana")
    assert ops.silencing.for_alert(pair.alert("YarnNodeManagerDown").id) == []
    assert pair.silences(pair.urls[0]) == []


def _exists(setup: Setup, name: str) -> bool:
    with setup.store.session() as session:
        return session.scalar(select(Alert.id).where(Alert.title.like(f"{name}%"))) is not None
