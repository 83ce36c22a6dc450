"""Airflow 2's `/api/v1`, as production runs it today, against recorded responses: every request
opsweek sends is checked against Airflow 2.10's published OpenAPI spec (its path, method, query
parameters and body), and so is every recorded response it reads, so neither side can drift
from what a real Airflow 2 takes and answers. The Airflow 3 side runs against a real server
(tests/integration/test_airflow.py)."""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

from opsweek.adapters.airflow import AirflowClient, AirflowInstance
from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import EMAIL
from opsweek.alerts.model import RawInput
from opsweek.alerts.runbook import steps_for
from opsweek.checks.airflow import AirflowWatch
from opsweek.db.models import Alert, SalEntry
from opsweek.db.session import Store
from opsweek.site import DEFAULT_SITE, AirflowCli
from tests.alerts.helpers import ALERT_FIXTURES

RECORDED = Path(__file__).parents[1] / "fixtures" / "airflow_v1"
URL = "https://airflow-analytics.wikimedia.org"  # as the SLA miss fixture names it
NOW = datetime(2023, 10, 1, 3, 10, tzinfo=UTC)
# Airflow 2 sends null for these when there is none, which its spec does not declare
NULLABLE_REFS = ("sla_miss", "trigger", "triggerer_job")


@cache
def spec() -> dict[str, Any]:
    loaded = yaml.safe_load((RECORDED / "openapi-v1.yaml").read_text())
    properties = loaded["components"]["schemas"]["TaskInstance"]["properties"]
    for name in NULLABLE_REFS:
        properties[name] = {"allOf": [properties[name]], "nullable": True}
    return loaded


def resolve(node: Any, depth: int = 0) -> Any:
    """``node`` with every local ``$ref`` replaced by what it points to."""
    assert depth < 30, "a $ref cycle"
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec()
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve(target, depth + 1)
        # a discriminator's mapping names schemas by $ref strings: the oneOf says it all
        return {
            key: resolve(value, depth + 1) for key, value in node.items() if key != "discriminator"
        }
    if isinstance(node, list):
        return [resolve(item, depth + 1) for item in node]
    return node


def operation(method: str, path: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The spec's operation for a request, and its parameters (the path's and its own);
    literal path segments (``~``, ``list``) win over templated ones."""
    paths = spec()["paths"]
    candidates = sorted(paths, key=lambda template: template.count("{"))
    for template in candidates:
        pattern = re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
        pattern = re.sub(r"{[a-z_]+}", "[^/]+", pattern)
        if re.fullmatch(pattern, path) and method.lower() in paths[template]:
            item = paths[template]
            params = [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]
            return item[method.lower()], resolve(params)
    raise AssertionError(f"{method} {path} is not in Airflow 2's API")


def check_body(schema: dict[str, Any], body: Any, writing: bool) -> None:
    """Valid against the schema, and (for a request) naming no field the schema does not:
    Airflow 2 ignores or rejects those, and either way the request would not do its job."""
    resolved = resolve(schema)
    (OAS30WriteValidator if writing else OAS30ReadValidator)(resolved).validate(body)
    if writing and isinstance(body, dict):
        declared = set(resolved.get("properties") or {})
        assert set(body) <= declared, f"fields Airflow 2 does not take: {set(body) - declared}"


def recorded(name: str) -> Any:
    path = RECORDED / name
    return json.loads(path.read_text()) if name.endswith(".json") else path.read_text()


class RecordedAirflow2:
    """Answers as an Airflow 2.10 web server, from the recorded responses, after checking each
    request against the spec (and each answer too)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []  # (operationId, path, body)
        self.paused = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v2/version":
            return httpx.Response(404, json={"detail": "Not Found"})  # Airflow 2 has no v2
        assert path.startswith("/api/v1/"), path
        expected = "Basic " + base64.b64encode(b"opsweek:secret").decode()
        assert request.headers.get("Authorization") == expected
        op, params = operation(request.method, path.removeprefix("/api/v1"))
        declared = {p["name"] for p in params if p["in"] == "query"}
        assert set(request.url.params) <= declared, (
            f"{op['operationId']}: query parameters {set(request.url.params) - declared} "
            "are not Airflow 2's"
        )
        body = json.loads(request.content) if request.content else None
        if "requestBody" in op:
            check_body(op["requestBody"]["content"]["application/json"]["schema"], body, True)
        self.requests.append((op["operationId"], unquote(path), body))
        status, answer = self.answer(op["operationId"], unquote(path), body)
        content = op["responses"][str(status)]["content"]
        if isinstance(answer, str):
            assert "text/plain" in content and request.headers["Accept"] == "text/plain"
            return httpx.Response(status, text=answer)
        check_body(content["application/json"]["schema"], answer, False)
        return httpx.Response(status, json=answer)

    def answer(self, operation_id: str, path: str, body: Any) -> tuple[int, Any]:
        if operation_id in ("get_dag", "patch_dag"):
            if operation_id == "patch_dag":
                self.paused = body["is_paused"]
            return 200, {**recorded("dag.json"), "is_paused": self.paused}
        if operation_id == "get_task_instances_batch":
            if "dag_run_ids" in body:
                return 200, recorded("task_instances_of_run.json")
            if "execution_date_gte" in body:
                return 200, recorded("task_instances_sla.json")
            return 200, recorded("task_instances_failing.json")
        if operation_id == "get_task_instance":  # asked again: the cleared one succeeded
            success = recorded("task_instance_success.json")
            if path.endswith(f"/{success['dag_run_id']}/taskInstances/{success['task_id']}"):
                return 200, success
            failing = recorded("task_instances_failing.json")["task_instances"]
            return 200, next(ti for ti in failing if path.endswith(f"/{ti['task_id']}"))
        answers = {
            "get_dag_runs_batch": "dag_runs_failed.json",
            "get_dag_run": "dag_run_success.json",
            "get_event_logs": "event_logs.json",
            "get_log": "druid_task_log.txt",
            "post_clear_task_instances": "cleared.json",
            "patch_task_instance": "task_instance_reference.json",
            "update_dag_run_state": "dag_run_success.json",
        }
        return 200, recorded(answers[operation_id])


@pytest.fixture
def airflow2() -> RecordedAirflow2:
    return RecordedAirflow2()


@pytest.fixture
def watch(store: Store, airflow2: RecordedAirflow2) -> Iterator[AirflowWatch]:
    instance = AirflowInstance("analytics", URL, "opsweek", "AIRFLOW_PASSWORD")
    client = AirflowClient(instance, {"AIRFLOW_PASSWORD": "secret"}, httpx.MockTransport(airflow2))
    druid = {"overlord_url": "https://druid.example.org:8090"}
    yield AirflowWatch(
        {"analytics": client}, store, AlertChanges(store), timedelta(hours=24), lambda: NOW, druid
    )
    client.close()


def alerts(store: Store, kind: str) -> dict[str, Alert]:
    with store.session() as session:
        found = session.query(Alert).filter(Alert.kind == kind).all()
        return {f"{a.details['dag_id']}.{a.details.get('task_id', '')}": a for a in found}


def test_a_poll_of_airflow_2_makes_its_failures_alerts_and_sees_them_end(
    watch: AirflowWatch, store: Store, airflow2: RecordedAirflow2
) -> None:
    sla_mail = (ALERT_FIXTURES / "airflow_sla_miss.eml").read_bytes()
    AlertChanges(store).ingest([RawInput(sla_mail, EMAIL, NOW, "test")])
    first = watch.poll()
    assert (first.unreachable, first.failing, first.failed_runs) == ({}, 2, 1)
    tasks = alerts(store, "airflow_task_failed")
    edit = tasks["edit_hourly.process_edit_hourly"]
    assert edit.details["log_url"] == (
        f"{URL}/dags/edit_hourly/grid?dag_run_id=scheduled__2023-10-01T00%3A00%3A00%2B00%3A00"
        "&task_id=process_edit_hourly&tab=logs"
    )
    assert edit.details["max_tries"] == 3  # "Try 3 out of 3", as its e-mail says
    druid = tasks["druid_load_edit_hourly.load_edit_hourly_to_druid"]
    assert (
        druid.details["druid_task_id"]
        == "index_hadoop_edit_hourly_kmbpdgoe_2023-10-01T02:09:39.982Z"
    )
    assert druid.details["druid_datasource"] == "edit_hourly"
    (run,) = alerts(store, "airflow_dag_run_failed").values()
    assert run.details["failed_tasks"] == ["process_edit_hourly"] and run.status == "firing"
    site = replace(DEFAULT_SITE, airflow_clis=(AirflowCli("analytics", "an-launcher1002"),))
    steps = {s.id: s for s in steps_for(run.kind, run.details, alert_id=run.id, site=site)}
    assert steps["clear"].host == "an-launcher1002"
    assert steps["clear"].command == (
        "airflow tasks clear --yes --only-failed --start-date 2023-10-01T00:00:00+00:00 "
        "--end-date 2023-10-01T00:00:00+00:00 edit_hourly"
    )

    second = watch.poll()  # the recorded answers now say the cleared task and run succeeded
    assert second.rechecked == 3  # the task, the run and the SLA miss's states
    tasks = alerts(store, "airflow_task_failed")
    edit = tasks["edit_hourly.process_edit_hourly"]
    assert edit.status == "resolved"
    assert edit.resolution_note == "cleared by milimetric in Airflow, then succeeded on try 4"
    assert tasks["druid_load_edit_hourly.load_edit_hourly_to_druid"].status == "firing"
    (run,) = alerts(store, "airflow_dag_run_failed").values()
    assert (run.status, run.resolution_note) == (
        "resolved",
        "cleared by milimetric in Airflow, then run succeeded",
    )
    (sla,) = alerts(store, "airflow_sla_miss").values()
    assert [(t["task_id"], t["state"]) for t in sla.details["missed"]] == [
        ("wait_for_webrequest_partition", "success"),
        ("compute_actor_metrics", "running"),
    ]
    assert sla.status == "firing"  # one late task still runs
    asked = {op for op, _, _ in airflow2.requests}
    assert {"get_task_instances_batch", "get_dag_runs_batch", "get_log", "get_event_logs"} <= asked


def test_actions_on_airflow_2_are_requests_its_api_takes(
    watch: AirflowWatch, store: Store, airflow2: RecordedAirflow2
) -> None:
    watch.poll()
    edit = alerts(store, "airflow_task_failed")["edit_hourly.process_edit_hourly"]
    (run,) = alerts(store, "airflow_dag_run_failed").values()
    airflow2.requests.clear()
    for action in (
        watch.clear(edit.id),
        watch.clear(edit.id, downstream=True),
        watch.mark_success(edit.id),
        watch.pause(edit.id),
        watch.pause(edit.id),  # paused already: asked, not sent, not logged
        watch.pause(edit.id, paused=False),
        watch.clear(run.id),
        watch.mark_success(run.id),
    ):
        watch.send(action, "ana")
    run_path = "/api/v1/dags/edit_hourly/dagRuns/scheduled__2023-10-01T00:00:00+00:00"
    assert [(op, path) for op, path, _ in airflow2.requests] == [
        ("post_clear_task_instances", "/api/v1/dags/edit_hourly/clearTaskInstances"),
        ("post_clear_task_instances", "/api/v1/dags/edit_hourly/clearTaskInstances"),
        ("patch_task_instance", f"{run_path}/taskInstances/process_edit_hourly"),
        ("get_dag", "/api/v1/dags/edit_hourly"),
        ("patch_dag", "/api/v1/dags/edit_hourly"),
        ("get_dag", "/api/v1/dags/edit_hourly"),
        ("get_dag", "/api/v1/dags/edit_hourly"),
        ("patch_dag", "/api/v1/dags/edit_hourly"),
        ("post_clear_task_instances", "/api/v1/dags/edit_hourly/clearTaskInstances"),
        ("update_dag_run_state", run_path),
    ]
    bodies = [body for op, _, body in airflow2.requests if op != "get_dag"]
    assert bodies[0]["task_ids"] == ["process_edit_hourly"] and bodies[0]["only_failed"]
    assert bodies[1]["include_downstream"] is True
    assert bodies[2] == {"new_state": "success", "dry_run": False}
    assert bodies[5]["dag_run_id"] == "scheduled__2023-10-01T00:00:00+00:00"
    assert "task_ids" not in bodies[5] and bodies[6] == {"state": "success"}
    with store.session() as session:
        sal = [e.message for e in session.query(SalEntry).all()]
    assert sal.count("paused edit_hourly on airflow-analytics") == 1
    assert sal[-2:] == [
        "cleared the failed tasks of edit_hourly scheduled__2023-10-01T00:00:00+00:00 "
        "on airflow-analytics",
        "marked edit_hourly scheduled__2023-10-01T00:00:00+00:00 success on airflow-analytics",
    ]


def test_airflow_2_logs_are_read_as_text(watch: AirflowWatch, store: Store) -> None:
    watch.poll()
    druid = alerts(store, "airflow_task_failed")["druid_load_edit_hourly.load_edit_hourly_to_druid"]
    tail = watch.log_tail(druid.id, 2)
    assert tail.splitlines()[-1].endswith("ERROR - Task failed with exception")
    assert len(tail.splitlines()) == 2


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("task_instances_failing.json", "TaskInstance"),
        ("task_instances_sla.json", "TaskInstance"),
        ("task_instance_success.json", "TaskInstance"),
        ("dag_runs_failed.json", "DAGRun"),
        ("dag_run_success.json", "DAGRun"),
        ("event_logs.json", "EventLog"),
        ("dag.json", "DAG"),
    ],
)
def test_each_recorded_record_carries_every_field_airflow_2_sends(name: str, schema: str) -> None:
    body = recorded(name)
    key = {"TaskInstance": "task_instances", "DAGRun": "dag_runs", "EventLog": "event_logs"}
    records = body.get(key.get(schema, ""), [body]) if isinstance(body, dict) else body
    declared = set(spec()["components"]["schemas"][schema]["properties"])
    for record in copy.deepcopy(records):
        assert set(record) == declared, (set(record) ^ declared, name)
