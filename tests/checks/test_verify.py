"""Alerts that resolve themselves once opsweek sees the problem over (issue 30), from what is
really there: a sqoop job's _SUCCESS flags under files.root, a Druid indexing task's status
from an HTTP server speaking the overlord's API, the data loss statistics queried through the
warehouse (DuckDB over Parquet files laid out like Hive's)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import AIRFLOW
from opsweek.alerts.model import RawInput
from opsweek.alerts.sources.airflow_api import content
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert, AlertEvent
from opsweek.db.session import Store
from tests.alerts.helpers import RECEIVED, raw_inputs
from tests.services.http_stub import Reply, stub_server


def app(store: Store, tmp_path: Path, **env: str) -> App:
    base = {"OPSWEEK_FILES_ROOT": (tmp_path / "hdfs").as_uri(), **env}
    return App(load_settings(env=base), store=store)


def only(store: Store, kind: str) -> Alert:
    with store.session() as session:
        return session.scalars(select(Alert).where(Alert.kind == kind)).one()


def test_a_sqoop_alert_resolves_once_every_table_of_its_job_has_its_flag(
    store: Store, tmp_path: Path
) -> None:
    ops = app(store, tmp_path)
    AlertChanges(store).ingest(raw_inputs("systemd_timer_fail_sqoop.eml"))
    alert = only(store, "systemd_timer_failed")
    month = alert.details["sqoop_snapshot"]
    tables = tmp_path / "hdfs/wmf/data/raw/mediawiki/tables"
    for table in ("revision", "page", "archive"):
        (tables / table / f"snapshot={month}").mkdir(parents=True)
    for table in ("revision", "page"):
        (tables / table / f"snapshot={month}" / "_SUCCESS").touch()
    (seen,) = ops.verifier.run()
    assert seen.over is False and "1 table(s) without their _SUCCESS flag" in seen.note
    (tables / "archive" / f"snapshot={month}" / "_SUCCESS").touch()
    (seen,) = ops.verifier.run()
    assert seen.over is True
    assert only(store, "systemd_timer_failed").resolution_note == (
        "the sqoop is done: 3 _SUCCESS flag(s)"
    )


def test_a_druid_load_resolves_once_the_overlord_says_its_task_succeeded(
    store: Store, tmp_path: Path
) -> None:
    task = "index_hadoop_pageviews_hourly_kcfnhbno_2026-12-01T10:12:40.118Z"
    states = ["RUNNING"]

    def status(_request: object) -> Reply:
        return Reply({"task": task, "status": {"id": task, "status": states[-1]}})

    body = content(
        "analytics",
        "https://airflow-analytics.wikimedia.org",
        {
            "dag_id": "druid_load_pageviews_hourly",
            "task_id": "load_druid",
            "dag_run_id": "scheduled__2026-12-01T09:00:00+00:00",
            "state": "failed",
            "try_number": 1,
        },
        druid={"task_id": task},  # as the poll reads it from the task's log
    )
    AlertChanges(store).ingest([RawInput(body, AIRFLOW, RECEIVED)])
    with stub_server({"status": status}) as overlord:
        ops = app(store, tmp_path, OPSWEEK_AIRFLOW_DRUID_OVERLORD_URL=overlord.url)
        alert = only(store, "airflow_task_failed")
        assert alert.details["druid_task_id"] == task
        (seen,) = ops.verifier.run()
        assert seen.over is False and seen.note.endswith("is RUNNING")
        states.append("SUCCESS")
        (seen,) = ops.verifier.run()
        assert seen.over is True
        asked = overlord.requests[-1].path
    assert asked == f"/druid/indexer/v1/task/{task.replace(':', '%3A')}/status"


def stats(tmp_path: Path, percents: list[float]) -> None:
    """wmf_raw.webrequest_sequence_stats of the hour, one host per figure."""
    folder = tmp_path / "hdfs/user/hive/warehouse/wmf_raw.db/webrequest_sequence_stats"
    part = folder / "webrequest_source=text/year=2023/month=11/day=7/hour=14"
    part.mkdir(parents=True, exist_ok=True)
    hosts = [f"cp30{n:02d}.esams.wmnet" for n in range(len(percents))]
    table = pa.table(
        {
            "hostname": hosts,
            "sequence_min": [1] * len(hosts),
            "sequence_max": [1000] * len(hosts),
            "count_actual": [1000] * len(hosts),
            "count_expected": [1000] * len(hosts),
            "count_different": [int(p * 10) for p in percents],
            "count_duplicate": [0] * len(hosts),
            "count_null_sequence": [0] * len(hosts),
            "percent_different": percents,
        }
    )
    pq.write_table(table, part / "part-0.parquet")


def test_data_loss_is_confirmed_or_explained_by_its_statistics(
    store: Store, tmp_path: Path
) -> None:
    ops = app(store, tmp_path)
    AlertChanges(store).ingest(raw_inputs("data_loss_error.eml"))
    stats(tmp_path, [-2.61, 0.0])
    (seen,) = ops.verifier.run()
    assert seen.over is False and seen.note.startswith("confirmed: 1 host(s) lost requests")
    alert = only(store, "data_loss")
    with store.session() as session:
        noted = [e.note for e in session.scalars(select(AlertEvent)) if e.action == "verified"]
    assert noted == [seen.note]
    stats(tmp_path, [0.0, 0.3])  # the figures corrected: only a sequence-number artefact
    (seen,) = ops.verifier.run()
    assert seen.over is True and "sequence-number artefact" in seen.note
    assert only(store, "data_loss").status == "resolved" and alert.id == seen.alert_id
