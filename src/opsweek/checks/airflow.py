"""Airflow as a source and an actuator.

- `poll`: each configured instance's failed and up-for-retry task instances become alerts (the
  same alerts the failure e-mails make: a poll and an e-mail of one failure are one alert), and
  the task instance of each open Airflow alert is asked for again: one that succeeded since (a
  retry, a clear, a mark-success by anyone) resolves its alert, saying how.
- `clear`, `mark_success`, `pause`: what the runbook does by hand, sent to the alert's
  instance, recorded on the alert with who asked, and written to the SAL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opsweek.adapters.airflow import AirflowClient, Call, TaskInstance
from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import AIRFLOW
from opsweek.alerts.intake import IngestCounts
from opsweek.alerts.model import RawInput
from opsweek.alerts.sources.airflow_api import FAILING, OVER, content, ending
from opsweek.alerts.sources.airflow_task_failed import KIND
from opsweek.db.alert_reads import OPEN, newest_alerts
from opsweek.db.models import Alert
from opsweek.db.session import Store
from opsweek.errors import BadInput, OpsweekError
from opsweek.timeutil import utcnow
from opsweek.watch.readings import keep_airflow_poll

ACTIONS = ("clear", "clear-downstream", "mark-success", "pause", "unpause")


@dataclass
class PollRun:
    counts: IngestCounts = field(default_factory=IngestCounts)
    failing: int = 0  # failed or up-for-retry task instances seen
    rechecked: int = 0  # open alerts whose task instance was asked for again
    unreachable: dict[str, str] = field(default_factory=dict)  # instance: why

    def as_json(self) -> dict[str, Any]:
        return {
            **self.counts.as_json(),
            "failing": self.failing,
            "rechecked": self.rechecked,
            "unreachable": self.unreachable,
        }


@dataclass(frozen=True)
class Action:
    """An action on an alert's task instance, before it is sent."""

    alert_id: int
    instance: str
    call: Call
    url: str  # the instance's URL (what `describe` shows)
    history: str  # the alert's history action
    sal: str  # the SAL line the runbook asks for

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
    ) -> None:
        self.clients = clients
        self.store = store
        self.changes = changes
        self.lookback = lookback
        self.now = now
        self._polled: dict[str, datetime] = {}  # instance: when its last poll began

    # --- reading --------------------------------------------------------------------------
    def poll(self, names: list[str] | None = None, since: datetime | None = None) -> PollRun:
        """Poll each instance (of ``names``): task instances failing since ``since`` (by
        default since the last poll, else ``lookback``), and the open alerts' task instances."""
        run = PollRun()
        for name in names or list(self.clients):
            client = self._client(name)
            began = self.now()
            start = since or self._polled.get(name, began - self.lookback) - timedelta(minutes=5)
            try:
                failing = client.task_instances(list(FAILING), start)
                current = self._recheck(name, client)
            except OpsweekError as exc:
                run.unreachable[name] = str(exc)
                self._keep(name, began, None, str(exc))
                continue
            self._keep(name, began, len(failing), None)
            run.failing += len(failing)
            run.rechecked += len(current)
            inputs = [self._input(name, client, ti, began) for ti in failing]
            inputs += [self._input(name, client, ti, began, how) for ti, how in current]
            run.counts.add(self.changes.ingest(inputs, began))
            self._polled[name] = began
        return run

    def _keep(self, name: str, at: datetime, failing: int | None, error: str | None) -> None:
        with self.store.session() as session:
            keep_airflow_poll(session, name, at, failing, error)

    def _recheck(self, name: str, client: AirflowClient) -> list[tuple[TaskInstance, str]]:
        """The task instances of this instance's open alerts whose failure is over, each with
        how it ended (from the run's audit log)."""
        over = []
        for details in self._open_alerts(name, client):
            try:
                ti = client.task_instance(
                    details["dag_id"], details["run_id"], details["task_id"], details["map_index"]
                )
            except (KeyError, OpsweekError):
                continue  # gone from Airflow, or not a task alert this instance knows
            if ti.state in OVER:
                try:
                    events = client.events(ti.dag_id, ti.run_id)
                except OpsweekError:
                    events = []  # the audit log is a nicety: the state is what matters
                over.append((ti, ending(events, ti.task_id, ti.state, ti.try_number)))
        return over

    def _open_alerts(self, name: str, client: AirflowClient) -> list[dict[str, Any]]:
        with self.store.session() as session:
            alerts = newest_alerts(session, Alert.kind == KIND, status=OPEN)
            return [dict(a.details) for a in alerts if _belongs(a.details, name, client)]

    @staticmethod
    def _input(
        name: str, client: AirflowClient, ti: TaskInstance, at: datetime, ended: str = ""
    ) -> RawInput:
        values = {**ti.as_json(), "dag_run_id": ti.run_id}
        body = content(name, client.instance.url, values, ended)
        return RawInput(body, AIRFLOW, at, f"airflow:{name}")

    def log_tail(self, alert_id: int, lines: int = 50) -> str:
        _, client, details = self._alert_target(alert_id)
        try_number = int(details.get("try_number") or 1)
        return client.log_tail(
            details["dag_id"], details["run_id"], details["task_id"], try_number, lines
        )

    # --- acting ---------------------------------------------------------------------------
    def clear(self, alert_id: int, downstream: bool = False) -> Action:
        name, client, d = self._alert_target(alert_id)
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
        name, client, d = self._alert_target(alert_id)
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
        name, client, d = self._alert_target(alert_id)
        verb = "paused" if paused else "unpaused"
        return Action(
            alert_id,
            name,
            client.pause_call(d["dag_id"], paused),
            client.instance.url,
            f"airflow-{verb[:-1]}",
            f"{verb} {d['dag_id']} on airflow-{name}",
        )

    def action(self, alert_id: int, name: str) -> Action:
        """The action ``name`` (one of `ACTIONS`) on the alert's task instance, unsent."""
        if name == "clear":
            return self.clear(alert_id)
        if name == "clear-downstream":
            return self.clear(alert_id, downstream=True)
        if name == "mark-success":
            return self.mark_success(alert_id)
        if name in ("pause", "unpause"):
            return self.pause(alert_id, name == "pause")
        raise BadInput(f"unknown Airflow action {name!r}: expected one of {', '.join(ACTIONS)}")

    def instance_of(self, details: dict[str, Any]) -> str | None:
        """The configured instance an alert's task belongs to; None when there is none."""
        return next(
            (name for name, client in self.clients.items() if _belongs(details, name, client)),
            None,
        )

    def send(self, action: Action, actor: str) -> Any:
        """Send ``action``; then record it on the alert with ``actor`` and in the SAL."""
        answer = self.clients[action.instance].send(action.call)
        self.changes.record(action.alert_id, actor, action.history, action.sal, action.sal)
        return answer

    def _client(self, name: str) -> AirflowClient:
        if name not in self.clients:
            known = ", ".join(self.clients) or "none configured"
            raise BadInput(f"no Airflow instance {name!r} ([[airflow.instances]]: {known})")
        return self.clients[name]

    def _alert_target(self, alert_id: int) -> tuple[str, AirflowClient, dict[str, Any]]:
        with self.store.session() as session:
            alert = session.get(Alert, alert_id)
            if alert is None or alert.kind != KIND:
                raise BadInput(f"alert {alert_id} is not an Airflow task alert")
            details = dict(alert.details)
        for name, client in self.clients.items():
            if _belongs(details, name, client):
                return name, client, details
        instance = details.get("airflow_instance") or details.get("base_url") or "unknown"
        raise BadInput(f"alert {alert_id} is from {instance}, not a configured Airflow instance")


def _belongs(details: dict[str, Any], name: str, client: AirflowClient) -> bool:
    """Whether an alert is about a task of this instance: by the instance's name in the alert
    (``airflow-<name>``, as its e-mails are sent), else by its web address."""
    instance = details.get("airflow_instance")
    if instance:
        return bool(instance == f"airflow-{name}")
    base_url = str(details.get("base_url") or "").rstrip("/")
    return bool(base_url) and base_url == client.instance.url
