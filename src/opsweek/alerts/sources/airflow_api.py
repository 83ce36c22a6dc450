"""Task instances read from an Airflow instance's REST API (`opsweek.checks.airflow`): the same
alert an Airflow failure e-mail makes, with the same fingerprint, so a poll and an e-mail of one
failure are one alert. A task instance that succeeded later says its alert is resolved, and how.

The input is JSON written by the poll: ``instance`` (its name), ``base_url``, and
``task_instance`` with the API's fields (dag_id, task_id, dag_run_id, map_index, state,
try_number, max_tries, hostname)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import orjson

from opsweek.alerts.model import RESOLVED, ParsedAlert, ParseError, clean_text, digest
from opsweek.alerts.sources.airflow_task_failed import KIND

FAILING = ("failed", "up_for_retry")
OVER = ("success", "skipped", "removed")  # the failure is over: nothing left to do


def content(instance: str, base_url: str, task_instance: dict[str, Any]) -> bytes:
    """The input the poll stores for a task instance: the same bytes for the same state of
    the same try (so a later poll of it is a duplicate, not a repeat)."""
    fields = ("dag_id", "task_id", "dag_run_id", "map_index", "state", "try_number")
    kept = {key: task_instance.get(key) for key in (*fields, "max_tries", "hostname")}
    body = {"instance": instance, "base_url": base_url, "task_instance": kept}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def parse(data: bytes) -> ParsedAlert:
    try:
        body = orjson.loads(data)
        ti = body["task_instance"]
        dag_id, task_id, run_id = str(ti["dag_id"]), str(ti["task_id"]), str(ti["dag_run_id"])
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise ParseError(f"not a task instance from Airflow's API: {exc}") from None
    state = str(ti.get("state") or "")
    map_index = ti.get("map_index")
    map_index = None if map_index in (None, -1) else int(map_index)
    base_url = str(body.get("base_url") or "").rstrip("/")
    instance = str(body.get("instance") or "")
    try_number = ti.get("try_number")
    details = {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "state": state,
        "map_index": map_index,
        "try_number": try_number,
        "max_tries": ti.get("max_tries"),
        "log_url": _log_url(base_url, dag_id, run_id, task_id, map_index, try_number),
        "host": str(ti.get("hostname") or ""),
        "exception": "",
        "airflow_instance": f"airflow-{instance}" if instance else "",
        "base_url": base_url,
        "polled": True,
    }
    return ParsedAlert(
        kind=KIND,
        source="airflow",
        title=clean_text(f"{dag_id}.{task_id} {state} ({run_id})"),
        fingerprint=digest(KIND, dag_id, task_id, run_id, map_index),
        severity="error" if state == "failed" else "warning",
        status=RESOLVED if state in OVER else "firing",
        details=details,
        group_key=digest(KIND, dag_id, run_id),
        note=_ended(state, try_number),
    )


def _ended(state: str, try_number: object) -> str:
    if state == "success":
        return f"succeeded on try {try_number}" if try_number else "succeeded"
    return f"{state} in Airflow" if state in OVER else ""


def _log_url(
    base_url: str,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int | None,
    try_number: object,
) -> str:
    """The task try's page in the Airflow 3 UI (its log tab)."""
    if not base_url:
        return ""
    path = f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
    path += f"/tasks/{quote(task_id, safe='')}"
    if map_index is not None:
        path += f"/mapped/{map_index}"
    query = urlencode({"try_number": try_number}) if try_number else ""
    return f"{base_url}{path}" + (f"?{query}" if query else "")
