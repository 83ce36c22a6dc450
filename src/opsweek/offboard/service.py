"""Offboarding's workflows, as `opsweek offboard` and the duty run them: check (find every
leftover, keep it on the user's offboarding duty, post it to the tracker task), plan (the
runbook's commands, nothing changed) and execute (step by step, journaled, a fresh scan at
the end). Wired to the configured adapters by `opsweek.app.App`: files (fsspec), hosts (SSH
or local) and the Hive metastore (Spark), each optional, each failure reported, not fatal."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import HiveMetastore
from opsweek.adapters.hosts import Host
from opsweek.adapters.tracker import Tracker
from opsweek.config.areas import OffboardSettings
from opsweek.db.models import DutyInstance
from opsweek.db.session import Store
from opsweek.duties.service import Duties
from opsweek.errors import BadInput, OpsweekError
from opsweek.offboard.execute import Execution, Executor, Journal
from opsweek.offboard.plan import Plan, build_plan, check_against_settings, plan_from_json
from opsweek.offboard.report import to_markdown
from opsweek.offboard.scan import Scanner, ScanReport
from opsweek.sal.log import record_action
from opsweek.timeutil import utcnow

TASK = re.compile(r"T\d{1,9}")


@dataclass
class OffboardAdapters:
    """What offboarding talks to, each optional: what could not be reached is in
    ``unavailable``, with why, and the scan reports it instead of failing."""

    files: Files | None
    hosts: list[Host]
    metastore: HiveMetastore | None
    unavailable: dict[str, str]
    warehouse_dir: str
    summarize_above: int

    def scanner(self) -> Scanner:
        return Scanner(
            self.files,
            self.hosts,
            self.metastore,
            self.warehouse_dir,
            self.summarize_above,
            self.unavailable,
        )


@contextmanager
def offboard_adapters(
    files: Callable[[], Files],
    hosts: list[Host],
    metastore: Callable[[], AbstractContextManager[HiveMetastore]],
    warehouse_dir: str,
    summarize_above: int,
    with_hive: bool = True,
) -> Iterator[OffboardAdapters]:
    """Everything offboarding talks to; Spark is started only when ``with_hive``."""
    unavailable: dict[str, str] = {}
    found_files = None
    try:
        found_files = files()
    except OpsweekError as exc:
        unavailable["hdfs"] = str(exc)
    with ExitStack() as stack:
        found_metastore = None
        if with_hive:
            try:
                found_metastore = stack.enter_context(metastore())
            except OpsweekError as exc:
                unavailable["hive"] = str(exc)
        yield OffboardAdapters(
            found_files, hosts, found_metastore, unavailable, warehouse_dir, summarize_above
        )


@dataclass(frozen=True)
class Checked:
    report: ScanReport
    duty: int
    posted: str | None  # the tracker task the report went to

    @property
    def exit_code(self) -> int:
        """0 clean, 1 leftovers found, 2 a check failed."""
        return 2 if self.report.failed else (1 if self.report.any_found else 0)


@dataclass(frozen=True)
class Planned:
    plan: Plan
    file: Path
    duty: int


@dataclass(frozen=True)
class Executed:
    plan: Plan
    run: Execution
    journal: Path
    dry_run: bool
    left: ScanReport | None  # the fresh scan after a complete run

    def as_json(self) -> dict[str, Any]:
        return {
            "user": self.plan.user,
            "dry_run": self.dry_run,
            "journal": str(self.journal),
            "steps": [r.as_json() for r in self.run.results],
            "stopped": self.run.stopped,
            "left": self.left.as_json() if self.left else None,
            "notes": list(self.plan.notes),
        }


@dataclass
class Offboarding:
    store: Store
    duties: Callable[[Session], Duties]
    connect: Callable[[bool], AbstractContextManager[OffboardAdapters]]  # with Hive or not
    tracker: Tracker | None
    settings: OffboardSettings
    warehouse_dir: str
    actor: str

    def check(self, user: str, post: bool = False, task: str | None = None) -> Checked:
        """Every leftover of ``user``, kept on their offboarding duty; with ``post``, the
        report as a comment on the offboarding's tracker task (and to the SAL)."""
        with self.connect(True) as found:
            report = found.scanner().scan(user)
        duty = self._duty(report.user, scanned_at=report.scanned_at.isoformat())
        posted = self._post(report.user, task, to_markdown(report)) if post else None
        return Checked(report, duty, posted)

    def plan(
        self,
        user: str,
        archives: list[str],
        transfers: dict[str, str],
        target: Path | None = None,
    ) -> Planned:
        """An ordered, reviewable plan from a fresh scan, written to ``target`` (default
        offboard-USER.json); nothing is changed."""
        with self.connect(True) as found:
            report = found.scanner().scan(user)
            if report.failed:
                problems = [e for errors in report.errors.values() for e in errors]
                problems += [f"{h}: {r}" for h, r in report.unreachable.items()]
                raise BadInput("cannot plan from an incomplete scan: " + "; ".join(problems))
            files = found.files
            made = build_plan(
                report,
                archives,
                transfers,
                archive_dir=self.settings.archive_dir,
                archive_owner=self.settings.archive_owner,
                cumin_hosts=self.settings.cumin_hosts,
                created_by=self.actor,
                created_at=utcnow(),
                fingerprint=lambda path, exclude: (
                    files.fingerprint(path, tuple(exclude)) if files else ""
                ),
            )
        file = target or Path(f"offboard-{report.user}.json")
        file.write_text(json.dumps(made.as_json(), indent=2) + "\n", encoding="utf-8")
        return Planned(made, file, self._duty(report.user, plan=str(file.resolve())))

    def execute(self, plan_file: Path, yes: bool, journal: Path | None = None) -> Executed:
        """Run a plan step by step (a dry run unless ``yes``): each removal re-checked
        against the plan, every step to the SAL and journaled, a fresh scan at the end."""
        try:
            data: Any = json.loads(plan_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BadInput(f"cannot read the plan {plan_file}: {exc}") from None
        made = plan_from_json(data)  # refuses anything outside the user's places, before a step
        if made.warehouse != self.warehouse_dir:
            raise BadInput(
                f"the plan was made for the warehouse {made.warehouse}, not {self.warehouse_dir}"
            )
        offboard = self.settings
        check_against_settings(
            made, offboard.archive_dir, offboard.archive_owner, offboard.cumin_hosts
        )
        needs_hive = any(s.action in ("drop_database", "transfer_owner") for s in made.steps)
        log_path = journal or plan_file.with_name(plan_file.name + ".journal")
        with self.connect(yes and needs_hive) as found:
            executor = Executor(
                made,
                found.files,
                {h.name: h for h in found.hosts},
                (lambda: found.metastore) if found.metastore else None,  # type: ignore[arg-type,return-value]
                Journal(log_path),
                self._log,
            )
            run = executor.run(dry_run=not yes)
            left = found.scanner().scan(made.user) if yes and not run.stopped else None
        if yes:
            self._duty(made.user, executed=str(log_path.resolve()))
        return Executed(made, run, log_path, not yes, left)

    def _log(self, message: str) -> None:
        with self.store.session() as session:
            record_action(session, self.actor, message)

    def _duty(self, user: str, **detail: str) -> int:
        """The open offboarding duty of this user (started when there is none), with
        ``detail`` added, so it shows in Today and the handoff."""
        with self.store.session() as session:
            instance = self._open_duty(session, user)
            instance.detail = {**instance.detail, **detail}
            return instance.id

    def _open_duty(self, session: Session, user: str) -> DutyInstance:
        instance, _ = self.duties(session).ensure_open(
            "offboarding", {"user": user}, f"offboarding {user}"
        )
        return instance

    def _post(self, user: str, task: str | None, text: str) -> str:
        """Comment ``text`` on the offboarding's tracker task; the task's reference."""
        if self.tracker is None:
            raise BadInput("--post needs a tracker: set tracker.kind and tracker.url")
        with self.store.session() as session:
            instance = self._open_duty(session, user)
            ref = task or str(instance.detail.get("task") or "")
            if not TASK.fullmatch(ref):
                raise BadInput(f"no tracker task known for {user}'s offboarding: give --task T123")
            self.tracker.comment(ref, text)
            record_action(session, self.actor, f"posted {user}'s offboarding check to {ref}")
        return ref
