"""Airflow as a source and an actuator.

- `poll`: each configured instance's failed and up-for-retry task instances and failed DAG runs
  become alerts (a task's is the alert its failure e-mail makes: a poll and an e-mail of one
  failure are one alert); then what each open Airflow alert is about is asked for again: a task
  or run that succeeded since (a retry, a clear, a mark-success by anyone) resolves its alert,
  saying how, and an SLA miss's late tasks get their current states (all finished: resolved).
  A failed task that loads into Druid has its log read for the Druid indexing task it ran.
- `clear`, `mark_success`, `pause`: what the runbook does by hand, sent to the alert's
  instance, recorded on the alert with who asked, and written to the SAL."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from opsweek.adapters.airflow import AirflowClient, Call, CredentialsRefused, DagRun, TaskInstance
from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import AIRFLOW
from opsweek.alerts.intake import IngestCounts
from opsweek.alerts.model import RawInput
from opsweek.alerts.sources import airflow_sla_miss
from opsweek.alerts.sources.airflow_api import (
    FAILING,
    OVER,
    RUN_KIND,
    Asked,
    content,
    ending,
    error_excerpt,
    run_content,
    run_ending,
    sla_content,
)
from opsweek.alerts.sources.airflow_task_failed import KIND
from opsweek.db.alert_reads import OPEN, newest_alerts
from opsweek.db.models import Alert, AlertEvent
from opsweek.db.session import Store
from opsweek.errors import BadInput, ConfigError, OpsweekError
from opsweek.timeutil import utcnow
from opsweek.watch.readings import keep_airflow_poll

ACTIONS = ("clear", "clear-downstream", "mark-success", "pause", "unpause")
# what can be done to each kind of alert, as its page offers it
LABELS = {
    KIND: {
        "clear": "clear the task",
        "clear-downstream": "clear with downstream",
        "mark-success": "mark success",
        "pause": "pause the DAG",
        "unpause": "unpause the DAG",
    },
    RUN_KIND: {
        "clear": "clear the run's failed tasks",
        "mark-success": "mark the run success",
        "pause": "pause the DAG",
        "unpause": "unpause the DAG",
    },
}
# a Druid indexing task's id, as Druid makes it (type_datasource_..._creation time) and as the
# loading task's log names it; and the datasource of its ingestion spec
DRUID_TASK = re.compile(
    r"\b(index(?:_[a-z]+)*_[A-Za-z0-9_.-]+?_\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)"
)
DRUID_DATASOURCE = re.compile(r"[\"']?dataSource[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9_.-]+)")
# how far back of its last poll a poll reads changes: Airflow's clock and a commit that lands
# after its change was stamped are a few seconds off, not a minute
OVERLAP = timedelta(minutes=1)


@dataclass
class PollRun:
    counts: IngestCounts = field(default_factory=IngestCounts)
    failing: int = 0  # failed or up-for-retry task instances seen
    failed_runs: int = 0  # failed DAG runs seen
    rechecked: int = 0  # open alerts asked about again: tasks and runs now over, SLA misses
    requests: int = 0  # requests sent to the instances
    unreachable: dict[str, str] = field(default_factory=dict)  # instance: why
    refused: dict[str, str] = field(default_factory=dict)  # instance: why (its credentials)

    @property
    def problems(self) -> dict[str, str]:
        return {**self.unreachable, **self.refused}

    def as_json(self) -> dict[str, Any]:
        return {
            **self.counts.as_json(),
            "failing": self.failing,
            "failed_runs": self.failed_runs,
            "rechecked": self.rechecked,
            "requests": self.requests,
            "unreachable": self.unreachable,
            "refused": self.refused,
        }


@dataclass
class Polled:
    """What one poll of one instance found."""

    inputs: list[RawInput] = field(default_factory=list)
    failing: int = 0
    failed_runs: int = 0
    rechecked: int = 0
    seen: set[tuple[Any, ...]] = field(default_factory=set)  # failures it saw


@dataclass(frozen=True)
class Action:
    """An action on an alert's task instance, before it is sent."""

    alert_id: int
    instance: str
    call: Call
    url: str  # the instance's URL (what `describe` shows)
    history: str  # the alert's history action
    sal: str  # the SAL line the runbook asks for
    dag_id: str = ""
    paused: bool | None = None  # a pause (True) or unpause (False)

    def describe(self) -> str:
        return self.call.describe(self.url)


class AirflowWatch:
    def __init__(
        self,
        clients: dict[str, AirflowClient],
        store: Store,
        changes: AlertChanges,
        lookback: timedelta,
        now: Callable[[], datetime] = utcnow,
        druid: dict[str, str] | None = None,
    ) -> None:
        self.clients = clients
        self.store = store
        self.changes = changes
        self.lookback = lookback
        self.now = now
        self.druid = {k: v for k, v in (druid or {}).items() if v}  # overlord_url, console_url
        self._polled: dict[str, datetime] = {}  # instance: when its last poll began
        self._seen: dict[str, set[tuple[Any, ...]]] = {}  # instance: failures its last poll saw

    # --- reading --------------------------------------------------------------------------
    def poll(self, names: list[str] | None = None, since: datetime | None = None) -> PollRun:
        """Poll each instance (of ``names``). The first poll of an instance (or one
        ``since`` a given time), and every poll of an Airflow 2 (whose API does not say what
        changed), reads the task instances and runs that failed since then (by default
        ``lookback``) and asks about each open alert again; later polls of an Airflow 3 read
        only what changed since the last poll (`_changes`)."""
        run = PollRun()
        for name in names or list(self.clients):
            client = self._client(name)
            began = self.now()
            last = self._polled.get(name)
            asked = client.requests
            try:
                if since is None and last is not None and client.api == "v2":
                    polled = self._changes(name, client, last - OVERLAP, began)
                else:
                    polled = self._full(name, client, since or began - self.lookback, began)
                run.counts.add(self.changes.ingest(polled.inputs, began))
            except (CredentialsRefused, ConfigError) as exc:
                run.refused[name] = str(exc)
                self._keep(name, began, None, str(exc))
                continue
            except OpsweekError as exc:
                run.unreachable[name] = str(exc)
                self._keep(name, began, None, str(exc))
                continue
            finally:
                run.requests += client.requests - asked
            self._keep(name, began, polled.failing, None)
            run.failing += polled.failing
            run.failed_runs += polled.failed_runs
            run.rechecked += polled.rechecked
            self._polled[name] = began
            self._seen[name] = polled.seen
        return run

    def _full(self, name: str, client: AirflowClient, start: datetime, at: datetime) -> Polled:
        """The task instances and runs that failed since ``start``, and each open alert's
        task, run or late tasks asked about again."""
        failing = client.task_instances(list(FAILING), start)
        failed_runs = client.dag_runs(["failed"], start)
        polled = self._failures(name, client, failing, failed_runs, at)
        over = self._recheck(name, client, at)
        polled.inputs += over
        polled.rechecked = len(over)
        return polled

    def _changes(self, name: str, client: AirflowClient, start: datetime, at: datetime) -> Polled:
        """What changed since ``start``: task instances and runs now failing, and, when
        alerts are open, those now over (success, skipped...) that end one; an SLA miss's
        late tasks are asked about again when a task of its DAG changed. Two requests when
        nothing changed."""
        alerts = self._open_alerts(name, client)
        tasks = {_task_key(d): d for k, d, _ in alerts if k == KIND}
        runs = {(d["dag_id"], d["run_id"]): d for k, d, _ in alerts if k == RUN_KIND}
        over_too = list(OVER) if tasks else []
        changed = client.task_instances([*FAILING, *over_too], updated_since=start)
        changed_runs = client.dag_runs(["failed", *(["success"] if runs else [])], None, start)
        polled = self._failures(
            name,
            client,
            [ti for ti in changed if ti.state in FAILING],
            [r for r in changed_runs if r.state == "failed"],
            at,
        )
        groups = {_task_key(d): group for k, d, group in alerts if k == KIND}
        groups |= {(d["dag_id"], d["run_id"]): g for k, d, g in alerts if k == RUN_KIND}
        over: list[RawInput] = []
        for ti in changed:
            key = _task_key({**ti.as_json(), "run_id": ti.run_id})
            if ti.state in OVER and key in tasks:
                over.append(self._task_over(name, client, ti, groups[key], at))
        for dag_run in changed_runs:
            if dag_run.state == "success" and (dag_run.dag_id, dag_run.run_id) in runs:
                group = groups[(dag_run.dag_id, dag_run.run_id)]
                over.append(self._run_over(name, client, dag_run, group, at))
        dags = {ti.dag_id for ti in changed}
        for kind, details, _ in alerts:
            if kind == airflow_sla_miss.KIND and details.get("dag_id") in dags:
                with contextlib.suppress(KeyError, TypeError, ValueError, OpsweekError):
                    over.append(self._sla_input(name, client, details, at))
        polled.inputs += over
        polled.rechecked = len(over)
        return polled

    def _failures(
        self,
        name: str,
        client: AirflowClient,
        failing: list[TaskInstance],
        failed_runs: list[DagRun],
        at: datetime,
    ) -> Polled:
        """Inputs for the failing task instances and failed runs not seen by the last poll
        of ``name`` (one that saw them stored them: their error is read once)."""
        seen = self._seen.get(name, set())
        polled = Polled(failing=len(failing), failed_runs=len(failed_runs))
        for ti in failing:
            key = (*_task_key({**ti.as_json(), "run_id": ti.run_id}), ti.state, ti.try_number)
            polled.seen.add(key)
            if key not in seen:
                polled.inputs.append(self._input(name, client, ti, at))
        for dag_run in failed_runs:
            key = (dag_run.dag_id, dag_run.run_id, dag_run.state, dag_run.end_date)
            polled.seen.add(key)
            if key not in seen:
                polled.inputs.append(self._run_input(name, client, dag_run, at))
        return polled

    def _keep(self, name: str, at: datetime, failing: int | None, error: str | None) -> None:
        with self.store.session() as session:
            keep_airflow_poll(session, name, at, failing, error)

    def _recheck(self, name: str, client: AirflowClient, at: datetime) -> list[RawInput]:
        """Inputs for this instance's open alerts that changed: a task or run whose failure is
        over, with how it ended (from the run's audit log); an SLA miss's late tasks' states."""
        inputs = []
        for kind, details, group in self._open_alerts(name, client):
            try:
                if kind == KIND:
                    ti = client.task_instance(
                        details["dag_id"],
                        details["run_id"],
                        details["task_id"],
                        details["map_index"],
                    )
                    if ti.state in OVER:
                        inputs.append(self._task_over(name, client, ti, group, at))
                elif kind == RUN_KIND:
                    dag_run = client.dag_run(details["dag_id"], details["run_id"])
                    if dag_run.state == "success":
                        inputs.append(self._run_over(name, client, dag_run, group, at))
                else:
                    inputs.append(self._sla_input(name, client, details, at))
            except (KeyError, TypeError, ValueError, OpsweekError):
                continue  # gone from Airflow, or not something this instance knows
        return inputs

    def _task_over(
        self, name: str, client: AirflowClient, ti: TaskInstance, group: str, at: datetime
    ) -> RawInput:
        """A task instance whose failure is over, saying how it ended (from its run's audit
        log, crediting who asked opsweek when opsweek's own account did it)."""
        events = self._events(client, ti.dag_id, ti.run_id)
        how = ending(events, ti.task_id, ti.state, ti.try_number, self._asked(client, group))
        return self._input(name, client, ti, at, how)

    def _run_over(
        self, name: str, client: AirflowClient, dag_run: DagRun, group: str, at: datetime
    ) -> RawInput:
        events = self._events(client, dag_run.dag_id, dag_run.run_id)
        how = run_ending(events, dag_run.state, self._asked(client, group))
        return self._run_input(name, client, dag_run, at, how)

    def _asked(self, client: AirflowClient, group: str) -> Asked:
        """Who asked opsweek to act on the alerts of ``group`` (a run and its tasks)."""
        with self.store.session() as session:
            rows = session.execute(
                select(AlertEvent.at, AlertEvent.action, AlertEvent.actor)
                .join(Alert, Alert.id == AlertEvent.alert_id)
                .where(Alert.group_key == group, AlertEvent.action.like("airflow-%"))
                .order_by(AlertEvent.at.desc(), AlertEvent.id.desc())
            ).all()
        acts = tuple((at, action.removeprefix("airflow-"), actor) for at, action, actor in rows)
        return Asked(client.instance.user, acts)

    @staticmethod
    def _events(client: AirflowClient, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        try:
            return client.events(dag_id, run_id)
        except OpsweekError:
            return []  # the audit log is a nicety: the state is what matters

    def _open_alerts(
        self, name: str, client: AirflowClient
    ) -> list[tuple[str, dict[str, Any], str]]:
        """This instance's open Airflow alerts: (kind, details, group key)."""
        kinds = (KIND, RUN_KIND, airflow_sla_miss.KIND)
        with self.store.session() as session:
            alerts = newest_alerts(session, Alert.kind.in_(kinds), status=OPEN)
            return [
                (a.kind, dict(a.details), a.group_key)
                for a in alerts
                if _belongs(a.details, name, client)
            ]

    def _input(
        self, name: str, client: AirflowClient, ti: TaskInstance, at: datetime, ended: str = ""
    ) -> RawInput:
        values = {**ti.as_json(), "dag_run_id": ti.run_id}
        excerpt, druid = "", {}
        if ti.state in FAILING and not ended:  # the try's error, from its log
            try:
                log = client.log_tail(ti.dag_id, ti.run_id, ti.task_id, ti.try_number or 1, 400)
            except OpsweekError:
                log = ""  # the log's link still helps
            excerpt = error_excerpt(log)
            if ti.state == "failed":
                druid = self._druid_task(ti, log)
        body = content(name, client.instance.url, values, ended, client.api, druid, excerpt)
        return RawInput(body, AIRFLOW, at, f"airflow:{name}")

    def _druid_task(self, ti: TaskInstance, log: str) -> dict[str, str]:
        """For a failed task that loads into Druid: the Druid indexing task and datasource its
        log names, and where the Druid console and overlord are."""
        if "druid" not in f"{ti.dag_id} {ti.task_id}".lower():
            return {}
        found = dict(self.druid)
        task = DRUID_TASK.findall(log)
        datasource = DRUID_DATASOURCE.findall(log)
        if task:
            found["task_id"] = task[-1]
        if datasource:
            found["datasource"] = datasource[-1]
        return found

    def _run_input(
        self, name: str, client: AirflowClient, dag_run: DagRun, at: datetime, ended: str = ""
    ) -> RawInput:
        failed: list[str] = []
        if dag_run.state == "failed":
            tis = client.task_instances(
                ["failed", "upstream_failed"], dag_id=dag_run.dag_id, run_id=dag_run.run_id
            )
            failed = sorted({ti.task_id for ti in tis if ti.state == "failed"})
        values = {**dag_run.as_json(), "dag_run_id": dag_run.run_id}
        body = run_content(name, client.instance.url, values, failed, ended, client.api)
        return RawInput(body, AIRFLOW, at, f"airflow:{name}")

    def _sla_input(
        self, name: str, client: AirflowClient, details: dict[str, Any], at: datetime
    ) -> RawInput:
        """An SLA miss's late tasks with their states now, found by task and logical date."""
        missed = [dict(t) for t in details["missed"]]
        dates = sorted(_moment(t["execution_date"]) for t in missed)
        found = client.task_instances(
            [],
            dag_id=details["dag_id"],
            logical_dates=(dates[0].isoformat(), dates[-1].isoformat()),
        )
        states = {
            (ti.task_id, _moment(ti.logical_date)): ti.state for ti in found if ti.logical_date
        }
        for task in missed:
            task["state"] = states.get((task["task_id"], _moment(task["execution_date"])), "")
        body = sla_content(name, client.instance.url, {**details, "missed": missed}, client.api)
        return RawInput(body, AIRFLOW, at, f"airflow:{name}")

    def log_tail(self, alert_id: int, lines: int = 50) -> str:
        kind, _, client, details = self._alert_target(alert_id)
        if kind != KIND:
            raise BadInput(f"alert {alert_id} is a DAG run's: its tasks have the logs")
        try_number = int(details.get("try_number") or 1)
        return client.log_tail(
            details["dag_id"], details["run_id"], details["task_id"], try_number, lines
        )

    # --- acting ---------------------------------------------------------------------------
    def clear(self, alert_id: int, downstream: bool = False) -> Action:
        """Clear the alert's failed task instance (``downstream``: and its failed downstream
        tasks); for a DAG run's alert, every failed task of the run."""
        kind, name, client, d = self._alert_target(alert_id)
        if kind == RUN_KIND:
            call = client.clear_run_call(d["dag_id"], d["run_id"])
            sal = f"cleared the failed tasks of {d['dag_id']} {d['run_id']} on airflow-{name}"
            return Action(alert_id, name, call, client.instance.url, "airflow-clear", sal)
        call = client.clear_call(d["dag_id"], d["run_id"], d["task_id"], d["map_index"], downstream)
        target = f"{d['dag_id']}.{d['task_id']} {d['run_id']}"
        more = " and its downstream tasks" if downstream else ""
        return Action(
            alert_id,
            name,
            call,
            client.instance.url,
            "airflow-clear",
            f"cleared {target}{more} on airflow-{name}",
        )

    def mark_success(self, alert_id: int) -> Action:
        kind, name, client, d = self._alert_target(alert_id)
        if kind == RUN_KIND:
            call = client.mark_run_success_call(d["dag_id"], d["run_id"])
            target = f"{d['dag_id']} {d['run_id']}"
        else:
            call = client.mark_success_call(d["dag_id"], d["run_id"], d["task_id"], d["map_index"])
            target = f"{d['dag_id']}.{d['task_id']} {d['run_id']}"
        return Action(
            alert_id,
            name,
            call,
            client.instance.url,
            "airflow-mark-success",
            f"marked {target} success on airflow-{name}",
        )

    def pause(self, alert_id: int, paused: bool = True) -> Action:
        _, name, client, d = self._alert_target(alert_id)
        verb = "paused" if paused else "unpaused"
        return Action(
            alert_id,
            name,
            client.pause_call(d["dag_id"], paused),
            client.instance.url,
            f"airflow-{verb[:-1]}",
            f"{verb} {d['dag_id']} on airflow-{name}",
            d["dag_id"],
            paused,
        )

    def action(self, alert_id: int, name: str) -> Action:
        """The action ``name`` (one of `ACTIONS`) on the alert's task instance, unsent."""
        if name == "clear-downstream" and self._alert_target(alert_id)[0] == RUN_KIND:
            raise BadInput("a DAG run's clear already clears its failed tasks' downstream ones")
        if name == "clear":
            return self.clear(alert_id)
        if name == "clear-downstream":
            return self.clear(alert_id, downstream=True)
        if name == "mark-success":
            return self.mark_success(alert_id)
        if name in ("pause", "unpause"):
            return self.pause(alert_id, name == "pause")
        raise BadInput(f"unknown Airflow action {name!r}: expected one of {', '.join(ACTIONS)}")

    def instance_of(self, kind: str, details: dict[str, Any]) -> str | None:
        """The configured instance an alert that can be acted on belongs to; None when it
        cannot be (another kind, or an instance that is not configured)."""
        if kind not in LABELS:
            return None
        return next(
            (name for name, client in self.clients.items() if _belongs(details, name, client)),
            None,
        )

    def send(self, action: Action, actor: str) -> str:
        """Send ``action``; then record it on the alert with ``actor`` and in the SAL. A
        pause of a DAG already paused (or the reverse) is not sent, nor logged: what is said
        instead is returned ("" once sent)."""
        client = self.clients[action.instance]
        if action.paused is not None and client.dag_paused(action.dag_id) == action.paused:
            verb = "paused" if action.paused else "unpaused"
            return f"{action.dag_id} is already {verb} on airflow-{action.instance}: not sent"
        client.send(action.call)
        self.changes.record(action.alert_id, actor, action.history, action.sal, action.sal)
        return ""

    def _client(self, name: str) -> AirflowClient:
        if name not in self.clients:
            known = ", ".join(self.clients) or "none configured"
            raise BadInput(f"no Airflow instance {name!r} ([[airflow.instances]]: {known})")
        return self.clients[name]

    def _alert_target(self, alert_id: int) -> tuple[str, str, AirflowClient, dict[str, Any]]:
        """The alert's kind, instance name and client, and details."""
        with self.store.session() as session:
            alert = session.get(Alert, alert_id)
            if alert is None or alert.kind not in LABELS:
                raise BadInput(f"alert {alert_id} is not an Airflow task or DAG run alert")
            kind, details = alert.kind, dict(alert.details)
        for name, client in self.clients.items():
            if _belongs(details, name, client):
                return kind, name, client, details
        instance = details.get("airflow_instance") or details.get("base_url") or "unknown"
        raise BadInput(f"alert {alert_id} is from {instance}, not a configured Airflow instance")


def _task_key(details: dict[str, Any]) -> tuple[str, str, str, int | None]:
    map_index = details.get("map_index")
    return (
        str(details["dag_id"]),
        str(details["run_id"]),
        str(details["task_id"]),
        None if map_index in (None, -1) else int(map_index),
    )


def _moment(text: str) -> datetime:
    """A logical date as the API or an SLA e-mail writes it (``Z`` or an offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _belongs(details: dict[str, Any], name: str, client: AirflowClient) -> bool:
    """Whether an alert is about a task of this instance: by the instance's name in the alert
    (``airflow-<name>``, as its e-mails are sent), else by its web address."""
    instance = details.get("airflow_instance")
    if instance:
        return bool(instance == f"airflow-{name}")
    base_url = str(details.get("base_url") or "").rstrip("/")
    return bool(base_url) and base_url == client.instance.url
