"""Running an offboarding plan step by step: a dry run unless told otherwise; each removal
re-checked against what was planned; a journal so an interrupted run resumes where it stopped
without repeating a step; every step logged to the SAL; a fresh scan at the end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import HiveMetastore
from opsweek.adapters.hosts import Host
from opsweek.errors import BadInput, Conflict, OpsweekError, Unavailable, first_line
from opsweek.offboard.plan import NO_TABLES, Plan, Step
from opsweek.timeutil import iso, utcnow

Log = Callable[[str], None]


@dataclass
class StepResult:
    number: int
    action: str
    target: str
    status: str  # done, already done, would run, skipped (journal)
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class Execution:
    dry_run: bool
    results: list[StepResult] = field(default_factory=list)
    stopped: str | None = None


class Journal:
    """One JSON line per finished step; read back to know what is done."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def done(self) -> dict[int, dict[str, Any]]:
        if not self.path.exists():
            return {}
        found = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                found[int(record["step"])] = record
        return found

    def record(self, step: Step, status: str, detail: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "step": step.number,
            "action": step.action,
            "target": step.target,
            "status": status,
            "detail": detail,
            "at": iso(utcnow()),
        }
        with self.path.open("a", encoding="utf-8") as journal:
            journal.write(json.dumps(line) + "\n")
            journal.flush()


class Executor:
    def __init__(
        self,
        plan: Plan,
        files: Files | None,
        hosts: Mapping[str, Host],
        metastore: Callable[[], HiveMetastore] | None,
        journal: Journal,
        log: Log,
    ) -> None:
        self.plan = plan
        self.files = files
        self.hosts = dict(hosts)
        self._metastore_factory = metastore
        self._metastore: HiveMetastore | None = None
        self.journal = journal
        self.log = log

    @property
    def metastore(self) -> HiveMetastore:
        if self._metastore is None:
            if self._metastore_factory is None:
                raise Unavailable("this plan has Hive steps but no metastore is available")
            self._metastore = self._metastore_factory()
        return self._metastore

    def _files(self) -> Files:
        if self.files is None:
            raise Unavailable("this plan has HDFS steps but files.root is not available")
        return self.files

    def run(self, dry_run: bool = True) -> Execution:
        execution = Execution(dry_run)
        finished = self.journal.done()
        for step in self.plan.steps:
            if step.number in finished:
                execution.results.append(
                    StepResult(step.number, step.action, step.target, "skipped (journal)")
                )
                continue
            if dry_run:
                execution.results.append(
                    StepResult(step.number, step.action, step.target, "would run", step.command)
                )
                continue
            try:
                status, detail = self._run(step)
            except OpsweekError as exc:  # a conflict with the plan, a host or metastore refusal
                execution.stopped = f"step {step.number}: {exc}"
                return execution
            except Exception as exc:  # Py4J/JVM or filesystem errors: stop, resumable
                first = first_line(exc)
                execution.stopped = f"step {step.number}: {first}"
                return execution
            self.journal.record(step, status, detail)
            self.log(
                f"offboard {self.plan.user}: step {step.number}/{len(self.plan.steps)} "
                f"{status}: {step.command}"
            )
            execution.results.append(
                StepResult(step.number, step.action, step.target, status, detail)
            )
        return execution

    # --- one step --------------------------------------------------------------------------
    def _run(self, step: Step) -> tuple[str, str]:
        action = getattr(self, f"_{step.action}")
        return action(step)

    def _changed(self, step: Step, now: str) -> None:
        if step.expect and now != step.expect:
            raise Conflict(
                f"{step.target} changed since the plan was made (planned {step.expect}, now "
                f"{now}); scan and plan again"
            )

    def _transfer_owner(self, step: Step) -> tuple[str, str]:
        database, table, owner = step.args["database"], step.args["table"], step.args["owner"]
        current = {t.name: t for t in self.metastore.tables(database)}.get(table)
        if current is None:
            raise Conflict(f"{database}.{table} no longer exists")
        if current.owner == owner:
            return "already done", f"owned by {owner}"
        if current.owner != self.plan.user:
            raise Conflict(f"{database}.{table} is now owned by {current.owner}")
        self.metastore.set_owner(database, table, owner)
        return "done", f"owner {self.plan.user} -> {owner}"

    def _archive_mkdir(self, step: Step) -> tuple[str, str]:
        self._files().makedirs(step.target)
        return "done", ""

    def _archive_move(self, step: Step) -> tuple[str, str]:
        files = self._files()
        destination = f"{step.args['destination']}/{step.target.rstrip('/').rsplit('/', 1)[1]}"
        if not files.exists(step.target):
            if files.exists(destination):
                return "already done", destination
            raise Conflict(f"{step.target} is gone and was not archived")
        self._changed(step, files.fingerprint(step.target))
        return "done", files.move(step.target, step.args["destination"])

    def _archive_chown(self, step: Step) -> tuple[str, str]:
        owner, _, group = str(step.args["owner"]).partition(":")
        return "done", self._files().chown(step.target, owner, group or owner)

    def _drop_database(self, step: Step) -> tuple[str, str]:
        if step.target not in self.metastore.databases():
            return "already done", "no such database"
        tables = ",".join(sorted(t.name for t in self.metastore.tables(step.target)))
        self._changed(step, tables or NO_TABLES)
        self.metastore.drop_database(step.target)
        return "done", f"dropped with tables {tables or '(none)'}"

    def _remove_hdfs(self, step: Step) -> tuple[str, str]:
        files = self._files()
        if not files.exists(step.target):
            return "already done", "not there"
        self._changed(step, files.fingerprint(step.target, step.args.get("exclude", ())))
        files.remove(step.target)
        return "done", ""

    def _remove_home(self, step: Step) -> tuple[str, str]:
        planned = dict(part.split("=", 1) for part in step.expect.split(";") if "=" in part)
        removed, gone = [], []
        for name in step.args.get("hosts", []):
            host = self.hosts.get(name)
            if host is None:
                raise BadInput(f"host {name} is not configured")
            found = asyncio.run(host.stat([step.target], []))
            if not found:
                gone.append(name)
                continue
            if name in planned and found[0].fingerprint != planned[name]:
                raise Conflict(f"{step.target} on {name} changed since the plan was made")
            asyncio.run(host.remove(step.target))
            removed.append(name)
        status = "done" if removed else "already done"
        return status, "removed on " + (", ".join(removed) or "no host")
