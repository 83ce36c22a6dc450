"""Task instances read from Airflow's API are the alerts the failure e-mails make: the same
kind and fingerprint, so both fold into one; a later state says how the failure ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from opsweek.alerts.formats import AIRFLOW
from opsweek.alerts.model import RESOLVED, RawInput, content_key
from opsweek.alerts.parse import parse_raw
from opsweek.alerts.sources.airflow_api import (
    Asked,
    content,
    ending,
    error_excerpt,
    run_content,
    run_ending,
    sla_content,
)
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
    # marked success, then failed again on the same try (a clear of its run): news
    ended = "2026-12-02T09:00:00+00:00"
    assert content_key(polled(end_date=ended)) != content_key(
        polled(end_date="2026-12-02T10:00:00+00:00")
    )


def test_a_run_failing_again_after_a_mark_success_is_news() -> None:
    first = run("failed", ["a"], end_date="2026-12-02T09:00:00+00:00")
    again = run("failed", ["a"], end_date="2026-12-02T10:00:00+00:00")
    assert content_key(first) != content_key(again)
    assert content_key(first) == content_key(run("failed", ["a"], end_date=ended_at(first)))


def ended_at(raw: RawInput) -> str:
    return str(orjson.loads(raw.content)["dag_run"]["end_date"])


def test_a_later_state_says_how_it_ended() -> None:
    (success,) = parse_raw(polled(state="success", try_number=3)).alerts
    assert (success.status, success.note) == (RESOLVED, "succeeded on try 3")
    (skipped,) = parse_raw(polled(state="skipped")).alerts
    assert (skipped.status, skipped.note) == (RESOLVED, "skipped in Airflow")
    (retry,) = parse_raw(polled(state="up_for_retry")).alerts
    assert (retry.status, retry.severity) == ("firing", "warning")
    assert retry.note == "try 2 of 6 failed, up for retry"  # for the alert's history
    (last,) = parse_raw(polled(try_number=6)).alerts
    assert last.note == "try 6 of 6 failed"
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
    whole_run = {**clear, "extra": '{"only_failed": true, "dag_run_id": "r"}'}  # every task
    assert ending([whole_run], task, "success", 2) == (
        "cleared by ana in Airflow, then succeeded on try 2"
    )
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


def test_tries_are_counted_as_the_e_mail_counts_them() -> None:
    (mail,) = parsed("airflow_task_failed.eml")  # "Try 3 out of 3": two retries
    (alert,) = parse_raw(polled(try_number=3, max_tries=2)).alerts  # the API counts retries
    assert alert.details["max_tries"] == mail.details["max_tries"] == 3


def test_an_airflow_2_task_links_to_its_grid_with_the_log_tab() -> None:
    body = content(
        "analytics",
        "https://airflow-analytics.wikimedia.org",
        {"dag_id": "d", "task_id": "g.t", "dag_run_id": "r 1", "map_index": 3, "state": "failed"},
        api="v1",
    )
    (alert,) = parse_raw(RawInput(body, AIRFLOW, AT, "airflow:analytics")).alerts
    assert alert.details["log_url"] == (
        "https://airflow-analytics.wikimedia.org/dags/d/grid?dag_run_id=r+1&task_id=g.t&tab=logs"
        "&map_index=3"
    )


def run(
    state: str, failed: list[str], ended: str = "", api: str = "v2", end_date: str | None = None
) -> RawInput:
    dag_run = {
        "end_date": end_date,
        "dag_id": "edit_hourly",
        "dag_run_id": "scheduled__2023-10-01T00:00:00+00:00",
        "state": state,
        "logical_date": "2023-10-01T00:00:00Z",
        "run_type": "scheduled",
        "note": None,
    }
    body = run_content("analytics", "https://airflow.example.org", dag_run, failed, ended, api)
    return RawInput(body, AIRFLOW, AT, "airflow:analytics")


def test_a_failed_dag_run_is_an_alert_grouped_with_its_tasks() -> None:
    (task,) = parse_raw(polled()).alerts
    (failed,) = parse_raw(run("failed", ["process_edit_hourly", "a"])).alerts
    assert failed.kind == "airflow_dag_run_failed" and failed.status == "firing"
    assert failed.group_key == task.group_key and failed.fingerprint != task.fingerprint
    assert failed.details["failed_tasks"] == ["a", "process_edit_hourly"]
    assert failed.title == (
        "edit_hourly run failed (scheduled__2023-10-01T00:00:00+00:00): 2 failed task(s)"
    )
    assert failed.details["run_url"] == (
        "https://airflow.example.org/dags/edit_hourly/runs/"
        "scheduled__2023-10-01T00%3A00%3A00%2B00%3A00"
    )
    (over,) = parse_raw(run("success", [], "cleared by ana in Airflow, then run succeeded")).alerts
    assert (over.fingerprint, over.status) == (failed.fingerprint, RESOLVED)
    assert over.note == "cleared by ana in Airflow, then run succeeded"
    (plain,) = parse_raw(run("success", [])).alerts
    assert plain.note == "the DAG run succeeded"


def test_how_a_run_ended_comes_from_the_last_thing_a_person_did() -> None:
    clear = {"event": "post_clear_task_instances", "owner": "ana"}
    marked = {"event": "patch_dag_run", "owner": "bob", "extra": '{"state": "success"}'}
    ran = {"event": "success", "owner": "airflow"}
    assert run_ending([ran, clear], "success") == "cleared by ana in Airflow, then run succeeded"
    assert run_ending([marked, clear], "success") == "marked success by bob in Airflow"
    assert run_ending([ran], "success") == "the DAG run succeeded"


def test_an_sla_miss_gains_its_late_tasks_states_and_resolves_once_they_finished() -> None:
    (mail,) = parsed("airflow_sla_miss.eml")

    def sla(*states: str) -> RawInput:
        missed = [{**t, "state": s} for t, s in zip(mail.details["missed"], states, strict=False)]
        body = sla_content(
            "analytics", mail.details["base_url"], {**mail.details, "missed": missed}
        )
        return RawInput(body, AIRFLOW, AT, "airflow:analytics")

    count = len(mail.details["missed"])
    (late,) = parse_raw(sla(*["running"] * count)).alerts
    assert (late.kind, late.fingerprint, late.status) == (mail.kind, mail.fingerprint, "firing")
    assert [t["state"] for t in late.details["missed"]] == ["running"] * count
    assert late.details["blocking"] == mail.details["blocking"]
    (done,) = parse_raw(sla(*["success"] * count)).alerts
    assert done.status == RESOLVED and done.note.startswith("the late tasks have finished: ")
    (unknown,) = parse_raw(sla(*[""] * count)).alerts  # not found in Airflow: still open
    assert unknown.status == "firing"


def test_what_opsweek_did_is_credited_to_who_asked_it() -> None:
    cleared = {
        "event": "post_clear_task_instances",
        "owner": "opsweek-bot",
        "task_id": None,
        "when": "2026-12-02T09:00:05+00:00",
        "extra": '{"task_ids": ["t"]}',
    }
    asked = Asked("opsweek-bot", ((AT, "clear", "ana"),))
    assert ending([cleared], "t", "success", 2, asked) == (
        "cleared by ana through opsweek, then succeeded on try 2"
    )
    # someone else's account is theirs; a mark-success asked of opsweek is not a clear
    assert ending([{**cleared, "owner": "bob"}], "t", "success", 2, asked).startswith(
        "cleared by bob in Airflow"
    )
    marked = {"event": "patch_dag_run", "owner": "opsweek-bot", "when": cleared["when"]}
    assert run_ending([marked], "success", asked) == "marked success by opsweek-bot in Airflow"
    assert run_ending([marked], "success", Asked("opsweek-bot", ((AT, "mark-success", "bob"),)))
    # with a token, opsweek's account is unknown: an event near what was asked is credited
    by_token = Asked("", ((AT, "clear", "ana"),))
    assert "ana through opsweek" in ending([cleared], "t", "success", 2, by_token)
    late = {**cleared, "when": (AT + timedelta(minutes=10)).isoformat()}
    assert "opsweek-bot in Airflow" in ending([late], "t", "success", 2, by_token)


def test_the_error_of_a_failed_try_is_excerpted_from_its_log() -> None:
    airflow3 = "\n".join(
        [
            "2026-12-02T09:00:00Z info Executing the task",
            "2026-12-02T09:00:01Z info reading the partition",
            "2026-12-02T09:00:02Z error Task failed with exception",
            "  RuntimeError: this task always fails",
            "2026-12-02T09:00:02Z info Marking the task failed",
        ]
    )
    assert error_excerpt(airflow3).endswith(
        "error Task failed with exception\n  RuntimeError: this task always fails"
    )
    frames = [f'  File "x.py", line {n}, in f{n}' for n in range(30)]
    traceback = "\n".join(
        [
            "[2026-12-02 09:00:01] INFO - start",
            "Traceback (most recent call last):",
            *frames,
            "ValueError: bad partition",
        ]
    )
    excerpt = error_excerpt(traceback)
    assert excerpt.endswith("ValueError: bad partition") and len(excerpt.splitlines()) == 15
    assert error_excerpt("all went well\nINFO - done") == ""
    (alert,) = parse_raw(
        RawInput(
            content(
                "analytics",
                "",
                {"dag_id": "d", "task_id": "t", "dag_run_id": "r", "state": "failed"},
                excerpt="ValueError: bad partition",
            ),
            AIRFLOW,
            AT,
            "airflow:analytics",
        )
    ).alerts
    assert alert.details["exception"] == "ValueError: bad partition"
