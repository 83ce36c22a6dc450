"""Checking that a problem is over, and resolving its alert by itself with what was seen: the
way Refine failures (their partition's flags) and canary failures (the next events) already
end. Each check reads only: a read-only step of the alert run through its host's runner (so
it is the command shown, and in the alert's history), the files under files.root, or a
service's API.

- a failed systemd timer (reportupdater, sqoop, deletion scripts, ...): ``systemctl show``
  says the unit's last run succeeded, and ended after the failure;
- a sqoop timer: the month's ``_SUCCESS`` flags are there for every table of its job;
- HdfsCorruptBlocks and missing blocks: ``hdfs fsck`` reports no corrupt file;
- a Druid load: the indexing task's status in the overlord's API is SUCCESS;
- data loss: the statistics' SELECTs run, and the loss is confirmed (noted, left open) or
  explained (no host lost requests: a sequence-number artefact; resolved).
A check that cannot tell (no runner, no files, unreachable) says so and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opsweek.adapters.fs import Files
from opsweek.alerts.changes import AlertChanges
from opsweek.checks.step_runs import StepRunner
from opsweek.db.alert_reads import OPEN, newest_alerts
from opsweek.db.models import Alert
from opsweek.db.session import Store
from opsweek.errors import OpsweekError

VERIFIED_KINDS = ("systemd_timer_failed", "alertmanager", "airflow_task_failed", "data_loss")


@dataclass(frozen=True)
class Seen:
    alert_id: int
    over: bool | None  # True: resolved; False: still there; None: could not tell
    note: str

    def as_json(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, "over": self.over, "note": self.note}


class Verifier:
    def __init__(
        self,
        store: Store,
        changes: AlertChanges,
        steps: StepRunner,
        files: Callable[[], Files | None],
        druid_status: Callable[[str], str] | None = None,
    ) -> None:
        self.store, self.changes, self.steps = store, changes, steps
        self.files = files
        self.druid_status = druid_status  # a Druid task id -> its status (SUCCESS, FAILED, ...)

    def run(self, alert_ids: list[int] | None = None) -> list[Seen]:
        """Check the open alerts of the kinds above (or these), resolving the ones over."""
        with self.store.session() as session:
            conditions = [Alert.kind.in_(VERIFIED_KINDS)]
            if alert_ids:
                conditions.append(Alert.id.in_(alert_ids))
            alerts = [
                (a.id, a.kind, dict(a.details), a.first_seen)
                for a in newest_alerts(session, *conditions, status=OPEN, limit=200)
            ]
        seen = []
        for alert_id, kind, details, first_seen in alerts:
            found = self._check(alert_id, kind, details, first_seen)
            if found is None:
                continue
            if found.over:
                self.changes.resolve_by_check(alert_id, "check:verify", found.note)
            elif found.over is False and kind == "data_loss":  # what the statistics say
                self.changes.record(alert_id, "check:verify", "verified", found.note, "")
            seen.append(found)
        return seen

    def _check(
        self, alert_id: int, kind: str, details: dict[str, Any], first_seen: datetime
    ) -> Seen | None:
        if kind == "systemd_timer_failed":  # its next run, or (sqoop) the flags it writes
            flags = self._sqoop(alert_id, str(details.get("sqoop_flags") or ""))
            if flags is not None and flags.over:
                return flags
            unit = self._unit(alert_id, first_seen)
            return flags if unit.over is None and flags is not None else unit
        if kind == "alertmanager" and details.get("topic") == "hdfs_blocks":
            return self._fsck(alert_id)
        if kind == "airflow_task_failed" and details.get("druid_task_id"):
            return self._druid(alert_id, str(details["druid_task_id"]))
        if kind == "data_loss":
            return self._data_loss(alert_id)
        return None

    def _look(self, alert_id: int, step: str) -> tuple[str, str | None]:
        """A read-only step's output (through its runner); or why it could not run."""
        try:
            planned = self.steps.plan(alert_id, step)
        except OpsweekError as exc:
            return "", str(exc)
        result = self.steps.run(planned, "check:verify", history=False)
        if result.error or result.exit_status != 0:
            return result.output, result.error or f"exit {result.exit_status}"
        return result.output, None

    def _unit(self, alert_id: int, failed_at: datetime) -> Seen:
        output, why = self._look(alert_id, "verify")
        if why is not None:
            return Seen(alert_id, None, f"could not ask systemd: {why}")
        shown = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
        ended = shown.get("ExecMainExitTimestamp", "").lstrip("@")
        ended_at = datetime.fromtimestamp(int(ended), UTC) if ended.isdigit() else None
        ok = shown.get("Result") == "success" and shown.get("ExecMainStatus") == "0"
        if ok and ended_at is not None and ended_at > failed_at:
            return Seen(
                alert_id,
                True,
                f"its next run succeeded: systemd says Result=success, ExecMainStatus=0, "
                f"ended {ended_at:%Y-%m-%d %H:%M} UTC",
            )
        state = ", ".join(f"{k}={v}" for k, v in shown.items()) or "nothing"
        return Seen(alert_id, False, f"not yet: systemd says {state}")

    def _sqoop(self, alert_id: int, flags: str) -> Seen | None:
        """None when it cannot tell: no flags to look for, no files, no table of the job."""
        files = self.files() if flags else None
        if files is None:
            return None
        prefix, star, rest = flags.partition("/*/")
        try:
            if not star:  # one table's flag (cu_changes)
                present = {flags: files.exists(flags)}
            else:
                tables = files.listdir(prefix)
                present = {
                    f"{table}/{rest}": files.exists(f"{table}/{rest}")
                    for table in tables
                    if files.exists(f"{table}/{rest.rsplit('/', 1)[0]}")
                }
        except (OpsweekError, OSError) as exc:
            return Seen(alert_id, None, f"could not read the sqoop flags: {exc}")
        if not present:
            return None
        missing = sorted(path for path, there in present.items() if not there)
        if not missing:
            return Seen(alert_id, True, f"the sqoop is done: {len(present)} _SUCCESS flag(s)")
        return Seen(
            alert_id, False, f"not yet: {len(missing)} table(s) without their _SUCCESS flag"
        )

    def _fsck(self, alert_id: int) -> Seen:
        output, why = self._look(alert_id, "fsck")
        if why is not None and not output:
            return Seen(alert_id, None, f"could not run fsck: {why}")
        corrupt = re.search(r"has (\d+) CORRUPT files", output)
        if corrupt and corrupt.group(1) == "0":
            return Seen(alert_id, True, "hdfs fsck reports no corrupt file any more")
        return Seen(alert_id, False, "hdfs fsck still lists corrupt files")

    def _druid(self, alert_id: int, task_id: str) -> Seen | None:
        if self.druid_status is None:
            return None
        try:
            status = self.druid_status(task_id)
        except OpsweekError as exc:
            return Seen(alert_id, None, f"could not ask the Druid overlord: {exc}")
        if status == "SUCCESS":
            return Seen(alert_id, True, f"the Druid indexing task {task_id} succeeded")
        return Seen(alert_id, False, f"the Druid indexing task {task_id} is {status}")

    def _data_loss(self, alert_id: int) -> Seen:
        output, why = self._look(alert_id, "per-host")
        if why is not None:
            return Seen(alert_id, None, f"could not read the statistics: {why}")
        header, *rows = [line.split("\t") for line in output.strip().splitlines()]
        at = {name: index for index, name in enumerate(header)}
        losing = [
            row[at["hostname"]]
            for row in rows
            if "percent_different" in at and _number(row[at["percent_different"]]) < 0
        ]
        if not losing:
            return Seen(
                alert_id,
                True,
                "explained: no host lost requests in the hour's sequence statistics (a "
                "sequence-number artefact)",
            )
        hosts = ", ".join(losing[:5])
        return Seen(alert_id, False, f"confirmed: {len(losing)} host(s) lost requests ({hosts})")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0
