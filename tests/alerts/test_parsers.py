"""Every source kind, from realistic fixtures (CRLF, quoted-printable, HTML variants), parses to
the details the runbook needs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opsweek.alerts.formats import ALERTMANAGER
from opsweek.alerts.model import RESOLVED, UNPARSED, RawInput
from opsweek.alerts.parse import parse_raw
from opsweek.alerts.sources.refine_failure import rerun_options, rerun_section
from tests.alerts.helpers import outcome, parsed, raw_inputs

RERUN = (
    "sudo -u analytics kerberos-run-command analytics refine_event "
    "--ignore_failure_flag=true --table_include_regex='mediawiki_foo|navigationtiming' "
    "--since='2024-01-02T03:00:00.000Z' --until='2024-01-02T05:00:00.000Z'"
)


def test_airflow_task_failed_from_quoted_printable_html() -> None:
    (alert,) = parsed("airflow_task_failed.eml")
    d = alert.details
    assert alert.kind == "airflow_task_failed" and alert.severity == "error"
    assert (d["dag_id"], d["task_id"], d["state"]) == (
        "edit_hourly",
        "process_edit_hourly",
        "failed",
    )
    assert d["run_id"] == "scheduled__2023-10-01T00:00:00+00:00"
    assert (d["try_number"], d["max_tries"], d["map_index"]) == (3, 3, None)
    assert d["host"] == "an-airflow1006.eqiad.wmnet"
    assert d["log_url"].startswith("https://airflow-analytics.wikimedia.org/log?")
    assert "&task_id=process_edit_hourly" in d["log_url"]
    assert d["exception"] == ("Bash command failed. The command returned a non-zero exit code 1.")
    assert d["airflow_instance"] == "airflow-analytics"
    assert alert.occurred_at == datetime(2023, 10, 1, 2, 14, 9, tzinfo=UTC)


def test_airflow_mapped_retry_with_dotted_ids() -> None:
    (alert,) = parsed("airflow_task_retry_mapped.eml")
    d = alert.details
    # dag "wikidata", task "metrics.compute_metrics" (a task group): the log URL decides
    assert (d["dag_id"], d["task_id"]) == ("wikidata", "metrics.compute_metrics")
    assert (d["state"], d["map_index"], d["try_number"], d["max_tries"]) == (
        "up_for_retry",
        2,
        1,
        5,
    )
    assert alert.severity == "warning"
    assert "application_1698000000000_9876" in d["exception"]


def test_airflow_sla_miss() -> None:
    (alert,) = parsed("airflow_sla_miss.eml")
    d = alert.details
    assert d["dag_id"] == "webrequest_actor_metrics_hourly"
    assert d["missed"] == [
        {"task_id": "wait_for_webrequest_partition", "execution_date": "2023-11-06T06:00:00+00:00"},
        {"task_id": "compute_actor_metrics", "execution_date": "2023-11-06T06:00:00+00:00"},
    ]
    assert [t["task_id"] for t in d["blocking"]] == ["wait_for_webrequest_partition"]
    assert d["base_url"] == "https://airflow-analytics.wikimedia.org"


@pytest.mark.parametrize("name", ["refine_failure.eml", "refine_failure_qp_crlf.eml"])
def test_refine_failure_one_alert_per_failed_partition(name: str) -> None:
    alerts = parsed(name)
    assert len(alerts) == 3
    assert len({a.group_key for a in alerts}) == 1
    assert len({a.fingerprint for a in alerts}) == 3
    first = alerts[0].details
    assert first["input_path"] == "/wmf/data/raw/event"
    assert (first["output_database"], first["output_path"]) == ("event", "/wmf/data/event")
    assert first["application_id"] == "application_1700000000000_12345"
    assert "tables" not in first  # each alert keeps its own partition; the mail is kept raw
    assert [(a.details["table"], a.details["hour"]) for a in alerts] == [
        ("event.mediawiki_foo", "2024-01-02T03"),
        ("event.mediawiki_foo", "2024-01-02T04"),
        ("event.navigationtiming", "2024-01-02T03"),
    ]
    assert first["partition"] == {
        "datacenter": "eqiad",
        "year": "2024",
        "month": "1",
        "day": "2",
        "hour": "3",
    }
    assert first["partition_path"] == (
        "/wmf/data/event/mediawiki_foo/datacenter=eqiad/year=2024/month=1/day=2/hour=3"
    )
    assert first["exception"].startswith("org.apache.spark.sql.AnalysisException")
    assert "DFSClient.checkOpen" in alerts[2].details["exception"]  # continuation line kept


def test_refine_rerun_command_is_one_line() -> None:
    assert parsed("refine_failure.eml")[0].details["rerun_command"] == RERUN
    qp = parsed("refine_failure_qp_crlf.eml")[0].details
    assert qp["job"] == "refine_eventlogging_analytics"
    assert qp["rerun_command"] == RERUN.replace("refine_event ", "refine_eventlogging_analytics ")


def test_refine_monitor() -> None:
    (alert,) = parsed("refine_monitor.eml")
    d = alert.details
    assert d["job"] == "monitor_refine_sanitize_eventlogging_analytics"
    assert len(d["failed_targets"]) == 2 and len(d["unrefined_targets"]) == 1
    assert d["tables"] == ["event_sanitized.homepagevisit", "event_sanitized.navigationtiming"]
    assert alert.severity == "error"


def test_canary_failure_and_recoveries() -> None:
    results = [parse_raw(raw) for raw in raw_inputs("canary.log")]
    assert len(results) == 4  # the "Produced 412 canary events" line is not an HttpResult
    success, invalid, errored, success_again = results
    assert success.recoveries and not success.alerts
    (alert,) = invalid.alerts
    d = alert.details
    assert (d["http_status"], d["stream"], d["schema"]) == (
        207,
        "eventlogging_HomepageVisit",
        "/analytics/legacy/homepagevisit/1.0.0",
    )
    assert d["errors"] == [
        {
            "keyword": "required",
            "data_path": ".event",
            "schema_path": "#/properties/event/required",
            "message": "should have required property 'start_tutorial_state'",
            "missing_property": "start_tutorial_state",
        }
    ]
    assert d["missing_properties"] == ["start_tutorial_state"]
    assert alert.occurred_at == datetime(2024, 1, 12, 19, 15, 4, tzinfo=UTC)
    (failed,) = errored.alerts
    assert failed.details["error_message"] == "Kafka producer timed out after 30000ms"
    assert failed.details["stream"] == "mediawiki.page_change.v1"
    assert success_again.recoveries[0].at == datetime(2024, 1, 12, 19, 45, 4, tzinfo=UTC)


def test_systemd_timer_deletion_script() -> None:
    (alert,) = parsed("systemd_timer_fail_drop.eml")
    d = alert.details
    assert d["unit"] == "refinery-drop-webrequest-refined-partitions.service"
    assert d["return_value"] == 1 and d["deletion_script"] is True
    assert d["command"].startswith("/usr/local/bin/kerberos-run-command analytics")
    assert d["out_of_interval_tables"] == ["wmf.webrequest"]
    assert d["out_of_interval_paths"] == ["/wmf/data/wmf/webrequest"]
    assert "Aborting." in d["output"]
    (passed,) = parsed("systemd_timer_pass_drop.eml")
    assert passed.status == RESOLVED and passed.fingerprint == alert.fingerprint


def test_systemd_timer_without_unit_suffix() -> None:
    (alert,) = parsed("systemd_timer_fail_reportupdater.eml")
    assert alert.details["unit"] == "reportupdater-interlanguage.service"
    assert alert.details["deletion_script"] is False
    assert "Can't connect to MySQL server" in alert.details["output"]


def test_data_loss_with_crlf_and_tabs() -> None:
    (alert,) = parsed("data_loss_error.eml")
    d = alert.details
    assert d["level"] == "error" and alert.severity == "error"
    assert d["workflow"] == "Workflow webrequest-load-check_sequence_statistics-wf-text"
    assert d["date"] == "2023-11-07-14"
    assert (d["lost"], d["lost_percent"], d["bad_requests"], d["bad_requests_percent"]) == (
        48211,
        2.61,
        0,
        0.0,
    )
    assert [row["context"] for row in d["rows"]] == [
        "cp3050.esams.wmnet 2023-11-07T14",
        "cp3052.esams.wmnet 2023-11-07T14",
    ]


def test_anomaly_report_multipart() -> None:
    (alert,) = parsed("anomaly_report.eml")
    d = alert.details
    assert (d["report"], d["date"]) == (
        "anomaly_detection_traffic_distribution_daily",
        "2023-11-07",
    )
    assert d["metrics"][0] == {"metric": "pageview_entropy_by_city_IR", "deviation": -23.4}
    assert len(d["metrics"]) == 3
    assert d["family"] == "outage_censorship"


def test_unexpected_pageview_values() -> None:
    (alert,) = parsed("unexpected_pageview_values.eml")
    assert alert.details["date"] == "2023-11-07"
    assert alert.details["values"] == [
        {"field_name": "project", "value": "azy.wikipedia", "view_count": 1532},
        {"field_name": "project", "value": "tly.wikipedia", "view_count": 87},
    ]


def test_mediawiki_history_available_is_a_duty() -> None:
    (alert,) = parsed("mediawiki_history_available.eml")
    assert alert.details["snapshot"] == "2023-12"
    assert alert.details["duty"] == "mw-history-deploy"  # the duty's real key
    assert alert.severity == "info"


def test_alertmanager_webhook_three_alerts_one_group() -> None:
    alerts = parsed("alertmanager_firing.json")
    assert [a.details["alertname"] for a in alerts] == [
        "HdfsCorruptBlocks",
        "SystemdUnitFailed",
        "FlinkOperatorNotRunning",
    ]
    assert [a.details["topic"] for a in alerts] == [
        "hdfs_blocks",
        "systemd_unit",
        "flink_operator",
    ]
    assert len({a.group_key for a in alerts}) == 1
    first = alerts[0]
    assert first.details["source_fingerprint"] == "b3a1c2d4e5f60718"
    assert first.details["generator_url"].startswith("https://thanos.example.org/graph")
    assert first.details["labels"]["cluster"] == "analytics"
    assert first.severity == "critical"
    assert alerts[1].details["unit"] == "refinery-sqoop-mediawiki-private.service"
    resolved = parsed("alertmanager_resolved.json")
    assert all(a.status == RESOLVED for a in resolved)
    assert [a.fingerprint for a in resolved] == [a.fingerprint for a in alerts[:2]]


def test_alertmanager_notification_email() -> None:
    (alert,) = parsed("alertmanager_eventgate.eml")
    assert alert.details["alertname"] == "EventgateValidationErrors"
    assert alert.details["topic"] == "eventgate_validation"
    assert alert.details["stream"] == "eventlogging_WMDEBannerSizeIssue"
    assert alert.severity == "critical"


@pytest.mark.parametrize("name", ["unknown.eml", "broken.eml"])
def test_unreadable_mail_is_kept_as_unparsed(name: str) -> None:
    result = outcome(name)
    (alert,) = result.alerts
    assert alert.kind == UNPARSED
    assert result.error and "no parser recognises" in result.error
    assert "\x01" not in alert.title and "\n" not in alert.title


def test_broken_json_and_wrong_version_are_unparsed() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    broken = parse_raw(RawInput(b'{"version": "4", "alerts": [', ALERTMANAGER, now))
    assert broken.alerts[0].kind == UNPARSED and "not valid JSON" in (broken.error or "")
    old = parse_raw(RawInput(b'{"version": "3", "alerts": []}', ALERTMANAGER, now))
    assert "webhook has no alerts (Alertmanager webhook version '3')" in (old.error or "")


REFINE_SCALA_RERUN = (  # refinery's own report prints the options alone, on one line
    "To rerun, use the following options:\n"
    "--ignore_failure_flag=true --table_include_regex='mediawiki_foo' "
    "--since='2024-01-02T03:00:00.000Z' --until='2024-01-02T04:00:00.000Z'\n"
)
NOTE_FIRST_RERUN = """To rerun, note: the hours below failed because HDFS was being restarted;
check that the cluster is healthy before you rerun them.

sudo -u analytics kerberos-run-command analytics \\
refine_event \\
--ignore_failure_flag=true \\
--table_include_regex='mediawiki_foo' \\
--since='2024-01-02T03:00:00.000Z' \\
--until='2024-01-02T04:00:00.000Z'

Thanks, the Refine job
"""


@pytest.mark.parametrize("section", [REFINE_SCALA_RERUN, NOTE_FIRST_RERUN])
def test_refine_rerun_options_wherever_they_follow_to_rerun(section: str) -> None:
    command, note = rerun_section("Refine failures for path ...\n\n" + section)
    options = rerun_options(command)
    assert options.problem == ""
    assert options.flags == (
        ("ignore_failure_flag", "true"),
        ("table_include_regex", "mediawiki_foo"),
        ("since", "2024-01-02T03:00:00.000Z"),
        ("until", "2024-01-02T04:00:00.000Z"),
    )
    assert ("HDFS was being restarted" in note) == (section is NOTE_FIRST_RERUN)
