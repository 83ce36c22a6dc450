"""Task instances read from Airflow's API are the alerts the failure e-mails make: the same
kind and fingerprint, so both fold into one; a later state says how the failure ended."""

from __future__ import annotations

from datetime import UTC, datetime

from opsweek.alerts.formats import AIRFLOW
from opsweek.alerts.model import RESOLVED, RawInput, content_key
from opsweek.alerts.parse import parse_raw
from opsweek.alerts.sources.airflow_api import content, ending
from tests.alerts.helpers import parsed

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def polled(**changes: object) -> RawInput:
    ti = {
        "dag_id": "edit_hourly",
        "task_id": "process_edit_hourly",
        "dag_run_id": "scheduled__2023-10-01T00:00:00+00:00",
        "map_index": -1,
        "state": "failed",
        "try_number": 2,
        "max_tries": 5,
        "hostname": "an-airflow1002",
        **changes,
    }
    body = content("analytics", "https://airflow-analytics.wikimedia.org", ti)
    return RawInput(body, AIRFLOW, AT, "airflow:analytics")


def test_a_polled_failure_is_the_e_mails_alert() -> None:
    (mail,) = parsed("airflow_task_failed.eml")
    (alert,) = parse_raw(polled()).alerts
    assert (alert.kind, alert.fingerprint, alert.group_key) == (
        mail.kind,
        mail.fingerprint,
        mail.group_key,
    )
    assert alert.details["airflow_instance"] == mail.details["airflow_instance"]
    assert alert.status == "firing" and alert.details["map_index"] is None
    assert alert.details["log_url"] == (
        "https://airflow-analytics.wikimedia.org/dags/edit_hourly/runs/"
        "scheduled__2023-10-01T00%3A00%3A00%2B00%3A00/tasks/process_edit_hourly?try_number=2"
    )


def test_the_same_state_of_the_same_try_is_the_same_input() -> None:
    assert content_key(polled()) == content_key(polled())
    assert content_key(polled()) != content_key(polled(try_number=3))
    assert content_key(polled()) != content_key(polled(state="up_for_retry"))


def test_a_later_state_says_how_it_ended() -> None:
    (success,) = parse_raw(polled(state="success", try_number=3)).alerts
    assert (success.status, success.note) == (RESOLVED, "succeeded on try 3")
    (skipped,) = parse_raw(polled(state="skipped")).alerts
    assert (skipped.status, skipped.note) == (RESOLVED, "skipped in Airflow")
    (retry,) = parse_raw(polled(state="up_for_retry")).alerts
    assert (retry.status, retry.severity, retry.note) == ("firing", "warning", "")
    (mapped,) = parse_raw(polled(map_index=4)).alerts
    assert mapped.fingerprint != parse_raw(polled()).alerts[0].fingerprint


def test_what_is_not_a_task_instance_is_kept_unparsed() -> None:
    outcome = parse_raw(RawInput(b'{"instance": "x"}', AIRFLOW, AT, "airflow:x"))
    assert [a.kind for a in outcome.alerts] == ["unparsed"]
    assert "not a task instance" in (outcome.error or "")


def test_how_it_ended_comes_from_the_last_thing_a_person_did() -> None:
    clear = {
        "event": "post_clear_task_instances",
        "owner": "ana",
        "task_id": None,
        "extra": '{"task_ids": ["process_edit_hourly"], "only_failed": true}',
    }
    ran = {"event": "success", "owner": "airflow", "task_id": "process_edit_hourly"}
    marked = {
        "event": "patch_task_instance",
        "owner": "bob",
        "task_id": "process_edit_hourly",
        "extra": {"new_state": "success"},
    }
    other = {**clear, "extra": '{"task_ids": ["another_task"]}'}
    task = "process_edit_hourly"
    assert ending([ran, clear], task, "success", 3) == (
        "cleared by ana in Airflow, then succeeded on try 3"
    )
    assert ending([marked, clear], task, "success", 2) == "marked success by bob in Airflow"
    assert ending([ran, other], task, "success", 2) == "succeeded on try 2"
    assert ending([], task, "skipped", 1) == "skipped in Airflow"
    (alert,) = parse_raw(
        RawInput(
            content(
                "analytics",
                "",
                {"dag_id": "d", "task_id": "t", "dag_run_id": "r", "state": "success"},
                "marked success by bob in Airflow",
            ),
            AIRFLOW,
            AT,
            "airflow:analytics",
        )
    ).alerts
    assert (alert.status, alert.note) == (RESOLVED, "marked success by bob in Airflow")
