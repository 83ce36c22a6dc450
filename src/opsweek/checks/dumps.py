"""The public XML/SQL dumps: the runbook's second primary responsibility ("Monitoring of the
pipelines that generate the publicly available Dumps"). Each wiki's run publishes its progress
in ``<wiki>/<YYYYMMDD>/dumpstatus.json`` (the dumps' status API: jobs by name, each with
``status`` — done, in-progress, waiting, failed, skipped —, ``updated``, and ``files`` with
their sizes and checksums); the run-wide ``index.json`` names the wikis. Runs start on the 1st
and the 20th of each month.

From those files (pure; reading them is `opsweek.adapters.dumps`): failed jobs, wikis whose
run has not started or has stalled, a run not finished when it should be, and files much
smaller than the same file of the previous run."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

RUN_DAYS = (1, 20)  # the days of the month a run starts
RUN = re.compile(r"^\d{8}\Z")
WIKI = re.compile(r"^[a-z0-9_]{2,64}\Z")
FINISHED = ("done", "skipped")
# smaller files are not compared: a table of a few rows changes by half from one run to the next
MIN_COMPARED_BYTES = 1 << 20
FAILED_KIND, STALLED_KIND, LATE_KIND, SHRUNK_KIND = (
    "dumps_job_failed",
    "dumps_wiki_stalled",
    "dumps_run_late",
    "dumps_file_shrunk",
)
KINDS = (FAILED_KIND, STALLED_KIND, LATE_KIND, SHRUNK_KIND)


@dataclass(frozen=True)
class DumpFile:
    name: str
    size: int | None
    url: str


@dataclass(frozen=True)
class Job:
    name: str
    status: str
    updated: datetime | None
    files: tuple[DumpFile, ...] = ()


@dataclass(frozen=True)
class WikiRun:
    wiki: str
    run: str  # YYYYMMDD
    jobs: Mapping[str, Job]

    @property
    def finished(self) -> bool:
        return bool(self.jobs) and all(j.status in FINISHED for j in self.jobs.values())

    @property
    def last_update(self) -> datetime | None:
        times = [j.updated for j in self.jobs.values() if j.updated]
        return max(times) if times else None

    def file_sizes(self) -> dict[str, int]:
        """Sizes of the files of finished jobs, by name without the run's date (comparable
        across runs: ``enwiki-20261201-stub-meta-history.xml.gz`` is ``enwiki--stub-...``)."""
        return {
            f.name.replace(f"-{self.run}-", "--"): f.size
            for job in self.jobs.values()
            if job.status == "done"
            for f in job.files
            if f.size is not None
        }


def parse_status(wiki: str, run: str, data: bytes) -> WikiRun:
    """A wiki's ``dumpstatus.json``. A job or file whose fields cannot be read is kept with
    what could be; a file that is not a JSON object of jobs is a ValueError."""
    try:
        body = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{wiki}/{run}/dumpstatus.json is not JSON: {exc}") from None
    jobs = body.get("jobs") if isinstance(body, dict) else None
    if not isinstance(jobs, dict):
        raise ValueError(f"{wiki}/{run}/dumpstatus.json has no jobs")
    return WikiRun(
        wiki,
        run,
        {str(name): _job(str(name), job) for name, job in jobs.items() if isinstance(job, dict)},
    )


def _job(name: str, job: dict[str, Any]) -> Job:
    files = job.get("files") if isinstance(job.get("files"), dict) else {}
    return Job(
        name,
        str(job.get("status") or "unknown"),
        _when(job.get("updated")),
        tuple(
            DumpFile(
                str(file_name),
                info.get("size") if isinstance(info.get("size"), int) else None,
                str(info.get("url") or ""),
            )
            for file_name, info in sorted(files.items())
            if isinstance(info, dict)
        ),
    )


def _when(value: object) -> datetime | None:
    """``2026-12-01 10:37:39`` (UTC), as the status files write it."""
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def wikis_of_index(data: bytes) -> list[str]:
    """The wikis the run-wide ``index.json`` names (``{"wikis": {name: status, ...}}``)."""
    body = json.loads(data)
    wikis = body.get("wikis") if isinstance(body, dict) else None
    if not isinstance(wikis, dict):
        raise ValueError("index.json names no wikis")
    return sorted(w for w in wikis if WIKI.match(w))


# the config sections of the wikis the dumps run with their own settings
SECTIONS = {"enwiki": "en", "wikidatawiki": "wd"}


def configfile_for(wiki: str, configfile: str, big_wikis: tuple[str, ...]) -> str:
    """worker.py's ``--configfile`` for ``wiki``: the file, and the section of its settings
    (``:en``, ``:wd``, ``:bigwikis``) for the wikis dumped with their own."""
    section = SECTIONS.get(wiki) or ("bigwikis" if wiki in big_wikis else "")
    return f"{configfile}:{section}" if section else configfile


def for_steps(
    found: list[Finding],
    public_url: str,
    snapshot_host: str,
    worker_config: str,
    big_wikis: tuple[str, ...],
) -> list[Finding]:
    """The findings with what their steps need beyond the status files: the site to link
    to, and where and how the dumps operators rerun a job."""
    return [
        replace(
            f,
            details={
                **f.details,
                "public_url": public_url.rstrip("/"),
                "snapshot_host": snapshot_host,
                "worker_config": configfile_for(f.wiki, worker_config, big_wikis),
            },
        )
        for f in found
    ]


def run_of(day: date) -> date:
    """The run under way on ``day``: the last 1st or 20th on or before it."""
    return day.replace(day=20) if day.day >= 20 else day.replace(day=1)


def previous_run(run: date) -> date:
    if run.day >= 20:
        return run.replace(day=1)
    return (run - timedelta(days=1)).replace(day=20)


def run_name(run: date) -> str:
    return run.strftime("%Y%m%d")


@dataclass(frozen=True)
class Limits:
    stall_hours: int
    expected_days: int
    size_drop_percent: int


@dataclass(frozen=True)
class Finding:
    kind: str
    key: str  # the same situation found again is the same alert
    wiki: str  # "" for the run as a whole
    title: str
    details: dict[str, Any] = field(default_factory=dict)
    severity: str = "warning"


def findings(
    run: date,
    current: Mapping[str, WikiRun | None],
    previous: Mapping[str, WikiRun | None],
    now: datetime,
    limits: Limits,
) -> list[Finding]:
    """What is wrong with ``run`` for the wikis of ``current`` (None: no status file yet),
    the previous run of each for comparing sizes."""
    name = run_name(run)
    started = datetime.combine(run, datetime.min.time(), UTC)
    stall = timedelta(hours=limits.stall_hours)
    found: list[Finding] = []
    unfinished = []
    for wiki, status in sorted(current.items()):
        base = {"wiki": wiki, "run": name}
        if status is None:
            unfinished.append(wiki)
            if now - started > stall:
                found.append(
                    Finding(
                        STALLED_KIND,
                        f"{wiki}/{name}",
                        wiki,
                        f"dumps: {wiki} has not started its {name} run",
                        {**base, "reason": "not started", "last_update": None},
                    )
                )
            continue
        if not status.finished:
            unfinished.append(wiki)
        failed = [j for j in status.jobs.values() if j.status == "failed"]
        for job in failed:
            found.append(
                Finding(
                    FAILED_KIND,
                    f"{wiki}/{name}/{job.name}",
                    wiki,
                    f"dumps: {job.name} failed for {wiki} ({name})",
                    {**base, "job": job.name, "files": [f.name for f in job.files][:50]},
                    "error",
                )
            )
        waiting = any(j.status in ("in-progress", "waiting") for j in status.jobs.values())
        last = status.last_update
        if waiting and last and now - last > stall:
            hours = int((now - last).total_seconds() // 3600)
            found.append(
                Finding(
                    STALLED_KIND,
                    f"{wiki}/{name}",
                    wiki,
                    f"dumps: {wiki} ({name}) has not moved for {hours} hours",
                    {**base, "reason": "stalled", "last_update": last.isoformat()},
                )
            )
        found += _shrunk(status, previous.get(wiki), limits.size_drop_percent)
    due = started + timedelta(days=limits.expected_days)
    if unfinished and now > due:
        found.append(
            Finding(
                LATE_KIND,
                f"run/{name}",
                "",
                f"dumps: the {name} run is not finished after {limits.expected_days} days "
                f"({len(unfinished)} wiki(s))",
                {"run": name, "due": due.isoformat(), "unfinished": unfinished[:100]},
            )
        )
    return found


def _shrunk(status: WikiRun, before: WikiRun | None, percent: int) -> list[Finding]:
    if before is None:
        return []
    then = before.file_sizes()
    found = []
    for key, size in sorted(status.file_sizes().items()):
        old = then.get(key)
        if old is None or old < MIN_COMPARED_BYTES or size >= old * (100 - percent) / 100:
            continue
        file_name = key.replace("--", f"-{status.run}-", 1)
        drop = round(100 * (old - size) / old)
        found.append(
            Finding(
                SHRUNK_KIND,
                f"{status.wiki}/{status.run}/{file_name}",
                status.wiki,
                f"dumps: {file_name} is {drop}% smaller than in the {before.run} run",
                {
                    "wiki": status.wiki,
                    "run": status.run,
                    "previous_run": before.run,
                    "file": file_name,
                    "size": size,
                    "previous_size": old,
                    "drop_percent": drop,
                },
            )
        )
    return found
