"""Every alert kind's steps, filled from realistic inputs (the fixtures the parsers read, and the
findings opsweek's own checks emit), with what each command must run. The expectations are
written from the runbook (ops-week-runbook.txt) and the tools' documented usage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from opsweek.alerts.formats import AIRFLOW
from opsweek.alerts.model import ParsedAlert, RawInput
from opsweek.alerts.parse import parse_raw
from opsweek.alerts.runbook import steps_for
from opsweek.alerts.sources.airflow_api import content, run_content
from opsweek.alerts.sources.opsweek_check import parse as parse_finding
from opsweek.checks.canary import StreamResult
from opsweek.checks.canary import findings as canary_findings
from opsweek.checks.mw_history import MwHistory, SnapshotState
from opsweek.checks.new_wikis import Candidate, NewWikis
from opsweek.checks.partitions import Drift
from opsweek.site import AirflowCli, Site
from opsweek.steps import Step
from tests.alerts.helpers import parsed, raw_inputs
from tests.conformance.expect import Expect, Irc, Sql, Url, sh
from tests.conformance.harness import call

LAUNCHER = "an-launcher1002.eqiad.wmnet"
DEPLOY = "deployment.eqiad.wmnet"
ALLOWLIST = "/wmf/refinery/current/static_data/pageview/allowlist/allowlist.tsv"
# the team's site, with the CLIs of its Airflow instances run on the launcher as their users
SITE = Site(
    airflow_clis=(
        AirflowCli("analytics", LAUNCHER, "analytics"),
        AirflowCli("analytics-product", LAUNCHER, "analytics-product"),
    )
)


def airflow(*argv: str, user: str = "analytics") -> Expect:
    """The instance's CLI, on the launcher as the instance's user."""
    return sh(call("airflow", *argv, user=user), host=LAUNCHER)


@dataclass(frozen=True)
class AlertCase:
    name: str
    alert: ParsedAlert
    expect: Mapping[str, list[Expect]]  # step id -> what each of its steps must be, in order
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    tools: tuple[str, ...] = ()  # programs the commands call beyond the usual cluster tools
    canned: dict[str, str] = field(default_factory=dict)  # stub outputs, by command line
    absent: tuple[str, ...] = ()  # step ids that must not be there for this input
    alert_id: int = 42  # the stored alert's id, for the opsweek commands that act on it
    site: Site = field(default_factory=lambda: SITE)

    @property
    def kind(self) -> str:
        return self.alert.kind

    def steps(self) -> list[Step]:
        first = self.first_seen or self.alert.occurred_at
        return steps_for(
            self.kind, self.alert.details, first, self.last_seen or first, self.alert_id, self.site
        )


def fixture(name: str, index: int = 0) -> ParsedAlert:
    return parsed(name)[index]


def log_line(index: int) -> ParsedAlert:
    return parse_raw(raw_inputs("canary.log")[index]).alerts[0]


def finding(content: bytes, at: datetime) -> ParsedAlert:
    return parse_finding(content, at)


def journal(unit: str, since: str, until: str, host: str, user: str = "root") -> Expect:
    return sh(
        call("journalctl", "-u", unit, "--since", since, "--until", until, user=user), host=host
    )


def as_hdfs_user(user: str, *args: str, host: str = LAUNCHER) -> Expect:
    return sh(call("hdfs", "dfs", *args, user=user, principal=user), host=host)


def as_hdfs(*args: str, host: str = LAUNCHER) -> Expect:
    return sh(call("hdfs", "dfs", *args, user="hdfs", principal="hdfs"), host=host)


def allowlist_sync() -> dict[str, list[Expect]]:
    return {
        "scp": [
            sh(
                call(
                    "scp",
                    "static_data/pageview/allowlist/allowlist.tsv",
                    "an-launcher1002.eqiad.wmnet:",
                ),
                host="your laptop",
            )
        ],
        "put": [as_hdfs("-put", "-f", "allowlist.tsv", ALLOWLIST)],
        "chmod": [as_hdfs("-chmod", "+r", ALLOWLIST)],
    }


def polled(body: bytes) -> ParsedAlert:
    """What a poll of Airflow's API read, as the alert it makes."""
    return parse_raw(
        RawInput(body, AIRFLOW, datetime(2026, 12, 1, 10, 30, tzinfo=UTC), "t")
    ).alerts[0]


SNAPSHOT = "snapshot1010.eqiad.wmnet"
DUMPS = "https://dumps.wikimedia.org"
WORKER_DIR = "/srv/deployment/dumps/dumps/xmldumps-backup"


def dumps_alerts(at: datetime) -> dict[str, ParsedAlert]:
    """The alerts `opsweek check dumps` makes of the status files in tests/fixtures/dumps
    (a failed job, a stalled wiki, one not started, a shrunken file), by what each is about."""
    from pathlib import Path

    from opsweek.checks import dumps
    from opsweek.checks.workflows import DumpsRun

    root = Path(__file__).parents[1] / "fixtures" / "dumps"

    def read(wiki: str, run: str) -> dumps.WikiRun | None:
        path = root / wiki / run / "dumpstatus.json"
        return dumps.parse_status(wiki, run, path.read_bytes()) if path.exists() else None

    wikis = dumps.wikis_of_index((root / "index.json").read_bytes())
    current = {w: read(w, "20261201") for w in wikis}
    previous = {w: read(w, "20261120") for w in wikis}
    found = dumps.findings(date(2026, 12, 1), current, previous, at, dumps.Limits(24, 14, 30))
    found = dumps.for_steps(
        found, DUMPS, SNAPSHOT, "/etc/dumps/confs/wikidump.conf.dumps", ("dewiki",)
    )
    run = DumpsRun("20261201", sorted(current), found, {})
    alerts = [finding(content, at) for content in run.alerts({})]
    return {str(a.details["key"]): a for a in alerts}


def opsweek(*args: str) -> Expect:
    return sh(call("opsweek", *args), host="where opsweek is installed")


REFINE_FLAGS = (
    "--ignore_failure_flag=true",
    "--table_include_regex=mediawiki_foo|navigationtiming",
    "--since=2024-01-02T03:00:00.000Z",
    "--until=2024-01-02T05:00:00.000Z",
)
AIRFLOW_RUN = "scheduled__2023-10-01T00:00:00+00:00"


def cases() -> list[AlertCase]:
    retry = fixture("airflow_task_retry_mapped.eml")
    refine = fixture("refine_failure_qp_crlf.eml")
    unread_refine = ParsedAlert(  # a Refine mail whose rerun is missing: built from the hour
        **{**refine.__dict__, "details": {**refine.details, "rerun_command": ""}}
    )
    drop = fixture("systemd_timer_fail_drop.eml")
    reportupdater = fixture("systemd_timer_fail_reportupdater.eml")
    webhook = parsed("alertmanager_firing.json")
    anomaly = fixture("anomaly_report.eml")
    at = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    dumps = dumps_alerts(datetime(2026, 12, 16, tzinfo=UTC))
    return [
        AlertCase(
            "airflow failed",
            fixture("airflow_task_failed.eml"),
            {
                "log": [
                    Url(
                        "https://airflow-analytics.wikimedia.org/log?execution_date="
                        "2023-10-01T00%3A00%3A00%2B00%3A00&task_id=process_edit_hourly&"
                        "dag_id=edit_hourly&map_index=-1"
                    )
                ],
                "grid": [
                    Url(
                        "https://airflow-analytics.wikimedia.org/dags/edit_hourly/grid?dag_run_id="
                        "scheduled__2023-10-01T00%3A00%3A00%2B00%3A00&task_id=process_edit_hourly"
                    )
                ],
                "clear": [
                    airflow(
                        "tasks",
                        "clear",
                        "--yes",
                        "--only-failed",
                        "--task-regex",
                        "^process_edit_hourly$",
                        "--start-date",
                        "2023-10-01T00:00:00+00:00",
                        "--end-date",
                        "2023-10-01T00:00:00+00:00",
                        "edit_hourly",
                    )
                ],
                "pause": [airflow("dags", "pause", "edit_hourly")],
                "sal": [
                    Irc(
                        f"!log cleared edit_hourly.process_edit_hourly {AIRFLOW_RUN} on "
                        "airflow-analytics"
                    )
                ],
            },
        ),
        AlertCase(
            "airflow up_for_retry, mapped, task in a group",
            retry,
            {
                "log": [
                    Url(
                        "https://airflow-analytics-product.wikimedia.org/log?execution_date="
                        "2023-11-06T00%3A00%3A00%2B00%3A00&task_id=metrics.compute_metrics&"
                        "dag_id=wikidata&map_index=2"
                    )
                ],
                "grid": [
                    Url(
                        "https://airflow-analytics-product.wikimedia.org/dags/wikidata/grid?"
                        "dag_run_id=scheduled__2023-11-06T00%3A00%3A00%2B00%3A00&"
                        "task_id=metrics.compute_metrics"
                    )
                ],
            },
            absent=("clear", "pause", "sal"),
        ),
        AlertCase(
            "airflow failed task in a group: the dot of its id is escaped in the regex",
            ParsedAlert(**{**retry.__dict__, "details": {**retry.details, "state": "failed"}}),
            {
                "log": [
                    Url(
                        "https://airflow-analytics-product.wikimedia.org/log?execution_date="
                        "2023-11-06T00%3A00%3A00%2B00%3A00&task_id=metrics.compute_metrics&"
                        "dag_id=wikidata&map_index=2"
                    )
                ],
                "grid": [
                    Url(
                        "https://airflow-analytics-product.wikimedia.org/dags/wikidata/grid?"
                        "dag_run_id=scheduled__2023-11-06T00%3A00%3A00%2B00%3A00&"
                        "task_id=metrics.compute_metrics"
                    )
                ],
                "clear": [
                    airflow(
                        "tasks",
                        "clear",
                        "--yes",
                        "--only-failed",
                        "--task-regex",
                        "^metrics\\.compute_metrics$",
                        "--start-date",
                        "2023-11-06T00:00:00+00:00",
                        "--end-date",
                        "2023-11-06T00:00:00+00:00",
                        "wikidata",
                        user="analytics-product",
                    )
                ],
                "pause": [airflow("dags", "pause", "wikidata", user="analytics-product")],
                "sal": [
                    Irc(
                        "!log cleared wikidata.metrics.compute_metrics "
                        "scheduled__2023-11-06T00:00:00+00:00 on airflow-analytics-product"
                    )
                ],
            },
        ),
        AlertCase(
            "airflow SLA miss",
            fixture("airflow_sla_miss.eml"),
            {
                "grid": [
                    Url(
                        "https://airflow-analytics.wikimedia.org/dags/webrequest_actor_metrics_hourly/grid"
                    )
                ],
                "pause": [airflow("dags", "pause", "webrequest_actor_metrics_hourly")],
            },
        ),
        AlertCase(
            "airflow failed, polled from Airflow 3: a manual run has no logical date, so "
            "opsweek clears it; a Druid load names its indexing task",
            polled(
                content(
                    "analytics",
                    "https://airflow-analytics.wikimedia.org",
                    {
                        "dag_id": "druid_load_pageviews_hourly",
                        "task_id": "load_druid",
                        "dag_run_id": "manual__2026-12-01T10:11:12.123456+00:00",
                        "map_index": -1,
                        "state": "failed",
                        "try_number": 2,
                        "max_tries": 1,
                        "hostname": "an-airflow1001.eqiad.wmnet",
                        "logical_date": None,
                    },
                    druid={
                        "task_id": (
                            "index_hadoop_pageviews_hourly_kcfnhbno_2026-12-01T10:12:40.118Z"
                        ),
                        "datasource": "pageviews_hourly",
                        "overlord_url": "https://druid-overlord.example.org:8090",
                        "console_url": "https://druid.example.org/unified-console.html#tasks",
                    },
                )
            ),
            {
                "log": [
                    Url(
                        "https://airflow-analytics.wikimedia.org/dags/druid_load_pageviews_hourly/"
                        "runs/manual__2026-12-01T10%3A11%3A12.123456%2B00%3A00/tasks/load_druid"
                        "?try_number=2"
                    )
                ],
                "opsweek-clear": [opsweek("airflow", "clear", "42")],
                "pause": [airflow("dags", "pause", "druid_load_pageviews_hourly")],
                "sal": [
                    Irc(
                        "!log cleared druid_load_pageviews_hourly.load_druid "
                        "manual__2026-12-01T10:11:12.123456+00:00 on airflow-analytics"
                    )
                ],
                "druid-log": [
                    Url(
                        "https://druid-overlord.example.org:8090/druid/indexer/v1/task/"
                        "index_hadoop_pageviews_hourly_kcfnhbno_2026-12-01T10%3A12%3A40.118Z/log"
                    )
                ],
                "druid-status": [
                    Url(
                        "https://druid-overlord.example.org:8090/druid/indexer/v1/task/"
                        "index_hadoop_pageviews_hourly_kcfnhbno_2026-12-01T10%3A12%3A40.118Z/status"
                    )
                ],
                "druid-console": [Url("https://druid.example.org/unified-console.html#tasks")],
            },
            absent=("grid",),
        ),
        AlertCase(
            "airflow DAG run failed, polled from Airflow 2",
            polled(
                run_content(
                    "analytics",
                    "https://airflow-analytics.wikimedia.org",
                    {
                        "dag_id": "webrequest_actor_metrics_hourly",
                        "dag_run_id": "scheduled__2026-12-01T09:00:00+00:00",
                        "state": "failed",
                        "logical_date": "2026-12-01T09:00:00+00:00",
                        "run_type": "scheduled",
                        "note": None,
                    },
                    ["compute_metrics"],
                    api="v1",
                )
            ),
            {
                "run": [
                    Url(
                        "https://airflow-analytics.wikimedia.org/dags/webrequest_actor_metrics_hourly"
                        "/grid?dag_run_id=scheduled__2026-12-01T09%3A00%3A00%2B00%3A00"
                    )
                ],
                "opsweek-clear": [opsweek("airflow", "clear", "42")],
                "clear": [
                    airflow(
                        "tasks",
                        "clear",
                        "--yes",
                        "--only-failed",
                        "--start-date",
                        "2026-12-01T09:00:00+00:00",
                        "--end-date",
                        "2026-12-01T09:00:00+00:00",
                        "webrequest_actor_metrics_hourly",
                    )
                ],
                "pause": [airflow("dags", "pause", "webrequest_actor_metrics_hourly")],
                "sal": [
                    Irc(
                        "!log cleared the failed tasks of webrequest_actor_metrics_hourly "
                        "scheduled__2026-12-01T09:00:00+00:00 on airflow-analytics"
                    )
                ],
            },
        ),
        AlertCase(
            "mobile pageview anomaly: the Turnilo comparison, filled in",
            ParsedAlert(
                **{
                    **anomaly.__dict__,
                    "details": {
                        **anomaly.details,
                        "report": "anomaly_detection_mobile_pageviews_daily",
                        "family": "mobile_pageviews",
                    },
                }
            ),
            {
                "superset": [Url("https://superset.wikimedia.org/superset/dashboard/315/")],
                "turnilo": [Url("https://turnilo.wikimedia.org/#pageviews_daily")],
            },
        ),
        AlertCase(
            "dumps job failed (opsweek's check): the operators' rerun of that job",
            dumps["enwiki/20261201/metahistorybz2dump"],
            {
                "run-page": [Url(f"{DUMPS}/enwiki/20261201/")],
                "rerun": [
                    sh(
                        call(
                            "python3",
                            "./worker.py",
                            "--configfile",
                            "/etc/dumps/confs/wikidump.conf.dumps:en",
                            "--date",
                            "20261201",
                            "--job",
                            "metahistorybz2dump",
                            "enwiki",
                            user="dumpsgen",
                            cwd=WORKER_DIR,
                        ),
                        host=SNAPSHOT,
                    )
                ],
                "sal": [
                    Irc(
                        "!log dumps 20261201: metahistorybz2dump failed for enwiki, reported "
                        "to the dumps operators"
                    )
                ],
                "recheck": [opsweek("check", "dumps", "--run", "20261201")],
            },
            tools=("python3",),
        ),
        AlertCase(
            "dumps wiki stalled (opsweek's check)",
            dumps["dewiki/20261201"],
            {
                "run-page": [Url(f"{DUMPS}/dewiki/20261201/")],
                "recheck": [opsweek("check", "dumps", "--run", "20261201")],
            },
        ),
        AlertCase(
            "dumps run late (opsweek's check)",
            dumps["run/20261201"],
            {
                "index": [Url(f"{DUMPS}/backup-index.html")],
                "recheck": [opsweek("check", "dumps", "--run", "20261201")],
            },
        ),
        AlertCase(
            "dumps file shrunk (opsweek's check)",
            dumps["enwiki/20261201/enwiki-20261201-page.sql.gz"],
            {
                "run-page": [Url(f"{DUMPS}/enwiki/20261201/")],
                "previous-page": [Url(f"{DUMPS}/enwiki/20261120/")],
                "recheck": [opsweek("check", "dumps", "--run", "20261201")],
            },
        ),
        AlertCase(
            "refine failure, quoted-printable and CRLF",
            refine,
            {
                "rerun": [
                    sh(
                        call(
                            "refine_eventlogging_analytics",
                            *REFINE_FLAGS,
                            user="analytics",
                            principal="analytics",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "yarn-logs": [
                    sh(
                        call(
                            "yarn",
                            "logs",
                            "-applicationId",
                            "application_1700000000000_12345",
                            user="analytics",
                        ),
                        call("grep", "Refine:"),
                        host=LAUNCHER,
                    )
                ],
                "opsweek-rerun": [opsweek("refine", "rerun", "42")],
                "check-flags": [opsweek("check", "refine")],
                "sal": [
                    Irc(
                        "!log reran refine_eventlogging_analytics for event.mediawiki_foo "
                        "2024-01-02T03"
                    )
                ],
            },
            tools=("refine_eventlogging_analytics",),
        ),
        AlertCase(
            "refine failure without a rerun command: one built from the failed hour, that "
            "opsweek reran: the rerun's own logs, by the application read from its output",
            replace(
                unread_refine,
                details={
                    **unread_refine.details,
                    "rerun_applications": ["application_1706000000000_4242"],
                },
            ),
            {
                "yarn-logs-rerun": [
                    sh(
                        call(
                            "yarn",
                            "logs",
                            "-applicationId",
                            "application_1706000000000_4242",
                            user="analytics",
                        ),
                        call("grep", "Refine:"),
                        host=LAUNCHER,
                    )
                ],
                "rerun": [
                    sh(
                        call(
                            "refine_eventlogging_analytics",
                            "--ignore_failure_flag=true",
                            "--table_include_regex=mediawiki_foo",
                            "--since=2024-01-02T03:00:00.000Z",
                            "--until=2024-01-02T04:00:00.000Z",
                            user="analytics",
                            principal="analytics",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "yarn-logs": [
                    sh(
                        call(
                            "yarn",
                            "logs",
                            "-applicationId",
                            "application_1700000000000_12345",
                            user="analytics",
                        ),
                        call("grep", "Refine:"),
                        host=LAUNCHER,
                    )
                ],
                "opsweek-rerun": [opsweek("refine", "rerun", "42")],
                "check-flags": [opsweek("check", "refine")],
                "sal": [
                    Irc(
                        "!log reran refine_eventlogging_analytics for event.mediawiki_foo "
                        "2024-01-02T03"
                    )
                ],
            },
            tools=("refine_eventlogging_analytics",),
        ),
        AlertCase(
            "RefineMonitor: both lists, a backfill per table",
            fixture("refine_monitor.eml"),
            {
                "backfill": [
                    sh(
                        call(
                            "refine_sanitize_eventlogging_analytics",
                            "--ignore_failure_flag=true",
                            "--table_include_regex=homepagevisit",
                            "--since=2023-11-06T07:00:00.000Z",
                            "--until=2023-11-06T08:00:00.000Z",
                            user="analytics",
                            principal="analytics",
                        ),
                        host=LAUNCHER,
                    ),
                    sh(
                        call(
                            "refine_sanitize_eventlogging_analytics",
                            "--ignore_failure_flag=true",
                            "--table_include_regex=navigationtiming",
                            "--since=2023-11-06T04:00:00.000Z",
                            "--until=2023-11-06T06:00:00.000Z",
                            user="analytics",
                            principal="analytics",
                        ),
                        host=LAUNCHER,
                    ),
                ],
                "sal": [
                    Irc(
                        "!log backfilled refine_sanitize_eventlogging_analytics "
                        "(monitor_refine_sanitize_eventlogging_analytics)"
                    )
                ],
            },
            tools=("refine_sanitize_eventlogging_analytics",),
        ),
        AlertCase(
            "canary: invalid example",
            log_line(1),
            {
                "journal": [
                    journal(
                        "produce_canary_events.service",
                        "2024-01-12 17:15:04 UTC",
                        "2024-01-12 20:15:04 UTC",
                        "an-launcher1002",
                    )
                ],
                "check": [opsweek("check", "canary", "--schemas", "jsonschema")],
            },
        ),
        AlertCase(
            "systemd timer: deletion script out of its interval",
            drop,
            {
                "journal": [
                    journal(
                        "refinery-drop-webrequest-refined-partitions.service",
                        "2023-11-08 03:15:03 UTC",
                        "2023-11-08 06:15:03 UTC",
                        LAUNCHER,
                    )
                ],
                "status": [
                    sh(
                        call(
                            "systemctl",
                            "status",
                            "--",
                            "refinery-drop-webrequest-refined-partitions.service",
                            user="root",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "verify": [
                    sh(
                        call(
                            "systemctl",
                            "show",
                            "--timestamp=unix",
                            "-p",
                            "Result",
                            "-p",
                            "ExecMainStatus",
                            "-p",
                            "ExecMainExitTimestamp",
                            "--",
                            "refinery-drop-webrequest-refined-partitions.service",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "check-partitions": [opsweek("check", "partitions", "wmf.webrequest")],
                "msck": [Sql("msck repair table `wmf`.`webrequest`;")],
                "ls-path": [as_hdfs("-ls", "/wmf/data/wmf/webrequest")],
                "reset-failed": [
                    sh(
                        call(
                            "systemctl",
                            "reset-failed",
                            "--",
                            "refinery-drop-webrequest-refined-partitions.service",
                            user="root",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "sal": [
                    Irc(
                        "!log refinery-drop-webrequest-refined-partitions.service failed at "
                        "2023-11-08 05:15 UTC: looked into it"  # its own time (it said +1 h)
                    )
                ],
            },
        ),
        AlertCase(
            "systemd timer: a sqoop job, with which of the three and its snapshot's flags",
            fixture("systemd_timer_fail_sqoop.eml"),
            {
                "sqoop-doc": [
                    Url(
                        "https://wikitech.wikimedia.org/wiki/Analytics/Systems/Cluster/"
                        "Edit_history_administration"
                    )
                ],
                "sqoop-flags": [
                    as_hdfs_user(
                        "analytics",
                        "-ls",
                        "/wmf/data/raw/mediawiki/tables/*/snapshot=2023-10/_SUCCESS",
                    )
                ],
                "journal": [
                    journal(
                        "refinery-sqoop-whole-mediawiki.service",
                        "2023-11-02 05:41:12 UTC",
                        "2023-11-02 08:41:12 UTC",
                        LAUNCHER,
                    )
                ],
                "status": [
                    sh(
                        call(
                            "systemctl",
                            "status",
                            "--",
                            "refinery-sqoop-whole-mediawiki.service",
                            user="root",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "verify": [
                    sh(
                        call(
                            "systemctl",
                            "show",
                            "--timestamp=unix",
                            "-p",
                            "Result",
                            "-p",
                            "ExecMainStatus",
                            "-p",
                            "ExecMainExitTimestamp",
                            "--",
                            "refinery-sqoop-whole-mediawiki.service",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "reset-failed": [
                    sh(
                        call(
                            "systemctl",
                            "reset-failed",
                            "--",
                            "refinery-sqoop-whole-mediawiki.service",
                            user="root",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "sal": [
                    Irc(
                        "!log refinery-sqoop-whole-mediawiki.service failed at 2023-11-02 "
                        "07:41 UTC: looked into it"
                    )
                ],
            },
        ),
        AlertCase(
            "canary producer's own timer failed: the canary steps",
            fixture("systemd_timer_fail_canary.eml"),
            {
                "journal": [
                    journal(
                        "produce_canary_events.service",
                        "2021-01-12 17:15:09 UTC",
                        "2021-01-12 20:15:09 UTC",
                        LAUNCHER,
                    )
                ],
                "check": [opsweek("check", "canary", "--schemas", "jsonschema")],
            },
        ),
        AlertCase(
            "systemd timer: reportupdater, as the runbook's journalctl -u, at the alert's time",
            reportupdater,
            {
                "journal": [
                    journal(
                        "reportupdater-interlanguage.service",
                        "2023-11-08 03:15:03 UTC",
                        "2023-11-08 06:15:03 UTC",
                        LAUNCHER,
                    )
                ],
                "status": [
                    sh(
                        call(
                            "systemctl",
                            "status",
                            "--",
                            "reportupdater-interlanguage.service",
                            user="root",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "verify": [
                    sh(
                        call(
                            "systemctl",
                            "show",
                            "--timestamp=unix",
                            "-p",
                            "Result",
                            "-p",
                            "ExecMainStatus",
                            "-p",
                            "ExecMainExitTimestamp",
                            "--",
                            "reportupdater-interlanguage.service",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "reset-failed": [
                    sh(
                        call(
                            "systemctl",
                            "reset-failed",
                            "--",
                            "reportupdater-interlanguage.service",
                            user="root",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "sal": [
                    Irc(
                        "!log reportupdater-interlanguage.service failed at 2023-11-08 05:15 "
                        "UTC: looked into it"
                    )
                ],
            },
            # first and last seen as stored: when the mail came in the night before
            first_seen=datetime(2023, 11, 8, 5, 15, 3, tzinfo=UTC),
        ),
        AlertCase(
            "data loss: a real filter on the hour's partition",
            fixture("data_loss_error.eml"),
            {
                "hourly": [
                    Sql(
                        "SELECT * FROM wmf_raw.webrequest_sequence_stats_hourly WHERE "
                        "webrequest_source = 'text' AND year = 2023 AND month = 11 AND day = 7 "
                        "AND hour = 14;"
                    )
                ],
                "per-host": [
                    Sql(
                        "SELECT hostname, sequence_min, sequence_max, count_actual, "
                        "count_expected, count_different, count_duplicate, count_null_sequence, "
                        "percent_different "
                        "FROM wmf_raw.webrequest_sequence_stats WHERE webrequest_source = 'text' "
                        "AND year = 2023 AND month = 11 AND day = 7 AND hour = 14 "
                        "ORDER BY percent_different ASC LIMIT 20;"
                    )
                ],
                "sal": [
                    Irc(
                        "!log data loss error for Workflow "
                        "webrequest-load-check_sequence_statistics-wf-text-2023-11-07-14: "
                        "checked the sequence statistics"
                    )
                ],
            },
        ),
        AlertCase(
            "the MediaWiki history checker mail is its own kind",
            fixture("mediawiki_history_checker.eml"),
            {
                "qa": [
                    Url(
                        "https://wikitech.wikimedia.org/wiki/Analytics/Systems/Cluster/"
                        "Edit_history_administration#QA:_Assessing_quality_of_a_snapshot"
                    )
                ],
                "recheck": [opsweek("check", "mw-history")],
                "sal": [
                    Irc("!log mediawiki history snapshot 2023-09 failed its checker: assessing it")
                ],
            },
        ),
        AlertCase(
            "anomaly report",
            fixture("anomaly_report.eml"),
            {"superset": [Url("https://superset.wikimedia.org/superset/dashboard/315/")]},
        ),
        AlertCase(
            "unexpected pageview values",
            fixture("unexpected_pageview_values.eml"),
            {
                "list": [
                    Sql(
                        "select * from wmf.pageview_unexpected_values where year=2023 and month=11 "
                        "and day=7;"
                    )
                ],
                "new-wikis": [opsweek("check", "new-wikis", "--date", "2023-11-07")],
                **allowlist_sync(),
            },
        ),
        AlertCase(
            "MediaWiki history available: each service, each environment, on the deploy host",
            fixture("mediawiki_history_available.eml"),
            {
                "merged": [_in_charts(s, "git", "log", "-n", "1") for s in SERVICES],
                **{
                    env: [
                        _in_charts(s, "helmfile", "-e", env, "-i", "apply", "--context=5")
                        for s in SERVICES
                    ]
                    for env in ("staging", "codfw", "eqiad")
                },
                "sal": [
                    Irc(
                        f"!log deployed {s} (staging, codfw, eqiad) with mediawiki_history "
                        "snapshot 2023-12"
                    )
                    for s in SERVICES
                ],
            },
        ),
        AlertCase(
            "MediaWiki history late (opsweek's check)",
            finding(_late_history(), at),
            {
                "sqoop-flags": [
                    as_hdfs_as(
                        "analytics",
                        "-ls",
                        "/wmf/data/raw/mediawiki/tables/*/snapshot=2026-11/_SUCCESS",
                    )
                ],
                "history-flags": [
                    as_hdfs_as(
                        "analytics", "-ls", "/wmf/data/wmf/mediawiki/history/snapshot=2026-11"
                    )
                ],
                "recheck": [opsweek("check", "mw-history")],
            },
        ),
        AlertCase(
            "new wikis (opsweek's check)",
            finding(_new_wikis(), at),
            {
                "replica": [
                    sh(call("analytics-mysql", "azywiki"), host="a stat host"),
                    sh(call("analytics-mysql", "tlywiki"), host="a stat host"),
                ],
                "replica-target": [
                    sh(call("analytics-mysql", "--print-target", "azywiki"), host="a stat host"),
                    sh(call("analytics-mysql", "--print-target", "tlywiki"), host="a stat host"),
                ],
                "write": [
                    opsweek("check", "new-wikis", "--date", "2026-11-27", "--days", "3", "--write")
                ],
                **allowlist_sync(),
            },
        ),
        AlertCase(
            "canary schema problem (opsweek's check)",
            finding(_canary_problem(), at),
            {"check": [opsweek("check", "canary", "--schemas", "jsonschema")]},
        ),
        AlertCase(
            "partition drift (opsweek's check): add by default, drop only as a choice",
            finding(_drift(), at),
            {
                "msck-add": [Sql("msck repair table `wmf`.`pageview_unexpected_values`;")],
                "rm-stray": [
                    as_hdfs(
                        "-rm",
                        "-r",
                        "/user/hive/warehouse/wmf.db/pageview_unexpected_values/year=2026/month=11/"
                        "day=28",
                    )
                ],
                "msck-drop": [
                    Sql("msck repair table `wmf`.`pageview_unexpected_values` drop partitions;")
                ],
                "recheck": [opsweek("check", "partitions", "wmf.pageview_unexpected_values")],
            },
        ),
        AlertCase(
            "Alertmanager HdfsCorruptBlocks",
            webhook[0],
            {
                "fsck": [
                    sh(
                        call(
                            "hdfs",
                            "fsck",
                            "/",
                            "-list-corruptfileblocks",
                            user="hdfs",
                            principal="hdfs",
                        ),
                        host=LAUNCHER,
                    )
                ],
                "dfsadmin": [
                    sh(
                        call("hdfs", "dfsadmin", "-report", user="hdfs", principal="hdfs"),
                        host=LAUNCHER,
                    )
                ],
                "graph": [
                    Url("https://thanos.example.org/graph?g0.expr=hadoop_hdfs_corrupt_blocks")
                ],
                "runbook": [
                    Url(
                        "https://wikitech.wikimedia.org/wiki/Data_Platform/Systems/Hadoop/"
                        "Administration#HDFS_corrupt_blocks"
                    )
                ],
            },
        ),
        AlertCase(
            "Alertmanager SystemdUnitFailed: the unit and host from its labels",
            webhook[1],
            {
                "journal": [
                    journal(
                        "refinery-sqoop-mediawiki-private.service",
                        "2023-11-08 08:05:00 UTC",
                        "2023-11-08 11:05:00 UTC",
                        "an-launcher1002",
                    )
                ],
                "status": [
                    sh(
                        call(
                            "systemctl",
                            "status",
                            "--",
                            "refinery-sqoop-mediawiki-private.service",
                            user="root",
                        ),
                        host="an-launcher1002",
                    )
                ],
                "reset-failed": [
                    sh(
                        call(
                            "systemctl",
                            "reset-failed",
                            "--",
                            "refinery-sqoop-mediawiki-private.service",
                            user="root",
                        ),
                        host="an-launcher1002",
                    )
                ],
                "graph": [Url("https://thanos.example.org/graph?g0.expr=node_systemd_unit_state")],
            },
            first_seen=datetime(2023, 11, 8, 10, 5, tzinfo=UTC),
        ),
        AlertCase(
            "Alertmanager FlinkOperatorNotRunning: tell the owners, no command invented",
            webhook[2],
            {"graph": [Url("https://thanos.example.org/graph?g0.expr=up")]},
        ),
        AlertCase(
            "Alertmanager notification e-mail (EventgateValidationErrors)",
            fixture("alertmanager_eventgate.eml"),
            {"graph": [Url("https://grafana.wikimedia.org/graph?g0.expr=sum+by+%28stream%29")]},
        ),
        AlertCase(
            "Alertmanager heap alert of a Java daemon: thread dump before restart",
            _alertmanager("HiveServerHeapUsage", "an-coord1001:10100"),
            {
                "status": [
                    sh(
                        call("systemctl", "status", "--", "hive-server2", user="root"),
                        host="an-coord1001",
                    )
                ],
                "jstack": [
                    sh(
                        call(
                            "systemctl",
                            "show",
                            "--property=MainPID",
                            "--value",
                            "--",
                            "hive-server2",
                        ),
                        call("jstack", "-l", "4242", user="hive"),
                        call("tee", "/tmp/hive-server2.jstack"),
                        host="an-coord1001",
                    )
                ],
                "restart": [
                    sh(
                        call("systemctl", "restart", "--", "hive-server2", user="root"),
                        host="an-coord1001",
                    )
                ],
                "dashboard": [
                    Url(
                        "https://grafana.wikimedia.org/d/000000379/hive?panelId=7&fullscreen&"
                        "orgId=1&var-instance=an-coord1001:10100"
                    )
                ],
                "runbook": [
                    Url(
                        "https://wikitech.wikimedia.org/wiki/Analytics/Systems/Cluster/Hive/"
                        "Alerts#Hive_Server_Heap_Usage"
                    )
                ],
            },
            canned={"systemctl show --property=MainPID --value -- hive-server2": "4242"},
        ),
        AlertCase(
            "Alertmanager page content change enrichment",
            _alertmanager("MediawikiPageContentChangeEnrichAvailability", ""),
            {
                "slo": [
                    Url(
                        "https://wikitech.wikimedia.org/wiki/MediaWiki_Event_Enrichment/SLO/"
                        "Mediawiki_Page_Content_Change_Enrichment#Troubleshooting"
                    )
                ]
            },
        ),
        AlertCase(
            "Alertmanager alert of the YARN family (by its name)",
            _alertmanager("YarnUnhealthyNodes", "an-master1001:8088"),
            {
                "nodes": [
                    sh(
                        call(
                            "yarn", "node", "-list", "-all", user="analytics", principal="analytics"
                        ),
                        host=LAUNCHER,
                    )
                ]
            },
        ),
        AlertCase(
            "Alertmanager alert of an Airflow instance on Kubernetes (by its labels)",
            _alertmanager("SchedulerHeartbeatMissing", "", namespace="airflow-analytics"),
            {
                "pods": [
                    sh(
                        call("kubectl", "get", "pods", "--namespace", "airflow-analytics"),
                        host=DEPLOY,
                    )
                ]
            },
        ),
        AlertCase(
            "Alertmanager alert opsweek has no table for: only what the alert carries",
            _alertmanager("HiveServerSlowQueries", "an-coord1001:10100"),
            {
                "runbook": [
                    Url(
                        "https://wikitech.wikimedia.org/wiki/Analytics/Systems/Cluster/Hive/"
                        "Alerts#Hive_Server_Heap_Usage"
                    )
                ]
            },
        ),
    ]


SERVICES = ("edit-analytics", "editor-analytics")


def _in_charts(service: str, *argv: str) -> Expect:
    where = f"/srv/deployment-charts/helmfile.d/services/{service}"
    return sh(call(argv[0], *argv[1:], cwd=where), host=DEPLOY)


def as_hdfs_as(user: str, *args: str) -> Expect:
    return sh(call("hdfs", "dfs", *args, user=user, principal=user), host=LAUNCHER)


def _alertmanager(name: str, instance: str, **more: str) -> ParsedAlert:
    from opsweek.alerts.sources.alertmanager import _alert

    labels: dict[str, Any] = {"alertname": name, "team": "data-engineering", **more}
    if instance:
        labels["instance"] = instance
    entry = {
        "status": "firing",
        "labels": labels,
        "annotations": {
            "summary": f"{name} on {instance}",
            "runbook": "https://wikitech.wikimedia.org/wiki/Analytics/Systems/Cluster/Hive/"
            "Alerts#Hive_Server_Heap_Usage"
            if name.startswith("HiveServer")
            else "TODO",  # as some of the team's rules have it: not a link, so no command
            **(
                {
                    "dashboard": "https://grafana.wikimedia.org/d/000000379/hive?panelId=7&"
                    f"fullscreen&orgId=1&var-instance={instance}"
                }
                if name == "HiveServerHeapUsage"
                else {}
            ),
        },
        "startsAt": "2026-12-06T08:40:00Z",
        "fingerprint": f"fp-{name}",
    }
    return _alert(entry, "group")


def _late_history() -> bytes:
    history = MwHistory(date(2026, 12, 6), "2026-11", 5)
    history.states["2026-11"] = SnapshotState("2026-11", {"history": ["_SUCCESS"]})
    (late,) = [f for f in history.findings() if b"mediawiki_history_late" in f]
    return late


def _new_wikis() -> bytes:
    result = NewWikis(date(2026, 11, 25), date(2026, 11, 27))
    result.candidates = [
        Candidate("azy.wikipedia", "azywiki", 420, 2, "ready", 42),
        Candidate("tly.wikipedia", "tlywiki", 55, 2, "not replicated", 0),
    ]
    (found,) = result.findings()
    return found


def _canary_problem() -> bytes:
    result = StreamResult(
        "eventlogging_HomepageVisit",
        "/analytics/legacy/homepagevisit/1.0.0",
        "invalid",
        [{"dataPath": ".event", "message": "should have required property 'start_tutorial_state'"}],
    )
    (found,) = canary_findings([result])
    return found


def _drift() -> bytes:
    drift = Drift(
        "wmf.pageview_unexpected_values",
        "/user/hive/warehouse/wmf.db/pageview_unexpected_values",
        3,
        3,
        ["year=2026/month=11/day=25"],
        ["year=2026/month=11/day=28"],
    )
    (found,) = drift.findings()
    return found
