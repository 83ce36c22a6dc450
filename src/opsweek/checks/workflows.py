"""The checks as whole workflows: look, send the findings to the alert inbox, open the duty
the runbook asks for, change what was asked to change. The same code runs from the CLI
(`opsweek check ...`), from `opsweek serve`'s schedule and from a team's own Airflow (which
calls the CLI)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from opsweek.adapters.git import GitRepo
from opsweek.alerts.sources.opsweek_check import finding
from opsweek.alerts.sources.refine_failure import KIND as REFINE_FAILURE
from opsweek.checks import dumps as dumps_check
from opsweek.checks.emit import emit
from opsweek.checks.mw_history import MwHistory, scan_snapshots
from opsweek.checks.new_wikis import NewWikis, check_new_wikis
from opsweek.checks.partitions import Drift, check_partitions, repair
from opsweek.checks.refine import REFINED, PartitionState, partition_state
from opsweek.config.areas import CheckSettings
from opsweek.db.alert_reads import OPEN, newest_alerts
from opsweek.db.models import Alert
from opsweek.db.session import Store
from opsweek.duties.service import Duties
from opsweek.errors import BadInput, ConfigError, OpsweekError, Unavailable, first_line
from opsweek.timeutil import utcnow
from opsweek.watch.readings import CheckRun, keep_check_run

if TYPE_CHECKING:
    from opsweek.adapters.dumps import DumpsFiles
    from opsweek.adapters.fs import Files
    from opsweek.adapters.hive import HiveMetastore
    from opsweek.adapters.warehouse import Warehouse
    from opsweek.alerts.changes import AlertChanges
    from opsweek.checks.canary import StreamResult
    from opsweek.checks.verify import Verifier
    from opsweek.config.areas import DumpsSettings


class CheckAdapters(Protocol):
    """What the checks use, as the composition root (`opsweek.app.App`) builds it."""

    store: Store

    @property
    def alert_changes(self) -> AlertChanges: ...

    @property
    def files(self) -> Files: ...

    @property
    def replica_tables(self) -> Callable[[str], int] | None: ...

    @property
    def timezone(self) -> ZoneInfo: ...

    def warehouse(self) -> AbstractContextManager[Warehouse]: ...

    def metastore(self) -> AbstractContextManager[HiveMetastore]: ...

    def duties(self, session: Session) -> Duties: ...

    @property
    def dumps_settings(self) -> DumpsSettings: ...

    @property
    def verifier(self) -> Verifier: ...


@dataclass
class NewWikisRun:
    result: NewWikis
    commit: str | None = None
    duties: list[int] = field(default_factory=list)  # the new-wiki duties of ready wikis


@dataclass
class CanaryRun:
    results: list[StreamResult]
    problems: list[str]
    posted: dict[str, Any] | None = None
    hours_without_events: list[int] | None = None

    @property
    def bad(self) -> bool:
        posted_badly = self.posted is not None and not self.posted["ok"]
        return (
            any(r.status != "ok" for r in self.results)
            or bool(self.problems)
            or posted_badly
            or bool(self.hours_without_events)
        )


@dataclass
class PartitionsRun:
    drift: Drift
    repaired: Drift | None = None  # after the repair, when one ran


@dataclass
class DumpsRun:
    run: str  # YYYYMMDD
    wikis: list[str]  # the wikis checked
    findings: list[dumps_check.Finding]
    unreadable: dict[str, str]  # wiki: why its status file could not be read

    def alerts(self, open_keys: dict[str, str]) -> list[bytes]:
        """The findings as check findings; and, for each open dumps alert of this run about
        a wiki checked (``open_keys``: key -> kind) that no finding repeats, its resolution."""
        found = [
            finding("dumps", f.kind, f.title, f.key, {**f.details, "key": f.key}, f.severity)
            for f in self.findings
        ]
        current = {f.key for f in self.findings}
        checked = set(self.wikis) - set(self.unreadable)
        for key, kind in open_keys.items():
            parts = key.split("/")
            if key in current or self.run not in parts[:2]:
                continue  # still wrong, or another run's: this one says nothing of it
            if parts[0] != "run" and parts[0] not in checked:
                continue  # a wiki not read this time
            title = f"dumps: {key} is fine now"
            found.append(finding("dumps", kind, title, key, {"key": key}, resolved=True))
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "wikis": len(self.wikis),
            "findings": [
                {"kind": f.kind, "key": f.key, "title": f.title, **f.details} for f in self.findings
            ],
            "unreadable": self.unreadable,
        }


ON_REQUEST = ("new-wikis", "mw-history")  # the duties' checks Today runs from a button


class Checks:
    def __init__(
        self,
        adapters: CheckAdapters,
        settings: CheckSettings,
        data_dir: Path,
        files_configured: bool = True,
    ) -> None:
        self.adapters = adapters
        self.settings = settings
        self.data_dir = data_dir
        self.files_configured = files_configured  # files.root is set: HDFS, not the default

    def today(self) -> date:
        return utcnow().astimezone(self.adapters.timezone).date()

    def _send(self, findings: list[bytes], session: Session | None = None) -> None:
        """Findings into the inbox through the intake, as any source's alerts."""
        if not findings:
            return
        changes = self.adapters.alert_changes
        if session is not None:
            emit(changes, session, findings)
            return
        with self.adapters.store.writing() as writing:
            emit(changes, writing, findings)

    # --- new wikis ------------------------------------------------------------------------
    def new_wikis(
        self,
        start: date,
        end: date,
        allowlist: str = "",
        grouped_wikis: str = "",
        write: bool = False,
        alert: bool = True,
    ) -> NewWikisRun:
        """Wikis with pageviews not in the allowlist, whether their replica has tables, and
        the change to make. ``write``: the files changed on a new branch of their checkout;
        ``alert``: findings to the inbox and a new-wiki duty for each ready wiki."""
        allowlist_path = allowlist or self.settings.allowlist
        grouped_path = grouped_wikis or self.settings.grouped_wikis
        allowlist_text = read_file(allowlist_path, "allowlist")
        grouped_text = read_file(grouped_path, "grouped-wikis")
        with self.adapters.warehouse() as warehouse:
            result = check_new_wikis(
                warehouse,
                self.settings.unexpected_values_table,
                allowlist_text,
                grouped_text,
                start,
                end,
                utcnow(),
                self.adapters.replica_tables,
                Path(allowlist_path).name,
                Path(grouped_path).name,
            )
        run = NewWikisRun(result)
        if write and result.new_allowlist:
            run.commit = self._commit_new_wikis(result, allowlist_path, grouped_path)
        if alert:
            with self.adapters.store.writing() as session:
                self._send(result.findings(), session)
                duties = self.adapters.duties(session)
                for candidate in result.ready:  # each ready wiki: its new-wiki duty, once
                    instance, _ = duties.ensure_open(
                        "new-wiki", {"wiki": candidate.dbname or ""}, candidate.project
                    )
                    run.duties.append(instance.id)
        return run

    def _commit_new_wikis(self, result: NewWikis, allowlist: str, grouped: str) -> str | None:
        paths = [Path(allowlist).expanduser()]
        paths[0].write_text(result.new_allowlist, encoding="utf-8")
        if result.new_grouped:
            paths.append(Path(grouped).expanduser())
            paths[1].write_text(result.new_grouped, encoding="utf-8")
        wikis = ", ".join(c.dbname or c.project for c in result.candidates)
        message = (
            f"Add new wikis: {wikis}\n\nPageviews from these projects reached "
            f"pageview_unexpected_values between {result.start} and {result.end}. They are "
            "added to the pageview allowlist, and those whose replica has tables to the last "
            "sqoop group."
        )
        repo = GitRepo(str(GitRepo.top_of(paths[0].parent)), self.data_dir)
        return repo.commit_on_branch(f"new-wikis-{result.end.isoformat()}", paths, message)

    def on_request(self, name: str, by: str) -> CheckRun:
        """Run one of the duties' checks as its command does with no option (new wikis:
        yesterday's pageviews), for ``by``; keep what it said for Today, failure included."""
        if name not in ON_REQUEST:
            raise BadInput(f"no check {name!r} runs on request: {', '.join(ON_REQUEST)}")
        try:
            if name == "new-wikis":
                yesterday = self.today() - timedelta(days=1)
                found = self.new_wikis(yesterday, yesterday).result
                summary, problem = found.summary(), bool(found.candidates or found.errors)
            else:
                history, _ = self.mw_history(self.today())
                state = history.expected_state
                summary = history.summary()
                problem = history.late or bool(state and state.errors)
        except OpsweekError as exc:
            summary, problem = f"could not run: {first_line(exc)}", True
        run = CheckRun(name, summary, problem, by, utcnow())
        with self.adapters.store.session() as session:
            keep_check_run(session, run)
        return run

    # --- MediaWiki history ----------------------------------------------------------------
    def mw_history(self, today: date, alert: bool = True) -> tuple[MwHistory, int | None]:
        """The newest snapshot and its flags; with ``alert``, the findings to the inbox and a
        ready snapshot noted on the redeploy duty (its id)."""
        result = scan_snapshots(
            self.adapters.files,
            self.settings.mw_history_dir,
            today,
            self.settings.mw_history_late_day,
        )
        if not alert:
            return result, None
        with self.adapters.store.writing() as session:
            self._send(result.findings(), session)
            duty = (
                _deploy_duty(self.adapters.duties(session), result.expected)
                if result.ready
                else None
            )
        return result, duty

    # --- canary events --------------------------------------------------------------------
    def canary(
        self,
        schemas: Path,
        streams: Path | None = None,
        post: Callable[[list[dict[str, Any]]], tuple[int, Any]] | None = None,
        coverage: str | None = None,
        day: date | None = None,
        alert: bool = True,
    ) -> CanaryRun:
        """Each stream's canary event built as the producer does and validated; ``post``
        sends the valid ones to EventGate; ``coverage``: the hours of ``day`` without an
        event in that hourly table."""
        from opsweek.checks import canary as canary_check  # jsonschema: only when it runs

        loaded, problems = canary_check.load_schemas(schemas)
        wanted = (
            canary_check.read_streams(streams)
            if streams
            else {s.title: s.id for s in loaded.values() if not s.title.startswith("fragment/")}
        )
        run = CanaryRun(canary_check.check_streams(loaded, wanted), problems)
        if post is not None:
            events = [r.event for r in run.results if r.event is not None and r.status == "ok"]
            status, body = post(events)
            ok, summary = canary_check.interpret_post(status, body)
            run.posted = {"status": status, "ok": ok, "summary": summary, "events": len(events)}
        if coverage:
            now = utcnow().astimezone(self.adapters.timezone)
            target = day or now.date()
            last = 23 if target < now.date() else max(now.hour - 1, 0)
            with self.adapters.warehouse() as warehouse:
                run.hours_without_events = canary_check.missing_hours(
                    warehouse, coverage, target, last
                )
        if alert:
            self._send(canary_check.findings(run.results))
        return run

    # --- partitions -----------------------------------------------------------------------
    def partitions(
        self,
        table: str,
        base_path: str | None = None,
        repair_drift: bool = False,
        drop_missing: bool = False,
        alert: bool = True,
    ) -> PartitionsRun:
        """The metastore's partitions against the directories; ``repair_drift`` runs the
        runbook's fix (msck repair; ``drop_missing``: with sync partitions)."""
        if drop_missing and not repair_drift:
            raise BadInput("--drop-missing goes with --repair")
        files = self.adapters.files
        with self.adapters.metastore() as metastore:
            try:
                run = PartitionsRun(check_partitions(metastore, files, table, base_path))
                if repair_drift and run.drift.drifted:
                    repair(metastore, table, drop_missing)
                    run.repaired = check_partitions(metastore, files, table, base_path)
            except OpsweekError:
                raise
            except Exception as exc:
                raise Unavailable(f"metastore: {first_line(exc)}") from None
        if alert:
            self._send((run.repaired or run.drift).findings())
        return run

    # --- Refine reruns --------------------------------------------------------------------
    def refine(
        self, alert_ids: list[int] | None = None, resolve: bool = True
    ) -> list[PartitionState]:
        """The state of the partition of each open Refine failure alert (of ``alert_ids``
        only, when given); with ``resolve``, the alerts whose partition is refined since are
        resolved by the check, saying when."""
        with self.adapters.store.session() as session:
            conditions = [Alert.kind == REFINE_FAILURE]
            if alert_ids:
                conditions.append(Alert.id.in_(alert_ids))
            alerts = [
                (a.id, dict(a.details)) for a in newest_alerts(session, *conditions, status=OPEN)
            ]
        if alert_ids:
            found = {alert_id for alert_id, _ in alerts}
            missing = [str(i) for i in alert_ids if i not in found]
            if missing:
                raise BadInput(f"not an open Refine failure alert: {', '.join(missing)}")
        files = self.adapters.files
        states = [partition_state(alert_id, details, files) for alert_id, details in alerts]
        if resolve:
            tz = self.adapters.timezone
            for state in states:
                if state.state == REFINED:
                    self.adapters.alert_changes.resolve_by_check(
                        state.alert_id, "check:refine", state.note(tz)
                    )
        return states

    # --- the public dumps -----------------------------------------------------------------
    def dumps(
        self,
        run: date | None = None,
        root: str | None = None,
        alert: bool = True,
        now: datetime | None = None,
    ) -> DumpsRun:
        """The status files of ``run`` (by default the one under way) for each wiki
        (``dumps.wikis``, else those the root's index.json names), and what is wrong with
        them; with ``alert``, the findings go to the inbox, and the open dumps alerts of the
        wikis checked that are fine now resolve."""
        from opsweek.adapters.dumps import DumpsFiles

        check = dumps_check
        settings = self.adapters.dumps_settings
        where = root or settings.root
        if not where:
            raise ConfigError("give --root or set dumps.root")
        now = now or utcnow()
        run = run or check.run_of(now.date())
        before = check.previous_run(run)
        files = DumpsFiles(where)
        try:
            wikis = list(settings.wikis)
            bad = [w for w in wikis if not check.WIKI.match(w)]
            if bad:
                raise ConfigError(f"dumps.wikis: not wiki database names: {', '.join(bad)}")
            if not wikis:
                index = files.read("index.json")
                if index is None:
                    raise Unavailable(f"dumps: no index.json under {where}: set dumps.wikis")
                wikis = check.wikis_of_index(index)
            current: dict[str, check.WikiRun | None] = {}
            previous: dict[str, check.WikiRun | None] = {}
            unreadable: dict[str, str] = {}
            for wiki in wikis:
                try:
                    current[wiki] = _wiki_run(files, wiki, run)
                    previous[wiki] = _wiki_run(files, wiki, before)
                except ValueError as exc:
                    unreadable[wiki] = str(exc)
        except ValueError as exc:
            raise Unavailable(f"dumps: {exc}") from None
        finally:
            files.close()
        limits = check.Limits(
            settings.stall_hours, settings.expected_days, settings.size_drop_percent
        )
        found = check.for_steps(
            check.findings(run, current, previous, now, limits),
            settings.public_url,
            settings.snapshot_host,
            settings.worker_config,
            settings.big_wikis,
        )
        result = DumpsRun(check.run_name(run), sorted(current), found, unreadable)
        if alert:
            with self.adapters.store.writing() as session:
                self._send(result.alerts(_open_dumps_keys(session)), session)
        return result

    # --- on a schedule --------------------------------------------------------------------
    def scheduled(self) -> ScheduledRun:
        """The checks that need no arguments, as the CLI runs them: the MediaWiki history
        snapshot, the partitions of open Refine failures, the dumps, and yesterday's new
        wikis; each one whose inputs are configured (the others do nothing, and say so)."""
        run = ScheduledRun()
        today = self.today()
        yesterday = today - timedelta(days=1)
        for name, missing, check in (
            ("mw-history", self._mw_history_missing(), lambda: self.mw_history(today)),
            ("refine", "", self.refine),
            ("verify", "", self.adapters.verifier.run),
            ("dumps", "" if self.adapters.dumps_settings.root else "dumps.root", self.dumps),
            (
                "new-wikis",
                ""
                if self.settings.allowlist and self.settings.grouped_wikis
                else "checks.allowlist and checks.grouped_wikis",
                lambda: self.new_wikis(yesterday, yesterday),
            ),
        ):
            if missing:
                run.not_configured[name] = f"not configured: set {missing}"
                continue
            try:
                check()
                run.ran.append(name)
            except (OpsweekError, OSError) as exc:
                run.failed.append(f"{name}: {exc}")
        return run

    def _mw_history_missing(self) -> str:
        """What the snapshot check lacks: nothing when files.root is set or the snapshots'
        directory is there (the demo's); an empty setup has no snapshots to be late."""
        if self.files_configured:
            return ""
        try:
            found = self.adapters.files.exists(self.settings.mw_history_dir)
        except (OpsweekError, OSError):
            found = False
        return "" if found else "files.root (where the MediaWiki history snapshots are)"


@dataclass
class ScheduledRun:
    ran: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # what failed, one line each
    not_configured: dict[str, str] = field(default_factory=dict)  # check: what it lacks

    def as_json(self) -> dict[str, Any]:
        return {"ran": self.ran, "failed": self.failed, "not_configured": self.not_configured}


def _deploy_duty(duties: Duties, snapshot: str) -> int | None:
    """The open redeploy duty that deploys ``snapshot`` (the month after it), linked to the
    snapshot's alert as any source's alert about it is; None until that duty is due."""
    duties.link_alerts()
    recent = duties.list(
        duties.now - timedelta(days=31), duties.now + timedelta(seconds=1), ["due"]
    )
    return next(
        (
            i.id
            for i in reversed(recent)
            if i.duty_key == "mw-history-deploy" and i.detail.get("snapshot") == snapshot
        ),
        None,
    )


def _wiki_run(files: DumpsFiles, wiki: str, run: date) -> dumps_check.WikiRun | None:
    name = dumps_check.run_name(run)
    data = files.read(f"{wiki}/{name}/dumpstatus.json")
    return None if data is None else dumps_check.parse_status(wiki, name, data)


def _open_dumps_keys(session: Session) -> dict[str, str]:
    """The open dumps alerts: their key (what they are about), and their kind."""
    alerts = newest_alerts(session, Alert.kind.in_(dumps_check.KINDS), status=OPEN)
    return {str(a.details.get("key")): a.kind for a in alerts if a.details.get("key")}


def read_file(path: str, what: str) -> str:
    """The text of a file a check reads; a missing path names the option or setting to give."""
    if not path:
        raise ConfigError(f"give --{what} or set checks.{what.replace('-', '_')}")
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
