"""The Inbox in a storm: 115 alerts of twelve Alertmanager rules are twelve groups by name,
with the labels they share and those that tell them apart; the filter is in the URL; one
acknowledgement takes a whole group, with one silence for it."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import ALERTMANAGER
from opsweek.alerts.model import RawInput
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert, Silence
from opsweek.db.session import Store
from opsweek.demo.storm import RULES, storm_payloads, storm_size
from opsweek.web import create_app
from tests.web.test_login_forms import csrf_of, log_in, setup


def storm(store: Store, now: datetime) -> None:
    AlertChanges(store).ingest(RawInput(p, ALERTMANAGER, now, "test") for p in storm_payloads(now))


def groups(page: str) -> list[str]:
    return re.findall(r"<strong>([^<]+)</strong>", page.split('id="inbox"', 1)[1])


def test_a_storm_is_one_group_per_rule_with_its_chips(
    client: TestClient, web_store: Store, now: datetime
) -> None:
    storm(web_store, now)
    page = client.get("/inbox").text
    assert len(groups(page)) == len(RULES) == 12
    assert f"of {storm_size()} alerts" in page and storm_size() > 100
    assert 'title="60 alerts"' in page  # the NodeManagers' heap
    heap = page.split("<strong>HadoopNodeManagerHeapUsage</strong>", 1)[1].split("</details>")[0]
    assert '<span class="chip">team=data-engineering</span>' in heap  # shared: the header
    assert '<span class="chip">instance=an-worker1078:8141</span>' in heap  # each its own
    before = page.split("<strong>HadoopNodeManagerHeapUsage</strong>", 1)[0][-200:]
    assert '<span class="about">Java daemon</span>' in before  # about: not "alertmanager"
    tag = re.findall(r"<details[^>]*>", before)[-1]
    assert "open" not in tag  # folded, one line a group: one click shows its 60
    one = client.get("/inbox?q=alertname%3DHdfsCorruptBlocks").text
    assert re.findall(r"<details[^>]*>", one)[0].endswith(" open>")  # the only group: shown


def test_the_filter_is_in_the_url(client: TestClient, web_store: Store, now: datetime) -> None:
    storm(web_store, now)
    hdfs = client.get("/inbox?q=" + quote("alertname=~Hdfs.* severity!=warning")).text
    assert groups(hdfs) == ["HdfsCorruptBlocks", "HdfsMissingBlocks"] or sorted(groups(hdfs)) == [
        "HdfsCorruptBlocks",
        "HdfsMissingBlocks",
    ]
    assert 'value="alertname=~Hdfs.* severity!=warning"' in hdfs  # kept in the form
    workers = client.get("/inbox?q=" + quote("@family=java_daemon an-worker1100")).text
    assert groups(workers) == ["HadoopNodeManagerHeapUsage"] and 'title="1 alert"' in workers
    assert groups(client.get("/inbox?q=" + quote("@state=acked")).text) == []
    bad = client.get("/inbox?q=" + quote("@state=sleeping"))
    assert bad.status_code == 400 and "@state=" in bad.json()["detail"]
    api = client.get("/api/v1/alerts", params={"q": "alertname=YarnNodeManagerDown"}).json()
    assert len(api["alerts"]) == 12 and {a["about"] for a in api["alerts"]} == {"YARN"}


def test_one_acknowledgement_takes_the_group_with_one_silence(
    web_store: Store, tmp_path: Path, now: datetime
) -> None:
    config = tmp_path / "opsweek.toml"
    config.write_text(  # nothing listens there: the silence waits, as the page says
        '[[alertmanager.instances]]\nname = "am"\nurl = "http://127.0.0.1:9"\n'
    )
    ops = App(load_settings(config, env={"OPSWEEK_DATA_DIR": str(tmp_path)}), store=web_store)
    setup(web_store)
    storm(web_store, now)
    with TestClient(create_app(ops)) as client:
        log_in(client)
        page = client.get("/inbox?q=alertname%3DYarnNodeManagerDown").text
        ids = re.findall(r'name="alert" value="(\d+)"', page)
        assert len(ids) == 12 and "acknowledge all 12" in page
        sent = client.post(
            "/alerts/ack",
            data={"alert": ids, "note": "reimaging", "csrf": csrf_of(client, "/inbox")},
            follow_redirects=False,
        )
        assert sent.status_code == 303
    with web_store.session() as session:
        yarn = session.scalars(select(Alert).where(Alert.title.like("YarnNodeManagerDown%")))
        assert {(a.status, a.acked_by) for a in yarn} == {("acknowledged", "ann")}
        (silence,) = session.scalars(select(Silence))
    assert silence.state == "pending" and "Connection refused" in (silence.error or "")
    assert {(m["name"], m["value"]) for m in silence.matchers} == {
        ("alertname", "YarnNodeManagerDown"),
        ("severity", "critical"),
        ("team", "data-engineering"),
        ("cluster", "analytics"),
    }  # what the twelve share: not each worker, not the Prometheus that evaluated them
    assert silence.comment.startswith("ACK! ann: reimaging")
    with TestClient(create_app(ops)) as client:
        page = client.get(f"/alerts/{silence.alert_id}").text
    assert "acknowledgement silence" in page and "kept until the alert resolves" in page
    assert "not sent yet" in page and "Connection refused" in page  # and why
