"""Rerunning a failed Refine hour on request, on the runner host (`[refine] runner`, where
`kerberos-run-command` lives): the exact command the alert's steps print (the rerun from the
e-mail, checked word by word, or the one made from the failed partition), run over SSH. Its
output is kept, the YARN application ids are read from it, the rerun is recorded on the alert
with who asked and written to the SAL; then the partition's flags are checked again, so a
rerun that refined the hour resolves its alert."""

from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opsweek.adapters.hosts import SshHost
from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.runbook_values import derived
from opsweek.alerts.sources.refine_failure import KIND
from opsweek.checks.refine import PartitionState
from opsweek.db.models import Alert
from opsweek.db.session import Store
from opsweek.errors import BadInput, ConfigError
from opsweek.site import Site

YARN_APPLICATION = re.compile(r"\bapplication_\d{10,}_\d{4,}\b")
OUTPUT_KEPT = 16_000  # characters of output kept, from the end (the job's last words matter)


@dataclass(frozen=True)
class Rerun:
    """A rerun before it is run: what will run, where."""

    alert_id: int
    runner: str  # the runner host's address, as configured
    argv: tuple[str, ...]
    job: str
    target: str  # the table and hour, as the SAL says it

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    @property
    def sal(self) -> str:
        return f"reran {self.job} for {self.target}"


@dataclass(frozen=True)
class RerunResult:
    rerun: Rerun
    exit_status: int | None
    output: str  # the end of stdout and stderr
    applications: tuple[str, ...]  # YARN application ids, in the order they appeared
    check: PartitionState | None  # the partition's flags after a rerun that exited 0

    @property
    def ok(self) -> bool:
        return self.exit_status == 0

    def summary(self) -> str:
        apps = f", YARN {', '.join(self.applications)}" if self.applications else ""
        return f"exit {self.exit_status}{apps}"

    def as_json(self) -> dict[str, Any]:
        return {
            "alert_id": self.rerun.alert_id,
            "runner": self.rerun.runner,
            "command": self.rerun.command,
            "exit_status": self.exit_status,
            "applications": list(self.applications),
            "output": self.output,
            "partition": self.check.state if self.check else None,
        }


class RefineRunner:
    def __init__(
        self,
        host: SshHost | None,
        store: Store,
        changes: AlertChanges,
        check: Callable[[int], PartitionState | None],
        site: Site,
        timeout_minutes: int = 120,
    ) -> None:
        self.host = host
        self.site = site
        self.store = store
        self.changes = changes
        self.check = check
        self.timeout = timeout_minutes * 60.0

    def plan(self, alert_id: int) -> Rerun:
        """The rerun of a Refine failure alert, as its steps print it."""
        if self.host is None:
            raise ConfigError(
                "no [refine] runner configured: run the alert's rerun command by hand"
            )
        with self.store.session() as session:
            alert = session.get(Alert, alert_id)
            if alert is None or alert.kind != KIND:
                raise BadInput(f"alert {alert_id} is not a Refine failure alert")
            details = dict(alert.details)
        values = derived(KIND, details, self.site)
        argv = values.get("rerun_argv")
        if not argv:
            why = values.get("rerun_refused") or "the alert names no table and hour to rerun"
            raise BadInput(f"opsweek will not rerun alert {alert_id}: {why}")
        target = f"{details.get('table') or '?'} {details.get('hour') or '?'}"
        return Rerun(alert_id, self.host.name, tuple(argv), str(details["job"]), target)

    def run(self, rerun: Rerun, actor: str) -> RerunResult:
        """Run it on the runner and wait for it; then record it, and check the partition."""
        assert self.host is not None  # plan() said so
        done = asyncio.run(self.host.execute(rerun.command, self.timeout))
        output = (done.stdout + done.stderr)[-OUTPUT_KEPT:]
        applications = tuple(dict.fromkeys(YARN_APPLICATION.findall(done.stdout + done.stderr)))
        result = RerunResult(rerun, done.exit_status, output, applications, None)
        self.changes.record(
            rerun.alert_id,
            actor,
            "refine-rerun",
            f"{rerun.command} on {rerun.runner}: {result.summary()}",
            f"{rerun.sal} on {rerun.runner} ({result.summary()})",
            learned={"rerun_applications": list(applications)} if applications else None,
        )
        if not result.ok:
            return result
        return RerunResult(
            rerun, done.exit_status, output, applications, self.check(rerun.alert_id)
        )
