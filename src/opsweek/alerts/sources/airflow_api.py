"""What the poll of an Airflow instance's REST API reads (`opsweek.checks.airflow`), as alerts:

- a task instance: the same alert an Airflow failure e-mail makes, with the same fingerprint, so
  a poll and an e-mail of one failure are one alert;
- a failed DAG run (`airflow_dag_run_failed`), grouped with its tasks' alerts;
- the late tasks of an SLA miss e-mail with their current states (the same fingerprint as the
  e-mail, so the e-mail's alert gains the states).

Each says its alert is resolved once it is over (a task or run that succeeded later, late tasks
all finished), and how. The input is JSON written by the poll: ``instance`` (its name),
``base_url``, ``api`` (``v1`` or ``v2``, which tells the UI's links apart) and one of
``task_instance`` (the API's fields: dag_id, task_id, dag_run_id, map_index, state,
try_number, max_tries, hostname), ``dag_run`` (dag_id, dag_run_id, state, logical_date,
run_type, note; with ``failed_tasks``) or ``sla_miss`` (the e-mail's details, each missed task
with its ``state``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from opsweek.alerts.model import RESOLVED, ParsedAlert, ParseError, clean_text, digest
from opsweek.alerts.sources import airflow_sla_miss
from opsweek.alerts.sources.airflow_task_failed import KIND

RUN_KIND = "airflow_dag_run_failed"
FAILING = ("failed", "up_for_retry")
OVER = ("success", "skipped", "removed")  # the failure is over: nothing left to do
DRUID = ("task_id", "datasource", "overlord_url", "console_url")  # what a poll says of Druid


def content(
    instance: str,
    base_url: str,
    task_instance: dict[str, Any],
    ended: str = "",
    api: str = "v2",
    druid: dict[str, str] | None = None,
    excerpt: str = "",
) -> bytes:
    """The input the poll stores for a task instance: the same bytes for the same state of
    the same try ended at the same time (so a later poll of it is a duplicate, not a repeat,
    while the same try failing again after a mark-success is news). ``ended``: how its
    failure ended, when someone else ended it ("cleared by ana in Airflow, then ...");
    ``druid``: for a task loading into Druid, the indexing task and datasource its log names
    (``task_id``, ``datasource``) and where Druid is (``overlord_url``, ``console_url``);
    ``excerpt``: the failed try's error, from its log (`error_excerpt`)."""
    fields = ("dag_id", "task_id", "dag_run_id", "map_index", "state", "try_number")
    more = ("max_tries", "hostname", "logical_date", "end_date")
    kept = {key: task_instance.get(key) for key in (*fields, *more)}
    body: dict[str, Any] = {**_head(instance, base_url, api), "task_instance": kept}
    if ended:
        body["ended"] = ended
    if druid:
        body["druid"] = druid
    if excerpt:
        body["excerpt"] = excerpt
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def run_content(
    instance: str,
    base_url: str,
    dag_run: dict[str, Any],
    failed_tasks: list[str],
    ended: str = "",
    api: str = "v2",
) -> bytes:
    """The input the poll stores for a DAG run (failed, or over since it failed): when it
    ended is part of it, so a run that fails again after it was marked success is news."""
    fields = ("dag_id", "dag_run_id", "state", "logical_date", "run_type", "note", "end_date")
    kept = {key: dag_run.get(key) for key in fields}
    body: dict[str, Any] = {
        **_head(instance, base_url, api),
        "dag_run": kept,
        "failed_tasks": sorted(failed_tasks),
    }
    if ended:
        body["ended"] = ended
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def sla_content(instance: str, base_url: str, details: dict[str, Any], api: str = "v2") -> bytes:
    """The input the poll stores for an SLA miss alert's late tasks, with their states."""
    kept = {key: details.get(key) for key in ("dag_id", "missed", "blocking")}
    body = {**_head(instance, base_url, api), "sla_miss": kept}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def _head(instance: str, base_url: str, api: str) -> dict[str, str]:
    return {"instance": instance, "base_url": base_url, "api": api}


def parse(data: bytes) -> ParsedAlert:
    try:
        body = orjson.loads(data)
        if not isinstance(body, dict):
            raise TypeError("not an object")
        if "dag_run" in body:
            return _run(body)
        if "sla_miss" in body:
            return _sla(body)
        ti = body["task_instance"]
        dag_id, task_id, run_id = str(ti["dag_id"]), str(ti["task_id"]), str(ti["dag_run_id"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ParseError(
            f"not a task instance, DAG run or SLA miss from Airflow's API: {exc!r}"
        ) from None
    state = str(ti.get("state") or "")
    map_index = ti.get("map_index")
    map_index = None if map_index in (None, -1) else int(map_index)
    base_url = str(body.get("base_url") or "").rstrip("/")
    try_number = ti.get("try_number")
    api = str(body.get("api") or "v2")
    details = {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "state": state,
        "map_index": map_index,
        "try_number": try_number,
        "max_tries": _tries(ti.get("max_tries")),
        "log_url": _log_url(base_url, api, dag_id, run_id, task_id, map_index, try_number),
        "host": str(ti.get("hostname") or ""),
        "exception": str(body.get("excerpt") or ""),
        "airflow_instance": _instance(body),
        "base_url": base_url,
        "logical_date": str(ti.get("logical_date") or ""),  # none: a run without one
        "polled": True,
    }
    druid = body.get("druid") if isinstance(body.get("druid"), dict) else {}
    details.update({f"druid_{key}": str(value) for key, value in druid.items() if key in DRUID})
    return ParsedAlert(
        kind=KIND,
        source="airflow",
        title=clean_text(f"{dag_id}.{task_id} {state} ({run_id})"),
        fingerprint=digest(KIND, dag_id, task_id, run_id, map_index),
        severity="error" if state == "failed" else "warning",
        status=RESOLVED if state in OVER else "firing",
        details=details,
        group_key=digest(KIND, dag_id, run_id),
        note=str(body.get("ended") or "") or _ended(state, try_number, details["max_tries"]),
    )


def _tries(max_tries: object) -> int | None:
    """How many tries a task has, as its e-mail says it ("Try 1 out of 2"): the API's
    ``max_tries`` counts the retries only."""
    return max_tries + 1 if isinstance(max_tries, int) else None


def _instance(body: dict[str, Any]) -> str:
    instance = str(body.get("instance") or "")
    return f"airflow-{instance}" if instance else ""


def _run(body: dict[str, Any]) -> ParsedAlert:
    run = body["dag_run"]
    dag_id, run_id = str(run["dag_id"]), str(run["dag_run_id"])
    state = str(run.get("state") or "")
    base_url = str(body.get("base_url") or "").rstrip("/")
    failed = [str(t) for t in body.get("failed_tasks") or []]
    details = {
        "dag_id": dag_id,
        "run_id": run_id,
        "state": state,
        "logical_date": str(run.get("logical_date") or ""),
        "run_type": str(run.get("run_type") or ""),
        "run_note": str(run.get("note") or ""),
        "failed_tasks": failed,
        "run_url": _run_url(base_url, str(body.get("api") or "v2"), dag_id, run_id),
        "airflow_instance": _instance(body),
        "base_url": base_url,
        "polled": True,
    }
    what = f": {len(failed)} failed task(s)" if failed else ""
    ended = str(body.get("ended") or "")
    return ParsedAlert(
        kind=RUN_KIND,
        source="airflow",
        title=clean_text(f"{dag_id} run {state} ({run_id}){what}"),
        fingerprint=digest(RUN_KIND, dag_id, run_id),
        severity="error" if state == "failed" else "info",
        status=RESOLVED if state == "success" else "firing",
        details=details,
        group_key=digest(KIND, dag_id, run_id),  # with its tasks' alerts
        note=ended or ("the DAG run succeeded" if state == "success" else f"the run {state}"),
    )


def _sla(body: dict[str, Any]) -> ParsedAlert:
    """An SLA miss e-mail's late tasks with their states now: the e-mail's alert, which
    resolves once every late task has finished."""
    sla = body["sla_miss"]
    dag_id = str(sla["dag_id"])
    missed = [
        {
            "task_id": str(t["task_id"]),
            "execution_date": str(t["execution_date"]),
            "state": str(t.get("state") or ""),
        }
        for t in sla["missed"]
    ]
    if not missed:
        raise ValueError("no late task")
    finished = all(t["state"] in OVER for t in missed)
    states = ", ".join(f"{t['task_id']} {t['state'] or 'unknown'}" for t in missed)
    details = {
        "dag_id": dag_id,
        "missed": missed,
        "blocking": list(sla.get("blocking") or []),
        "base_url": str(body.get("base_url") or "").rstrip("/"),
        "airflow_instance": _instance(body),
        "states_polled": True,
    }
    first = missed[0]
    return ParsedAlert(
        kind=airflow_sla_miss.KIND,
        source="airflow",
        title=clean_text(
            f"SLA miss on {dag_id}: {len(missed)} task(s) from {first['execution_date']}"
        ),
        fingerprint=airflow_sla_miss.fingerprint(dag_id, missed),
        severity="warning",
        status=RESOLVED if finished else "firing",
        details=details,
        group_key=digest(airflow_sla_miss.KIND, dag_id),
        note=f"the late tasks have finished: {states}" if finished else "",
    )


@dataclass(frozen=True)
class Asked:
    """Who asked opsweek to act on a run or its tasks, to tell them apart from opsweek's own
    account in Airflow's audit log: an event of ``account`` (or, when opsweek uses a token
    and its account is unknown, one within `ASKED_WITHIN` of what was asked) is credited to
    the person who asked."""

    account: str = ""  # the user opsweek signs in to Airflow as; "" with a token
    acts: tuple[tuple[datetime, str, str], ...] = ()  # (when, clear | mark-success ..., who)

    def who(self, owner: str, action: str, when: object) -> str:
        for at, done, actor in self.acts:
            if done.split("-")[0] != action:
                continue
            ours = owner == self.account if self.account else _near(when, at)
            if ours:
                return f"{actor} through opsweek"
        return f"{owner} in Airflow"


ASKED_WITHIN = timedelta(minutes=2)


def _near(when: object, at: datetime) -> bool:
    try:
        moment = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return abs(moment - at) <= ASKED_WITHIN


def ending(
    events: list[dict[str, Any]],
    task_id: str,
    state: str,
    try_number: object,
    asked: Asked = Asked(),
) -> str:
    """How a task's failure ended, from its run's audit log (newest first): the last thing a
    person did to it (a clear, or setting its state), then what Airflow says now."""
    plain = _ended(state, try_number)
    for event in events:
        owner = str(event.get("owner") or "")
        if not owner or owner == "airflow":
            continue  # Airflow's own doings: running, failed, success
        name = str(event.get("event") or "")
        extra = _extra(event.get("extra"))
        when = event.get("when")
        ids = _task_ids(extra)  # none: the whole run's failed tasks were cleared
        if (
            "clear" in name
            and event.get("task_id") in (None, task_id)
            and task_id in (ids or [task_id])
        ):
            who = asked.who(owner, "clear", when)
            return f"cleared by {who}, then {plain}" if plain else ""
        if name in ("patch_task_instance", "set_task_instance_state") and event.get("task_id") in (
            None,
            task_id,
        ):
            new_state = extra.get("new_state") or state
            return f"marked {new_state} by {asked.who(owner, 'mark', when)}"
    return plain


def run_ending(events: list[dict[str, Any]], state: str, asked: Asked = Asked()) -> str:
    """How a DAG run's failure ended, from its audit log (newest first): the last clear or
    state change a person made, then what Airflow says now."""
    plain = "the DAG run succeeded" if state == "success" else f"the DAG run is {state}"
    for event in events:
        owner = str(event.get("owner") or "")
        if not owner or owner == "airflow":
            continue
        name = str(event.get("event") or "")
        when = event.get("when")
        if "clear" in name:
            who = asked.who(owner, "clear", when)
            return f"cleared by {who}, then {plain.removeprefix('the DAG ')}"
        if "dag_run" in name and ("patch" in name or "state" in name or "success" in name):
            new_state = _extra(event.get("extra")).get("state") or state
            return f"marked {new_state} by {asked.who(owner, 'mark', when)}"
    return plain


# a line of a task's log that says what went wrong
ERROR_LINE = re.compile(
    r"Traceback \(most recent call last\)|\b(?:ERROR|CRITICAL|error|critical)\b|"
    r"^\s*[\w.]*(?:Error|Exception|Exit)\w*:"
)
EXCERPT_LINES, EXCERPT_CHARS = 15, 2000


def error_excerpt(log: str) -> str:
    """What a failed try's log says went wrong: up to `EXCERPT_LINES` lines ending with its
    last error line and the indented lines under it (a traceback's frames, an exception's
    type and value), from the traceback's first line when it fits; "" when no line says
    error."""
    lines = [line.rstrip() for line in log.splitlines() if line.strip()]
    last = max((i for i, line in enumerate(lines) if ERROR_LINE.search(line)), default=-1)
    if last < 0:
        return ""
    end = last + 1
    while end < len(lines) and lines[end][:1].isspace():
        end += 1
    start = max(0, end - EXCERPT_LINES)
    traceback = [i for i in range(start, end) if lines[i].startswith("Traceback")]
    if traceback:
        start = traceback[-1]
    return "\n".join(lines[start:end])[-EXCERPT_CHARS:]


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


def _ended(state: str, try_number: object, tries: int | None = None) -> str:
    """How a task instance's state reads in its alert's history: how it ended, or which try
    failed ("try 2 of 2 failed": a retry that failed too)."""
    if state == "success":
        return f"succeeded on try {try_number}" if try_number else "succeeded"
    if state in OVER:
        return f"{state} in Airflow"
    if state in FAILING and try_number:
        of = f" of {tries}" if tries else ""
        return f"try {try_number}{of} failed" + (", up for retry" if state != "failed" else "")
    return ""


def _log_url(
    base_url: str,
    api: str,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int | None,
    try_number: object,
) -> str:
    """The task try's log in the UI: Airflow 3's task page, or Airflow 2's grid with its log
    tab open."""
    if not base_url:
        return ""
    if api == "v1":
        query = {"dag_run_id": run_id, "task_id": task_id, "tab": "logs"}
        if map_index is not None:
            query["map_index"] = str(map_index)
        return f"{base_url}/dags/{quote(dag_id, safe='')}/grid?{urlencode(query)}"
    path = f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
    path += f"/tasks/{quote(task_id, safe='')}"
    if map_index is not None:
        path += f"/mapped/{map_index}"
    query_text = urlencode({"try_number": try_number}) if try_number else ""
    return f"{base_url}{path}" + (f"?{query_text}" if query_text else "")


def _run_url(base_url: str, api: str, dag_id: str, run_id: str) -> str:
    """The DAG run's page in the UI (Airflow 3), or its grid (Airflow 2)."""
    if not base_url:
        return ""
    if api == "v1":
        return f"{base_url}/dags/{quote(dag_id, safe='')}/grid?{urlencode({'dag_run_id': run_id})}"
    return f"{base_url}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
