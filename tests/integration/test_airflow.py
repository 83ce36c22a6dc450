"""Airflow as a source and an actuator, against a real Airflow 3 (tests/services/airflow.py):
a task that fails then succeeds is one alert that resolves itself, folded with the e-mail of the
same failure; clear, mark success and pause act on the real server and leave their SAL entry;
an unreachable instance is named without stopping the others."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import EMAIL
from opsweek.alerts.model import RawInput
from opsweek.alerts.runbook import steps_for
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert, AlertEvent, SalEntry
from opsweek.db.session import Store
from tests.services.airflow import PASSWORD, USER, AirflowServer, airflow
from tests.services.common import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server() -> Iterator[AirflowServer]:
    with airflow() as running:
        yield running


DRUID = "https://druid-overlord.example.org:8090"


def app_for(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *urls: tuple[str, str]
) -> App:
    config = tmp_path / "opsweek.toml"
    config.write_text(
        f'[airflow]\ndruid_overlord_url = "{DRUID}"\n'
        + "".join(
            f'[[airflow.instances]]\nname = "{name}"\nurl = "{url}"\nuser = "{USER}"\n'
            'password_env = "AIRFLOW_TEST_PASSWORD"\n'
            for name, url in urls
        )
    )
    monkeypatch.setenv("AIRFLOW_TEST_PASSWORD", PASSWORD)  # the client reads it from there
    return App(load_settings(config, env={}), store=store)


def failure_mail(dag_id: str, task_id: str, run_id: str, state: str, at: datetime) -> RawInput:
    """The e-mail Airflow sends for the same failure (as formats.md describes it)."""
    mail = EmailMessage()
    mail["Subject"] = f"Airflow alert: <TaskInstance: {dag_id}.{task_id} {run_id} [{state}]>"
    mail["From"] = '"airflow-test" <airflow@example.org>'
    mail["Message-ID"] = f"<{run_id}@example.org>"
    mail.set_content(
        f"Try 1 out of 2\nException:\nthe first try fails on purpose\n"
        f"Log: Link (https://airflow.example.org/log?dag_id={dag_id}&task_id={task_id})\n"
    )
    return RawInput(mail.as_bytes(), EMAIL, at, "test")


def alerts_of(store: Store, dag_id: str, kind: str = "airflow_task_failed") -> list[Alert]:
    with store.session() as session:
        found = session.scalars(select(Alert).where(Alert.kind == kind)).all()
        return [a for a in found if a.details.get("dag_id") == dag_id]


def test_a_retried_task_is_one_alert_that_resolves_itself(
    server: AirflowServer,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
) -> None:
    ops = app_for(store, tmp_path, monkeypatch, ("test", server.url))
    run_id = server.trigger("opsweek_flaky")
    server.wait_for_state("opsweek_flaky", run_id, "sometimes", {"up_for_retry"})
    AlertChanges(store).ingest(
        [failure_mail("opsweek_flaky", "sometimes", run_id, "up_for_retry", now)]
    )
    polled = ops.airflow.poll()
    assert polled.unreachable == {} and polled.failing >= 1
    (alert,) = alerts_of(store, "opsweek_flaky")
    assert alert.status == "firing" and alert.count == 2  # the e-mail and the poll: one alert
    assert "the first try fails on purpose" in alert.details["exception"]  # from its log
    again = ops.airflow.poll()  # what changed since: nothing of this try, read once
    assert (again.counts.new, again.counts.updated) == (0, 0)
    assert again.requests == 2  # the task instances and the runs that changed
    server.wait_for_state("opsweek_flaky", run_id, "sometimes", {"success"})
    ops.airflow.poll()
    (alert,) = alerts_of(store, "opsweek_flaky")
    assert (alert.status, alert.resolved_by) == ("resolved", "source:airflow")
    assert alert.resolution_note == "succeeded on try 2"
    with store.session() as session:
        notes = session.scalars(
            select(AlertEvent.note).where(
                AlertEvent.alert_id == alert.id, AlertEvent.action == "resolved"
            )
        ).all()
    assert list(notes) == ["succeeded on try 2"]


def test_clear_pause_and_mark_success_act_on_the_server(
    server: AirflowServer,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
) -> None:
    ops = app_for(store, tmp_path, monkeypatch, ("test", server.url))
    run_id = server.trigger("opsweek_always_fails")
    server.wait_for_state("opsweek_always_fails", run_id, "broken", {"failed"})
    server.wait_for_run("opsweek_always_fails", run_id, {"failed"})
    ops.airflow.poll(since=now - timedelta(hours=1))
    (alert,) = alerts_of(store, "opsweek_always_fails")
    watch = ops.airflow

    assert "RuntimeError: this task always fails" in alert.details["exception"]
    clear = watch.clear(alert.id)
    assert clear.describe().startswith(
        f"POST {server.url}/api/v2/dags/opsweek_always_fails/clearTaskInstances "
    )
    watch.send(clear, "ana")
    again = server.wait_for_state("opsweek_always_fails", run_id, "broken", {"failed"}, 2)
    assert again["try_number"] == 2  # cleared: it ran again (and failed again)
    watch.poll()  # the failed retry: a line in the alert's history

    assert watch.send(watch.pause(alert.id), "ana") == ""
    assert server.api("GET", "/dags/opsweek_always_fails")["is_paused"] is True
    said = watch.send(watch.pause(alert.id), "ana")  # paused already: not sent, not logged
    assert said == "opsweek_always_fails is already paused on airflow-test: not sent"
    watch.send(watch.pause(alert.id, paused=False), "ana")
    assert server.api("GET", "/dags/opsweek_always_fails")["is_paused"] is False

    watch.send(watch.mark_success(alert.id), "bob")
    server.wait_for_state("opsweek_always_fails", run_id, "broken", {"success"})
    watch.poll()
    (alert,) = alerts_of(store, "opsweek_always_fails")
    assert alert.status == "resolved"
    # opsweek's account marked it in Airflow's audit log: the person who asked opsweek
    assert alert.resolution_note == "marked success by bob through opsweek"
    assert "this task always fails" in watch.log_tail(alert.id, 200)
    with store.session() as session:
        sal = [(e.actor, e.message) for e in session.scalars(select(SalEntry))]
        history = [
            (e.actor, e.action)
            for e in session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id))
        ]
        notes = dict(
            session.execute(
                select(AlertEvent.action, AlertEvent.note).where(AlertEvent.alert_id == alert.id)
            ).all()
        )
    assert notes["repeated"] == "try 2 of 2 failed"  # cleared, tried again, failed again
    target = f"opsweek_always_fails.broken {run_id}"
    assert ("ana", f"cleared {target} on airflow-test") in sal  # the runbook's !log text
    assert ("ana", "paused opsweek_always_fails on airflow-test") in sal
    assert ("bob", f"marked {target} success on airflow-test") in sal
    assert sum(m == "paused opsweek_always_fails on airflow-test" for _, m in sal) == 1
    assert [a for _, a in history] == [
        "created",
        "airflow-clear",
        "repeated",
        "airflow-pause",
        "airflow-unpause",
        "airflow-mark-success",
        "resolved",
    ]
    assert ("ana", "airflow-clear") in history and ("bob", "airflow-mark-success") in history


def test_an_unreachable_instance_is_named_and_the_others_polled(
    server: AirflowServer,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
) -> None:
    run_id = server.trigger("opsweek_always_fails")
    server.wait_for_state("opsweek_always_fails", run_id, "broken", {"failed"})
    gone = f"http://127.0.0.1:{free_port()}"
    ops = app_for(store, tmp_path, monkeypatch, ("gone", gone), ("test", server.url))
    run = ops.airflow.poll(since=now - timedelta(hours=1))
    assert set(run.unreachable) == {"gone"} and "Connection refused" in run.unreachable["gone"]
    assert f"airflow gone ({gone}): unreachable" in run.unreachable["gone"]
    assert run.failing >= 1  # the reachable one was polled all the same
    assert run_id in [a.details["run_id"] for a in alerts_of(store, "opsweek_always_fails")]
    from fastapi.testclient import TestClient

    from opsweek.web import create_app

    with TestClient(create_app(ops)) as client:
        today = client.get("/").text
    assert ">gone</a>: " in today and "could not poll at" in today
    assert "Connection refused" in today
    assert ">test</a>: " in today and "failing task instance(s)" in today


def test_the_alert_page_shows_what_it_sends_then_sends_it(
    server: AirflowServer,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
) -> None:
    from fastapi.testclient import TestClient

    from opsweek.passwords import set_password
    from opsweek.rotation.people import PersonRecord
    from opsweek.rotation.team import Team
    from opsweek.tokens import Tokens
    from opsweek.web import create_app
    from tests.web.test_login_forms import PASSWORD as WEB_PASSWORD
    from tests.web.test_login_forms import csrf_of

    ops = app_for(store, tmp_path, monkeypatch, ("test", server.url))
    with store.writing() as session:
        Team(session).add(PersonRecord("ann", "Ann"))
        set_password(session, "ann", WEB_PASSWORD)
        token = Tokens(session).create("ann", "test")[1]
    run_id = server.trigger("opsweek_always_fails")
    server.wait_for_state("opsweek_always_fails", run_id, "broken", {"failed"})
    server.wait_for_run("opsweek_always_fails", run_id, {"failed"})
    ops.airflow.poll(since=now - timedelta(hours=1))
    (alert,) = [
        a for a in alerts_of(store, "opsweek_always_fails") if a.details["run_id"] == run_id
    ]
    with TestClient(create_app(ops)) as client:
        client.post(
            "/login",
            data={"username": "ann", "password": WEB_PASSWORD, "csrf": csrf_of(client)},
            follow_redirects=False,
        )
        page = client.get(f"/alerts/{alert.id}").text
        assert "airflow-test" in page and f"/alerts/{alert.id}/airflow/clear" in page
        confirm = client.get(f"/alerts/{alert.id}/airflow/clear").text
        assert "/api/v2/dags/opsweek_always_fails/clearTaskInstances" in confirm
        assert server.api(
            "GET", "/dags/~/dagRuns/~/taskInstances", params={"dag_ids": "x"}
        )  # alive
        sent = client.post(
            f"/alerts/{alert.id}/airflow/clear",
            data={"csrf": csrf_of(client, f"/alerts/{alert.id}/airflow/clear")},
            follow_redirects=False,
        )
        assert sent.status_code == 303
        again = server.wait_for_state("opsweek_always_fails", run_id, "broken", {"failed"}, 2)
        assert again["try_number"] == 2  # the page's clear reached Airflow
        log = client.get(f"/alerts/{alert.id}/airflow/log").text
        assert "this task always fails" in log
        api = client.post(
            f"/api/v1/alerts/{alert.id}/airflow/pause",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert api.status_code == 200 and api.json()["sal"] == (
            "paused opsweek_always_fails on airflow-test"
        )
        assert server.api("GET", "/dags/opsweek_always_fails")["is_paused"] is True
        server.api("PATCH", "/dags/opsweek_always_fails", json={"is_paused": False})
    with store.session() as session:
        actions = session.scalars(
            select(AlertEvent.actor).where(
                AlertEvent.alert_id == alert.id, AlertEvent.action.like("airflow-%")
            )
        ).all()
    assert list(actions) == ["ann", "ann"]


def test_a_failed_run_is_an_alert_with_its_tasks_and_clearing_it_ends_both(
    server: AirflowServer,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
) -> None:
    ops = app_for(store, tmp_path, monkeypatch, ("test", server.url))
    dag = "opsweek_druid_load_once"
    run_id = server.trigger(dag)
    server.wait_for_state(dag, run_id, "load_druid", {"failed"})
    server.wait_for_run(dag, run_id, {"failed"})
    polled = ops.airflow.poll(since=now - timedelta(hours=1))
    assert polled.failed_runs >= 1
    (task,) = alerts_of(store, dag)
    (run,) = alerts_of(store, dag, "airflow_dag_run_failed")
    assert run.status == "firing" and run.group_key == task.group_key
    assert run.details["failed_tasks"] == ["load_druid"]
    # a Druid load: the indexing task and datasource its log names, and where to read Druid's log
    druid_task = "index_hadoop_opsweek_test_abcdefgh_2026-12-01T10:12:40.118Z"
    assert task.details["druid_task_id"] == druid_task
    assert task.details["druid_datasource"] == "opsweek_test"
    steps = {s.id: s for s in steps_for(task.kind, task.details, alert_id=task.id)}
    assert steps["druid-log"].command == (
        f"{DRUID}/druid/indexer/v1/task/{druid_task.replace(':', '%3A')}/log"
    )
    assert steps["opsweek-clear"].command == f"opsweek airflow clear {task.id}"
    assert "clear" not in steps  # no CLI configured for it: the UI, or opsweek

    clear = ops.airflow.clear(run.id)  # every failed task of the run
    assert '"task_ids"' not in clear.describe() and '"dag_run_id"' in clear.describe()
    ops.airflow.send(clear, "ana")
    server.wait_for_run(dag, run_id, {"success"})
    assert ops.airflow.poll().rechecked == 2
    (task,) = alerts_of(store, dag)
    (run,) = alerts_of(store, dag, "airflow_dag_run_failed")
    assert (task.status, run.status) == ("resolved", "resolved")
    assert run.resolution_note == "cleared by ana through opsweek, then run succeeded"
    assert task.resolution_note == "cleared by ana through opsweek, then succeeded on try 2"
    with store.session() as session:
        sal = [(e.actor, e.message) for e in session.scalars(select(SalEntry))]
    assert ("ana", f"cleared the failed tasks of {dag} {run_id} on airflow-test") in sal


def test_an_sla_miss_gets_its_late_tasks_states_from_the_server(
    server: AirflowServer,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
) -> None:
    ops = app_for(store, tmp_path, monkeypatch, ("test", server.url))
    dag = "opsweek_always_fails"  # a logical date of its own for each store's run of the test:
    day = (now - timedelta(days=1)).replace(microsecond=0).isoformat()
    run_id = server.trigger(dag, day)
    server.wait_for_state(dag, run_id, "broken", {"failed"})
    mail = EmailMessage()
    mail["Subject"] = f"[airflow] SLA miss on DAG={dag}"
    mail["Message-ID"] = "<sla-miss@example.org>"
    mail.set_content(
        f"Here's a list of tasks that missed their SLAs:\nbroken on {day}\n"
        f"Blocking tasks:\n\nAirflow Webserver URL: {server.url}\n"
    )
    AlertChanges(store).ingest([RawInput(mail.as_bytes(), EMAIL, now, "test")])
    ops.airflow.poll()
    (sla,) = alerts_of(store, dag, "airflow_sla_miss")
    assert sla.status == "firing" and [t["state"] for t in sla.details["missed"]] == ["failed"]
    texts = [s.text for s in steps_for(sla.kind, sla.details)]
    assert f"Late task: broken on {day}, now failed" in texts

    server.api(
        "PATCH",
        f"/dags/{dag}/dagRuns/{httpx.URL(run_id).raw_path.decode()}/taskInstances/broken",
        json={"new_state": "success"},
    )
    ops.airflow.poll()
    (sla,) = alerts_of(store, dag, "airflow_sla_miss")
    assert sla.status == "resolved"
    assert sla.resolution_note == "the late tasks have finished: broken success"


def test_serve_polls_each_instance_on_its_interval(
    server: AirflowServer, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from opsweek.server import Server

    config = tmp_path / "opsweek.toml"
    config.write_text(
        "[checks]\ninterval_minutes = 0\n[airflow]\npoll_seconds = 1\n"
        f'[[airflow.instances]]\nname = "test"\nurl = "{server.url}"\nuser = "{USER}"\n'
        'password_env = "AIRFLOW_TEST_PASSWORD"\n'
    )
    monkeypatch.setenv("AIRFLOW_TEST_PASSWORD", PASSWORD)
    ops = App(load_settings(config, env={"OPSWEEK_DATA_DIR": str(tmp_path)}), store=store)
    serving = Server(ops, "127.0.0.1", free_port(), workers=1)
    serving.start()  # the scheduled jobs, without the web app
    try:
        run_id = server.trigger("opsweek_always_fails")
        server.wait_for_state("opsweek_always_fails", run_id, "broken", {"failed"})
        deadline = time.monotonic() + 60
        while run_id not in [a.details["run_id"] for a in alerts_of(store, "opsweek_always_fails")]:
            assert time.monotonic() < deadline, "serve never polled the failure in"
            time.sleep(0.5)
    finally:
        serving.stop()


def test_wrong_credentials_are_said_as_such(
    server: AirflowServer,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ops = app_for(store, tmp_path, monkeypatch, ("test", server.url))
    monkeypatch.setenv("AIRFLOW_TEST_PASSWORD", "not-the-password")
    run = ops.airflow.poll()
    assert run.unreachable == {} and set(run.refused) == {"test"}
    assert run.refused["test"].startswith(f"airflow test ({server.url}): credentials refused")
    assert "check user 'admin' and $AIRFLOW_TEST_PASSWORD" in run.refused["test"]


def test_a_run_marked_success_that_fails_again_fires_again(
    server: AirflowServer,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
) -> None:
    ops = app_for(store, tmp_path, monkeypatch, ("test", server.url))
    dag = "opsweek_always_fails"
    run_id = server.trigger(dag)
    server.wait_for_run(dag, run_id, {"failed"})
    ops.airflow.poll(since=now - timedelta(hours=1))
    (run,) = [
        a for a in alerts_of(store, dag, "airflow_dag_run_failed") if a.details["run_id"] == run_id
    ]
    ops.airflow.send(ops.airflow.mark_success(run.id), "ana")
    server.wait_for_run(dag, run_id, {"success"})
    ops.airflow.poll()
    with store.session() as session:
        assert session.get(Alert, run.id).status == "resolved"
    path = f"/dags/{dag}/clearTaskInstances"
    server.api(
        "POST",
        path,
        json={"dag_run_id": run_id, "only_failed": False, "reset_dag_runs": True, "dry_run": False},
    )
    server.wait_for_state(dag, run_id, "broken", {"failed"}, 2)
    server.wait_for_run(dag, run_id, {"failed"})
    polled = ops.airflow.poll()
    assert polled.failed_runs >= 1  # with the other tests' runs that changed meanwhile
    with store.session() as session:
        again = session.get(Alert, run.id)
        actions = session.scalars(
            select(AlertEvent.action).where(AlertEvent.alert_id == run.id)
        ).all()
    assert again.status == "firing" and again.fire_count == 2
    assert list(actions) == ["created", "airflow-mark-success", "resolved", "refired"]
