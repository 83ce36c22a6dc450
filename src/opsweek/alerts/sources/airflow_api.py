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


def content(instance: str, base_url: str, task_instance: dict[str, Any], ended: str = "") -> bytes:
    """The input the poll stores for a task instance: the same bytes for the same state of
    the same try (so a later poll of it is a duplicate, not a repeat). ``ended``: how its
    failure ended, when someone else ended it ("cleared by ana in Airflow, then ...")."""
    fields = ("dag_id", "task_id", "dag_run_id", "map_index", "state", "try_number")
    kept = {key: task_instance.get(key) for key in (*fields, "max_tries", "hostname")}
    body = {"instance": instance, "base_url": base_url, "task_instance": kept}
    if ended:
        body["ended"] = ended
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
        note=str(body.get("ended") or "") or _ended(state, try_number),
    )


def ending(events: list[dict[str, Any]], task_id: str, state: str, try_number: object) -> str:
    """How a task's failure ended, from its run's audit log (newest first): the last thing a
    person did to it (a clear, or setting its state), then what Airflow says now."""
    plain = _ended(state, try_number)
    for event in events:
        owner = str(event.get("owner") or "")
        if not owner or owner == "airflow":
            continue  # Airflow's own doings: running, failed, success
        name = str(event.get("event") or "")
        extra = _extra(event.get("extra"))
        if "clear" in name and (
            event.get("task_id") in (None, task_id) and task_id in _task_ids(extra)
        ):
            return f"cleared by {owner} in Airflow, then {plain}" if plain else ""
        if name in ("patch_task_instance", "set_task_instance_state") and event.get("task_id") in (
            None,
            task_id,
        ):
            new_state = extra.get("new_state") or state
            return f"marked {new_state} by {owner} in Airflow"
    return plain


def _extra(value: object) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        found = orjson.loads(str(value or "{}"))
    except orjson.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def _task_ids(extra: dict[str, Any]) -> list[str]:
    ids = extra.get("task_ids") or []
    return [str(t[0] if isinstance(t, list) else t) for t in ids] if isinstance(ids, list) else []


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
