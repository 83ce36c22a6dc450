"""Running an alert's step on request: the exact command its steps show, on the host they name,
over SSH (`[[runners]]`), as the command itself says (``sudo -u …``); a SQL step through the
warehouse. Its output is kept on the alert (the end of it, with the whole size), the run is in
the alert's history, and a change is in the SAL with the person who asked.

What may run: a step with a command to run (shell or SQL) whose host has a runner; read-only
steps (``effect = "read"``) for anyone logged in; a change only when its id is listed in
`runner.allow_changes`, and only once the person confirmed its exact command. Nothing runs
where no runner is configured."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from opsweek.adapters.hosts import SshHost
from opsweek.alerts.changes import AlertChanges
from opsweek.db.models import StepRun
from opsweek.db.session import Store
from opsweek.errors import BadInput, ConfigError, Unavailable
from opsweek.steps import READ, Step
from opsweek.timeutil import utcnow

OUTPUT_KEPT = 64 * 1024  # characters of output kept, from the end
KEPT_CHECK_RUNS = 5  # runs of one step by one of opsweek's checks kept per alert
SELECT_ONLY = re.compile(r"^\s*select\b[^;]*;?\s*\Z", re.IGNORECASE | re.DOTALL)
RUNNER_FIELDS = {"host", "ssh", "key", "known_hosts"}


def runners_from(entries: Sequence[Mapping[str, Any]], timeout: float) -> dict[str, SshHost]:
    """The `[[runners]]`, by the host name steps give."""
    found: dict[str, SshHost] = {}
    for number, entry in enumerate(entries, start=1):
        unknown = set(entry) - RUNNER_FIELDS
        host, ssh = str(entry.get("host") or ""), str(entry.get("ssh") or "")
        if unknown or not host or not ssh:
            raise ConfigError(
                f"runners entry {number}: needs host and ssh (user@host[:port]), optional key "
                f"and known_hosts{'; unknown: ' + ', '.join(sorted(unknown)) if unknown else ''}"
            )
        found[host] = SshHost(
            host, ssh, timeout, str(entry.get("key", "")), str(entry.get("known_hosts", ""))
        )
    return found


@dataclass(frozen=True)
class PlannedRun:
    alert_id: int
    key: str  # the step's id, or id#n for the n-th step of that id
    step: Step

    def describe(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "step": self.key,
            "text": self.step.text,
            "command": self.step.command,
            "host": self.step.host,
            "as": self.step.as_whom,
            "effect": self.step.effect,
            "where": self.step.where_line(),
        }


@dataclass(frozen=True)
class RunResult:
    run_id: int
    planned: PlannedRun
    exit_status: int | None
    output: str
    output_size: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.exit_status == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            **self.planned.describe(),
            "exit_status": self.exit_status,
            "output": self.output,
            "output_size": self.output_size,
            "error": self.error,
        }


class StepRunner:
    def __init__(
        self,
        store: Store,
        changes: AlertChanges,
        steps_of: Callable[[int], list[Step]],
        runners: Mapping[str, SshHost],
        allow_changes: frozenset[str],
        timeout_minutes: int = 10,
        query: Callable[[str], str] | None = None,
    ) -> None:
        self.store, self.changes, self.steps_of = store, changes, steps_of
        self.runners = dict(runners)
        self.allow_changes = allow_changes
        self.timeout = timeout_minutes * 60.0
        self.query = query  # a SELECT through the warehouse, as text; None: SQL stays a command
        self.after_change: Callable[[int], object] = lambda alert_id: None  # then: is it over?

    def runnable(self, step: Step) -> str:
        """Why ``step`` cannot run from opsweek; "" when it can."""
        if not step.runs:
            return "it has no command to run"
        if step.effect != READ and step.id not in self.allow_changes:
            return (
                f"it changes something, and {step.id or 'it'} is not in runner.allow_changes: "
                "run it by hand"
            )
        if step.lang == "sql":
            if self.query is None:
                return "no warehouse to run SQL through (warehouse.backend spark)"
            if step.effect != READ or not SELECT_ONLY.match(step.command):
                return "only SELECT statements run through the warehouse"
            return ""
        if step.host not in self.runners:
            return f"no runner for {step.host or 'its host'} ([[runners]])"
        return ""

    def plan(self, alert_id: int, key: str) -> PlannedRun:
        """The step ``key`` (its id, or id#n) of an alert, if opsweek may run it."""
        steps = self.steps_of(alert_id)
        step_id, _, nth = key.partition("#")
        same = [s for s in steps if s.id == step_id and s.command]
        index = int(nth) - 1 if nth.isdigit() and int(nth) > 0 else 0
        if not same or index >= len(same):
            raise BadInput(f"alert {alert_id} has no step {key} with a command")
        step = same[index]
        why = self.runnable(step)
        if why:
            raise BadInput(f"opsweek will not run step {key} of alert {alert_id}: {why}")
        return PlannedRun(alert_id, key, step)

    def run(
        self, planned: PlannedRun, actor: str, confirmed: str = "", history: bool = True
    ) -> RunResult:
        """Run it, keep what it said, record it (``history``: a line in the alert's history;
        opsweek's own checks keep only their runs, the last few). A change runs only when
        ``confirmed`` is its exact command (what the person was shown)."""
        step = planned.step
        if step.effect != READ and confirmed != step.command:
            raise BadInput("a step that changes something runs only once its command is confirmed")
        run_id = self._started(planned, actor)
        exit_status: int | None = None
        output, error = "", None
        try:
            if step.lang == "sql":
                assert self.query is not None  # plan() said so
                output, exit_status = self.query(step.command), 0
            else:
                done = asyncio.run(self.runners[step.host].execute(step.command, self.timeout))
                exit_status, output = done.exit_status, done.stdout + done.stderr
        except (Unavailable, BadInput) as exc:
            error = str(exc)
        result = RunResult(run_id, planned, exit_status, output[-OUTPUT_KEPT:], len(output), error)
        self._finished(result, actor, history)
        if step.effect != READ and result.ok:
            self.after_change(planned.alert_id)  # a change made: see whether it is over now
        return result

    def _started(self, planned: PlannedRun, actor: str) -> int:
        step = planned.step
        with self.store.session() as session:
            row = StepRun(
                alert_id=planned.alert_id,
                step=planned.key[:80],
                command=step.command,
                host=step.host[:255],
                as_whom=step.as_whom[:64],
                effect=step.effect,
                actor=actor[:64],
                started_at=utcnow(),
                output="",
                output_size=0,
            )
            session.add(row)
            session.flush()
            return row.id

    def _finished(self, result: RunResult, actor: str, history: bool) -> None:
        step = result.planned.step
        with self.store.session() as session:
            row = session.get(StepRun, result.run_id)
            assert row is not None
            row.finished_at = utcnow()
            row.exit_status, row.error = result.exit_status, result.error
            row.output, row.output_size = result.output, result.output_size
            if not history:  # a check's: its last few runs are enough
                older = select(StepRun.id).where(
                    StepRun.alert_id == row.alert_id,
                    StepRun.step == row.step,
                    StepRun.actor == actor,
                    StepRun.id < row.id,
                )
                stale = list(session.scalars(older.order_by(StepRun.id.desc())))
                session.execute(delete(StepRun).where(StepRun.id.in_(stale[KEPT_CHECK_RUNS - 1 :])))
        if not history:
            return
        said = result.error or f"exit {result.exit_status}"
        where = f" on {step.host}" if step.host else ""
        note = f"ran step {result.planned.key}{where}: {said}"
        # a change is in the SAL with who asked, as every action through opsweek; a look is not
        sal = "" if step.effect == READ else f"ran {step.command}{where} ({said})"
        self.changes.record(result.planned.alert_id, actor, "ran", note, sal)

    def runs(self, alert_id: int, limit: int = 20) -> list[StepRun]:
        """The newest runs of an alert's steps, newest first."""
        with self.store.session() as session:
            return list(
                session.scalars(
                    select(StepRun)
                    .where(StepRun.alert_id == alert_id)
                    .order_by(StepRun.id.desc())
                    .limit(limit)
                )
            )
